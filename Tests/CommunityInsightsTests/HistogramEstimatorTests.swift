import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

@Suite("Histogram estimator")
struct HistogramEstimatorTests {
    @Test("Simplex projection of a point already on the simplex leaves it unchanged")
    func projectionKeepsSimplexPoints() {
        let point = [0.1, 0.2, 0.3, 0.4]
        let projected = projectOntoSimplex(point)
        for (a, b) in zip(point, projected) {
            #expect(abs(a - b) < 1e-12)
        }
    }

    @Test("Simplex projection matches a hand-computed case")
    func projectionKnownCase() {
        // v = (0.8, 0.5, -0.3): θ = (0.8 + 0.5 - 1)/2 = 0.15 → (0.65, 0.35, 0).
        let projected = projectOntoSimplex([0.8, 0.5, -0.3])
        #expect(abs(projected[0] - 0.65) < 1e-12)
        #expect(abs(projected[1] - 0.35) < 1e-12)
        #expect(projected[2] == 0)
    }

    @Test("Simplex projection is non-negative, sums to one and is the nearest simplex point")
    func projectionProperties() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let size = Int.random(in: 2...12, using: &generator)
            let vector = (0..<size).map { _ in generator.nextNormal() }
            let projected = projectOntoSimplex(vector)
            #expect(projected.allSatisfy { $0 >= 0 })
            #expect(abs(projected.reduce(0, +) - 1) < 1e-9)
            // Optimality: no random simplex point is closer.
            let distance = zip(vector, projected).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            for _ in 0..<20 {
                let raw = (0..<size).map { _ in generator.nextUnit() }
                let total = raw.reduce(0, +)
                let other = raw.map { $0 / total }
                let otherDistance = zip(vector, other).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                #expect(distance <= otherDistance + 1e-12)
            }
        }
    }

    @Test("Debiasing the expected counts recovers the true shares exactly")
    func debiasingIsUnbiased() {
        let truth = [0.5, 0.3, 0.15, 0.05]
        let randomizer = ReportType.risk.randomizer
        let n = 1_000_000.0
        // Expected count of value v: n·(q + f_v·(p − q)).
        let counts = truth.map { Int((n * (randomizer.q + $0 * (randomizer.p - randomizer.q))).rounded()) }
        let histogram = HistogramEstimator(counts: counts, randomizer: randomizer)
        for (estimate, share) in zip(histogram.debiased, truth) {
            #expect(abs(estimate - share) < 1e-4)
        }
        #expect(abs(histogram.debiased.reduce(0, +) - 1) < 1e-9)
    }

    @Test("The analytic standard error of a linear figure matches the spread over seeded epochs")
    func standardErrorMatchesSimulation() {
        let randomizer = ReportType.trackers.randomizer
        let truth = [0.05, 0.25, 0.35, 0.2, 0.1, 0.05]
        let weights = [0.0, 1, 2, 3, 4, 5]
        var generator = SeededGenerator(seed: 7)
        var values: [Double] = []
        var errors: [Double] = []
        for _ in 0..<300 {
            var counts = Array(repeating: 0, count: 6)
            for _ in 0..<2_000 {
                var u = generator.nextUnit()
                var value = 5
                for (index, share) in truth.enumerated() {
                    if u < share {
                        value = index
                        break
                    }
                    u -= share
                }
                counts[GRRSampler.randomize(value, with: randomizer, using: &generator)] += 1
            }
            let estimate = HistogramEstimator(counts: counts, randomizer: randomizer).linear(
                weights: weights,
                clampedTo: -10...10
            )
            values.append(estimate.value)
            errors.append(estimate.standardError)
        }
        let mean = values.reduce(0, +) / Double(values.count)
        let empirical = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
        let analytic = errors.reduce(0, +) / Double(errors.count)
        #expect(abs(empirical / analytic - 1) < 0.15, "empirical \(empirical) vs analytic \(analytic)")
        #expect(abs(mean - zip(weights, truth).reduce(0) { $0 + $1.0 * $1.1 }) < 3 * analytic / 300.0.squareRoot())
    }

    @Test("No reports give an empty estimate with an uninformative interval")
    func emptyHistogram() {
        let histogram = HistogramEstimator(counts: Array(repeating: 0, count: 10), type: .score)
        #expect(histogram.total == 0)
        let share = histogram.share(3)
        #expect(share.lower == 0 && share.upper == 1)
        #expect(histogram.conditionalShare(1, among: 0) == nil)
    }
}
