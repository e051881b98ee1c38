import PrivacyCore
import TestSupport
import Testing

@Suite("DandelionSimulation") struct DandelionSimulationTests {
    @Test("With no spies nobody names any author")
    func noSpies() throws {
        let result = try DandelionSimulation(
            DandelionSimulationConfiguration(nodes: 100, adversaryFraction: 0, reports: 50, seed: 2)
        ).run()
        #expect(result.reachedSpiesShare == 0)
        #expect(result.authorHitRate == 0)
        #expect(result.honestNodes == 100)
    }

    @Test("With 20% spies the first-spy hit rate is at least the share of spy first relays and below diffusion's")
    func twentyPercent() throws {
        let configuration = DandelionSimulationConfiguration(nodes: 400, adversaryFraction: 0.2, seed: 3)
        let result = try DandelionSimulation(configuration).run()
        #expect(result.honestNodes == 320)
        #expect(result.reachedSpiesShare > 0.99)
        // The author's own relay is a spy with probability ≈ 0.2: those reports are always named correctly.
        #expect(result.authorHitRate > 0.12)
        // Diffusion straight from the author is named about 0.4 of the time (research/sim/origin.py); stems help.
        #expect(result.authorHitRate < 0.4)
        #expect(result.precision > 0 && result.precision <= 1)
        #expect(result.firstSeenOnStemShare > 0.5)
    }

    @Test("Without the stem, diffusion from the author is named more often than with it")
    func stemHelps() throws {
        var configuration = DandelionSimulationConfiguration(nodes: 400, adversaryFraction: 0.2, seed: 4)
        let stem = try DandelionSimulation(configuration).run()
        configuration.useStem = false
        let direct = try DandelionSimulation(configuration).run()
        #expect(direct.firstSeenOnStemShare == 0)
        #expect(direct.authorHitRate > stem.authorHitRate + 0.1)
    }

    @Test("The same seed gives the same result; another seed gives another")
    func deterministic() throws {
        let configuration = DandelionSimulationConfiguration(nodes: 150, adversaryFraction: 0.2, seed: 9)
        let first = try DandelionSimulation(configuration).run()
        #expect(try DandelionSimulation(configuration).run() == first)
        var other = configuration
        other.seed = 10
        #expect(try DandelionSimulation(other).run() != first)
    }

    @Test("Out-of-range configurations are refused with a message")
    func invalid() {
        #expect(throws: DandelionSimulationError.self) {
            try DandelionSimulation(DandelionSimulationConfiguration(nodes: 2))
        }
        #expect(throws: DandelionSimulationError.self) {
            try DandelionSimulation(DandelionSimulationConfiguration(fluffProbability: 0.5))
        }
        #expect(throws: DandelionSimulationError.self) {
            try DandelionSimulation(DandelionSimulationConfiguration(adversaryFraction: 1))
        }
    }

    @Test("The Sybil cost follows from the scrypt time: 2^bits attempts per report")
    func sybilArithmetic() throws {
        let parameters = NetworkParameters.publicNetwork
        let cost = SybilCost(parameters: parameters, scryptSamples: 10, scryptSeconds: 0.016)
        #expect(cost.expectedAttemptsPerReport == 256)
        #expect(abs(cost.secondsPerReport - 4.096) < 1e-9)
        #expect(abs(cost.reportsPerCorePerEpoch - 604_800 / 4.096) < 1e-6)
        #expect(cost.usersImpersonatedPerCore == cost.reportsPerCorePerEpoch / 2)
    }

    @Test("Measuring runs the requested scrypt calls on the given clock")
    func sybilMeasure() throws {
        let parameters = try NetworkParameters(
            label: "tiny",
            epochLengthSeconds: 600,
            difficultyBits: 2,
            scryptCostLog2: 2
        )
        let cost = SybilCost.measure(parameters: parameters, scryptSamples: 4, mintSamples: 2, clock: StoppedClock())
        #expect(cost.scryptSamples == 4 && cost.mintSamples == 2)
        #expect(cost.meanMintSeconds == 0)
        #expect(cost.expectedAttemptsPerReport == 4)
        #expect(cost.scryptMilliseconds == 0)
    }
}

/// A clock whose time never moves, so measured durations are zero.
struct StoppedClock: Clock {
    typealias Instant = ContinuousClock.Instant
    let now = ContinuousClock.Instant.now
    var minimumResolution: Duration { .zero }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}
