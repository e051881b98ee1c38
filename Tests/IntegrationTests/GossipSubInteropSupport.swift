import Foundation
import NIOCore
import P2PCore
import P2PGossipSub
import P2PHost
import Synchronization

/// A child process that prints JSON lines and reads lines from its stdin (the pubsub peers: the py-libp2p script
/// and `phantom-trail p2p pubsub`). A view of ``JSONLinesProcess`` whose lines read as Foundation objects (booleans
/// and `NSNull` kept).
final class PubsubProcess: Sendable {
    private let process: JSONLinesProcess
    /// The name used in failure messages.
    var name: String { self.process.name }

    init(name: String, executable: URL, arguments: [String], signal: InteropSignal) throws {
        self.process = try JSONLinesProcess(
            name: name,
            executable: executable,
            arguments: arguments,
            signal: signal,
            acceptsInput: true
        )
    }

    private static func object(_ line: NodeLine) -> [String: Any]? {
        guard line.isJSON else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.text.utf8)) as? [String: Any]
    }

    /// Every JSON line printed so far whose `event` is `name`.
    func events(_ name: String) -> [[String: Any]] {
        self.process.lines.filter { $0.event == name }.compactMap(Self.object)
    }

    var ended: Bool { self.process.ended }
    var stderr: String { self.process.stderr }

    /// Waits for the first `name` event that passes `filter`; fails early if the process ends without it.
    func first(
        _ name: String,
        timeout: Duration = .seconds(60),
        where filter: ([String: Any]) -> Bool = { _ in true }
    ) async throws -> [String: Any] {
        let (line, _) = try await self.process.firstLine(describedAs: name, timeout: timeout) { line in
            line.event == name && Self.object(line).map(filter) == true
        }
        return Self.object(line) ?? [:]
    }

    /// Writes one line to the process's stdin.
    func send(line: String) {
        self.process.send(line: line)
    }

    /// Closes stdin, sends SIGTERM (SIGKILL after 10 s) and waits for the exit.
    func stop() {
        self.process.stop()
    }
}

/// A running Swift GossipSub node on loopback (production clock: 1 s heartbeats) and what it received.
///
/// `@unchecked Sendable`: `tasks` is set once in ``start(topic:noSign:signal:)`` before the node is shared; the
/// messages sit behind a `Mutex`.
final class SwiftPubsubNode: @unchecked Sendable {
    let host: LibP2PHost
    let service: GossipSubService
    var tasks: [Task<Void, Never>] = []
    private let messages = Mutex<[GossipSubReceivedMessage]>([])

    init(host: LibP2PHost, service: GossipSubService) {
        self.host = host
        self.service = service
    }

    static func start(topic: String, noSign: Bool = false, signal: InteropSignal) async throws -> SwiftPubsubNode {
        let key = PrivateKey()
        let host = try LibP2PHost(
            identity: key,
            configuration: HostConfiguration(
                listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")],
                // Generous: on a loaded machine a handshake or a stream negotiation may take seconds, and a pubsub
                // stream that failed to open is not retried.
                dialTimeout: .seconds(30),
                handshakeTimeout: .seconds(30),
                streamNegotiationTimeout: .seconds(30)
            )
        )
        try await host.start()
        var configuration = GossipSubServiceConfiguration()
        if noSign {
            configuration.router.topics[topic] = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        }
        let service = try GossipSubService(host: host, identity: key, configuration: configuration)
        let box = SwiftPubsubNode(host: host, service: service)
        let subscription = await service.subscribe(topic)
        // Test bridges, cancelled and awaited by `stop()`.
        box.tasks = [
            Task { try? await service.run() },
            Task {
                for await _ in service.events {
                    signal.notify()
                }
            },
            Task {
                for await message in subscription {
                    box.append(message)
                    signal.notify()
                }
            },
        ]
        return box
    }

    var peer: PeerID { self.host.peerID }
    var received: [GossipSubReceivedMessage] { self.messages.withLock { $0 } }

    func append(_ message: GossipSubReceivedMessage) {
        self.messages.withLock { $0.append(message) }
    }

    func stop() async {
        for task in self.tasks {
            task.cancel()
        }
        await self.host.shutdown()
        for task in self.tasks {
            await task.value
        }
    }
}

/// Runs `body`, then stops `nodes`, also when `body` throws or the task is cancelled.
@discardableResult
func withStopping<T>(_ nodes: [SwiftPubsubNode], _ body: () async throws -> T) async throws -> T {
    try await withStopping(nodes, stop: { await $0.stop() }, body)
}
