public import PrivacyCore

/// Every community statistic of one epoch, estimated from its wire reports alone.
///
/// Shares are fractions 0–1 with 95% intervals; the display policy (``DisplayPolicy``) decides which
/// figures may be shown. The only input is the reports (or their ``ReportTally``): no peer ids,
/// arrival times or anything else.
///
/// The figures about a small sub-population — a tool among A-grade peers, a region — may come from the
/// reports of the last few epochs together (``pooledTally``, ``pooledEpochs``): each user sends one
/// secondary report per epoch of one of several types, so one epoch holds few reports of any one tool or
/// region. Pooled tallies are sums of per-epoch counts, so the estimators and their intervals apply
/// unchanged; a user may count once per epoch in the pool (another epoch's report is a fresh
/// instantaneous randomization, and the tool is drawn anew for each report), which the figures say
/// ("over the last N epochs").
public struct CommunityEstimates: Sendable {
    /// The counts the estimates come from.
    public let tally: ReportTally
    /// The display thresholds.
    public let policy: DisplayPolicy
    /// Score statistics.
    public let score: ScoreEstimates
    /// Tracker bucket histogram.
    public let trackers: HistogramEstimator
    /// Risk bucket histogram.
    public let risk: HistogramEstimator
    /// Site category histogram (each report is one category sampled from a user's top three).
    public let categories: HistogramEstimator
    /// Grade histogram per region, for regions with at least one report (pooled).
    public let regions: [Region: HistogramEstimator]
    /// Cell histogram (isAGrade·2 + usesTool) per drawn tool, for tools with at least one report (pooled).
    public let tools: [ProtectionTool: HistogramEstimator]
    /// The counts of the pooled epochs (this epoch's included) that the tool and region figures come from;
    /// equal to ``tally`` when nothing is pooled.
    public let pooledTally: ReportTally
    /// How many epochs ``pooledTally`` spans (1: this epoch only).
    public let pooledEpochs: Int
    /// Score statistics of the pooled epochs: the A-grade share behind the tool figures.
    public let pooledScore: ScoreEstimates

    /// Estimates from a set of wire reports.
    public init(reports: some Sequence<WireReport>, policy: DisplayPolicy = .standard) {
        self.init(tally: ReportTally(reports), policy: policy)
    }

    /// Estimates from per-type counts; the tool and region figures come from `pooled` (the counts of the last
    /// `pooledEpochs` epochs, this one's included) when given.
    public init(
        tally: ReportTally,
        policy: DisplayPolicy = .standard,
        pooled: ReportTally? = nil,
        pooledEpochs: Int = 1
    ) {
        let pooledTally = pooled ?? tally
        self.tally = tally
        self.policy = policy
        self.pooledTally = pooledTally
        self.pooledEpochs = pooled == nil ? 1 : max(pooledEpochs, 1)
        self.score = ScoreEstimates(counts: tally.score)
        self.pooledScore = pooled == nil ? self.score : ScoreEstimates(counts: pooledTally.score)
        self.trackers = HistogramEstimator(counts: tally.trackers, type: .trackers)
        self.risk = HistogramEstimator(counts: tally.risk, type: .risk)
        self.categories = HistogramEstimator(counts: tally.category, type: .category)
        self.regions = pooledTally.regionGrade.mapValues { HistogramEstimator(counts: $0, type: .regionGrade) }
        self.tools = pooledTally.tool.mapValues { HistogramEstimator(counts: $0, type: .tool) }
    }

    /// Number of score reports: every participating user sends exactly one per epoch, so this is the
    /// number of users heard from this epoch.
    public var participants: Int { self.score.reports }

    /// The network's average score (points), or "gathering data".
    public var averageScore: Displayed<Estimate> {
        self.policy.network(self.participants) { self.score.average }
    }

    /// The network's median score (points), or "gathering data".
    public var medianScore: Displayed<Double> {
        self.policy.network(self.participants) { self.score.median }
    }

    /// Share of users per grade, or "gathering data".
    public var gradeDistribution: Displayed<[GradeShare]> {
        self.policy.network(self.participants) {
            let grades = self.score.grades
            return Grade.allCases.map { GradeShare(grade: $0, share: grades[$0]!) }
        }
    }

    /// "Better than X%" for `score` (fraction 0–1, ties count half), or "gathering data".
    public func betterThan(score: Int) -> Displayed<Estimate> {
        self.policy.network(self.participants) { self.score.betterThan(score: score) }
    }

    /// The share of users at or below `score` (fraction 0–1), or "gathering data".
    public func percentile(score: Int) -> Displayed<Estimate> {
        self.policy.network(self.participants) { self.score.percentile(score: score) }
    }

    /// Share of users per tracker bucket (0, 1–5, 6–15, 16–30, 31–50, 51+), or "needs more reports".
    public var trackerDistribution: Displayed<[Estimate]> {
        self.policy.subPopulation(self.trackers.total) { (0..<6).map { self.trackers.share($0) } }
    }

    /// Share of users per risk bucket (0, under 10%, 10–30%, over 30%), or "needs more reports".
    public var riskDistribution: Displayed<[Estimate]> {
        self.policy.subPopulation(self.risk.total) { (0..<4).map { self.risk.share($0) } }
    }

    /// The `limit` most reported site categories with their share of category reports.
    public func topCategories(limit: Int = 3) -> Displayed<[CategoryShare]> {
        self.policy.subPopulation(self.categories.total) {
            SiteCategory.allCases
                .map { CategoryShare(category: $0, share: self.categories.share($0.index)) }
                .sorted {
                    $0.share.value != $1.share.value
                        ? $0.share.value > $1.share.value : $0.category.index < $1.category.index
                }
                .prefix(max(limit, 0))
                .map { $0 }
        }
    }

    /// Regional statistics for `region` (over the pooled epochs), shown only with at least K reports from it.
    public func regionalStats(_ region: Region) -> Displayed<RegionalStats> {
        let reports = self.pooledTally.count(in: region)
        return self.policy.subPopulation(reports) {
            let histogram = self.regions[region]!
            let shares = Grade.allCases.map { GradeShare(grade: $0, share: histogram.share($0.index)) }
            var cumulative = 0.0
            var typical = Grade.f
            for grade in Grade.allCases {
                cumulative += histogram.frequencies[grade.index]
                if cumulative >= 0.5 {
                    typical = grade
                    break
                }
            }
            return RegionalStats(region: region, reports: reports, gradeShares: shares, typicalGrade: typical)
        }
    }

    /// Regional statistics of every region, in `Region.allCases` order.
    public var regionalData: [Region: Displayed<RegionalStats>] {
        Dictionary(uniqueKeysWithValues: Region.allCases.map { ($0, self.regionalStats($0)) })
    }

    /// How A-grade peers (and the others) use `tool` (over the pooled epochs).
    ///
    /// The figure is shown when at least K tool reports drew the tool (privacy-design.md: K reports of
    /// the type support it) *and* an estimated K of all tool reports come from A-grade users, so the
    /// A-grade sub-population as a whole is not smaller than K; otherwise it says how many more tool
    /// reports are needed. With few A-grade reports per tool the interval is wide, and is shown as such.
    ///
    /// The tool is drawn uniformly and independently of the user, so the A-grade share of tool
    /// reports is the network's A-grade share. Once the network minimum of score reports is met, that
    /// share comes from the score reports of the same epochs (ten times as many, at ε = 2: far more
    /// precise), and the figure is `f̂(A-grade, uses T) / P̂(A)`, with a delta-method interval over both
    /// independent estimates. Below it, the ratio of the tool histogram's own cells is used. The ratio of
    /// two noisy cells is strongly biased towards 0% or 100% when A-grade reports are few, which is why
    /// the score-based denominator is preferred.
    public func toolUsage(_ tool: ProtectionTool) -> Displayed<ToolUsage> {
        let reports = self.pooledTally.count(of: tool)
        let minimum = self.policy.subPopulationMinimum
        guard reports >= minimum, let histogram = self.tools[tool] else {
            return .needsMoreReports(have: reports, neededReports: minimum - reports)
        }
        let fromScores = self.pooledScore.reports >= self.policy.networkMinimum
        let aGradeShare: Double
        if fromScores {
            aGradeShare = min(max(self.pooledScore.histogram.debiased[9], 0), 1)
        } else {
            aGradeShare = histogram.frequencies[2] + histogram.frequencies[3]
        }
        let toolReports = self.pooledTally.count(of: .tool)
        guard aGradeShare * Double(toolReports) >= Double(minimum) else {
            let required = (Double(minimum) / max(aGradeShare, 0.01)).rounded(.up)
            return .needsMoreReports(have: reports, neededReports: max(Int(required) - toolReports, 1))
        }
        let aGradeReports = aGradeShare * Double(reports)
        let usage: ToolUsage
        if fromScores {
            let aGradeError = self.pooledScore.histogram.standardError(weights: (0..<10).map { $0 == 9 ? 1 : 0 })
            usage = ToolUsage(
                tool: tool,
                reports: reports,
                estimatedAGradeReports: aGradeReports,
                shareAmongAGrade: Self.share(histogram, cell: 3, base: aGradeShare, baseError: aGradeError),
                shareAmongOthers: Self.share(histogram, cell: 1, base: 1 - aGradeShare, baseError: aGradeError)
            )
        } else {
            usage = ToolUsage(
                tool: tool,
                reports: reports,
                estimatedAGradeReports: aGradeReports,
                shareAmongAGrade: histogram.conditionalShare(3, among: 2),
                shareAmongOthers: histogram.conditionalShare(1, among: 0)
            )
        }
        return .shown(usage)
    }

    /// `f̂_cell / base` with the delta-method interval of a ratio of independent estimates.
    private static func share(_ histogram: HistogramEstimator, cell: Int, base: Double, baseError: Double) -> Estimate?
    {
        guard base > 0 else { return nil }
        let numerator = histogram.debiased[cell]
        let variance =
            histogram.covariance(cell, cell) / (base * base)
            + numerator * numerator * baseError * baseError / (base * base * base * base)
        return Estimate(
            normal: numerator / base,
            standardError: variance.squareRoot(),
            supportingReports: histogram.total,
            clampedTo: 0...1
        )
    }
}

/// The estimated share of users with one grade.
public struct GradeShare: Hashable, Sendable, Codable {
    /// The grade.
    public var grade: Grade
    /// Share of users, 0–1.
    public var share: Estimate

    /// Creates a grade share.
    public init(grade: Grade, share: Estimate) {
        self.grade = grade
        self.share = share
    }
}

/// The estimated share of category reports naming one site category.
public struct CategoryShare: Hashable, Sendable, Codable {
    /// The category.
    public var category: SiteCategory
    /// Share of category reports, 0–1 (each user reports one of their top three).
    public var share: Estimate

    /// Creates a category share.
    public init(category: SiteCategory, share: Estimate) {
        self.category = category
        self.share = share
    }
}

/// Statistics of one region (the plan's `RegionalStats`).
public struct RegionalStats: Hashable, Sendable, Codable {
    /// The region.
    public var region: Region
    /// Number of region-grade reports naming the region (the region is sent as chosen, so this count
    /// is exact: the number of users who share this region and drew this report type).
    public var reports: Int
    /// Share of the region's users per grade.
    public var gradeShares: [GradeShare]
    /// The grade of the region's median user.
    public var typicalGrade: Grade

    /// Creates regional statistics.
    public init(region: Region, reports: Int, gradeShares: [GradeShare], typicalGrade: Grade) {
        self.region = region
        self.reports = reports
        self.gradeShares = gradeShares
        self.typicalGrade = typicalGrade
    }
}

/// How one protection tool is used among A-grade peers and the others.
public struct ToolUsage: Hashable, Sendable, Codable {
    /// The tool.
    public var tool: ProtectionTool
    /// Tool reports that drew this tool.
    public var reports: Int
    /// Estimated number of those reports that come from A-grade users.
    public var estimatedAGradeReports: Double
    /// Share of A-grade peers who use the tool, 0–1; `nil` when no A-grade peer is estimated.
    public var shareAmongAGrade: Estimate?
    /// Share of the other peers who use the tool, 0–1; `nil` when none is estimated.
    public var shareAmongOthers: Estimate?

    /// Creates a tool usage figure.
    public init(
        tool: ProtectionTool,
        reports: Int,
        estimatedAGradeReports: Double,
        shareAmongAGrade: Estimate?,
        shareAmongOthers: Estimate?
    ) {
        self.tool = tool
        self.reports = reports
        self.estimatedAGradeReports = estimatedAGradeReports
        self.shareAmongAGrade = shareAmongAGrade
        self.shareAmongOthers = shareAmongOthers
    }
}
