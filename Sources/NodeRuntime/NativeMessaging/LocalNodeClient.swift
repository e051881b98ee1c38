import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ``NodeControl`` over the running node's local JSON API: finds the node through `node-endpoint.json` in the
/// data directory, and authorizes with the install token (`Authorization: Bearer <token>`).
///
/// Each request reads the endpoint file again, so the host follows a node that starts or restarts while the
/// browser keeps the host open. With no node running, requests fail with
/// ``NodeRuntimeError/Code/nodeNotRunning``.
public struct LocalNodeClient: NodeControl {
    /// The largest answer accepted from the node.
    public static let maximumResponseBytes = 4 << 20

    /// The data directory shared with the node.
    public let directory: DataDirectory
    /// How long one request may take.
    public let timeout: Duration
    private let session: URLSession

    /// A client for the node that uses `directory`.
    public init(directory: DataDirectory, timeout: Duration = .seconds(10)) {
        self.directory = directory
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        configuration.timeoutIntervalForRequest = Double(timeout.components.seconds)
        self.session = URLSession(configuration: configuration)
    }

    /// `GET /api/v1/status`.
    public func status() async throws -> NativeJSON { try await self.request("GET", "status") }
    /// `GET /api/v1/stats`.
    public func stats() async throws -> NativeJSON { try await self.request("GET", "stats") }
    /// `GET /api/v1/comparison`.
    public func comparison() async throws -> NativeJSON { try await self.request("GET", "comparison") }
    /// `GET /api/v1/insights`.
    public func insights() async throws -> NativeJSON { try await self.request("GET", "insights") }

    /// `POST /api/v1/report` with the report's JSON.
    public func submitReport(_ reportJSON: NativeJSON) async throws -> NativeJSON {
        try await self.request("POST", "report", body: reportJSON)
    }

    /// `GET /api/v1/settings`, then `PUT /api/v1/settings` with the change applied to the whole settings
    /// object (the API takes complete settings).
    public func updateSettings(_ change: SettingsChange) async throws -> NativeJSON {
        let current = try await self.request("GET", "settings")
        guard case .object(var members) = current else {
            throw NodeRuntimeError(.nodeRequestFailed, "the node's settings are not a JSON object")
        }
        if let value = change.joinPrivacyNetwork { members["joinPrivacyNetwork"] = .bool(value) }
        if let value = change.shareAnonymousData { members["shareAnonymousData"] = .bool(value) }
        if let value = change.shareRegionalData { members["shareRegionalData"] = .bool(value) }
        if let value = change.maxConnections { members["maxConnections"] = .number(Double(value)) }
        if let value = change.autoReconnect { members["autoReconnect"] = .bool(value) }
        return try await self.request("PUT", "settings", body: .object(members))
    }

    private func request(_ method: String, _ path: String, body: NativeJSON? = nil) async throws -> NativeJSON {
        let notRunning = "the Phantom Trail node is not running (start it with: phantom-trail node)"
        guard let endpoint = try NodeEndpoint.read(from: self.directory) else {
            throw NodeRuntimeError(.nodeNotRunning, notRunning)
        }
        if endpoint.pid > 0, kill(endpoint.pid, 0) != 0, errno == ESRCH {
            throw NodeRuntimeError(.nodeNotRunning, notRunning + "; its endpoint file is left from an earlier run")
        }
        guard let url = endpoint.url(forPath: "api/v1/" + path) else {
            throw NodeRuntimeError(.malformedFile, "the node's endpoint URL \(endpoint.url) is not valid")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let token = try InstallToken.load(from: self.directory) {
            request.setValue("Bearer \(token.value)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = Data(body.encoded())
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await self.session.data(for: request)
        } catch {
            throw NodeRuntimeError(
                .nodeNotRunning,
                notRunning + " (nothing answers at \(endpoint.url): \(error.localizedDescription))",
                underlying: error
            )
        }
        guard data.count <= Self.maximumResponseBytes else {
            throw NodeRuntimeError(
                .nodeRequestFailed,
                "the node's answer is larger than \(Self.maximumResponseBytes) bytes"
            )
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = data.isEmpty ? NativeJSON.null : try? NativeJSON(parsing: Array(data))
        guard (200..<300).contains(status) else {
            let detail =
                json?["message"]?.stringValue ?? json?["error"]?.stringValue
                ?? json?["error"]?["message"]?.stringValue ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw NodeRuntimeError(
                .nodeRequestFailed,
                "the node answered \(method) /api/v1/\(path) with \(status): \(detail)"
            )
        }
        guard let json else {
            throw NodeRuntimeError(.nodeRequestFailed, "the node's answer to \(method) /api/v1/\(path) is not JSON")
        }
        return json
    }
}
