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

    /// 58⁵, the base of the limbs ``encode(_:)`` computes in (five base-58 digits per limb).
    private static let limbBase: UInt64 = 656_356_768

    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        let input = Array(bytes)
        let zeros = input.prefix { $0 == 0 }.count
        // The number in base 58⁵, least significant limb first: five times fewer steps than digit by digit.
        var limbs = [UInt64](repeating: 0, count: (input.count - zeros) * 138 / 500 + 1)
        var used = 0
        limbs.withUnsafeMutableBufferPointer { limbs in
            for byte in input[zeros...] {
                var carry = UInt64(byte)
                var index = 0
                while index < used || carry != 0 {
                    carry += limbs[index] << 8
                    limbs[index] = carry % Self.limbBase
                    carry /= Self.limbBase
                    index += 1
                }
                used = index
            }
        }
        var text = [UInt8](repeating: Self.alphabet[0], count: zeros)
        text.reserveCapacity(zeros + used * 5)
        var digits = [UInt8](repeating: 0, count: 5)
        for index in stride(from: used - 1, through: 0, by: -1) {
            var limb = limbs[index]
            for position in stride(from: 4, through: 0, by: -1) {
                digits[position] = UInt8(limb % 58)
                limb /= 58
            }
            // The most significant limb has no leading zero digits.
            let first = index == used - 1 ? (digits.firstIndex { $0 != 0 } ?? 5) : 0
            for digit in digits[first...] {
                text.append(Self.alphabet[Int(digit)])
            }
        }
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
