import NIOCore
import NIOEmbedded
import Testing

@testable import P2PYamux

@Suite("Yamux frame splitter")
struct YamuxFrameSplitterTests {
    /// A Data frame on the wire: header and `length` bytes of `fill`.
    static func dataFrame(stream: UInt32, length: Int, fill: UInt8) -> ByteBuffer {
        var bytes = ByteBuffer()
        YamuxFrameHeader.data(streamID: stream, length: UInt32(length)).write(to: &bytes)
        bytes.writeRepeatingByte(fill, count: length)
        return bytes
    }

    static func frames(_ channel: EmbeddedChannel) throws -> [YamuxFrame] {
        var frames: [YamuxFrame] = []
        while let frame = try channel.readInbound(as: YamuxFrame.self) {
            frames.append(frame)
        }
        return frames
    }

    /// Whether `payload` lies in `read`'s memory (a slice of it, not a copy).
    static func isSlice(_ payload: ByteBuffer, of read: ByteBuffer) -> Bool {
        read.withUnsafeReadableBytes { read in
            payload.withUnsafeReadableBytes { payload in
                guard let start = payload.baseAddress, let base = read.baseAddress else { return false }
                return start >= base && start + payload.count <= base + read.count
            }
        }
    }

    @Test("Frames whole in a read are slices of it; a frame across reads takes from the next read only what it lacks")
    func slicesAndGathering() throws {
        let channel = EmbeddedChannel(handler: YamuxFrameSplitter())
        var first = Self.dataFrame(stream: 1, length: 1_000, fill: 1)
        var straddling = Self.dataFrame(stream: 3, length: 5_000, fill: 3)
        first.writeImmutableBuffer(straddling.readSlice(length: 2_000)!)
        var second = straddling
        second.writeImmutableBuffer(Self.dataFrame(stream: 5, length: 700, fill: 5))
        second.writeImmutableBuffer(Self.dataFrame(stream: 7, length: 9, fill: 7).getSlice(at: 0, length: 5)!)

        try channel.writeInbound(first)
        let one = try Self.frames(channel)
        #expect(one.map(\.header.streamID) == [1])
        #expect(one.first.map { Self.isSlice($0.payload, of: first) } == true)

        try channel.writeInbound(second)
        let two = try Self.frames(channel)
        #expect(two.map(\.header.streamID) == [3, 5])
        #expect(two.first?.payload == ByteBuffer(repeating: 3, count: 5_000))
        #expect(two.first.map { Self.isSlice($0.payload, of: second) } == false, "the straddling frame is gathered")
        #expect(two.last?.payload == ByteBuffer(repeating: 5, count: 700))
        #expect(two.last.map { Self.isSlice($0.payload, of: second) } == true, "frames after it are slices again")

        // The header of stream 7, cut after 5 bytes, still lacks some after the next read; then it completes, with
        // its payload.
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 7, 0]))
        #expect(try Self.frames(channel).isEmpty)
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 9, 7, 7, 7, 7, 7, 7, 7, 7, 7]))
        let three = try Self.frames(channel)
        #expect(three.map(\.header.streamID) == [7])
        #expect(three.first?.payload == ByteBuffer(repeating: 7, count: 9))
        #expect(try channel.finish().isClean)
    }

    @Test("A Data frame over the limit fails when its header completes across reads, and later bytes are dropped")
    func oversizedAcrossReads() throws {
        let channel = EmbeddedChannel(handler: YamuxFrameSplitter(maximumDataFrameLength: 100))
        let frame = Self.dataFrame(stream: 1, length: 101, fill: 0)
        try channel.writeInbound(frame.getSlice(at: 0, length: 6)!)
        #expect(throws: YamuxError.self) {
            try channel.writeInbound(frame.getSlice(at: 6, length: 10)!)
        }
        try channel.writeInbound(Self.dataFrame(stream: 3, length: 1, fill: 0))
        #expect(try Self.frames(channel).isEmpty)
        #expect(try channel.finish().isClean)
    }

    @Test("The peer's half-closure in the middle of a frame is reported as a truncated frame")
    func truncatedByHalfClosure() throws {
        let channel = EmbeddedChannel(handler: YamuxFrameSplitter())
        try channel.writeInbound(Self.dataFrame(stream: 1, length: 50, fill: 0).getSlice(at: 0, length: 30)!)
        let error = try #require(throws: YamuxError.self) {
            channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            try channel.throwIfErrorCaught()
        }
        #expect(error.code == .truncatedFrame)
    }
}
