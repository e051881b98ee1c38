import CommunityInsights
import Foundation
public import PrivacyCore

/// Seeded accuracy, coverage, class-size and poisoning experiments on the estimators, shared by the
/// tests (which assert the binding targets) and the benchmark executable (which prints the figures).
public enum Experiments {
    /// Scores drawn from the synthetic population's score marginal (see ``SyntheticPopulation``).
    public static func scores(count: Int, seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        return (0..<max(count, 0)).map { _ in
            SyntheticPopulation.score(diligence: generator.nextNormal(), noise: generator.nextNormal())
        }
    }

    /// The randomized score reports of `scores` (deciles of the anonymized scores through GRR, ε = 2).
    public static func scoreCounts(_ scores: [Int], seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        var counts = Array(repeating: 0, count: 10)
        let randomizer = ReportType.score.randomizer
        for score in scores {
            counts[GRRSampler.randomize(ScoreScale.decile(ofScore: score), with: randomizer, using: &generator)] += 1
        }
        return counts
    }

    /// The truth a score figure is compared with.
    public struct ScoreTruth: Sendable {
        /// True mean of the raw scores.
        public var mean: Double
        /// True median.
        public var median: Double
        /// True mid-rank share (0–1) below each queried user score.
        public var betterThan: [Int: Double]
        /// True share (0–1) at or below each queried user score.
        public var percentile: [Int: Double]

        /// Computes the truth of `scores` for the queried user scores.
        public init(scores: [Int], userScores: [Int]) {
            let sorted = scores.sorted()
            let n = Double(max(scores.count, 1))
            self.mean = Double(scores.reduce(0, +)) / n
            let middle = sorted.count / 2
            self.median =
                sorted.isEmpty
                ? 0 : (sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2)
            var histogram = Array(repeating: 0, count: 101)
            for score in scores {
                histogram[score] += 1
            }
            var betterThan: [Int: Double] = [:]
            var percentile: [Int: Double] = [:]
            for user in userScores {
                let u = min(max(user, 0), 100)
                let below = histogram[0..<u].reduce(0, +)
                betterThan[user] = (Double(below) + 0.5 * Double(histogram[u])) / n
                percentile[user] = Double(below + histogram[u]) / n
            }
            self.betterThan = betterThan
            self.percentile = percentile
        }
    }

    /// Accuracy and interval coverage of the score figures over many seeded runs.
    public struct ScoreAccuracy: Sendable {
        /// Population size per run.
        public var size: Int
        /// Number of runs.
        public var runs: Int
        /// Absolute error of the average, points, one per run.
        public var averageErrors: [Double]
        /// Absolute error of "better than", percentage points, one per run and user score.
        public var betterThanErrors: [Double]
        /// Absolute error of the median, points, one per run.
        public var medianErrors: [Double]
        /// Share of runs whose average interval covered the true mean.
        public var averageCoverage: Double
        /// Share of (run, user score) pairs whose "better than" interval covered the truth.
        public var betterThanCoverage: Double
        /// Mean 95% half-width of the average, points.
        public var averageHalfWidth: Double
        /// Mean 95% half-width of "better than", percentage points.
        public var betterThanHalfWidth: Double
        /// Mean signed error of the average (bias), points.
        public var averageBias: Double

        /// Runs the experiment.
        public init(size: Int, runs: Int, seed: UInt64, userScores: [Int]) {
            self.size = size
            self.runs = runs
            var averageErrors: [Double] = []
            var betterThanErrors: [Double] = []
            var medianErrors: [Double] = []
            var averageCovered = 0
            var betterThanCovered = 0
            var averageWidth = 0.0
            var betterThanWidth = 0.0
            var signed = 0.0
            for run in 0..<runs {
                let runSeed = seed &+ UInt64(run) &* 0x9E37_79B9
                let scores = Experiments.scores(count: size, seed: runSeed)
                let truth = ScoreTruth(scores: scores, userScores: userScores)
                let estimates = ScoreEstimates(counts: Experiments.scoreCounts(scores, seed: runSeed ^ 0xABCD))
                let average = estimates.average
                averageErrors.append(abs(average.value - truth.mean))
                signed += average.value - truth.mean
                medianErrors.append(abs(estimates.median - truth.median))
                averageCovered += average.covers(truth.mean) ? 1 : 0
                averageWidth += average.halfWidth
                for user in userScores {
                    let rank = estimates.betterThan(score: user)
                    let trueRank = truth.betterThan[user]!
                    betterThanErrors.append(100 * abs(rank.value - trueRank))
                    betterThanCovered += rank.covers(trueRank) ? 1 : 0
                    betterThanWidth += 100 * rank.halfWidth
                }
            }
            self.averageErrors = averageErrors
            self.betterThanErrors = betterThanErrors
            self.medianErrors = medianErrors
            let pairs = Double(max(runs * userScores.count, 1))
            self.averageCoverage = Double(averageCovered) / Double(max(runs, 1))
            self.betterThanCoverage = Double(betterThanCovered) / pairs
            self.averageHalfWidth = averageWidth / Double(max(runs, 1))
            self.betterThanHalfWidth = betterThanWidth / pairs
            self.averageBias = signed / Double(max(runs, 1))
        }

        /// 95th percentile of the average's absolute error, points.
        public var averageP95: Double { Experiments.quantile(self.averageErrors, 0.95) }
        /// 95th percentile of "better than"'s absolute error, percentage points.
        public var betterThanP95: Double { Experiments.quantile(self.betterThanErrors, 0.95) }
        /// 95th percentile of the median's absolute error, points.
        public var medianP95: Double { Experiments.quantile(self.medianErrors, 0.95) }
    }

    /// The `probability`-quantile of `values` (nearest rank).
    public static func quantile(_ values: [Double], _ probability: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((probability * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Smallest number of reports sharing one randomized value, per report type, for one epoch of a
    /// synthetic population.
    public struct ClassSizes: Sendable {
        /// Per type, the smallest count of reports sharing a randomized value (over all values of the
        /// type's domain). For region-grade the class is (region, grade), since the region is sent as is.
        public var smallest: [ReportType: Int]
        /// Reports per type.
        public var reports: [ReportType: Int]

        /// Measures one epoch of `population` randomized with `seed`.
        public init(population: SyntheticPopulation, seed: UInt64) {
            let tally = ReportTally(population.randomizedReports(seed: seed))
            var toolCells = Array(repeating: 0, count: ReportType.tool.domainSize)
            for counts in tally.tool.values {
                for (index, count) in counts.enumerated() {
                    toolCells[index] += count
                }
            }
            var regionCells: [Int] = []
            for region in Region.allCases {
                regionCells +=
                    tally.regionGrade[region] ?? Array(repeating: 0, count: ReportType.regionGrade.domainSize)
            }
            self.smallest = [
                .score: tally.score.min() ?? 0,
                .trackers: tally.trackers.min() ?? 0,
                .risk: tally.risk.min() ?? 0,
                .category: tally.category.min() ?? 0,
                .tool: toolCells.min() ?? 0,
                .regionGrade: regionCells.min() ?? 0,
            ]
            self.reports = Dictionary(uniqueKeysWithValues: ReportType.allCases.map { ($0, tally.count(of: $0)) })
        }
    }

    /// How far adversarial score reports move the displayed figures.
    public struct Poisoning: Sendable {
        /// Share of all score reports that are adversarial.
        public var fraction: Double
        /// Mean shift of the displayed average, points (adversary pushes up with decile 9).
        public var averageShift: Double
        /// Mean shift of the displayed median, points.
        public var medianShift: Double
        /// Mean shift of "better than" for each user score, percentage points (adversary pushes down
        /// with decile 9, which places fake users above everybody below the top).
        public var betterThanShift: [Int: Double]
        /// The same figures had the adversary's reports gone through the randomizer (they could then
        /// only lie about their input): the bound verifiable randomization would give.
        public var averageShiftIfRandomized: Double

        /// Runs `runs` seeded epochs of `size` honest users plus adversarial score reports making up
        /// `fraction` of all score reports.
        public init(size: Int, fraction: Double, runs: Int, seed: UInt64, userScores: [Int]) {
            self.fraction = fraction
            let fakes = Int((fraction * Double(size) / (1 - fraction)).rounded())
            var average = 0.0
            var median = 0.0
            var randomizedAverage = 0.0
            var rank: [Int: Double] = [:]
            for run in 0..<runs {
                let runSeed = seed &+ UInt64(run) &* 0x2545_F491
                let scores = Experiments.scores(count: size, seed: runSeed)
                let honest = Experiments.scoreCounts(scores, seed: runSeed ^ 0x77)
                var poisoned = honest
                poisoned[9] += fakes
                let fakeRandomized = Experiments.scoreCounts(Array(repeating: 100, count: fakes), seed: runSeed ^ 0x99)
                let clean = ScoreEstimates(counts: honest)
                let attacked = ScoreEstimates(counts: poisoned)
                let attackedRandomized = ScoreEstimates(counts: zip(honest, fakeRandomized).map { $0 + $1 })
                average += attacked.average.value - clean.average.value
                median += attacked.median - clean.median
                randomizedAverage += attackedRandomized.average.value - clean.average.value
                for user in userScores {
                    rank[user, default: 0] +=
                        100 * (attacked.betterThan(score: user).value - clean.betterThan(score: user).value)
                }
            }
            let n = Double(max(runs, 1))
            self.averageShift = average / n
            self.medianShift = median / n
            self.averageShiftIfRandomized = randomizedAverage / n
            self.betterThanShift = rank.mapValues { $0 / n }
        }
    }
}
