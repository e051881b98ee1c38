import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("phantom-trail demo and the node's dashboard as processes", .tags(.integration), .serialized)
struct DemoProcessTests {
    @Test(
        "demo --peers 12 --port 0: the URL as soon as it listens, then a populated /api/v1/insights",
        .timeLimit(.minutes(2))
    )
    func demoFills() async throws {
        let demo = try Subprocess(
            executable: try IntegrationPaths.cliBinary(),
            arguments: ["demo", "--peers", "12", "--port", "0", "--events", "jsonl"]
        )
        defer { demo.stop() }
        let network = try await demo.next("network")
        #expect(network["label"] as? String == "demo")
        let dashboard = try await demo.next("dashboard")
        let url = try #require(dashboard["url"] as? String)
        let port = try #require(dashboard["port"] as? Double)
        #expect(url.hasPrefix("http://127.0.0.1:\(Int(port))/#token="))
        let ready = try await demo.next("demo_ready")
        #expect(ready["url"] as? String == url)
        #expect(ready["expected"] as? Double == 24)
        #expect((ready["seconds"] as? Double).map { $0 > 0 && $0 < 120 } == true)

        let insights = try await Self.getJSON("http://127.0.0.1:\(Int(port))/api/v1/insights")
        #expect(insights["state"] as? String == "ready")
        #expect(insights["userScore"] as? Int == 92)
        let leaderboard = try #require(insights["leaderboard"] as? [String: Any])
        #expect((leaderboard["grades"] as? [String: Any])?["status"] as? String == "shown")
        let stats = try await Self.getJSON("http://127.0.0.1:\(Int(port))/api/v1/stats")
        #expect((stats["averageScore"] as? [String: Any])?["status"] as? String == "shown")
        #expect((stats["gradeDistribution"] as? [String: Any])?["status"] as? String == "shown")
        let status = try await Self.getJSON("http://127.0.0.1:\(Int(port))/api/v1/status")
        #expect(status["network"] as? String == "demo")
        #expect(status["joined"] as? Bool == true)
        #expect((status["connectedPeers"] as? Int).map { $0 > 0 } == true)
        #expect(demo.stop() == 0)
    }

    @Test("node without --join still serves the dashboard and prints its URL with the token", .timeLimit(.minutes(1)))
    func nodeServesWhenNotJoined() async throws {
        let data = try DemoScratchDirectory()
        let node = try Subprocess(
            executable: try IntegrationPaths.cliBinary(),
            arguments: ["node", "--events", "jsonl", "--data-dir", data.path, "--dashboard-port", "0"]
        )
        defer { node.stop() }
        _ = try await node.next("not_joined")
        let dashboard = try await node.next("dashboard")
        let port = try #require(dashboard["port"] as? Double)
        let token = try String(contentsOfFile: data.path + "/install-token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(dashboard["url"] as? String == "http://127.0.0.1:\(Int(port))/#token=\(token)")
        let endpoint = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: data.path + "/node-endpoint.json"))
        )
        #expect((endpoint as? [String: Any])?["url"] as? String == "http://127.0.0.1:\(Int(port))/")
        let status = try await Self.getJSON("http://127.0.0.1:\(Int(port))/api/v1/status")
        #expect(status["joined"] as? Bool == false)
        #expect(node.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: data.path + "/node-endpoint.json"))
    }

    /// GETs `url` and decodes a JSON object.
    static func getJSON(_ url: String) async throws -> [String: Any] {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// A fresh directory under the system's temporary directory, removed when the value is released.
private final class DemoScratchDirectory {
    let path: String

    init() throws {
        self.path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("phantom-trail-demo-test-\(UUID().uuidString)", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}
