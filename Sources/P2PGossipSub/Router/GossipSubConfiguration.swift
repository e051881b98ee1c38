public import NIOCore

// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.0.md#parameters
// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#overview-of-new-parameters

/// How one topic is authored, identified and published.
public struct GossipSubTopicConfiguration: Hashable, Sendable {
    /// The signature policy of the topic.
    public var signaturePolicy: GossipSubSignaturePolicy
    /// The message-ID function of the topic; every peer in the topic must use the same one.
    public var messageIDFunction: GossipSubMessageIDFunction
    /// Whether our own messages go to every topic peer above the publish threshold (v1.1 flood
    /// publishing) rather than only to the mesh or fanout.
    public var floodPublish: Bool

    /// Creates a topic configuration; the message-ID function defaults to the policy's.
    public init(
        signaturePolicy: GossipSubSignaturePolicy = .strictSign,
        messageIDFunction: GossipSubMessageIDFunction? = nil,
        floodPublish: Bool = true
    ) {
        self.signaturePolicy = signaturePolicy
        self.messageIDFunction = messageIDFunction ?? signaturePolicy.defaultMessageIDFunction
        self.floodPublish = floodPublish
    }
}

/// Every parameter of the gossipsub router, with the spec's (and go-libp2p's) defaults.
public struct GossipSubConfiguration: Hashable, Sendable {
    /// D: the desired mesh degree.
    public var meshDegree = 6
    /// D_lo: below this the heartbeat grafts up to D.
    public var meshDegreeLow = 5
    /// D_hi: above this the heartbeat prunes down to D.
    public var meshDegreeHigh = 12
    /// D_lazy: the minimum number of peers gossip (IHAVE) is sent to per topic.
    public var lazyDegree = 6
    /// D_out: the outbound-connection peers kept in each mesh (< D_lo, ≤ D/2).
    public var outboundDegree = 2
    /// D_score: the best-scoring peers kept when pruning an oversubscribed mesh.
    public var scoreDegree = 4
    /// The heartbeat interval the driver uses (the router only uses it as backoff slack).
    public var heartbeatInterval: TimeAmount = .seconds(1)
    /// How long a fanout topic lives after our last publish to it.
    public var fanoutTTL: TimeAmount = .seconds(60)
    /// mcache_len: heartbeats a message stays in the message cache.
    public var historyLength = 5
    /// mcache_gossip: heartbeats of history advertised in IHAVE.
    public var historyGossip = 3
    /// How long message IDs are remembered to drop duplicates.
    public var seenTTL: TimeAmount = .seconds(120)
    /// The fraction of eligible peers gossip is sent to (adaptive gossip), at least ``lazyDegree``.
    public var gossipFactor = 0.25
    /// The backoff sent in, and applied after, a PRUNE.
    public var pruneBackoff: TimeAmount = .seconds(60)
    /// The shorter backoff applied when we leave a topic.
    public var unsubscribeBackoff: TimeAmount = .seconds(10)
    /// A GRAFT this soon after our PRUNE earns an extra behaviour penalty.
    public var graftFloodThreshold: TimeAmount = .seconds(10)
    /// The most message IDs we request (IWANT) from one peer per heartbeat.
    public var maxIHaveLength = 5000
    /// The most IHAVE messages we process from one peer per heartbeat.
    public var maxIHaveMessages = 10
    /// The most messages we serve to one peer's IWANTs per heartbeat.
    public var maxIWantReplies = 5000
    /// How long a peer has to deliver a message it advertised and we requested.
    public var iwantFollowupTime: TimeAmount = .seconds(3)
    /// How often the same message is sent to the same peer in answer to IWANT.
    public var gossipRetransmission = 3
    /// Opportunistic grafting runs every this many heartbeats.
    public var opportunisticGraftTicks = 60
    /// The peers grafted by one round of opportunistic grafting.
    public var opportunisticGraftPeers = 2
    /// Whether PRUNEs we send carry peer exchange.
    public var doPeerExchange = true
    /// The most peers offered in one PRUNE.
    public var prunePeers = 16
    /// The most topics one peer may be subscribed to; further subscriptions are dropped.
    public var maxTopicsPerPeer = 256
    /// The largest RPC we accept.
    public var maxReceiveSize = GossipSubRPC.defaultMaxReceiveSize
    /// The largest frame we send; a message that cannot fit is refused at publish.
    public var maxSendSize = GossipSubRPC.defaultMaxSendSize
    /// Topic settings for topics without an entry in ``topics``.
    public var defaultTopic = GossipSubTopicConfiguration()
    /// Per-topic settings.
    public var topics: [String: GossipSubTopicConfiguration] = [:]
    /// Peer scoring; `nil` turns scoring off (every score is 0 and every threshold is 0).
    public var scoring: GossipSubScoreParameters?

    /// Creates a configuration with the defaults; change fields as needed.
    public init() {}

    /// The settings that apply to `topic`.
    public func topic(_ topic: String) -> GossipSubTopicConfiguration {
        self.topics[topic] ?? self.defaultTopic
    }

    /// Checks the relations the spec requires between parameters.
    ///
    /// - Throws: ``GossipSubError/Code/invalidConfiguration`` naming the broken relation.
    public func validate() throws {
        func require(_ condition: Bool, _ what: String) throws {
            guard condition else { throw GossipSubError(.invalidConfiguration, what) }
        }
        try require(
            self.meshDegreeLow <= self.meshDegree && self.meshDegree <= self.meshDegreeHigh,
            "need D_lo ≤ D ≤ D_hi"
        )
        try require(self.meshDegreeLow >= 0, "need D_lo ≥ 0")
        let counts = [
            self.outboundDegree, self.scoreDegree, self.lazyDegree, self.maxIHaveLength, self.maxIHaveMessages,
            self.maxIWantReplies, self.gossipRetransmission, self.opportunisticGraftPeers, self.prunePeers,
            self.maxTopicsPerPeer,
        ]
        try require(counts.allSatisfy { $0 >= 0 }, "counts and limits must not be negative")
        try require((0...1).contains(self.gossipFactor), "need 0 ≤ gossip factor ≤ 1")
        // D = D_lo = D_hi = D_out = 0 is the spec's bootstrapper (peer-exchange only) configuration.
        try require(
            self.outboundDegree == 0
                || (self.outboundDegree < self.meshDegreeLow && self.outboundDegree <= self.meshDegree / 2),
            "need D_out < D_lo and D_out ≤ D/2"
        )
        try require(self.scoreDegree <= self.meshDegree, "need D_score ≤ D")
        try require(
            self.historyGossip <= self.historyLength && self.historyGossip >= 1,
            "need 1 ≤ mcache_gossip ≤ mcache_len"
        )
        try require(self.opportunisticGraftTicks >= 1, "need opportunistic graft ticks ≥ 1")
        try require(self.maxSendSize >= 128, "the send limit is too small for any RPC")
        if let thresholds = self.scoring?.thresholds {
            try require(thresholds.gossipThreshold <= 0, "need gossip threshold ≤ 0")
            try require(thresholds.publishThreshold <= thresholds.gossipThreshold, "need publish ≤ gossip threshold")
            try require(
                thresholds.graylistThreshold <= thresholds.publishThreshold,
                "need graylist ≤ publish threshold"
            )
            try require(thresholds.acceptPXThreshold >= 0, "need accept-PX threshold ≥ 0")
            try require(thresholds.opportunisticGraftThreshold >= 0, "need opportunistic graft threshold ≥ 0")
        }
    }
}
