import NIOCore
import P2PGossipSub
import TestSupport
import Testing

extension Tag {
    /// Whole-network simulations with 1,000 nodes: about 6 s of CPU each in a debug build (the whole file
    /// took 22 s of CPU and 44-70 s of wall time on a loaded 2-core machine).
    @Tag static var simulation: Self
}

@Suite("Gossip simulation: small networks and the simulator itself")
struct GossipSimulationTests {
    static let small = GossipSimulationConfiguration(
        nodes: 60,
        degree: 10,
        publishes: 5,
        loss: 0.05,
        adversaryFraction: 0.1,
        seed: 7
    )

    @Test("the same seed gives the same metrics, another seed other ones")
    func deterministic() throws {
        let first = try GossipSimulation(Self.small).run().metrics
        let second = try GossipSimulation(Self.small).run().metrics
        #expect(first == second)
        var other = Self.small
        other.seed = 8
        let third = try GossipSimulation(other).run().metrics
        #expect(third != first)
        #expect(first.framesLost > 0)
        #expect(first.honestNodes == 54)
    }

    @Test("a small network delivers every message and reports progress up to 1")
    func smallNetworkDelivers() throws {
        var configuration = GossipSimulationConfiguration(nodes: 40, degree: 8, publishes: 4, seed: 3)
        configuration.drain = .seconds(2)
        var reports: [Double] = []
        let result = try GossipSimulation(configuration).run { reports.append($0) }
        let metrics = result.metrics
        #expect(metrics.deliveryRatio == 1)
        #expect(metrics.undelivered == 0)
        #expect(metrics.hops.count == 39 * 4)
        #expect(metrics.hops.p50 >= 1)
        #expect(metrics.latencyMilliseconds.p50 >= 10)
        #expect(metrics.bytesSentPerNode.mean > 0)
        #expect(metrics.framesLost == 0)
        #expect(reports.last == 1)
        #expect(reports == reports.sorted())
        let expectedSeconds: Double = 8.5  // 5 s warm-up, 3 intervals of 0.5 s, 2 s drain
        #expect(metrics.virtualSeconds == expectedSeconds)
    }

    @Test("with equal link latencies the delivered copy always took the fewest hops")
    func equalLatenciesGiveShortestPaths() throws {
        var equal = GossipSimulationConfiguration(nodes: 80, degree: 10, publishes: 3, seed: 5)
        equal.minLatency = .milliseconds(30)
        equal.maxLatency = .milliseconds(30)
        let metrics = try GossipSimulation(equal).run().metrics
        #expect(metrics.hops == metrics.shortestHops)
        #expect(metrics.latencyMilliseconds.max == 30 * metrics.hops.max)
        var unequal = equal
        unequal.maxLatency = .milliseconds(90)
        let raced = try GossipSimulation(unequal).run().metrics
        #expect(raced.hops.mean > raced.shortestHops.mean)
    }

    @Test("adversaries forward nothing: with every node but the publisher's neighbours adversarial, far nodes starve")
    func adversariesDropMessages() throws {
        var honest = GossipSimulationConfiguration(nodes: 50, degree: 6, publishes: 3, seed: 11)
        honest.router.defaultTopic.floodPublish = false
        var hostile = honest
        hostile.adversaryFraction = 0.9
        let clean = try GossipSimulation(honest).run().metrics
        let attacked = try GossipSimulation(hostile).run().metrics
        #expect(clean.deliveryRatio == 1)
        #expect(attacked.honestNodes == 5)
        #expect(attacked.deliveryRatio < 1)
    }

    @Test(
        "bad configurations are refused with a message",
        arguments: [
            GossipSimulationConfiguration(nodes: 1),
            GossipSimulationConfiguration(nodes: 10, degree: 30),
            GossipSimulationConfiguration(loss: 1),
            GossipSimulationConfiguration(adversaryFraction: -0.1),
            GossipSimulationConfiguration(nodes: 10, adversaryFraction: 0.95),
        ]
    )
    func refusesBadConfiguration(_ configuration: GossipSimulationConfiguration) {
        #expect(throws: GossipSimulationError.self) { try GossipSimulation(configuration) }
    }

    @Test("percentiles use the nearest rank")
    func percentiles() {
        let distribution = GossipSimulationDistribution(Array((1...100).map(Double.init).reversed()))
        #expect(distribution.p50 == 50)
        #expect(distribution.p90 == 90)
        #expect(distribution.p99 == 99)
        #expect(distribution.max == 100)
        #expect(distribution.mean == 50.5)
        #expect(GossipSimulationDistribution([]).count == 0)
    }
}

@Suite("Gossip simulation: 1,000 nodes with 20 connections each", .tags(.simulation))
struct GossipSimulationScaleTests {
    static func thousandNodes(loss: Double = 0, adversaries: Double = 0) -> GossipSimulationConfiguration {
        var configuration = GossipSimulationConfiguration(
            nodes: 1000,
            degree: 20,
            publishes: 3,
            loss: loss,
            adversaryFraction: adversaries,
            seed: 42
        )
        configuration.warmUp = .seconds(4)
        configuration.drain = .milliseconds(3500)
        return configuration
    }

    @Test("every message reaches every node, 99% by a path of at most 5 hops, with settled meshes and few duplicates")
    func healthyNetwork() throws {
        let metrics = try GossipSimulation(Self.thousandNodes()).run().metrics
        #expect(metrics.deliveryRatio == 1)
        #expect(metrics.shortestHops.p99 <= 5)
        // The first copy to arrive often took more hops than the fewest: with link latencies drawn from
        // 10–50 ms, a path of six fast links beats one of four slow links. Measured at this seed with 10
        // publishes: delivered-copy p99 6 (fewest 5); with equal latencies 4 (= fewest, see the next test);
        // D = 8 leaves it at 6 while duplicates rise from 5.5 to 7.2; without flood publishing it is 7.
        #expect(metrics.hops.p99 <= 6)
        let settled = try #require(metrics.meshSettledAfterHeartbeats)
        #expect(settled <= 3)
        #expect(metrics.duplicatesPerNodePerMessage.mean <= Double(metrics.meshDegree))
        #expect(metrics.finalMeshSize.p50 >= Double(metrics.meshDegreeLow))
        #expect(metrics.finalMeshSize.max <= Double(metrics.meshDegreeHigh))
    }

    @Test("with equal link latencies the delivered copy takes at most 5 hops for 99% of deliveries")
    func equalLatencies() throws {
        var configuration = Self.thousandNodes()
        configuration.minLatency = .milliseconds(30)
        configuration.maxLatency = .milliseconds(30)
        let metrics = try GossipSimulation(configuration).run().metrics
        #expect(metrics.deliveryRatio == 1)
        #expect(metrics.hops.p99 <= 5)
    }

    @Test("with 10% of frames lost, gossip repairs every gap within 3 heartbeats")
    func lossyNetwork() throws {
        let configuration = Self.thousandNodes(loss: 0.1)
        let metrics = try GossipSimulation(configuration).run().metrics
        #expect(metrics.framesLost > metrics.framesSent / 20)
        #expect(metrics.deliveryRatio == 1)
        let heartbeat = Double(configuration.router.heartbeatInterval.nanoseconds) / 1e6
        #expect(metrics.latencyMilliseconds.max <= 3 * heartbeat)
    }

    @Test("with 20% of nodes silently dropping, at least 99% of deliveries to honest nodes happen")
    func adversarialNetwork() throws {
        let metrics = try GossipSimulation(Self.thousandNodes(adversaries: 0.2)).run().metrics
        #expect(metrics.honestNodes == 800)
        #expect(metrics.deliveryRatio >= 0.99)
    }
}
