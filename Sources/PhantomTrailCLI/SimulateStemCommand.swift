import ArgumentParser
import Foundation
import PrivacyCore
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SimulateCommand {
    /// `phantom-trail simulate stem`: origin anonymity of the Dandelion++ stem relay, and the Sybil cost.
    struct Stem: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stem",
            abstract: "Simulate Dandelion++ stems against colluding spies (first-spy estimator) and print the "
                + "author hit rate, precision and the proof-of-work Sybil cost."
        )

        @Option(name: .long, help: "The number of nodes.")
        var nodes: Int = 1000

        @Option(name: .long, help: "The fraction of nodes that are colluding spies, in [0, 1).")
        var adversaries: Double = 0.2

        @Option(name: .long, help: "The Dandelion++ fluff probability q, in [0.1, 0.2].")
        var fluff: Double = 0.1

        @Option(name: .long, help: "The peers each node dials (relay candidates); the mean degree is twice this.")
        var outbound: Int = 4

        @Option(name: .long, help: "The number of reports (default: one per honest node).")
        var reports: Int?

        @Option(name: .long, help: "The seed of every random choice.")
        var seed: UInt64 = 1

        @Flag(
            inversion: .prefixedNo,
            help: "Route authors' reports on the stem (--no-stem: publish directly, the baseline)."
        )
        var stem = true

        @Option(name: .long, help: "scrypt calls timed at the public network's cost for the Sybil figure (0: skip).")
        var powSamples: Int = 32

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        mutating func run() throws {
            let configuration = DandelionSimulationConfiguration(
                nodes: self.nodes,
                adversaryFraction: self.adversaries,
                fluffProbability: self.fluff,
                outboundDegree: self.outbound,
                reports: self.reports,
                seed: self.seed,
                useStem: self.stem
            )
            let simulation: DandelionSimulation
            do {
                simulation = try DandelionSimulation(configuration)
            } catch {
                throw ValidationError(error.message)
            }
            let showProgress = isatty(STDERR_FILENO) == 1 && !self.json
            let result = simulation.run { fraction in
                if showProgress { Gossip.drawProgress(fraction) }
            }
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            let cost =
                self.powSamples > 0
                ? SybilCost.measure(parameters: .publicNetwork, scryptSamples: self.powSamples) : nil
            if self.json {
                struct Output: Encodable {
                    var simulation: DandelionSimulationResult
                    var sybilCost: SybilCost?
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let data = try encoder.encode(Output(simulation: result, sybilCost: cost))
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(Self.report(result, cost))
            }
        }

        static func report(_ result: DandelionSimulationResult, _ cost: SybilCost?) -> String {
            func format(_ value: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", value) }
            let c = result.configuration
            var text = """
                nodes \(c.nodes) (honest \(result.honestNodes), spies \(c.adversaryCount)), outbound degree \
                \(c.outboundDegree), fluff q \(format(c.fluffProbability, 2)), reports \(c.reports), seed \(c.seed)\
                \(c.useStem ? "" : ", NO STEM (authors publish directly)")
                author named correctly   \(format(result.authorHitRate)) (first-spy recall; target ≤ \
                \(format(result.target, 2)), Dandelion++ expected ≈ 0.2)
                precision                \(format(result.precision))
                reports reaching a spy   \(format(result.reachedSpiesShare))
                first seen on the stem   \(format(result.firstSeenOnStemShare))
                fluffed by an embargo    \(format(result.embargoFluffShare))
                mean stem hops           \(format(result.meanStemHops, 2))
                """
            if let cost {
                text += """

                    Sybil cost (network "\(cost.network)": scrypt N = 2^\(cost.scryptCostLog2), \
                    \(cost.difficultyBits) bits, epoch \(cost.epochSeconds) s)
                    scrypt call              \(format(cost.scryptMilliseconds, 2)) ms (mean of \(cost.scryptSamples))
                    one accepted report      \(format(cost.secondsPerReport, 2)) s of one core \
                    (2^\(cost.difficultyBits) attempts on average)
                    reports per core-epoch   \(format(cost.reportsPerCorePerEpoch, 0)) \
                    (≈ \(format(cost.usersImpersonatedPerCore, 0)) users at 2 reports each)
                    """
            }
            return text
        }
    }
}
