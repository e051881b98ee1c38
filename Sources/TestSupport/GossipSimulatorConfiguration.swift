public import NIOCore
public import P2PGossipSub

/// The parameters of one ``GossipSimulation`` run.
///
/// Every node subscribes to one topic at virtual time 0 and dials `degree / 2` random others, so each node
/// has about `degree` connections. Heartbeats run every ``GossipSubConfiguration/heartbeatInterval`` per
/// node from a random offset. After ``warmUp`` the honest nodes publish ``publishes`` messages, one every
/// ``publishInterval``, and the run ends ``drain`` after the last publish.
public struct GossipSimulationConfiguration: Hashable, Sendable {
    /// The number of nodes.
    public var nodes: Int
    /// The connections each node aims for; each node dials `degree / 2` random others.
    public var degree: Int
    /// The number of messages published, each by a random honest node.
    public var publishes: Int
    /// The probability that one RPC frame is lost in transit. Loss starts with the publishing phase (after
    /// ``warmUp``): libp2p streams are reliable and never resend subscriptions, so losing those would model
    /// a broken stream rather than a lossy network.
    public var loss: Double
    /// The fraction of nodes that silently drop every message they should forward (they still subscribe,
    /// graft, prune and gossip IHAVE). They never publish and do not count as receivers.
    public var adversaryFraction: Double
    /// The seed of every random choice: keys, topology, latencies, offsets, publishers, payloads, loss.
    public var seed: UInt64
    /// The router configuration of every node.
    public var router: GossipSubConfiguration
    /// The topic every node subscribes to.
    public var topic: String
    /// The shortest one-way link latency; each link draws its latency uniformly between this and
    /// ``maxLatency``.
    public var minLatency: TimeAmount
    /// The longest one-way link latency.
    public var maxLatency: TimeAmount
    /// The virtual time before the first publish.
    public var warmUp: TimeAmount
    /// The virtual time between publishes.
    public var publishInterval: TimeAmount
    /// The virtual time the run continues after the last publish.
    public var drain: TimeAmount
    /// The payload size of each published message, in bytes (random bytes, so the IDs differ).
    public var payloadSize: Int

    /// Creates a configuration; the router defaults to ``defaultRouterConfiguration``.
    public init(
        nodes: Int = 100,
        degree: Int = 20,
        publishes: Int = 10,
        loss: Double = 0,
        adversaryFraction: Double = 0,
        seed: UInt64 = 1,
        router: GossipSubConfiguration = Self.defaultRouterConfiguration
    ) {
        self.nodes = nodes
        self.degree = degree
        self.publishes = publishes
        self.loss = loss
        self.adversaryFraction = adversaryFraction
        self.seed = seed
        self.router = router
        self.topic = "phantom-trail/simulation"
        self.minLatency = .milliseconds(10)
        self.maxLatency = .milliseconds(50)
        self.warmUp = .seconds(5)
        self.publishInterval = .milliseconds(500)
        self.drain = .seconds(5)
        self.payloadSize = 64
    }

    /// The community network's router settings: the defaults with StrictNoSign topics (content-hash IDs),
    /// so no node signs or verifies anything.
    public static var defaultRouterConfiguration: GossipSubConfiguration {
        var configuration = GossipSubConfiguration()
        configuration.defaultTopic = GossipSubTopicConfiguration(signaturePolicy: .strictNoSign)
        return configuration
    }

    /// The number of adversarial nodes.
    public var adversaryCount: Int {
        Int((Double(self.nodes) * self.adversaryFraction).rounded(.down))
    }

    /// Checks that the parameters describe a network that can run.
    ///
    /// - Throws: ``GossipSimulationError`` naming the bad parameter.
    public func validate() throws {
        func require(_ condition: Bool, _ what: String) throws {
            guard condition else { throw GossipSimulationError(what) }
        }
        try require(self.nodes >= 2, "need at least 2 nodes, not \(self.nodes)")
        try require(self.nodes <= 1_000_000, "at most 1,000,000 nodes, not \(self.nodes)")
        try require(
            self.degree >= 2 && self.degree / 2 < self.nodes,
            "the degree must be at least 2 and degree/2 below the node count, not \(self.degree)"
        )
        try require(self.publishes >= 0 && self.publishes <= 100_000, "publishes must be 0…100,000")
        try require((0..<1).contains(self.loss), "the loss probability must be in [0, 1), not \(self.loss)")
        try require(
            (0..<1).contains(self.adversaryFraction),
            "the adversary fraction must be in [0, 1), not \(self.adversaryFraction)"
        )
        try require(self.nodes - self.adversaryCount >= 2, "need at least 2 honest nodes")
        try require(
            self.minLatency.nanoseconds > 0 && self.minLatency <= self.maxLatency,
            "need 0 < min latency ≤ max latency"
        )
        try require(self.router.heartbeatInterval.nanoseconds > 0, "the heartbeat interval must be positive")
        try require(
            self.warmUp.nanoseconds >= 0 && self.publishInterval.nanoseconds >= 0 && self.drain.nanoseconds >= 0,
            "times must not be negative"
        )
        try require((1...32_768).contains(self.payloadSize), "the payload size must be 1…32,768 bytes")
        do {
            try self.router.validate()
        } catch {
            throw GossipSimulationError("invalid router configuration: \(error)")
        }
    }
}

/// A ``GossipSimulationConfiguration`` that cannot run.
public struct GossipSimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String

    /// Creates an error with a message naming the problem.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { self.message }
}
