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
