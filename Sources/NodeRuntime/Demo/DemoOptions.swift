public import CommunityInsights
public import PrivacyCore

/// What `phantom-trail demo` runs: synthetic peers (each with its own user's report), the user's own node and its
/// dashboard, all on a labelled demo network on loopback.
public struct DemoOptions: Sendable {
    /// The demo network's epoch length when none is given: a time-lapse of the weekly cycle, so one minute holds
    /// six epochs (their trends, and the sub-population figures pooled over them).
    public static let defaultEpochSeconds: Int64 = 10
    /// The demo network's proof-of-work difficulty (bits): a report costs a few scrypt calls.
    public static let difficultyBits = 2
    /// The demo network's scrypt cost (N = 2^4): every node verifies every report, and 61 nodes share one process
    /// (and a debug build's unoptimized scrypt), so a demo report must cost microseconds, not milliseconds.
    public static let scryptCostLog2 = 4

    /// One synthetic user per peer: their local privacy reports.
    public var peerReports: [PrivacyReport]
    /// The user's own report (the example report).
    public var userReport: PrivacyReport
    /// The demo network's parameters (label "demo", short epochs, low proof of work).
    public var parameters: NetworkParameters
    /// The dashboard's port on 127.0.0.1 (0: any free port).
    public var dashboardPort: Int
    /// The thresholds of the demo's dashboard; a few dozen peers are far below the public network's K.
    public var policy: DisplayPolicy
    /// Each synthetic peer's connection limit (the user's node keeps at least 8 connections).
    public var maxConnections: Int
    /// How many already started peers each new peer dials at start.
    public var bootstrapPeers: Int
    /// Synthetic peers send their reports at a random moment within this many seconds after the start of the
    /// demo (and of each later epoch), instead of a random moment of the whole epoch.
    public var sendWindowSeconds: Double
    /// Once the headline figures are in, how long the demo waits for the parts that need several epochs (tools,
    /// recommendations, trends, regions) before it says it is ready with what it has (a small demo may never fill
    /// them).
    public var fullDashboardGraceSeconds: Double

    /// Options; the parameters come from ``parameters(epochSeconds:)``.
    public init(
        peerReports: [PrivacyReport],
        userReport: PrivacyReport,
        parameters: NetworkParameters,
        dashboardPort: Int = 8787,
        policy: DisplayPolicy = Self.demoPolicy,
        maxConnections: Int = 5,
        bootstrapPeers: Int = 2,
        sendWindowSeconds: Double = 4,
        fullDashboardGraceSeconds: Double = 45
    ) {
        self.peerReports = peerReports
        self.userReport = userReport
        self.parameters = parameters
        self.dashboardPort = dashboardPort
        self.policy = policy
        self.maxConnections = maxConnections
        self.bootstrapPeers = bootstrapPeers
        self.sendWindowSeconds = sendWindowSeconds
        self.fullDashboardGraceSeconds = fullDashboardGraceSeconds
    }

    /// The demo's display policy: K = 2 reports for a sub-population figure and 10 score reports for the network's
    /// figures (the public network needs 50 of each). Demo figures are labelled as such and are noisy.
    /// Recommendations need their evidence to pass at the point estimate (not at the interval's lower end, which a
    /// few dozen reports never reach); the evidence is shown with its full interval.
    public static let demoPolicy = DisplayPolicy(
        subPopulationMinimum: 2,
        networkMinimum: 10,
        recommendationConfidence: 0
    )

    /// The demo network's parameters: label "demo", `epochSeconds` long epochs, low proof of work.
    /// - Throws: ``NetworkParametersError`` for an epoch length outside 5 s – 52 weeks.
    public static func parameters(
        epochSeconds: Int64 = Self.defaultEpochSeconds
    ) throws(NetworkParametersError)
        -> NetworkParameters
    {
        try NetworkParameters(
            label: "demo",
            epochLengthSeconds: epochSeconds,
            difficultyBits: Self.difficultyBits,
            scryptCostLog2: Self.scryptCostLog2
        )
    }
}
