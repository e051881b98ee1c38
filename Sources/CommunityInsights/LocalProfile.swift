public import PrivacyCore

/// The user's own position on every question the wire reports ask, derived locally from their
/// ``PrivacyReport``. It never leaves the device; comparisons and recommendations read it.
///
/// The derivations follow privacy-design.md ("Wire reports"): the score decile and grades of the
/// anonymized (rounded to 5) score, the tracker count bucket, the high/critical risk share bucket and
/// the top 3 folded site categories. PrivacyCore's anonymizer is being written at the same time;
/// when it lands, ``init(report:)`` should read its `AnonymousPrivacyData` instead of re-deriving.
public struct LocalProfile: Hashable, Sendable, Codable {
    /// The exact local score, 0–100.
    public var score: Int
    /// The grade of the exact score (what the user sees as their own grade).
    public var grade: Grade
    /// The anonymized score (rounded to 5).
    public var anonymizedScore: Int
    /// The decile of the anonymized score, as a score report carries it.
    public var scoreDecile: Int
    /// The grade of the anonymized score, as region-grade and tool reports carry it.
    public var reportedGrade: Grade
    /// Number of distinct tracker domains seen.
    public var trackerCount: Int
    /// Tracker bucket 0...5: 0, 1–5, 6–15, 16–30, 31–50, 51+.
    public var trackersBucket: Int
    /// Share of events with high or critical risk (0 without events).
    public var highRiskShare: Double
    /// Risk bucket 0...3: 0, under 10%, 10–30%, over 30%.
    public var riskBucket: Int
    /// Up to three most frequent site categories (sensitive ones folded into `.other`), most
    /// frequent first, ties in canonical order.
    public var topCategories: [SiteCategory]
    /// The protection tools in use.
    public var tools: Set<ProtectionTool>
    /// The broad region, when the user shares it.
    public var region: Region?

    /// Derives the profile from a local report.
    public init(report: PrivacyReport) {
        self.score = min(max(report.score, 0), 100)
        self.grade = Grade(score: self.score)
        self.anonymizedScore = ScoreScale.anonymizedScore(self.score)
        self.scoreDecile = PrivacyCore.scoreDecile(self.anonymizedScore)
        self.reportedGrade = Grade(score: self.anonymizedScore)
        self.trackerCount = Set(report.events.map { $0.trackerDomain.lowercased() }).count
        self.trackersBucket = Self.trackersBucket(count: self.trackerCount)
        let risky = report.events.filter { $0.riskLevel >= .high }.count
        self.highRiskShare = report.events.isEmpty ? 0 : Double(risky) / Double(report.events.count)
        self.riskBucket = Self.riskBucket(share: self.highRiskShare)
        self.topCategories = Self.topCategories(report.events.map { SiteCategory(folding: $0.siteCategory) })
        self.tools = report.tools
        self.region = report.region
    }

    /// The tracker bucket of a count: 0, 1–5, 6–15, 16–30, 31–50, 51+ → 0...5.
    public static func trackersBucket(count: Int) -> Int {
        switch count {
        case ...0: 0
        case 1...5: 1
        case 6...15: 2
        case 16...30: 3
        case 31...50: 4
        default: 5
        }
    }

    /// The risk bucket of a high/critical share: 0, under 10%, 10–30%, over 30% → 0...3.
    public static func riskBucket(share: Double) -> Int {
        if share <= 0 { return 0 }
        if share < 0.1 { return 1 }
        if share <= 0.3 { return 2 }
        return 3
    }

    /// The three most frequent categories of `categories`, most frequent first, ties in canonical order.
    public static func topCategories(_ categories: [SiteCategory]) -> [SiteCategory] {
        var counts = Array(repeating: 0, count: SiteCategory.allCases.count)
        for category in categories {
            counts[category.index] += 1
        }
        return SiteCategory.allCases
            .filter { counts[$0.index] > 0 }
            .sorted { counts[$0.index] != counts[$1.index] ? counts[$0.index] > counts[$1.index] : $0.index < $1.index }
            .prefix(3)
            .map { $0 }
    }

    /// Human-readable label of a tracker bucket.
    public static func trackersBucketLabel(_ bucket: Int) -> String {
        ["no trackers", "1–5 trackers", "6–15 trackers", "16–30 trackers", "31–50 trackers", "more than 50 trackers"][
            min(max(bucket, 0), 5)
        ]
    }

    /// Human-readable label of a risk bucket.
    public static func riskBucketLabel(_ bucket: Int) -> String {
        [
            "no high-risk trackers", "under 10% high-risk trackers", "10–30% high-risk trackers",
            "over 30% high-risk trackers",
        ][min(max(bucket, 0), 3)]
    }
}
