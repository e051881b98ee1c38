import NIOCore

/// Settings of a ``GossipSubService``: the router's parameters plus how it uses the host's streams.
public struct GossipSubServiceConfiguration: Sendable {
    /// Every router parameter, including per-topic signature policies and message-ID functions
    /// (``GossipSubConfiguration/topics``) and the heartbeat interval.
    public var router: GossipSubConfiguration
    /// The pubsub protocols registered for inbound streams and proposed, in this order, on outbound ones.
    public var protocols: [GossipSubProtocolID]
    /// How long after ``GossipSubService/run()`` starts the first heartbeat runs (go-libp2p: 100 ms).
    public var firstHeartbeatDelay: Duration
    /// The most RPC frames queued for one peer's outbound stream; further frames to a slow peer are dropped.
    public var outboundQueueLimit: Int
    /// The most received messages buffered for one subscription that is not read; the oldest are dropped.
    public var subscriptionBufferLimit: Int
    /// The most ``GossipSubService/events`` buffered when nobody reads them; the oldest are dropped.
    public var eventBufferLimit: Int
    /// Whether peers offered by peer exchange (PRUNE) are dialed when a topic's mesh is below D_lo and their
    /// addresses are known from identify.
    public var dialsPeerExchange: Bool
    /// The first sequence number we publish with; `nil` takes the Unix time in nanoseconds (as go-libp2p does),
    /// so peers never mistake a restarted node's messages for old ones.
    public var initialSequenceNumber: UInt64?

    /// Creates a configuration; the defaults suit a small node.
    public init(
        router: GossipSubConfiguration = GossipSubConfiguration(),
        protocols: [GossipSubProtocolID] = [.meshsub11, .meshsub10],
        firstHeartbeatDelay: Duration = .milliseconds(100),
        outboundQueueLimit: Int = 1024,
        subscriptionBufferLimit: Int = 4096,
        eventBufferLimit: Int = 1024,
        dialsPeerExchange: Bool = true,
        initialSequenceNumber: UInt64? = nil
    ) {
        self.router = router
        self.protocols = protocols
        self.firstHeartbeatDelay = firstHeartbeatDelay
        self.outboundQueueLimit = outboundQueueLimit
        self.subscriptionBufferLimit = subscriptionBufferLimit
        self.eventBufferLimit = eventBufferLimit
        self.dialsPeerExchange = dialsPeerExchange
        self.initialSequenceNumber = initialSequenceNumber
    }

    /// Checks the router parameters and the service's own limits.
    ///
    /// - Throws: ``GossipSubError/Code/invalidConfiguration`` naming the problem.
    public func validate() throws {
        try self.router.validate()
        guard !self.protocols.isEmpty else {
            throw GossipSubError(.invalidConfiguration, "the service needs at least one pubsub protocol")
        }
        guard self.outboundQueueLimit > 0, self.subscriptionBufferLimit > 0, self.eventBufferLimit > 0 else {
            throw GossipSubError(.invalidConfiguration, "queue and buffer limits must be positive")
        }
        guard self.router.heartbeatInterval.nanoseconds > 0 else {
            throw GossipSubError(.invalidConfiguration, "the heartbeat interval must be positive")
        }
    }
}
