public import P2PCore

/// What a completed libp2p Noise handshake proved about the remote peer.
public struct NoiseHandshakeResult: Hashable, Sendable {
    /// The remote peer's ID, derived from ``remotePublicKey``.
    public let remotePeerID: PeerID
    /// The remote peer's libp2p identity key, which signed its Noise static key.
    public let remotePublicKey: PublicKey
    /// The extensions the remote peer announced in its signed payload, if any.
    public let remoteExtensions: NoiseExtensions?

    /// A result with the given fields.
    public init(remotePeerID: PeerID, remotePublicKey: PublicKey, remoteExtensions: NoiseExtensions?) {
        self.remotePeerID = remotePeerID
        self.remotePublicKey = remotePublicKey
        self.remoteExtensions = remoteExtensions
    }
}

/// The user inbound event ``NoiseHandler`` fires once the handshake has completed and the remote
/// identity has been verified; plaintext reads follow it.
public struct NoiseHandshakeCompleted: Hashable, Sendable {
    /// The verified remote identity.
    public let result: NoiseHandshakeResult

    /// An event carrying `result`.
    public init(result: NoiseHandshakeResult) {
        self.result = result
    }

    /// The remote peer's ID.
    public var remotePeerID: PeerID { self.result.remotePeerID }
    /// The remote peer's identity key.
    public var remotePublicKey: PublicKey { self.result.remotePublicKey }
    /// The extensions the remote peer announced, if any.
    public var extensions: NoiseExtensions? { self.result.remoteExtensions }
}
