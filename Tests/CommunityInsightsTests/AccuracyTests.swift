import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

/// The accuracy targets of the issue, checked over seeded runs of the synthetic population.
///
/// "True value": the population's true mean of the raw (not rounded) scores; "better than X%" is the
/// share of users with a strictly lower raw score, ties counted half, computed on the true scores.
@Suite("Accuracy of the displayed score figures")
struct AccuracyTests {
    static let userScores = [35, 48, 55, 62, 68, 74, 79, 85, 91, 97]

    @Test("At N = 10,000 and ε = 2 the p95 error is ≤ 1.5 points (average) and ≤ 3 points (better than)")
    func tenThousand() {
        let accuracy = Experiments.ScoreAccuracy(size: 10_000, runs: 120, seed: 2026, userScores: Self.userScores)
        #expect(accuracy.averageP95 <= 1.5, "average p95 \(accuracy.averageP95)")
        #expect(accuracy.betterThanP95 <= 3, "better-than p95 \(accuracy.betterThanP95)")
        #expect(abs(accuracy.averageBias) < 0.3, "average bias \(accuracy.averageBias)")
        print(
            "N=10000 ε=2 runs=120: average p95 \(accuracy.averageP95) (±\(accuracy.averageHalfWidth) 95% half-width), "
                + "better-than p95 \(accuracy.betterThanP95) pp (±\(accuracy.betterThanHalfWidth)), "
                + "median p95 \(accuracy.medianP95), bias \(accuracy.averageBias)"
        )
    }

    @Test("The 95% intervals cover the truth at least 90% of the time", arguments: [1_000, 10_000])
    func coverage(size: Int) {
        let accuracy = Experiments.ScoreAccuracy(size: size, runs: 150, seed: 77, userScores: Self.userScores)
        #expect(accuracy.averageCoverage >= 0.9, "average coverage \(accuracy.averageCoverage)")
        #expect(accuracy.betterThanCoverage >= 0.9, "better-than coverage \(accuracy.betterThanCoverage)")
        print(
            "N=\(size) coverage: average \(accuracy.averageCoverage), better-than \(accuracy.betterThanCoverage)"
        )
    }

    @Test("Small networks: accuracy and interval widths at N = 50, 200 and 1,000 (measured, printed)")
    func smallNetworks() {
        for size in [50, 200, 1_000] {
            let accuracy = Experiments.ScoreAccuracy(size: size, runs: 200, seed: 9, userScores: Self.userScores)
            // Measured, not asserted against a target: only sanity (intervals widen as N shrinks).
            #expect(accuracy.averageHalfWidth > 0)
            print(
                "N=\(size): average p95 error \(accuracy.averageP95) points, mean 95% half-width "
                    + "\(accuracy.averageHalfWidth); better-than p95 \(accuracy.betterThanP95) pp, half-width "
                    + "\(accuracy.betterThanHalfWidth); coverage \(accuracy.averageCoverage)/\(accuracy.betterThanCoverage)"
            )
        }
    }

    @Test("Adversarial score reports: shift of average, median and better-than at 5% and 10% (measured, printed)")
    func poisoning() {
        for fraction in [0.05, 0.10] {
            let result = Experiments.Poisoning(
                size: 10_000,
                fraction: fraction,
                runs: 30,
                seed: 5,
                userScores: [62, 74, 85]
            )
            // The attack must move the average upwards (decile 9 reports); the size is reported.
            #expect(result.averageShift > 0)
            let ranks = result.betterThanShift.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            print(
                "poisoning \(Int(fraction * 100))%: average +\(result.averageShift), median +\(result.medianShift), "
                    + "better-than \(ranks.joined(separator: ", ")) pp; if fakes were randomized: "
                    + "average +\(result.averageShiftIfRandomized)"
            )
        }
    }
}
