public import CommunityInsights
public import P2PCore
public import PrivacyCore

/// How a ``P2PPrivacyNetwork`` runs, apart from the user's consent settings.
public struct PrivacyNetworkConfiguration: Sendable {
    /// The network's parameters (the public network, or a labelled demo/test network).
    public var parameters: NetworkParameters
    /// Peers to connect to at start (each ending in `/p2p/<id>`).
    public var bootstrap: [Multiaddr]
    /// How often scheduled reports, discovery, cleanup and statistics are looked at; `nil` runs no timer
    /// (tests call the network's tick themselves).
    public var tickInterval: Duration?
    /// How often peers are pinged so that silent but live peers are not dropped.
    public var pingInterval: Duration
    /// How many peers are asked for the epoch's reports when joining (1–3).
    public var syncPeers: Int
    /// The most envelopes asked for in one sync request.
    public var syncLimit: Int
    /// When statistics are shown (K = 50 by default).
    public var policy: DisplayPolicy

    /// A configuration; by default the public network with no bootstrap peers, ticking every second.
    public init(
        parameters: NetworkParameters = .publicNetwork,
        bootstrap: [Multiaddr] = [],
        tickInterval: Duration? = .seconds(1),
        pingInterval: Duration = .seconds(60),
        syncPeers: Int = 3,
        syncLimit: Int = 10_000,
        policy: DisplayPolicy = .standard
    ) {
        self.parameters = parameters
        self.bootstrap = bootstrap
        self.tickInterval = tickInterval
        self.pingInterval = pingInterval
        self.syncPeers = min(max(syncPeers, 1), 3)
        self.syncLimit = max(1, syncLimit)
        self.policy = policy
    }
}
