#if canImport(Glibc)
import Crypto
import NIOCore
import Testing

@testable import P2PNoise

@Suite("ChaCha20-Poly1305 through the system's OpenSSL", .enabled(if: SystemChaChaPoly.isAvailable))
struct SystemChaChaPolyTests {
    private static let key = SymmetricKey(data: (0..<32).map { UInt8($0 &* 7 &+ 3) })
    private static let lengths = [0, 1, 15, 16, 17, 63, 64, 65, 1_000, 16_384, 65_519]

    /// Deterministic, non-repeating test bytes.
    private static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    private static func nonce(_ counter: UInt64) -> [UInt8] {
        [0, 0, 0, 0] + withUnsafeBytes(of: counter.littleEndian) { Array($0) }
    }

    private static func seal(_ context: SystemChaChaPoly, _ plaintext: [UInt8], nonce: [UInt8], ad: [UInt8]) -> [UInt8]?
    {
        var output = [UInt8](repeating: 0, count: plaintext.count + CipherState.tagLength)
        let sealed = nonce.withUnsafeBytes { nonce in
            ad.withUnsafeBytes { ad in
                plaintext.withUnsafeBytes { plaintext in
                    output.withUnsafeMutableBytes { output in
                        context.seal(nonce: nonce, authenticating: ad, plaintext: plaintext, into: output)
                    }
                }
            }
        }
        return sealed ? output : nil
    }

    private static func open(
        _ context: SystemChaChaPoly,
        _ ciphertext: [UInt8],
        nonce: [UInt8],
        ad: [UInt8]
    ) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: ciphertext.count - CipherState.tagLength)
        let opened = nonce.withUnsafeBytes { nonce in
            ad.withUnsafeBytes { ad in
                ciphertext.withUnsafeBytes { ciphertext in
                    output.withUnsafeMutableBytes { output in
                        context.open(nonce: nonce, authenticating: ad, ciphertext: ciphertext, into: output)
                    }
                }
            }
        }
        return opened ? output : nil
    }

    /// A transport state with fresh cipher states, on OpenSSL for bulk messages or on BoringSSL only.
    private static func transport(
        sending: SymmetricKey,
        receiving: SymmetricKey,
        systemCipher: Bool
    ) -> NoiseTransportState {
        NoiseTransportState(
            send: CipherState(key: sending),
            receive: CipherState(key: receiving),
            systemCipher: systemCipher
        )
    }

    @Test("Sealing gives the same ciphertext and tag as swift-crypto's ChaChaPoly, with and without associated data")
    func sealMatchesSwiftCrypto() throws {
        let context = try #require(SystemChaChaPoly(key: Self.key, sealing: true))
        for (index, length) in Self.lengths.enumerated() {
            for ad in [[], Self.bytes(13, seed: 9)] {
                let plaintext = Self.bytes(length, seed: UInt8(index))
                let nonce = Self.nonce(UInt64(index) &* 0x0101_0101_0101)
                let reference = try ChaChaPoly.seal(
                    plaintext,
                    using: Self.key,
                    nonce: ChaChaPoly.Nonce(data: nonce),
                    authenticating: ad
                )
                let sealed = try #require(Self.seal(context, plaintext, nonce: nonce, ad: ad))
                #expect(sealed == Array(reference.ciphertext + reference.tag), "length \(length), ad \(ad.count)")
            }
        }
    }

    @Test("Opening returns what swift-crypto sealed, and refuses a flipped bit, another nonce or other data")
    func openChecksTheTag() throws {
        let context = try #require(SystemChaChaPoly(key: Self.key, sealing: false))
        for (index, length) in Self.lengths.enumerated() {
            let plaintext = Self.bytes(length, seed: UInt8(index))
            let ad = Self.bytes(5, seed: 1)
            let nonce = Self.nonce(UInt64(index) + 1)
            let box = try ChaChaPoly.seal(
                plaintext,
                using: Self.key,
                nonce: ChaChaPoly.Nonce(data: nonce),
                authenticating: ad
            )
            let sealed = Array(box.ciphertext + box.tag)
            #expect(Self.open(context, sealed, nonce: nonce, ad: ad) == plaintext, "length \(length)")
            for position in [0, sealed.count / 2, sealed.count - 1] {
                var tampered = sealed
                tampered[position] ^= 0x01
                #expect(Self.open(context, tampered, nonce: nonce, ad: ad) == nil, "length \(length) at \(position)")
            }
            #expect(Self.open(context, sealed, nonce: Self.nonce(UInt64(index) + 2), ad: ad) == nil)
            #expect(Self.open(context, sealed, nonce: nonce, ad: []) == nil)
            // A failed open leaves the context usable for the next frame.
            #expect(Self.open(context, sealed, nonce: nonce, ad: ad) == plaintext)
        }
    }

    @Test("Sealing a message fed in parts (empty, odd-sized, split mid-block) gives the bytes of sealing it whole")
    func gatheredSealMatchesWhole() throws {
        let context = try #require(SystemChaChaPoly(key: Self.key, sealing: true))
        let plaintext = Self.bytes(65_519, seed: 4)
        let nonce = Self.nonce(77)
        let whole = try #require(Self.seal(context, plaintext, nonce: nonce, ad: []))
        for cuts in [[12], [0, 12, 12], [1, 2, 3, 60, 64, 4096], [65_518], [32_768, 32_769]] {
            var parts: [ByteBuffer] = []
            var start = 0
            for cut in cuts {
                parts.append(ByteBuffer(bytes: plaintext[start..<cut]))
                start = cut
            }
            parts.append(ByteBuffer(bytes: plaintext[start...]))
            var output = [UInt8](repeating: 0, count: plaintext.count + CipherState.tagLength)
            let sealed = nonce.withUnsafeBytes { nonce in
                output.withUnsafeMutableBytes { output in
                    context.seal(
                        nonce: nonce,
                        authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                        gathering: parts,
                        plaintextLength: plaintext.count,
                        into: output
                    )
                }
            }
            #expect(sealed, "cuts \(cuts)")
            #expect(output == whole, "cuts \(cuts)")
            // A wrong total is refused, not sealed short.
            var short = [UInt8](repeating: 0, count: plaintext.count - 1 + CipherState.tagLength)
            let refused = nonce.withUnsafeBytes { nonce in
                short.withUnsafeMutableBytes { output in
                    context.seal(
                        nonce: nonce,
                        authenticating: UnsafeRawBufferPointer(start: nil, count: 0),
                        gathering: parts,
                        plaintextLength: plaintext.count - 1,
                        into: output
                    )
                }
            }
            #expect(!refused, "cuts \(cuts)")
        }
    }

    @Test("A frame gathered from parts equals the frame of the joined bytes, on OpenSSL and on BoringSSL")
    func gatheredFramesMatchJoined() throws {
        let key = SymmetricKey(data: Self.bytes(32, seed: 3))
        for systemCipher in [true, false] {
            var gathering = Self.transport(sending: key, receiving: key, systemCipher: systemCipher)
            var joining = Self.transport(sending: key, receiving: key, systemCipher: systemCipher)
            // Below and above the 4 KiB where sealing moves to OpenSSL, a Yamux header and its payload, many pieces.
            let cases = [[12, 100], [12, 65_507], [1, 0, 2, 4093], [3_000, 3_000], [12, 12, 12]]
            for (index, sizes) in cases.enumerated() {
                let parts = sizes.enumerated().map { ByteBuffer(bytes: Self.bytes($1, seed: UInt8(index * 8 + $0))) }
                let total = sizes.reduce(0, +)
                var joined = ByteBuffer()
                for part in parts {
                    joined.writeImmutableBuffer(part)
                }
                var fromParts = ByteBuffer()
                var fromJoined = ByteBuffer()
                try gathering.encryptFrame(gathering: parts, plaintextLength: total, appendingTo: &fromParts)
                try joining.encrypt(joined, appendingTo: &fromJoined)
                #expect(fromParts == fromJoined, "sizes \(sizes), system \(systemCipher)")
                #expect(parts.map(\.readableBytes) == sizes, "the parts are left as they were")
            }
            #expect(gathering.sendNonce == 5)
        }
    }

    @Test("Transport states on OpenSSL and on BoringSSL write the same frames and read each other's")
    func transportInteroperates() throws {
        let first = SymmetricKey(data: Self.bytes(32, seed: 1))
        let second = SymmetricKey(data: Self.bytes(32, seed: 2))
        var system = Self.transport(sending: first, receiving: second, systemCipher: true)
        var bundled = Self.transport(sending: first, receiving: second, systemCipher: false)
        var peer = Self.transport(sending: second, receiving: first, systemCipher: false)
        var systemPeer = Self.transport(sending: second, receiving: first, systemCipher: true)
        for (index, length) in [1, 100, 65_519, 65_520, 200_000].enumerated() {
            let plaintext = ByteBuffer(bytes: Self.bytes(length, seed: UInt8(index)))
            var fromSystem = ByteBuffer()
            var fromBundled = ByteBuffer()
            try system.encrypt(plaintext, appendingTo: &fromSystem)
            try bundled.encrypt(plaintext, appendingTo: &fromBundled)
            #expect(fromSystem == fromBundled, "length \(length)")
            // The peer (BoringSSL) opens the OpenSSL frames; an OpenSSL peer opens the BoringSSL replies.
            var received = ByteBuffer()
            var decoder = NoiseFrameDecoder()
            while let frame = try decoder.decode(buffer: &fromSystem) {
                try peer.decrypt(frame: frame, appendingTo: &received)
            }
            #expect(received == plaintext)
            var reply = ByteBuffer()
            try peer.encrypt(plaintext, appendingTo: &reply)
            var answered = ByteBuffer()
            while let frame = try decoder.decode(buffer: &reply) {
                try system.decrypt(frame: frame, appendingTo: &answered)
            }
            #expect(answered == plaintext)
            var answeredToo = ByteBuffer()
            try systemPeer.encrypt(plaintext, appendingTo: &reply)
            while let frame = try decoder.decode(buffer: &reply) {
                try bundled.decrypt(frame: frame, appendingTo: &answeredToo)
            }
            #expect(answeredToo == plaintext)
        }
        #expect(system.sendNonce == bundled.sendNonce && system.receiveNonce == bundled.receiveNonce)
    }
}
#endif
