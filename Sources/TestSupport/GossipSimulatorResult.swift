/// Summary statistics of one metric over a sample (nearest-rank percentiles).
public struct GossipSimulationDistribution: Codable, Hashable, Sendable {
    /// The number of samples.
    public var count: Int
    /// The mean (0 when empty).
    public var mean: Double
    /// The median.
    public var p50: Double
    /// The 90th percentile.
    public var p90: Double
    /// The 99th percentile.
    public var p99: Double
    /// The largest sample.
    public var max: Double

    /// Summarises `samples` (all zero when empty).
    public init(_ samples: [Double]) {
        let sorted = samples.sorted()
        self.count = sorted.count
        guard !sorted.isEmpty else {
            self.mean = 0
            self.p50 = 0
            self.p90 = 0
            self.p99 = 0
            self.max = 0
            return
        }
        func percentile(_ p: Double) -> Double {
            let rank = Int((p * Double(sorted.count)).rounded(.up))
            return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
        }
        self.mean = sorted.reduce(0, +) / Double(sorted.count)
        self.p50 = percentile(0.5)
        self.p90 = percentile(0.9)
        self.p99 = percentile(0.99)
        self.max = sorted[sorted.count - 1]
    }
}

/// What a ``GossipSimulation`` run measured in virtual time: the same configuration always gives the same
/// metrics.
public struct GossipSimulationMetrics: Codable, Hashable, Sendable {
    /// The number of nodes.
    public var nodes: Int
    /// The honest nodes (publishers and counted receivers).
    public var honestNodes: Int
    /// The connections in the topology.
    public var connections: Int
    /// The messages published.
    public var publishes: Int
    /// The router's D, D_lo and D_hi.
    public var meshDegree: Int
    /// D_lo.
    public var meshDegreeLow: Int
    /// D_hi.
    public var meshDegreeHigh: Int
    /// Delivered (honest receiver, message) pairs over all such pairs; the publisher is not a receiver.
    public var deliveryRatio: Double
    /// The (honest receiver, message) pairs never delivered.
    public var undelivered: Int
    /// The hops from the publisher of the first copy of each message each honest receiver got (the copy it
    /// delivered and forwarded). With unequal link latencies a longer path can win the race.
    public var hops: GossipSimulationDistribution
    /// The fewest hops of any copy of each message each honest receiver got.
    public var shortestHops: GossipSimulationDistribution
    /// Virtual milliseconds from publish to delivery, per honest receiver and message.
    public var latencyMilliseconds: GossipSimulationDistribution
    /// Copies received minus one per honest node and message (every copy a duplicate for its publisher).
    public var duplicatesPerNodePerMessage: GossipSimulationDistribution
    /// Bytes of RPC frames (length prefixes included) sent by each honest node over the whole run.
    public var bytesSentPerNode: GossipSimulationDistribution
    /// Mesh sizes of every node at the end of the run.
    public var finalMeshSize: GossipSimulationDistribution
    /// The first heartbeat round after which every node's mesh size was within [D_lo, D_hi], or `nil`.
    public var meshSettledAfterHeartbeats: Int?
    /// RPC frames sent, and those lost in transit.
    public var framesSent: Int
    /// RPC frames lost in transit.
    public var framesLost: Int
    /// Events processed (frames delivered, heartbeats, publishes).
    public var events: Int
    /// The virtual duration of the run, in seconds.
    public var virtualSeconds: Double
}

/// How long a run took on this machine.
public struct GossipSimulationTiming: Codable, Hashable, Sendable {
    /// Wall-clock seconds, setup (keys, routers, topology) included.
    public var wallSeconds: Double
    /// CPU seconds of the running thread, setup included.
    public var cpuSeconds: Double
    /// CPU seconds spent building keys, routers and the topology.
    public var setupCPUSeconds: Double
    /// CPU milliseconds of the simulation proper (after setup) per published message.
    public var cpuMillisecondsPerPublish: Double
}

/// The result of ``GossipSimulation/run(progress:)``.
public struct GossipSimulationResult: Codable, Hashable, Sendable {
    /// The deterministic measurements.
    public var metrics: GossipSimulationMetrics
    /// The machine-dependent timings.
    public var timing: GossipSimulationTiming
}
