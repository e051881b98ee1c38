public import CommunityInsights

/// Which parts of the dashboard the demo has filled: the demo is ready when every part it can fill shows data.
public struct DemoReadiness: Hashable, Sendable {
    /// Synthetic reports of this epoch admitted by the user's node.
    public var reports: Int
    /// Synthetic reports expected this epoch (two per peer).
    public var expectedReports: Int
    /// "Better than N% of peers" is shown.
    public var rank: Bool
    /// The network average is shown.
    public var average: Bool
    /// The grade distribution is shown.
    public var gradeDistribution: Bool
    /// At least one tool's share among A-grade peers is shown.
    public var tools: Bool
    /// At least one recommendation is made.
    public var recommendations: Bool
    /// At least one region's statistics are shown.
    public var regional: Bool
    /// The trend chart has at least two stored epochs with enough reports.
    public var trends: Bool
    /// The grade leaderboard is shown.
    public var leaderboard: Bool

    /// Nothing filled yet.
    public init(expectedReports: Int) {
        self.reports = 0
        self.expectedReports = expectedReports
        self.rank = false
        self.average = false
        self.gradeDistribution = false
        self.tools = false
        self.recommendations = false
        self.regional = false
        self.trends = false
        self.leaderboard = false
    }

    /// The parts `dashboard` (with the stored epoch `history` behind its trend chart) fills, with `reports` of
    /// `expectedReports` admitted.
    public init(
        dashboard: CommunityDashboard?,
        history: [AggregateSnapshot] = [],
        reports: Int,
        expectedReports: Int
    ) {
        self.init(expectedReports: expectedReports)
        self.reports = reports
        guard let dashboard else { return }
        self.rank = dashboard.comparison.betterThan.value != nil
        self.average = dashboard.comparison.networkAverage.value != nil
        self.gradeDistribution = dashboard.stats.scoreDistribution.value != nil
        self.tools = !dashboard.popularTools.isEmpty
        self.recommendations = !dashboard.comparison.recommendations.isEmpty
        self.regional = dashboard.stats.regionalData.contains { $0.stats.value != nil }
        self.leaderboard = dashboard.leaderboard.grades.value != nil
        self.trends = history.filter { $0.participants >= dashboard.policy.networkMinimum }.count >= 2
    }

    /// The headline figures (rank, average, grade distribution, leaderboard) are shown.
    public var hasHeadline: Bool { self.rank && self.average && self.gradeDistribution && self.leaderboard }

    /// Every part of the page shows real figures (headline, tools, recommendations, trends, regions).
    public var hasAllParts: Bool {
        self.hasHeadline && self.tools && self.recommendations && self.regional && self.trends
    }

    /// Every part is shown and every expected report arrived.
    public var isComplete: Bool { self.hasAllParts && self.reports >= self.expectedReports }

    /// The names of the parts shown, in page order.
    public var filledParts: [String] {
        let parts: [(String, Bool)] = [
            ("rank", self.rank), ("average", self.average), ("grade_distribution", self.gradeDistribution),
            ("tools", self.tools), ("recommendations", self.recommendations), ("trends", self.trends),
            ("regional", self.regional), ("leaderboard", self.leaderboard),
        ]
        return parts.filter(\.1).map(\.0)
    }
}

/// When the demo says it is ready: once every part of the page has shown figures for ``steadySeconds`` in a row
/// (or at once when every expected report of the epoch is in, too), or, when some part does not fill (a small demo),
/// once the headline figures have been shown for ``graceSeconds``. Epoch counts restart every epoch, so readiness
/// never waits for an epoch's reports to settle.
public struct DemoReadyRule: Sendable {
    /// How long every part must stay filled.
    public var steadySeconds: Double
    /// How long the headline figures must stay shown before the demo is ready without the other parts.
    public var graceSeconds: Double
    private var allPartsSince: Double?
    private var headlineSince: Double?

    /// A rule that has seen nothing yet.
    public init(steadySeconds: Double = 2, graceSeconds: Double) {
        self.steadySeconds = max(steadySeconds, 0)
        self.graceSeconds = max(graceSeconds, 0)
    }

    /// Takes in what the page showed `seconds` after the start; true once the demo is ready.
    public mutating func observe(_ readiness: DemoReadiness, atSeconds seconds: Double) -> Bool {
        if readiness.hasAllParts {
            if self.allPartsSince == nil { self.allPartsSince = seconds }
        } else {
            self.allPartsSince = nil
        }
        if readiness.hasHeadline {
            if self.headlineSince == nil { self.headlineSince = seconds }
        } else {
            self.headlineSince = nil
        }
        if readiness.isComplete { return true }
        if let since = self.allPartsSince, seconds - since >= self.steadySeconds { return true }
        if let since = self.headlineSince, seconds - since >= self.graceSeconds { return true }
        return false
    }
}
