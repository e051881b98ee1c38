import NIOCore
import P2PCore
import Synchronization
import Testing

@testable import P2PHost

/// A clock that moves only when the test advances it; sleepers wake when their deadline is reached.
private final class ManualClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: self.offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - self.offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
    }

    private let state = Mutex(State())

    var now: Instant { self.state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = self.state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = self.state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = self.state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes the sleepers whose deadline has come.
    func advance(by duration: Duration) {
        let due = self.state.withLock { state -> [Sleeper] in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return Array(due.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

private func nextEvent(
    _ iterator: inout AsyncStream<HostEvent>.Iterator,
    where matches: (HostEvent) -> Bool
) async throws -> HostEvent {
    while let event = await iterator.next() {
        if matches(event) { return event }
    }
    throw P2PHostError(.closed, "the event stream ended")
}

@Suite("Connection manager in a host", .timeLimit(.minutes(1)))
struct ConnectionManagerHostTests {
    @Test("A kept peer is dialed at once and redialed after its connection is killed")
    func keptPeerIsRedialed() async throws {
        let listener = try LibP2PHost(
            identity: PrivateKey(),
            configuration: HostConfiguration(listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")])
        )
        let clock = ManualClock()
        let dialer = try LibP2PHost(identity: PrivateKey(), clock: clock)
        try await listener.start()
        try await dialer.start()
        var events = dialer.events.makeAsyncIterator()

        let target = try #require(listener.listenAddresses.first)
        #expect(try dialer.keepConnected(to: target) == listener.peerID)
        let connected = try await nextEvent(&events) {
            if case .peerConnected = $0 { return true } else { return false }
        }
        #expect(
            connected == .peerConnected(peer: listener.peerID, direction: .outbound, address: target.removingPeerID())
        )

        // Killed on the dialer's side: the listener may not have registered its end yet.
        dialer.disconnect(from: listener.peerID)
        let disconnected = try await nextEvent(&events) {
            if case .peerDisconnected = $0 { return true } else { return false }
        }
        #expect(disconnected == .peerDisconnected(peer: listener.peerID))
        #expect(dialer.connectedPeers.isEmpty)

        // The first redial waits at most the base backoff (1 s) on the injected clock. It can fail while the
        // listener still settles the old connection; later redials wait longer, so keep moving time until it is back.
        clock.advance(by: .seconds(1))
        // (Bounded by the suite's time limit: a cap on advances could leave a failed redial waiting forever.)
        while dialer.connectedPeers.isEmpty {
            await Task.yield()
            clock.advance(by: .seconds(300))
        }
        let reconnected = try await nextEvent(&events) {
            if case .peerConnected = $0 { return true } else { return false }
        }
        #expect(
            reconnected == .peerConnected(peer: listener.peerID, direction: .outbound, address: target.removingPeerID())
        )

        await dialer.shutdown()
        await listener.shutdown()
    }

    @Test("A connection without open streams is closed after the idle timeout on the injected clock")
    func idleConnectionIsClosed() async throws {
        let listener = try LibP2PHost(
            identity: PrivateKey(),
            configuration: HostConfiguration(listenAddresses: [try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")])
        )
        let clock = ManualClock()
        let dialer = try LibP2PHost(
            identity: PrivateKey(),
            configuration: HostConfiguration(idleTimeout: .seconds(60)),
            clock: clock
        )
        try await listener.start()
        try await dialer.start()
        var events = dialer.events.makeAsyncIterator()
        _ = try await dialer.dial(try #require(listener.listenAddresses.first))
        _ = try await nextEvent(&events) {
            if case .identified = $0 { return true } else { return false }
        }
        // Nothing is closed before time moves.
        #expect(dialer.connectedPeers == [listener.peerID])
        // Identify streams may still be closing: keep moving time until the idle close happens.
        var advances = 0
        while !dialer.connectedPeers.isEmpty {
            clock.advance(by: .seconds(61))
            advances += 1
            await Task.yield()
        }
        let disconnected = try await nextEvent(&events) {
            if case .peerDisconnected = $0 { return true } else { return false }
        }
        #expect(disconnected == .peerDisconnected(peer: listener.peerID))
        #expect(advances >= 1)

        await dialer.shutdown()
        await listener.shutdown()
    }

    @Test("keepConnected rejects an address without a peer ID")
    func keepNeedsPeerID() throws {
        let host = try LibP2PHost(identity: PrivateKey())
        #expect(throws: P2PHostError.self) {
            try host.keepConnected(to: try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/4001"))
        }
    }

    @Test("The default idle timeout is five minutes")
    func defaultIdleTimeout() {
        #expect(HostConfiguration().idleTimeout == .seconds(300))
    }
}
