import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

/// Intervals from a handful of reports must stay as wide as the randomizer makes them, also where the
/// estimate sits on the edge of the simplex (a value never seen, or every report in one decile).
@Suite("Small-sample intervals")
struct SmallSampleIntervalTests {
    /// 11 score reports, none in the top decile: the debiased top-decile share is negative, its projection 0.
    static let noTopDecile = [0, 0, 0, 1, 1, 2, 3, 3, 1, 0]

    @Test("A top-decile user's rank from 11 reports without top-decile reports keeps a wide interval")
    func rankAtTheBoundary() {
        let estimates = ScoreEstimates(counts: Self.noTopDecile)
        let rank = estimates.betterThan(score: 92)
        #expect(rank.value > 0.95)
        #expect(rank.upper == 1)
        // The top-decile share may honestly be tens of percent with 11 reports at ε = 2, so the rank may be far lower.
        #expect(rank.lower < 0.85)
        #expect(rank.standardError > 0.05)
    }

    @Test("A value no report carries still gets an interval reaching well above 0%")
    func emptyCellShare() {
        let histogram = HistogramEstimator(counts: Self.noTopDecile, type: .score)
        let share = histogram.share(9)
        #expect(share.value == 0)
        #expect(share.upper > 0.2)
        let grades = ScoreEstimates(counts: Self.noTopDecile).grades
        #expect(grades[.a]!.upper > 0.2)
    }

    @Test("Every report in one decile does not make the intervals collapse")
    func allReportsInOneCell() {
        let counts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 11]
        let estimates = ScoreEstimates(counts: counts)
        #expect(estimates.average.halfWidth > 5)
        #expect(estimates.betterThan(score: 40).upper > 0.1)
        for grade in Grade.allCases {
            #expect(estimates.grades[grade]!.halfWidth > 0.05, "grade \(grade)")
        }
    }

    @Test("The fitted model's value probabilities never fall below q and match the observed shares inside the simplex")
    func modelShares() {
        let randomizer = ReportType.score.randomizer
        let boundary = HistogramEstimator(counts: Self.noTopDecile, type: .score)
        #expect(boundary.modelShares.allSatisfy { $0 >= randomizer.q - 1e-12 })
        #expect(abs(boundary.modelShares.reduce(0, +) - 1) < 1e-9)
        // Expected counts of a spread-out population: the debiased estimate is inside the simplex.
        let interior = HistogramEstimator(counts: [80, 90, 100, 110, 120, 120, 110, 100, 90, 80], type: .score)
        for (model, observed) in zip(interior.modelShares, interior.observedShares) {
            #expect(abs(model - observed) < 1e-9)
        }
    }

    @Test("With 11 reports per epoch the rank's 95% interval covers the true rank in at least 88% of seeded epochs")
    func smallSampleCoverage() {
        let accuracy = Experiments.ScoreAccuracy(size: 11, runs: 400, seed: 611, userScores: [92, 97, 60, 20])
        #expect(accuracy.betterThanCoverage >= 0.88, "coverage \(accuracy.betterThanCoverage)")
        #expect(accuracy.averageCoverage >= 0.88, "coverage \(accuracy.averageCoverage)")
    }
}
