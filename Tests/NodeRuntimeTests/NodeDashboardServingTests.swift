import CommunityInsights
import Dashboard
import Foundation
import Logging
import NodeRuntime
import P2PCore
import PrivacyCore
import PrivacyNetwork
import Synchronization
import TestSupport
import Testing

/// Collects a node's or a demo's events and lets a test wait for one.
final class Events<Event: Sendable>: Sendable {
    let stream: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation

    init() {
        (self.stream, self.continuation) = AsyncStream.makeStream()
    }

    func append(_ event: Event) {
        self.continuation.yield(event)
    }

    /// The first event (from now on) that `match` maps to a value.
    func first<Value>(_ match: (Event) -> Value?) async -> Value? {
        for await event in self.stream {
            if let value = match(event) { return value }
        }
        return nil
    }
}

@Suite("Serving the dashboard", .timeLimit(.minutes(1)))
struct NodeDashboardServingTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("Not joined, the node still serves the dashboard on loopback; the native host's client finds it")
    func servesWhenNotJoined() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        try directory.create()
        let token = try InstallToken.loadOrCreate(in: directory)
        let events = Events<CommunityNodeEvent>()
        let created = Mutex(0)
        let node = CommunityNode(
            options: CommunityNodeOptions(
                parameters: .demo,
                dashboard: NodeDashboardOptions(port: 0, token: token.value, endpointDirectory: directory)
            ),
            logger: self.logger,
            makeTransport: {
                created.withLock { $0 += 1 }
                return FakePrivacyTransport()
            },
            sink: { events.append($0) }
        )
        let running = Task { try await node.run() }
        let listening = await events.first { event -> (String, Int)? in
            if case .dashboard(let url, let port) = event { return (url, port) }
            return nil
        }
        let (url, port) = try #require(listening)
        #expect(port > 0)
        #expect(url == "http://127.0.0.1:\(port)/#token=\(token.value)")
        #expect(try NodeEndpoint.read(from: directory)?.url == "http://127.0.0.1:\(port)/")

        let status = try await LocalNodeClient(directory: directory).status()
        #expect(status["joined"] == .bool(false))
        #expect(status["network"] == .string("demo"))
        #expect(status["connectedPeers"] == .number(0))
        #expect(status["statusLine"] == .string("Not joined to the privacy network"))
        #expect(created.withLock { $0 } == 0)
        #expect(await !node.network.isRunning)

        running.cancel()
        try? await running.value
        #expect(try NodeEndpoint.read(from: directory) == nil)
    }

    @Test("Without a dashboard and without joining, the node says how to join and ends")
    func noDashboardNotJoined() async throws {
        let events = Events<CommunityNodeEvent>()
        let node = CommunityNode(
            options: CommunityNodeOptions(),
            logger: self.logger,
            makeTransport: { FakePrivacyTransport() },
            sink: { events.append($0) }
        )
        try await node.run()
        let first = await events.first { event -> String? in
            if case .notJoined(let message) = event { return message }
            return nil
        }
        #expect(first == CommunityNode.notJoinedMessage)
    }
}
