/// Base16 (hex) used by multibase prefixes `f` and `F`.
enum Base16 {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex.
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        var output: [UInt8] = []
        for byte in bytes {
            output.append(Self.digits[Int(byte >> 4)])
            output.append(Self.digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: Substring) throws -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else {
            throw P2PCoreError(.invalidEncoding, "hex text has an odd number of characters")
        }
        var output: [UInt8] = []
        output.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            output.append(try Self.nibble(characters[index]) << 4 | Self.nibble(characters[index + 1]))
            index += 2
        }
        return output
    }

    private static func nibble(_ character: UInt8) throws -> UInt8 {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return character - UInt8(ascii: "A") + 10
        default: throw P2PCoreError(.invalidEncoding, "character '\(Unicode.Scalar(character))' is not hex")
        }
    }
}
