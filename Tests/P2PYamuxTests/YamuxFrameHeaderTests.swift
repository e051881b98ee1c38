import NIOCore
import NIOEmbedded
import TestSupport
import Testing

@testable import P2PYamux

@Suite("Yamux frame codec")
struct YamuxFrameHeaderTests {
    // Vectors from the spec's header layout (libp2p wire notes §5.1).
    static let vectors: [(YamuxFrameHeader, [UInt8])] = [
        (
            .windowUpdate(streamID: 1, flags: .syn),
            [0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]
        ),
        (.ping(opaque: 7, ack: true), [0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07]),
        (.goAway(.normal), [0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
        (.goAway(.protocolError), [0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]),
        (
            .data(streamID: 0x0102_0304, flags: [.fin, .rst], length: 0x0A0B_0C0D),
            [0x00, 0x00, 0x00, 0x0C, 0x01, 0x02, 0x03, 0x04, 0x0A, 0x0B, 0x0C, 0x0D]
        ),
        (
            .windowUpdate(streamID: 2, flags: .ack, delta: 262_144),
            [0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00]
        ),
    ]

    @Test("headers encode to the spec's big-endian bytes and decode back")
    func vectorsRoundTrip() throws {
        for (header, bytes) in Self.vectors {
            var buffer = ByteBuffer()
            header.write(to: &buffer)
            #expect(Array(buffer.readableBytesView) == bytes)
            #expect(try YamuxFrameHeader.peek(in: ByteBuffer(bytes: bytes)) == header)
        }
    }

    @Test("a header with a version other than 0 is refused")
    func badVersion() {
        let bytes: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]
        #expect(throws: YamuxError(code: .unsupportedVersion, message: "")) {
            try YamuxFrameHeader.peek(in: ByteBuffer(bytes: bytes))
        }
    }

    @Test("a header with an unknown type is refused")
    func unknownType() {
        let bytes: [UInt8] = [0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]
        #expect(throws: YamuxError(code: .unknownFrameType, message: "")) {
            try YamuxFrameHeader.peek(in: ByteBuffer(bytes: bytes))
        }
    }

    @Test("fewer than 12 bytes is not yet a header")
    func shortHeader() throws {
        #expect(try YamuxFrameHeader.peek(in: ByteBuffer(bytes: [0, 0, 0, 0, 0])) == nil)
    }

    @Test("a data frame over the limit is refused before its payload arrives")
    func oversizedDataFrame() {
        let decoder = YamuxFrameDecoder(maximumDataFrameLength: 1024)
        var buffer = ByteBuffer()
        YamuxFrameHeader.data(streamID: 1, length: 1025).write(to: &buffer)
        #expect(throws: YamuxError(code: .frameTooLarge, message: "")) {
            try decoder.decodeFrame(from: &buffer)
        }
    }

    @Test("non-data frames never wait for a payload, whatever their length field")
    func controlFramesHaveNoPayload() throws {
        let decoder = YamuxFrameDecoder(maximumDataFrameLength: 16)
        var buffer = ByteBuffer()
        YamuxFrameHeader.windowUpdate(streamID: 1, delta: 16 * 1024 * 1024).write(to: &buffer)
        let frame = try #require(try decoder.decodeFrame(from: &buffer))
        #expect(frame.header.length == 16 * 1024 * 1024)
        #expect(frame.payload.readableBytes == 0)
        #expect(buffer.readableBytes == 0)
    }

    @Test("frames fed one byte at a time, all at once, or in random chunks decode the same")
    func dripFeeding() throws {
        var generator = SplitMix64(seed: 42)
        var wire = ByteBuffer()
        var expected: [YamuxFrame] = []
        for index in 0..<40 {
            let payloadLength = Int(generator.next() % 3000)
            let payload = ByteBuffer(bytes: (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &+ index) })
            let frame: YamuxFrame
            switch index % 4 {
            case 0:
                frame = YamuxFrame(
                    header: .data(streamID: UInt32(index), length: UInt32(payloadLength)),
                    payload: payload
                )
            case 1: frame = YamuxFrame(header: .windowUpdate(streamID: UInt32(index), delta: UInt32(index)))
            case 2: frame = YamuxFrame(header: .ping(opaque: UInt32(index), ack: false))
            default: frame = YamuxFrame(header: .goAway(.internalError))
            }
            expected.append(frame)
            wire.writeImmutableBuffer(
                YamuxFrameEncoder.encode(
                    frame.header,
                    payload: frame.header.type == .data ? frame.payload : nil,
                    allocator: ByteBufferAllocator()
                )
            )
        }

        for chunking in ["single", "bytes", "random"] {
            let channel = EmbeddedChannel(handler: YamuxFrameSplitter())
            var input = wire
            while input.readableBytes > 0 {
                let size: Int
                switch chunking {
                case "single": size = input.readableBytes
                case "bytes": size = 1
                default: size = min(input.readableBytes, 1 + Int(generator.next() % 5000))
                }
                try channel.writeInbound(input.readSlice(length: size)!)
            }
            var decoded: [YamuxFrame] = []
            while let frame = try channel.readInbound(as: YamuxFrame.self) {
                decoded.append(frame)
            }
            #expect(decoded == expected, "chunking \(chunking)")
            #expect(try channel.finish().isClean)
        }
    }

    @Test("input that ends inside a frame is reported as truncated")
    func truncatedAtEOF() throws {
        let channel = EmbeddedChannel(handler: YamuxFrameSplitter())
        var buffer = ByteBuffer()
        YamuxFrameHeader.data(streamID: 1, length: 10).write(to: &buffer)
        buffer.writeBytes([1, 2, 3])
        try channel.writeInbound(buffer)
        #expect(try channel.readInbound(as: YamuxFrame.self) == nil)
        #expect(throws: YamuxError(code: .truncatedFrame, message: "")) {
            _ = try channel.finish()
        }
    }
}
