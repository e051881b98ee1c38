/// RFC 4648 base32 without padding, as used by multibase prefixes `b` (lower case) and `B` (upper case).
enum Base32 {
    private static let lower = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(Self.lower[Int((buffer >> UInt32(bits)) & 0x1F)])
            }
        }
        if bits > 0 {
            output.append(Self.lower[Int((buffer << UInt32(5 - bits)) & 0x1F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes unpadded base32 in either case (the caller checks the case matches the multibase prefix).
    static func decode(_ text: Substring) throws -> [UInt8] {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - UInt8(ascii: "a")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - UInt8(ascii: "A")
            case UInt8(ascii: "2")...UInt8(ascii: "7"): value = character - UInt8(ascii: "2") + 26
            default:
                throw P2PCoreError(.invalidEncoding, "character '\(Unicode.Scalar(character))' is not base32")
            }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        // Leftover bits must be padding zeros, and fewer than 5 (otherwise a whole character is extra).
        guard bits < 5, buffer == 0 else {
            throw P2PCoreError(.invalidEncoding, "base32 text has non-zero or excess trailing bits")
        }
        return output
    }
}
