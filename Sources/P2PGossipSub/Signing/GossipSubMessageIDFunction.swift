import Crypto

// https://github.com/libp2p/specs/blob/master/pubsub/README.md#message-identification

/// How a message's ID is computed. Every peer in a topic must use the same function, or IHAVE/IWANT
/// gossip breaks.
public enum GossipSubMessageIDFunction: Hashable, Sendable {
    /// The raw `from` bytes followed by the raw `seqno` bytes (go-libp2p's and py-libp2p's default).
    case fromAndSeqno
    /// SHA-256 of the payload (the usual choice with ``GossipSubSignaturePolicy/strictNoSign``).
    case sha256OfData

    /// The ID of `message`.
    public func messageID(of message: GossipMessage) -> GossipMessageID {
        switch self {
        case .fromAndSeqno:
            GossipMessageID((message.from ?? []) + (message.seqno ?? []))
        case .sha256OfData:
            GossipMessageID(Array(SHA256.hash(data: message.payload)))
        }
    }
}
