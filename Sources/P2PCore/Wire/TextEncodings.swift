/// Strict UTF-8 decoding without Foundation.
enum UTF8Text {
    /// Returns the string when `bytes` is valid UTF-8, or `nil`.
    static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String? {
        let string = String(decoding: bytes, as: UTF8.self)
        return string.utf8.elementsEqual(bytes) ? string : nil
    }
}

/// base58btc, the Bitcoin alphabet (https://datatracker.ietf.org/doc/html/draft-msporny-base58).
///
/// Used for the legacy text form of peer IDs (`12D3KooW…`, `Qm…`). Quadratic in the input length,
/// so callers bound the input (``maxDecodedLength``).
enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)
    /// The longest input accepted by ``decode(_:)``, in characters.
    static let maxEncodedLength = 512

    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, character) in Self.alphabet.enumerated() {
            table[Int(character)] = Int8(index)
        }
        return table
    }()

    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        // Big-endian base-58 digits, least significant last.
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 138 / 100 + 1)
        for byte in bytes.dropFirst(zeros) {
            var carry = Int(byte)
            for index in digits.indices.reversed() {
                carry += Int(digits[index]) << 8
                digits[index] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 {
                digits.insert(UInt8(carry % 58), at: 0)
                carry /= 58
            }
        }
        var text = [UInt8](repeating: Self.alphabet[0], count: zeros)
        text.append(contentsOf: digits.map { Self.alphabet[Int($0)] })
        return String(decoding: text, as: UTF8.self)
    }

    static func decode(_ text: Substring) throws -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count <= Self.maxEncodedLength else {
            throw P2PCoreError(.tooLarge, "base58 text of \(characters.count) characters is too long")
        }
        let zeros = characters.prefix { $0 == Self.alphabet[0] }.count
        var bytes: [UInt8] = []
        for character in characters.dropFirst(zeros) {
            let digit = Self.reverse[Int(character)]
            guard digit >= 0 else {
                throw P2PCoreError(.invalidEncoding, "character '\(Unicode.Scalar(character))' is not base58btc")
            }
            var carry = Int(digit)
            for index in bytes.indices.reversed() {
                carry += Int(bytes[index]) * 58
                bytes[index] = UInt8(carry & 0xFF)
                carry >>= 8
            }
            while carry > 0 {
                bytes.insert(UInt8(carry & 0xFF), at: 0)
                carry >>= 8
            }
        }
        return [UInt8](repeating: 0, count: zeros) + bytes
    }
}

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

/// Multibase text (https://github.com/multiformats/multibase): a one-character prefix naming the base.
///
/// Supported: `b`/`B` base32 (lower/upper), `z` base58btc, `f`/`F` base16.
enum Multibase {
    /// The longest multibase text accepted, in characters.
    static let maxEncodedLength = 512

    static func decode(_ text: Substring) throws -> [UInt8] {
        guard text.utf8.count <= Self.maxEncodedLength else {
            throw P2PCoreError(.tooLarge, "multibase text of \(text.utf8.count) characters is too long")
        }
        guard let prefix = text.first else {
            throw P2PCoreError(.invalidEncoding, "multibase text is empty")
        }
        let body = text.dropFirst()
        switch prefix {
        case "b":
            guard !body.contains(where: { $0.isUppercase }) else {
                throw P2PCoreError(.invalidEncoding, "multibase 'b' (base32 lower) text contains upper case")
            }
            return try Base32.decode(body)
        case "B":
            guard !body.contains(where: { $0.isLowercase }) else {
                throw P2PCoreError(.invalidEncoding, "multibase 'B' (base32 upper) text contains lower case")
            }
            return try Base32.decode(body)
        case "z":
            return try Base58.decode(body)
        case "f", "F":
            return try Base16.decode(body)
        default:
            throw P2PCoreError(.invalidEncoding, "unsupported multibase prefix '\(prefix)'")
        }
    }
}
