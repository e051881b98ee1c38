// https://github.com/libp2p/specs/blob/master/pubsub/README.md#the-rpc

/// One pubsub RPC: subscription changes, published messages and gossipsub control messages.
///
/// Encode with ``encoded()`` and decode with ``init(decoding:maxSize:)``; on a stream each RPC is a
/// `<uvarint length><RPC>` frame (see ``framed(maxFrameSize:)`` and ``readFrame(from:maxSize:)``).
public struct GossipSubRPC: Hashable, Sendable {
    /// A subscription change (`SubOpts`).
    public struct Subscription: Hashable, Sendable {
        /// `true` to subscribe, `false` to unsubscribe.
        public var subscribe: Bool
        /// The topic.
        public var topic: String

        /// Creates a subscription change.
        public init(subscribe: Bool, topic: String) {
            self.subscribe = subscribe
            self.topic = topic
        }
    }

    /// Subscription changes (field 1).
    public var subscriptions: [Subscription]
    /// Published or forwarded messages (field 2).
    public var messages: [GossipMessage]
    /// Control messages (field 3), `nil` when absent.
    public var control: GossipSubControl?

    /// Creates an RPC.
    public init(subscriptions: [Subscription] = [], messages: [GossipMessage] = [], control: GossipSubControl? = nil) {
        self.subscriptions = subscriptions
        self.messages = messages
        self.control = control
    }

    /// Whether the RPC carries nothing (an empty control counts as nothing).
    public var isEmpty: Bool {
        self.subscriptions.isEmpty && self.messages.isEmpty && (self.control?.isEmpty ?? true)
    }
}
