// ChaCha20-Poly1305 (RFC 8439) keyed once per cipher state, sealing and opening straight between the caller's
// buffers through BoringSSL's AEAD API (the copy swift-crypto bundles as `CCryptoBoringSSL`).
//
// swift-crypto's `ChaChaPoly` sets the key up again for every message and goes through `Data`: sealing a 64 KiB frame
// copies it twice into new `Data` values (`nonce + ciphertext + tag`) and once more into our buffer, opening likewise.
// On the transport path that is most of the cost besides the cipher itself. When the module cannot be imported,
// `CipherState` keeps using `ChaChaPoly`.

#if canImport(CCryptoBoringSSL)
import CCryptoBoringSSL
import Crypto

/// A ChaCha20-Poly1305 key set up once; seals and opens in caller-provided memory. Immutable after creation, so one
/// context may be shared by copies of a cipher state.
final class ChaChaPolyContext {
    private let context: UnsafeMutablePointer<EVP_AEAD_CTX>

    /// Sets up `key` (32 bytes); `nil` if BoringSSL refuses it.
    init?(key: SymmetricKey) {
        let made = key.withUnsafeBytes { key -> UnsafeMutablePointer<EVP_AEAD_CTX>? in
            CCryptoBoringSSL_EVP_AEAD_CTX_new(
                CCryptoBoringSSL_EVP_aead_chacha20_poly1305(),
                key.baseAddress?.assumingMemoryBound(to: UInt8.self),
                key.count,
                CipherState.tagLength
            )
        }
        guard let made else { return nil }
        self.context = made
    }

    deinit {
        CCryptoBoringSSL_EVP_AEAD_CTX_free(self.context)
    }

    /// Encrypts `plaintext` into `output` as ciphertext ‖ tag; `output` must hold `plaintext.count + 16` bytes.
    /// Returns whether BoringSSL succeeded.
    func seal(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        var written = 0
        let status = CCryptoBoringSSL_EVP_AEAD_CTX_seal(
            self.context,
            output.baseAddress?.assumingMemoryBound(to: UInt8.self),
            &written,
            output.count,
            nonce.baseAddress?.assumingMemoryBound(to: UInt8.self),
            nonce.count,
            plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self),
            plaintext.count,
            ad.baseAddress?.assumingMemoryBound(to: UInt8.self),
            ad.count
        )
        return status == 1 && written == plaintext.count + CipherState.tagLength
    }

    /// Authenticates and decrypts `ciphertext` (ciphertext ‖ tag) into `output`, which must hold
    /// `ciphertext.count - 16` bytes. Returns whether the tag was valid.
    func open(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        var written = 0
        let status = CCryptoBoringSSL_EVP_AEAD_CTX_open(
            self.context,
            output.baseAddress?.assumingMemoryBound(to: UInt8.self),
            &written,
            output.count,
            nonce.baseAddress?.assumingMemoryBound(to: UInt8.self),
            nonce.count,
            ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self),
            ciphertext.count,
            ad.baseAddress?.assumingMemoryBound(to: UInt8.self),
            ad.count
        )
        return status == 1 && written == ciphertext.count - CipherState.tagLength
    }
}
#endif
