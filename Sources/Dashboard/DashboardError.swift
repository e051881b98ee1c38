public import HTTPTypes
public import Hummingbird

/// An error the dashboard answers with: a code (which picks the HTTP status), a message for the user and
/// where it was thrown. Equal when the codes are equal.
///
/// The JSON body is `{"error": {"code": "invalid_json", "message": "…"}}`.
public struct DashboardError: Error, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Hashable, Sendable, Codable {
        /// The body is not the JSON the endpoint expects (400).
        case invalidJSON = "invalid_json"
        /// The local report broke the format's rules (400).
        case invalidReport = "invalid_report"
        /// The settings are out of range (400).
        case invalidSettings = "invalid_settings"
        /// A state-changing request without the right per-install token (401).
        case unauthorized
        /// A request from another origin (403).
        case forbiddenOrigin = "forbidden_origin"
        /// The Host header is not this server's loopback name and port (421, DNS rebinding).
        case misdirectedRequest = "misdirected_request"
        /// No such endpoint (404).
        case notFound = "not_found"
        /// The method is not allowed on the endpoint (405); CORS preflights end here.
        case methodNotAllowed = "method_not_allowed"
        /// The body is larger than the endpoint accepts (413).
        case payloadTooLarge = "payload_too_large"
        /// The body is not `application/json` (415).
        case unsupportedMediaType = "unsupported_media_type"
        /// The node cannot answer right now (503).
        case unavailable
        /// Anything unexpected (500); the message stays generic.
        case internalError = "internal_error"
        /// The server's own configuration is unsafe or invalid (thrown at start, never sent).
        case invalidConfiguration = "invalid_configuration"

        /// The HTTP status this code is answered with.
        public var status: HTTPResponse.Status {
            switch self {
            case .invalidJSON, .invalidReport, .invalidSettings: .badRequest
            case .unauthorized: .unauthorized
            case .forbiddenOrigin: .forbidden
            case .misdirectedRequest: .misdirectedRequest
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .payloadTooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .unavailable: .serviceUnavailable
            case .internalError, .invalidConfiguration: .internalServerError
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// A sentence naming the problem, shown to the user.
    public var message: String
    /// Where the error was made.
    public var file: String
    /// The line where the error was made.
    public var line: Int

    /// Creates an error; prefer the static factories.
    public init(code: Code, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    /// The body is not the JSON the endpoint expects.
    public static func invalidJSON(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .invalidJSON, message: message, file: file, line: line)
    }

    /// The local report broke the format's rules.
    public static func invalidReport(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .invalidReport, message: message, file: file, line: line)
    }

    /// The settings are out of range.
    public static func invalidSettings(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .invalidSettings, message: message, file: file, line: line)
    }

    /// The node cannot answer right now.
    public static func unavailable(_ message: String, file: String = #fileID, line: Int = #line) -> Self {
        Self(code: .unavailable, message: message, file: file, line: line)
    }

    /// `code` and `message`.
    public var description: String { "\(self.code.rawValue): \(self.message)" }

    /// Equal when the codes are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }

    /// Hashes the code.
    public func hash(into hasher: inout Hasher) { hasher.combine(self.code) }
}

extension DashboardError: HTTPResponseError {
    /// The status of ``code``.
    public var status: HTTPResponse.Status { self.code.status }

    /// The JSON error body with the security headers.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        DashboardResponses.json(ErrorBody(error: .init(code: self.code, message: self.message)), status: self.status)
    }

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: Code
            var message: String
        }
        var error: Detail
    }
}
