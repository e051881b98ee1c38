import NIOCore
import P2PCore

/// Decides when to redial kept peers and when to close idle connections; a pure value with no I/O and no clock.
///
/// The driver feeds it what happened (`keep`, `connectionOpened`, `connectionClosed`, `dialFailed`, stream
/// activity), each stamped with `now`, and calls ``timerFired(now:using:)`` at ``nextDeadline``. Redials of a kept
/// peer wait a random delay in `0...min(cap, base * factor^attempt)` ("full jitter"); a successful connection
/// resets the attempt count. A connection with no open stream for ``idleTimeout`` is closed, except to kept peers.
/// Redials never take the number of connections plus dials in flight above ``maxConnections``.
struct ConnectionManagerStateMachine {
    /// The exponential backoff of redials.
    struct Backoff: Equatable, Sendable {
        /// The ceiling of the first delay.
        var base: TimeAmount
        /// How much the ceiling grows per failed attempt.
        var factor: Int
        /// The largest ceiling.
        var cap: TimeAmount

        /// 1 s, doubling, capped at 5 minutes.
        static let standard = Backoff(base: .seconds(1), factor: 2, cap: .minutes(5))

        /// The ceiling of the delay before attempt number `attempt` (0 for the first redial).
        func ceiling(attempt: Int) -> TimeAmount {
            var ceiling = max(0, self.base.nanoseconds)
            let cap = max(0, self.cap.nanoseconds)
            var remaining = attempt
            while remaining > 0, ceiling < cap {
                let (product, overflow) = ceiling.multipliedReportingOverflow(by: Int64(max(1, self.factor)))
                ceiling = overflow ? cap : product
                remaining -= 1
            }
            return .nanoseconds(min(ceiling, cap))
        }
    }

    /// What the driver must do.
    enum Action: Equatable {
        /// Dial `peer` at `address`; report the outcome with ``connectionOpened(peer:now:)`` or
        /// ``dialFailed(peer:now:using:)``.
        case dial(peer: PeerID, address: Multiaddr)
        /// Close the connection to `peer`: it has been idle for the timeout.
        case closeIdle(peer: PeerID)
    }

    private enum Redial: Equatable {
        /// Connected, or nothing scheduled.
        case none
        /// Dial at the deadline.
        case scheduled(NIODeadline)
        /// Due, but the connection limit is reached; dial when a slot frees.
        case waitingForSlot
        /// A dial is in flight.
        case dialing
    }

    private struct KeptPeer {
        var addresses: [Multiaddr]
        var failedAttempts = 0
        var redial: Redial = .none
    }

    private struct Connection {
        var openStreams = 0
        var lastActivity: NIODeadline
        var closing = false
    }

    /// Closes a connection after this long without an open stream; `nil` keeps idle connections.
    let idleTimeout: TimeAmount?
    /// The most connections plus redials in flight.
    let maxConnections: Int
    /// The redial backoff.
    let backoff: Backoff

    private var kept: [PeerID: KeptPeer] = [:]
    private var connections: [PeerID: Connection] = [:]
    /// The idle deadlines of connections, checked against ``connections`` when they reach the top; the top entry is
    /// always current (each event ends with ``dropStaleIdleDeadlines()``).
    private var idleDeadlines = IdleDeadlineHeap()

    init(idleTimeout: TimeAmount? = .minutes(5), maxConnections: Int = 256, backoff: Backoff = .standard) {
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.backoff = backoff
    }

    // MARK: Queries

    /// The peers marked to keep, sorted.
    var keptPeers: [PeerID] { self.kept.keys.sorted() }

    /// Whether `peer` is marked to keep.
    func isKept(_ peer: PeerID) -> Bool { self.kept[peer] != nil }

    /// The number of connections the machine knows of.
    var connectionCount: Int { self.connections.count }

    /// The failed dials of `peer` since its last successful connection.
    func failedAttempts(of peer: PeerID) -> Int { self.kept[peer]?.failedAttempts ?? 0 }

    /// When `peer`'s next redial is scheduled, if it is.
    func scheduledRedial(of peer: PeerID) -> NIODeadline? {
        if case .scheduled(let deadline) = self.kept[peer]?.redial { return deadline }
        return nil
    }

    /// The earliest time ``timerFired(now:using:)`` has something to do, or `nil` when nothing is pending.
    var nextDeadline: NIODeadline? {
        var earliest: NIODeadline?
        func consider(_ deadline: NIODeadline) {
            if earliest.map({ deadline < $0 }) ?? true { earliest = deadline }
        }
        for peer in self.kept.values {
            if case .scheduled(let deadline) = peer.redial { consider(deadline) }
        }
        if let idle = self.idleDeadlines.first {
            consider(idle.deadline)
        }
        return earliest
    }

    /// The idle deadlines recorded, stale ones included (for tests of the heap's compaction).
    var pendingIdleDeadlineCount: Int { self.idleDeadlines.count }

    private var dialsInFlight: Int {
        self.kept.values.count { $0.redial == .dialing }
    }

    // MARK: Events

    /// Marks `peer` to keep connected at `addresses`; when not connected, a dial is due at `now`.
    mutating func keep(_ peer: PeerID, addresses: [Multiaddr], now: NIODeadline) {
        var entry = self.kept[peer] ?? KeptPeer(addresses: addresses)
        entry.addresses = addresses
        if self.connections[peer] == nil, entry.redial == .none, !addresses.isEmpty {
            entry.redial = .scheduled(now)
        }
        self.kept[peer] = entry
        // A kept peer is never idle-closed: cancel a close decided but not yet seen through.
        self.connections[peer]?.closing = false
        self.dropStaleIdleDeadlines()
    }

    /// Stops keeping `peer`: cancels its pending redial (a dial in flight completes but is not retried).
    mutating func unkeep(_ peer: PeerID) {
        self.kept[peer] = nil
        self.scheduleIdleClose(of: peer)
    }

    /// A connection to `peer` is established (a redial succeeded or any other connection): resets the backoff.
    mutating func connectionOpened(peer: PeerID, now: NIODeadline) {
        if self.connections[peer] == nil {
            self.connections[peer] = Connection(lastActivity: now)
        }
        if var entry = self.kept[peer] {
            entry.failedAttempts = 0
            entry.redial = .none
            self.kept[peer] = entry
        }
        self.scheduleIdleClose(of: peer)
    }

    /// The connection to `peer` closed; a kept peer gets a redial after a jittered backoff.
    mutating func connectionClosed(peer: PeerID, now: NIODeadline, using generator: inout some RandomNumberGenerator) {
        self.connections[peer] = nil
        self.dropStaleIdleDeadlines()
        self.releaseWaitingSlot(now: now)
        guard var entry = self.kept[peer], entry.redial == .none || entry.redial == .waitingForSlot else { return }
        entry.redial = .scheduled(now + self.jitteredDelay(attempt: entry.failedAttempts, using: &generator))
        self.kept[peer] = entry
    }

    /// A dial of `peer` failed: the next one waits a longer jittered backoff.
    mutating func dialFailed(peer: PeerID, now: NIODeadline, using generator: inout some RandomNumberGenerator) {
        guard var entry = self.kept[peer] else {
            self.releaseWaitingSlot(now: now)
            return
        }
        entry.failedAttempts += 1
        entry.redial = .scheduled(now + self.jitteredDelay(attempt: entry.failedAttempts, using: &generator))
        self.kept[peer] = entry
        self.releaseWaitingSlot(now: now)
    }

    /// The number of open streams on the connection to `peer` changed to `openStreams`: any change is activity, and
    /// the idle timeout counts from the last change that left no stream open.
    mutating func streamCountChanged(peer: PeerID, openStreams: Int, now: NIODeadline) {
        guard var connection = self.connections[peer] else { return }
        connection.openStreams = max(0, openStreams)
        connection.lastActivity = now
        self.connections[peer] = connection
        self.scheduleIdleClose(of: peer)
    }

    /// The driver's timer fired: returns the dials that are due (within the connection limit) and the idle closes.
    mutating func timerFired(now: NIODeadline) -> [Action] {
        var actions: [Action] = []
        while let idle = self.idleDeadlines.first, idle.deadline <= now {
            self.idleDeadlines.removeFirst()
            if self.idleDeadline(of: idle.peer) == idle.deadline {
                self.connections[idle.peer]?.closing = true
                actions.append(.closeIdle(peer: idle.peer))
            }
        }
        self.dropStaleIdleDeadlines()
        let due = self.kept.compactMap { peer, entry -> (NIODeadline, PeerID)? in
            guard case .scheduled(let deadline) = entry.redial, deadline <= now else { return nil }
            return (deadline, peer)
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        for (_, peer) in due {
            guard var entry = self.kept[peer] else { continue }
            if self.connections[peer] != nil || entry.addresses.isEmpty {
                entry.redial = .none
            } else if self.connections.count + self.dialsInFlight >= self.maxConnections {
                entry.redial = .waitingForSlot
            } else {
                entry.redial = .dialing
                actions.append(
                    .dial(peer: peer, address: entry.addresses[entry.failedAttempts % entry.addresses.count])
                )
            }
            self.kept[peer] = entry
        }
        return actions
    }

    // MARK: Helpers

    /// When the connection to `peer` is due to be closed for idleness, if it is (no open stream, not closing, not
    /// kept).
    private func idleDeadline(of peer: PeerID) -> NIODeadline? {
        guard let idleTimeout = self.idleTimeout, let connection = self.connections[peer],
            connection.openStreams == 0, !connection.closing, self.kept[peer] == nil
        else { return nil }
        return connection.lastActivity + idleTimeout
    }

    /// Records `peer`'s current idle deadline, if it has one.
    private mutating func scheduleIdleClose(of peer: PeerID) {
        if let deadline = self.idleDeadline(of: peer) {
            self.idleDeadlines.insert(IdleDeadlineHeap.Entry(deadline: deadline, peer: peer))
        }
        self.dropStaleIdleDeadlines()
    }

    /// Pops stale entries off the top of the idle heap, and compacts it when stale entries dominate.
    private mutating func dropStaleIdleDeadlines() {
        if self.idleDeadlines.count > 2 * self.connections.count + 64 {
            var heap = self.idleDeadlines
            self.idleDeadlines = IdleDeadlineHeap()
            heap.removeAll { self.idleDeadline(of: $0.peer) != $0.deadline }
            self.idleDeadlines = heap
        }
        while let idle = self.idleDeadlines.first, self.idleDeadline(of: idle.peer) != idle.deadline {
            self.idleDeadlines.removeFirst()
        }
    }

    private func jitteredDelay(attempt: Int, using generator: inout some RandomNumberGenerator) -> TimeAmount {
        let ceiling = self.backoff.ceiling(attempt: attempt).nanoseconds
        return .nanoseconds(Int64.random(in: 0...ceiling, using: &generator))
    }

    /// A slot freed: peers waiting for one become due at `now`.
    private mutating func releaseWaitingSlot(now: NIODeadline) {
        for (peer, entry) in self.kept where entry.redial == .waitingForSlot {
            self.kept[peer]?.redial = .scheduled(now)
        }
    }
}
