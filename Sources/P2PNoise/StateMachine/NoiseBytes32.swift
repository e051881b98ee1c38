import Crypto

/// Thirty-two bytes held inline (no heap allocation): `h`, `ck` or an X25519 public key.
struct NoiseBytes32: Equatable {
    /// The byte length, Noise's `HASHLEN` for SHA-256.
    static let byteCount = 32

    private var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Thirty-two zero bytes.
    init() {}

    /// The first (up to) 32 bytes of `bytes`, zero-padded.
    init(prefixOf bytes: UnsafeRawBufferPointer) {
        let count = min(bytes.count, Self.byteCount)
        withUnsafeMutableBytes(of: &self.storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<count]))
        }
    }

    /// The bytes of a SHA-256 digest.
    init(_ digest: SHA256Digest) {
        self = digest.withUnsafeBytes { NoiseBytes32(prefixOf: $0) }
    }

    /// Calls `body` with the 32 bytes.
    func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try Swift.withUnsafeBytes(of: self.storage, body)
    }

    /// The bytes as an array (for tests and diagnostics).
    var bytes: [UInt8] { self.withUnsafeBytes { Array($0) } }

    static func == (lhs: NoiseBytes32, rhs: NoiseBytes32) -> Bool {
        lhs.storage == rhs.storage
    }
}
