import P2PCore
import PrivacyCore
import Synchronization

/// What the transport knows of the report topic's peers, and the fluffs that wait for one.
///
/// GossipSub drops a publish that has no subscribed peer to go to (the message only enters the local cache, and
/// its IHAVE gossip never reaches peers that join the mesh later), and a forwarder sends only to its mesh. A
/// fluff made before the subscriptions arrived (a node that just connected, a diffuser right after start) was
/// therefore lost for good. Fluffs are queued here instead and released as soon as the topic has a subscribed
/// peer; the transport refreshes the ``Snapshot`` on every GossipSub subscription, graft or prune and on every
/// disconnection.
final class ReportTopicPeers: Sendable {
    /// The report topic's peers as GossipSub last reported them, and the fluffs waiting.
    struct Snapshot: Hashable, Sendable {
        /// Connected peers subscribed to the topic (a flood publish reaches all of them).
        var subscribed: Set<PeerID> = []
        /// Our mesh peers for the topic (a forwarded message goes to them).
        var mesh: Set<PeerID> = []
        /// Fluffs waiting for a subscribed peer.
        var queuedFluffs = 0
    }

    private struct Waiter {
        var isSatisfied: @Sendable (Snapshot) -> Bool
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var snapshot = Snapshot()
        var queued: [ReportEnvelope] = []
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        var closed = false
    }

    /// How many fluffs wait at most; the oldest is dropped beyond (its holders' embargoes still run).
    let queueLimit: Int
    private let state = Mutex(State())

    /// An empty view with room for `queueLimit` waiting fluffs.
    init(queueLimit: Int = 1024) {
        self.queueLimit = max(1, queueLimit)
    }

    /// The last snapshot.
    var snapshot: Snapshot { self.state.withLock { $0.snapshot } }

    /// Queues a fluff; the caller then refreshes the snapshot, which releases it when a peer is there.
    /// - Returns: the envelope dropped to make room, if the queue was full.
    @discardableResult
    func enqueue(_ envelope: ReportEnvelope) -> ReportEnvelope? {
        let (dropped, ready) = self.state.withLock { state -> (ReportEnvelope?, [CheckedContinuation<Bool, Never>]) in
            guard !state.closed else { return (nil, []) }
            state.queued.append(envelope)
            let dropped = state.queued.count > self.queueLimit ? state.queued.removeFirst() : nil
            state.snapshot.queuedFluffs = state.queued.count
            return (dropped, Self.satisfiedWaiters(&state))
        }
        for continuation in ready { continuation.resume(returning: true) }
        return dropped
    }

    /// Records the topic's peers as GossipSub reports them now.
    /// - Returns: the queued fluffs to publish now (all of them once a peer is subscribed, else none).
    func update(subscribed: Set<PeerID>, mesh: Set<PeerID>) -> [ReportEnvelope] {
        let (released, ready) = self.state.withLock { state -> ([ReportEnvelope], [CheckedContinuation<Bool, Never>]) in
            guard !state.closed else { return ([], []) }
            var released: [ReportEnvelope] = []
            if !subscribed.isEmpty {
                released = state.queued
                state.queued = []
            }
            state.snapshot = Snapshot(subscribed: subscribed, mesh: mesh, queuedFluffs: state.queued.count)
            return (released, Self.satisfiedWaiters(&state))
        }
        for continuation in ready { continuation.resume(returning: true) }
        return released
    }

    private static func satisfiedWaiters(_ state: inout State) -> [CheckedContinuation<Bool, Never>] {
        var ready: [CheckedContinuation<Bool, Never>] = []
        for (id, waiter) in state.waiters where waiter.isSatisfied(state.snapshot) {
            ready.append(waiter.continuation)
            state.waiters[id] = nil
        }
        return ready
    }

    /// Waits until a snapshot satisfies `condition` (checked on every update, no polling).
    /// - Returns: `false` when the view was closed first (the transport shut down).
    func wait(until condition: @escaping @Sendable (Snapshot) -> Bool) async -> Bool {
        let key = self.state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resumeNow: Bool? = self.state.withLock { state in
                    if state.closed || Task.isCancelled { return false }
                    if condition(state.snapshot) { return true }
                    state.waiters[key] = Waiter(isSatisfied: condition, continuation: continuation)
                    return nil
                }
                if let resumeNow { continuation.resume(returning: resumeNow) }
            }
        } onCancel: {
            // A cancelled waiter (a test's time limit) returns false instead of waiting forever.
            self.state.withLock { $0.waiters.removeValue(forKey: key) }?.continuation.resume(returning: false)
        }
    }

    /// Drops the queue and releases every waiter with `false`; later calls do nothing.
    func close() {
        let waiters = self.state.withLock { state in
            state.closed = true
            state.queued = []
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in waiters { continuation.resume(returning: false) }
    }
}
