public import Foundation
import PrivacyCore

/// Everything the community screen shows for one user and one epoch: figures, texts and lessons.
public struct CommunityDashboard: Hashable, Sendable, Codable {
    /// Network-wide statistics.
    public var stats: CommunityStats
    /// The user against the network.
    public var comparison: CommunityComparison
    /// Tools whose usage among A-grade peers may be shown, most used first.
    public var popularTools: [ToolUsage]
    /// How many epochs the tool and region figures pool (1: this epoch only).
    public var subPopulationEpochs: Int
    /// The display thresholds the figures were made with.
    public var policy: DisplayPolicy
    /// Percent of peers per tracker bucket (0, 1–5, 6–15, 16–30, 31–50, 51+).
    public var trackerDistribution: Displayed<[Estimate]>
    /// Percent of peers per risk bucket (0, under 10%, 10–30%, over 30%).
    public var riskDistribution: Displayed<[Estimate]>
    /// Most reported site categories.
    public var topCategories: Displayed<[CategoryShare]>
    /// Where the user leads or lags the network.
    public var areas: [AreaComparison]
    /// Grade and region rows.
    public var leaderboard: Leaderboard
    /// Change of the network average since the previous usable epoch.
    public var weeklyChange: ScoreTrend?
    /// Trend of the network average over the stored epochs.
    public var overallTrend: ScoreTrend?
    /// The user's own change.
    public var ownChange: OwnScoreTrend?
    /// Lessons for the user's weak spots and the recommended tools.
    public var education: [EducationTopic]
    /// The dashboard's sentences, in display order.
    public var texts: [String]

    /// Builds the dashboard.
    /// - Parameters:
    ///   - estimates: this epoch's estimates.
    ///   - profile: the user's own values.
    ///   - history: stored snapshots of earlier epochs (this epoch's is added when it has enough data).
    ///   - ownHistory: the user's own past scores.
    ///   - epoch: this epoch's number.
    ///   - lastUpdated: when the estimates were computed.
    ///   - epochProgress: elapsed fraction of the epoch.
    public init(
        estimates: CommunityEstimates,
        profile: LocalProfile,
        history: [AggregateSnapshot] = [],
        ownHistory: [OwnScoreRecord] = [],
        epoch: Int = 0,
        lastUpdated: Date,
        epochProgress: Double
    ) {
        self.stats = CommunityStats(estimates: estimates, lastUpdated: lastUpdated, epochProgress: epochProgress)
        self.comparison = CommunityComparison(profile: profile, estimates: estimates)
        self.subPopulationEpochs = estimates.pooledEpochs
        self.policy = estimates.policy
        self.popularTools = ProtectionTool.allCases
            .compactMap { estimates.toolUsage($0).value }
            .filter { $0.shareAmongAGrade != nil }
            .sorted { ($0.shareAmongAGrade?.value ?? 0) > ($1.shareAmongAGrade?.value ?? 0) }
        self.trackerDistribution = Self.percent(estimates.trackerDistribution)
        self.riskDistribution = Self.percent(estimates.riskDistribution)
        self.topCategories = estimates.topCategories()
        self.areas = [
            AreaComparison(
                area: .trackers,
                userBucket: profile.trackersBucket,
                histogram: estimates.trackers,
                policy: estimates.policy
            ),
            AreaComparison(
                area: .risk,
                userBucket: profile.riskBucket,
                histogram: estimates.risk,
                policy: estimates.policy
            ),
        ]
        self.leaderboard = Leaderboard(estimates: estimates, profile: profile)
        let analysis = TrendAnalysis(policy: estimates.policy)
        let snapshots = history.filter { $0.epoch != epoch } + [AggregateSnapshot(epoch: epoch, estimates: estimates)]
        self.weeklyChange = analysis.latestChange(snapshots)
        self.overallTrend = analysis.overallTrend(snapshots)
        self.ownChange = analysis.ownScoreChange(
            ownHistory.filter { $0.epoch != epoch } + [OwnScoreRecord(epoch: epoch, score: profile.score)]
        )
        var topics = EducationTopic.topics(for: profile)
        for recommendation in self.comparison.recommendations where !topics.contains(recommendation.topic) {
            topics.append(recommendation.topic)
        }
        self.education = topics

        var texts = [
            InsightTexts.networkStatus(participants: estimates.participants),
            InsightTexts.rank(betterThan: self.comparison.betterThan),
            InsightTexts.averageComparison(networkAverage: self.comparison.networkAverage, userScore: profile.score),
        ]
        if let top = self.popularTools.first {
            texts.append(InsightTexts.toolPopularity(.shown(top), tool: top.tool))
        } else {
            texts.append(InsightTexts.toolPopularity(estimates.toolUsage(.uBlockOrigin), tool: .uBlockOrigin))
        }
        texts.append(InsightTexts.overallTrend(self.overallTrend))
        texts.append(InsightTexts.weeklyChange(self.weeklyChange))
        if let own = InsightTexts.ownChange(self.ownChange) {
            texts.append(own)
        }
        texts.append(
            InsightTexts.region(
                profile.region.map { estimates.regionalStats($0) } ?? .needsMoreReports(have: 0, neededReports: 0),
                region: profile.region
            )
        )
        texts.append(InsightTexts.topCategories(self.topCategories))
        texts += self.comparison.recommendations.map(\.message)
        self.texts = texts
    }

    private static func percent(_ figure: Displayed<[Estimate]>) -> Displayed<[Estimate]> {
        switch figure {
        case .shown(let estimates): .shown(estimates.map { $0.scaled(by: 100) })
        case .needsMoreReports(let have, let needed): .needsMoreReports(have: have, neededReports: needed)
        }
    }
}

/// Where the user stands in one measured area compared with the network.
public struct AreaComparison: Hashable, Sendable, Codable {
    /// A measured area.
    public enum Area: String, Hashable, Sendable, Codable {
        /// The number of distinct trackers.
        case trackers
        /// The share of high-risk trackers.
        case risk
    }

    /// Where the user stands, claimed only when the interval supports it.
    public enum Standing: String, Hashable, Sendable, Codable {
        /// Most peers (interval above 50%) do worse than the user.
        case ahead
        /// Most peers (interval above 50%) do better than the user.
        case behind
        /// Neither can be claimed.
        case similar
        /// Fewer than K reports of the area's type.
        case gatheringData = "gathering_data"
    }

    /// The area.
    public var area: Area
    /// The user's bucket.
    public var userBucket: Int
    /// Percent of peers in a better (lower) bucket, when shown.
    public var peersBetter: Estimate?
    /// Percent of peers in a worse (higher) bucket, when shown.
    public var peersWorse: Estimate?
    /// The resulting standing.
    public var standing: Standing

    /// Compares `userBucket` with the area's histogram.
    public init(area: Area, userBucket: Int, histogram: HistogramEstimator, policy: DisplayPolicy) {
        self.area = area
        self.userBucket = userBucket
        guard histogram.total >= policy.subPopulationMinimum else {
            self.standing = .gatheringData
            return
        }
        let size = histogram.counts.count
        let better = histogram.linear(weights: (0..<size).map { $0 < userBucket ? 1 : 0 }, clampedTo: 0...1)
        let worse = histogram.linear(weights: (0..<size).map { $0 > userBucket ? 1 : 0 }, clampedTo: 0...1)
        self.peersBetter = better.scaled(by: 100)
        self.peersWorse = worse.scaled(by: 100)
        if better.lower > 0.5 {
            self.standing = .behind
        } else if worse.lower > 0.5 {
            self.standing = .ahead
        } else {
            self.standing = .similar
        }
    }
}
