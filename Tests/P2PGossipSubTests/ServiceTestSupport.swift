import NIOCore
import P2PCore
import P2PGossipSub
import P2PHost
import Synchronization

/// A clock that never moves: its sleeps end only by cancellation, so a service's heartbeats run only when a
/// test calls ``GossipSubService/heartbeat()``.
struct StoppedClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: self.offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - self.offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    var now: Instant { Instant(offset: .zero) }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        for await _ in stream {}
        continuation.finish()
        throw CancellationError()
    }
}

/// Wakes waiters whenever something changed; a waiter that saw generation `g` returns as soon as it moved on.
final class ChangeSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [(UInt64, CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var generation: UInt64 { self.state.withLock { $0.generation } }

    func notify() {
        let ready = self.state.withLock { state in
            state.generation += 1
            defer { state.waiters = [] }
            return state.waiters.map(\.1)
        }
        for waiter in ready {
            waiter.resume()
        }
    }

    func wait(after generation: UInt64) async {
        await withCheckedContinuation { continuation in
            let now = self.state.withLock { state -> Bool in
                if state.generation != generation { return true }
                state.waiters.append((generation, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Returns once `condition` holds, re-checking it after every change.
    func waitUntil(_ condition: () async -> Bool) async {
        while true {
            let seen = self.generation
            if await condition() { return }
            await self.wait(after: seen)
        }
    }
}

/// A host on loopback running a ``GossipSubService`` (heartbeats only on demand).
struct ServiceNode: Sendable {
    let key: PrivateKey
    let host: LibP2PHost
    let service: GossipSubService
    let task: Task<Void, any Error>
    let events: Task<Void, Never>

    var peer: PeerID { self.host.peerID }

    /// Starts a node; each router event and each `changes.notify()` call wakes `changes`.
    static func start(
        changes: ChangeSignal,
        configuration: GossipSubServiceConfiguration = GossipSubServiceConfiguration(),
        listen: Bool = true
    ) async throws -> ServiceNode {
        let key = PrivateKey()
        let host = try LibP2PHost(
            identity: key,
            configuration: HostConfiguration(
                listenAddresses: listen ? [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")] : []
            )
        )
        try await host.start()
        let service = try GossipSubService(
            host: host,
            identity: key,
            configuration: configuration,
            clock: StoppedClock()
        )
        // Test bridges: `stop()` cancels and awaits both.
        let task = Task { try await service.run() }
        let events = Task {
            for await _ in service.events {
                changes.notify()
            }
        }
        return ServiceNode(key: key, host: host, service: service, task: task, events: events)
    }

    func stop() async {
        self.task.cancel()
        _ = await self.task.result
        await self.events.value
        await self.host.shutdown()
    }
}

/// Collects a subscription's messages in the background and wakes `changes` on each one.
final class MessageCollector: Sendable {
    private let received = Mutex<[GossipSubReceivedMessage]>([])

    init(_ subscription: GossipSubSubscription, changes: ChangeSignal) {
        // Test bridge: the task ends with the subscription (when the service stops).
        Task {
            for await message in subscription {
                self.append(message)
                changes.notify()
            }
        }
    }

    private func append(_ message: GossipSubReceivedMessage) {
        self.received.withLock { $0.append(message) }
    }

    var messages: [GossipSubReceivedMessage] { self.received.withLock { $0 } }
}
