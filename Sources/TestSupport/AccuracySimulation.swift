import CommunityInsights
import Foundation
public import PrivacyCore

/// Statistics accuracy versus truth, in memory: a network of synthetic users each runs one epoch through the real
/// path (``SyntheticCommunity``: anonymization, ``EpochPlan`` randomizers, 512-byte envelopes, proof of work, a
/// peer's admission), a peer estimates the statistics with ``CommunityEstimates``, and the estimates are compared
/// with the population's true values: the network average score and the share of users per grade.
///
/// Every node that heard all reports computes the same estimates, so one peer stands for the network.
public struct AccuracySimulation: Sendable {
    /// The truth and the estimate of one figure.
    public struct Figure: Hashable, Sendable, Codable {
        /// The population's true value.
        public var truth: Double
        /// The estimate.
        public var value: Double
        /// Lower end of its 95% interval.
        public var lower: Double
        /// Upper end of its 95% interval.
        public var upper: Double

        /// The estimate minus the truth.
        public var error: Double { self.value - self.truth }
        /// Whether the truth lies in the interval.
        public var covered: Bool { self.lower <= self.truth && self.truth <= self.upper }

        /// A figure.
        public init(truth: Double, value: Double, lower: Double, upper: Double) {
            self.truth = truth
            self.value = value
            self.lower = lower
            self.upper = upper
        }

        init(truth: Double, estimate: Estimate) {
            self.init(truth: truth, value: estimate.value, lower: estimate.lower, upper: estimate.upper)
        }
    }

    /// One run (one seed).
    public struct Run: Hashable, Sendable, Codable {
        /// The seed of the population and of every randomization.
        public var seed: UInt64
        /// Users in the network.
        public var users: Int
        /// Reports the peer admitted (two per user).
        public var admittedReports: Int
        /// The network average score in points, against the mean raw score.
        public var average: Figure
        /// The mean of the scores each user's decile stands for (``ScoreScale/representative(ofDecile:)``): what
        /// the average estimator estimates without randomization, so `average.truth − coarsenedAverage` is the bias
        /// of reporting deciles instead of scores.
        public var coarsenedAverage: Double
        /// Percent of users per grade (A first), against the true shares of the anonymized scores' grades.
        public var gradeShares: [Grade: Figure]
    }

    /// Every run and the summary over them.
    public struct Result: Hashable, Sendable, Codable {
        /// The runs, in seed order.
        public var runs: [Run]

        /// A result of `runs`.
        public init(runs: [Run]) {
            self.runs = runs
        }

        /// Share of runs whose average interval holds the true average.
        public var averageCoverage: Double {
            Self.share(self.runs.map(\.average.covered))
        }

        /// Mean absolute error of the average, in points.
        public var averageMeanAbsoluteError: Double {
            Self.mean(self.runs.map { abs($0.average.error) })
        }

        /// Root mean square error of the average, in points.
        public var averageRootMeanSquareError: Double {
            Self.mean(self.runs.map { $0.average.error * $0.average.error }).squareRoot()
        }

        /// Mean half-width of the average's interval, in points.
        public var averageMeanHalfWidth: Double {
            Self.mean(self.runs.map { ($0.average.upper - $0.average.lower) / 2 })
        }

        /// Share of grade-share intervals (all grades, all runs) that hold the true share.
        public var gradeShareCoverage: Double {
            Self.share(self.runs.flatMap { $0.gradeShares.values.map(\.covered) })
        }

        /// Mean absolute error of the grade shares, in percentage points.
        public var gradeShareMeanAbsoluteError: Double {
            Self.mean(self.runs.flatMap { $0.gradeShares.values.map { abs($0.error) } })
        }

        /// Coverage of each grade's share over the runs.
        public var gradeShareCoverageByGrade: [Grade: Double] {
            Dictionary(
                uniqueKeysWithValues: Grade.allCases.map { grade in
                    (grade, Self.share(self.runs.compactMap { $0.gradeShares[grade]?.covered }))
                }
            )
        }

        private static func share(_ flags: [Bool]) -> Double {
            flags.isEmpty ? 0 : Double(flags.filter { $0 }.count) / Double(flags.count)
        }

        private static func mean(_ values: [Double]) -> Double {
            values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        }
    }

    /// Users per run.
    public var users: Int
    /// One run per seed.
    public var seeds: [UInt64]
    /// The network the envelopes are minted for (default: ``SyntheticCommunity/parameters``, the cheapest proof of
    /// work, so a run of 1,000 users takes about a second).
    public var parameters: NetworkParameters

    /// A simulation of `users` users for each of `seeds`.
    public init(users: Int = 1_000, seeds: [UInt64], parameters: NetworkParameters = SyntheticCommunity.parameters) {
        self.users = users
        self.seeds = seeds
        self.parameters = parameters
    }

    /// Runs every seed, one after the other (each run spreads its users over the cores).
    /// - Parameter progress: called after each run with the fraction done.
    public func run(progress: (Double) -> Void = { _ in }) async -> Result {
        var runs: [Run] = []
        for (index, seed) in self.seeds.enumerated() {
            runs.append(await Self.run(users: self.users, seed: seed, parameters: self.parameters))
            progress(Double(index + 1) / Double(max(self.seeds.count, 1)))
        }
        return Result(runs: runs)
    }

    /// One run: the population of `seed`, one epoch of its reports, one peer's estimates.
    public static func run(users: Int, seed: UInt64, parameters: NetworkParameters) async -> Run {
        let population = SyntheticPopulation(count: users, seed: seed)
        let epoch: UInt32 = 1_000
        let community = await SyntheticCommunity(
            population: population,
            parameters: parameters,
            epoch: epoch,
            seed: seed &* 0x2545_F491_4F6C_DD1D &+ 1
        )
        let admitted = await community.admitted
        let estimates = CommunityEstimates(reports: admitted.reports, policy: .standard)
        let count = Double(max(population.users.count, 1))
        let coarsened =
            population.users.reduce(0.0) {
                $0 + ScoreScale.representative(ofDecile: ScoreScale.decile(ofScore: $1.score))
            }
            / count
        let average: Figure
        if case .shown(let estimate) = estimates.averageScore {
            average = Figure(truth: population.trueMeanScore, estimate: estimate)
        } else {
            average = Figure(truth: population.trueMeanScore, value: .nan, lower: .nan, upper: .nan)
        }
        var grades: [Grade: Figure] = [:]
        if case .shown(let shares) = estimates.gradeDistribution {
            for share in shares {
                let truth = Double(population.users.filter { $0.truth.reportedGrade == share.grade }.count) / count
                grades[share.grade] = Figure(truth: 100 * truth, estimate: share.share.scaled(by: 100))
            }
        }
        return Run(
            seed: seed,
            users: population.users.count,
            admittedReports: admitted.reports.count,
            average: average,
            coarsenedAverage: coarsened,
            gradeShares: grades
        )
    }
}
