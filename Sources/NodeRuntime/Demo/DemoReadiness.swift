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
