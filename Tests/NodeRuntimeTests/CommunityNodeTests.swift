import CommunityInsights
import Logging
import NodeRuntime
import P2PCore
import PrivacyCore
import PrivacyNetwork
import Synchronization
import TestSupport
import Testing

/// A transport that records what was asked of it and opens nothing.
private final class RecordingTransport: PrivacyNetworkTransport {
    let localPeerID = PeerID(publicKey: PrivateKey().publicKey)
    private let continuation: Mutex<AsyncStream<PrivacyTransportEvent>.Continuation?> = Mutex(nil)
    let started = Mutex(false)

    func start(_ callbacks: PrivacyTransportCallbacks) async throws -> AsyncStream<PrivacyTransportEvent> {
        let (stream, continuation) = AsyncStream<PrivacyTransportEvent>.makeStream()
        self.continuation.withLock { $0 = continuation }
        self.started.withLock { $0 = true }
        return stream
    }

    func listenAddresses() async -> [Multiaddr] {
        [try! Multiaddr(parsing: "/ip4/127.0.0.1/tcp/4001/p2p/\(self.localPeerID)")]
    }

    func dial(_ address: Multiaddr) async throws -> PeerID { throw CancellationError() }
    func disconnect(from peer: PeerID) async {}
    func ping(_ peer: PeerID) async throws {}
    func relay(_ envelope: [UInt8]) async throws {}
    func publish(_ envelope: [UInt8]) async throws {}
    func fetchReports(
        from peer: PeerID,
        epochs: [UInt32],
        deliver: @escaping @Sendable ([VerifiedReport]) async -> Void
    ) async throws {}

    func shutdown() async {
        self.continuation.withLock { $0 }?.finish()
    }

    /// Delivers `event` to the network as if it came from libp2p.
    func emit(_ event: PrivacyTransportEvent) {
        self.continuation.withLock { $0 }?.yield(event)
    }
}

private final class EventLog: Sendable {
    private let events = Mutex<[CommunityNodeEvent]>([])
    private let factoryCalls = Mutex(0)
    let stream: AsyncStream<CommunityNodeEvent>
    private let continuation: AsyncStream<CommunityNodeEvent>.Continuation

    init() {
        (self.stream, self.continuation) = AsyncStream.makeStream()
    }

    var all: [CommunityNodeEvent] { self.events.withLock { $0 } }
    var transportsMade: Int { self.factoryCalls.withLock { $0 } }

    func append(_ event: CommunityNodeEvent) {
        self.events.withLock { $0.append(event) }
        self.continuation.yield(event)
    }

    func madeTransport() {
        self.factoryCalls.withLock { $0 += 1 }
    }
}

@Suite("Community node", .timeLimit(.minutes(1)))
struct CommunityNodeTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("Not joined: the node says how to join, creates no transport and ends")
    func notJoined() async throws {
        let log = EventLog()
        let node = CommunityNode(
            options: CommunityNodeOptions(settings: try P2PSettings(shareAnonymousData: true)),
            logger: self.logger,
            makeTransport: {
                log.madeTransport()
                return RecordingTransport()
            },
            sink: { log.append($0) }
        )
        try await node.run()
        #expect(log.transportsMade == 0)
        #expect(log.all == [.notJoined(CommunityNode.notJoinedMessage)])
        #expect(CommunityNode.notJoinedMessage.contains("--join"))
        #expect(await node.network.transportsCreated == 0)
    }

    @Test("Joined: the node starts its transport, reports where it listens, and stops when cancelled")
    func joined() async throws {
        let log = EventLog()
        let transport = RecordingTransport()
        let node = CommunityNode(
            options: CommunityNodeOptions(settings: try P2PSettings(joinPrivacyNetwork: true)),
            logger: self.logger,
            makeTransport: {
                log.madeTransport()
                return transport
            },
            sink: { log.append($0) }
        )
        let running = Task { try await node.run() }
        var listening: CommunityNodeEvent?
        for await event in log.stream {
            if case .listening = event {
                listening = event
                break
            }
        }
        #expect(listening == .listening(transport.localPeerID, await transport.listenAddresses()))
        #expect(transport.started.withLock { $0 })
        running.cancel()
        _ = try? await running.value
        #expect(log.transportsMade == 1)
        #expect(await !node.network.isRunning)
    }

    @Test("With a database the node keeps the user's own score per epoch, and no peer id or address reaches the disk")
    func storesHistory() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        try directory.create()
        let database = try NodeDatabase(directory: directory)
        let settings = try await database.settings(
            applying: try SettingsOverrides(joinPrivacyNetwork: true, listenAddresses: ["/ip4/127.0.0.1/tcp/0"]),
            save: true
        )
        let log = EventLog()
        let transport = RecordingTransport()
        let node = CommunityNode(
            options: CommunityNodeOptions(
                settings: settings.effective.p2p,
                parameters: .demo,
                report: SyntheticPopulation(count: 1, seed: 7).users[0].privacyReport
            ),
            database: database,
            logger: self.logger,
            makeTransport: { transport },
            sink: { log.append($0) }
        )
        let running = Task { try await node.run() }
        let other = PeerID(publicKey: PrivateKey().publicKey)
        let otherAddress = "/ip4/192.0.2.41/tcp/4101"
        var comparison: CommunityComparison?
        for await event in log.stream {
            switch event {
            case .listening:
                transport.emit(.peerConnected(other, dialedByUs: false))
                transport.emit(.addressesLearned([try Multiaddr(parsing: otherAddress + "/p2p/\(other)")], from: other))
            case .network(.statisticsChanged(_, let shown?)):
                comparison = shown
            default:
                break
            }
            if comparison != nil { break }
        }
        let epoch = try #require(await node.network.currentEpoch)
        running.cancel()
        _ = try? await running.value
        let userScore = try #require(comparison).userScore
        let history = try await database.ownHistory(network: NetworkScope(.demo))
        #expect(history == [OwnScoreRecord(epoch: Int(epoch), score: userScore)])
        #expect(try await database.ownHistory(network: .publicNetwork).isEmpty)
        #expect(try await database.storedSettings().p2p.joinPrivacyNetwork)
        try database.close()

        let peers = [transport.localPeerID, other]
        let audit = DataDirectoryAudit(
            patterns: peers.flatMap { peer in
                [.text(peer.description), DataDirectoryAudit.Pattern(name: "peer id bytes", bytes: peer.bytes)]
            } + [.text(otherAddress), .text("192.0.2.41")]
        )
        let result = try audit.scan(directory.path)
        #expect(result.isClean, "\(result.findings)")
        #expect(result.scannedFiles.contains("node.sqlite"))
    }
}
