import Crypto
public import P2PCore

extension NoiseHandshakeBenchmark {
    /// Runs only the public-key operations of `pairs` Noise XX handshake pairs, for comparison with ``run(pairs:initiator:responder:)``
    /// in the same process and under the same load: per pair two X25519 key generations, six X25519 Diffie-Hellman
    /// operations and two Ed25519 verifications of a `noise-libp2p-static-key:` signature (the hashing and the small
    /// AEADs of the handshake are left out). Returns a checksum of the results, so no work can be skipped.
    public static func cryptoFloor(pairs: Int, identity: PrivateKey) throws -> Int {
        let staticKey = Curve25519.KeyAgreement.PrivateKey()
        let signedData = Array("noise-libp2p-static-key:".utf8) + Array(staticKey.publicKey.rawRepresentation)
        let signature = try identity.signature(for: signedData)
        let publicKey = identity.publicKey
        var checksum = 0
        for _ in 0..<pairs {
            let initiatorEphemeral = Curve25519.KeyAgreement.PrivateKey()
            let responderEphemeral = Curve25519.KeyAgreement.PrivateKey()
            for (local, remote) in [
                (initiatorEphemeral, responderEphemeral), (responderEphemeral, initiatorEphemeral),
                (initiatorEphemeral, staticKey), (staticKey, initiatorEphemeral),
                (staticKey, responderEphemeral), (responderEphemeral, staticKey),
            ] {
                let secret = try local.sharedSecretFromKeyAgreement(with: remote.publicKey)
                checksum &+= secret.withUnsafeBytes { Int($0[0]) }
            }
            for _ in 0..<2 where publicKey.isValidSignature(signature, for: signedData) {
                checksum &+= 1
            }
        }
        return checksum
    }
}
