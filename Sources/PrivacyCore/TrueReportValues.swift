/// The true (not yet randomized) answers to the six wire report questions, derived on the device.
///
/// They come from the anonymized summary where it has the answer: the score decile and the grade from the
/// rounded score, the top categories and the region from the summary. Two come from the local report:
/// - the trackers bucket uses the **uncapped** distinct tracker count, because the summary's cap of 50
///   cannot tell the "51+" bucket apart; the count never leaves the device except through the randomizer;
/// - the risk bucket uses exact event counts (the summary's whole percents could move a share across the
///   10% or 30% boundary).
public struct TrueReportValues: Hashable, Sendable {
    /// Score decile 0...9 of the rounded score.
    public let scoreDecile: Int
    /// Tracker bucket 0...5: 0, 1–5, 6–15, 16–30, 31–50, 51+ distinct tracker domains.
    public let trackersBucket: Int
    /// Risk bucket 0...3 of the share of high/critical events: 0, <10%, 10–30%, >30%.
    public let riskBucket: Int
    /// The summary's top categories (0 to 3, canonical order).
    public let topCategories: [SiteCategory]
    /// The grade of the rounded score.
    public let grade: Grade
    /// The region, present only when the user allowed sharing it.
    public let region: Region?
    /// The protection tools in use.
    public let tools: Set<ProtectionTool>

    /// The true values of a validated report and its summary.
    public init(report: PrivacyReport, summary: AnonymousPrivacyData) {
        self.scoreDecile = PrivacyCore.scoreDecile(summary.privacyScore)
        self.trackersBucket = Self.trackersBucket(distinctTrackers: report.distinctTrackerCount)
        let highOrCritical = report.events.count { $0.riskLevel >= .high }
        self.riskBucket = Self.riskBucket(highOrCritical: highOrCritical, total: report.events.count)
        self.topCategories = summary.websiteCategories
        self.grade = summary.grade
        self.region = summary.region
        self.tools = report.tools
    }

    /// The tracker bucket of a distinct tracker count: 0, 1–5, 6–15, 16–30, 31–50, 51+.
    public static func trackersBucket(distinctTrackers count: Int) -> Int {
        switch count {
        case ...0: 0
        case 1...5: 1
        case 6...15: 2
        case 16...30: 3
        case 31...50: 4
        default: 5
        }
    }

    /// The risk bucket of `highOrCritical` out of `total` events: 0 (none, or no events), <10%,
    /// 10–30% (both ends included), >30%. Exact integer arithmetic.
    public static func riskBucket(highOrCritical: Int, total: Int) -> Int {
        guard total > 0, highOrCritical > 0 else { return 0 }
        if highOrCritical * 10 < total { return 1 }
        if highOrCritical * 10 <= total * 3 { return 2 }
        return 3
    }

    /// One randomized wire report of `type`, or nil when this user cannot answer it (regionGrade without
    /// a shared region).
    ///
    /// - category: one of the top categories drawn uniformly (`.other` when there are none, so that which
    ///   types a user sends never depends on the data);
    /// - tool: a tool T drawn uniformly from ``ProtectionTool/allCases``, then the cell (is A-grade, uses T);
    /// - regionGrade: the region as is, the grade randomized over the 5 grades A–F of ``Grade`` (the design
    ///   note says "1 of 6"; our vocabulary has 5 grades, and ``ReportType/domainSize`` is 5).
    public func wireReport(
        _ type: ReportType,
        secret: RandomizerSecret,
        using rng: inout some RandomNumberGenerator
    ) -> WireReport? {
        let randomizer = type.twoLayerRandomizer
        switch type {
        case .score:
            return .score(decile: randomizer.randomize(trueIndex: self.scoreDecile, secret: secret, using: &rng))
        case .trackers:
            return .trackers(
                bucket: randomizer.randomize(trueIndex: self.trackersBucket, secret: secret, using: &rng)
            )
        case .risk:
            return .risk(bucket: randomizer.randomize(trueIndex: self.riskBucket, secret: secret, using: &rng))
        case .category:
            let category =
                self.topCategories.isEmpty
                ? SiteCategory.other : self.topCategories[rng.nextIndex(below: self.topCategories.count)]
            let index = randomizer.randomize(trueIndex: category.index, secret: secret, using: &rng)
            return .category(SiteCategory.allCases[index])
        case .regionGrade:
            guard let region = self.region else { return nil }
            let index = randomizer.randomize(trueIndex: self.grade.index, secret: secret, using: &rng)
            return .regionGrade(region: region, grade: Grade.allCases[index])
        case .tool:
            let tool = ProtectionTool.allCases[rng.nextIndex(below: ProtectionTool.allCases.count)]
            let cell = (self.grade == .a ? 2 : 0) + (self.tools.contains(tool) ? 1 : 0)
            let index = randomizer.randomize(trueIndex: cell, question: tool.index, secret: secret, using: &rng)
            return .tool(tool, isAGrade: index >= 2, usesTool: index % 2 == 1)
        }
    }
}
