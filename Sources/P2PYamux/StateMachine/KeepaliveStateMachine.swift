// Ping and keepalive: https://github.com/hashicorp/yamux/blob/master/spec.md ("Ping");
// go-yamux pings every 30 s and closes the session when no reply comes within 10 s.

import NIOCore

/// Decides when to ping the peer, measures the round trip, and closes a session whose peer stops answering.
///
/// The first ping goes out with the session's first stream (opened by either side), so that window auto-tuning learns
/// the round-trip time before data flows, and the ping shares that stream's socket write instead of costing one (and
/// its reply one) on every connection: go-yamux pings as the session starts, which a connection that never carries a
/// stream pays for with two writes each way. Afterwards a ping is sent when the session was idle for `interval`.
struct KeepaliveStateMachine {
    private enum State {
        /// The session has not started.
        case inactive
        /// Waiting; the last frame from the peer arrived at `lastActivity`.
        case idle(lastActivity: NIODeadline)
        /// A ping with `opaque` went out at `sentAt`; the reply is due by `deadline`.
        case awaitingPong(opaque: UInt32, sentAt: NIODeadline, deadline: NIODeadline)
        /// The session is over.
        case closed
    }

    /// What to do when the session starts or the timer fires.
    enum TimerFiredAction: Equatable {
        /// Send a ping with `opaque` and check again at `checkAgainAt`.
        case sendPing(opaque: UInt32, checkAgainAt: NIODeadline)
        /// Check again at the deadline.
        case reschedule(at: NIODeadline)
        /// The peer did not answer: close the session.
        case closeConnection
        /// Nothing to do; no timer needed.
        case doNothing
    }

    /// What to do when a ping reply arrives.
    enum PongReceivedAction: Equatable {
        /// The reply matched our ping: this is the round-trip time; check again at `checkAgainAt`.
        case roundTripMeasured(TimeAmount, checkAgainAt: NIODeadline)
        /// An unexpected or stale reply: ignore it.
        case doNothing
    }

    private var state: State = .inactive
    private var lastOpaque: UInt32 = 0
    /// Whether a ping was sent in this session.
    private var pinged = false
    /// How long the session may be idle before a ping.
    let interval: TimeAmount
    /// How long to wait for a reply.
    let timeout: TimeAmount

    /// Makes a machine.
    init(interval: TimeAmount, timeout: TimeAmount) {
        self.interval = interval
        self.timeout = timeout
    }

    /// The session started: wait for a stream (the first ping) or `interval` of silence.
    mutating func sessionStarted(now: NIODeadline) -> TimerFiredAction {
        guard case .inactive = self.state else { return .doNothing }
        self.state = .idle(lastActivity: now)
        return .reschedule(at: now + self.interval)
    }

    /// A stream opened (either way): the first one sends the first ping, to measure the round-trip time.
    mutating func streamOpened(now: NIODeadline) -> TimerFiredAction {
        guard !self.pinged, case .idle = self.state else { return .doNothing }
        return self.sendPing(now: now)
    }

    /// The session ended: stop.
    mutating func sessionEnded() {
        self.state = .closed
    }

    /// A frame arrived from the peer: the session is alive.
    mutating func frameReceived(now: NIODeadline) {
        if case .idle = self.state {
            self.state = .idle(lastActivity: now)
        }
    }

    /// A ping reply with `opaque` arrived.
    mutating func pongReceived(opaque: UInt32, now: NIODeadline) -> PongReceivedAction {
        guard case .awaitingPong(let expected, let sentAt, _) = self.state, expected == opaque else {
            return .doNothing
        }
        self.state = .idle(lastActivity: now)
        return .roundTripMeasured(now - sentAt, checkAgainAt: now + self.interval)
    }

    /// The timer fired.
    mutating func timerFired(now: NIODeadline) -> TimerFiredAction {
        switch self.state {
        case .idle(let last) where now < last + self.interval:
            return .reschedule(at: last + self.interval)
        case .idle:
            return self.sendPing(now: now)
        case .awaitingPong(_, _, let deadline) where now < deadline:
            return .reschedule(at: deadline)
        case .awaitingPong:
            self.state = .closed
            return .closeConnection
        case .inactive, .closed:
            return .doNothing
        }
    }

    private mutating func sendPing(now: NIODeadline) -> TimerFiredAction {
        self.pinged = true
        self.lastOpaque &+= 1
        self.state = .awaitingPong(opaque: self.lastOpaque, sentAt: now, deadline: now + self.timeout)
        return .sendPing(opaque: self.lastOpaque, checkAgainAt: now + self.timeout)
    }
}
