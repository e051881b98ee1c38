public import Foundation

/// Where the running node serves its local JSON API, written by the node to `node-endpoint.json` in the
/// data directory (mode 0600) when the API is up and deleted when the node stops.
///
/// The file is `{"url": "http://127.0.0.1:8737/", "pid": 4242}`: the API's base URL (loopback only) and the
/// node's process ID. The native messaging host reads it to find the node.
public struct NodeEndpoint: Hashable, Sendable, Codable {
    /// The largest endpoint file accepted.
    public static let maximumFileBytes = 4096

    /// The base URL of the local API, e.g. `http://127.0.0.1:8737/`.
    public var url: String
    /// The process ID of the node.
    public var pid: Int32

    /// An endpoint with a loopback base URL.
    /// - Throws: ``NodeRuntimeError/Code/malformedFile`` unless `url` is an `http` URL on a loopback host.
    public init(url: String, pid: Int32) throws(NodeRuntimeError) {
        try Self.checkLoopback(url)
        self.url = url
        self.pid = pid
    }

    /// Decodes the file, insisting on a loopback URL.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            url: container.decode(String.self, forKey: .url),
            pid: container.decode(Int32.self, forKey: .pid)
        )
    }

    private enum CodingKeys: String, CodingKey {
        case url, pid
    }

    /// Writes the endpoint file (0600) into `directory`.
    public func write(to directory: DataDirectory) throws(NodeRuntimeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            throw NodeRuntimeError(.fileSystem, "cannot encode the endpoint file", underlying: error)
        }
        try directory.create()
        try PrivateFile.store(Array(data) + [0x0A], to: directory.nodeEndpointPath)
    }

    /// Reads the endpoint file of `directory`; `nil` when there is none (no node running).
    /// - Throws: ``NodeRuntimeError/Code/malformedFile`` when the file is not a valid endpoint.
    public static func read(from directory: DataDirectory) throws(NodeRuntimeError) -> NodeEndpoint? {
        let path = directory.nodeEndpointPath
        guard let bytes = try PrivateFile.load(path, limit: Self.maximumFileBytes) else { return nil }
        do {
            return try JSONDecoder().decode(NodeEndpoint.self, from: Data(bytes))
        } catch let error as NodeRuntimeError {
            throw NodeRuntimeError(.malformedFile, "\(path): \(error.message)")
        } catch {
            throw NodeRuntimeError(.malformedFile, "\(path) is not a valid endpoint file", underlying: error)
        }
    }

    /// Deletes the endpoint file of `directory` (when the node stops).
    public static func remove(from directory: DataDirectory) throws(NodeRuntimeError) {
        try PrivateFile.remove(directory.nodeEndpointPath)
    }

    /// The URL of an API path such as `api/v1/status`.
    public func url(forPath path: String) -> URL? {
        let base = self.url.hasSuffix("/") ? self.url : self.url + "/"
        return URL(string: base + path)
    }

    private static func checkLoopback(_ text: String) throws(NodeRuntimeError) {
        guard let components = URLComponents(string: text), components.scheme == "http",
            let host = components.host, ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host),
            components.user == nil, components.password == nil
        else {
            throw NodeRuntimeError(
                .malformedFile,
                "endpoint URL \"\(text)\" is not an http URL on the loopback address (127.0.0.1, ::1, localhost)"
            )
        }
    }
}
