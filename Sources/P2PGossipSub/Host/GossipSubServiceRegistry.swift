import NIOCore
import P2PCore
import Synchronization

/// One item for a peer's outbound writer.
enum GossipSubOutboxItem: Sendable {
    /// RPC frames to write.
    case frames(ByteBuffer)
    /// The outbound stream of this generation ended (reset or closed by the peer): open a new one.
    case streamEnded(generation: UInt64)
}

/// The state a ``GossipSubService`` shares with its driver's closures, behind one `Mutex`: subscribers,
/// validators and each peer's outbound queue. Everything here is quick and never awaits under the lock.
final class GossipSubServiceRegistry: Sendable {
    struct Outbox {
        var session: UInt64
        var continuation: AsyncStream<GossipSubOutboxItem>.Continuation
    }

    struct State {
        var subscribers: [String: [UInt64: AsyncStream<GossipSubReceivedMessage>.Continuation]] = [:]
        var validators: [String: GossipSubService.Validator] = [:]
        var outboxes: [PeerID: Outbox] = [:]
        var nextSubscriber: UInt64 = 0
        var heartbeats: UInt64 = 0
        var closed = false
    }

    private let state = Mutex(State())

    /// Counts heartbeats (the writers use it to forget old stream resets).
    var heartbeats: UInt64 { self.state.withLock { $0.heartbeats } }

    func heartbeatRan() {
        self.state.withLock { $0.heartbeats += 1 }
    }

    // MARK: subscribers

    /// Adds a subscriber; returns whether it is the topic's first one, or `nil` once closed.
    func addSubscriber(
        topic: String,
        _ continuation: AsyncStream<GossipSubReceivedMessage>.Continuation
    ) -> (id: UInt64, first: Bool)? {
        self.state.withLock { state in
            guard !state.closed else { return nil }
            state.nextSubscriber += 1
            let first = state.subscribers[topic, default: [:]].isEmpty
            state.subscribers[topic, default: [:]][state.nextSubscriber] = continuation
            return (state.nextSubscriber, first)
        }
    }

    func removeSubscriber(topic: String, id: UInt64) {
        self.state.withLock { state in
            state.subscribers[topic]?[id] = nil
        }
    }

    /// Ends every subscription of `topic`; returns whether there were any.
    func removeTopic(_ topic: String) -> Bool {
        let removed = self.state.withLock { $0.subscribers.removeValue(forKey: topic) }
        for continuation in (removed ?? [:]).values {
            continuation.finish()
        }
        return removed != nil
    }

    func deliver(_ message: GossipSubReceivedMessage) {
        let targets = self.state.withLock { state in state.subscribers[message.topic].map { Array($0.values) } ?? [] }
        for continuation in targets {
            continuation.yield(message)
        }
    }

    // MARK: validators

    func setValidator(topic: String, _ validator: GossipSubService.Validator?) {
        self.state.withLock { $0.validators[topic] = validator }
    }

    func validator(topic: String) -> GossipSubService.Validator? {
        self.state.withLock { $0.validators[topic] }
    }

    // MARK: outboxes

    /// Installs the outbound queue of a peer session (replacing and finishing an older one).
    func setOutbox(_ peer: PeerID, session: UInt64, _ continuation: AsyncStream<GossipSubOutboxItem>.Continuation) {
        let old = self.state.withLock { state -> Outbox? in
            guard !state.closed else { return Outbox(session: session, continuation: continuation) }
            let old = state.outboxes[peer]
            state.outboxes[peer] = Outbox(session: session, continuation: continuation)
            return old
        }
        old?.continuation.finish()
    }

    /// Removes a peer's outbound queue if it still belongs to `session` (any session when `nil`).
    func removeOutbox(_ peer: PeerID, session: UInt64?) {
        let removed = self.state.withLock { state -> Outbox? in
            guard let outbox = state.outboxes[peer], session == nil || outbox.session == session else { return nil }
            state.outboxes[peer] = nil
            return outbox
        }
        removed?.continuation.finish()
    }

    /// Queues an item for a peer's writer (only if its session is `session`, when given); returns `false` when
    /// the peer has no queue or the queue is full.
    @discardableResult
    func enqueue(_ item: GossipSubOutboxItem, to peer: PeerID, session: UInt64? = nil) -> Bool {
        let outbox = self.state.withLock { state -> Outbox? in
            guard let outbox = state.outboxes[peer], session == nil || outbox.session == session else { return nil }
            return outbox
        }
        guard let outbox else { return false }
        if case .enqueued = outbox.continuation.yield(item) { return true }
        return false
    }

    /// Ends every subscription and outbound queue; later additions are refused.
    func close() {
        let (subscribers, outboxes) = self.state.withLock { state in
            state.closed = true
            defer {
                state.subscribers = [:]
                state.outboxes = [:]
            }
            return (state.subscribers.values.flatMap(\.values), Array(state.outboxes.values))
        }
        for continuation in subscribers {
            continuation.finish()
        }
        for outbox in outboxes {
            outbox.continuation.finish()
        }
    }
}
