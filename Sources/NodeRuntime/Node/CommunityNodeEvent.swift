public import P2PCore
public import PrivacyNetwork

/// What a running node reports to its front end (the CLI prints these as JSON lines).
public enum CommunityNodeEvent: Hashable, Sendable {
    /// The user has not joined: nothing was opened. The text says how to join.
    case notJoined(String)
    /// The node listens (our peer ID for this session and the bound addresses).
    case listening(PeerID, [Multiaddr])
    /// The dashboard listens on `port`; `url` opens it (with the per-install token in its fragment).
    case dashboard(url: String, port: Int)
    /// Something the community network did.
    case network(PrivacyNetworkEvent)
}
