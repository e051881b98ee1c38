// Noise SymmetricState (https://noiseprotocol.org/noise.html, rev 34, §5.2) with SHA-256 (§12.5).

import Crypto
import NIOCore

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

/// A Noise `SymmetricState`: the chaining key `ck`, the handshake hash `h` and a ``CipherState``.
struct SymmetricState {
    /// The handshake hash `h`.
    private(set) var handshakeHash: NoiseBytes32
    private var chainingKey: NoiseBytes32
    private var cipherState: CipherState

    /// Noise's `InitializeSymmetric(protocol_name)`: a name of at most 32 bytes is zero-padded,
    /// a longer one is hashed; `ck = h`; no cipher key.
    init(protocolName: String) {
        var name = protocolName
        let hash = name.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            if bytes.count <= NoiseBytes32.byteCount {
                return NoiseBytes32(prefixOf: bytes)
            }
            return NoiseBytes32(SHA256.hash(data: bytes))
        }
        self.handshakeHash = hash
        self.chainingKey = hash
        self.cipherState = CipherState(key: nil)
    }

    /// Whether the cipher has a key yet.
    var hasKey: Bool { self.cipherState.hasKey }

    /// Noise's `MixHash(data)`: `h = SHA256(h ‖ data)`.
    mutating func mixHash(_ data: UnsafeRawBufferPointer) {
        var hasher = SHA256()
        self.handshakeHash.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: data)
        self.handshakeHash = NoiseBytes32(hasher.finalize())
    }

    /// Noise's `MixKey(input_key_material)` for a Diffie-Hellman output:
    /// `ck, k = HKDF(ck, dh)`; the cipher gets key `k` and nonce 0.
    ///
    /// Noise's two-output HKDF is RFC 5869 HKDF-SHA256 with salt `ck`, empty info and 64 bytes.
    mutating func mixKey(_ sharedSecret: SharedSecret) {
        let output = self.chainingKey.withUnsafeBytes { salt in
            sharedSecret.hkdfDerivedSymmetricKey(
                using: SHA256.self,
                salt: salt,
                sharedInfo: [UInt8](),
                outputByteCount: 2 * NoiseBytes32.byteCount
            )
        }
        output.withUnsafeBytes { bytes in
            self.chainingKey = NoiseBytes32(prefixOf: bytes)
            let key = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[NoiseBytes32.byteCount...]))
            self.cipherState = CipherState(key: key)
        }
    }

    /// Noise's `EncryptAndHash(plaintext)`: appends the ciphertext to `output`, then mixes it into `h`.
    mutating func encryptAndHash(
        _ plaintext: UnsafeRawBufferPointer,
        appendingTo output: inout ByteBuffer
    ) throws(NoiseError) {
        let offset = output.writerIndex - output.readerIndex
        let associatedData = self.handshakeHash
        try associatedData.withUnsafeBytes { (ad) throws(NoiseError) in
            try self.cipherState.encrypt(authenticating: ad, plaintext: plaintext, appendingTo: &output)
        }
        output.withUnsafeReadableBytes { readable in
            self.mixHash(UnsafeRawBufferPointer(rebasing: readable[offset...]))
        }
    }

    /// Noise's `DecryptAndHash(ciphertext)`: appends the plaintext to `output`, then mixes the
    /// ciphertext into `h`.
    mutating func decryptAndHash(
        _ ciphertext: UnsafeRawBufferPointer,
        appendingTo output: inout ByteBuffer
    ) throws(NoiseError) {
        let associatedData = self.handshakeHash
        try associatedData.withUnsafeBytes { (ad) throws(NoiseError) in
            try self.cipherState.decrypt(authenticating: ad, ciphertext: ciphertext, appendingTo: &output)
        }
        self.mixHash(ciphertext)
    }

    /// Noise's `Split()`: two cipher states from `HKDF(ck, "")`, the first for initiator-to-responder
    /// traffic and the second for responder-to-initiator traffic.
    func split() -> (initiatorToResponder: CipherState, responderToInitiator: CipherState) {
        let output = self.chainingKey.withUnsafeBytes { salt in
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: [UInt8]()),
                salt: salt,
                info: [UInt8](),
                outputByteCount: 2 * NoiseBytes32.byteCount
            )
        }
        return output.withUnsafeBytes { bytes in
            let first = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[..<NoiseBytes32.byteCount]))
            let second = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[NoiseBytes32.byteCount...]))
            return (CipherState(key: first), CipherState(key: second))
        }
    }
}
