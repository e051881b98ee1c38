import NIOCore
import P2PCore
import PrivacyCore
import Synchronization

/// Drives a ``StemRelayStateMachine`` for the network: feeds it connection changes, own reports, stem
/// arrivals and reports seen in gossip, and carries out its actions (stem sends, fluffs, embargo timers on the
/// injected clock). The I/O is passed in as closures, so the driver itself knows nothing of libp2p.
///
/// Events never wait for the network: each stem send and fluff runs in a task of its own, kept until it ends
/// or ``stop()`` cancels it. (A send awaited inline held up whoever reported the event: the host's event loop
/// for a connection, or the inbound stem stream of the previous hop.)
final class StemRelayDriver: Sendable {
    /// What the driver did so far (tests and figures).
    struct Counters: Hashable, Sendable {
        /// Own reports handed to the machine.
        var ownReports = 0
        /// Valid reports received on the stem.
        var stemReceived = 0
        /// Stem sends started (own reports and relayed ones).
        var stemSent = 0
        /// Stem sends that failed (left to the embargo).
        var stemSendFailures = 0
        /// Fluffs handed to gossip (diffuser, no relay, or an embargo that fired).
        var fluffs = 0
        /// Embargo timers that fired with the report still held.
        var embargoesFired = 0
    }

    /// How the driver reaches the network.
    struct IO: Sendable {
        /// Sends `envelope` on a stem stream to `peer`.
        var sendStem: @Sendable (_ envelope: ReportEnvelope, _ peer: PeerID) async throws -> Void
        /// Publishes `envelope` into gossip; `isOwn` is true for this node's own report (its embargo fired).
        var fluff: @Sendable (_ envelope: ReportEnvelope, _ isOwn: Bool) async -> Void
    }

    private struct State: Sendable {
        var machine: StemRelayStateMachine<PeerID>
        var rng: any RandomNumberGenerator & Sendable
        var timers: [ReportID: Task<Void, Never>] = [:]
        var own: Set<ReportID> = []
        var epochTimer: Task<Void, Never>?
        var io: [UInt64: Task<Void, Never>] = [:]
        var nextIO: UInt64 = 0
        var counters = Counters()
        var stopped = false
    }

    private let state: Mutex<State>
    private let clock: StemClock
    private let io: IO

    /// A driver with no peers yet.
    init(
        configuration: StemRelayConfiguration,
        clock: any Clock<Duration>,
        rng: any RandomNumberGenerator & Sendable,
        io: IO
    ) {
        self.state = Mutex(State(machine: StemRelayStateMachine(configuration: configuration), rng: rng))
        self.clock = StemClock(clock)
        self.io = io
    }

    /// Starts the first stem epoch and the timer that rolls the epochs over.
    func start() async {
        let actions = self.state.withLock { state in
            state.machine.tick(now: self.clock.now(), using: &state.rng)
        }
        await self.perform(actions)
        self.scheduleEpochTimer()
    }

    /// Cancels every timer; later events are ignored.
    func stop() {
        let tasks = self.state.withLock { state in
            state.stopped = true
            defer {
                state.timers = [:]
                state.epochTimer = nil
            }
            defer { state.io = [:] }
            return Array(state.timers.values) + Array(state.io.values) + [state.epochTimer].compactMap { $0 }
        }
        for task in tasks { task.cancel() }
    }

    /// The relays of the current stem epoch.
    var relays: [PeerID] { self.state.withLock { $0.machine.relays } }

    /// The number of reports held on the stem (embargo running).
    var heldCount: Int { self.state.withLock { $0.machine.heldCount } }

    /// Whether this node fluffs every stem report in the current stem epoch.
    var isDiffuser: Bool { self.state.withLock { $0.machine.isDiffuser } }

    /// What the driver did so far.
    var counters: Counters { self.state.withLock { $0.counters } }

    /// A connection to `peer` opened; only connections we dialled can become relays.
    func peerConnected(_ peer: PeerID, isOutbound: Bool) async {
        await self.event { machine, now, rng in
            machine.peerConnected(peer, isOutbound: isOutbound, now: now, using: &rng)
        }
    }

    /// The last connection to `peer` closed.
    func peerDisconnected(_ peer: PeerID) async {
        await self.event { machine, now, rng in machine.peerDisconnected(peer, now: now, using: &rng) }
    }

    /// This node's own report: it goes on the stem and is never fluffed by us first while a relay exists.
    func ownReport(_ envelope: ReportEnvelope) async {
        let id = ReportID(envelope)
        await self.event { machine, now, rng in
            let actions = machine.ownReport(envelope, id: id, now: now, using: &rng)
            return actions
        } before: { state in
            state.own.insert(id)
            state.counters.ownReports += 1
        }
    }

    /// A valid report arrived on the stem from `peer`.
    func stemReceived(_ envelope: ReportEnvelope, id: ReportID, from peer: PeerID) async {
        await self.event { machine, now, rng in
            machine.stemReceived(envelope, id: id, from: peer, now: now, using: &rng)
        } before: { state in
            state.counters.stemReceived += 1
        }
    }

    /// A report was accepted (or recognised) in gossip: its embargo stops.
    func seenInGossip(_ id: ReportID) async {
        await self.event { machine, _, _ in machine.seenInGossip(id) }
    }

    // MARK: Internals

    private func event(
        _ body: (inout StemRelayStateMachine<PeerID>, NIODeadline, inout any RandomNumberGenerator & Sendable) ->
            [StemRelayStateMachine<PeerID>.Action],
        before: (inout State) -> Void = { _ in }
    ) async {
        let now = self.clock.now()
        let actions = self.state.withLock { state -> [StemRelayStateMachine<PeerID>.Action] in
            guard !state.stopped else { return [] }
            before(&state)
            return body(&state.machine, now, &state.rng)
        }
        await self.perform(actions)
    }

    private func embargoExpired(_ id: ReportID) async {
        let now = self.clock.now()
        let actions = self.state.withLock { state -> [StemRelayStateMachine<PeerID>.Action] in
            guard !state.stopped else { return [] }
            state.timers[id] = nil
            let actions = state.machine.embargoExpired(id, now: now)
            if actions.contains(where: { if case .fluff = $0 { true } else { false } }) {
                state.counters.embargoesFired += 1
            }
            return actions
        }
        await self.perform(actions)
    }

    private func perform(_ actions: [StemRelayStateMachine<PeerID>.Action]) async {
        for action in actions {
            switch action {
            case .sendStem(let envelope, _, let peer):
                let io = self.io
                self.spawnIO { driver in
                    do {
                        try await io.sendStem(envelope, peer)
                    } catch {
                        // A failed send is left to the embargo: the holder fluffs the report when it fires.
                        driver.state.withLock { $0.counters.stemSendFailures += 1 }
                    }
                } count: {
                    $0.stemSent += 1
                }
            case .fluff(let envelope, let id):
                let isOwn = self.state.withLock { $0.own.remove(id) != nil }
                let io = self.io
                self.spawnIO { _ in
                    await io.fluff(envelope, isOwn)
                } count: {
                    $0.fluffs += 1
                }
            case .scheduleEmbargo(let id, let deadline):
                self.scheduleEmbargo(id, at: deadline)
            case .cancelEmbargo(let id):
                let timer = self.state.withLock { state in
                    state.own.remove(id)
                    return state.timers.removeValue(forKey: id)
                }
                timer?.cancel()
            }
        }
    }

    /// Runs one send or fluff in a task of its own, kept in the state until it ends (a bridge: ``stop()``
    /// cancels the ones still running).
    private func spawnIO(
        _ work: @escaping @Sendable (StemRelayDriver) async -> Void,
        count: (inout Counters) -> Void
    ) {
        self.state.withLock { state in
            guard !state.stopped else { return }
            count(&state.counters)
            let key = state.nextIO
            state.nextIO += 1
            state.io[key] = Task {
                await work(self)
                self.state.withLock { _ = $0.io.removeValue(forKey: key) }
            }
        }
    }

    private func scheduleEmbargo(_ id: ReportID, at deadline: NIODeadline) {
        let delay = deadline - self.clock.now()
        let clock = self.clock
        let previous = self.state.withLock { state -> Task<Void, Never>? in
            guard !state.stopped else { return nil }
            let previous = state.timers[id]
            state.timers[id] = Task {
                do { try await clock.sleep(delay) } catch { return }
                await self.embargoExpired(id)
            }
            return previous
        }
        previous?.cancel()
    }

    private func scheduleEpochTimer() {
        let clock = self.clock
        self.state.withLock { state in
            guard !state.stopped, let next = state.machine.nextEpochChange else { return }
            let delay = next - clock.now()
            state.epochTimer = Task {
                do { try await clock.sleep(delay) } catch { return }
                await self.event { machine, now, rng in machine.tick(now: now, using: &rng) }
                self.scheduleEpochTimer()
            }
        }
    }
}

/// The injected clock seen as ``NIODeadline``s (what the stem machine works in).
struct StemClock: Sendable {
    /// The current time on the clock.
    let now: @Sendable () -> NIODeadline
    /// Sleeps for `amount` on the clock (returns at once for a non-positive amount).
    let sleep: @Sendable (_ amount: TimeAmount) async throws -> Void

    init<C: Clock<Duration>>(_ clock: C) {
        let origin = clock.now
        self.now = {
            let (seconds, attoseconds) = origin.duration(to: clock.now).components
            return .uptimeNanoseconds(0) + .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        self.sleep = { amount in
            guard amount > .zero else { return }
            try await clock.sleep(for: .nanoseconds(amount.nanoseconds), tolerance: nil)
        }
    }
}
