import NIOCore
import P2PCore
import TestSupport
import Testing

@testable import P2PHost

/// A generator that always returns the largest value, so every jittered delay equals its ceiling.
private struct MaximumGenerator: RandomNumberGenerator {
    mutating func next() -> UInt64 { .max }
}

private func peer(_ seed: UInt8) throws -> PeerID {
    PeerID(publicKey: try PrivateKey(ed25519Seed: [UInt8](repeating: seed, count: 32)).publicKey)
}

private func address(_ port: Int) throws -> Multiaddr {
    try Multiaddr(parsing: "/ip4/127.0.0.1/tcp/\(port)")
}

private let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

@Suite("Connection manager state machine")
struct ConnectionManagerStateMachineTests {
    @Test("The backoff ceiling starts at the base, doubles per attempt and stops at the cap")
    func backoffCeilings() {
        let backoff = ConnectionManagerStateMachine.Backoff.standard
        let ceilings = (0..<12).map { backoff.ceiling(attempt: $0) }
        #expect(ceilings[0] == .seconds(1))
        #expect(ceilings[1] == .seconds(2))
        #expect(ceilings[4] == .seconds(16))
        #expect(ceilings[8] == .seconds(256))
        #expect(ceilings[9] == .minutes(5))
        #expect(ceilings[11] == .minutes(5))
        #expect(backoff.ceiling(attempt: 10_000) == .minutes(5))
        for (earlier, later) in zip(ceilings, ceilings.dropFirst()) {
            #expect(earlier <= later)
        }
    }

    @Test("Keeping an unconnected peer dials it at once")
    func keepDialsAtOnce() throws {
        var machine = ConnectionManagerStateMachine()
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        #expect(machine.nextDeadline == start)
        #expect(machine.timerFired(now: start) == [.dial(peer: remote, address: try address(4001))])
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: start + .seconds(1)) == [])
    }

    @Test("Redials after failures wait a jittered delay within the growing ceiling")
    func jitterWithinBounds() throws {
        var machine = ConnectionManagerStateMachine()
        var generator = SplitMix64(seed: 7)
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        var now = start
        var delays: [TimeAmount] = []
        for attempt in 1...12 {
            #expect(machine.timerFired(now: now).count == 1)
            machine.dialFailed(peer: remote, now: now, using: &generator)
            #expect(machine.failedAttempts(of: remote) == attempt)
            let deadline = try #require(machine.scheduledRedial(of: remote))
            let delay = deadline - now
            #expect(delay >= .zero)
            #expect(delay <= ConnectionManagerStateMachine.Backoff.standard.ceiling(attempt: attempt))
            #expect(machine.nextDeadline == deadline)
            // Nothing happens before the deadline.
            if delay > .zero {
                #expect(machine.timerFired(now: deadline - .nanoseconds(1)) == [])
            }
            delays.append(delay)
            now = deadline
        }
        // Jitter: the delays are not all equal to their ceilings.
        #expect(Set(delays.map(\.nanoseconds)).count > 1)
        // The same seed gives the same sequence.
        var replay = ConnectionManagerStateMachine()
        var replayGenerator = SplitMix64(seed: 7)
        replay.keep(remote, addresses: [try address(4001)], now: start)
        _ = replay.timerFired(now: start)
        replay.dialFailed(peer: remote, now: start, using: &replayGenerator)
        #expect(replay.scheduledRedial(of: remote) == start + delays[0])
    }

    @Test("With the largest random value each delay equals the exponential ceiling")
    func backoffSequenceAtCeiling() throws {
        var machine = ConnectionManagerStateMachine()
        var generator = MaximumGenerator()
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        var now = start
        var delays: [TimeAmount] = []
        for _ in 0..<10 {
            _ = machine.timerFired(now: now)
            machine.dialFailed(peer: remote, now: now, using: &generator)
            let deadline = try #require(machine.scheduledRedial(of: remote))
            delays.append(deadline - now)
            now = deadline
        }
        let expected: [TimeAmount] = [2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map { .seconds($0) }
        #expect(delays == expected)
    }

    @Test("Dials rotate through the kept addresses")
    func addressRotation() throws {
        var machine = ConnectionManagerStateMachine()
        var generator = SplitMix64(seed: 1)
        let remote = try peer(1)
        let addresses = [try address(4001), try address(4002)]
        machine.keep(remote, addresses: addresses, now: start)
        #expect(machine.timerFired(now: start) == [.dial(peer: remote, address: addresses[0])])
        machine.dialFailed(peer: remote, now: start, using: &generator)
        let next = try #require(machine.nextDeadline)
        #expect(machine.timerFired(now: next) == [.dial(peer: remote, address: addresses[1])])
    }

    @Test("A successful connection resets the backoff; a later drop redials within the first ceiling")
    func resetAfterSuccess() throws {
        var machine = ConnectionManagerStateMachine()
        var generator = MaximumGenerator()
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        var now = start
        for _ in 0..<5 {
            _ = machine.timerFired(now: now)
            machine.dialFailed(peer: remote, now: now, using: &generator)
            now = try #require(machine.nextDeadline)
        }
        #expect(machine.failedAttempts(of: remote) == 5)
        #expect(machine.timerFired(now: now).count == 1)
        machine.connectionOpened(peer: remote, now: now)
        #expect(machine.failedAttempts(of: remote) == 0)
        #expect(machine.nextDeadline == nil)
        machine.connectionClosed(peer: remote, now: now, using: &generator)
        #expect(machine.scheduledRedial(of: remote) == now + .seconds(1))
    }

    @Test("Unkeeping a peer cancels its pending redial")
    func unkeepCancels() throws {
        var machine = ConnectionManagerStateMachine()
        var generator = SplitMix64(seed: 3)
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        _ = machine.timerFired(now: start)
        machine.connectionOpened(peer: remote, now: start)
        machine.connectionClosed(peer: remote, now: start + .seconds(10), using: &generator)
        #expect(machine.scheduledRedial(of: remote) != nil)
        machine.unkeep(remote)
        #expect(!machine.isKept(remote))
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: start + .minutes(10)) == [])
    }

    @Test("A dial in flight that fails after unkeep is not retried")
    func unkeepDuringDial() throws {
        var machine = ConnectionManagerStateMachine()
        var generator = SplitMix64(seed: 3)
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        #expect(machine.timerFired(now: start).count == 1)
        machine.unkeep(remote)
        machine.dialFailed(peer: remote, now: start + .seconds(1), using: &generator)
        #expect(machine.nextDeadline == nil)
    }

    @Test("An idle connection is closed after exactly the idle timeout")
    func idleCloseAtTimeout() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: .minutes(5))
        let remote = try peer(2)
        machine.connectionOpened(peer: remote, now: start)
        #expect(machine.nextDeadline == start + .minutes(5))
        #expect(machine.timerFired(now: start + .minutes(5) - .nanoseconds(1)) == [])
        #expect(machine.timerFired(now: start + .minutes(5)) == [.closeIdle(peer: remote)])
        // Decided once: no repeat while the close is under way.
        #expect(machine.timerFired(now: start + .minutes(6)) == [])
        #expect(machine.nextDeadline == nil)
    }

    @Test("The default idle timeout is five minutes")
    func defaultIdleTimeout() {
        #expect(ConnectionManagerStateMachine().idleTimeout == .minutes(5))
    }

    @Test("Stream activity postpones the idle close; an open stream prevents it")
    func activityPostpones() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: .seconds(60))
        let remote = try peer(2)
        machine.connectionOpened(peer: remote, now: start)
        machine.streamCountChanged(peer: remote, openStreams: 1, now: start + .seconds(30))
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: start + .minutes(10)) == [])
        machine.streamCountChanged(peer: remote, openStreams: 2, now: start + .minutes(9))
        machine.streamCountChanged(peer: remote, openStreams: 0, now: start + .minutes(10))
        #expect(machine.nextDeadline == start + .minutes(11))
        #expect(machine.timerFired(now: start + .minutes(11) - .nanoseconds(1)) == [])
        #expect(machine.timerFired(now: start + .minutes(11)) == [.closeIdle(peer: remote)])
    }

    @Test("Without an idle timeout, idle connections stay")
    func noIdleTimeout() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: nil)
        machine.connectionOpened(peer: try peer(2), now: start)
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: start + .hours(10)) == [])
    }

    @Test("A kept peer's connection is not closed for idleness")
    func keptNotIdleClosed() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: .seconds(60))
        let remote = try peer(2)
        machine.connectionOpened(peer: remote, now: start)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: start + .minutes(10)) == [])
    }

    @Test("Redials respect the connection limit and resume when a slot frees")
    func connectionLimit() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: nil, maxConnections: 2)
        var generator = SplitMix64(seed: 9)
        let (a, b, c) = (try peer(1), try peer(2), try peer(3))
        machine.connectionOpened(peer: a, now: start)
        machine.keep(b, addresses: [try address(4002)], now: start)
        machine.keep(c, addresses: [try address(4003)], now: start)
        let actions = machine.timerFired(now: start)
        // One connection plus one dial fill the two slots.
        #expect(actions.count == 1)
        let dialed: PeerID
        switch try #require(actions.first) {
        case .dial(let peer, _): dialed = peer
        case .closeIdle:
            Issue.record("unexpected close")
            return
        }
        let waiting = dialed == b ? c : b
        #expect(machine.nextDeadline == nil)
        machine.connectionOpened(peer: dialed, now: start + .seconds(1))
        #expect(machine.timerFired(now: start + .seconds(2)) == [])
        // A slot frees: the waiting peer is dialed at once.
        machine.connectionClosed(peer: a, now: start + .seconds(3), using: &generator)
        #expect(machine.nextDeadline == start + .seconds(3))
        #expect(machine.timerFired(now: start + .seconds(3)).map(\.peerForTest) == [waiting])
    }

    @Test("A due redial of a peer that reconnected meanwhile is dropped")
    func reconnectedMeanwhile() throws {
        var machine = ConnectionManagerStateMachine(idleTimeout: nil)
        var generator = SplitMix64(seed: 5)
        let remote = try peer(1)
        machine.keep(remote, addresses: [try address(4001)], now: start)
        _ = machine.timerFired(now: start)
        machine.connectionOpened(peer: remote, now: start)
        machine.connectionClosed(peer: remote, now: start, using: &generator)
        machine.connectionOpened(peer: remote, now: start + .nanoseconds(1))
        #expect(machine.nextDeadline == nil)
        #expect(machine.timerFired(now: start + .minutes(1)) == [])
    }
}

extension ConnectionManagerStateMachine.Action {
    fileprivate var peerForTest: PeerID {
        switch self {
        case .dial(let peer, _), .closeIdle(let peer): peer
        }
    }
}
