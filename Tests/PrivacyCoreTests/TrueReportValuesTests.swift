import Foundation
import PrivacyCore
import TestSupport
import Testing

@Suite("True report values")
struct TrueReportValuesTests {
    @Test(
        "Tracker buckets: 0, 1–5, 6–15, 16–30, 31–50, 51+",
        arguments: [(0, 0), (1, 1), (5, 1), (6, 2), (15, 2), (16, 3), (30, 3), (31, 4), (50, 4), (51, 5), (400, 5)]
    )
    func trackerBuckets(count: Int, bucket: Int) {
        #expect(TrueReportValues.trackersBucket(distinctTrackers: count) == bucket)
    }

    @Test(
        "Risk buckets by share of high/critical events: 0, <10%, 10–30%, >30%",
        arguments: [(0, 0, 0), (0, 10, 0), (1, 11, 1), (1, 10, 2), (3, 10, 2), (30, 100, 2), (31, 100, 3), (5, 5, 3)]
    )
    func riskBuckets(high: Int, total: Int, bucket: Int) {
        #expect(TrueReportValues.riskBucket(highOrCritical: high, total: total) == bucket)
    }

    @Test("The example user's true values come from the summary and the uncapped local counts")
    func example() throws {
        let report = try PrivacyReport(jsonData: Data(PrivacyReport.exampleJSON.utf8))
        let settings = try P2PSettings(shareRegionalData: true)
        let summary = try anonymizeForP2P(report, settings: settings, now: Date(timeIntervalSince1970: 1_795_400_000))
        let truth = TrueReportValues(report: report, summary: summary)
        #expect(summary.privacyScore == 90)
        #expect(truth.scoreDecile == 9)
        #expect(truth.grade == .a)
        #expect(truth.trackersBucket == 3)  // 18 distinct tracker domains
        #expect(truth.riskBucket == 2)  // 6 of 20 events high/critical: exactly 30%
        #expect(truth.region == .europe)
        #expect(truth.topCategories == summary.websiteCategories)
    }

    @Test("Beyond the cap of 50 the summary says 50 but the trackers bucket still says 51+")
    func cap() throws {
        let events = (0..<60).map {
            PrivacyReport.TrackerEvent(
                trackerDomain: "t\($0).example",
                trackerCategory: .analytics,
                riskLevel: .low,
                siteCategory: .news,
                time: 1_795_000_000
            )
        }
        let report = PrivacyReport(score: 75, events: events, tools: [], region: nil)
        let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
        #expect(summary.trackerCount == 50)
        #expect(TrueReportValues(report: report, summary: summary).trackersBucket == 5)
    }

    @Test("Tool reports carry a uniformly drawn tool; regionGrade needs a region")
    func toolAndRegion() throws {
        let report = PrivacyReport(score: 95, events: [], tools: [.uBlockOrigin], region: .oceania)
        let hidden = try anonymizeForP2P(report, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
        var rng = SplitMix64(seed: 5)
        #expect(
            TrueReportValues(report: report, summary: hidden).wireReport(
                .regionGrade,
                secret: fixedSecret(1),
                using: &rng
            ) == nil
        )
        let shared = try anonymizeForP2P(
            report,
            settings: P2PSettings(shareRegionalData: true),
            now: Date(timeIntervalSince1970: 0)
        )
        let truth = TrueReportValues(report: report, summary: shared)
        var tools: Set<ProtectionTool> = []
        for _ in 0..<500 {
            guard case .tool(let tool, _, _) = truth.wireReport(.tool, secret: fixedSecret(1), using: &rng) else {
                Issue.record("not a tool report")
                return
            }
            tools.insert(tool)
            guard case .regionGrade(let region, _) = truth.wireReport(.regionGrade, secret: fixedSecret(1), using: &rng)
            else {
                Issue.record("not a regionGrade report")
                return
            }
            #expect(region == .oceania)
        }
        #expect(tools == Set(ProtectionTool.allCases))
        // No events: the category report answers "other" rather than being skipped.
        guard case .category = truth.wireReport(.category, secret: fixedSecret(1), using: &rng) else {
            Issue.record("not a category report")
            return
        }
    }
}
