public import CommunityInsights
public import Foundation
public import PrivacyCore

/// What the dashboard reads from, and asks of, the node. The node (NodeRuntime) implements it; tests use a fake.
///
/// Every method may be called concurrently from several requests. Methods throw when the node cannot
/// answer; a ``DashboardError`` is sent to the client as is (its code picks the status), any other error
/// becomes a 500 with a generic message.
public protocol DashboardDataSource: Sendable {
    /// The status line and health: peers, users reported this epoch, network kind, consent flags.
    func status() async throws -> DashboardStatus
    /// This epoch's network-wide statistics.
    func stats() async throws -> CommunityStats
    /// The user against the network, or `nil` while no local report has been submitted.
    func comparison() async throws -> CommunityComparison?
    /// The assembled view model (figures, texts, lessons), or `nil` while no local report has been submitted.
    func insights() async throws -> CommunityDashboard?
    /// Stored per-epoch aggregate snapshots for the trend chart, any order (this epoch's may be included).
    func trendHistory() async throws -> [AggregateSnapshot]
    /// The connected peers: short id, direction and ping only, never an address.
    func peers() async throws -> [DashboardPeer]
    /// The current consent and connection settings.
    func settings() async throws -> P2PSettings
    /// Stores new settings and applies them; returns the settings now in force.
    func updateSettings(_ settings: P2PSettings) async throws -> P2PSettings
    /// Hands the privacy tool's local report (already decoded and validated) to the node.
    func submitReport(_ report: PrivacyReport) async throws
    /// "What leaves this device": the anonymized summary and this epoch's wire reports.
    func disclosure() async throws -> DashboardDisclosure
    /// A new stream of change notifications for one subscriber (one per open event stream).
    ///
    /// The stream ends when the node stops; the server ends the client's event stream then.
    func updates() -> AsyncStream<DashboardUpdate>
}

/// Which kind of network the node is on; demo networks are labelled wherever they appear.
public enum DashboardNetworkKind: String, Hashable, Sendable, Codable {
    /// The public network (weekly epochs, full proof of work).
    case `public`
    /// A local demo network (short epochs, low proof of work) that never leaves loopback.
    case demo
}

/// The node's status as the dashboard's first line and health indicator show it.
public struct DashboardStatus: Hashable, Sendable {
    /// Open peer connections.
    public var connectedPeers: Int
    /// The connection target (the `maxConnections` setting), for the connectivity level.
    public var targetPeers: Int
    /// Users heard from this epoch (score reports admitted), or from the previous epoch when
    /// ``usersReportedInPreviousEpoch`` (the statistics show the previous, complete epoch).
    public var usersReportedThisEpoch: Int
    /// Whether ``usersReportedThisEpoch`` counts the previous epoch ("… users reported last week").
    public var usersReportedInPreviousEpoch: Bool
    /// The network kind.
    public var network: DashboardNetworkKind
    /// The network's label (e.g. "public", "demo").
    public var networkLabel: String
    /// The epoch length in seconds ("this week" for 604 800, "this epoch" otherwise).
    public var epochLengthSeconds: Int
    /// The current epoch number.
    public var epoch: Int
    /// Elapsed fraction of the epoch, 0–1: how much of the epoch's reports has likely arrived.
    public var epochProgress: Double
    /// When the statistics were last recomputed, if ever.
    public var lastUpdated: Date?
    /// Whether the user joined the network (`joinPrivacyNetwork`).
    public var joined: Bool
    /// Whether the node sends wire reports (joined and `shareAnonymousData`).
    public var sharing: Bool

    /// Creates a status.
    public init(
        connectedPeers: Int,
        targetPeers: Int,
        usersReportedThisEpoch: Int,
        network: DashboardNetworkKind,
        networkLabel: String,
        epochLengthSeconds: Int,
        epoch: Int,
        epochProgress: Double,
        lastUpdated: Date?,
        joined: Bool,
        sharing: Bool,
        usersReportedInPreviousEpoch: Bool = false
    ) {
        self.usersReportedInPreviousEpoch = usersReportedInPreviousEpoch
        self.connectedPeers = connectedPeers
        self.targetPeers = targetPeers
        self.usersReportedThisEpoch = usersReportedThisEpoch
        self.network = network
        self.networkLabel = networkLabel
        self.epochLengthSeconds = epochLengthSeconds
        self.epoch = epoch
        self.epochProgress = epochProgress
        self.lastUpdated = lastUpdated
        self.joined = joined
        self.sharing = sharing
    }
}

/// One connected peer as the peers panel shows it: no address, only a shortened id.
public struct DashboardPeer: Hashable, Sendable {
    /// Who opened the connection.
    public enum Direction: String, Hashable, Sendable, Codable {
        /// The peer dialled us.
        case inbound
        /// We dialled the peer.
        case outbound
    }

    /// The shortened peer id ("12D3Ko…x9QpLm"); the full id is not kept.
    public var shortID: String
    /// Who opened the connection.
    public var direction: Direction
    /// The last measured round trip in milliseconds, if any.
    public var pingMilliseconds: Double?

    /// Creates a peer entry, shortening `peerID` to its first and last six characters.
    public init(peerID: String, direction: Direction, pingMilliseconds: Double?) {
        self.shortID = Self.shorten(peerID)
        self.direction = direction
        self.pingMilliseconds = pingMilliseconds
    }

    /// The first and last six characters of `peerID` joined by an ellipsis (ids of 14 characters or fewer
    /// are kept whole).
    public static func shorten(_ peerID: String) -> String {
        guard peerID.count > 14 else { return peerID }
        return "\(peerID.prefix(6))…\(peerID.suffix(6))"
    }
}

/// One wire report of this epoch, as the "what leaves this device" view lists it.
public struct DashboardWireReport: Hashable, Sendable {
    /// The randomized report exactly as it is (or will be) sent.
    public var report: WireReport
    /// When it is scheduled to leave (a uniformly random moment of the epoch).
    public var sendAt: Date
    /// Whether it has been handed to the network already.
    public var sent: Bool

    /// Creates an entry.
    public init(report: WireReport, sendAt: Date, sent: Bool) {
        self.report = report
        self.sendAt = sendAt
        self.sent = sent
    }
}

/// "What leaves this device": the summary the user sees (never sent as is) and the wire reports.
public struct DashboardDisclosure: Hashable, Sendable {
    /// The epoch the wire reports belong to.
    public var epoch: Int
    /// The anonymized summary derived from the local report, or `nil` before any report.
    public var summary: AnonymousPrivacyData?
    /// This epoch's wire reports (empty when sharing is off or before any report).
    public var wireReports: [DashboardWireReport]

    /// Creates a disclosure.
    public init(epoch: Int, summary: AnonymousPrivacyData?, wireReports: [DashboardWireReport]) {
        self.epoch = epoch
        self.summary = summary
        self.wireReports = wireReports
    }
}

/// What changed in the node; the page refetches the matching part.
public enum DashboardUpdate: String, Hashable, Sendable, Codable, CaseIterable {
    /// Peer count, health or consent flags changed.
    case status
    /// New reports arrived: statistics, comparison and insights changed.
    case statistics
    /// A peer connected, disconnected or answered a ping.
    case peers
    /// The settings changed.
    case settings
    /// The local report or this epoch's wire reports changed.
    case disclosure
}
