import CommunityInsights
import Foundation
import PrivacyCore
import TestSupport
import Testing

/// Expected randomized counts of `n` reports whose true values have `shares` (no sampling noise).
func expectedCounts(shares: [Double], reports n: Int, type: ReportType) -> [Int] {
    let randomizer = type.randomizer
    return shares.map { Int((Double(n) * (randomizer.q + $0 * (randomizer.p - randomizer.q))).rounded()) }
}

/// A user profile with the given score, tools, buckets and region.
func profile(
    score: Int,
    tools: Set<ProtectionTool> = [],
    trackers: Int = 3,
    highRisk: Int = 0,
    region: Region? = .europe
) -> LocalProfile {
    let user = SyntheticUser(
        score: score,
        trackerCount: trackers,
        highRiskEvents: highRisk,
        categoryEvents: trackers > 0 ? [.init(category: .news, count: trackers)] : [],
        tools: tools,
        region: region
    )
    return user.localProfile
}

@Suite("Display policy")
struct DisplayPolicyTests {
    @Test("Network figures say 'gathering data' below the minimum and show from it on")
    func networkMinimum() {
        var tally = ReportTally()
        tally.score = [1, 2, 3, 4, 5, 9, 10, 6, 5, 4]
        let few = CommunityEstimates(tally: tally)
        #expect(few.participants == 49)
        #expect(few.averageScore == .needsMoreReports(have: 49, neededReports: 1))
        #expect(few.betterThan(score: 70) == .needsMoreReports(have: 49, neededReports: 1))
        tally.score[5] += 1
        #expect(CommunityEstimates(tally: tally).averageScore.value != nil)
    }

    @Test("A region with 49 reports is withheld with 'needs 1 more report'; with 50 it is shown")
    func regionThreshold() {
        var tally = ReportTally()
        tally.regionGrade[.oceania] = [10, 10, 10, 10, 9]
        let withheld = CommunityEstimates(tally: tally).regionalStats(.oceania)
        #expect(withheld == .needsMoreReports(have: 49, neededReports: 1))
        #expect(InsightTexts.region(withheld, region: .oceania) == "Regional figures for Oceania: needs 1 more report")
        tally.regionGrade[.oceania]![0] += 1
        let shown = CommunityEstimates(tally: tally).regionalStats(.oceania)
        #expect(shown.value?.reports == 50)
    }

    @Test("Tool usage among A-grade peers needs K reports that drew the tool")
    func toolThreshold() {
        var tally = ReportTally()
        tally.tool[.uBlockOrigin] = [5, 5, 5, 34]
        #expect(
            CommunityEstimates(tally: tally).toolUsage(.uBlockOrigin) == .needsMoreReports(have: 49, neededReports: 1)
        )
        tally.tool[.uBlockOrigin]![0] += 1
        let usage = CommunityEstimates(tally: tally).toolUsage(.uBlockOrigin).value
        #expect(abs((usage?.estimatedAGradeReports ?? 0) - 50) < 1e-9)
    }

    @Test("Tool usage among A-grade peers also needs an estimated K A-grade reports")
    func toolNeedsAGradeReports() {
        var tally = ReportTally()
        // 10% of 300 reports from A-grade users: about 30, so about 200 more reports are needed.
        tally.tool[.ghostery] = expectedCounts(shares: [0.6, 0.3, 0.05, 0.05], reports: 300, type: .tool)
        guard case .needsMoreReports(let have, let needed) = CommunityEstimates(tally: tally).toolUsage(.ghostery)
        else {
            Issue.record("expected the figure to be withheld")
            return
        }
        #expect(have == tally.tool[.ghostery]!.reduce(0, +))
        #expect((440...560).contains(have + needed), "\(have) + \(needed)")
    }
}

@Suite("Recommendations")
struct RecommendationTests {
    /// A network where 30% of users are A-grade and A-grade peers use `tool` with share `aShare`.
    func tally(tool: ProtectionTool, aShare: Double, reports: Int) -> ReportTally {
        var tally = ReportTally()
        tally.score = expectedCounts(
            shares: [0, 0, 0, 0.05, 0.05, 0.1, 0.15, 0.15, 0.2, 0.3],
            reports: 5_000,
            type: .score
        )
        tally.tool[tool] = expectedCounts(
            shares: [0.5, 0.2, 0.3 * (1 - aShare), 0.3 * aShare],
            reports: reports,
            type: .tool
        )
        return tally
    }

    @Test("A tool most A-grade peers use is recommended with its evidence")
    func toolRecommended() throws {
        let estimates = CommunityEstimates(tally: self.tally(tool: .privacyBadger, aShare: 0.85, reports: 4_000))
        let recommendations = RecommendationEngine().recommendations(for: profile(score: 70), estimates: estimates)
        let first = try #require(recommendations.first)
        #expect(first.kind == .adoptTool(.privacyBadger))
        #expect(abs(first.evidence.value - 85) < 3)
        #expect(first.evidence.lower >= 100.0 / 3)
        #expect(first.evidence.supportingReports == estimates.tally.count(of: ProtectionTool.privacyBadger))
        #expect(first.message.hasPrefix("High-scoring peers recommend Privacy Badger: 85% of A-grade peers use it"))
        #expect(first.topic == .learningBlockers)
    }

    @Test("No tool recommendation from fewer than K reports, however strong the signal")
    func toolNeedsK() {
        let estimates = CommunityEstimates(tally: self.tally(tool: .privacyBadger, aShare: 1, reports: 49))
        let recommendations = RecommendationEngine().recommendations(for: profile(score: 70), estimates: estimates)
        #expect(!recommendations.contains { $0.kind == .adoptTool(.privacyBadger) })
    }

    @Test("No recommendation for a tool the user already uses, or whose interval is too wide")
    func toolNotRecommended() {
        let strong = CommunityEstimates(tally: self.tally(tool: .privacyBadger, aShare: 0.85, reports: 4_000))
        #expect(
            RecommendationEngine().recommendations(for: profile(score: 70, tools: [.privacyBadger]), estimates: strong)
                .isEmpty
        )
        let noisy = CommunityEstimates(tally: self.tally(tool: .privacyBadger, aShare: 0.6, reports: 80))
        #expect(RecommendationEngine().recommendations(for: profile(score: 70), estimates: noisy).isEmpty)
    }

    @Test("A user with more trackers than most peers gets a tracker recommendation")
    func trackerLag() throws {
        var tally = ReportTally()
        tally.trackers = expectedCounts(shares: [0.05, 0.3, 0.35, 0.2, 0.05, 0.05], reports: 3_000, type: .trackers)
        let estimates = CommunityEstimates(tally: tally)
        let heavy = RecommendationEngine().recommendations(for: profile(score: 60, trackers: 40), estimates: estimates)
        let recommendation = try #require(heavy.first { $0.kind == .reduceTrackers })
        #expect(abs(recommendation.evidence.value - 90) < 3)
        #expect(
            RecommendationEngine().recommendations(for: profile(score: 60, trackers: 3), estimates: estimates).isEmpty
        )
        // The same shares from 40 reports: below K, nothing.
        tally.trackers = expectedCounts(shares: [0.05, 0.3, 0.35, 0.2, 0.05, 0.05], reports: 40, type: .trackers)
        #expect(
            RecommendationEngine().recommendations(
                for: profile(score: 60, trackers: 40),
                estimates: CommunityEstimates(tally: tally)
            ).isEmpty
        )
    }
}

@Suite("Trends")
struct TrendTests {
    func snapshot(_ epoch: Int, _ average: Double, se: Double, participants: Int = 1_000) -> AggregateSnapshot {
        AggregateSnapshot(
            epoch: epoch,
            participants: participants,
            averageScore: Estimate(
                normal: average,
                standardError: se,
                supportingReports: participants,
                clampedTo: 0...100
            )
        )
    }

    @Test("A change larger than its interval is claimed, with the relative change")
    func clearChange() throws {
        let trend = try #require(
            TrendAnalysis().latestChange([self.snapshot(1, 60, se: 1), self.snapshot(2, 69, se: 1)])
        )
        #expect(trend.direction == .up)
        #expect(abs(trend.relativeChangePercent - 15) < 1e-9)
        #expect(InsightTexts.weeklyChange(trend).hasPrefix("Network average up 15% this week (+9 points"))
    }

    @Test("A change within the interval is not claimed")
    func noClearChange() throws {
        let trend = try #require(
            TrendAnalysis().latestChange([self.snapshot(1, 60, se: 3), self.snapshot(2, 66, se: 3)])
        )
        #expect(trend.direction == .noClearChange)
        #expect(InsightTexts.weeklyChange(trend).hasPrefix("Network average: no clear change this week"))
    }

    @Test("Epochs below the network minimum are skipped; a steady rise over weeks is an upward trend")
    func overallTrend() throws {
        let snapshots = [
            self.snapshot(1, 60, se: 1.5), self.snapshot(2, 62, se: 1.5),
            self.snapshot(3, 90, se: 1.5, participants: 10),
            self.snapshot(4, 65, se: 1.5), self.snapshot(5, 67, se: 1.5),
        ]
        let trend = try #require(TrendAnalysis().overallTrend(snapshots))
        #expect(trend.direction == .up)
        #expect(trend.toEpoch == 5 && trend.fromEpoch == 1)
        #expect(abs(trend.change.value - 7) < 0.5)
        #expect(InsightTexts.overallTrend(trend) == "Privacy scores in your network trending upward")
        #expect(TrendAnalysis().overallTrend(Array(snapshots.prefix(2))) == nil)
    }

    @Test("The user's own change is exact")
    func ownChange() {
        let trend = TrendAnalysis().ownScoreChange([.init(epoch: 2, score: 85), .init(epoch: 1, score: 79)])
        #expect(trend?.change == 6)
        #expect(InsightTexts.ownChange(trend) == "Your score improved by 6 points since last week")
    }

    @Test("Withheld and shown figures round-trip through JSON in a readable form")
    func displayedCodable() throws {
        let withheld: Displayed<Estimate> = .needsMoreReports(have: 12, neededReports: 38)
        let data = try JSONEncoder().encode(withheld)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["status"] as? String == "needs_more_reports")
        #expect(object["needed"] as? Int == 38)
        #expect(try JSONDecoder().decode(Displayed<Estimate>.self, from: data) == withheld)
        let shown: Displayed<Estimate> = .shown(
            Estimate(normal: 70, standardError: 1, supportingReports: 100, clampedTo: 0...100)
        )
        #expect(try JSONDecoder().decode(Displayed<Estimate>.self, from: JSONEncoder().encode(shown)) == shown)
        let bad = Data(#"{"status": "maybe"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Displayed<Estimate>.self, from: bad) }
    }

    @Test("Snapshots round-trip through JSON")
    func codable() throws {
        let snapshot = self.snapshot(7, 71.5, se: 0.7)
        let data = try JSONEncoder().encode(snapshot)
        #expect(try JSONDecoder().decode(AggregateSnapshot.self, from: data) == snapshot)
    }
}

@Suite("Texts, leaderboard, education and peer context")
struct PresentationTests {
    func estimate(_ value: Double, halfWidth: Double, reports: Int = 1_000) -> Estimate {
        Estimate(
            value: value,
            lower: value - halfWidth,
            upper: value + halfWidth,
            standardError: halfWidth / 1.96,
            supportingReports: reports
        )
    }

    @Test("The plan's sentences come out of the estimates")
    func planTexts() {
        #expect(InsightTexts.networkStatus(participants: 47) == "Connected to 47 privacy-conscious users")
        #expect(
            InsightTexts.rank(betterThan: .shown(self.estimate(78.2, halfWidth: 4)))
                == "Better than 78% of connected peers (95% interval 74–82%)"
        )
        #expect(
            InsightTexts.averageComparison(networkAverage: .shown(self.estimate(82.3, halfWidth: 2.6)), userScore: 91)
                == "Network average: B (82 ±3), Your score: A (91)"
        )
        let usage = ToolUsage(
            tool: .uBlockOrigin,
            reports: 212,
            estimatedAGradeReports: 60,
            shareAmongAGrade: self.estimate(0.85, halfWidth: 0.1),
            shareAmongOthers: nil
        )
        #expect(
            InsightTexts.toolPopularity(.shown(usage), tool: .uBlockOrigin)
                == "85% of A-grade peers use uBlock Origin (95% interval 75–95%, 212 reports)"
        )
        let region = RegionalStats(region: .europe, reports: 62, gradeShares: [], typicalGrade: .b)
        #expect(
            InsightTexts.region(.shown(region), region: .europe)
                == "Connected to 62 users in your region (Europe); typical grade B"
        )
        #expect(
            InsightTexts.rank(betterThan: .needsMoreReports(have: 12, neededReports: 38))
                == "Your rank: gathering data (12 of 50 reports so far)"
        )
    }

    @Test("The dashboard of a synthetic network compares the user and marks their own rows")
    func dashboard() throws {
        let population = SyntheticPopulation(count: 20_000, seed: 31)
        let estimates = CommunityEstimates(reports: population.randomizedReports(seed: 32))
        let user = profile(score: 91, tools: [.uBlockOrigin], trackers: 45, highRisk: 20, region: .europe)
        let dashboard = CommunityDashboard(
            estimates: estimates,
            profile: user,
            lastUpdated: Date(timeIntervalSince1970: 1_790_000_000),
            epochProgress: 0.5
        )
        #expect(dashboard.stats.connectedPeers == 20_000)
        let betterThan = try #require(dashboard.comparison.betterThan.value)
        #expect(betterThan.covers(100 * population.trueBetterThan(score: 91)))
        #expect(dashboard.texts[0] == "Connected to 20000 privacy-conscious users")
        #expect(dashboard.texts[2].hasSuffix("Your score: A (91)"))
        let grades = try #require(dashboard.leaderboard.grades.value)
        #expect(grades.filter(\.isYou).map(\.grade) == [.a])
        #expect(dashboard.leaderboard.regions.filter(\.isYou).map(\.region) == [.europe])
        #expect(dashboard.areas.first { $0.area == .trackers }?.standing == .behind)
        #expect(dashboard.comparison.recommendations.contains { $0.kind == .reduceTrackers })
        let explanation = PeerContext.scoreExplanation(dashboard)
        #expect(explanation.hasPrefix("Your privacy score is 91 (grade A). Among the 20000 peers heard from this week"))
        let block = PeerContext.promptBlock(dashboard)
        #expect(block.contains("peers_this_week: 20000"))
        #expect(block.contains("trackers_standing: behind"))
    }

    @Test("A small network gathers data instead of showing numbers")
    func smallNetwork() {
        let population = SyntheticPopulation(count: 30, seed: 1)
        let estimates = CommunityEstimates(reports: population.randomizedReports(seed: 2))
        let dashboard = CommunityDashboard(
            estimates: estimates,
            profile: profile(score: 75),
            lastUpdated: Date(timeIntervalSince1970: 0),
            epochProgress: 1
        )
        #expect(dashboard.comparison.networkAverage == .needsMoreReports(have: 30, neededReports: 20))
        #expect(dashboard.leaderboard.grades == .needsMoreReports(have: 30, neededReports: 20))
        #expect(dashboard.comparison.recommendations.isEmpty)
        #expect(
            PeerContext.promptBlock(dashboard).contains("network_average: gathering data (30 of 50 reports so far)")
        )
    }

    @Test("At least 12 lessons, each tool's lesson names the tool")
    func education() {
        #expect(EducationTopic.allCases.count >= 12)
        for topic in EducationTopic.allCases {
            #expect(!topic.entry.title.isEmpty && topic.entry.body.count > 40)
        }
        for tool in ProtectionTool.allCases {
            #expect(EducationTopic.topic(for: tool).entry.relatedTools.contains(tool), "\(tool)")
        }
        #expect(
            EducationTopic.topics(for: profile(score: 40, trackers: 40, highRisk: 20)).starts(with: [
                .lowScore, .tooManyTrackers, .highRiskTrackers,
            ])
        )
    }
}
