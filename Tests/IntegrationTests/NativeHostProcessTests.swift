import Foundation
import Testing

/// Runs `phantom-trail` with `arguments`, writes `input` to its stdin, closes it, and returns stdout and the
/// exit status once the process ends.
private func runCLI(
    _ arguments: [String],
    input: [UInt8] = [],
    environment: [String: String]? = nil,
    executable: URL? = nil
) async throws -> (stdout: [UInt8], stderr: String, status: Int32) {
    let process = Process()
    process.executableURL = try executable ?? IntegrationPaths.cliBinary()
    process.arguments = arguments
    if let environment {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // Plain blocking calls, in an order that cannot deadlock as long as the replies (stdout) and stderr stay
    // below a pipe's buffer (64 KiB): all input first, then the output. Blocking reads in detached tasks could
    // take every thread of the cooperative pool on a 2-core machine and starve the writer.
    try stdin.fileHandleForWriting.write(contentsOf: Data(input))
    try stdin.fileHandleForWriting.close()
    let bytes = try stdout.fileHandleForReading.readToEnd() ?? Data()
    let errorText = String(decoding: try stderr.fileHandleForReading.readToEnd() ?? Data(), as: UTF8.self)
    process.waitUntilExit()
    return ([UInt8](bytes), errorText, process.terminationStatus)
}

private func frame(_ text: String) -> [UInt8] {
    withUnsafeBytes(of: UInt32(text.utf8.count)) { Array($0) } + Array(text.utf8)
}

/// Splits framed output into JSON objects.
private func replies(_ bytes: [UInt8]) throws -> [[String: Any]] {
    var result: [[String: Any]] = []
    var index = 0
    while index + 4 <= bytes.count {
        let length = Int(bytes[index..<(index + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
        index += 4
        guard index + length <= bytes.count else { throw IntegrationFailure(description: "truncated reply") }
        let object = try JSONSerialization.jsonObject(with: Data(bytes[index..<(index + length)]))
        result.append(try #require(object as? [String: Any]))
        index += length
    }
    guard index == bytes.count else { throw IntegrationFailure(description: "trailing bytes after the replies") }
    return result
}

private func errorCode(_ reply: [String: Any]) -> String? {
    (reply["error"] as? [String: Any])?["code"] as? String
}

@Suite("phantom-trail native-host subprocess", .tags(.integration), .serialized)
struct NativeHostProcessTests {
    @Test("Bridges requests to the node's local API with the install token", .timeLimit(.minutes(1)))
    func bridgesToNode() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("nh-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let server = try LoopbackJSONServer { method, path, body in
            switch (method, path) {
            case ("GET", "/api/v1/settings"):
                (
                    200,
                    #"{"joinPrivacyNetwork":true,"shareAnonymousData":false,"shareRegionalData":false,"maxConnections":10,"autoReconnect":true}"#
                )
            case ("GET", "/api/v1/insights"): (503, #"{"error":"gathering data"}"#)
            case ("PUT", _), ("POST", _): (200, body)
            default: (200, #"{"path":"\#(path)"}"#)
            }
        }
        defer { server.stop() }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let token = String(repeating: "ab", count: 32)
        #expect(
            FileManager.default.createFile(
                atPath: data + "/install-token",
                contents: Data(token.utf8),
                attributes: [.posixPermissions: 0o600]
            )
        )
        let endpoint = #"{"url": "http://127.0.0.1:\#(server.port)/", "pid": \#(getpid())}"#
        try Data(endpoint.utf8).write(to: URL(fileURLWithPath: data + "/node-endpoint.json"))

        let input =
            frame(#"{"id": 1, "type": "getStatus"}"#)
            + frame(#"{"id": 2, "type": "updateSettings", "settings": {"shareAnonymousData": true}}"#)
            + frame(#"{"id": 3, "type": "getInsights"}"#)
        let result = try await runCLI(["native-host", "--data-dir", data], input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let answers = try replies(result.stdout)
        try #require(answers.count == 3)
        #expect((answers[0]["result"] as? [String: Any])?["path"] as? String == "/api/v1/status")
        let settings = try #require(answers[1]["result"] as? [String: Any])
        #expect(settings["shareAnonymousData"] as? Bool == true && settings["joinPrivacyNetwork"] as? Bool == true)
        #expect(settings["maxConnections"] as? Int == 10)
        #expect(errorCode(answers[2]) == "node_error")
        #expect(((answers[2]["error"] as? [String: Any])?["message"] as? String)?.contains("gathering data") == true)

        let seen = server.seen.withLock { $0 }
        #expect(
            seen.map(\.request) == [
                "GET /api/v1/status", "GET /api/v1/settings", "PUT /api/v1/settings", "GET /api/v1/insights",
            ]
        )
        #expect(seen.allSatisfy { $0.authorization == "Bearer \(token)" })
    }

    @Test(
        "Speaks the framed protocol: with no node running every request gets a clear error reply",
        .timeLimit(.minutes(1))
    )
    func noNode() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("nh-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let input =
            frame(#"{"id": 1, "type": "getStatus"}"#) + frame("not json at all")
            + withUnsafeBytes(of: UInt32(3 << 20)) { Array($0) } + [UInt8](repeating: 0x41, count: 3 << 20)
            + frame(#"{"id": "x", "type": "updateSettings", "settings": {"maxConnections": 50}}"#)
            + frame(#"{"id": 2, "type": "getStats"}"#)
        let result = try await runCLI(["native-host", "--data-dir", data], input: input)
        #expect(result.status == 0, "\(result.stderr)")
        let answers = try replies(result.stdout)
        #expect(answers.count == 5)
        #expect(
            answers.map(errorCode) == [
                "node_not_running", "malformed_json", "message_too_large", "invalid_settings", "node_not_running",
            ]
        )
        #expect(answers[0]["id"] as? Int == 1 && answers[0]["ok"] as? Bool == false)
        let message = (answers[0]["error"] as? [String: Any])?["message"] as? String
        #expect(message?.contains("not running") == true)
        #expect(answers[3]["id"] as? String == "x")
    }

    @Test("A truncated last frame gets an error reply and the host exits cleanly", .timeLimit(.minutes(1)))
    func truncatedInput() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("nh-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let result = try await runCLI(
            ["native-host", "--data-dir", data],
            input: Array(frame(#"{"type": "getInsights"}"#).dropLast(3))
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try replies(result.stdout).map(errorCode) == ["truncated_message"])
    }

    @Test("install writes the manifest under HOME; --dry-run writes nothing", .timeLimit(.minutes(1)))
    func install() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("nh-home-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let manifest = home + "/.mozilla/native-messaging-hosts/com.phantomtrail.community.json"
        let environment = ["HOME": home, "XDG_DATA_HOME": home + "/share"]
        let arguments = ["native-host", "install", "--browser", "firefox", "--extension-id", "pt@example.org"]

        let dry = try await runCLI(arguments + ["--dry-run"], environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(String(decoding: dry.stdout, as: UTF8.self).contains(manifest))
        #expect(!FileManager.default.fileExists(atPath: manifest))

        let real = try await runCLI(arguments, environment: environment)
        #expect(real.status == 0, "\(real.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest)))
        let written = try #require(object as? [String: Any])
        #expect(written["allowed_extensions"] as? [String] == ["pt@example.org"])
        let launcher = try #require(written["path"] as? String)
        #expect(launcher == home + "/share/phantom-trail/native-host/phantom-trail-native-host")
        #expect(FileManager.default.isExecutableFile(atPath: launcher))
        // The browser starts the launcher with its own arguments; it answers like the host.
        let launched = try await runCLI(
            ["chrome-extension://ignored/"],
            input: frame(#"{"id": 5, "type": "getStatus"}"#),
            environment: environment,
            executable: URL(fileURLWithPath: launcher)
        )
        #expect(launched.status == 0, "\(launched.stderr)")
        #expect(try replies(launched.stdout).map(errorCode) == ["node_not_running"])

        let bad = try await runCLI(
            ["native-host", "install", "--browser", "chrome", "--extension-id", "nope"],
            environment: environment
        )
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("32 letters"))
    }
}
