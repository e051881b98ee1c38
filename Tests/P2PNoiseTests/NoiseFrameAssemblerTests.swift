import NIOCore
import Testing

@testable import P2PNoise

@Suite("Noise frames cut out of reads without cumulating them")
struct NoiseFrameAssemblerTests {
    private static let frames = NoiseFrameFixtures.frames

    private static func encoded(_ frames: [[UInt8]]) throws -> ByteBuffer { try NoiseFrameFixtures.encoded(frames) }

    /// Feeds `chunks` in order, collecting every frame, then ends the stream.
    private static func assemble(
        _ chunks: [ByteBuffer],
        assembler: NoiseFrameAssembler = NoiseFrameAssembler()
    ) throws -> [[UInt8]] {
        var assembler = assembler
        var frames: [[UInt8]] = []
        for chunk in chunks {
            try assembler.process(chunk) { frames.append($0.bytes) }
        }
        try assembler.finish()
        return frames
    }

    /// `stream` cut into reads of `size` bytes (the last one shorter).
    private static func reads(of stream: ByteBuffer, size: Int) -> [ByteBuffer] {
        var rest = stream
        var chunks: [ByteBuffer] = []
        while rest.readableBytes > 0 {
            chunks.append(rest.readSlice(length: min(size, rest.readableBytes))!)
        }
        return chunks
    }

    @Test("Frames come out whole and in order for reads of any size, down to one byte")
    func anyReadSize() throws {
        let stream = try Self.encoded(Self.frames)
        for size in [1, 2, 3, 7, 200, 203, 4096, 65_536, 65_537, 65_539, stream.readableBytes] {
            #expect(try Self.assemble(Self.reads(of: stream, size: size)) == Self.frames, "reads of \(size) bytes")
        }
    }

    @Test("Frames come out for every split of the stream into three reads")
    func everySplitPoint() throws {
        let small: [[UInt8]] = [[1, 2, 3], [], [4], Array(repeating: 9, count: 40)]
        let stream = try Self.encoded(small)
        for first in 0...stream.readableBytes {
            for second in first...stream.readableBytes {
                var copy = stream
                let a = copy.readSlice(length: first)!
                let b = copy.readSlice(length: second - first)!
                #expect(try Self.assemble([a, b, copy]) == small, "split at \(first) and \(second)")
            }
        }
    }

    @Test("Frames inside one read are slices of it; only a frame split across reads is gathered")
    func slicesAndHeldBackBytes() throws {
        let stream = try Self.encoded([[1, 2, 3], [4, 5, 6, 7]])
        var assembler = NoiseFrameAssembler()
        var first = stream
        // Frame 1 (2 + 3 bytes), then frame 2's length prefix and 2 of its 4 body bytes.
        let head = first.readSlice(length: 9)!
        var seen: [[UInt8]] = []
        try assembler.process(head) { seen.append($0.bytes) }
        #expect(seen == [[1, 2, 3]])
        #expect(assembler.bufferedBytes == 4)
        try assembler.process(first) { seen.append($0.bytes) }
        #expect(seen == [[1, 2, 3], [4, 5, 6, 7]])
        #expect(assembler.bufferedBytes == 0)
    }

    @Test("A length over the limit is refused, whether it arrives whole or split across reads")
    func oversized() throws {
        for chunks in [[ByteBuffer(bytes: [0x04, 0x01])], [ByteBuffer(bytes: [0x04]), ByteBuffer(bytes: [0x01])]] {
            let error = try #require(throws: NoiseError.self) {
                try Self.assemble(chunks, assembler: NoiseFrameAssembler(maximumFrameLength: 1024))
            }
            #expect(error.code == .frameTooLarge)
            #expect(error.message.contains("1025"))
        }
    }

    @Test("End of stream inside a frame is a truncated frame; on a boundary it is clean")
    func endOfStream() throws {
        var stream = try Self.encoded([[1, 2, 3, 4, 5]])
        stream.moveWriterIndex(to: stream.writerIndex - 2)
        let body = try #require(throws: NoiseError.self) { try Self.assemble([stream]) }
        #expect(body.code == .truncatedFrame)
        #expect(body.message.contains("5 of 7"))
        let prefix = try #require(throws: NoiseError.self) { try Self.assemble([ByteBuffer(bytes: [0x00])]) }
        #expect(prefix.code == .truncatedFrame)
        #expect(try Self.assemble([]) == [])
        #expect(try Self.assemble([try Self.encoded([[1]])]) == [[1]])
    }
}
