// https://github.com/libp2p/specs/blob/master/pubsub/gossipsub/gossipsub-v1.1.md#protocol-id

/// The pubsub protocol IDs this module speaks, in order of preference.
public enum GossipSubProtocolID: String, Hashable, Sendable, CaseIterable {
    /// GossipSub v1.1: peer exchange, backoff, scoring, flood publishing.
    case meshsub11 = "/meshsub/1.1.0"
    /// GossipSub v1.0: the same RPC; a v1.0 peer gets no peer exchange in PRUNE.
    case meshsub10 = "/meshsub/1.0.0"

    /// Whether peers speaking this version understand v1.1 additions (PX, backoff).
    public var supportsPeerExchange: Bool { self == .meshsub11 }
}
