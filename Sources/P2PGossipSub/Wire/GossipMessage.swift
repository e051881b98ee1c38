// https://github.com/libp2p/specs/blob/master/pubsub/README.md#the-message

/// One pubsub message (the `Message` protobuf of the RPC).
///
/// Optional fields keep their presence: a field that was absent on the wire is `nil`, an empty one is
/// `[]`. That matters for signature policies (StrictNoSign requires `from`, `seqno`, `signature` and
/// `key` to be absent) and for re-serialising the message when checking a signature.
public struct GossipMessage: Hashable, Sendable {
    /// The author's peer ID bytes (field 1); not the peer that forwarded the message.
    public var from: [UInt8]?
    /// The payload (field 2).
    public var data: [UInt8]?
    /// The author's sequence number (field 3), 8 bytes big-endian.
    public var seqno: [UInt8]?
    /// The topic (field 4).
    public var topic: String
    /// The author's signature (field 5).
    public var signature: [UInt8]?
    /// The author's serialized public key (field 6), set only when `from` cannot inline it.
    public var key: [UInt8]?

    /// Creates a message.
    public init(
        from: [UInt8]? = nil,
        data: [UInt8]? = nil,
        seqno: [UInt8]? = nil,
        topic: String,
        signature: [UInt8]? = nil,
        key: [UInt8]? = nil
    ) {
        self.from = from
        self.data = data
        self.seqno = seqno
        self.topic = topic
        self.signature = signature
        self.key = key
    }

    /// The payload, with an absent `data` field read as empty.
    public var payload: [UInt8] { self.data ?? [] }
}
