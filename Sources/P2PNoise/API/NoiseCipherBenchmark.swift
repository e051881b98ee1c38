import Crypto
import NIOCore

/// Times the Noise transport cipher alone (ChaCha20-Poly1305 over whole frames, in memory), for benchmarks.
///
/// It gives the throughput benchmark its ceiling on the machine at hand: a single stream cannot go faster than its
/// sender seals frames or its receiver opens them. Sealing goes through ``NoiseTransportState`` exactly as on a
/// connection (length prefix, ciphertext and tag appended to one reused buffer); opening takes that frame back.
public enum NoiseCipherBenchmark {
    /// The time spent sealing and opening.
    public struct Timing: Sendable {
        /// Frames sealed and opened.
        public var frames: Int
        /// Plaintext bytes in each frame.
        public var plaintextLength: Int
        /// The total time spent sealing.
        public var sealing: Duration
        /// The total time spent opening.
        public var opening: Duration
    }

    /// Whether connections seal and open through the system's OpenSSL (`libcrypto.so.3`) rather than BoringSSL.
    public static var usesSystemOpenSSL: Bool {
        #if canImport(Glibc)
        SystemChaChaPoly.isAvailable
        #else
        false
        #endif
    }

    /// Seals `frames` frames of `plaintextLength` bytes (at most 65519) and opens each one right after, timing the
    /// two sides apart with `clock`; `systemOpenSSL: false` measures BoringSSL even where OpenSSL is available. With
    /// `gatheredAt`, each frame is sealed from two buffers cut there (as a Yamux header and its payload are).
    ///
    /// - Throws: ``NoiseError`` if a frame does not open (which would be a bug).
    public static func run<C: Clock<Duration>>(
        plaintextLength: Int,
        frames: Int,
        systemOpenSSL: Bool = true,
        gatheredAt cut: Int? = nil,
        clock: C
    ) throws -> Timing {
        let length = max(1, min(plaintextLength, NoiseTransportState.maximumPlaintextLength))
        let first = SymmetricKey(size: .bits256)
        let second = SymmetricKey(size: .bits256)
        var sender = NoiseTransportState(
            send: CipherState(key: first),
            receive: CipherState(key: second),
            systemCipher: systemOpenSSL
        )
        var receiver = NoiseTransportState(
            send: CipherState(key: second),
            receive: CipherState(key: first),
            systemCipher: systemOpenSSL
        )
        let allocator = ByteBufferAllocator()
        let plaintext = allocator.buffer(repeating: 0x5A, count: length)
        let parts = cut.map { cut in
            let cut = min(max(cut, 0), length)
            return [plaintext.getSlice(at: 0, length: cut)!, plaintext.getSlice(at: cut, length: length - cut)!]
        }
        var sealed = allocator.buffer(capacity: sender.encryptedLength(ofPlaintextLength: length))
        var opened = allocator.buffer(capacity: length)
        var sealing = Duration.zero
        var opening = Duration.zero
        for _ in 0..<frames {
            sealed.clear()
            opened.clear()
            let start = clock.now
            if let parts {
                try sender.encryptFrame(gathering: parts, plaintextLength: length, appendingTo: &sealed)
            } else {
                try sender.encrypt(plaintext, appendingTo: &sealed)
            }
            let middle = clock.now
            let frame = sealed.getSlice(
                at: sealed.readerIndex + NoiseFrameDecoder.lengthPrefixSize,
                length: sealed.readableBytes - NoiseFrameDecoder.lengthPrefixSize
            )!
            try receiver.decrypt(frame: frame, appendingTo: &opened)
            let end = clock.now
            sealing += start.duration(to: middle)
            opening += middle.duration(to: end)
        }
        return Timing(frames: frames, plaintextLength: length, sealing: sealing, opening: opening)
    }
}
