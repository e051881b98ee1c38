public import Foundation
public import P2PCore
public import PrivacyCore

/// A peer this node is (or recently was) connected to: the original plan's `PeerConnection`, on libp2p.
///
/// The plan's WebRTC connection and data channel are the libp2p connection the host owns; this value is
/// only what the node knows about the peer. Nothing here is ever stored on disk.
public struct PeerConnection: Hashable, Sendable {
    /// The peer's libp2p peer ID (fresh per session unless the peer configured a fixed key).
    public let id: PeerID
    /// The plan had a region per peer. Peers never tell their region (reports are not linkable to a peer),
    /// so this is always `nil`: unknown.
    public var region: Region? { nil }
    /// When the peer was last heard from (connection, identify, a successful ping, a report).
    public var lastSeen: Date
    /// Whether a connection to the peer is open now.
    public var isActive: Bool
    /// Who opened the current (or last) connection, when known.
    public var dialedByUs: Bool

    /// A peer record.
    public init(id: PeerID, lastSeen: Date, isActive: Bool, dialedByUs: Bool) {
        self.id = id
        self.lastSeen = lastSeen
        self.isActive = isActive
        self.dialedByUs = dialedByUs
    }
}
