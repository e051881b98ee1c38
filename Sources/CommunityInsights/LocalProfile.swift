public import PrivacyCore

/// The user's own position on every question the wire reports ask. It never leaves the device;
/// comparisons and recommendations read it.
///
/// The wire values are PrivacyCore's ``TrueReportValues`` of the report and its anonymized summary
/// (privacy-design.md, "Wire reports"), so the user is compared on exactly what their reports carry.
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
    /// Risk bucket 0...3 of the high/critical share: 0, under 10%, 10–30%, over 30%.
    public var riskBucket: Int
    /// Up to three most frequent site categories (sensitive ones folded into `.other`), in canonical order.
    public var topCategories: [SiteCategory]
    /// The protection tools in use.
    public var tools: Set<ProtectionTool>
    /// The broad region of the report (shown locally even when it is not shared).
    public var region: Region?

    /// The profile of a validated report and its anonymized summary.
    public init(report: PrivacyReport, summary: AnonymousPrivacyData) {
        let truth = TrueReportValues(report: report, summary: summary)
        self.score = report.score
        self.grade = Grade(score: report.score)
        self.anonymizedScore = summary.privacyScore
        self.scoreDecile = truth.scoreDecile
        self.reportedGrade = truth.grade
        self.trackerCount = report.distinctTrackerCount
        self.trackersBucket = truth.trackersBucket
        self.riskBucket = truth.riskBucket
        self.topCategories = truth.topCategories
        self.tools = truth.tools
        self.region = report.region
    }

    /// The profile of a local report, anonymized here with ``anonymizeForP2P(_:settings:now:)``.
    /// - Throws: ``PrivacyReportError`` if the report breaks the format's rules.
    public init(report: PrivacyReport) throws(PrivacyReportError) {
        // Only the summary's values matter here, not its time stamp; the region is kept locally either way.
        let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: EpochSchedule.origin)
        self.init(report: report, summary: summary)
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
