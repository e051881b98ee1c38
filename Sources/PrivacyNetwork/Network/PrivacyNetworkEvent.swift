public import CommunityInsights
public import P2PCore
public import PrivacyCore

/// Something the community network did that a user interface may show.
///
/// Sent reports are named by type only: the randomized value, the moment and the route stay private.
public enum PrivacyNetworkEvent: Hashable, Sendable {
    /// A connection to a peer opened.
    case peerJoined(PeerID)
    /// The last connection to a peer closed.
    case peerLeft(PeerID)
    /// One of our reports left this node (handed to the stem relay).
    case reportSent(ReportType)
    /// A report from the network (or one of ours coming back through gossip) was admitted.
    case reportAccepted(ReportType, epoch: UInt32)
    /// The community statistics (and the comparison, when the user's score is known) changed.
    case statisticsChanged(CommunityStats, CommunityComparison?)
    /// Something failed that no caller is waiting for; a one-line reason.
    case error(String)
}
