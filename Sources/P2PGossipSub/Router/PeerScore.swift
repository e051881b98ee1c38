import NIOCore
import P2PCore

// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#the-score-function

/// The score bookkeeping of the router: counters per peer and topic, decayed on a timer.
///
/// Pure value type: time comes in as `now`. With no parameters every score is 0.
struct PeerScore {
    struct TopicStats {
        var inMesh = false
        var graftTime = NIODeadline.uptimeNanoseconds(0)
        var meshTime = TimeAmount.zero
        var firstMessageDeliveries: Double = 0
        var meshMessageDeliveries: Double = 0
        var meshMessageDeliveriesActive = false
        var meshFailurePenalty: Double = 0
        var invalidMessageDeliveries: Double = 0
    }

    struct PeerStats {
        var connected = true
        var expiresAt: NIODeadline?
        var topics: [String: TopicStats] = [:]
        var applicationScore: Double = 0
        var behaviourPenalty: Double = 0
        var colocationKey: String?
    }

    enum DeliveryStatus { case pending, valid, invalid, ignored }

    struct DeliveryRecord {
        var status: DeliveryStatus = .pending
        var firstSeen: NIODeadline
        var validated: NIODeadline?
        var peers: Set<PeerID> = []
    }

    let parameters: GossipSubScoreParameters?
    private(set) var peers: [PeerID: PeerStats] = [:]
    /// How many tracked peers (connected or retained) share each colocation key.
    private var colocationCounts: [String: Int] = [:]
    private var deliveries: [GossipMessageID: DeliveryRecord] = [:]
    private var lastDecay: NIODeadline?

    init(parameters: GossipSubScoreParameters?) {
        self.parameters = parameters
    }

    var thresholds: GossipSubScoreThresholds {
        self.parameters?.thresholds ?? .zero
    }

    // MARK: score

    func score(of peer: PeerID) -> Double {
        guard let parameters = self.parameters, let stats = self.peers[peer] else { return 0 }
        var topicTotal: Double = 0
        for (topic, topicStats) in stats.topics {
            guard let p = parameters.topics[topic] else { continue }
            var s: Double = 0
            if topicStats.inMesh {
                let quanta = Double(topicStats.meshTime.nanoseconds) / Double(max(p.timeInMeshQuantum.nanoseconds, 1))
                s += p.timeInMeshWeight * min(quanta, p.timeInMeshCap)
            }
            s += p.firstMessageDeliveriesWeight * topicStats.firstMessageDeliveries
            if topicStats.meshMessageDeliveriesActive
                && topicStats.meshMessageDeliveries < p.meshMessageDeliveriesThreshold
            {
                let deficit = p.meshMessageDeliveriesThreshold - topicStats.meshMessageDeliveries
                s += p.meshMessageDeliveriesWeight * deficit * deficit
            }
            s += p.meshFailurePenaltyWeight * topicStats.meshFailurePenalty
            s +=
                p.invalidMessageDeliveriesWeight * topicStats.invalidMessageDeliveries
                * topicStats.invalidMessageDeliveries
            topicTotal += p.topicWeight * s
        }
        if parameters.topicScoreCap > 0 {
            topicTotal = min(topicTotal, parameters.topicScoreCap)
        }
        var score = topicTotal + parameters.appSpecificWeight * stats.applicationScore
        if let key = stats.colocationKey {
            let sharing = Double(self.colocationCounts[key, default: 0])
            let surplus = sharing - parameters.ipColocationFactorThreshold
            if surplus > 0 {
                score += parameters.ipColocationFactorWeight * surplus * surplus
            }
        }
        let excess = stats.behaviourPenalty - parameters.behaviourPenaltyThreshold
        if excess > 0 {
            score += parameters.behaviourPenaltyWeight * excess * excess
        }
        return score
    }

    // MARK: peers

    mutating func addPeer(_ peer: PeerID, colocationKey: String?) {
        var stats = self.peers[peer] ?? PeerStats()
        self.forget(colocationKey: self.peers[peer]?.colocationKey)
        if let colocationKey {
            self.colocationCounts[colocationKey, default: 0] += 1
        }
        stats.connected = true
        stats.expiresAt = nil
        stats.colocationKey = colocationKey
        self.peers[peer] = stats
    }

    private mutating func forget(colocationKey: String?) {
        guard let colocationKey, let count = self.colocationCounts[colocationKey] else { return }
        self.colocationCounts[colocationKey] = count > 1 ? count - 1 : nil
    }

    private mutating func dropPeer(_ peer: PeerID) {
        guard let stats = self.peers.removeValue(forKey: peer) else { return }
        self.forget(colocationKey: stats.colocationKey)
    }

    mutating func removePeer(_ peer: PeerID, now: NIODeadline) {
        guard var stats = self.peers[peer] else { return }
        guard let parameters = self.parameters, parameters.retainScore > .zero else {
            self.dropPeer(peer)
            return
        }
        for topic in Array(stats.topics.keys) {
            Self.markMeshFailure(&stats.topics[topic]!, parameters: parameters.topics[topic])
            stats.topics[topic]!.inMesh = false
            stats.topics[topic]!.meshMessageDeliveriesActive = false
        }
        stats.connected = false
        stats.expiresAt = now + parameters.retainScore
        self.peers[peer] = stats
    }

    mutating func setApplicationScore(_ peer: PeerID, _ value: Double) {
        self.peers[peer]?.applicationScore = value
    }

    mutating func addPenalty(_ peer: PeerID, _ count: Double) {
        self.peers[peer]?.behaviourPenalty += count
    }

    mutating func graft(_ peer: PeerID, topic: String, now: NIODeadline) {
        guard self.peers[peer] != nil else { return }
        var stats = self.peers[peer]!.topics[topic] ?? TopicStats()
        stats.inMesh = true
        stats.graftTime = now
        stats.meshTime = .zero
        stats.meshMessageDeliveriesActive = false
        self.peers[peer]!.topics[topic] = stats
    }

    mutating func prune(_ peer: PeerID, topic: String) {
        guard var stats = self.peers[peer]?.topics[topic] else { return }
        Self.markMeshFailure(&stats, parameters: self.parameters?.topics[topic])
        stats.inMesh = false
        stats.meshMessageDeliveriesActive = false
        self.peers[peer]!.topics[topic] = stats
    }

    private static func markMeshFailure(_ stats: inout TopicStats, parameters: GossipSubTopicScoreParameters?) {
        guard let parameters, stats.inMesh, stats.meshMessageDeliveriesActive,
            stats.meshMessageDeliveries < parameters.meshMessageDeliveriesThreshold
        else { return }
        let deficit = parameters.meshMessageDeliveriesThreshold - stats.meshMessageDeliveries
        stats.meshFailurePenalty += deficit * deficit
    }

    // MARK: messages

    /// A new message arrived from `peer` and awaits validation.
    mutating func messageReceived(_ id: GossipMessageID, from peer: PeerID, now: NIODeadline) {
        guard self.parameters != nil else { return }
        var record = DeliveryRecord(firstSeen: now)
        record.peers.insert(peer)
        self.deliveries[id] = record
    }

    /// The application accepted the message: the first sender earns P₂ (and P₃ if in the mesh), and mesh
    /// peers that delivered it while it was being validated earn P₃.
    mutating func messageAccepted(_ id: GossipMessageID, source: PeerID, topic: String, now: NIODeadline) {
        guard self.parameters != nil, var record = self.deliveries[id] else { return }
        record.status = .valid
        record.validated = now
        self.deliveries[id] = record
        self.updateTopic(source, topic) { stats, p in
            stats.firstMessageDeliveries = min(stats.firstMessageDeliveries + 1, p.firstMessageDeliveriesCap)
            if stats.inMesh {
                stats.meshMessageDeliveries = min(stats.meshMessageDeliveries + 1, p.meshMessageDeliveriesCap)
            }
        }
        for peer in record.peers where peer != source {
            self.updateTopic(peer, topic) { stats, p in
                if stats.inMesh {
                    stats.meshMessageDeliveries = min(stats.meshMessageDeliveries + 1, p.meshMessageDeliveriesCap)
                }
            }
        }
    }

    /// The message was rejected (or broke the signature policy): P₄ for everyone who sent it.
    mutating func messageRejected(_ id: GossipMessageID?, source: PeerID, topic: String) {
        guard self.parameters != nil else { return }
        var senders: Set<PeerID> = [source]
        if let id, var record = self.deliveries[id] {
            record.status = .invalid
            senders.formUnion(record.peers)
            self.deliveries[id] = record
        }
        for peer in senders {
            self.updateTopic(peer, topic) { stats, _ in stats.invalidMessageDeliveries += 1 }
        }
    }

    /// The application ignored the message: no reward, no penalty.
    mutating func messageIgnored(_ id: GossipMessageID) {
        self.deliveries[id]?.status = .ignored
    }

    /// A duplicate arrived from `peer`.
    mutating func duplicateReceived(_ id: GossipMessageID, from peer: PeerID, topic: String, now: NIODeadline) {
        guard self.parameters != nil, var record = self.deliveries[id] else { return }
        guard record.peers.insert(peer).inserted else { return }
        self.deliveries[id] = record
        switch record.status {
        case .pending, .ignored:
            break  // counted when the verdict comes (pending) or never (ignored)
        case .invalid:
            self.updateTopic(peer, topic) { stats, _ in stats.invalidMessageDeliveries += 1 }
        case .valid:
            let window = self.parameters?.topics[topic]?.meshMessageDeliveriesWindow ?? .zero
            guard let validated = record.validated, now <= validated + window else { return }
            self.updateTopic(peer, topic) { stats, p in
                if stats.inMesh {
                    stats.meshMessageDeliveries = min(stats.meshMessageDeliveries + 1, p.meshMessageDeliveriesCap)
                }
            }
        }
    }

    private mutating func updateTopic(
        _ peer: PeerID,
        _ topic: String,
        _ body: (inout TopicStats, GossipSubTopicScoreParameters) -> Void
    ) {
        guard let parameters = self.parameters?.topics[topic], self.peers[peer] != nil else { return }
        var stats = self.peers[peer]!.topics[topic] ?? TopicStats()
        body(&stats, parameters)
        self.peers[peer]!.topics[topic] = stats
    }

    // MARK: time

    /// Updates time in mesh and P₃ activation, decays counters once per decay interval, forgets expired
    /// peers and delivery records older than `recordTTL`.
    mutating func refresh(now: NIODeadline, recordTTL: TimeAmount) {
        guard let parameters = self.parameters else { return }
        let decay = self.lastDecay.map { now >= $0 + parameters.decayInterval } ?? true
        if decay {
            self.lastDecay = now
        }
        func decayed(_ value: Double, _ factor: Double) -> Double {
            let next = value * factor
            return next < parameters.decayToZero ? 0 : next
        }
        for (peer, var stats) in self.peers {
            if let expiry = stats.expiresAt, now >= expiry {
                self.dropPeer(peer)
                continue
            }
            for (topic, var t) in stats.topics {
                if t.inMesh {
                    t.meshTime = now - t.graftTime
                    if let p = parameters.topics[topic], t.meshTime >= p.meshMessageDeliveriesActivation {
                        t.meshMessageDeliveriesActive = true
                    }
                }
                if decay, let p = parameters.topics[topic] {
                    t.firstMessageDeliveries = decayed(t.firstMessageDeliveries, p.firstMessageDeliveriesDecay)
                    t.meshMessageDeliveries = decayed(t.meshMessageDeliveries, p.meshMessageDeliveriesDecay)
                    t.meshFailurePenalty = decayed(t.meshFailurePenalty, p.meshFailurePenaltyDecay)
                    t.invalidMessageDeliveries = decayed(t.invalidMessageDeliveries, p.invalidMessageDeliveriesDecay)
                }
                stats.topics[topic] = t
            }
            if decay {
                stats.behaviourPenalty = decayed(stats.behaviourPenalty, parameters.behaviourPenaltyDecay)
            }
            self.peers[peer] = stats
        }
        self.deliveries = self.deliveries.filter { now < $0.value.firstSeen + recordTTL }
    }
}
