import ArgumentParser
import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `phantom-trail simulate`: deterministic simulations of the community network.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Deterministic simulations of the community network on a virtual clock.",
        subcommands: [Gossip.self, Stem.self, Accuracy.self]
    )
}

extension SimulateCommand {
    /// `phantom-trail simulate gossip`: a gossipsub network of real routers with virtual links.
    struct Gossip: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gossip",
            abstract: "Simulate a gossipsub network and print delivery, hops, latency, duplicates and bytes sent."
        )

        @Option(name: .long, help: "The number of nodes.")
        var nodes: Int = 1000

        @Option(name: .long, help: "The connections per node (each node dials degree/2 random others).")
        var degree: Int = 20

        @Option(name: .long, help: "The number of messages published by random honest nodes.")
        var publishes: Int = 100

        @Option(name: .long, help: "The probability that an RPC frame is lost, in [0, 1).")
        var loss: Double = 0

        @Option(name: .long, help: "The fraction of nodes that silently drop what they should forward, in [0, 1).")
        var adversaries: Double = 0

        @Option(name: .long, help: "The seed of every random choice.")
        var seed: UInt64 = 1

        @Flag(name: .long, help: "Print one JSON object instead of text.")
        var json = false

        mutating func run() throws {
            let configuration = GossipSimulationConfiguration(
                nodes: self.nodes,
                degree: self.degree,
                publishes: self.publishes,
                loss: self.loss,
                adversaryFraction: self.adversaries,
                seed: self.seed
            )
            let simulation: GossipSimulation
            do {
                simulation = try GossipSimulation(configuration)
            } catch let error as GossipSimulationError {
                throw ValidationError(error.message)
            }
            let showProgress = isatty(STDERR_FILENO) == 1
            let result = simulation.run { fraction in
                if showProgress { Self.drawProgress(fraction) }
            }
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            if self.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(Self.report(result))
            }
        }

        static func drawProgress(_ fraction: Double) {
            let width = 40
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = "\r[\(bar)] \(Int((fraction * 100).rounded()))%"
            FileHandle.standardError.write(Data(line.utf8))
        }

        static func report(_ result: GossipSimulationResult) -> String {
            let m = result.metrics
            let t = result.timing
            func format(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            func percentiles(_ d: GossipSimulationDistribution, _ digits: Int = 1) -> String {
                "p50 \(format(d.p50, digits))  p90 \(format(d.p90, digits))  p99 \(format(d.p99, digits))  "
                    + "max \(format(d.max, digits))  mean \(format(d.mean, 2))"
            }
            let settled = m.meshSettledAfterHeartbeats.map { "\($0) heartbeats" } ?? "never"
            return """
                nodes \(m.nodes) (honest \(m.honestNodes)), connections \(m.connections), publishes \(m.publishes)
                delivery ratio          \(format(m.deliveryRatio * 100, 3))% (\(m.undelivered) missed)
                hops (delivered copy)   \(percentiles(m.hops, 0))
                hops (shortest copy)    \(percentiles(m.shortestHops, 0))
                latency (virtual ms)    \(percentiles(m.latencyMilliseconds))
                duplicates/node/message \(percentiles(m.duplicatesPerNodePerMessage, 0))
                bytes sent per node     \(percentiles(m.bytesSentPerNode, 0))
                mesh settled after      \(settled) (D \(m.meshDegree), D_lo \(m.meshDegreeLow), D_hi \(m.meshDegreeHigh))
                frames sent \(m.framesSent), lost \(m.framesLost), events \(m.events), virtual \(format(m.virtualSeconds)) s
                wall \(format(t.wallSeconds, 2)) s, CPU \(format(t.cpuSeconds, 2)) s (setup \(format(t.setupCPUSeconds, 2)) s), \
                CPU per publish \(format(t.cpuMillisecondsPerPublish, 2)) ms
                """
        }
    }
}
