public import NIOCore
public import P2PCore

// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.0.md#router-state
// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md

/// The gossipsub v1.1 router as a pure state machine.
///
/// It holds the peers and their topics, the mesh and fanout of each topic, the message cache, the seen
/// cache, PRUNE backoffs, IWANT promises and peer scores. Each input (``peerConnected(_:outbound:protocolID:colocationKey:)``,
/// ``rpcReceived(from:_:now:rng:)``, ``publish(topic:data:now:rng:)``, ``heartbeat(now:rng:)``,
/// ``validationCompleted(messageID:result:now:)``…) returns the ``GossipSubEffect``s to carry out: RPCs
/// to send (at most one per peer per call, in peer order), messages to validate or deliver, and events.
/// There are no sockets and no clocks: time comes in as `now` and randomness as a generator, so the same
/// inputs always give the same effects.
///
/// Messages are forwarded and delivered only after the application accepted them
/// (``GossipSubEffect/validate(_:id:source:)`` then ``validationCompleted(messageID:result:now:)``).
public struct GossipSubRouter: Sendable {
    struct PeerState {
        var outbound: Bool
        var protocolID: GossipSubProtocolID
        var topics: Set<String> = []
        /// IHAVE RPCs processed from this peer in the current heartbeat.
        var ihaveMessages = 0
        /// Message IDs requested from this peer in the current heartbeat.
        var requestedIDs = 0
        /// Messages served to this peer's IWANTs in the current heartbeat.
        var servedIWants = 0
    }

    struct PendingMessage {
        var message: GossipMessage
        var source: PeerID
        var received: NIODeadline
        /// Whether it fits our send limit; a larger one is delivered but neither forwarded nor cached.
        var forwardable: Bool
    }

    /// Our own peer ID.
    public let localPeerID: PeerID
    /// The configuration.
    public let configuration: GossipSubConfiguration
    private let localKey: PrivateKey?
    let localPeerBytes: [UInt8]

    var peers: [PeerID: PeerState] = [:]
    var peersByTopic: [String: Set<PeerID>] = [:]
    var mesh: [String: Set<PeerID>] = [:]
    var fanout: [String: Set<PeerID>] = [:]
    var fanoutLastPublished: [String: NIODeadline] = [:]
    var messageCache: MessageCache
    var seen: SeenCache
    var backoff: [String: [PeerID: NIODeadline]] = [:]
    var promises: [GossipMessageID: [PeerID: NIODeadline]] = [:]
    var pending: [GossipMessageID: PendingMessage] = [:]
    var scores: PeerScore
    var heartbeatTicks: UInt64 = 0
    var nextSeqno: UInt64
    var outbox: [PeerID: GossipSubRPC] = [:]
    var effects: [GossipSubEffect] = []

    /// Creates a router.
    ///
    /// - Parameters:
    ///   - localKey: our identity key; it signs StrictSign messages and gives ``localPeerID``.
    ///   - configuration: every parameter; checked with ``GossipSubConfiguration/validate()``.
    ///   - initialSequenceNumber: the first seqno we publish with. Pass something that grows across
    ///     restarts (go-libp2p uses the Unix time in nanoseconds) so peers do not drop our new messages
    ///     as duplicates of old ones.
    /// - Throws: ``GossipSubError/Code/invalidConfiguration``.
    public init(
        localKey: PrivateKey,
        configuration: GossipSubConfiguration = GossipSubConfiguration(),
        initialSequenceNumber: UInt64 = 1
    ) throws {
        try configuration.validate()
        self.localKey = localKey
        self.localPeerID = PeerID(publicKey: localKey.publicKey)
        self.localPeerBytes = self.localPeerID.bytes
        self.configuration = configuration
        self.messageCache = MessageCache(
            historyLength: configuration.historyLength,
            historyGossip: configuration.historyGossip
        )
        self.seen = SeenCache(ttl: configuration.seenTTL)
        self.scores = PeerScore(parameters: configuration.scoring)
        self.nextSeqno = initialSequenceNumber
    }

    // MARK: inspection

    /// The topics we are subscribed to.
    public var subscribedTopics: Set<String> { Set(self.mesh.keys) }
    /// The connected peers.
    public var connectedPeers: Set<PeerID> { Set(self.peers.keys) }
    /// Our mesh for `topic` (empty when not subscribed).
    public func meshPeers(_ topic: String) -> Set<PeerID> { self.mesh[topic] ?? [] }
    /// Our fanout for `topic` (empty unless we published to it without subscribing).
    public func fanoutPeers(_ topic: String) -> Set<PeerID> { self.fanout[topic] ?? [] }
    /// The connected peers subscribed to `topic`.
    public func topicPeers(_ topic: String) -> Set<PeerID> { self.peersByTopic[topic] ?? [] }
    /// The topics `peer` is subscribed to.
    public func topics(of peer: PeerID) -> Set<String> { self.peers[peer]?.topics ?? [] }
    /// The current score of `peer` (0 with scoring off).
    public func score(of peer: PeerID) -> Double { self.scores.score(of: peer) }
    /// Whether we must not graft `peer` on `topic` at `now`.
    public func isBackedOff(_ peer: PeerID, topic: String, now: NIODeadline) -> Bool {
        guard let expiry = self.backoff[topic]?[peer] else { return false }
        return now < expiry
    }
    /// Whether the message cache holds `id` (it can be served to IWANT).
    public func isCached(_ id: GossipMessageID) -> Bool { self.messageCache.contains(id) }
    /// The messages waiting for the application's verdict.
    public var pendingValidations: Int { self.pending.count }

    // MARK: peers

    /// A peer opened a pubsub stream with us. Sends it our subscriptions.
    ///
    /// - Parameters:
    ///   - outbound: whether we dialed the connection (for the D_out quota).
    ///   - protocolID: the negotiated protocol; v1.0 peers get no peer exchange.
    ///   - colocationKey: an opaque key (an IP address) for the P₆ colocation penalty.
    public mutating func peerConnected(
        _ peer: PeerID,
        outbound: Bool,
        protocolID: GossipSubProtocolID = .meshsub11,
        colocationKey: String? = nil
    ) -> [GossipSubEffect] {
        guard self.peers[peer] == nil, peer != self.localPeerID else { return [] }
        self.peers[peer] = PeerState(outbound: outbound, protocolID: protocolID)
        self.scores.addPeer(peer, colocationKey: colocationKey)
        for topic in self.mesh.keys.sorted() {
            self.queue(to: peer) { $0.subscriptions.append(.init(subscribe: true, topic: topic)) }
        }
        return self.drainEffects()
    }

    /// A peer's pubsub stream or connection is gone.
    public mutating func peerDisconnected(_ peer: PeerID, now: NIODeadline) -> [GossipSubEffect] {
        guard let state = self.peers.removeValue(forKey: peer) else { return [] }
        for topic in state.topics {
            self.peersByTopic[topic]?.remove(peer)
            self.fanout[topic]?.remove(peer)
        }
        for topic in self.mesh.keys {
            self.mesh[topic]?.remove(peer)
        }
        for id in Array(self.promises.keys) {
            self.promises[id]?[peer] = nil
            if self.promises[id]?.isEmpty == true { self.promises[id] = nil }
        }
        self.scores.removePeer(peer, now: now)
        self.outbox[peer] = nil
        return self.drainEffects()
    }

    /// Sets the application-specific score (P₅) of a peer.
    public mutating func setApplicationScore(_ peer: PeerID, _ value: Double) {
        self.scores.setApplicationScore(peer, value)
    }

    // MARK: subscriptions

    /// Joins `topic`: announces it to every peer and grafts up to D peers (fanout peers first).
    public mutating func subscribe(
        _ topic: String,
        now: NIODeadline,
        rng: inout some RandomNumberGenerator
    ) -> [GossipSubEffect] {
        guard self.mesh[topic] == nil else { return [] }
        for peer in self.peers.keys {
            self.queue(to: peer) { $0.subscriptions.append(.init(subscribe: true, topic: topic)) }
        }
        self.mesh[topic] = []
        let eligible = { (router: Self, peer: PeerID) in router.canGraft(peer, topic: topic, now: now) }
        var chosen = Array(self.fanout.removeValue(forKey: topic) ?? []).filter { eligible(self, $0) }.sorted()
        chosen = Array(chosen.shuffled(using: &rng).prefix(self.configuration.meshDegree))
        self.fanoutLastPublished[topic] = nil
        if chosen.count < self.configuration.meshDegree {
            let candidates = self.topicPeers(topic).filter { !chosen.contains($0) && eligible(self, $0) }.sorted()
            chosen += candidates.shuffled(using: &rng).prefix(self.configuration.meshDegree - chosen.count)
        }
        for peer in chosen {
            self.graft(peer, topic: topic, now: now)
        }
        return self.drainEffects()
    }

    /// Leaves `topic`: announces it and prunes the mesh with the unsubscribe backoff.
    public mutating func unsubscribe(_ topic: String, now: NIODeadline) -> [GossipSubEffect] {
        guard let members = self.mesh.removeValue(forKey: topic) else { return [] }
        for peer in self.peers.keys {
            self.queue(to: peer) { $0.subscriptions.append(.init(subscribe: false, topic: topic)) }
        }
        for peer in members.sorted() {
            self.scores.prune(peer, topic: topic)
            self.sendPrune(to: peer, topic: topic, backoff: self.configuration.unsubscribeBackoff, exchange: [])
            self.addBackoff(peer, topic: topic, until: now + self.configuration.unsubscribeBackoff)
            self.effects.append(.event(.pruned(peer, topic: topic)))
        }
        return self.drainEffects()
    }

    // MARK: publishing

    /// Publishes `data` on `topic` under the topic's signature policy.
    ///
    /// With flood publishing (the default) the message goes to every topic peer at or above the publish
    /// threshold; otherwise to the mesh, or to the fanout when we are not subscribed. The message is not
    /// delivered back to us.
    ///
    /// - Returns: the message ID and the effects.
    /// - Throws: ``GossipSubError/Code/tooLarge`` when the message cannot fit in one frame;
    ///   ``GossipSubError/Code/duplicateMessage`` when its ID was seen recently.
    public mutating func publish(
        topic: String,
        data: [UInt8],
        now: NIODeadline,
        rng: inout some RandomNumberGenerator
    ) throws -> (id: GossipMessageID, effects: [GossipSubEffect]) {
        let topicConfiguration = self.configuration.topic(topic)
        let message = try GossipMessage.make(
            topic: topic,
            data: data,
            policy: topicConfiguration.signaturePolicy,
            key: self.localKey,
            seqno: self.nextSeqno
        )
        let frameSize = Self.frameSize(of: message)
        guard frameSize <= self.configuration.maxSendSize else {
            throw GossipSubError(
                .tooLarge,
                "a message of \(data.count) data bytes needs a \(frameSize)-byte frame; the limit is \(self.configuration.maxSendSize)"
            )
        }
        let id = topicConfiguration.messageIDFunction.messageID(of: message)
        guard self.seen.insert(id, now: now) else {
            throw GossipSubError(.duplicateMessage, "message \(id) was already seen on \(topic)")
        }
        if topicConfiguration.signaturePolicy == .strictSign {
            self.nextSeqno &+= 1
        }
        self.messageCache.put(id, message)

        let publishThreshold = self.scores.thresholds.publishThreshold
        if self.mesh[topic] == nil {
            self.fanoutLastPublished[topic] = now
            if self.fanout[topic]?.isEmpty ?? true {
                let candidates = self.topicPeers(topic).filter { self.scores.score(of: $0) >= publishThreshold }
                self.fanout[topic] = Set(
                    candidates.sorted().shuffled(using: &rng).prefix(self.configuration.meshDegree)
                )
            }
        }
        let recipients: Set<PeerID>
        if topicConfiguration.floodPublish {
            recipients = self.topicPeers(topic).filter { self.scores.score(of: $0) >= publishThreshold }
        } else {
            recipients = self.mesh[topic] ?? self.fanout[topic] ?? []
        }
        for peer in recipients {
            self.queue(to: peer) { $0.messages.append(message) }
        }
        return (id, self.drainEffects())
    }

    /// The application's verdict on a message announced with ``GossipSubEffect/validate(_:id:source:)``.
    ///
    /// Accept: cache, deliver (if still subscribed) and forward to the mesh except the source and the
    /// author; a message over our send limit is only delivered. Reject: penalise the senders (P₄). Ignore: drop without penalty. Unknown IDs do nothing.
    public mutating func validationCompleted(
        messageID id: GossipMessageID,
        result: GossipSubValidationResult,
        now: NIODeadline
    ) -> [GossipSubEffect] {
        guard let pending = self.pending.removeValue(forKey: id) else { return [] }
        let topic = pending.message.topic
        switch result {
        case .accept:
            self.scores.messageAccepted(id, source: pending.source, topic: topic, now: now)
            if pending.forwardable {
                self.messageCache.put(id, pending.message)
            }
            if let members = self.mesh[topic] {
                self.effects.append(.deliver(pending.message, id: id, source: pending.source))
                let author = pending.message.from.flatMap { try? PeerID(bytes: $0) }
                for peer in members where pending.forwardable && peer != pending.source && peer != author {
                    self.queue(to: peer) { $0.messages.append(pending.message) }
                }
            }
        case .reject:
            self.scores.messageRejected(id, source: pending.source, topic: topic)
        case .ignore:
            self.scores.messageIgnored(id)
        }
        return self.drainEffects()
    }

    // MARK: helpers shared by the extensions

    /// The size of a frame carrying only `message`.
    static func frameSize(of message: GossipMessage) -> Int {
        let body = GossipSubRPC.fieldSize(message.encoded().count)
        return UVarint.encodedLength(UInt64(body)) + body
    }

    /// Whether we may GRAFT `peer` now. Our backoff is extended by one heartbeat of slack so that our GRAFT
    /// cannot reach the peer while its own copy of the backoff is still running (it would penalise us).
    func canGraft(_ peer: PeerID, topic: String, now: NIODeadline) -> Bool {
        guard self.peers[peer] != nil, self.scores.score(of: peer) >= 0 else { return false }
        guard let expiry = self.backoff[topic]?[peer] else { return true }
        return now >= expiry + self.configuration.heartbeatInterval
    }

    mutating func graft(_ peer: PeerID, topic: String, now: NIODeadline) {
        self.mesh[topic, default: []].insert(peer)
        self.scores.graft(peer, topic: topic, now: now)
        self.queue(to: peer) { rpc in
            var control = rpc.control ?? GossipSubControl()
            control.graft.append(.init(topic: topic))
            rpc.control = control
        }
        self.effects.append(.event(.grafted(peer, topic: topic)))
    }

    /// Removes `peer` from the mesh with a PRUNE carrying the prune backoff and, if allowed, peer exchange.
    mutating func pruneFromMesh(
        _ peer: PeerID,
        topic: String,
        now: NIODeadline,
        exchange: Bool,
        rng: inout some RandomNumberGenerator
    ) {
        self.mesh[topic]?.remove(peer)
        self.scores.prune(peer, topic: topic)
        let offered = exchange ? self.peerExchange(for: peer, topic: topic, rng: &rng) : []
        self.sendPrune(to: peer, topic: topic, backoff: self.configuration.pruneBackoff, exchange: offered)
        self.addBackoff(peer, topic: topic, until: now + self.configuration.pruneBackoff)
        self.effects.append(.event(.pruned(peer, topic: topic)))
    }

    mutating func sendPrune(to peer: PeerID, topic: String, backoff: TimeAmount, exchange: [PeerID]) {
        let seconds = UInt64(max(backoff.nanoseconds, 0) / 1_000_000_000)
        let prune = GossipSubControl.Prune(
            topic: topic,
            peers: exchange.map { GossipSubControl.PeerInfo(peerID: $0.bytes) },
            backoff: seconds
        )
        self.queue(to: peer) { rpc in
            var control = rpc.control ?? GossipSubControl()
            control.prune.append(prune)
            rpc.control = control
        }
    }

    /// Peers offered to a pruned peer: other topic peers with a non-negative score, if we do PX and the
    /// pruned peer speaks v1.1 and has a non-negative score.
    func peerExchange(for peer: PeerID, topic: String, rng: inout some RandomNumberGenerator) -> [PeerID] {
        guard self.configuration.doPeerExchange, self.peers[peer]?.protocolID.supportsPeerExchange == true,
            self.scores.score(of: peer) >= 0
        else { return [] }
        let candidates = self.topicPeers(topic).filter { $0 != peer && self.scores.score(of: $0) >= 0 }.sorted()
        return Array(candidates.shuffled(using: &rng).prefix(self.configuration.prunePeers))
    }

    mutating func addBackoff(_ peer: PeerID, topic: String, until expiry: NIODeadline) {
        let current = self.backoff[topic]?[peer]
        if current == nil || current! < expiry {
            self.backoff[topic, default: [:]][peer] = expiry
        }
    }

    mutating func queue(to peer: PeerID, _ update: (inout GossipSubRPC) -> Void) {
        guard self.peers[peer] != nil else { return }
        update(&self.outbox[peer, default: GossipSubRPC()])
    }

    mutating func drainEffects() -> [GossipSubEffect] {
        var result = self.effects
        self.effects.removeAll()
        for peer in self.outbox.keys.sorted() {
            let rpc = self.outbox[peer]!
            if !rpc.isEmpty {
                result.append(.send(rpc, to: peer))
            }
        }
        self.outbox.removeAll()
        return result
    }
}
