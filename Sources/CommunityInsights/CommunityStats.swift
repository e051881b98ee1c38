public import Foundation
public import PrivacyCore

/// The network-wide statistics of one epoch (the plan's `CommunityStats`).
///
/// Scores are in points (0–100), shares in percent (0–100), both with 95% intervals.
public struct CommunityStats: Hashable, Sendable, Codable {
    /// Users heard from this epoch: the number of score reports (each participating user sends
    /// exactly one per epoch). Not the number of open connections: reports travel by gossip.
    public var connectedPeers: Int
    /// The network's average score in points, or "gathering data".
    public var averageScore: Displayed<Estimate>
    /// The network's median score in points, or "gathering data".
    public var medianScore: Displayed<Double>
    /// Percent of users per grade, A first, or "gathering data".
    public var scoreDistribution: Displayed<[GradeShare]>
    /// Per-region statistics, in `Region.allCases` order; each is withheld below K reports.
    public var regionalData: [RegionEntry]
    /// When these figures were estimated.
    public var lastUpdated: Date
    /// How complete the epoch's data is: the elapsed fraction of the epoch, 0–1. Reports are sent at
    /// uniformly random moments of the epoch, so about this share of the epoch's reports has arrived.
    public var dataFreshness: Double
    /// The report epoch these figures describe, when known.
    public var epoch: UInt32?
    /// Whether the figures are the previous, complete epoch's: just after an epoch boundary the new epoch has
    /// too few reports to show, so the node keeps showing the last complete epoch (``dataFreshness`` is then 1).
    public var isPreviousEpoch: Bool

    /// One region's entry.
    public struct RegionEntry: Hashable, Sendable, Codable {
        /// The region.
        public var region: Region
        /// Its statistics, or how many more reports they need.
        public var stats: Displayed<RegionalStats>

        /// Creates a region entry.
        public init(region: Region, stats: Displayed<RegionalStats>) {
            self.region = region
            self.stats = stats
        }
    }

    /// Builds the statistics from the epoch's estimates.
    /// - Parameters:
    ///   - estimates: the epoch's estimates.
    ///   - lastUpdated: when they were computed (injected: no clock is read here).
    ///   - epochProgress: the elapsed fraction of the epoch, clamped to 0–1.
    ///   - epoch: the report epoch the estimates come from, when known.
    ///   - isPreviousEpoch: whether that is the previous, complete epoch (shown while the current one has too few
    ///     reports).
    public init(
        estimates: CommunityEstimates,
        lastUpdated: Date,
        epochProgress: Double,
        epoch: UInt32? = nil,
        isPreviousEpoch: Bool = false
    ) {
        self.connectedPeers = estimates.participants
        self.averageScore = estimates.averageScore
        self.medianScore = estimates.medianScore
        switch estimates.gradeDistribution {
        case .shown(let shares):
            self.scoreDistribution = .shown(shares.map { GradeShare(grade: $0.grade, share: $0.share.scaled(by: 100)) })
        case .needsMoreReports(let have, let needed):
            self.scoreDistribution = .needsMoreReports(have: have, neededReports: needed)
        }
        self.regionalData = Region.allCases.map { RegionEntry(region: $0, stats: estimates.regionalStats($0)) }
        self.lastUpdated = lastUpdated
        self.dataFreshness = epochProgress.isNaN ? 0 : min(max(epochProgress, 0), 1)
        self.epoch = epoch
        self.isPreviousEpoch = isPreviousEpoch
    }
}

/// How the user compares with the network (the plan's `CommunityComparison`).
public struct CommunityComparison: Hashable, Sendable, Codable {
    /// The user's exact local score.
    public var userScore: Int
    /// The user's grade.
    public var userGrade: Grade
    /// The network's average score in points, or "gathering data".
    public var networkAverage: Displayed<Estimate>
    /// Percent of peers at or below the user's score, or "gathering data".
    public var percentile: Displayed<Estimate>
    /// Percent of peers with a lower score (ties count half), or "gathering data".
    public var betterThan: Displayed<Estimate>
    /// Suggestions backed by peer evidence.
    public var recommendations: [P2PRecommendation]
    /// The report epoch the network figures come from, when known.
    public var epoch: UInt32?
    /// Whether that is the previous, complete epoch (see ``CommunityStats/isPreviousEpoch``).
    public var isPreviousEpoch: Bool

    /// Compares `profile` with the epoch's estimates (of `epoch`, the previous complete one when
    /// `isPreviousEpoch`).
    public init(
        profile: LocalProfile,
        estimates: CommunityEstimates,
        engine: RecommendationEngine = .init(),
        epoch: UInt32? = nil,
        isPreviousEpoch: Bool = false
    ) {
        self.userScore = profile.score
        self.userGrade = profile.grade
        self.networkAverage = estimates.averageScore
        self.percentile = Self.percent(estimates.percentile(score: profile.score))
        self.betterThan = Self.percent(estimates.betterThan(score: profile.score))
        self.recommendations = engine.recommendations(for: profile, estimates: estimates)
        self.epoch = epoch
        self.isPreviousEpoch = isPreviousEpoch
    }

    private static func percent(_ figure: Displayed<Estimate>) -> Displayed<Estimate> {
        switch figure {
        case .shown(let estimate): .shown(estimate.scaled(by: 100))
        case .needsMoreReports(let have, let needed): .needsMoreReports(have: have, neededReports: needed)
        }
    }
}
