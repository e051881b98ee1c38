import CommunityInsights
import PrivacyCore
import TestSupport
import Testing

/// Statistics accuracy versus truth for a 1,000-node network (AccuracySimulation): the estimates one peer makes
/// from every admitted report, against the population's true values.
@Suite("Accuracy versus truth, 1,000 synthetic nodes")
struct AccuracySimulationTests {
    static let seeds: [UInt64] = Array(1...12)

    @Test("Over 12 seeds the 95% intervals hold the true average and grade shares about 95% of the time")
    func coverage() async throws {
        let result = await AccuracySimulation(users: 1_000, seeds: Self.seeds).run()
        #expect(result.runs.map(\.seed) == Self.seeds)
        for run in result.runs {
            #expect(run.users == 1_000)
            #expect(run.admittedReports == 2_000, "every user's two reports are admitted")
            #expect(run.average.value.isFinite, "the average is shown at 1,000 users")
            #expect(Set(run.gradeShares.keys) == Set(Grade.allCases))
            // The shares of the five grades are a distribution: their truths sum to 100%.
            #expect(abs(run.gradeShares.values.map(\.truth).reduce(0, +) - 100) < 1e-9)
            // Deciles instead of scores move the truth by much less than the interval (the coarsening bias).
            #expect(abs(run.coarsenedAverage - run.average.truth) < 1)
        }
        // 12 draws of a 95% interval: 10 or more hold the truth with probability 0.98.
        #expect(result.averageCoverage >= 10.0 / 12.0, "average coverage \(result.averageCoverage)")
        // 60 grade-share intervals: 51 or more hold the truth with probability above 0.99.
        #expect(result.gradeShareCoverage >= 51.0 / 60.0, "grade share coverage \(result.gradeShareCoverage)")
        // At ε = 2 over ten deciles the average's half-width is about 129/√n points (DisplayPolicy): 4.1 at n = 1,000.
        #expect((3.0...5.5).contains(result.averageMeanHalfWidth), "half-width \(result.averageMeanHalfWidth)")
        #expect(result.averageMeanAbsoluteError < result.averageMeanHalfWidth)
    }

    @Test("A run is a function of its seed; different seeds give different populations and estimates")
    func deterministic() async {
        let first = await AccuracySimulation.run(users: 200, seed: 9, parameters: SyntheticCommunity.parameters)
        let again = await AccuracySimulation.run(users: 200, seed: 9, parameters: SyntheticCommunity.parameters)
        let other = await AccuracySimulation.run(users: 200, seed: 10, parameters: SyntheticCommunity.parameters)
        #expect(first == again)
        #expect(first.average != other.average)
    }

    @Test("A figure's error and coverage follow its truth and interval")
    func figure() {
        let inside = AccuracySimulation.Figure(truth: 70, value: 72, lower: 68, upper: 76)
        #expect(inside.error == 2)
        #expect(inside.covered)
        #expect(!AccuracySimulation.Figure(truth: 67.9, value: 72, lower: 68, upper: 76).covered)
        #expect(AccuracySimulation.Figure(truth: 76, value: 72, lower: 68, upper: 76).covered)
        let result = AccuracySimulation.Result(runs: [])
        #expect(result.averageCoverage == 0)
        #expect(result.averageMeanAbsoluteError == 0)
    }
}
