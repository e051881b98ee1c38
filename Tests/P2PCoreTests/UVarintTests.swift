import NIOCore
import P2PCore
import Testing

@Suite("Unsigned varint")
struct UVarintTests {
    // Vectors from multiformats/unsigned-varint README (MIT), plus 0 and the 9-byte maximum.
    static let vectors: [(UInt64, String)] = [
        (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (255, "ff01"), (300, "ac02"), (16384, "808001"),
        (UVarint.maxValue, "ffffffffffffffff7f"),
    ]

    @Test("Encodes the spec vectors minimally", arguments: UVarintTests.vectors)
    func encodesVectors(value: UInt64, encoded: String) {
        #expect(UVarint.encode(value) == hex(encoded))
        #expect(UVarint.encodedLength(value) == hex(encoded).count)
    }

    @Test("Decodes the spec vectors", arguments: UVarintTests.vectors)
    func decodesVectors(value: UInt64, encoded: String) throws {
        #expect(try UVarint.decode(hex(encoded)) == value)
        let prefixed = try #require(try UVarint.decodePrefix(hex(encoded) + [0xAA, 0xBB]))
        #expect(prefixed.value == value)
        #expect(prefixed.length == hex(encoded).count)
    }

    @Test("Rejects non-minimal encodings")
    func rejectsNonMinimal() {
        #expect(errorCode { try UVarint.decode(hex("8100")) } == .varintNotMinimal)
        #expect(errorCode { try UVarint.decode(hex("8000")) } == .varintNotMinimal)
        #expect(errorCode { try UVarint.decode(hex("ff8000")) } == .varintNotMinimal)
    }

    @Test("Rejects varints longer than 9 bytes, even before the tenth byte arrives")
    func rejectsOverlong() {
        #expect(errorCode { try UVarint.decode(hex("ffffffffffffffffff01")) } == .varintTooLong)
        #expect(errorCode { try UVarint.decodePrefix(hex("808080808080808080")) } == .varintTooLong)
    }

    @Test("Reports truncated input as incomplete, not as an error")
    func truncatedIsIncomplete() throws {
        #expect(try UVarint.decodePrefix(hex("8080")) == nil)
        #expect(try UVarint.decodePrefix([UInt8]()) == nil)
        #expect(errorCode { try UVarint.decode(hex("80")) } == .truncated)
    }

    @Test("Rejects trailing bytes when decoding exactly")
    func rejectsTrailingBytes() {
        #expect(errorCode { try UVarint.decode(hex("0101")) } == .invalidEncoding)
    }

    @Test("Round-trips through ByteBuffer and leaves the reader index alone when incomplete")
    func byteBufferRoundTrip() throws {
        var buffer = ByteBuffer()
        for (value, _) in Self.vectors {
            buffer.writeUVarint(value)
        }
        for (value, _) in Self.vectors {
            #expect(try buffer.readUVarint() == value)
        }
        #expect(buffer.readableBytes == 0)

        var partial = ByteBuffer(bytes: hex("ac"))
        #expect(try partial.readUVarint() == nil)
        #expect(partial.readableBytes == 1)
        partial.writeBytes([0x02])
        #expect(try partial.readUVarint() == 300)

        var bad = ByteBuffer(bytes: hex("8100"))
        #expect(errorCode { try bad.readUVarint() } == .varintNotMinimal)
        #expect(bad.readableBytes == 2)
    }

    @Test("Round-trips every power of two and its neighbours")
    func roundTripsPowersOfTwo() throws {
        for bit in 0..<63 {
            for value in [UInt64(1) << bit, (UInt64(1) << bit) - 1, (UInt64(1) << bit) + 1] {
                #expect(try UVarint.decode(UVarint.encode(value)) == value)
            }
        }
    }
}
