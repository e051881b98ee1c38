public import NIOCore
public import P2PCore

// Handling of one received RPC: subscriptions, messages, then IHAVE, IWANT, GRAFT and PRUNE
// (https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#spam-protection-measures).

extension GossipSubRouter {
    /// The largest backoff we honour from a peer's PRUNE, so that peer input cannot overflow a deadline.
    static let maxPeerBackoff: TimeAmount = .hours(24)

    /// Handles a decoded RPC from `peer`.
    ///
    /// RPCs from peers that are not connected or that are below the graylist threshold are ignored.
    public mutating func rpcReceived(
        from peer: PeerID,
        _ rpc: GossipSubRPC,
        now: NIODeadline,
        rng: inout some RandomNumberGenerator
    ) -> [GossipSubEffect] {
        guard self.peers[peer] != nil else {
            self.effects.append(.event(.rpcIgnored(from: peer, reason: "the peer is not connected")))
            return self.drainEffects()
        }
        let score = self.scores.score(of: peer)
        guard score >= self.scores.thresholds.graylistThreshold else {
            self.effects.append(.event(.rpcIgnored(from: peer, reason: "the peer is graylisted (score \(score))")))
            return self.drainEffects()
        }
        self.handleSubscriptions(rpc.subscriptions, from: peer)
        for message in rpc.messages {
            self.handleMessage(message, from: peer, now: now)
        }
        if let control = rpc.control {
            self.handleIHave(control.ihave, from: peer, now: now, rng: &rng)
            self.handleIWant(control.iwant, from: peer)
            self.handleGraft(control.graft, from: peer, now: now, rng: &rng)
            self.handlePrune(control.prune, from: peer, now: now)
            // IDONTWANT (v1.2) is parsed but not acted upon: we only speak v1.1 and v1.0.
        }
        return self.drainEffects()
    }

    /// An RPC from `peer` could not be decoded (malformed or too large): counts as a behaviour penalty.
    public mutating func rpcDecodingFailed(from peer: PeerID, error: GossipSubError) -> [GossipSubEffect] {
        guard self.peers[peer] != nil else { return [] }
        self.scores.addPenalty(peer, 1)
        self.effects.append(.event(.rpcIgnored(from: peer, reason: error.message)))
        return self.drainEffects()
    }

    private mutating func handleSubscriptions(_ subscriptions: [GossipSubRPC.Subscription], from peer: PeerID) {
        var limited = false
        for subscription in subscriptions {
            let topic = subscription.topic
            if subscription.subscribe {
                guard self.peers[peer]?.topics.contains(topic) == false else { continue }
                guard self.peers[peer]!.topics.count < self.configuration.maxTopicsPerPeer else {
                    limited = true
                    continue
                }
                self.peers[peer]!.topics.insert(topic)
                self.peersByTopic[topic, default: []].insert(peer)
                self.effects.append(.event(.peerSubscribed(peer, topic: topic)))
            } else {
                guard self.peers[peer]?.topics.remove(topic) != nil else { continue }
                self.peersByTopic[topic]?.remove(peer)
                if self.peersByTopic[topic]?.isEmpty == true { self.peersByTopic[topic] = nil }
                self.fanout[topic]?.remove(peer)
                if self.mesh[topic]?.remove(peer) != nil {
                    self.scores.prune(peer, topic: topic)
                    self.effects.append(.event(.pruned(peer, topic: topic)))
                }
                self.effects.append(.event(.peerUnsubscribed(peer, topic: topic)))
            }
        }
        if limited {
            self.effects.append(
                .event(.rateLimited(peer, what: "more than \(self.configuration.maxTopicsPerPeer) subscriptions"))
            )
        }
    }

    private mutating func handleMessage(_ message: GossipMessage, from peer: PeerID, now: NIODeadline) {
        // Messages on topics we are not subscribed to are neither delivered nor forwarded.
        guard self.mesh[message.topic] != nil else { return }
        // The sender's implementation may allow larger frames (go: 1 MiB) than we send (64 KiB). Such a
        // message arrived within our receive limit, so it is validated and delivered here, but we cannot pass it
        // on: it is neither forwarded nor cached for IWANT.
        let forwardable = Self.frameSize(of: message) <= self.configuration.maxSendSize
        let topicConfiguration = self.configuration.topic(message.topic)
        do {
            try message.validate(policy: topicConfiguration.signaturePolicy)
        } catch let error as GossipSubError {
            self.scores.messageRejected(nil, source: peer, topic: message.topic)
            self.effects.append(.event(.messageRejected(from: peer, topic: message.topic, reason: error)))
            return
        } catch {
            preconditionFailure("GossipMessage.validate throws only GossipSubError, not \(error)")
        }
        let id = topicConfiguration.messageIDFunction.messageID(of: message)
        self.promises[id] = nil
        // Our own messages coming back are dropped: when they are no longer in the seen cache they are
        // replays, since only we can sign them.
        if message.from == self.localPeerBytes {
            _ = self.seen.insert(id, now: now)
            return
        }
        guard self.seen.insert(id, now: now) else {
            self.scores.duplicateReceived(id, from: peer, topic: message.topic, now: now)
            return
        }
        self.scores.messageReceived(id, from: peer, now: now)
        self.pending[id] = PendingMessage(message: message, source: peer, received: now, forwardable: forwardable)
        self.effects.append(.validate(message, id: id, source: peer))
    }

    private mutating func handleIHave(
        _ entries: [GossipSubControl.IHave],
        from peer: PeerID,
        now: NIODeadline,
        rng: inout some RandomNumberGenerator
    ) {
        guard !entries.isEmpty, self.scores.score(of: peer) >= self.scores.thresholds.gossipThreshold else { return }
        self.peers[peer]!.ihaveMessages += 1
        guard self.peers[peer]!.ihaveMessages <= self.configuration.maxIHaveMessages else {
            if self.peers[peer]!.ihaveMessages == self.configuration.maxIHaveMessages + 1 {
                self.effects.append(.event(.rateLimited(peer, what: "IHAVE messages per heartbeat")))
            }
            return
        }
        let room = self.configuration.maxIHaveLength - self.peers[peer]!.requestedIDs
        guard room > 0 else { return }
        var wanted: [GossipMessageID] = []
        var unique: Set<GossipMessageID> = []
        for entry in entries where self.mesh[entry.topic] != nil {
            for id in entry.messageIDs where !self.seen.contains(id) && unique.insert(id).inserted {
                wanted.append(id)
            }
        }
        guard !wanted.isEmpty else { return }
        if wanted.count > room {
            wanted = Array(wanted.shuffled(using: &rng).prefix(room))
            self.effects.append(.event(.rateLimited(peer, what: "IHAVE message IDs per heartbeat")))
        }
        self.peers[peer]!.requestedIDs += wanted.count
        // Track one requested ID: if the peer does not deliver it in time, it broke its promise (P₇).
        let tracked = wanted[Int.random(in: 0..<wanted.count, using: &rng)]
        if self.promises[tracked]?[peer] == nil {
            self.promises[tracked, default: [:]][peer] = now + self.configuration.iwantFollowupTime
        }
        self.queue(to: peer) { rpc in
            var control = rpc.control ?? GossipSubControl()
            control.iwant.append(.init(messageIDs: wanted))
            rpc.control = control
        }
    }

    private mutating func handleIWant(_ entries: [GossipSubControl.IWant], from peer: PeerID) {
        guard !entries.isEmpty, self.scores.score(of: peer) >= self.scores.thresholds.gossipThreshold else { return }
        var replies: [GossipMessage] = []
        var limited = false
        outer: for entry in entries {
            for id in entry.messageIDs {
                guard self.peers[peer]!.servedIWants < self.configuration.maxIWantReplies else {
                    limited = true
                    break outer
                }
                let limit = self.configuration.gossipRetransmission
                if let message = self.messageCache.message(for: id, peer: peer, limit: limit) {
                    self.peers[peer]!.servedIWants += 1
                    replies.append(message)
                }
            }
        }
        if limited {
            self.effects.append(.event(.rateLimited(peer, what: "IWANT replies per heartbeat")))
        }
        if !replies.isEmpty {
            self.queue(to: peer) { $0.messages += replies }
        }
    }

    private mutating func handleGraft(
        _ entries: [GossipSubControl.Graft],
        from peer: PeerID,
        now: NIODeadline,
        rng: inout some RandomNumberGenerator
    ) {
        // A topic repeated within one RPC counts once: a GRAFT flood must not make us queue one PRUNE per entry.
        var handled: Set<String> = []
        for entry in entries where handled.insert(entry.topic).inserted {
            let topic = entry.topic
            // v1.1: GRAFTs for topics we are not in are ignored (no PRUNE, which would leak our topics).
            guard let members = self.mesh[topic], !members.contains(peer) else { continue }
            if let expiry = self.backoff[topic]?[peer], now < expiry {
                self.scores.addPenalty(peer, 1)
                // A GRAFT very soon after our PRUNE is flooding: a second penalty.
                if now < expiry + self.configuration.graftFloodThreshold - self.configuration.pruneBackoff {
                    self.scores.addPenalty(peer, 1)
                }
                self.effects.append(.event(.graftDuringBackoff(peer, topic: topic)))
                self.sendPrune(to: peer, topic: topic, backoff: self.configuration.pruneBackoff, exchange: [])
                self.addBackoff(peer, topic: topic, until: now + self.configuration.pruneBackoff)
                continue
            }
            if self.scores.score(of: peer) < 0 {
                self.sendPrune(to: peer, topic: topic, backoff: self.configuration.pruneBackoff, exchange: [])
                self.addBackoff(peer, topic: topic, until: now + self.configuration.pruneBackoff)
                continue
            }
            if members.count >= self.configuration.meshDegreeHigh && self.peers[peer]?.outbound != true {
                let offered = self.peerExchange(for: peer, topic: topic, rng: &rng)
                self.sendPrune(to: peer, topic: topic, backoff: self.configuration.pruneBackoff, exchange: offered)
                self.addBackoff(peer, topic: topic, until: now + self.configuration.pruneBackoff)
                continue
            }
            self.mesh[topic]!.insert(peer)
            self.scores.graft(peer, topic: topic, now: now)
            self.effects.append(.event(.grafted(peer, topic: topic)))
        }
    }

    private mutating func handlePrune(_ entries: [GossipSubControl.Prune], from peer: PeerID, now: NIODeadline) {
        for entry in entries {
            let topic = entry.topic
            // PRUNEs for topics we are not in are ignored, so a peer cannot grow our backoff table at will.
            guard self.mesh[topic] != nil else { continue }
            if self.mesh[topic]?.remove(peer) != nil {
                self.scores.prune(peer, topic: topic)
                self.effects.append(.event(.pruned(peer, topic: topic)))
            }
            let backoff =
                entry.backoff.map { seconds in
                    seconds >= UInt64(Self.maxPeerBackoff.nanoseconds / 1_000_000_000)
                        ? Self.maxPeerBackoff : .seconds(Int64(seconds))
                } ?? self.configuration.pruneBackoff
            self.addBackoff(peer, topic: topic, until: now + backoff)
            guard !entry.peers.isEmpty,
                self.scores.score(of: peer) >= self.scores.thresholds.acceptPXThreshold
            else { continue }
            var offered: [PeerID] = []
            var records: [PeerID: [UInt8]] = [:]
            for info in entry.peers.prefix(self.configuration.prunePeers) {
                guard let bytes = info.peerID, let id = try? PeerID(bytes: bytes), id != self.localPeerID,
                    !offered.contains(id)
                else { continue }
                offered.append(id)
                records[id] = info.signedPeerRecord
            }
            if !offered.isEmpty {
                self.effects.append(.event(.peerExchange(topic: topic, peers: offered, signedPeerRecords: records)))
            }
        }
    }
}
