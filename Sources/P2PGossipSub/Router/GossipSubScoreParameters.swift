public import NIOCore

// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#peer-scoring
//
// The spec gives no default weights; the defaults below are small, sign-correct starting values in the
// spirit of go-libp2p-pubsub's examples and must be tuned by the application.

/// The score thresholds of gossipsub v1.1.
public struct GossipSubScoreThresholds: Hashable, Sendable {
    /// Below this (< 0) no gossip is sent to or accepted from a peer.
    public var gossipThreshold: Double
    /// Below this (≤ gossip threshold) our own messages are not flood-published to a peer.
    public var publishThreshold: Double
    /// Below this (< publish threshold) every RPC from a peer is ignored.
    public var graylistThreshold: Double
    /// At or above this (≥ 0) peer exchange from a peer's PRUNE is accepted.
    public var acceptPXThreshold: Double
    /// When the median mesh score is below this (≥ 0), better peers are grafted opportunistically.
    public var opportunisticGraftThreshold: Double

    /// Creates thresholds.
    public init(
        gossipThreshold: Double = -10,
        publishThreshold: Double = -50,
        graylistThreshold: Double = -80,
        acceptPXThreshold: Double = 10,
        opportunisticGraftThreshold: Double = 20
    ) {
        self.gossipThreshold = gossipThreshold
        self.publishThreshold = publishThreshold
        self.graylistThreshold = graylistThreshold
        self.acceptPXThreshold = acceptPXThreshold
        self.opportunisticGraftThreshold = opportunisticGraftThreshold
    }

    /// All thresholds at zero: what applies when scoring is off (every score is then 0).
    public static let zero = GossipSubScoreThresholds(
        gossipThreshold: 0,
        publishThreshold: 0,
        graylistThreshold: 0,
        acceptPXThreshold: 0,
        opportunisticGraftThreshold: 0
    )
}

/// Per-topic score parameters (P₁ to P₄).
public struct GossipSubTopicScoreParameters: Hashable, Sendable {
    /// The weight of this topic's score in the peer's total.
    public var topicWeight: Double = 1
    /// P₁ weight (> 0): time in mesh.
    public var timeInMeshWeight: Double = 0.01
    /// P₁ quantum: the time that counts as one unit.
    public var timeInMeshQuantum: TimeAmount = .seconds(1)
    /// P₁ cap, in quanta.
    public var timeInMeshCap: Double = 3600
    /// P₂ weight (> 0): first deliveries.
    public var firstMessageDeliveriesWeight: Double = 1
    /// P₂ decay factor per decay interval.
    public var firstMessageDeliveriesDecay: Double = 0.5
    /// P₂ cap.
    public var firstMessageDeliveriesCap: Double = 2000
    /// P₃ weight (< 0): mesh delivery deficit.
    public var meshMessageDeliveriesWeight: Double = -1
    /// P₃ decay factor.
    public var meshMessageDeliveriesDecay: Double = 0.5
    /// P₃ threshold: expected mesh deliveries.
    public var meshMessageDeliveriesThreshold: Double = 20
    /// P₃ cap on counted mesh deliveries.
    public var meshMessageDeliveriesCap: Double = 100
    /// P₃ only applies this long after grafting.
    public var meshMessageDeliveriesActivation: TimeAmount = .seconds(5)
    /// A duplicate from a mesh peer within this window after the first delivery still counts for P₃.
    public var meshMessageDeliveriesWindow: TimeAmount = .milliseconds(10)
    /// P₃b weight (< 0): sticky penalty for a deficit at prune time.
    public var meshFailurePenaltyWeight: Double = -1
    /// P₃b decay factor.
    public var meshFailurePenaltyDecay: Double = 0.5
    /// P₄ weight (< 0): invalid messages.
    public var invalidMessageDeliveriesWeight: Double = -1
    /// P₄ decay factor.
    public var invalidMessageDeliveriesDecay: Double = 0.3

    /// Creates topic parameters with the defaults; change fields as needed.
    public init() {}
}

/// Peer-scoring parameters of gossipsub v1.1.
public struct GossipSubScoreParameters: Hashable, Sendable {
    /// Scored topics; messages on other topics do not change P₁ to P₄.
    public var topics: [String: GossipSubTopicScoreParameters] = [:]
    /// Cap on the summed topic scores (0 for no cap).
    public var topicScoreCap: Double = 0
    /// P₅ weight: the application-specific score.
    public var appSpecificWeight: Double = 1
    /// P₆ weight (< 0): peers sharing a colocation key (an IP address).
    public var ipColocationFactorWeight: Double = -1
    /// P₆ threshold: peers allowed per colocation key without penalty.
    public var ipColocationFactorThreshold: Double = 1
    /// P₇ weight (< 0): behaviour penalty.
    public var behaviourPenaltyWeight: Double = -1
    /// P₇ threshold: penalty counted only above this.
    public var behaviourPenaltyThreshold: Double = 0
    /// P₇ decay factor.
    public var behaviourPenaltyDecay: Double = 0.9
    /// How often counters decay.
    public var decayInterval: TimeAmount = .seconds(1)
    /// Counters below this become 0.
    public var decayToZero: Double = 0.01
    /// How long a disconnected peer's score is kept.
    public var retainScore: TimeAmount = .seconds(3600)
    /// The thresholds.
    public var thresholds = GossipSubScoreThresholds()

    /// Creates parameters with the defaults; change fields as needed.
    public init() {}
}
