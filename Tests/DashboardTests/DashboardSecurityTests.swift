import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PrivacyCore
import TestSupport
import Testing

@testable import Dashboard

@Suite("Dashboard security")
struct DashboardSecurityTests {
    @Test("The server binds loopback by default and refuses another address unless told")
    func loopbackOnlyByDefault() async throws {
        let fixture = await DashboardFixture.shared.value
        let source = FakeDashboardSource(fixture: fixture)
        let defaults = DashboardServer.Configuration(token: DashboardTesting.token)
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.isLoopback)
        for host in ["0.0.0.0", "192.168.1.20", "::"] {
            #expect(throws: DashboardError(code: .invalidConfiguration, message: "")) {
                try DashboardServer(configuration: .init(host: host, token: DashboardTesting.token), dataSource: source)
            }
            let told = try DashboardServer(
                configuration: .init(host: host, token: DashboardTesting.token, allowNonLoopback: true),
                dataSource: source
            )
            #expect(!told.configuration.isLoopback)
        }
        #expect(throws: DashboardError(code: .invalidConfiguration, message: "")) {
            try DashboardServer(configuration: .init(token: "short"), dataSource: source)
        }
    }

    @Test("A Host header that is not the loopback name and port is refused with 421 (DNS rebinding)")
    func hostHeaderIsChecked() async throws {
        let fixture = await DashboardFixture.shared.value
        let server = try DashboardTesting.server(FakeDashboardSource(fixture: fixture))
        try await DashboardTesting.withRouter(server) { client in
            for host in [
                "evil.example:8470", "127.0.0.1:9999", "localhost", "127.0.0.1", "127.0.0.1.evil.example:8470",
                "localhost:8470@evil.example", "[::1]", "localhost:08470x", "",
            ] {
                let response = try await client.execute(
                    uri: "/api/v1/status",
                    method: .get,
                    headers: DashboardTesting.headers(host: host)
                )
                #expect(response.status == .misdirectedRequest, "\(host)")
                #expect(DashboardTesting.errorCode(response) == "misdirected_request")
            }
            // The router test client's own authority is "localhost" without a port.
            let noHost = try await client.execute(uri: "/", method: .get, headers: DashboardTesting.headers(host: nil))
            #expect(noHost.status == .misdirectedRequest)
            for host in ["127.0.0.1:8470", "localhost:8470", "[::1]:8470", "LOCALHOST:8470"] {
                let response = try await client.execute(
                    uri: "/api/v1/status",
                    method: .get,
                    headers: DashboardTesting.headers(host: host)
                )
                #expect(response.status == .ok, "\(host)")
            }
        }
    }

    @Test("State-changing requests need the per-install token; without it nothing changes")
    func tokenIsRequired() async throws {
        let fixture = await DashboardFixture.shared.value
        let source = FakeDashboardSource(fixture: fixture)
        let before = try await source.settings()
        let server = try DashboardTesting.server(source)
        let reportJSON = String(decoding: fixture.user.privacyReport.jsonData(), as: UTF8.self)
        try await DashboardTesting.withRouter(server) { client in
            let wrongAuthorizations: [String?] = [
                nil, "Bearer", "Bearer ", "Bearer wrong-token-wrong-token", "Basic \(DashboardTesting.token)",
                "Bearer \(DashboardTesting.token.dropLast())", "Bearer \(DashboardTesting.token)x",
                "bearer \(DashboardTesting.token)",
            ]
            for authorization in wrongAuthorizations {
                var headers = DashboardTesting.headers(json: true)
                if let authorization { headers[.authorization] = authorization }
                let settings = try await client.execute(
                    uri: "/api/v1/settings",
                    method: .put,
                    headers: headers,
                    body: DashboardTesting.body(#"{"joinPrivacyNetwork": false}"#)
                )
                #expect(settings.status == .unauthorized, "\(authorization ?? "none")")
                #expect(DashboardTesting.errorCode(settings) == "unauthorized")
                let report = try await client.execute(
                    uri: "/api/v1/report",
                    method: .post,
                    headers: headers,
                    body: DashboardTesting.body(reportJSON)
                )
                #expect(report.status == .unauthorized)
            }
            let allowed = try await client.execute(
                uri: "/api/v1/settings",
                method: .put,
                headers: DashboardTesting.headers(token: DashboardTesting.token, json: true),
                body: DashboardTesting.body(#"{"joinPrivacyNetwork": false}"#)
            )
            #expect(allowed.status == .ok)
        }
        #expect(source.submittedReports.isEmpty)
        let after = try await source.settings()
        #expect(before.joinPrivacyNetwork && !after.joinPrivacyNetwork)
        #expect(after.maxConnections == before.maxConnections)
    }

    @Test("No CORS: no Access-Control header on any answer, preflights fail, foreign origins get 403")
    func noCORS() async throws {
        let fixture = await DashboardFixture.shared.value
        let server = try DashboardTesting.server(FakeDashboardSource(fixture: fixture))
        try await DashboardTesting.withRouter(server) { client in
            var preflight = DashboardTesting.headers()
            preflight[.origin] = "http://evil.example"
            preflight[.accessControlRequestMethod] = "PUT"
            preflight[.accessControlRequestHeaders] = "authorization, content-type"
            let options = try await client.execute(uri: "/api/v1/settings", method: .options, headers: preflight)
            #expect(!(200..<300).contains(options.status.code))
            #expect(!options.headers.contains { $0.name.canonicalName.hasPrefix("access-control-") })

            var sameOriginPreflight = DashboardTesting.headers()
            sameOriginPreflight[.origin] = "http://127.0.0.1:8470"
            let own = try await client.execute(uri: "/api/v1/settings", method: .options, headers: sameOriginPreflight)
            #expect(own.status == .methodNotAllowed)

            var foreign = DashboardTesting.headers()
            foreign[.origin] = "http://evil.example"
            for path in ["/api/v1/status", "/api/v1/disclosure", "/"] {
                let response = try await client.execute(uri: path, method: .get, headers: foreign)
                #expect(response.status == .forbidden, "\(path)")
                #expect(!response.headers.contains { $0.name.canonicalName.hasPrefix("access-control-") })
            }
            var nullOrigin = DashboardTesting.headers()
            nullOrigin[.origin] = "null"
            #expect(
                try await client.execute(uri: "/api/v1/status", method: .get, headers: nullOrigin).status == .forbidden
            )

            var ownOrigin = DashboardTesting.headers()
            ownOrigin[.origin] = "http://localhost:8470"
            let fine = try await client.execute(uri: "/api/v1/status", method: .get, headers: ownOrigin)
            #expect(fine.status == .ok)
            #expect(!fine.headers.contains { $0.name.canonicalName.hasPrefix("access-control-") })
        }
    }

    @Test("Every answer, errors included, carries a strict CSP, nosniff and frame-ancestors 'none'")
    func securityHeaders() async throws {
        let fixture = await DashboardFixture.shared.value
        let server = try DashboardTesting.server(FakeDashboardSource(fixture: fixture))
        try await DashboardTesting.withRouter(server) { client in
            let requests: [(String, HTTPFields)] = [
                ("/", DashboardTesting.headers()), ("/assets/dashboard.js", DashboardTesting.headers()),
                ("/api/v1/stats", DashboardTesting.headers()), ("/nowhere", DashboardTesting.headers()),
                ("/api/v1/status", DashboardTesting.headers(host: "evil.example:8470")),
            ]
            for (path, headers) in requests {
                let response = try await client.execute(uri: path, method: .get, headers: headers)
                let policy = try #require(response.headers[.contentSecurityPolicy], "\(path)")
                let directives = policy.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                #expect(directives.contains("default-src 'self'"))
                #expect(directives.contains("script-src 'self'"))
                #expect(directives.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval") && !policy.contains("*"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
            }
            let missing = try await client.execute(uri: "/nowhere", method: .get, headers: DashboardTesting.headers())
            #expect(missing.status == .notFound)
            #expect(DashboardTesting.errorCode(missing) == "not_found")
        }
    }

    @Test("The page has no inline script, style or event handler, and loads nothing from elsewhere")
    func pageHasNoInlineCode() {
        let html = DashboardAssets.html
        let scripts = html.components(separatedBy: "<script").dropFirst()
        #expect(scripts.count == 1)
        for script in scripts {
            #expect(script.hasPrefix(" src=\"/assets/"))
            #expect(script.contains("></script>"))
        }
        #expect(!html.contains("<style"))
        #expect(!html.contains(" style="))
        #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil)
        for asset in [html, DashboardAssets.css, DashboardAssets.javaScript] {
            #expect(!asset.contains("https://") && !asset.contains("//cdn") && !asset.contains("@import"))
        }
        #expect(DashboardAssets.javaScript.contains("http://www.w3.org/2000/svg"))
    }

    @Test("Peer-derived text is only ever set as text: the script has no HTML sink, JSON stays JSON")
    func peerTextIsEscaped() async throws {
        let script = DashboardAssets.javaScript
        for sink in [
            "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", ".html(",
        ] {
            #expect(!script.contains(sink), "\(sink)")
        }
        #expect(script.contains("textContent"))

        let hostile = #"<img src=x onerror="alert(1)"></p><script>alert('x')</script>"#
        let fixture = await DashboardFixture.shared.value
        let source = FakeDashboardSource(fixture: fixture, networkLabel: hostile)
        let server = try DashboardTesting.server(source)
        try await DashboardTesting.withRouter(server) { client in
            let status = try await client.execute(
                uri: "/api/v1/status",
                method: .get,
                headers: DashboardTesting.headers()
            )
            #expect(status.headers[.contentType] == "application/json; charset=utf-8")
            #expect(status.headers[.xContentTypeOptions] == "nosniff")
            let body = try JSONValue.parse(Data(status.body.readableBytesView))
            #expect(body["networkLabel"]?.string == hostile)

            let peers = try await client.execute(
                uri: "/api/v1/peers",
                method: .get,
                headers: DashboardTesting.headers()
            )
            let peersBody = try JSONValue.parse(Data(peers.body.readableBytesView))
            let ids = try #require(peersBody["peers"]?.array).compactMap { $0["shortId"]?.string }
            #expect(ids == ["12D3Ko…CVe2Xo", "12D3Ko…FgHiJk", "short-id"])
            let text = String(buffer: peers.body)
            #expect(!text.contains("/ip4/") && !text.contains("127.0.0.1"))
        }
    }

    @Test("Bodies over the limit get 413; a non-JSON content type gets 415")
    func bodyLimits() async throws {
        let fixture = await DashboardFixture.shared.value
        let source = FakeDashboardSource(fixture: fixture)
        let server = try DashboardTesting.server(source, maximumReportBytes: 2048, maximumSettingsBytes: 256)
        let reportJSON = String(decoding: fixture.user.privacyReport.jsonData(), as: UTF8.self)
        try #require(reportJSON.utf8.count > 2048)
        try await DashboardTesting.withRouter(server) { client in
            let write = DashboardTesting.headers(token: DashboardTesting.token, json: true)
            let report = try await client.execute(
                uri: "/api/v1/report",
                method: .post,
                headers: write,
                body: DashboardTesting.body(reportJSON)
            )
            #expect(report.status == .contentTooLarge)
            #expect(DashboardTesting.errorCode(report) == "payload_too_large")
            let padding = String(repeating: " ", count: 300)
            let settings = try await client.execute(
                uri: "/api/v1/settings",
                method: .put,
                headers: write,
                body: DashboardTesting.body(#"{"autoReconnect": true}"# + padding)
            )
            #expect(settings.status == .contentTooLarge)
            var form = DashboardTesting.headers(token: DashboardTesting.token)
            form[.contentType] = "application/x-www-form-urlencoded"
            let wrongType = try await client.execute(
                uri: "/api/v1/settings",
                method: .put,
                headers: form,
                body: DashboardTesting.body("autoReconnect=true")
            )
            #expect(wrongType.status == .unsupportedMediaType)
        }
        #expect(source.submittedReports.isEmpty)
    }

    @Test("Garbage or wrong JSON gets 400 with a message naming the problem")
    func garbageJSON() async throws {
        let fixture = await DashboardFixture.shared.value
        let source = FakeDashboardSource(fixture: fixture)
        let server = try DashboardTesting.server(source)
        try await DashboardTesting.withRouter(server) { client in
            let write = DashboardTesting.headers(token: DashboardTesting.token, json: true)
            let cases: [(String, String, String, String)] = [
                ("/api/v1/settings", "{not json", "invalid_json", "not valid JSON"),
                ("/api/v1/settings", "", "invalid_json", "empty"),
                (
                    "/api/v1/settings", #"{"maxConnections": "ten"}"#, "invalid_json",
                    "maxConnections: expected an integer"
                ),
                (
                    "/api/v1/settings", #"{"shareRegionalData": 1}"#, "invalid_json",
                    "shareRegionalData: expected true or false"
                ),
                (
                    "/api/v1/settings", #"{"maxConnections": 99}"#, "invalid_settings",
                    "maxConnections: 99 is out of range"
                ),
                ("/api/v1/settings", "[1, 2]", "invalid_json", "expected a JSON object"),
                ("/api/v1/report", "\u{1}\u{2}garbage", "invalid_json", "not a JSON report"),
                ("/api/v1/report", #"{"score": 250, "events": [], "tools": []}"#, "invalid_report", "score"),
            ]
            for (path, body, code, message) in cases {
                let method: HTTPRequest.Method = path.hasSuffix("settings") ? .put : .post
                let response = try await client.execute(
                    uri: path,
                    method: method,
                    headers: write,
                    body: DashboardTesting.body(body)
                )
                #expect(response.status == .badRequest, "\(body)")
                #expect(DashboardTesting.errorCode(response) == code, "\(body)")
                let text = DashboardTesting.errorMessage(response) ?? ""
                #expect(text.contains(message), "\(body): \(text)")
            }
        }
        #expect(source.submittedReports.isEmpty)
        #expect(try await source.settings() == fixture.user.sharingSettings)
    }

    @Test("Token comparison needs the exact token")
    func constantTimeComparison() {
        let token = DashboardTesting.token
        #expect(DashboardGuardMiddleware<BasicRequestContext>.constantTimeEqual(token, token))
        #expect(!DashboardGuardMiddleware<BasicRequestContext>.constantTimeEqual(String(token.dropLast()), token))
        #expect(!DashboardGuardMiddleware<BasicRequestContext>.constantTimeEqual(token + "0", token))
        #expect(!DashboardGuardMiddleware<BasicRequestContext>.constantTimeEqual("", ""))
        let longer = String(repeating: "a", count: 256 + token.count)
        #expect(!DashboardGuardMiddleware<BasicRequestContext>.constantTimeEqual(longer, token))
    }
}
