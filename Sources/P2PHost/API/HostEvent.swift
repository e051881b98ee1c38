public import P2PCore

/// Something that happened to a ``LibP2PHost``'s connections, in the order it happened.
public enum HostEvent: Hashable, Sendable {
    /// The first connection to `peer` finished its upgrade.
    case peerConnected(peer: PeerID, direction: ConnectionDirection, address: Multiaddr?)
    /// The last connection to `peer` closed.
    case peerDisconnected(peer: PeerID)
    /// Identify with `peer` finished.
    case identified(peer: PeerID, agentVersion: String?, protocols: [String], listenAddresses: [Multiaddr])
    /// Something failed that no caller is waiting for (an inbound upgrade, an automatic identify).
    case error(message: String, peer: PeerID?)
}
