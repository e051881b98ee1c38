import CommunityInsights
import Foundation
public import PrivacyCore

/// A seeded synthetic population of privacy-tool users, for tests, simulations and benchmarks.
///
/// Marginals (assumptions, chosen to be plausible; see research/privacy-anchors.md, appendix A):
/// - A latent "diligence" `z ~ N(0, 1)` drives everything that correlates with privacy.
/// - Score: `round(70 + 15·(0.7·z + 0.714·e))`, `e ~ N(0, 1)`, clamped to 0–100 (so ≈ N(70, 15);
///   about 2.5% sit at 100, about 12% report an A grade).
/// - Trackers (distinct domains, one event each): lognormal, median `15·exp(−0.4·z)`, σ = 0.8.
/// - High/critical-risk events: none for 12% of users; otherwise a share
///   `clamp(0.18 − 0.07·z + 0.1·e', 0.01, 0.9)` of their events (at least one).
/// - Site categories: three favourites drawn without replacement with Zipf(1.1) weights over all 18
///   website categories (the sensitive ones included, folded into "other" on the wire); the
///   user's events split 50/30/20 over them.
/// - Tools: tool `t` is used with probability `σ(logit(base_t) + 1.2·z)` (see ``toolBaseRates``),
///   so A-grade users use more tools.
/// - Region: shared by 60% of users; North America 30%, Europe 28%, Asia 20%, Latin America 10%,
///   Middle East and Africa 7%, Oceania 5%.
public struct SyntheticPopulation: Sendable {
    /// The users.
    public let users: [SyntheticUser]

    /// Generates `count` users from `seed`.
    public init(count: Int, seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        self.users = (0..<max(count, 0)).map { _ in SyntheticUser.random(using: &generator) }
    }

    /// Wraps existing users.
    public init(users: [SyntheticUser]) {
        self.users = users
    }

    /// The score of a user with latent diligence `z` and independent noise `e` (both standard normal).
    public static func score(diligence z: Double, noise e: Double) -> Int {
        min(max(Int((70 + 15 * (0.7 * z + 0.714 * e)).rounded()), 0), 100)
    }

    /// Baseline adoption of each tool for an average user (z = 0).
    public static let toolBaseRates: [ProtectionTool: Double] = [
        .uBlockOrigin: 0.45, .privacyBadger: 0.18, .ghostery: 0.12, .duckDuckGoPrivacyEssentials: 0.15,
        .adGuard: 0.10, .noScript: 0.05, .firefoxStrictTrackingProtection: 0.20, .braveShields: 0.15,
        .safariIntelligentTrackingPrevention: 0.12, .consentOMatic: 0.06, .clearURLs: 0.08, .localCDN: 0.04,
        .cookieAutoDelete: 0.07, .firefoxContainers: 0.08,
    ]

    /// The true (not randomized) reports of one epoch: every user's score report and one secondary
    /// report of a type drawn uniformly from those the user can send.
    public func trueReports(seed: UInt64) -> [WireReport] {
        var generator = SeededGenerator(seed: seed)
        var reports: [WireReport] = []
        reports.reserveCapacity(self.users.count * 2)
        for user in self.users {
            reports.append(user.truth.report(of: .score, using: &generator))
            let types = user.truth.allowedSecondaryTypes
            let type = types[Int.random(in: 0..<types.count, using: &generator)]
            reports.append(user.truth.report(of: type, using: &generator))
        }
        return reports
    }

    /// One epoch of randomized reports (``trueReports(seed:)`` through ``GRRSampler``).
    public func randomizedReports(seed: UInt64) -> [WireReport] {
        var generator = SeededGenerator(seed: seed ^ 0x5A5A_5A5A_5A5A_5A5A)
        return self.trueReports(seed: seed).map { GRRSampler.randomize($0, using: &generator) }
    }

    /// The population's true mean raw score.
    public var trueMeanScore: Double {
        guard !self.users.isEmpty else { return 0 }
        return Double(self.users.reduce(0) { $0 + $1.score }) / Double(self.users.count)
    }

    /// The true median raw score (mean of the two middle scores for an even count).
    public var trueMedianScore: Double {
        let sorted = self.users.map(\.score).sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The true "better than" share for `score`: users strictly lower, plus half of the ties.
    public func trueBetterThan(score: Int) -> Double {
        guard !self.users.isEmpty else { return 0 }
        var below = 0.0
        for user in self.users {
            if user.score < score {
                below += 1
            } else if user.score == score {
                below += 0.5
            }
        }
        return below / Double(self.users.count)
    }

    /// The true share of users with a raw score at or below `score`.
    public func truePercentile(score: Int) -> Double {
        guard !self.users.isEmpty else { return 0 }
        return Double(self.users.filter { $0.score <= score }.count) / Double(self.users.count)
    }

    /// The true share of A-grade users (of the anonymized score) who use `tool`.
    public func trueToolShareAmongAGrade(_ tool: ProtectionTool) -> Double {
        let aGrade = self.users.filter { $0.truth.reportedGrade == .a }
        guard !aGrade.isEmpty else { return 0 }
        return Double(aGrade.filter { $0.tools.contains(tool) }.count) / Double(aGrade.count)
    }
}

/// One synthetic user: the measured quantities, the ``PrivacyReport`` built from them, and the true
/// wire values.
public struct SyntheticUser: Hashable, Sendable {
    /// Raw score, 0–100.
    public var score: Int
    /// Distinct tracker domains (one event each).
    public var trackerCount: Int
    /// How many of the events are high or critical risk.
    public var highRiskEvents: Int
    /// Events per website category, most frequent first.
    public var categoryEvents: [CategoryEvents]
    /// Protection tools in use.
    public var tools: Set<ProtectionTool>
    /// Shared region, if any.
    public var region: Region?

    /// A number of events on one website category.
    public struct CategoryEvents: Hashable, Sendable {
        /// The category.
        public var category: WebsiteCategory
        /// How many events.
        public var count: Int

        /// Creates a category count.
        public init(category: WebsiteCategory, count: Int) {
            self.category = category
            self.count = count
        }
    }

    /// Creates a user from its measured quantities.
    public init(
        score: Int,
        trackerCount: Int,
        highRiskEvents: Int,
        categoryEvents: [CategoryEvents],
        tools: Set<ProtectionTool>,
        region: Region?
    ) {
        self.score = score
        self.trackerCount = trackerCount
        self.highRiskEvents = highRiskEvents
        self.categoryEvents = categoryEvents
        self.tools = tools
        self.region = region
    }

    /// The local report the privacy tool would produce: one event per tracker domain, the first
    /// `highRiskEvents` of them high or critical, categories as in `categoryEvents`.
    public var privacyReport: PrivacyReport {
        var events: [PrivacyReport.TrackerEvent] = []
        events.reserveCapacity(self.trackerCount)
        var categories = self.categoryEvents.flatMap { Array(repeating: $0.category, count: $0.count) }
        while categories.count < self.trackerCount {
            categories.append(.other)
        }
        let trackerCategories = TrackerCategory.allCases
        for index in 0..<self.trackerCount {
            let risk: RiskLevel =
                index < self.highRiskEvents ? (index % 3 == 0 ? .critical : .high) : (index % 2 == 0 ? .low : .medium)
            events.append(
                PrivacyReport.TrackerEvent(
                    trackerDomain: "tracker-\(index).example",
                    trackerCategory: trackerCategories[index % trackerCategories.count],
                    riskLevel: risk,
                    siteCategory: categories[index],
                    time: 1_790_000_000 + Double(index) * 60
                )
            )
        }
        return PrivacyReport(score: self.score, events: events, tools: self.tools, region: self.region)
    }

    /// The true values of every wire question for this user, as PrivacyCore derives them
    /// (``trueReportValues(now:)``).
    public var truth: TrueWireValues {
        TrueWireValues(self.trueReportValues())
    }

    private static let categoryPopularity: [WebsiteCategory] = [
        .news, .social, .shopping, .search, .entertainment, .technology, .reference, .health, .finance, .sports,
        .travel, .games, .jobs, .politics, .other, .religion, .dating, .adult,
    ]

    private static let regionShares: [(Region, Double)] = [
        (.northAmerica, 0.30), (.europe, 0.28), (.asia, 0.20), (.latinAmerica, 0.10), (.middleEastAndAfrica, 0.07),
        (.oceania, 0.05),
    ]

    static func random(using generator: inout some RandomNumberGenerator) -> SyntheticUser {
        let z = generator.nextNormal()
        let score = SyntheticPopulation.score(diligence: z, noise: generator.nextNormal())
        let trackers = Int((15 * Foundation.exp(-0.4 * z + 0.8 * generator.nextNormal())).rounded())
        var highRisk = 0
        if trackers > 0, generator.nextUnit() >= 0.12 {
            let share = min(max(0.18 - 0.07 * z + 0.1 * generator.nextNormal(), 0.01), 0.9)
            highRisk = max(1, Int((share * Double(trackers)).rounded()))
        }
        var tools: Set<ProtectionTool> = []
        for tool in ProtectionTool.allCases {
            let base = SyntheticPopulation.toolBaseRates[tool] ?? 0.05
            let logit = Foundation.log(base / (1 - base)) + 1.2 * z
            if generator.nextUnit() < 1 / (1 + Foundation.exp(-logit)) {
                tools.insert(tool)
            }
        }
        var region: Region?
        if generator.nextUnit() < 0.6 {
            var u = generator.nextUnit()
            region = .oceania
            for (candidate, share) in self.regionShares {
                if u < share {
                    region = candidate
                    break
                }
                u -= share
            }
        }
        return SyntheticUser(
            score: score,
            trackerCount: max(trackers, 0),
            highRiskEvents: highRisk,
            categoryEvents: Self.categories(trackers: max(trackers, 0), using: &generator),
            tools: tools,
            region: region
        )
    }

    private static func categories(trackers: Int, using generator: inout some RandomNumberGenerator) -> [CategoryEvents]
    {
        guard trackers > 0 else { return [] }
        var weights = (1...self.categoryPopularity.count).map { 1 / Foundation.pow(Double($0), 1.1) }
        var favourites: [WebsiteCategory] = []
        for _ in 0..<3 {
            let total = weights.reduce(0, +)
            var u = generator.nextUnit() * total
            var chosen = weights.count - 1
            for (index, weight) in weights.enumerated() where weight > 0 {
                if u < weight {
                    chosen = index
                    break
                }
                u -= weight
            }
            favourites.append(self.categoryPopularity[chosen])
            weights[chosen] = 0
        }
        let first = Int((0.5 * Double(trackers)).rounded(.up))
        let second = Int((0.3 * Double(trackers)).rounded())
        let third = max(trackers - first - second, 0)
        return zip(favourites, [first, min(second, trackers - first), third])
            .filter { $0.1 > 0 }
            .map { CategoryEvents(category: $0.0, count: $0.1) }
    }
}

/// The true value of every wire question for one user (what a report would carry before
/// randomization).
public struct TrueWireValues: Hashable, Sendable {
    /// Decile of the anonymized score.
    public var scoreDecile: Int
    /// Tracker bucket 0...5.
    public var trackersBucket: Int
    /// Risk bucket 0...3.
    public var riskBucket: Int
    /// Top three folded site categories, in canonical order.
    public var topCategories: [SiteCategory]
    /// Grade of the anonymized score.
    public var reportedGrade: Grade
    /// Tools in use.
    public var tools: Set<ProtectionTool>
    /// Shared region, if any.
    public var region: Region?

    /// Creates true values.
    public init(
        scoreDecile: Int,
        trackersBucket: Int,
        riskBucket: Int,
        topCategories: [SiteCategory],
        reportedGrade: Grade,
        tools: Set<ProtectionTool>,
        region: Region?
    ) {
        self.scoreDecile = scoreDecile
        self.trackersBucket = trackersBucket
        self.riskBucket = riskBucket
        self.topCategories = topCategories
        self.reportedGrade = reportedGrade
        self.tools = tools
        self.region = region
    }

    /// The values PrivacyCore derived (``TrueReportValues``).
    public init(_ values: TrueReportValues) {
        self.init(
            scoreDecile: values.scoreDecile,
            trackersBucket: values.trackersBucket,
            riskBucket: values.riskBucket,
            topCategories: values.topCategories,
            reportedGrade: values.grade,
            tools: values.tools,
            region: values.region
        )
    }

    /// The secondary report types this user can send: all but region-grade always (a user without
    /// categories reports `.other`, so which types a user sends never depends on the data);
    /// region-grade only with a shared region.
    public var allowedSecondaryTypes: [ReportType] {
        ReportType.allCases.filter { type in
            switch type {
            case .score: false
            case .regionGrade: self.region != nil
            case .trackers, .risk, .category, .tool: true
            }
        }
    }

    /// The true (not randomized) report of `type`; the category report samples one of the top
    /// categories and the tool report draws its tool uniformly, both with `generator`.
    public func report(of type: ReportType, using generator: inout some RandomNumberGenerator) -> WireReport {
        switch type {
        case .score:
            return .score(decile: self.scoreDecile)
        case .trackers:
            return .trackers(bucket: self.trackersBucket)
        case .risk:
            return .risk(bucket: self.riskBucket)
        case .category:
            guard !self.topCategories.isEmpty else { return .category(.other) }
            return .category(self.topCategories[Int.random(in: 0..<self.topCategories.count, using: &generator)])
        case .regionGrade:
            return .regionGrade(region: self.region ?? .northAmerica, grade: self.reportedGrade)
        case .tool:
            let tool = ProtectionTool.allCases[Int.random(in: 0..<ProtectionTool.allCases.count, using: &generator)]
            return .tool(tool, isAGrade: self.reportedGrade == .a, usesTool: self.tools.contains(tool))
        }
    }
}
