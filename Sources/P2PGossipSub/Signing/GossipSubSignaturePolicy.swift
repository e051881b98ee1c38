// https://github.com/libp2p/specs/blob/master/pubsub/README.md#signature-policy-options

/// How messages on a topic are authored and checked.
public enum GossipSubSignaturePolicy: Hashable, Sendable {
    /// Messages carry `from`, `seqno` and a `signature` by the author's key (plus `key` when the peer ID
    /// cannot inline the public key). Unsigned or badly signed messages are rejected.
    case strictSign
    /// Messages carry none of `from`, `seqno`, `signature` and `key`; a message with any of them is rejected.
    case strictNoSign

    /// The message-ID function that fits the policy: `from ‖ seqno` when signed, SHA-256 of the data otherwise.
    public var defaultMessageIDFunction: GossipSubMessageIDFunction {
        switch self {
        case .strictSign: .fromAndSeqno
        case .strictNoSign: .sha256OfData
        }
    }
}
