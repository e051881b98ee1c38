import Foundation
import PrivacyCore
import Testing

@Suite("PrivacyReport JSON")
struct PrivacyReportJSONTests {
    static func decode(_ json: String) throws(PrivacyReportError) -> PrivacyReport {
        try PrivacyReport(jsonData: Data(json.utf8))
    }

    static func event(
        domain: String = "\"doubleclick.net\"",
        category: String = "\"advertising\"",
        risk: String = "\"high\"",
        site: String = "\"news\"",
        time: String = "\"2026-11-20T10:15:00Z\"",
        extra: String = ""
    ) -> String {
        """
        {"tracker_domain": \(domain), "tracker_category": \(category), "risk_level": \(risk), \
        "site_category": \(site), "time": \(time)\(extra)}
        """
    }

    static func report(
        score: String = "91",
        events: [String] = [event()],
        tools: String = "[\"ublock_origin\"]",
        extra: String = ""
    ) -> String {
        "{\"score\": \(score), \"events\": [\(events.joined(separator: ","))], \"tools\": \(tools)\(extra)}"
    }

    @Test("The example report decodes: an A-grade user with 20 events")
    func example() throws {
        let report = try Self.decode(PrivacyReport.exampleJSON)
        #expect(report.grade == .a)
        #expect(report.events.count == 20)
        #expect(report.region == .europe)
        #expect(report.tools.contains(.uBlockOrigin))
        #expect(report.events[13].riskLevel == .critical)
        #expect(report.events[0].time == 1_794_816_760)
    }

    @Test("Encoding then decoding gives the same report")
    func roundTrip() throws {
        let report = try Self.decode(PrivacyReport.exampleJSON)
        #expect(try PrivacyReport(jsonData: report.jsonData()) == report)
        let minimal = try Self.decode(Self.report(events: [], tools: "[]"))
        #expect(minimal.region == nil)
        #expect(try PrivacyReport(jsonData: minimal.jsonData()) == minimal)
    }

    @Test("Fractional seconds are accepted")
    func fractionalSeconds() throws {
        let report = try Self.decode(Self.report(events: [Self.event(time: "\"2026-11-20T10:15:00.250Z\"")]))
        #expect(abs(report.events[0].time - 1_795_169_700.25) < 0.001)
    }

    @Test(
        "Malformed reports are rejected with the field path and the problem",
        arguments: [
            (report(score: "101"), "score: 101 is out of range (allowed: 0...100)"),
            (report(score: "-1"), "score: -1 is out of range (allowed: 0...100)"),
            (report(score: "\"91\""), "score: wrong type, expected an integer"),
            (report(score: "91.5"), "score: wrong type, expected an integer"),
            ("{\"events\": [], \"tools\": []}", "score: required field is missing"),
            ("{\"score\": 1, \"tools\": []}", "events: required field is missing"),
            ("{\"score\": 1, \"events\": []}", "tools: required field is missing"),
            (report(extra: ", \"user\": \"me\""), "user: unknown field"),
            (report(events: [event(), event(extra: ", \"url\": \"x\"")]), "events[1].url: unknown field"),
            (
                report(events: [event(), event(), event(), event(risk: "\"severe\"")]),
                "events[3].risk_level: unknown value \"severe\" (expected one of low, medium, high, critical)"
            ),
            (report(events: [event(domain: "\"\"")]), "events[0].tracker_domain: \"\" is not a valid domain name"),
            (
                report(events: [event(domain: "\"a..b\"")]),
                "events[0].tracker_domain: \"a..b\" is not a valid domain name"
            ),
            (report(events: [event(domain: "42")]), "events[0].tracker_domain: wrong type, expected a string"),
            (
                report(events: [event(time: "\"yesterday\"")]),
                "events[0].time: \"yesterday\" is not an ISO 8601 UTC date-time between 2000 and 2100 (e.g. 2026-11-20T10:15:00Z)"
            ),
            (
                report(events: [event(time: "\"1999-12-31T23:59:59Z\"")]),
                "events[0].time: \"1999-12-31T23:59:59Z\" is not an ISO 8601 UTC date-time between 2000 and 2100 (e.g. 2026-11-20T10:15:00Z)"
            ),
            (
                report(events: [event(site: "\"casino\"")]),
                "events[0].site_category: unknown value \"casino\" (expected one of news, social, shopping, "
                    + "entertainment, search, reference, technology, finance, travel, sports, games, other, health, "
                    + "religion, politics, adult, dating, jobs)"
            ),
            (report(events: [event(site: "null")]), "events[0].site_category: wrong type, expected a string"),
            (report(events: [event()].map { _ in "[]" }), "events[0]: wrong type, expected an object"),
            (
                report(tools: "[\"ublock_origin\", \"ublock_origin\"]"),
                "tools[1]: \"ublock_origin\" is listed more than once"
            ),
            (report(tools: "\"ublock_origin\""), "tools: wrong type, expected an array"),
            (
                report(extra: ", \"region\": \"mars\""),
                "region: unknown value \"mars\" (expected one of north_america, latin_america, europe, middle_east_africa, asia, oceania)"
            ),
            ("[1, 2]", "report: wrong type, expected an object"),
        ]
    )
    func rejected(json: String, message: String) {
        #expect(throws: PrivacyReportError.self) { try Self.decode(json) }
        do {
            _ = try Self.decode(json)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("Non-JSON input is rejected as malformed JSON")
    func notJSON() {
        do {
            _ = try Self.decode("{\"score\": 9")
            Issue.record("accepted truncated JSON")
        } catch {
            guard case .malformedJSON = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
    }

    @Test("Documents over the size limit are rejected before parsing")
    func sizeLimit() {
        let json = Self.report()
        #expect(throws: PrivacyReportError.tooLarge(byteCount: json.utf8.count, limit: 10)) {
            try PrivacyReport(jsonData: Data(json.utf8), maximumBytes: 10)
        }
        #expect(PrivacyReport.Limits.maximumJSONBytes == 16 * 1024 * 1024)
    }

    @Test("More than 100,000 events are rejected")
    func eventLimit() {
        let events = [String](repeating: Self.event(), count: PrivacyReport.Limits.maximumEvents + 1)
        #expect(
            throws: PrivacyReportError.invalidField(path: "events", problem: .tooMany(count: 100_001, limit: 100_000))
        ) {
            try Self.decode(Self.report(events: events))
        }
    }

    @Test("Domains longer than 253 characters are rejected")
    func longDomain() {
        let domain = Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: ".")
        #expect(
            throws: PrivacyReportError.invalidField(
                path: "events[0].tracker_domain",
                problem: .tooLong(length: 304, limit: 253)
            )
        ) {
            try Self.decode(Self.report(events: [Self.event(domain: "\"\(domain)\"")]))
        }
    }
}
