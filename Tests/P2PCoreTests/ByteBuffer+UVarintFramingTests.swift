import NIOCore
import NIOEmbedded
import P2PCore
import Testing

@Suite("uvarint length-prefixed frames")
struct UVarintFramingTests {
    @Test("Reads whole frames and waits for partial ones")
    func readsFrames() throws {
        var buffer = ByteBuffer()
        buffer.writeUVarintLengthPrefixed(Array("hello".utf8))
        buffer.writeUVarintLengthPrefixed([UInt8](repeating: 7, count: 300))
        #expect(buffer.getBytes(at: 0, length: 1) == [5])
        #expect(try buffer.readUVarintLengthPrefixedSlice(maxLength: 1000) == ByteBuffer(string: "hello"))
        var partial = buffer.getSlice(at: buffer.readerIndex, length: 100)!
        #expect(try partial.readUVarintLengthPrefixedSlice(maxLength: 1000) == nil)
        #expect(partial.readableBytes == 100)
        #expect(try buffer.readUVarintLengthPrefixedSlice(maxLength: 1000)?.readableBytes == 300)
        #expect(buffer.readableBytes == 0)
    }

    @Test("Rejects a frame over the limit as soon as its length is known")
    func rejectsLargeFrames() {
        var buffer = ByteBuffer(bytes: hex("ac02"))  // 300, no body yet
        #expect(errorCode { try buffer.readUVarintLengthPrefixedSlice(maxLength: 299) } == .tooLarge)
        #expect(buffer.readableBytes == 2)
    }

    @Test("The decoder splits drip-fed input and the encoder frames output")
    func decoderAndEncoder() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(UVarintLengthPrefixedFrameDecoder(maxFrameLength: 1024))
        )
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(UVarintLengthPrefixedFrameEncoder()))

        var stream = ByteBuffer()
        stream.writeUVarintLengthPrefixed(Array("one".utf8))
        stream.writeUVarintLengthPrefixed([UInt8]())
        stream.writeUVarintLengthPrefixed([UInt8](repeating: 1, count: 200))
        for byte in stream.readableBytesView {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "one"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer())
        #expect(try channel.readInbound(as: ByteBuffer.self)?.readableBytes == 200)
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)

        try channel.writeOutbound(ByteBuffer(string: "out"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(bytes: [3] + Array("out".utf8)))
        #expect(try channel.finish().isClean)
    }

    @Test("The decoder reports an oversized frame and a frame cut off by EOF")
    func decoderErrors() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(UVarintLengthPrefixedFrameDecoder(maxFrameLength: 10))
        )
        #expect(throws: P2PCoreError(.tooLarge, "")) {
            try channel.writeInbound(ByteBuffer(bytes: [11]))
        }

        let eofChannel = EmbeddedChannel()
        try eofChannel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(UVarintLengthPrefixedFrameDecoder(maxFrameLength: 10))
        )
        try eofChannel.writeInbound(ByteBuffer(bytes: [5, 1, 2]))
        #expect(throws: P2PCoreError(.truncated, "")) {
            _ = try eofChannel.finish()
        }
    }
}
