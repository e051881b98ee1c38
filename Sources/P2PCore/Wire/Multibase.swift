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
