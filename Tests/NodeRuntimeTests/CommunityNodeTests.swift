import Logging
import NodeRuntime
import P2PCore
import PrivacyCore
import PrivacyNetwork
import Synchronization
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
    func fetchReports(from peer: PeerID, epochs: [UInt32]) async throws -> [[UInt8]] { [] }

    func shutdown() async {
        self.continuation.withLock { $0 }?.finish()
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
}
