import Foundation
import PrivacyCore

/// A request from the browser extension.
///
/// JSON: `{"id": <any JSON, echoed back>, "type": "<kind>", …}` where `type` is one of `submitReport`
/// (with `"report": {…}`, the local report in its JSON format), `getStatus`, `getStats`, `getComparison`,
/// `getInsights`, or `updateSettings` (with `"settings": {"shareAnonymousData": true, …}`).
public struct NativeRequest: Hashable, Sendable {
    /// What the extension asks for.
    public enum Kind: Hashable, Sendable {
        /// Submit the user's local report (already validated).
        case submitReport(NativeJSON)
        /// The node's status.
        case getStatus
        /// This epoch's statistics.
        case getStats
        /// The user's comparison with the network.
        case getComparison
        /// The assembled insights.
        case getInsights
        /// Change some settings.
        case updateSettings(SettingsChange)

        /// The `type` string of this kind.
        public var typeName: String {
            switch self {
            case .submitReport: "submitReport"
            case .getStatus: "getStatus"
            case .getStats: "getStats"
            case .getComparison: "getComparison"
            case .getInsights: "getInsights"
            case .updateSettings: "updateSettings"
            }
        }
    }

    /// The request's `id`, echoed in the response (`nil` when absent).
    public var id: NativeJSON?
    /// The request.
    public var kind: Kind

    /// Creates a request.
    public init(id: NativeJSON?, kind: Kind) {
        self.id = id
        self.kind = kind
    }

    /// Parses and checks a request.
    /// - Throws: ``NativeErrorReply`` carrying the error code and, when it could be read, the request's id.
    public init(json: NativeJSON) throws(NativeErrorReply) {
        guard case .object(let members) = json else {
            throw NativeErrorReply(
                id: nil,
                type: nil,
                code: .invalidRequest,
                message: "a request must be a JSON object"
            )
        }
        let id = members["id"]
        guard let type = members["type"]?.stringValue else {
            throw NativeErrorReply(
                id: id,
                type: nil,
                code: .invalidRequest,
                message: "the request has no \"type\" string"
            )
        }
        func fail(_ code: NativeErrorReply.Code, _ message: String) -> NativeErrorReply {
            NativeErrorReply(id: id, type: type, code: code, message: message)
        }
        switch type {
        case "getStatus": self.init(id: id, kind: .getStatus)
        case "getStats": self.init(id: id, kind: .getStats)
        case "getComparison": self.init(id: id, kind: .getComparison)
        case "getInsights": self.init(id: id, kind: .getInsights)
        case "submitReport":
            guard let report = members["report"], case .object = report else {
                throw fail(.invalidReport, "submitReport needs a \"report\" object")
            }
            do {
                _ = try PrivacyReport(jsonData: Data(report.encoded()))
            } catch {
                throw fail(.invalidReport, "the report is not valid: \(error)")
            }
            self.init(id: id, kind: .submitReport(report))
        case "updateSettings":
            guard let settings = members["settings"] else {
                throw fail(.invalidSettings, "updateSettings needs a \"settings\" object")
            }
            do throws(NodeRuntimeError) {
                self.init(id: id, kind: .updateSettings(try SettingsChange(json: settings)))
            } catch {
                throw fail(.invalidSettings, error.message)
            }
        default:
            throw fail(
                .unknownType,
                "unknown request type \"\(type)\" (known: submitReport, getStatus, getStats, getComparison, "
                    + "getInsights, updateSettings)"
            )
        }
    }
}

/// A failed request's reply: `{"id": …, "type": …, "ok": false, "error": {"code": "…", "message": "…"}}`.
public struct NativeErrorReply: Error, Hashable, Sendable {
    /// The error codes the extension can switch over.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The frame's declared length is above 1 MiB (its bytes were skipped).
        case messageTooLarge = "message_too_large"
        /// The input ended in the middle of a frame.
        case truncatedMessage = "truncated_message"
        /// The message is not valid UTF-8 JSON.
        case malformedJSON = "malformed_json"
        /// The JSON is not a request object with a `type`.
        case invalidRequest = "invalid_request"
        /// The `type` is not a known request.
        case unknownType = "unknown_type"
        /// The report is missing or fails validation.
        case invalidReport = "invalid_report"
        /// The settings change is missing or invalid.
        case invalidSettings = "invalid_settings"
        /// No node is running (start one with `phantom-trail node`).
        case nodeNotRunning = "node_not_running"
        /// The node answered with an error.
        case nodeError = "node_error"
        /// The answer is larger than the 1 MB a native host may send.
        case responseTooLarge = "response_too_large"
    }

    /// The request's id, if it could be read.
    public var id: NativeJSON?
    /// The request's type, if it could be read.
    public var type: String?
    /// The error code.
    public var code: Code
    /// What went wrong, for people.
    public var message: String

    /// Creates an error reply.
    public init(id: NativeJSON?, type: String?, code: Code, message: String) {
        self.id = id
        self.type = type
        self.code = code
        self.message = message
    }

    /// The reply as JSON.
    public var json: NativeJSON {
        .object([
            "id": self.id ?? .null,
            "type": self.type.map(NativeJSON.string) ?? .null,
            "ok": .bool(false),
            "error": .object(["code": .string(self.code.rawValue), "message": .string(self.message)]),
        ])
    }
}

/// A successful request's reply: `{"id": …, "type": …, "ok": true, "result": <the node's answer>}`.
public struct NativeSuccessReply: Hashable, Sendable {
    /// The request's id.
    public var id: NativeJSON?
    /// The request's type.
    public var type: String
    /// The node's answer.
    public var result: NativeJSON

    /// Creates a success reply.
    public init(id: NativeJSON?, type: String, result: NativeJSON) {
        self.id = id
        self.type = type
        self.result = result
    }

    /// The reply as JSON.
    public var json: NativeJSON {
        .object(["id": self.id ?? .null, "type": .string(self.type), "ok": .bool(true), "result": self.result])
    }
}
