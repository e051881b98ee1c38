import CommunityInsights
import Foundation
import NodeRuntime
import PrivacyCore
import Testing

@Suite("Demo readiness")
struct DemoReadinessTests {
    /// Estimates that show every figure under the demo policy: tool and region figures pooled over six epochs.
    static func estimates() -> CommunityEstimates {
        var tally = ReportTally()
        tally.score = [2, 2, 3, 4, 5, 6, 8, 10, 10, 30]
        tally.trackers = [3, 2, 2, 2, 2, 2]
        var pooled = ReportTally()
        for _ in 0..<6 {
            pooled.merge(tally)
        }
        pooled.tool[.privacyBadger] = [3, 2, 1, 6]
        pooled.regionGrade[.europe] = [3, 2, 1, 0, 0]
        return CommunityEstimates(tally: tally, policy: DemoOptions.demoPolicy, pooled: pooled, pooledEpochs: 6)
    }

    static func snapshot(epoch: Int, participants: Int) -> AggregateSnapshot {
        AggregateSnapshot(
            epoch: epoch,
            participants: participants,
            averageScore: Estimate(normal: 70, standardError: 5, supportingReports: participants, clampedTo: 0...100)
        )
    }

    @Test("Every part is filled only once two stored epochs with enough reports back the trend chart")
    func trendsNeedTwoEpochs() throws {
        let profile = try LocalProfile(report: try PrivacyReport.example())
        let dashboard = CommunityDashboard(
            estimates: Self.estimates(),
            profile: profile,
            epoch: 10,
            lastUpdated: Date(timeIntervalSince1970: 0),
            epochProgress: 0.5
        )
        let minimum = DemoOptions.demoPolicy.networkMinimum
        let oneEpoch = DemoReadiness(
            dashboard: dashboard,
            history: [
                Self.snapshot(epoch: 8, participants: minimum), Self.snapshot(epoch: 9, participants: minimum - 1),
            ],
            reports: 120,
            expectedReports: 120
        )
        #expect(oneEpoch.hasHeadline && oneEpoch.tools && oneEpoch.recommendations && oneEpoch.regional)
        #expect(!oneEpoch.trends)
        #expect(!oneEpoch.hasAllParts && !oneEpoch.isComplete)
        let twoEpochs = DemoReadiness(
            dashboard: dashboard,
            history: [Self.snapshot(epoch: 8, participants: minimum), Self.snapshot(epoch: 9, participants: minimum)],
            reports: 119,
            expectedReports: 120
        )
        #expect(twoEpochs.trends && twoEpochs.hasAllParts)
        #expect(!twoEpochs.isComplete)
        #expect(
            twoEpochs.filledParts == [
                "rank", "average", "grade_distribution", "tools", "recommendations", "trends", "regional",
                "leaderboard",
            ]
        )
    }

    @Test("The demo's default epochs are a time-lapse: several per minute, sub-population figures pooled over a minute")
    func timeLapseParameters() throws {
        let parameters = try DemoOptions.parameters()
        #expect(parameters.label == "demo")
        #expect(parameters.schedule.lengthSeconds == DemoOptions.defaultEpochSeconds)
        #expect(parameters.schedule.lengthSeconds <= 15)
        #expect(parameters.subPopulationEpochs * Int(parameters.schedule.lengthSeconds) >= 60)
    }
}
