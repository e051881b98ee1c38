import NIOCore
import P2PCore

/// Drives a ``ConnectionManagerStateMachine`` for a ``LibP2PHost``: feeds it connection and stream events stamped
/// with an injected clock, sleeps until its next deadline and carries out its dials and idle closes.
///
/// Concurrency: the machine and the random generator sit behind one `Mutex` (``LockedState``); ``run(dial:close:)``
/// is the one long-running task, a child of the host's serving task, and ends when that task is cancelled or the
/// host calls ``finish()``.
final class ConnectionManager: Sendable {
    private enum WakeUp {
        case event
        case timer(NIODeadline)
        case finished
    }

    private struct Locked {
        var machine: ConnectionManagerStateMachine
        var generator: JitterGenerator
        /// An `.event` wake-up is queued and the driver has not looked at the machine since: later events need none.
        var wakeUpQueued = false
        /// The deadline of the driver's earliest pending timer, if one is armed: an event whose deadlines all come
        /// later needs no wake-up, the timer will find them.
        var armed: NIODeadline?
    }

    private let state: LockedState<Locked>
    private let clock: ElapsedClock
    private let wakeUps: AsyncStream<WakeUp>
    private let wakeUpContinuation: AsyncStream<WakeUp>.Continuation

    /// - Parameters:
    ///   - machine: the decisions.
    ///   - clock: stamps events and times the driver's sleeps.
    ///   - jitter: draws the redial delays within each backoff ceiling.
    init(
        machine: ConnectionManagerStateMachine,
        clock: any Clock<Duration>,
        jitter: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.state = LockedState(Locked(machine: machine, generator: JitterGenerator(base: jitter)))
        self.clock = ElapsedClock(clock)
        (self.wakeUps, self.wakeUpContinuation) = AsyncStream<WakeUp>.makeStream()
    }

    /// The machine's current time.
    private var now: NIODeadline { self.clock.now }

    // MARK: Events

    /// Marks `peer` to keep connected at `addresses`.
    func keep(_ peer: PeerID, addresses: [Multiaddr]) {
        let now = self.now
        self.update { $0.machine.keep(peer, addresses: addresses, now: now) }
    }

    /// Stops keeping `peer`.
    func unkeep(_ peer: PeerID) {
        self.update { $0.machine.unkeep(peer) }
    }

    /// Whether `peer` is kept.
    func isKept(_ peer: PeerID) -> Bool {
        self.state.withLock { $0.machine.isKept(peer) }
    }

    /// How long until the machine's next deadline (an idle close or a redial), if it has one; for tests on virtual
    /// time, where it stays put until the test advances the clock.
    var timeUntilNextDeadline: Duration? {
        let now = self.now
        guard let next = self.state.withLock({ $0.machine.nextDeadline }) else { return nil }
        return .nanoseconds(Int64(clamping: next.uptimeNanoseconds) - Int64(clamping: now.uptimeNanoseconds))
    }

    /// A connection to `peer` was established.
    func connectionOpened(peer: PeerID) {
        let now = self.now
        self.update { $0.machine.connectionOpened(peer: peer, now: now) }
    }

    /// The last connection to `peer` closed.
    func connectionClosed(peer: PeerID) {
        let now = self.now
        self.update { $0.machine.connectionClosed(peer: peer, now: now, using: &$0.generator) }
    }

    /// The connection to `peer` now has `openStreams` open streams.
    func streamCountChanged(peer: PeerID, openStreams: Int) {
        let now = self.now
        self.update { $0.machine.streamCountChanged(peer: peer, openStreams: openStreams, now: now) }
    }

    /// Applies an event to the machine and wakes the driver when the machine's next deadline now comes before the
    /// armed timer (or no timer is armed), unless a wake-up is already queued (one pass of the driver sees every event
    /// before it). Every action of the machine is due at a deadline, so a later deadline waits for the armed timer:
    /// the usual connection and stream events (idle deadlines minutes ahead) wake no task.
    private func update(_ event: (inout Locked) -> Void) {
        let wake = self.state.withLock { state in
            event(&state)
            guard !state.wakeUpQueued, let next = state.machine.nextDeadline,
                state.armed.map({ next < $0 }) ?? true
            else { return false }
            state.wakeUpQueued = true
            return true
        }
        if wake {
            self.wakeUpContinuation.yield(.event)
        }
    }

    /// Ends ``run(dial:close:)``.
    func finish() {
        self.wakeUpContinuation.yield(.finished)
        self.wakeUpContinuation.finish()
    }

    // MARK: Driver

    /// Carries out the machine's actions until cancelled or ``finish()``: `dial` connects (its success must reach
    /// ``connectionOpened(peer:)``), `close` closes the connection to a peer.
    func run(
        dial: @escaping @Sendable (Multiaddr) async throws -> Void,
        close: @escaping @Sendable (PeerID) -> Void
    ) async {
        await withDiscardingTaskGroup { group in
            loop: for await wakeUp in self.wakeUps {
                if case .finished = wakeUp {
                    break loop
                }
                let now = self.now
                let (actions, timer) = self.state.withLock {
                    state -> ([ConnectionManagerStateMachine.Action], NIODeadline?) in
                    state.wakeUpQueued = false
                    if case .timer(let deadline) = wakeUp, state.armed == deadline {
                        state.armed = nil
                    }
                    let actions = state.machine.timerFired(now: now)
                    guard let next = state.machine.nextDeadline, state.armed.map({ next < $0 }) ?? true else {
                        return (actions, nil)
                    }
                    state.armed = next
                    return (actions, next)
                }
                for action in actions {
                    switch action {
                    case .dial(let peer, let address):
                        group.addTask {
                            do {
                                try await dial(address)
                            } catch {
                                let now = self.now
                                self.update {
                                    $0.machine.dialFailed(peer: peer, now: now, using: &$0.generator)
                                }
                            }
                        }
                    case .closeIdle(let peer):
                        close(peer)
                    }
                }
                if let next = timer {
                    group.addTask {
                        do {
                            try await self.clock.sleep(until: next)
                        } catch {
                            return
                        }
                        self.wakeUpContinuation.yield(.timer(next))
                    }
                }
            }
            group.cancelAll()
        }
    }
}

/// An injected clock seen as elapsed time since its creation, mapped onto `NIODeadline` for the machine.
struct ElapsedClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleepUntil: @Sendable (Duration) async throws -> Void

    init<C: Clock<Duration>>(_ clock: C) {
        let origin = clock.now
        self.elapsed = { origin.duration(to: clock.now) }
        self.sleepUntil = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: nil) }
    }

    /// Time starts at one hour of uptime, so deadlines computed backwards from early instants stay positive.
    private static let epoch: Int64 = 3_600_000_000_000

    /// The current time.
    var now: NIODeadline {
        .uptimeNanoseconds(UInt64(Self.epoch + Self.nanoseconds(self.elapsed())))
    }

    /// Sleeps until `deadline`; throws when cancelled.
    func sleep(until deadline: NIODeadline) async throws {
        let offset = Int64(clamping: deadline.uptimeNanoseconds) - Self.epoch
        try await self.sleepUntil(.nanoseconds(offset))
    }

    /// `duration` as a `TimeAmount` (negative durations become zero).
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Self.nanoseconds(duration))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(0, seconds) * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// The injected random source of redial jitter, as a concrete generator the machine can take `inout`.
private struct JitterGenerator: RandomNumberGenerator, Sendable {
    var base: any RandomNumberGenerator & Sendable

    mutating func next() -> UInt64 {
        self.base.next()
    }
}
