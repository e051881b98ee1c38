public import PrivacyCore

/// What the node sends, the original plan's `NetworkMessage`, mapped onto libp2p.
///
/// The plan's three kinds survive, each on its own libp2p mechanism; none carries a timestamp, a sender or
/// the plan's full anonymized record (privacy-design.md: the network only carries 512-byte wire reports).
public enum NetworkMessage: Hashable, Sendable {
    /// The plan's `privacy_data`: one wire report in its envelope. Authored reports go to the stem relay,
    /// which eventually publishes them on the GossipSub report topic.
    case privacyData(ReportEnvelope)
    /// The plan's `stats_request`: ask peers for the reports of these epochs (the catch-up sync protocol),
    /// so that statistics can be computed locally. Peers never send computed statistics.
    case statsRequest(epochs: [UInt32])
    /// The plan's `peer_discovery`: learn more peers (identify's listen addresses, GossipSub PRUNE peer
    /// exchange, bootstrap addresses, optional mDNS) and dial up to the connection limit.
    case peerDiscovery

    /// The libp2p mechanism that carries a message kind.
    public enum Carrier: Hashable, Sendable {
        /// Published on a GossipSub topic (after the stem phase for authored reports).
        case gossipTopic(String)
        /// A request/response stream protocol.
        case streamProtocol(String)
        /// Identify and GossipSub peer exchange, no message of our own.
        case discovery
    }

    /// How this message travels.
    public var carrier: Carrier {
        switch self {
        case .privacyData: .gossipTopic(PrivacyNetworkProtocol.reportTopic)
        case .statsRequest: .streamProtocol(PrivacyNetworkProtocol.sync)
        case .peerDiscovery: .discovery
        }
    }
}
