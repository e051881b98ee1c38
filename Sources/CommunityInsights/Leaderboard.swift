public import PrivacyCore

/// A privacy-preserving leaderboard: grade buckets and regions, never an individual.
///
/// Rows are estimated group sizes; the user's own grade and region are marked. Region rows below K
/// reports show only how many more reports they need.
public struct Leaderboard: Hashable, Sendable, Codable {
    /// One grade bucket.
    public struct GradeRow: Hashable, Sendable, Codable {
        /// The grade.
        public var grade: Grade
        /// Percent of users with this grade, with its interval.
        public var share: Estimate
        /// Estimated number of this epoch's users with this grade.
        public var estimatedUsers: Int
        /// Whether this is the user's own grade.
        public var isYou: Bool

        /// Creates a grade row.
        public init(grade: Grade, share: Estimate, estimatedUsers: Int, isYou: Bool) {
            self.grade = grade
            self.share = share
            self.estimatedUsers = estimatedUsers
            self.isYou = isYou
        }
    }

    /// One region.
    public struct RegionRow: Hashable, Sendable, Codable {
        /// The region.
        public var region: Region
        /// Its statistics, or how many more reports they need.
        public var stats: Displayed<RegionalStats>
        /// Percent of the region's users with grade A or B, when shown.
        public var shareAOrB: Estimate?
        /// Whether this is the user's region.
        public var isYou: Bool

        /// Creates a region row.
        public init(region: Region, stats: Displayed<RegionalStats>, shareAOrB: Estimate?, isYou: Bool) {
            self.region = region
            self.stats = stats
            self.shareAOrB = shareAOrB
            self.isYou = isYou
        }
    }

    /// Grade buckets, A first, or "gathering data".
    public var grades: Displayed<[GradeRow]>
    /// Regions: shown ones by share of A or B grades (highest first), then the withheld ones.
    public var regions: [RegionRow]

    /// Builds the leaderboard for `profile` from the epoch's estimates.
    public init(estimates: CommunityEstimates, profile: LocalProfile) {
        let participants = Double(estimates.participants)
        switch estimates.gradeDistribution {
        case .shown(let shares):
            self.grades = .shown(
                shares.map {
                    GradeRow(
                        grade: $0.grade,
                        share: $0.share.scaled(by: 100),
                        estimatedUsers: Int(($0.share.value * participants).rounded()),
                        isYou: $0.grade == profile.grade
                    )
                }
            )
        case .needsMoreReports(let have, let needed):
            self.grades = .needsMoreReports(have: have, neededReports: needed)
        }
        var rows: [RegionRow] = Region.allCases.map { region in
            let stats = estimates.regionalStats(region)
            var shareAOrB: Estimate?
            if stats.value != nil, let histogram = estimates.regions[region] {
                let weights = Grade.allCases.map { $0 >= .b ? 1.0 : 0.0 }
                let value = zip(weights, histogram.frequencies).reduce(0) { $0 + $1.0 * $1.1 }
                shareAOrB = Estimate(
                    normal: value,
                    standardError: histogram.standardError(weights: weights),
                    supportingReports: histogram.total,
                    clampedTo: 0...1
                ).scaled(by: 100)
            }
            return RegionRow(region: region, stats: stats, shareAOrB: shareAOrB, isYou: region == profile.region)
        }
        rows.sort { left, right in
            switch (left.shareAOrB, right.shareAOrB) {
            case (let l?, let r?): l.value != r.value ? l.value > r.value : left.region.index < right.region.index
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): left.region.index < right.region.index
            }
        }
        self.regions = rows
    }
}
