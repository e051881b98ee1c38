import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

@Suite("Score estimates")
struct ScoreEstimatesTests {
    @Test("Every raw score falls in exactly the raw range of the decile it reports")
    func rawRangesPartitionScores() {
        var covered = Array(repeating: 0, count: 101)
        for decile in 0..<10 {
            for score in ScoreScale.rawRange(ofDecile: decile) {
                covered[score] += 1
                #expect(ScoreScale.decile(ofScore: score) == decile)
            }
        }
        #expect(covered.allSatisfy { $0 == 1 })
    }

    @Test(
        "Anonymized scores round to the nearest 5",
        arguments: [(0, 0), (2, 0), (3, 5), (87, 85), (88, 90), (97, 95), (98, 100), (100, 100), (-4, 0), (130, 100)]
    )
    func anonymizedScore(raw: Int, rounded: Int) {
        #expect(ScoreScale.anonymizedScore(raw) == rounded)
    }

    @Test("Deciles stand for the midpoints of their raw ranges, not 10i + 5")
    func representatives() {
        #expect(ScoreScale.representatives == [3.5, 12.5, 22.5, 32.5, 42.5, 52.5, 62.5, 72.5, 82.5, 94])
    }

    /// Noise-free bias: feed the exact expected randomized counts of a large synthetic population.
    @Test("Without sampling noise the average is within 0.3 points of the true mean")
    func noiseFreeBias() {
        let scores = Experiments.scores(count: 200_000, seed: 11)
        let truth = Experiments.ScoreTruth(scores: scores, userScores: [50, 70, 91])
        var deciles = Array(repeating: 0.0, count: 10)
        for score in scores {
            deciles[ScoreScale.decile(ofScore: score)] += 1
        }
        let randomizer = ReportType.score.randomizer
        let n = Double(scores.count)
        let counts = deciles.map { Int((n * randomizer.q + $0 * (randomizer.p - randomizer.q)).rounded()) }
        let estimates = ScoreEstimates(counts: counts)
        #expect(abs(estimates.average.value - truth.mean) < 0.3, "bias \(estimates.average.value - truth.mean)")
        for user in [50, 70, 91] {
            let bias = estimates.betterThan(score: user).value - truth.betterThan[user]!
            #expect(abs(bias) < 0.01, "better-than bias at \(user): \(bias)")
        }
        #expect(abs(estimates.median - truth.median) < 1.0)
    }

    @Test("Grade shares add up the deciles of each grade")
    func gradeShares() {
        let estimates = ScoreEstimates(counts: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
        let grades = estimates.grades
        let f = estimates.histogram.frequencies
        #expect(abs(grades[.a]!.value - f[9]) < 1e-12)
        #expect(abs(grades[.b]!.value - f[8]) < 1e-12)
        #expect(abs(grades[.f]!.value - f[0..<6].reduce(0, +)) < 1e-12)
        #expect(abs(Grade.allCases.reduce(0) { $0 + grades[$1]!.value } - 1) < 1e-9)
    }

    @Test("'Better than' grows with the user's score and stays within 0–1")
    func betterThanIsMonotone() {
        let scores = Experiments.scores(count: 5_000, seed: 3)
        let estimates = ScoreEstimates(counts: Experiments.scoreCounts(scores, seed: 4))
        var previous = -1.0
        for score in 0...100 {
            let value = estimates.betterThan(score: score).value
            #expect(value >= previous - 1e-9, "at \(score)")
            #expect((0...1).contains(value))
            #expect(estimates.percentile(score: score).value >= value - 1e-9)
            previous = value
        }
    }

    @Test("The within-bin quantile inverts the within-bin share")
    func withinBinInverse() {
        let scores = Experiments.scores(count: 5_000, seed: 5)
        let estimates = ScoreEstimates(counts: Experiments.scoreCounts(scores, seed: 6))
        for probability in stride(from: 0.05, through: 0.95, by: 0.05) {
            let q = estimates.quantile(probability)
            let back = estimates.betterThan(score: Int(q.rounded()))
            #expect(abs(back.value - probability) < 0.05, "p = \(probability), q = \(q)")
        }
    }
}
