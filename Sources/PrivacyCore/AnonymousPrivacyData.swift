public import Foundation

/// The original plan's minimized record (privacy-design.md, layer 2). Computed on the device, shown to
/// the user, and the source of the wire reports' true values; never sent as is.
///
/// Invariants (checked by the validating initializer):
/// - `privacyScore` is a multiple of 5 in 0...100, and `grade` is the grade of that rounded score;
/// - `trackerCount` is in 0...50 (distinct tracker domains, capped);
/// - `riskDistribution` holds whole percents summing to 100, or all zeros exactly when there are no trackers;
/// - `websiteCategories` has at most 3 distinct categories in canonical order (``SiteCategory/allCases``),
///   empty exactly when there are no trackers;
/// - `timestamp` is a whole hour (UTC);
/// - `region` is present only if the user allowed sharing it.
public struct AnonymousPrivacyData: Hashable, Sendable {
    /// The tracker count cap.
    public static let maximumTrackerCount = 50
    /// The most categories the summary keeps.
    public static let maximumCategories = 3

    /// The score rounded to the nearest 5.
    public let privacyScore: Int
    /// The grade of ``privacyScore``.
    public let grade: Grade
    /// Distinct tracker domains, capped at ``maximumTrackerCount``.
    public let trackerCount: Int
    /// The share of events per risk level, in whole percents.
    public let riskDistribution: RiskDistribution
    /// The top site categories (at most 3), in canonical order.
    public let websiteCategories: [SiteCategory]
    /// When the summary was made, rounded to the nearest hour.
    public let timestamp: Date
    /// The broad region, only if the user allowed sharing it.
    public let region: Region?

    /// Builds a summary after checking every invariant.
    /// - Throws: ``AnonymousPrivacyDataError`` naming the first violated invariant.
    public init(
        privacyScore: Int,
        grade: Grade,
        trackerCount: Int,
        riskDistribution: RiskDistribution,
        websiteCategories: [SiteCategory],
        timestamp: Date,
        region: Region?
    ) throws(AnonymousPrivacyDataError) {
        guard (0...100).contains(privacyScore) else { throw .scoreOutOfRange(privacyScore) }
        guard privacyScore % 5 == 0 else { throw .scoreNotRounded(privacyScore) }
        guard grade == Grade(score: privacyScore) else {
            throw .gradeMismatch(score: privacyScore, grade: grade)
        }
        guard (0...Self.maximumTrackerCount).contains(trackerCount) else {
            throw .trackerCountOutOfRange(trackerCount)
        }
        for level in RiskLevel.allCases where !(0...100).contains(riskDistribution[level]) {
            throw .riskShareOutOfRange(level, riskDistribution[level])
        }
        let riskSum = RiskLevel.allCases.reduce(0) { $0 + riskDistribution[$1] }
        guard riskSum == (trackerCount == 0 ? 0 : 100) else {
            throw .riskDistributionSum(riskSum, trackerCount: trackerCount)
        }
        guard websiteCategories.count <= Self.maximumCategories else {
            throw .tooManyCategories(websiteCategories.count)
        }
        guard zip(websiteCategories, websiteCategories.dropFirst()).allSatisfy({ $0.index < $1.index }) else {
            throw .categoriesNotCanonical(websiteCategories)
        }
        guard websiteCategories.isEmpty == (trackerCount == 0) else {
            throw .categoriesInconsistent(count: websiteCategories.count, trackerCount: trackerCount)
        }
        let seconds = timestamp.timeIntervalSince1970
        guard seconds.isFinite, seconds.truncatingRemainder(dividingBy: 3600) == 0 else {
            throw .timestampNotOnTheHour(seconds)
        }
        self.privacyScore = privacyScore
        self.grade = grade
        self.trackerCount = trackerCount
        self.riskDistribution = riskDistribution
        self.websiteCategories = websiteCategories
        self.timestamp = timestamp
        self.region = region
    }
}

/// Share of tracker events per risk level, in whole percents (largest-remainder rounding, so the four
/// values sum to exactly 100 when there are events, and are all 0 when there are none).
public struct RiskDistribution: Hashable, Sendable, Codable {
    /// Percent of low-risk events.
    public var low: Int
    /// Percent of medium-risk events.
    public var medium: Int
    /// Percent of high-risk events.
    public var high: Int
    /// Percent of critical-risk events.
    public var critical: Int

    /// A distribution from explicit percents (validated where it is used, in ``AnonymousPrivacyData``).
    public init(low: Int, medium: Int, high: Int, critical: Int) {
        self.low = low
        self.medium = medium
        self.high = high
        self.critical = critical
    }

    /// The percent of one level.
    public subscript(level: RiskLevel) -> Int {
        switch level {
        case .low: self.low
        case .medium: self.medium
        case .high: self.high
        case .critical: self.critical
        }
    }

    /// Whole percents from event counts per level; ties in the remainder go to the higher risk level.
    public init(counts: [RiskLevel: Int]) {
        let total = RiskLevel.allCases.reduce(0) { $0 + max(counts[$1] ?? 0, 0) }
        var percents: [RiskLevel: Int] = [:]
        guard total > 0 else {
            self.init(low: 0, medium: 0, high: 0, critical: 0)
            return
        }
        var remainders: [(level: RiskLevel, remainder: Int)] = []
        for level in RiskLevel.allCases {
            let scaled = max(counts[level] ?? 0, 0) * 100
            percents[level] = scaled / total
            remainders.append((level, scaled % total))
        }
        var leftover = 100 - percents.values.reduce(0, +)
        let order = remainders.sorted { lhs, rhs in
            lhs.remainder != rhs.remainder ? lhs.remainder > rhs.remainder : lhs.level > rhs.level
        }
        for entry in order where leftover > 0 {
            percents[entry.level, default: 0] += 1
            leftover -= 1
        }
        self.init(
            low: percents[.low] ?? 0,
            medium: percents[.medium] ?? 0,
            high: percents[.high] ?? 0,
            critical: percents[.critical] ?? 0
        )
    }
}

/// Which invariant of ``AnonymousPrivacyData`` a value breaks.
public enum AnonymousPrivacyDataError: Error, Equatable, CustomStringConvertible {
    /// The score is outside 0...100.
    case scoreOutOfRange(Int)
    /// The score is not a multiple of 5.
    case scoreNotRounded(Int)
    /// The grade is not the grade of the (rounded) score.
    case gradeMismatch(score: Int, grade: Grade)
    /// The tracker count is outside 0...50.
    case trackerCountOutOfRange(Int)
    /// A risk share is outside 0...100 percent.
    case riskShareOutOfRange(RiskLevel, Int)
    /// The risk shares sum to something other than 100 (or 0 when there are no trackers).
    case riskDistributionSum(Int, trackerCount: Int)
    /// More than 3 categories.
    case tooManyCategories(Int)
    /// Categories repeated or out of canonical order.
    case categoriesNotCanonical([SiteCategory])
    /// Categories present without trackers, or missing with trackers.
    case categoriesInconsistent(count: Int, trackerCount: Int)
    /// The timestamp (seconds since 1970) is not a whole hour.
    case timestampNotOnTheHour(Double)

    public var description: String {
        switch self {
        case .scoreOutOfRange(let score): "privacy_score: \(score) is out of range (allowed: 0...100)"
        case .scoreNotRounded(let score): "privacy_score: \(score) is not a multiple of 5"
        case .gradeMismatch(let score, let grade):
            "grade: \(grade) does not match score \(score) (expected \(Grade(score: score)))"
        case .trackerCountOutOfRange(let count): "tracker_count: \(count) is out of range (allowed: 0...50)"
        case .riskShareOutOfRange(let level, let value):
            "risk_distribution.\(level.rawValue): \(value) is out of range (allowed: 0...100)"
        case .riskDistributionSum(let sum, let trackerCount):
            "risk_distribution: shares sum to \(sum), expected \(trackerCount == 0 ? 0 : 100)"
        case .tooManyCategories(let count): "website_categories: \(count) categories, at most 3"
        case .categoriesNotCanonical(let categories):
            "website_categories: \(categories.map(\.rawValue)) are not distinct and in canonical order"
        case .categoriesInconsistent(let count, let trackerCount):
            "website_categories: \(count) categories with tracker count \(trackerCount)"
        case .timestampNotOnTheHour(let seconds): "timestamp: \(seconds) is not a whole hour"
        }
    }
}

extension AnonymousPrivacyData: Codable {
    private enum CodingKeys: String, CodingKey {
        case privacyScore = "privacy_score"
        case grade
        case trackerCount = "tracker_count"
        case riskDistribution = "risk_distribution"
        case websiteCategories = "website_categories"
        case timestamp
        case region
    }

    /// Decodes and validates a summary (snake_case keys, timestamp as ISO 8601 UTC).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let timestampText = try container.decode(String.self, forKey: .timestamp)
        guard let timestamp = parseISO8601(timestampText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .timestamp,
                in: container,
                debugDescription: "not an ISO 8601 date-time: \(timestampText)"
            )
        }
        try self.init(
            privacyScore: container.decode(Int.self, forKey: .privacyScore),
            grade: container.decode(Grade.self, forKey: .grade),
            trackerCount: container.decode(Int.self, forKey: .trackerCount),
            riskDistribution: container.decode(RiskDistribution.self, forKey: .riskDistribution),
            websiteCategories: container.decode([SiteCategory].self, forKey: .websiteCategories),
            timestamp: timestamp,
            region: container.decodeIfPresent(Region.self, forKey: .region)
        )
    }

    /// Encodes the summary with snake_case keys and an ISO 8601 timestamp.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.privacyScore, forKey: .privacyScore)
        try container.encode(self.grade, forKey: .grade)
        try container.encode(self.trackerCount, forKey: .trackerCount)
        try container.encode(self.riskDistribution, forKey: .riskDistribution)
        try container.encode(self.websiteCategories, forKey: .websiteCategories)
        try container.encode(formatISO8601(self.timestamp), forKey: .timestamp)
        try container.encodeIfPresent(self.region, forKey: .region)
    }
}
