import ArgumentParser
import Foundation
import Logging
import NodeRuntime
import PrivacyCore
import TestSupport

/// `phantom-trail demo`: a labelled demo network of synthetic peers on loopback, the user's own node and its
/// dashboard, until Ctrl-C. The logic lives in NodeRuntime's ``DemoNetwork``; this command parses flags, builds the
/// synthetic population and prints progress.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a demo community network on this machine and open its dashboard.",
        discussion: """
            Starts --peers synthetic users, each a real libp2p node on 127.0.0.1 with its own generated privacy \
            report, plus your own node (joined and sharing, with the example report or --report) and the local \
            dashboard. The network is labelled "demo": short epochs, low proof of work, lower display thresholds, \
            never leaves this machine (loopback only, no mDNS). Runs until Ctrl-C. With --events jsonl every line \
            is one JSON object: network, starting_peers {"started","total"}, dashboard {"url","port"}, reports \
            {"received","expected"}, demo_ready {"url","seconds","reports","expected","parts"}, error.
            """
    )

    @Option(help: "Synthetic peers to start (1–500).")
    var peers = 60

    @Option(help: "The demo network's epoch length, e.g. 10s, 2m, 10m (at least 5s): a time-lapse of the weekly epoch.")
    var epoch = "10s"

    @Option(help: "The dashboard's port on 127.0.0.1 (0: any free port).")
    var port = NodeDashboardOptions.defaultPort

    @Option(help: "Your own report (JSON); default: the built-in copy of examples/report.json.")
    var report: String?

    @Option(help: "Seed of the synthetic population (the same seed gives the same users).")
    var seed: UInt64 = 2026

    @Option(help: "Print events in this format (jsonl); readable text without it.")
    var events: NodeCommand.EventFormat?

    func validate() throws {
        guard (1...500).contains(self.peers) else {
            throw ValidationError("--peers must be between 1 and 500, got \(self.peers)")
        }
        guard (0...65_535).contains(self.port) else {
            throw ValidationError("--port must be between 0 and 65535, got \(self.port)")
        }
        _ = try self.parameters()
    }

    /// The demo network's parameters from --epoch.
    func parameters() throws -> NetworkParameters {
        do {
            return try DemoOptions.parameters(epochSeconds: try DurationParser.seconds(self.epoch))
        } catch {
            throw ValidationError("--epoch \(self.epoch): \(error)")
        }
    }

    /// The demo's options: the synthetic population's reports and the user's report.
    func options() throws -> DemoOptions {
        let userReport = try self.report.map { path throws(CommandError) in try readPrivacyReport(atPath: path) }
        return DemoOptions(
            peerReports: SyntheticPopulation(count: self.peers, seed: self.seed).users.map(\.privacyReport),
            userReport: try userReport ?? PrivacyReport.example(),
            parameters: try self.parameters(),
            dashboardPort: self.port
        )
    }

    func run() async throws {
        let printer = DemoEventPrinter(json: self.events == .jsonl)
        let demo: DemoNetwork
        do {
            demo = DemoNetwork(
                options: try self.options(),
                logger: Logger(label: "phantom-trail.demo", factory: { _ in SwiftLogNoOpLogHandler() }),
                sink: { printer.print($0) }
            )
        } catch {
            printer.print(.error("\(error)"))
            throw ExitCode.failure
        }
        do {
            try await demo.run()
        } catch {
            printer.print(.error("\(error)"))
            throw ExitCode.failure
        }
    }
}

/// Prints demo events as JSON lines or readable progress.
struct DemoEventPrinter: Sendable {
    var json: Bool

    func print(_ event: DemoEvent) {
        let node = NodeEventPrinter(json: self.json)
        switch event {
        case .network(let parameters):
            node.demoNetwork(parameters)
        case .startingPeers(let started, let total):
            guard self.json || started == total || started % 10 == 0 else { return }
            node.line(
                "starting_peers",
                [("started", .number(Double(started))), ("total", .number(Double(total)))],
                text: "starting peers \(started)/\(total)…"
            )
        case .dashboard(let url, let port):
            node.line(
                "dashboard",
                [("url", .string(url)), ("port", .number(Double(port)))],
                text: "dashboard listening: \(url)"
            )
        case .reports(let received, let expected):
            guard self.json || received == expected || received % 20 == 0 else { return }
            node.line(
                "reports",
                [("received", .number(Double(received))), ("expected", .number(Double(expected)))],
                text: "reports \(received)/\(expected)"
            )
        case .ready(let readiness, let url, let seconds):
            let parts = readiness.filledParts
            node.line(
                "demo_ready",
                [
                    ("url", .string(url)), ("seconds", .number((seconds * 10).rounded() / 10)),
                    ("reports", .number(Double(readiness.reports))),
                    ("expected", .number(Double(readiness.expectedReports))), ("parts", .strings(parts)),
                ],
                text: "ready after \(String(format: "%.1f", seconds)) s (\(parts.joined(separator: ", "))). "
                    + "Open the dashboard:\n  \(url)\nPress Ctrl-C to stop."
            )
        case .error(let message):
            node.line("error", [("message", .string(message))], text: "error: \(message)")
        }
    }
}
