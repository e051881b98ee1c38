import Foundation
import PrivacyCore
import PropertyBased
import Testing

@Suite("anonymizeForP2P")
struct AnonymizationTests {
    @Test("Score is rounded to the nearest 5 and the grade comes from the rounded score")
    func scoreAndGrade() async {
        await propertyCheck(count: 300, input: Generators.report, Generators.now) { report, now in
            let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: now)
            #expect(summary.privacyScore % 5 == 0)
            #expect((0...100).contains(summary.privacyScore))
            #expect(abs(summary.privacyScore - report.score) <= 2)
            #expect(summary.grade == Grade(score: summary.privacyScore))
        }
    }

    @Test("Rounding examples: 92 → 90, 93 → 95, 89 → 90 (grade A), 87 → 85 (grade B)")
    func roundingExamples() throws {
        for (score, rounded, grade) in [(92, 90, Grade.a), (93, 95, .a), (89, 90, .a), (87, 85, .b), (0, 0, .f)] {
            let report = PrivacyReport(score: score, events: [], tools: [], region: nil)
            let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
            #expect(summary.privacyScore == rounded)
            #expect(summary.grade == grade)
        }
    }

    @Test("Tracker count is the distinct tracker domains, capped at 50")
    func trackerCount() async {
        await propertyCheck(count: 300, input: Generators.report) { report in
            let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
            let distinct = Set(report.events.map(\.trackerDomain)).count
            #expect(summary.trackerCount == min(distinct, 50))
            #expect((0...50).contains(summary.trackerCount))
        }
    }

    @Test("Risk shares are whole percents within one point of the exact share, summing to 100 (0 with no events)")
    func riskShares() async {
        await propertyCheck(count: 300, input: Generators.report) { report in
            let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
            let total = RiskLevel.allCases.reduce(0) { $0 + summary.riskDistribution[$1] }
            #expect(total == (report.events.isEmpty ? 0 : 100))
            for level in RiskLevel.allCases where !report.events.isEmpty {
                let exact = 100 * Double(report.events.count { $0.riskLevel == level }) / Double(report.events.count)
                #expect(abs(Double(summary.riskDistribution[level]) - exact) < 1)
            }
        }
    }

    @Test("At most 3 categories: the most frequent after folding, in canonical order, never sensitive")
    func categories() async {
        await propertyCheck(count: 300, input: Generators.report) { report in
            let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
            let categories = summary.websiteCategories
            #expect(categories.count == min(3, Set(report.events.map { SiteCategory(folding: $0.siteCategory) }).count))
            #expect(categories == categories.sorted { $0.index < $1.index })
            #expect(Set(categories).count == categories.count)
            #expect(categories.allSatisfy { WebsiteCategory(rawValue: $0.rawValue)?.isSensitive == false })
            var counts: [SiteCategory: Int] = [:]
            for event in report.events { counts[SiteCategory(folding: event.siteCategory), default: 0] += 1 }
            let weakestChosen = categories.map { counts[$0] ?? 0 }.min() ?? 0
            for (category, count) in counts where !categories.contains(category) {
                #expect(count <= weakestChosen)
            }
        }
    }

    @Test("Timestamp is the nearest whole hour")
    func timestamp() async {
        await propertyCheck(count: 300, input: Generators.now) { now in
            let report = PrivacyReport(score: 50, events: [], tools: [], region: nil)
            let summary = try anonymizeForP2P(report, settings: P2PSettings(), now: now)
            let seconds = summary.timestamp.timeIntervalSince1970
            #expect(seconds.truncatingRemainder(dividingBy: 3600) == 0)
            #expect(abs(seconds - now.timeIntervalSince1970) <= 1800)
        }
    }

    @Test("The region is kept only with shareRegionalData on")
    func region() async {
        await propertyCheck(count: 200, input: Generators.report, Gen.bool) { report, share in
            let settings = try P2PSettings(shareRegionalData: share)
            let summary = try anonymizeForP2P(report, settings: settings, now: Date(timeIntervalSince1970: 0))
            #expect(summary.region == (share ? report.region : nil))
        }
    }

    @Test("Every summary passes the validating initializer and survives a JSON round trip")
    func summaryIsValid() async {
        await propertyCheck(count: 200, input: Generators.report, Generators.now) { report, now in
            let summary = try anonymizeForP2P(report, settings: P2PSettings(shareRegionalData: true), now: now)
            let rebuilt = try AnonymousPrivacyData(
                privacyScore: summary.privacyScore,
                grade: summary.grade,
                trackerCount: summary.trackerCount,
                riskDistribution: summary.riskDistribution,
                websiteCategories: summary.websiteCategories,
                timestamp: summary.timestamp,
                region: summary.region
            )
            #expect(rebuilt == summary)
            let decoded = try JSONDecoder().decode(AnonymousPrivacyData.self, from: JSONEncoder().encode(summary))
            #expect(decoded == summary)
        }
    }

    @Test("An invalid local report is rejected with the field named")
    func invalidReport() {
        let badScore = PrivacyReport(score: 101, events: [], tools: [], region: nil)
        #expect(
            throws: PrivacyReportError.invalidField(
                path: "score",
                problem: .outOfRange(value: "101", allowed: "0...100")
            )
        ) {
            try anonymizeForP2P(badScore, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
        }
        let event = PrivacyReport.TrackerEvent(
            trackerDomain: "bad domain",
            trackerCategory: .advertising,
            riskLevel: .low,
            siteCategory: .news,
            time: 1_800_000_000
        )
        let badDomain = PrivacyReport(score: 50, events: [event], tools: [], region: nil)
        #expect(
            throws: PrivacyReportError.invalidField(
                path: "events[0].tracker_domain",
                problem: .invalidDomain("bad domain")
            )
        ) {
            try anonymizeForP2P(badDomain, settings: P2PSettings(), now: Date(timeIntervalSince1970: 0))
        }
    }
}

@Suite("AnonymousPrivacyData validation")
struct AnonymousPrivacyDataValidationTests {
    static let hour = Date(timeIntervalSince1970: 1_794_999_600)  // a whole hour
    static let risk = RiskDistribution(low: 40, medium: 30, high: 20, critical: 10)
    static let noRisk = RiskDistribution(low: 0, medium: 0, high: 0, critical: 0)

    static func make(
        score: Int = 90,
        grade: Grade? = nil,
        trackers: Int = 12,
        risk: RiskDistribution = risk,
        categories: [SiteCategory] = [.news, .shopping],
        timestamp: Date = hour
    ) throws(AnonymousPrivacyDataError) -> AnonymousPrivacyData {
        try AnonymousPrivacyData(
            privacyScore: score,
            grade: grade ?? Grade(score: score),
            trackerCount: trackers,
            riskDistribution: risk,
            websiteCategories: categories,
            timestamp: timestamp,
            region: .europe
        )
    }

    @Test("A consistent summary is accepted")
    func accepts() throws {
        let summary = try Self.make()
        #expect(summary.privacyScore == 90)
        _ = try Self.make(trackers: 0, risk: Self.noRisk, categories: [])
    }

    @Test("Scores that are not multiples of 5 are rejected")
    func unroundedScore() async {
        await propertyCheck(input: Gen.int(in: 0...100).filter { $0 % 5 != 0 }) { score in
            #expect(throws: AnonymousPrivacyDataError.scoreNotRounded(score)) { try Self.make(score: score) }
        }
    }

    @Test("Scores outside 0...100 are rejected")
    func scoreRange() async {
        await propertyCheck(input: Gen.int(in: 101...10_000).map { $0 * 5 }, Gen.bool) { magnitude, negative in
            let score = negative ? -magnitude : magnitude
            #expect(throws: AnonymousPrivacyDataError.scoreOutOfRange(score)) {
                try Self.make(score: score, grade: .a)
            }
        }
    }

    @Test("A grade that is not the rounded score's grade is rejected")
    func gradeMismatch() async {
        await propertyCheck(input: Gen.int(in: 0...20).map { $0 * 5 }, Gen<Grade>.case) { score, grade in
            if grade == Grade(score: score) {
                #expect(throws: Never.self) { try Self.make(score: score, grade: grade) }
            } else {
                #expect(throws: AnonymousPrivacyDataError.gradeMismatch(score: score, grade: grade)) {
                    try Self.make(score: score, grade: grade)
                }
            }
        }
    }

    @Test("Tracker counts outside 0...50 are rejected")
    func trackerCap() async {
        await propertyCheck(input: Gen.int(in: 51...100_000), Gen.bool) { magnitude, negative in
            let count = negative ? -magnitude : magnitude
            #expect(throws: AnonymousPrivacyDataError.trackerCountOutOfRange(count)) { try Self.make(trackers: count) }
        }
    }

    @Test("Risk shares must be percents summing to 100 with trackers, 0 without")
    func riskShares() async {
        await propertyCheck(input: zip(Gen.int(in: 0...100), Gen.int(in: 0...100), Gen.int(in: 0...100))) { a, b, c in
            let risk = RiskDistribution(low: a, medium: b, high: c, critical: 0)
            let sum = a + b + c
            if sum == 100 {
                #expect(throws: Never.self) { try Self.make(risk: risk) }
            } else {
                #expect(throws: AnonymousPrivacyDataError.riskDistributionSum(sum, trackerCount: 12)) {
                    try Self.make(risk: risk)
                }
            }
        }
        #expect(throws: AnonymousPrivacyDataError.riskShareOutOfRange(.low, -10)) {
            try Self.make(risk: RiskDistribution(low: -10, medium: 50, high: 50, critical: 10))
        }
        #expect(throws: AnonymousPrivacyDataError.riskDistributionSum(100, trackerCount: 0)) {
            try Self.make(trackers: 0, risk: Self.risk, categories: [])
        }
    }

    @Test("Categories: at most 3, distinct, canonical order, present exactly when there are trackers")
    func categories() async {
        await propertyCheck(input: Gen<SiteCategory>.case.array(of: 1...6)) { categories in
            let canonical = zip(categories, categories.dropFirst()).allSatisfy { $0.index < $1.index }
            if categories.count > 3 {
                #expect(throws: AnonymousPrivacyDataError.tooManyCategories(categories.count)) {
                    try Self.make(categories: categories)
                }
            } else if !canonical {
                #expect(throws: AnonymousPrivacyDataError.categoriesNotCanonical(categories)) {
                    try Self.make(categories: categories)
                }
            } else {
                #expect(throws: Never.self) { try Self.make(categories: categories) }
            }
        }
        #expect(throws: AnonymousPrivacyDataError.categoriesInconsistent(count: 0, trackerCount: 12)) {
            try Self.make(categories: [])
        }
        #expect(throws: AnonymousPrivacyDataError.categoriesInconsistent(count: 1, trackerCount: 0)) {
            try Self.make(trackers: 0, risk: Self.noRisk, categories: [.news])
        }
    }

    @Test("Timestamps that are not a whole hour are rejected")
    func timestamp() async {
        await propertyCheck(input: Gen.int(in: 1...3599)) { offset in
            let time = Self.hour.addingTimeInterval(Double(offset))
            #expect(throws: AnonymousPrivacyDataError.timestampNotOnTheHour(time.timeIntervalSince1970)) {
                try Self.make(timestamp: time)
            }
        }
    }

    @Test("Decoding validates: a tampered JSON summary is rejected")
    func decodingValidates() throws {
        let json = #"""
            {"privacy_score": 91, "grade": "A", "tracker_count": 3,
             "risk_distribution": {"low": 100, "medium": 0, "high": 0, "critical": 0},
             "website_categories": ["news"], "timestamp": "2026-11-27T12:00:00Z"}
            """#
        #expect(throws: AnonymousPrivacyDataError.scoreNotRounded(91)) {
            try JSONDecoder().decode(AnonymousPrivacyData.self, from: Data(json.utf8))
        }
    }
}
