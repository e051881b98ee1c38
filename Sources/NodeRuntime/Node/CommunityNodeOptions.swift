public import CommunityInsights
public import P2PCore
public import PrivacyCore

/// Everything one run of the node needs: consent settings, network parameters, addresses, the local
/// report. Built by the CLI from flags (and later from stored settings).
public struct CommunityNodeOptions: Sendable {
    /// The consent settings in force for this run.
    public var settings: P2PSettings
    /// The network's parameters (the public network, or a labelled demo/test network).
    public var parameters: NetworkParameters
    /// Addresses to listen on.
    public var listenAddresses: [Multiaddr]
    /// Peers to connect to at start (each ending in `/p2p/<id>`).
    public var bootstrap: [Multiaddr]
    /// Whether to look for peers on the local network with mDNS.
    public var mdns: Bool
    /// The user's local report, when one was given; shared (as wire reports) only with consent.
    public var report: PrivacyReport?
    /// The node's libp2p identity: `nil` makes a fresh one for this run (the default, privacy-design.md).
    public var identity: PrivateKey?
    /// The device-local randomizer secret; `nil` makes one for this run.
    public var randomizerSecret: RandomizerSecret?
    /// The local dashboard, or `nil` for none.
    public var dashboard: NodeDashboardOptions?
    /// When statistics are shown (the public thresholds unless a labelled demo network lowers them).
    public var policy: DisplayPolicy
    /// How often connected peers are pinged (their round trips appear in the dashboard's peers panel).
    public var pingInterval: Duration

    /// Options; by default nothing is joined or shared, on the public network.
    public init(
        settings: P2PSettings = P2PSettings(),
        parameters: NetworkParameters = .publicNetwork,
        listenAddresses: [Multiaddr] = [],
        bootstrap: [Multiaddr] = [],
        mdns: Bool = false,
        report: PrivacyReport? = nil,
        identity: PrivateKey? = nil,
        randomizerSecret: RandomizerSecret? = nil,
        dashboard: NodeDashboardOptions? = nil,
        policy: DisplayPolicy = .standard,
        pingInterval: Duration = .seconds(60)
    ) {
        self.settings = settings
        self.parameters = parameters
        self.listenAddresses = listenAddresses
        self.bootstrap = bootstrap
        self.mdns = mdns
        self.report = report
        self.identity = identity
        self.randomizerSecret = randomizerSecret
        self.dashboard = dashboard
        self.policy = policy
        self.pingInterval = pingInterval
    }
}
