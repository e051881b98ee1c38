import Dashboard
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Shared pieces of the dashboard tests: a server on the fake source, requests with the right Host, and
/// the OpenAPI document.
enum DashboardTesting {
    static let port = 8470
    static let token = "0123456789abcdef0123456789abcdef"
    static let host = "127.0.0.1:8470"

    /// A server over `source` on the fixed test port.
    static func server(
        _ source: FakeDashboardSource,
        maximumReportBytes: Int = 1 << 20,
        maximumSettingsBytes: Int = 4096
    ) throws -> DashboardServer {
        try DashboardServer(
            configuration: .init(
                port: Self.port,
                token: Self.token,
                maximumReportBytes: maximumReportBytes,
                maximumSettingsBytes: maximumSettingsBytes
            ),
            dataSource: source
        )
    }

    /// Runs `test` against the server's router (no socket).
    static func withRouter<Value: Sendable>(
        _ server: DashboardServer,
        _ test: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let application = Application(router: server.makeRouter())
        return try await application.test(.router, test)
    }

    /// Headers with the loopback Host, optionally the token and a JSON content type.
    static func headers(token: String? = nil, json: Bool = false, host: String? = Self.host) -> HTTPFields {
        var headers = HTTPFields()
        if let host { headers[HTTPField.Name("Host")!] = host }
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json { headers[.contentType] = "application/json" }
        return headers
    }

    /// The body as a buffer.
    static func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// docs/openapi.json of this repository.
    static let openAPI: JSONValue = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.json")
        do {
            return try JSONValue.parse(try Data(contentsOf: url))
        } catch {
            return .null
        }
    }()

    /// The error code of a JSON error body.
    static func errorCode(_ response: TestResponse) -> String? {
        (try? JSONValue.parse(Data(response.body.readableBytesView)))?["error"]?["code"]?.string
    }

    /// The error message of a JSON error body.
    static func errorMessage(_ response: TestResponse) -> String? {
        (try? JSONValue.parse(Data(response.body.readableBytesView)))?["error"]?["message"]?.string
    }
}

/// Checks responses against docs/openapi.json.
struct OpenAPIValidator {
    let document: JSONValue
    var checker: JSONSchemaChecker { JSONSchemaChecker(document: self.document) }

    /// Problems of `response` to `method path` against the document: the status must be documented for
    /// the operation, the media type must be one of the documented ones and a JSON body must match its
    /// schema.
    func problems(_ response: TestResponse, path: String, method: HTTPRequest.Method) -> [String] {
        guard let operation = self.document["paths"]?[path]?[method.rawValue.lowercased()] else {
            return ["\(method) \(path) is not documented"]
        }
        let status = String(response.status.code)
        guard let documented = operation["responses"]?[status] else {
            return ["\(method) \(path): status \(status) is not documented"]
        }
        let mediaType =
            response.headers[.contentType]?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? ""
        guard let content = documented["content"]?[mediaType] else {
            return ["\(method) \(path) \(status): media type '\(mediaType)' is not documented"]
        }
        guard mediaType == "application/json" else { return [] }
        guard let body = try? JSONValue.parse(Data(response.body.readableBytesView)) else {
            return ["\(method) \(path) \(status): the body is not JSON"]
        }
        guard let schema = content["schema"] else { return ["\(method) \(path) \(status): no schema"] }
        return self.checker.problems(body, against: schema).map { "\(method) \(path) \(status): \($0)" }
    }
}
