// libp2p Noise static-key authentication
// (https://github.com/libp2p/specs/blob/master/noise/README.md#static-key-authentication).

public import Crypto
public import P2PCore

/// The local side of libp2p Noise handshakes: identity key, Noise static key and the signed payload.
///
/// Building a configuration signs `"noise-libp2p-static-key:" ‖ static public key` with the identity
/// key once; every handshake that uses the configuration reuses that signed payload. One
/// configuration may serve many connections (the spec allows reusing a static key; it should not be
/// persisted across restarts), which saves a key generation and a signature per handshake.
public struct NoiseConfiguration: Sendable {
    /// The libp2p identity key that signs the Noise static key; the remote peer learns its peer ID from it.
    public let localIdentity: PrivateKey
    /// The Noise static X25519 key (`s`), distinct from the identity key.
    public let staticKey: Curve25519.KeyAgreement.PrivateKey
    /// The extensions announced in our handshake payload, if any.
    public let extensions: NoiseExtensions?
    /// The encoded `NoiseHandshakePayload` we send in message 2 (responder) or 3 (initiator).
    let encodedPayload: [UInt8]

    /// Signs the static key with the identity key and prepares the handshake payload.
    ///
    /// - Parameters:
    ///   - localIdentity: Our libp2p identity key.
    ///   - staticKey: The Noise static key; a fresh random key by default.
    ///   - extensions: Extensions to announce (none by default: the simplest interoperable choice).
    /// - Throws: ``NoiseError/Code/invalidIdentityKey`` if signing fails, or
    ///   ``NoiseError/Code/messageTooLarge`` if the payload could not fit in a handshake message.
    public init(
        localIdentity: PrivateKey,
        staticKey: Curve25519.KeyAgreement.PrivateKey = Curve25519.KeyAgreement.PrivateKey(),
        extensions: NoiseExtensions? = nil
    ) throws(NoiseError) {
        let signedData = NoiseHandshakePayload.signedData(staticPublicKey: staticKey.publicKey.rawRepresentation)
        let signature: [UInt8]
        do {
            signature = try localIdentity.signature(for: signedData)
        } catch {
            throw .invalidIdentityKey("signing the Noise static key with the identity key failed", underlying: error)
        }
        let payload = NoiseHandshakePayload(
            identityKey: localIdentity.publicKey.protobufEncoded,
            identitySignature: signature,
            extensions: extensions
        )
        let encoded = payload.encoded
        guard encoded.count <= Self.maximumPayloadLength else {
            throw .messageTooLarge(length: encoded.count, limit: Self.maximumPayloadLength)
        }
        self.localIdentity = localIdentity
        self.staticKey = staticKey
        self.extensions = extensions
        self.encodedPayload = encoded
    }

    /// A configuration with a hand-made payload, so tests can present forged or malformed payloads.
    init(
        localIdentity: PrivateKey,
        staticKey: Curve25519.KeyAgreement.PrivateKey,
        encodedPayload: [UInt8]
    ) {
        self.localIdentity = localIdentity
        self.staticKey = staticKey
        self.extensions = nil
        self.encodedPayload = encodedPayload
    }

    /// The largest payload that fits in message 2, the larger of the two payload-carrying messages:
    /// 65535 minus the ephemeral key, the encrypted static key and the payload tag.
    static let maximumPayloadLength =
        NoiseFrameDecoder.maximumMessageLength - HandshakeState.dhLength * 2 - CipherState.tagLength * 2
}
