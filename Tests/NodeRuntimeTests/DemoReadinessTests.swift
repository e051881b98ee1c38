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

    /// A readiness with the given parts filled.
    static func readiness(headline: Bool, allParts: Bool, reports: Int = 10) -> DemoReadiness {
        var readiness = DemoReadiness(expectedReports: 120)
        readiness.reports = reports
        readiness.rank = headline
        readiness.average = headline
        readiness.gradeDistribution = headline
        readiness.leaderboard = headline
        readiness.tools = allParts
        readiness.recommendations = allParts
        readiness.regional = allParts
        readiness.trends = allParts
        return readiness
    }

    /// What `rule` answers to each step (seconds after the start, what the page showed), in order.
    static func answers(_ rule: DemoReadyRule, _ steps: [(Double, DemoReadiness)]) -> [Bool] {
        var rule = rule
        return steps.map { rule.observe($0.1, atSeconds: $0.0) }
    }

    @Test("Ready once every part stayed filled for the steady time, however few of this epoch's reports are in")
    func readyWhenEveryPartStaysFilled() {
        let answers = Self.answers(
            DemoReadyRule(steadySeconds: 2, graceSeconds: 45),
            [
                (1, Self.readiness(headline: false, allParts: false)),
                (20, Self.readiness(headline: true, allParts: true, reports: 3)),
                (21.5, Self.readiness(headline: true, allParts: true, reports: 0)),
                // A part that empties again restarts the steady time.
                (21.75, Self.readiness(headline: true, allParts: false)),
                (22, Self.readiness(headline: true, allParts: true)),
                (23.75, Self.readiness(headline: true, allParts: true)),
                (24, Self.readiness(headline: true, allParts: true, reports: 1)),
            ]
        )
        #expect(answers == [false, false, false, false, false, false, true])
    }

    @Test("Ready at once when every part is filled and every expected report is in")
    func readyWhenComplete() {
        let answers = Self.answers(
            DemoReadyRule(steadySeconds: 2, graceSeconds: 45),
            [
                (29, Self.readiness(headline: true, allParts: true, reports: 119)),
                (30, Self.readiness(headline: true, allParts: true, reports: 120)),
            ]
        )
        #expect(answers == [false, true])
    }

    @Test("A demo too small to fill every part is ready the grace time after the headline figures appeared")
    func readyAfterGrace() {
        let answers = Self.answers(
            DemoReadyRule(steadySeconds: 2, graceSeconds: 45),
            [
                (5, Self.readiness(headline: false, allParts: false)),
                (10, Self.readiness(headline: true, allParts: false)),
                (54.9, Self.readiness(headline: true, allParts: false, reports: 120)),
                (55, Self.readiness(headline: true, allParts: false)),
            ]
        )
        #expect(answers == [false, false, false, true])
    }
}
