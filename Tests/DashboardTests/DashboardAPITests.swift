import Dashboard
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PrivacyCore
import TestSupport
import Testing

@Suite("Dashboard API against docs/openapi.json")
struct DashboardAPITests {
    let validator = OpenAPIValidator(document: DashboardTesting.openAPI)

    /// Every (method, path) pair the document lists.
    var documentedOperations: Set<String> {
        var operations: Set<String> = []
        for (path, item) in DashboardTesting.openAPI["paths"]?.object ?? [:] {
            for method in (item.object ?? [:]).keys {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test("The OpenAPI document is 3.1 and every $ref in it resolves")
    func documentIsWellFormed() throws {
        let document = DashboardTesting.openAPI
        #expect(document["openapi"]?.string == "3.1.0")
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let reference = members["$ref"]?.string { references.append(reference) }
                members.values.forEach(collect)
            case .array(let elements): elements.forEach(collect)
            default: break
            }
        }
        collect(document)
        #expect(references.count > 50)
        let checker = JSONSchemaChecker(document: document)
        for reference in references {
            #expect(checker.resolve(reference) != nil, "unresolved \(reference)")
        }
        #expect(self.documentedOperations.count == 13)
    }

    @Test("Every documented operation answers as documented: status, media type and JSON shape")
    func everyOperationMatchesTheDocument() async throws {
        let fixture = await DashboardFixture.shared.value
        let source = FakeDashboardSource(fixture: fixture, hasReport: false)
        source.queueUpdates([.status, .statistics, .peers])
        let server = try DashboardTesting.server(source)
        let validator = self.validator
        let reportJSON = String(decoding: fixture.user.privacyReport.jsonData(), as: UTF8.self)

        let exercised = try await DashboardTesting.withRouter(server) { client in
            var exercised: Set<String> = []
            func check(
                _ method: HTTPRequest.Method,
                _ path: String,
                headers: HTTPFields = DashboardTesting.headers(),
                body: String? = nil,
                expect status: HTTPResponse.Status
            ) async throws -> TestResponse {
                let response = try await client.execute(
                    uri: path,
                    method: method,
                    headers: headers,
                    body: body.map(DashboardTesting.body)
                )
                #expect(response.status == status, "\(method) \(path)")
                let problems = validator.problems(response, path: path, method: method)
                #expect(problems.isEmpty, "\(problems)")
                exercised.insert("\(method.rawValue) \(path)")
                return response
            }
            // Before the privacy tool sent a report.
            for path in ["/api/v1/comparison", "/api/v1/insights"] {
                let response = try await check(.get, path, expect: .ok)
                let body = try JSONValue.parse(Data(response.body.readableBytesView))
                #expect(body["state"]?.string == "no_report")
            }
            _ = try await check(.get, "/api/v1/disclosure", expect: .ok)
            // The privacy tool pushes its report.
            let accepted = try await check(
                .post,
                "/api/v1/report",
                headers: DashboardTesting.headers(token: DashboardTesting.token, json: true),
                body: reportJSON,
                expect: .accepted
            )
            let acceptedBody = try JSONValue.parse(Data(accepted.body.readableBytesView))
            #expect(acceptedBody["score"]?.number == Double(fixture.user.privacyReport.score))
            for path in ["/", "/assets/dashboard.css", "/assets/dashboard.js"] {
                _ = try await check(.get, path, expect: .ok)
            }
            for path in [
                "/api/v1/status", "/api/v1/stats", "/api/v1/comparison", "/api/v1/insights", "/api/v1/peers",
                "/api/v1/settings", "/api/v1/disclosure",
            ] {
                let response = try await check(.get, path, expect: .ok)
                let body = try JSONValue.parse(Data(response.body.readableBytesView))
                #expect(body["state"]?.string != "no_report", "\(path)")
            }
            _ = try await check(
                .put,
                "/api/v1/settings",
                headers: DashboardTesting.headers(token: DashboardTesting.token, json: true),
                body: #"{"maxConnections": 7}"#,
                expect: .ok
            )
            let events = try await check(.get, "/api/v1/events", expect: .ok)
            let stream = String(buffer: events.body)
            #expect(stream.hasPrefix("retry: 2000\nevent: hello\ndata: {}\n\n"))
            #expect(stream.contains("event: update\ndata: {\"topic\":\"status\"}\n\n"))
            #expect(stream.contains("event: update\ndata: {\"topic\":\"statistics\"}\n\n"))
            #expect(stream.contains("event: update\ndata: {\"topic\":\"peers\"}\n\n"))
            return exercised
        }
        #expect(source.submittedReports == [fixture.user.privacyReport])
        #expect(exercised == self.documentedOperations)
    }

    @Test("The insights carry the page's figures: rank with interval, average, tools, recommendations, trends")
    func insightsCarryTheFigures() async throws {
        let fixture = await DashboardFixture.shared.value
        let server = try DashboardTesting.server(FakeDashboardSource(fixture: fixture))
        try await DashboardTesting.withRouter(server) { client in
            let comparison = try await client.execute(
                uri: "/api/v1/comparison",
                method: .get,
                headers: DashboardTesting.headers()
            )
            let body = try JSONValue.parse(Data(comparison.body.readableBytesView))
            let betterThan = try #require(body["betterThan"]?["value"])
            let value = try #require(betterThan["value"]?.number)
            let lower = try #require(betterThan["lower"]?.number)
            let upper = try #require(betterThan["upper"]?.number)
            #expect(lower <= value && value <= upper && upper <= 100)
            let (whole, low, high) = (Int(value.rounded()), Int(lower.rounded()), Int(upper.rounded()))
            #expect(
                body["rankText"]?.string == "Better than \(whole)% of connected peers (95% interval \(low)–\(high)%)"
            )

            let insights = try await client.execute(
                uri: "/api/v1/insights",
                method: .get,
                headers: DashboardTesting.headers()
            )
            let view = try JSONValue.parse(Data(insights.body.readableBytesView))
            let tools = try #require(view["popularTools"]?.array)
            #expect(!tools.isEmpty)
            #expect(view["popularToolsText"]?.string?.contains("of A-grade peers use") == true)
            #expect(view["trends"]?["history"]?.array?.count == 5)
            // The fake is a demo network with 10-minute epochs: the texts name the demo epoch, not a week.
            #expect(view["trends"]?["ownText"]?.string == "Your score improved by 4 points since last demo epoch")
            let regions = try #require(view["leaderboard"]?["regions"]?.array)
            #expect(regions.count == Region.allCases.count)
            #expect(view["education"]?.array?.isEmpty == false)
        }
    }

    @Test("Withheld figures are sent as needs_more_reports with the reports still needed, as documented")
    func withheldFigures() async throws {
        let fixture = await DashboardFixture.shared.value
        let server = try DashboardTesting.server(FakeDashboardSource(fixture: fixture, sparse: true))
        let validator = self.validator
        try await DashboardTesting.withRouter(server) { client in
            for path in ["/api/v1/stats", "/api/v1/insights", "/api/v1/comparison", "/api/v1/status"] {
                let response = try await client.execute(uri: path, method: .get, headers: DashboardTesting.headers())
                #expect(response.status == .ok)
                let problems = validator.problems(response, path: path, method: .get)
                #expect(problems.isEmpty, "\(problems)")
            }
            let stats = try await client.execute(
                uri: "/api/v1/stats",
                method: .get,
                headers: DashboardTesting.headers()
            )
            let regions = try #require(try JSONValue.parse(Data(stats.body.readableBytesView))["regions"]?.array)
            let withheld = regions.filter { $0["stats"]?["status"]?.string == "needs_more_reports" }
            #expect(!withheld.isEmpty)
            for region in withheld {
                let have = try #require(region["stats"]?["have"]?.number)
                let needed = try #require(region["stats"]?["needed"]?.number)
                #expect(have + needed == 50)
                #expect(region["text"]?.string?.hasSuffix("needs \(Int(needed)) more reports") == true)
            }
            let insights = try await client.execute(
                uri: "/api/v1/insights",
                method: .get,
                headers: DashboardTesting.headers()
            )
            let view = try JSONValue.parse(Data(insights.body.readableBytesView))
            #expect(view["popularTools"]?.array?.isEmpty == true)
            #expect(view["popularToolsText"]?.string == "Popular tools among A-grade peers: gathering data")
        }
    }
}
