public import P2PCore

/// A message a ``GossipSubService`` accepted on a subscribed topic (or is asking a validator about).
public struct GossipSubReceivedMessage: Hashable, Sendable {
    /// The topic.
    public var topic: String
    /// The payload.
    public var data: [UInt8]
    /// The author, when the message is signed (StrictSign); `nil` for StrictNoSign topics.
    public var from: PeerID?
    /// The message ID under the topic's message-ID function.
    public var id: GossipMessageID
    /// The peer that forwarded the message to us (not necessarily its author).
    public var propagationSource: PeerID
    /// The message as it came off the wire.
    public var message: GossipMessage

    /// Builds the application's view of a wire message.
    public init(message: GossipMessage, id: GossipMessageID, propagationSource: PeerID) {
        self.topic = message.topic
        self.data = message.payload
        self.from = message.from.flatMap { try? PeerID(bytes: $0) }
        self.id = id
        self.propagationSource = propagationSource
        self.message = message
    }
}

/// The messages received on one topic, in arrival order, as an async sequence.
///
/// It ends when the topic is left with ``GossipSubService/unsubscribe(_:)`` or the service stops. Dropping the
/// subscription stops its deliveries but keeps the node in the topic; call ``GossipSubService/unsubscribe(_:)``
/// to leave.
public struct GossipSubSubscription: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = GossipSubReceivedMessage
    /// The subscribed topic.
    public let topic: String
    private let stream: AsyncStream<GossipSubReceivedMessage>

    init(topic: String, stream: AsyncStream<GossipSubReceivedMessage>) {
        self.topic = topic
        self.stream = stream
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> Iterator {
        Iterator(base: self.stream.makeAsyncIterator())
    }

    /// Iterates the received messages.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncStream<GossipSubReceivedMessage>.Iterator

        /// The next message, or `nil` once the subscription ended.
        public mutating func next() async -> GossipSubReceivedMessage? {
            await self.base.next()
        }

        /// The next message, or `nil` once the subscription ended.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> GossipSubReceivedMessage? {
            await self.base.next(isolation: actor)
        }
    }
}
