import CommunityInsights
import PrivacyCore
import Testing

/// The sub-population figures (a tool among A-grade peers, a region) pooled over the last few epochs, while the
/// network-wide figures stay the epoch's own; and the demo's relaxed recommendation rule.
@Suite("Pooled sub-population estimates")
struct PooledEstimatesTests {
    static let policy = DisplayPolicy(subPopulationMinimum: 2, networkMinimum: 10)
    /// One epoch's score reports: many in the top decile, so the A-grade share is well above zero.
    static let scores = [2, 2, 3, 4, 5, 6, 8, 10, 10, 30]

    static func epochTally() -> ReportTally {
        var tally = ReportTally()
        tally.score = Self.scores
        tally.tool[.uBlockOrigin] = [0, 0, 0, 1]
        tally.regionGrade[.europe] = [1, 0, 0, 0, 0]
        return tally
    }

    /// Six epochs like ``epochTally()`` but with more tool and region reports in the earlier ones.
    static func pooledTally() -> ReportTally {
        var pooled = ReportTally()
        for _ in 0..<6 {
            pooled.merge(Self.epochTally())
        }
        pooled.tool[.uBlockOrigin] = [3, 2, 1, 6]
        pooled.regionGrade[.europe] = [3, 2, 1, 0, 0]
        return pooled
    }

    @Test("One epoch holds too few reports of one tool; six pooled epochs show it, with the epochs counted")
    func toolFromPooledEpochs() throws {
        let single = CommunityEstimates(tally: Self.epochTally(), policy: Self.policy)
        #expect(single.toolUsage(.uBlockOrigin).value == nil)
        #expect(single.pooledEpochs == 1)

        let pooled = CommunityEstimates(
            tally: Self.epochTally(),
            policy: Self.policy,
            pooled: Self.pooledTally(),
            pooledEpochs: 6
        )
        #expect(pooled.pooledEpochs == 6)
        let usage = try #require(pooled.toolUsage(.uBlockOrigin).value)
        #expect(usage.reports == 12)
        let share = try #require(usage.shareAmongAGrade)
        // Twelve tool reports at ε = 1 say little about one tool: the interval says so.
        #expect(share.halfWidth > 0.2)
        #expect(share.covers(share.value))
    }

    @Test("Network-wide figures stay the epoch's own while tool and region figures pool")
    func networkFiguresArePerEpoch() throws {
        let single = CommunityEstimates(tally: Self.epochTally(), policy: Self.policy)
        let pooled = CommunityEstimates(
            tally: Self.epochTally(),
            policy: Self.policy,
            pooled: Self.pooledTally(),
            pooledEpochs: 6
        )
        #expect(pooled.participants == Self.scores.reduce(0, +))
        #expect(pooled.averageScore == single.averageScore)
        #expect(pooled.pooledScore.reports == 6 * Self.scores.reduce(0, +))
        #expect(single.regionalStats(.europe).value == nil)
        let europe = try #require(pooled.regionalStats(.europe).value)
        #expect(europe.reports == 6)
    }

    @Test("A tool is withheld while the pooled A-grade tool reports are estimated below K")
    func toolNeedsAGradeReports() {
        var pooled = Self.pooledTally()
        // No score report in the top decile: the A-grade share is estimated at zero.
        pooled.score = [20, 20, 20, 20, 20, 20, 20, 20, 20, 0]
        let estimates = CommunityEstimates(
            tally: Self.epochTally(),
            policy: Self.policy,
            pooled: pooled,
            pooledEpochs: 6
        )
        guard case .needsMoreReports(let have, let needed) = estimates.toolUsage(.uBlockOrigin) else {
            Issue.record("a tool figure without estimated A-grade reports was shown")
            return
        }
        #expect(have == 12)
        #expect(needed > 0)
    }

    @Test("A demo policy recommends on the point estimate; the public rule needs the interval's lower end")
    func recommendationConfidence() throws {
        let report = try PrivacyReport.example()
        let profile = try LocalProfile(report: report)
        try #require(profile.trackersBucket >= 2)
        var tally = ReportTally()
        tally.score = Self.scores
        // 7 of 13 tracker reports lie below the user's bucket (16–30): a point estimate near 67%, a wide interval.
        tally.trackers = [3, 2, 2, 2, 2, 2]
        let strict = CommunityEstimates(tally: tally, policy: Self.policy)
        let relaxed = CommunityEstimates(
            tally: tally,
            policy: DisplayPolicy(subPopulationMinimum: 2, networkMinimum: 10, recommendationConfidence: 0)
        )
        let engine = RecommendationEngine()
        let strictKinds = engine.recommendations(for: profile, estimates: strict).map(\.kind)
        let relaxedRecommendations = engine.recommendations(for: profile, estimates: relaxed)
        #expect(!strictKinds.contains(.reduceTrackers))
        let trackers = try #require(relaxedRecommendations.first { $0.kind == .reduceTrackers })
        #expect(trackers.evidence.value > 50)
        #expect(trackers.evidence.lower < 50)
    }
}
