import CommunityInsights
import Foundation
import PrivacyCore
import Testing

@Suite("Local profile")
struct LocalProfileTests {
    static func event(_ domain: String, _ risk: RiskLevel, _ site: WebsiteCategory) -> PrivacyReport.TrackerEvent {
        PrivacyReport.TrackerEvent(
            trackerDomain: domain,
            trackerCategory: .advertising,
            riskLevel: risk,
            siteCategory: site,
            time: 1_790_000_000
        )
    }

    /// 12 distinct domains (one repeated in other case), 2 of 13 events high or critical, a sensitive category.
    static let report = PrivacyReport(
        score: 88,
        events: (0..<12).map { event("t\($0).example", $0 < 2 ? .critical : .low, $0 < 7 ? .health : .news) }
            + [event("T0.example", .low, .shopping)],
        tools: [.noScript],
        region: .asia
    )

    @Test("The profile carries PrivacyCore's true report values of the report and its summary")
    func matchesTrueReportValues() throws {
        let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, shareRegionalData: true)
        let summary = try anonymizeForP2P(Self.report, settings: settings, now: Date(timeIntervalSince1970: 1e9))
        let truth = TrueReportValues(report: Self.report, summary: summary)
        let profile = LocalProfile(report: Self.report, summary: summary)
        #expect(profile.score == 88 && profile.grade == Grade(score: 88))
        #expect(profile.anonymizedScore == 90 && profile.reportedGrade == truth.grade)
        #expect(profile.scoreDecile == truth.scoreDecile)
        #expect(profile.trackerCount == 12)
        #expect(profile.trackersBucket == truth.trackersBucket && profile.trackersBucket == 2)
        #expect(profile.riskBucket == truth.riskBucket && profile.riskBucket == 2)
        #expect(profile.topCategories == truth.topCategories)
        #expect(Set(profile.topCategories) == [.other, .news, .shopping])  // health events fold into "other"
        #expect(profile.tools == [.noScript] && profile.region == .asia)
        // The convenience initializer gives the same profile whatever the sharing settings.
        #expect(try LocalProfile(report: Self.report) == profile)
    }

    @Test("A report that breaks the format is refused with the field named")
    func invalidReport() {
        var report = Self.report
        report.score = 140
        #expect(
            throws: PrivacyReportError.invalidField(
                path: "score",
                problem: .outOfRange(value: "140", allowed: "0...100")
            )
        ) {
            try LocalProfile(report: report)
        }
    }
}
