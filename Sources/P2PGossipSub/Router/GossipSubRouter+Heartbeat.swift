public import NIOCore
import P2PCore

// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.0.md#heartbeat
// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#outbound-mesh-quotas

extension GossipSubRouter {
    /// The periodic maintenance, called every ``GossipSubConfiguration/heartbeatInterval`` by the driver.
    ///
    /// In order: reset per-heartbeat limits, penalise broken IWANT promises, refresh and decay scores,
    /// then for each mesh: prune negative scorers, graft up to D below D_lo, prune down to D above D_hi
    /// (keeping the D_score best and D_out outbound peers), top up outbound peers, graft opportunistically
    /// every ``GossipSubConfiguration/opportunisticGraftTicks`` heartbeats, and gossip IHAVE to non-mesh
    /// peers; then expire and refill fanouts and gossip for them, and shift the message cache.
    public mutating func heartbeat(now: NIODeadline, rng: inout some RandomNumberGenerator) -> [GossipSubEffect] {
        self.heartbeatTicks &+= 1
        for peer in self.peers.keys {
            self.peers[peer]!.ihaveMessages = 0
            self.peers[peer]!.requestedIDs = 0
            self.peers[peer]!.servedIWants = 0
        }
        self.applyBrokenPromises(now: now)
        self.scores.refresh(now: now, recordTTL: self.configuration.seenTTL)
        self.backoff = self.backoff.compactMapValues { peers in
            let live = peers.filter { now < $0.value + self.configuration.heartbeatInterval * 2 }
            return live.isEmpty ? nil : live
        }
        self.pending = self.pending.filter { now < $0.value.received + self.configuration.seenTTL }

        for topic in self.mesh.keys.sorted() {
            self.maintainMesh(topic: topic, now: now, rng: &rng)
            self.emitGossip(topic: topic, excluding: self.mesh[topic] ?? [], rng: &rng)
        }
        self.maintainFanout(now: now, rng: &rng)
        self.messageCache.shift()
        self.seen.expire(now: now)
        return self.drainEffects()
    }

    private mutating func applyBrokenPromises(now: NIODeadline) {
        for (id, promised) in self.promises {
            var remaining = promised
            for (peer, deadline) in promised where deadline <= now {
                self.scores.addPenalty(peer, 1)
                remaining[peer] = nil
            }
            self.promises[id] = remaining.isEmpty ? nil : remaining
        }
    }

    private mutating func maintainMesh(topic: String, now: NIODeadline, rng: inout some RandomNumberGenerator) {
        let configuration = self.configuration
        // Negative scorers leave the mesh, without peer exchange.
        for peer in self.meshPeers(topic).sorted() where self.scores.score(of: peer) < 0 {
            self.pruneFromMesh(peer, topic: topic, now: now, exchange: false, rng: &rng)
        }

        var members = self.meshPeers(topic)
        func candidates(_ router: Self, outboundOnly: Bool = false) -> [PeerID] {
            router.topicPeers(topic).filter { peer in
                !members.contains(peer) && router.canGraft(peer, topic: topic, now: now)
                    && (!outboundOnly || router.peers[peer]?.outbound == true)
            }.sorted()
        }

        if members.count < configuration.meshDegreeLow {
            let chosen = candidates(self).shuffled(using: &rng).prefix(configuration.meshDegree - members.count)
            for peer in chosen {
                self.graft(peer, topic: topic, now: now)
                members.insert(peer)
            }
        } else if members.count > configuration.meshDegreeHigh {
            // Random order, then best scores first (ties keep the random order).
            let shuffled = members.sorted().shuffled(using: &rng)
            let ranked = shuffled.enumerated().sorted { lhs, rhs in
                let (l, r) = (self.scores.score(of: lhs.element), self.scores.score(of: rhs.element))
                return l != r ? l > r : lhs.offset < rhs.offset
            }.map(\.element)
            var keep = Array(ranked.prefix(configuration.scoreDegree))
            var rest = Array(ranked.dropFirst(configuration.scoreDegree)).shuffled(using: &rng)
            keep += rest.prefix(configuration.meshDegree - keep.count)
            rest = Array(rest.dropFirst(configuration.meshDegree - configuration.scoreDegree))
            // Keep at least D_out outbound peers, swapping them in for inbound ones beyond the best D_score.
            var outboundKept = keep.count { self.peers[$0]?.outbound == true }
            var index = keep.count - 1
            while outboundKept < configuration.outboundDegree, index >= configuration.scoreDegree,
                let swapIn = rest.firstIndex(where: { self.peers[$0]?.outbound == true })
            {
                if self.peers[keep[index]]?.outbound != true {
                    let removed = keep[index]
                    keep[index] = rest.remove(at: swapIn)
                    rest.append(removed)
                    outboundKept += 1
                }
                index -= 1
            }
            for peer in rest.sorted() {
                self.pruneFromMesh(peer, topic: topic, now: now, exchange: true, rng: &rng)
            }
            members = Set(keep)
        }

        // Outbound quota: top up with outbound peers even when the mesh is otherwise big enough.
        let outboundCount = members.count { self.peers[$0]?.outbound == true }
        if members.count >= configuration.meshDegreeLow && outboundCount < configuration.outboundDegree {
            let chosen = candidates(self, outboundOnly: true).shuffled(using: &rng)
                .prefix(configuration.outboundDegree - outboundCount)
            for peer in chosen {
                self.graft(peer, topic: topic, now: now)
                members.insert(peer)
            }
        }

        // Opportunistic grafting: if the median mesh score is low, graft peers that score above it.
        if self.heartbeatTicks % UInt64(configuration.opportunisticGraftTicks) == 0 && members.count > 1 {
            let scores = members.map { self.scores.score(of: $0) }.sorted()
            let median = scores[scores.count / 2]
            if median < self.scores.thresholds.opportunisticGraftThreshold {
                let chosen = candidates(self).filter { self.scores.score(of: $0) > median }
                    .shuffled(using: &rng).prefix(configuration.opportunisticGraftPeers)
                for peer in chosen {
                    self.graft(peer, topic: topic, now: now)
                    members.insert(peer)
                }
            }
        }
    }

    private mutating func maintainFanout(now: NIODeadline, rng: inout some RandomNumberGenerator) {
        let publishThreshold = self.scores.thresholds.publishThreshold
        for topic in self.fanout.keys.sorted() {
            guard let published = self.fanoutLastPublished[topic],
                now < published + self.configuration.fanoutTTL
            else {
                self.fanout[topic] = nil
                self.fanoutLastPublished[topic] = nil
                continue
            }
            let subscribed = self.topicPeers(topic)
            var members = self.fanout[topic]!.filter {
                subscribed.contains($0) && self.scores.score(of: $0) >= publishThreshold
            }
            if members.count < self.configuration.meshDegree {
                let extra = subscribed.filter { !members.contains($0) && self.scores.score(of: $0) >= publishThreshold }
                    .sorted().shuffled(using: &rng).prefix(self.configuration.meshDegree - members.count)
                members.formUnion(extra)
            }
            self.fanout[topic] = members
            self.emitGossip(topic: topic, excluding: members, rng: &rng)
        }
    }

    /// Sends IHAVE with the gossip windows' IDs to max(D_lazy, gossip factor × eligible) non-mesh peers.
    private mutating func emitGossip(
        topic: String,
        excluding excluded: Set<PeerID>,
        rng: inout some RandomNumberGenerator
    ) {
        var ids = self.messageCache.gossipIDs(topic: topic)
        guard !ids.isEmpty else { return }
        if ids.count > self.configuration.maxIHaveLength {
            ids = Array(ids.shuffled(using: &rng).prefix(self.configuration.maxIHaveLength))
        }
        let gossipThreshold = self.scores.thresholds.gossipThreshold
        let eligible = self.topicPeers(topic).filter {
            !excluded.contains($0) && self.scores.score(of: $0) >= gossipThreshold
        }.sorted()
        let target = max(
            self.configuration.lazyDegree,
            Int(self.configuration.gossipFactor * Double(eligible.count))
        )
        for peer in eligible.shuffled(using: &rng).prefix(target) {
            self.queue(to: peer) { rpc in
                var control = rpc.control ?? GossipSubControl()
                control.ihave.append(.init(topic: topic, messageIDs: ids))
                rpc.control = control
            }
        }
    }
}
