import Crypto
import NIOCore
import Testing

@testable import P2PNoise

@Suite("Noise symmetric state primitives")
struct SymmetricStateTests {
    /// Deterministic pseudo-random bytes (a simple LCG): inputs, not secrets.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test("HMAC-SHA256 with a 32-byte key matches swift-crypto's HMAC", arguments: [0, 1, 31, 32, 55, 64, 65, 200])
    func hmacMatchesReference(length: Int) {
        let key = Self.bytes(32, seed: UInt64(length))
        let message = Self.bytes(length, seed: UInt64(length) + 100)
        let reference = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        let split = length / 3
        let ours = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                SymmetricState.hmac(
                    key: NoiseBytes32(prefixOf: keyBytes),
                    UnsafeRawBufferPointer(rebasing: messageBytes[..<split]),
                    UnsafeRawBufferPointer(rebasing: messageBytes[split...])
                )
            }
        }
        #expect(ours.bytes == reference)
    }

    @Test("Noise HKDF equals RFC 5869 HKDF-SHA256 with salt ck, empty info, 64 bytes", arguments: [0, 32, 77])
    func hkdfMatchesReference(length: Int) {
        let chainingKey = Self.bytes(32, seed: 7 + UInt64(length))
        let inputKeyMaterial = Self.bytes(length, seed: 9 + UInt64(length))
        let reference = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: inputKeyMaterial),
            salt: chainingKey,
            info: [UInt8](),
            outputByteCount: 64
        ).withUnsafeBytes { Array($0) }
        let (first, second) = chainingKey.withUnsafeBytes { ck in
            inputKeyMaterial.withUnsafeBytes { ikm in
                SymmetricState.hkdf(chainingKey: NoiseBytes32(prefixOf: ck), inputKeyMaterial: ikm)
            }
        }
        #expect(first.bytes + second.bytes == reference)
    }

    @Test("A protocol name of 32 bytes is the initial h; a longer one is hashed")
    func initializeSymmetric() {
        let exact = SymmetricState(protocolName: HandshakeState.protocolName)
        #expect(exact.handshakeHash.bytes == Array(HandshakeState.protocolName.utf8))
        let long = "Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s"
        #expect(SymmetricState(protocolName: long).handshakeHash.bytes == Array(SHA256.hash(data: Array(long.utf8))))
        let short = "Noise_NN_25519_AESGCM_SHA256"
        #expect(
            SymmetricState(protocolName: short).handshakeHash.bytes
                == Array(short.utf8) + [UInt8](repeating: 0, count: 32 - short.utf8.count)
        )
    }
}
