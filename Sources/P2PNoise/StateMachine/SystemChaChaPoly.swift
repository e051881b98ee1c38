// ChaCha20-Poly1305 (RFC 8439) through the system's OpenSSL 3 (`libcrypto.so.3`), loaded at run time, for the bulk
// transport phase of Noise.
//
// BoringSSL (what swift-crypto bundles) has one x86-64 ChaCha20-Poly1305 code path, AVX2. OpenSSL 3 also has AVX-512
// ChaCha20 and an AVX-512 IFMA Poly1305; on an AVX-512 machine it seals and opens large frames about twice as fast
// (measured on a 2-vCPU Xeon, 64 KiB frames, per CPU second: OpenSSL 3.0 2.7 GB/s, BoringSSL 1.3 GB/s). The sender's
// seal rate bounds a single encrypted stream, so transport cipher states seal and open messages of 4 KiB or more with
// OpenSSL when the library is there (set up on the first such message, so connections without bulk data never pay for
// it), and everything else with BoringSSL (``ChaChaPolyContext``). Both implement the same RFC: the bytes on the wire
// are identical.
//
// Nothing is linked at build time: the functions come from `dlopen`/`dlsym`, and any missing piece means "not
// available". Only OpenSSL's stable EVP cipher API is used (present since 1.1.0, unchanged in 3.x).

#if canImport(Glibc)
import Crypto
import Glibc
import NIOCore

/// A ChaCha20-Poly1305 key in an OpenSSL cipher context set up for one direction (sealing or opening).
///
/// Each call re-initialises the context with the message's nonce (the key schedule stays). Not thread-safe: one
/// context belongs to one cipher state, used from one event loop at a time.
final class SystemChaChaPoly {
    /// The OpenSSL functions used, or `nil` when `libcrypto.so.3` cannot be loaded.
    private static let library = LibCrypto.load()

    /// Whether the system's OpenSSL 3 is available.
    static var isAvailable: Bool { Self.library != nil }

    private let library: LibCrypto
    private let context: OpaquePointer
    /// Whether the context seals (else it opens).
    let isSealing: Bool

    /// Sets up `key` (32 bytes) for sealing or for opening; `nil` when OpenSSL is not available or refuses the key.
    init?(key: SymmetricKey, sealing: Bool) {
        guard let library = Self.library, key.bitCount == 256, let context = library.newContext() else {
            return nil
        }
        let ready = key.withUnsafeBytes { key -> Bool in
            let key = key.baseAddress?.assumingMemoryBound(to: UInt8.self)
            let cipher = library.chacha20Poly1305()
            return sealing
                ? library.encryptInit(context, cipher, nil, key, nil) == 1
                : library.decryptInit(context, cipher, nil, key, nil) == 1
        }
        guard ready else {
            library.freeContext(context)
            return nil
        }
        self.library = library
        self.context = context
        self.isSealing = sealing
    }

    deinit {
        self.library.freeContext(self.context)
    }

    /// Starts a message: the context takes `nonce` (the key stays) and then the associated data. Returns whether
    /// OpenSSL accepted both.
    private func start(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        initialize: LibCrypto.Initialize,
        update: LibCrypto.Update
    ) -> Bool {
        guard initialize(self.context, nil, nil, nil, nonce.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
        else { return false }
        guard ad.count > 0 else { return true }
        var written: Int32 = 0
        return update(self.context, nil, &written, ad.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(ad.count))
            == 1
    }

    /// Encrypts `plaintext` into `output` as ciphertext ‖ tag; `output` must hold `plaintext.count + 16` bytes.
    /// Returns whether OpenSSL succeeded.
    func seal(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        plaintext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        self.seal(nonce: nonce, authenticating: ad, plaintextLength: plaintext.count, into: output) { update in
            update(plaintext)
        }
    }

    /// Encrypts the readable bytes of `parts`, in order, as one message into `output` (ciphertext ‖ tag), feeding the
    /// cipher part by part instead of joining them first; `output` must hold `plaintextLength + 16` bytes, and
    /// `plaintextLength` must be the parts' total. Returns whether OpenSSL succeeded.
    func seal(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        gathering parts: [ByteBuffer],
        plaintextLength: Int,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        self.seal(nonce: nonce, authenticating: ad, plaintextLength: plaintextLength, into: output) { update in
            parts.allSatisfy { $0.withUnsafeReadableBytes(update) }
        }
    }

    /// Seals a message of `plaintextLength` bytes into `output` (ciphertext ‖ tag): `feed` hands the plaintext to the
    /// update function it is given, in order, in one or more pieces, and returns false as soon as that does.
    private func seal(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        plaintextLength: Int,
        into output: UnsafeMutableRawBufferPointer,
        feed: ((UnsafeRawBufferPointer) -> Bool) -> Bool
    ) -> Bool {
        precondition(self.isSealing, "an opening OpenSSL context used to seal")
        let tagLength = CipherState.tagLength
        guard nonce.count == 12, output.count == plaintextLength + tagLength, plaintextLength <= Int(Int32.max),
            ad.count <= Int(Int32.max), let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return false }
        let library = self.library
        guard
            self.start(nonce: nonce, authenticating: ad, initialize: library.encryptInit, update: library.encryptUpdate)
        else { return false }
        var offset = 0
        let fed = feed { bytes in
            guard bytes.count > 0 else { return true }
            guard offset + bytes.count <= plaintextLength else { return false }
            var written: Int32 = 0
            let status = library.encryptUpdate(
                self.context,
                out + offset,
                &written,
                bytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                Int32(bytes.count)
            )
            offset += Int(written)
            return status == 1 && Int(written) == bytes.count
        }
        guard fed, offset == plaintextLength else { return false }
        var last: Int32 = 0
        guard library.encryptFinal(self.context, out + plaintextLength, &last) == 1, last == 0 else { return false }
        return library.control(self.context, LibCrypto.getTag, Int32(tagLength), out + plaintextLength) == 1
    }

    /// Authenticates and decrypts `ciphertext` (ciphertext ‖ tag) into `output`, which must hold
    /// `ciphertext.count - 16` bytes. Returns whether the tag was valid; on `false`, `output` holds garbage.
    func open(
        nonce: UnsafeRawBufferPointer,
        authenticating ad: UnsafeRawBufferPointer,
        ciphertext: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) -> Bool {
        precondition(!self.isSealing, "a sealing OpenSSL context used to open")
        let tagLength = CipherState.tagLength
        guard nonce.count == 12, ciphertext.count >= tagLength, output.count == ciphertext.count - tagLength,
            ciphertext.count <= Int(Int32.max), ad.count <= Int(Int32.max),
            let input = ciphertext.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return false }
        let library = self.library
        let body = ciphertext.count - tagLength
        guard
            self.start(nonce: nonce, authenticating: ad, initialize: library.decryptInit, update: library.decryptUpdate)
        else { return false }
        var out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var written: Int32 = 0
        if body > 0 {
            let status = library.decryptUpdate(self.context, out, &written, input, Int32(body))
            guard status == 1, Int(written) == body else { return false }
            out = out.map { $0 + body }
        }
        // OpenSSL copies the expected tag in; it does not write through the pointer.
        let tag = UnsafeMutableRawPointer(mutating: input + body)
        guard library.control(self.context, LibCrypto.setTag, Int32(tagLength), tag) == 1 else { return false }
        // The final call checks the tag; with no output buffer left, give it a scratch byte.
        var scratch: UInt8 = 0
        var last: Int32 = 0
        let verified = withUnsafeMutablePointer(to: &scratch) { scratch in
            library.decryptFinal(self.context, out ?? scratch, &last)
        }
        return verified == 1 && last == 0
    }
}

/// The `libcrypto.so.3` functions ``SystemChaChaPoly`` calls, looked up once.
private struct LibCrypto: Sendable {
    typealias NewContext = @convention(c) () -> OpaquePointer?
    typealias FreeContext = @convention(c) (OpaquePointer?) -> Void
    typealias Cipher = @convention(c) () -> OpaquePointer?
    /// `EVP_EncryptInit_ex` / `EVP_DecryptInit_ex(ctx, cipher, engine, key, iv)`.
    typealias Initialize =
        @convention(c) (
            OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafePointer<UInt8>?, UnsafePointer<UInt8>?
        ) -> Int32
    /// `EVP_EncryptUpdate` / `EVP_DecryptUpdate(ctx, out, &outLength, in, inLength)`.
    typealias Update =
        @convention(c) (
            OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int32>?, UnsafePointer<UInt8>?, Int32
        ) -> Int32
    /// `EVP_EncryptFinal_ex` / `EVP_DecryptFinal_ex(ctx, out, &outLength)`.
    typealias Finish =
        @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int32>?) -> Int32
    /// `EVP_CIPHER_CTX_ctrl(ctx, type, arg, ptr)`.
    typealias Control = @convention(c) (OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Int32

    /// `EVP_CTRL_AEAD_GET_TAG`.
    static let getTag: Int32 = 0x10
    /// `EVP_CTRL_AEAD_SET_TAG`.
    static let setTag: Int32 = 0x11

    let newContext: NewContext
    let freeContext: FreeContext
    let chacha20Poly1305: Cipher
    let encryptInit: Initialize
    let encryptUpdate: Update
    let encryptFinal: Finish
    let decryptInit: Initialize
    let decryptUpdate: Update
    let decryptFinal: Finish
    let control: Control

    /// Loads `libcrypto.so.3` and looks every function up; `nil` if anything is missing.
    static func load() -> LibCrypto? {
        guard let handle = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            guard let pointer = dlsym(handle, name) else { return nil }
            return unsafeBitCast(pointer, to: type)
        }
        guard let newContext = symbol("EVP_CIPHER_CTX_new", as: NewContext.self),
            let freeContext = symbol("EVP_CIPHER_CTX_free", as: FreeContext.self),
            let chacha20Poly1305 = symbol("EVP_chacha20_poly1305", as: Cipher.self),
            let encryptInit = symbol("EVP_EncryptInit_ex", as: Initialize.self),
            let encryptUpdate = symbol("EVP_EncryptUpdate", as: Update.self),
            let encryptFinal = symbol("EVP_EncryptFinal_ex", as: Finish.self),
            let decryptInit = symbol("EVP_DecryptInit_ex", as: Initialize.self),
            let decryptUpdate = symbol("EVP_DecryptUpdate", as: Update.self),
            let decryptFinal = symbol("EVP_DecryptFinal_ex", as: Finish.self),
            let control = symbol("EVP_CIPHER_CTX_ctrl", as: Control.self),
            chacha20Poly1305() != nil
        else {
            dlclose(handle)
            return nil
        }
        // The handle stays open for the life of the process: the functions above point into it.
        return LibCrypto(
            newContext: newContext,
            freeContext: freeContext,
            chacha20Poly1305: chacha20Poly1305,
            encryptInit: encryptInit,
            encryptUpdate: encryptUpdate,
            encryptFinal: encryptFinal,
            decryptInit: decryptInit,
            decryptUpdate: decryptUpdate,
            decryptFinal: decryptFinal,
            control: control
        )
    }
}
#endif
