import NIOCore
import Testing

@testable import P2PNoise

@Suite("Noise 2-byte length framing")
struct NoiseFrameDecoderTests {
    private static let frames = NoiseFrameFixtures.frames

    private static func encoded(_ frames: [[UInt8]]) throws -> ByteBuffer { try NoiseFrameFixtures.encoded(frames) }

    /// Feeds `chunks` one after another, collecting every frame, then signals end of stream.
    private static func decode(
        chunks: [ByteBuffer],
        decoder: NoiseFrameDecoder = NoiseFrameDecoder()
    ) throws -> [[UInt8]] {
        var decoder = decoder
        var buffer = ByteBuffer()
        var frames: [[UInt8]] = []
        for chunk in chunks {
            buffer.writeImmutableBuffer(chunk)
            while let frame = try decoder.decode(buffer: &buffer) {
                frames.append(frame.bytes)
            }
            buffer.discardReadBytes()
        }
        while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
            frames.append(frame.bytes)
        }
        return frames
    }

    @Test("The encoder writes a big-endian length prefix then the message")
    func encoderLayout() throws {
        let out = try Self.encoded([[0xAA, 0xBB, 0xCC], Array(repeating: 0, count: 0x0102)])
        #expect(Array(out.bytes.prefix(5)) == [0x00, 0x03, 0xAA, 0xBB, 0xCC])
        #expect(Array(out.bytes[5..<7]) == [0x01, 0x02])
        #expect(out.readableBytes == 5 + 2 + 0x0102)
    }

    @Test("All frames decode when the stream arrives in one buffer")
    func batch() throws {
        let stream = try Self.encoded(Self.frames)
        #expect(try Self.decode(chunks: [stream]) == Self.frames)
    }

    @Test("All frames decode when the stream arrives one byte at a time")
    func dripFeed() throws {
        let stream = try Self.encoded(Self.frames)
        var chunks: [ByteBuffer] = []
        var remaining = stream
        while let byte = remaining.readSlice(length: 1) {
            chunks.append(byte)
        }
        #expect(try Self.decode(chunks: chunks) == Self.frames)
    }

    @Test("Frames decode for every split point of the stream into two reads")
    func everySplitPoint() throws {
        let small: [[UInt8]] = [[1, 2, 3], [], [4], Array(repeating: 9, count: 40)]
        let stream = try Self.encoded(small)
        for split in 0...stream.readableBytes {
            var copy = stream
            let first = copy.readSlice(length: split)!
            #expect(try Self.decode(chunks: [first, copy]) == small, "split at \(split)")
        }
    }

    @Test("A length prefix above the decoder's limit is rejected before the body arrives")
    func oversizedFrame() throws {
        var decoder = NoiseFrameDecoder(maximumFrameLength: 1024)
        var buffer = ByteBuffer(bytes: [0x04, 0x01])  // 1025
        let error = try #require(throws: NoiseError.self) { try decoder.decode(buffer: &buffer) }
        #expect(error.code == .frameTooLarge)
        #expect(error.message.contains("1025"))
    }

    @Test("The default decoder accepts the largest 2-byte length, 65535")
    func maximumLengthAccepted() throws {
        var decoder = NoiseFrameDecoder()
        #expect(decoder.maximumFrameLength == 65535)
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF])
        #expect(try decoder.decode(buffer: &buffer) == nil)
        buffer.writeBytes([UInt8](repeating: 7, count: 65535))
        let frame = try #require(try decoder.decode(buffer: &buffer))
        #expect(frame.readableBytes == 65535)
    }

    @Test("The encoder refuses a message longer than 65535 bytes")
    func encoderRejectsOversizedMessage() throws {
        var out = ByteBuffer()
        let error = try #require(throws: NoiseError.self) {
            try NoiseFrameEncoder().encode(data: ByteBuffer(repeating: 0, count: 65536), out: &out)
        }
        #expect(error.code == .messageTooLarge)
        #expect(out.readableBytes == 0)
    }

    @Test("End of stream inside a frame body is a truncated frame")
    func truncatedBody() throws {
        var stream = try Self.encoded([[1, 2, 3, 4, 5]])
        stream.moveWriterIndex(to: stream.writerIndex - 2)
        let error = try #require(throws: NoiseError.self) { try Self.decode(chunks: [stream]) }
        #expect(error.code == .truncatedFrame)
        #expect(error.message.contains("5 of 7"))
    }

    @Test("End of stream inside a length prefix is a truncated frame")
    func truncatedPrefix() throws {
        let error = try #require(throws: NoiseError.self) { try Self.decode(chunks: [ByteBuffer(bytes: [0x00])]) }
        #expect(error.code == .truncatedFrame)
    }

    @Test("End of stream on a frame boundary is clean")
    func cleanEnd() throws {
        #expect(try Self.decode(chunks: []) == [])
        #expect(try Self.decode(chunks: [try Self.encoded([[1]])]) == [[1]])
    }
}
