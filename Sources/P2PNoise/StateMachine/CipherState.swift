// Noise CipherState (https://noiseprotocol.org/noise.html, rev 34, §5.1) for ChaChaPoly (§12.3).

import Crypto
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A Noise `CipherState`: an optional ChaChaPoly key and a 64-bit nonce counter.
///
/// With no key, encryption and decryption pass bytes through unchanged (Noise §5.1). Nonce
/// `2^64 - 1` is reserved, so after `2^64 - 1` messages the state refuses to work and the connection
/// must be closed.
package struct CipherState: Equatable {
    /// The AEAD tag length of ChaChaPoly.
    package static let tagLength = 16

    private var key: SymmetricKey?
    /// The nonce of the next message.
    package private(set) var nonce: UInt64
    #if canImport(CCryptoBoringSSL)
    /// The key set up once for in-place sealing and opening.
    private var context: ChaChaPolyContext?
    #endif
    #if canImport(Glibc)
    /// The direction this state may use the system's OpenSSL for (`true`: sealing), once prepared for the transport
    /// phase (see ``preparedForTransport(sealing:)``); `nil`: BoringSSL only.
    private var systemDirection: Bool?
    /// The key in the system's OpenSSL, set up on the first message of at least ``systemCipherThreshold`` bytes.
    private var systemContext: SystemChaChaPoly?
    #endif

    /// A cipher state with the given key (or none) and nonce 0.
    init(key: SymmetricKey?) {
        self.init(key: key, nonce: 0)
    }

    /// A cipher state starting at `nonce`, for tests of the nonce limit (Noise's `SetNonce`).
    init(key: SymmetricKey?, nonce: UInt64) {
        self.key = key
        self.nonce = nonce
        #if canImport(CCryptoBoringSSL)
        if let key {
            self.context = ChaChaPolyContext(key: key)
        } else {
            self.context = nil
        }
        #endif
    }

    /// Equal keys and nonces.
    package static func == (lhs: CipherState, rhs: CipherState) -> Bool {
        lhs.key == rhs.key && lhs.nonce == rhs.nonce
    }

    /// Whether a key is set (Noise's `HasKey`).
    var hasKey: Bool { self.key != nil }

    /// Messages from this size on go through the system's OpenSSL in the transport phase. Smaller ones stay on
    /// BoringSSL, whose per-message cost is lower; a connection that never carries bulk data never sets OpenSSL up.
    static let systemCipherThreshold = 4096

    /// This state for bulk use in one direction: from the first message of ``systemCipherThreshold`` bytes on, large
    /// messages are sealed (or opened) through the system's OpenSSL when it is available, which is faster than
    /// BoringSSL on AVX-512 machines. The key, nonces and bytes produced are the same; the state must then only be used
    /// in that direction.
    func preparedForTransport(sealing: Bool) -> CipherState {
        var state = self
        #if canImport(Glibc)
        state.systemDirection = sealing
        #endif
        return state
    }

    #if canImport(Glibc)
    /// The OpenSSL context for a message of `length` bytes in `sealing` direction, set up on first use; `nil` when the
    /// message should go through BoringSSL.
    private mutating func systemContext(forLength length: Int, sealing: Bool) -> SystemChaChaPoly? {
        guard length >= Self.systemCipherThreshold, self.systemDirection == sealing else { return nil }
        if let context = self.systemContext {
            return context
        }
        guard let key = self.key, let context = SystemChaChaPoly(key: key, sealing: sealing) else {
            // Not available: do not try again.
            self.systemDirection = nil
            return nil
        }
        self.systemContext = context
        return context
    }
    #endif

    /// An in-place AEAD call of ``SystemChaChaPoly`` or ``ChaChaPolyContext``: (nonce, associated data, input, output
    /// of exactly the result's size) → success.
    private typealias InPlaceAEAD = (
        UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer
    ) -> Bool

    /// Seals `plaintext` with `seal` straight into `output` (ciphertext ‖ tag) and advances the nonce; false (nothing
    /// written, the nonce unchanged) when `seal` fails.
    private mutating func seal(
        _ plaintext: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        appendingTo output: inout ByteBuffer,
        with seal: InPlaceAEAD
    ) throws(NoiseError) -> Bool {
        try self.seal(plaintext.count, appendingTo: &output) { nonce, free in seal(nonce, ad, plaintext, free) }
    }

    /// Opens `ciphertext` (ciphertext ‖ tag) with `open` straight into `output` and advances the nonce.
    /// - Throws: ``NoiseError/decryptionFailed(_:)`` when the tag does not verify.
    private mutating func open(
        _ ciphertext: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        appendingTo output: inout ByteBuffer,
        with open: InPlaceAEAD
    ) throws(NoiseError) {
        var nonce = try self.nonceBytes()
        let length = ciphertext.count - Self.tagLength
        let opened = withUnsafeBytes(of: &nonce) { nonce in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { free in
                open(nonce, ad, ciphertext, UnsafeMutableRawBufferPointer(rebasing: free[..<length])) ? length : 0
            }
        }
        guard opened == length else {
            throw .decryptionFailed(
                "ChaChaPoly authentication failed for a \(ciphertext.count)-byte ciphertext at nonce \(self.nonce)"
            )
        }
        self.nonce += 1
    }

    /// Encrypts `plaintext` with associated data `ad` and appends the ciphertext and tag to `output`
    /// (Noise's `EncryptWithAd`). Without a key the plaintext is appended unchanged.
    mutating func encrypt(
        authenticating ad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        appendingTo output: inout ByteBuffer
    ) throws(NoiseError) {
        guard let key = self.key else {
            output.writeBytes(plaintext)
            return
        }
        #if canImport(Glibc)
        if let system = self.systemContext(forLength: plaintext.count, sealing: true) {
            if try self.seal(plaintext, authenticating: ad, appendingTo: &output, with: system.seal) {
                return
            }
            // The system library refused (it is not ours to vouch for): nothing was written and the nonce did not
            // move, so this and later messages go through BoringSSL instead.
            self.systemDirection = nil
            self.systemContext = nil
        }
        #endif
        #if canImport(CCryptoBoringSSL)
        if let context = self.context {
            let sealed = try self.seal(plaintext, authenticating: ad, appendingTo: &output, with: context.seal)
            // Sealing only fails on a wrong key size, which our own code controls.
            precondition(sealed, "ChaCha20-Poly1305 sealing failed with a 32-byte key")
            return
        }
        #endif
        let nonce = try self.takeNonce()
        do {
            let box = try ChaChaPoly.seal(plaintext, using: key, nonce: nonce, authenticating: ad)
            // `combined` is nonce ‖ ciphertext ‖ tag; the wire carries ciphertext ‖ tag.
            box.combined.withUnsafeBytes { combined in
                _ = output.writeBytes(UnsafeRawBufferPointer(rebasing: combined.dropFirst(12)))
            }
        } catch {
            // ChaChaPoly.seal only fails on a wrong key size, which our own code controls.
            preconditionFailure("ChaChaPoly.seal failed with a 32-byte key: \(error)")
        }
    }

    /// Encrypts the readable bytes of `parts`, in order, as one message with empty associated data and appends the
    /// ciphertext and tag to `output`: the same bytes as ``encrypt(authenticating:plaintext:appendingTo:)`` on the
    /// parts joined. A message that goes through the system's OpenSSL is encrypted part by part without joining them;
    /// otherwise the parts are joined in temporary memory first.
    ///
    /// - Parameter plaintextLength: The parts' total readable bytes.
    mutating func encrypt(
        gathering parts: [ByteBuffer],
        plaintextLength: Int,
        appendingTo output: inout ByteBuffer
    ) throws(NoiseError) {
        let noData = UnsafeRawBufferPointer(start: nil, count: 0)
        #if canImport(Glibc)
        if parts.count > 1, self.key != nil,
            let system = self.systemContext(forLength: plaintextLength, sealing: true)
        {
            let sealed = try self.seal(plaintextLength, appendingTo: &output) { nonce, free in
                system.seal(
                    nonce: nonce,
                    authenticating: noData,
                    gathering: parts,
                    plaintextLength: plaintextLength,
                    into: free
                )
            }
            if sealed {
                return
            }
            // As for a single buffer: BoringSSL from now on.
            self.systemDirection = nil
            self.systemContext = nil
        }
        #endif
        if parts.count == 1 {
            try parts[0].withUnsafeReadableBytes { (bytes) throws(NoiseError) in
                try self.encrypt(authenticating: noData, plaintext: bytes, appendingTo: &output)
            }
            return
        }
        try withUnsafeTemporaryAllocation(byteCount: plaintextLength, alignment: 1) { (joined) throws(NoiseError) in
            var offset = 0
            for part in parts {
                part.withUnsafeReadableBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: joined[offset...]).copyMemory(from: bytes)
                    offset += bytes.count
                }
            }
            let plaintext = UnsafeRawBufferPointer(rebasing: joined[..<offset])
            try self.encrypt(authenticating: noData, plaintext: plaintext, appendingTo: &output)
        }
    }

    /// Runs `seal` on the nonce's bytes and the next `plaintextLength + 16` writable bytes of `output`; when it
    /// succeeds, those bytes become written and the nonce advances. Returns `seal`'s result.
    private mutating func seal(
        _ plaintextLength: Int,
        appendingTo output: inout ByteBuffer,
        with seal: (UnsafeRawBufferPointer, UnsafeMutableRawBufferPointer) -> Bool
    ) throws(NoiseError) -> Bool {
        var nonce = try self.nonceBytes()
        let length = plaintextLength + Self.tagLength
        let sealed = withUnsafeBytes(of: &nonce) { nonce in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { free in
                seal(nonce, UnsafeMutableRawBufferPointer(rebasing: free[..<length])) ? length : 0
            }
        }
        guard sealed == length else { return false }
        self.nonce += 1
        return true
    }

    /// Decrypts `ciphertext` (ciphertext ‖ tag) with associated data `ad` and appends the plaintext
    /// to `output` (Noise's `DecryptWithAd`). Without a key the bytes are appended unchanged.
    mutating func decrypt(
        authenticating ad: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        appendingTo output: inout ByteBuffer
    ) throws(NoiseError) {
        guard let key = self.key else {
            output.writeBytes(ciphertext)
            return
        }
        guard ciphertext.count >= Self.tagLength else {
            throw .decryptionFailed(
                "ciphertext of \(ciphertext.count) bytes is shorter than the \(Self.tagLength)-byte tag"
            )
        }
        #if canImport(Glibc)
        if let system = self.systemContext(forLength: ciphertext.count - Self.tagLength, sealing: false) {
            try self.open(ciphertext, authenticating: ad, appendingTo: &output, with: system.open)
            return
        }
        #endif
        #if canImport(CCryptoBoringSSL)
        if let context = self.context {
            try self.open(ciphertext, authenticating: ad, appendingTo: &output, with: context.open)
            return
        }
        #endif
        let nonce = try self.peekNonce()
        let split = ciphertext.count - Self.tagLength
        let plaintext: Data
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: nonce,
                ciphertext: UnsafeRawBufferPointer(rebasing: ciphertext[..<split]),
                tag: UnsafeRawBufferPointer(rebasing: ciphertext[split...])
            )
            plaintext = try ChaChaPoly.open(box, using: key, authenticating: ad)
        } catch {
            throw .decryptionFailed(
                "ChaChaPoly authentication failed for a \(ciphertext.count)-byte ciphertext at nonce \(self.nonce)",
                underlying: error
            )
        }
        self.nonce += 1
        output.writeBytes(plaintext)
    }

    /// Returns the nonce for the next message and advances the counter.
    private mutating func takeNonce() throws(NoiseError) -> ChaChaPoly.Nonce {
        let nonce = try self.peekNonce()
        self.nonce += 1
        return nonce
    }

    /// The ChaChaPoly nonce for the current counter: 4 zero bytes then the counter, little-endian.
    private func peekNonce() throws(NoiseError) -> ChaChaPoly.Nonce {
        var raw = try self.nonceBytes()
        return withUnsafeBytes(of: &raw) { bytes in
            // A 12-byte input is always a valid ChaChaPoly nonce.
            try! ChaChaPoly.Nonce(data: bytes)
        }
    }

    /// The 12 nonce bytes for the current counter; fails once the counter reached the reserved last value.
    private func nonceBytes() throws(NoiseError) -> (UInt32, UInt32, UInt32) {
        guard self.nonce < UInt64.max else {
            throw .nonceExhausted()
        }
        return (
            0,
            UInt32(truncatingIfNeeded: self.nonce).littleEndian,
            UInt32(truncatingIfNeeded: self.nonce >> 32).littleEndian
        )
    }
}
