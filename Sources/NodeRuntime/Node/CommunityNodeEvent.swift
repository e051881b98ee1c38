public import P2PCore
public import PrivacyNetwork

/// What a running node reports to its front end (the CLI prints these as JSON lines).
public enum CommunityNodeEvent: Hashable, Sendable {
    /// The user has not joined: nothing was opened. The text says how to join.
    case notJoined(String)
    /// The node listens (our peer ID for this session and the bound addresses).
    case listening(PeerID, [Multiaddr])
    /// Something the community network did.
    case network(PrivacyNetworkEvent)
}
