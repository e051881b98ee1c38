// Noise SymmetricState (https://noiseprotocol.org/noise.html, rev 34, §5.2) with SHA-256 (§12.5).

import Crypto
import NIOCore

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
    mutating func mixKey(_ sharedSecret: SharedSecret) {
        let (chainingKey, key) = sharedSecret.withUnsafeBytes { ikm in
            Self.hkdf(chainingKey: self.chainingKey, inputKeyMaterial: ikm)
        }
        self.chainingKey = chainingKey
        self.cipherState = CipherState(key: key.withUnsafeBytes { SymmetricKey(data: $0) })
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
        let (first, second) = Self.hkdf(
            chainingKey: self.chainingKey,
            inputKeyMaterial: UnsafeRawBufferPointer(start: nil, count: 0)
        )
        return (
            CipherState(key: first.withUnsafeBytes { SymmetricKey(data: $0) }),
            CipherState(key: second.withUnsafeBytes { SymmetricKey(data: $0) })
        )
    }

    /// Noise's `HKDF(chaining_key, input_key_material, 2)` (§4.3): RFC 5869 HKDF-SHA256 with salt
    /// `chaining_key`, empty info and two 32-byte outputs.
    ///
    /// Written out with ``hmac(key:_:_:)`` because every key here is exactly `HASHLEN` bytes; this
    /// avoids the generic key handling of `HKDF`/`HMAC` on the handshake's hot path.
    static func hkdf(
        chainingKey: NoiseBytes32,
        inputKeyMaterial: UnsafeRawBufferPointer
    ) -> (NoiseBytes32, NoiseBytes32) {
        let temporaryKey = Self.hmac(key: chainingKey, inputKeyMaterial)
        let first = withUnsafeBytes(of: UInt8(0x01)) { Self.hmac(key: temporaryKey, $0) }
        let second = first.withUnsafeBytes { firstBytes in
            withUnsafeBytes(of: UInt8(0x02)) { Self.hmac(key: temporaryKey, firstBytes, $0) }
        }
        return (first, second)
    }

    /// HMAC-SHA256 (RFC 2104) with a 32-byte key over `first ‖ second`.
    static func hmac(
        key: NoiseBytes32,
        _ first: UnsafeRawBufferPointer,
        _ second: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)
    ) -> NoiseBytes32 {
        var inner = SHA256()
        var outer = SHA256()
        // One 64-byte SHA-256 block: the key zero-padded, XORed with ipad, then with opad.
        var block: (NoiseBytes32, NoiseBytes32) = (key, NoiseBytes32())
        withUnsafeMutableBytes(of: &block) { pad in
            for index in pad.indices {
                pad[index] ^= 0x36
            }
            inner.update(bufferPointer: UnsafeRawBufferPointer(pad))
            for index in pad.indices {
                pad[index] ^= 0x36 ^ 0x5C
            }
            outer.update(bufferPointer: UnsafeRawBufferPointer(pad))
        }
        inner.update(bufferPointer: first)
        inner.update(bufferPointer: second)
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return NoiseBytes32(outer.finalize())
    }
}
