import CommunityInsights
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PrivacyCore

/// The dashboard's routes: thin handlers that ask the data source and wrap the answer in a body type.
struct DashboardRoutes: Sendable {
    let dataSource: any DashboardDataSource
    let maximumReportBytes: Int
    let maximumSettingsBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in
            DashboardResponses.asset(DashboardAssets.html, contentType: "text/html; charset=utf-8")
        }
        router.get("/assets/dashboard.css") { _, _ in
            DashboardResponses.asset(DashboardAssets.css, contentType: "text/css; charset=utf-8")
        }
        router.get("/assets/dashboard.js") { _, _ in
            DashboardResponses.asset(DashboardAssets.javaScript, contentType: "text/javascript; charset=utf-8")
        }
        router.get("/api/v1/status") { _, _ in DashboardResponses.json(StatusBody(try await self.dataSource.status())) }
        router.get("/api/v1/stats") { _, _ in DashboardResponses.json(StatsBody(try await self.dataSource.stats())) }
        router.get("/api/v1/comparison") { _, _ in
            guard let comparison = try await self.dataSource.comparison() else {
                return DashboardResponses.json(NoReportBody())
            }
            return DashboardResponses.json(ComparisonBody(comparison))
        }
        router.get("/api/v1/insights") { _, _ in
            guard let dashboard = try await self.dataSource.insights() else {
                return DashboardResponses.json(NoReportBody())
            }
            let status = try? await self.dataSource.status()
            return DashboardResponses.json(
                InsightsBody(
                    dashboard,
                    history: try await self.dataSource.trendHistory(),
                    epochLengthSeconds: status?.epochLengthSeconds
                )
            )
        }
        router.get("/api/v1/peers") { _, _ in DashboardResponses.json(PeersBody(try await self.dataSource.peers())) }
        router.get("/api/v1/settings") { _, _ in
            DashboardResponses.json(SettingsBody(try await self.dataSource.settings()))
        }
        router.put("/api/v1/settings") { request, _ in
            let body = try await Self.collect(request, limit: self.maximumSettingsBytes)
            let patch: SettingsPatch = try Self.decode(body)
            let updated = try await self.dataSource.updateSettings(
                try patch.applied(to: try await self.dataSource.settings())
            )
            return DashboardResponses.json(SettingsBody(updated))
        }
        router.post("/api/v1/report") { request, _ in
            let body = try await Self.collect(request, limit: self.maximumReportBytes)
            let report = try Self.decodeReport(body, maximumBytes: self.maximumReportBytes)
            try await self.dataSource.submitReport(report)
            return DashboardResponses.json(
                ReportAcceptedBody(score: report.score, grade: Grade(score: report.score)),
                status: .accepted
            )
        }
        router.get("/api/v1/disclosure") { _, _ in
            DashboardResponses.json(DisclosureBody(try await self.dataSource.disclosure()))
        }
        router.get("/api/v1/events") { _, _ in self.events() }
    }

    /// The server-sent event stream: a `hello` event, then one `update` event per change.
    private func events() -> Response {
        let updates = self.dataSource.updates()
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: DashboardEvents.hello))
                for await update in updates {
                    try await writer.write(ByteBuffer(string: DashboardEvents.event(update)))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// The request body, refused beyond `limit` bytes (by Content-Length first, then while reading).
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        let tooLarge = DashboardError(code: .payloadTooLarge, message: "the body is larger than \(limit) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw tooLarge
        }
        var collected = ByteBuffer()
        for try await part in request.body {
            guard collected.readableBytes + part.readableBytes <= limit else { throw tooLarge }
            var part = part
            collected.writeBuffer(&part)
        }
        return Data(collected.readableBytesView)
    }

    /// Decodes and validates the privacy tool's report; JSON that is not a report at all is `invalid_json`.
    static func decodeReport(_ data: Data, maximumBytes: Int) throws(DashboardError) -> PrivacyReport {
        do {
            return try PrivacyReport(jsonData: data, maximumBytes: maximumBytes)
        } catch {
            if case .malformedJSON = error {
                throw .invalidJSON("the body is not a JSON report: \(error.description)")
            }
            throw .invalidReport(error.description)
        }
    }

    /// Decodes a JSON body, naming the problem when it fails.
    static func decode<Value: Decodable>(_ data: Data) throws(DashboardError) -> Value {
        guard !data.isEmpty else { throw .invalidJSON("the body is empty; send a JSON object") }
        do {
            return try JSONDecoder().decode(Value.self, from: data)
        } catch let error as DecodingError {
            throw .invalidJSON(Self.describe(error))
        } catch {
            throw .invalidJSON("the body is not valid JSON")
        }
    }

    /// One sentence for a decoding error: the field path and what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty
                ? "the body" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return "the body is not valid JSON"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.jsonName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(Self.jsonName(type)), found null"
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        @unknown default:
            return "the body is not the expected JSON"
        }
    }

    private static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "true or false"
        case is Int.Type: "an integer"
        case is String.Type: "a string"
        default: "a JSON object"
        }
    }
}

/// Server-sent event framing.
enum DashboardEvents {
    /// The first event: tells the page the stream is open (and to retry after 2 s if it drops).
    static let hello = "retry: 2000\nevent: hello\ndata: {}\n\n"

    /// `event: update` with `{"topic": "<update>"}`.
    static func event(_ update: DashboardUpdate) -> String {
        "event: update\ndata: {\"topic\":\"\(update.rawValue)\"}\n\n"
    }
}
