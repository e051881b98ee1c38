import ArgumentParser
import CommunityInsights
import Foundation
import Logging
import NodeRuntime
import P2PCore
import PrivacyCore
import PrivacyNetwork

/// `phantom-trail node`: runs a community node until SIGINT or SIGTERM.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a community node: join the network, share anonymous reports, see community statistics.",
        discussion: """
            Nothing is opened without --join; the local dashboard runs either way (127.0.0.1, port \
            \(NodeDashboardOptions.defaultPort) unless --dashboard-port; --no-dashboard turns it off) and its URL \
            carries the per-install token. With --share the node sends two randomized wire reports per \
            epoch made from --report, at random moments; without it the node only listens. --epoch-length \
            and --pow-difficulty make a labelled demo network whose reports the public network rejects; \
            --display-minimum lowers its display threshold (two nodes: --display-minimum 2). \
            With --events jsonl every line is one JSON object: listening, peer_connected, \
            peer_disconnected, report_sent {"type"}, report_accepted {"type","epoch"}, stats \
            {"stats","comparison"}, error, not_joined, dashboard {"url","port"}, warning.
            """
    )

    /// The event formats.
    enum EventFormat: String, ExpressibleByArgument {
        case jsonl
    }

    @Option(name: .customLong("listen"), help: "A multiaddr to listen on (repeatable).")
    var listen: [String] = []

    @Option(name: .customLong("bootstrap"), help: "A peer to connect to, ending in /p2p/<id> (repeatable).")
    var bootstrap: [String] = []

    @Flag(help: "Find peers on the local network with mDNS.")
    var mdns = false

    @Option(
        name: .customLong("data-dir"),
        help: "The data directory (settings, history); default ~/.local/share/phantom-trail or $XDG_DATA_HOME."
    )
    var dataDirectory: String?

    @Option(
        name: .customLong("key-file"),
        help: "Keep the node's identity in this key file (0600) instead of a fresh one every run."
    )
    var keyFile: String?

    @Option(help: "The local privacy report (JSON).")
    var report: String?

    @Flag(help: "Join the community network (joinPrivacyNetwork; or stored). Without it nothing is opened.")
    var join = false

    @Flag(help: "Send anonymous wire reports made from --report (shareAnonymousData; or stored).")
    var share = false

    @Option(
        name: .customLong("share-region"),
        help: "Share this broad region (shareRegionalData): \(Region.allCases.map(\.rawValue).joined(separator: ", "))."
    )
    var shareRegion: String?

    @Option(name: .customLong("max-connections"), help: "Peers to stay connected to (1–20; default: stored, 10).")
    var maxConnections: Int?

    @Option(name: .customLong("epoch-length"), help: "Demo network: epoch length, e.g. 60s, 10m, 1h (at least 60s).")
    var epochLength: String?

    @Option(name: .customLong("pow-difficulty"), help: "Demo network: proof-of-work difficulty in bits (0–32).")
    var powDifficulty: Int?

    @Option(
        name: .customLong("display-minimum"),
        help: """
            Demo network: show a statistic once this many reports support it (1–50; the public network's 50 \
            otherwise), so that a handful of nodes see figures.
            """
    )
    var displayMinimum: Int?

    @Option(
        name: .customLong("dashboard-port"),
        help:
            "The local dashboard's port (default: stored, else \(NodeDashboardOptions.defaultPort); 0: any free port)."
    )
    var dashboardPort: Int?

    @Option(
        name: .customLong("dashboard-host"),
        help: "The address the dashboard binds (default 127.0.0.1; any other address is reachable by other machines)."
    )
    var dashboardHost = "127.0.0.1"

    @Flag(name: .customLong("no-dashboard"), help: "Do not serve the local dashboard.")
    var noDashboard = false

    @Option(help: "Print events in this format (jsonl); readable text without it.")
    var events: EventFormat?

    func validate() throws {
        for text in self.listen {
            guard let address = try? Multiaddr(parsing: text), address.tcpSocketAddress != nil else {
                throw ValidationError("--listen \(text) is not an /ip4 or /ip6 multiaddr with /tcp")
            }
        }
        for text in self.bootstrap {
            guard let address = try? Multiaddr(parsing: text), address.tcpSocketAddress != nil,
                address.peerID != nil
            else {
                throw ValidationError("--bootstrap \(text) is not an /ip4 or /ip6 /tcp multiaddr ending in /p2p/<id>")
            }
        }
        if let region = self.shareRegion, Region(rawValue: region) == nil {
            throw ValidationError(
                "--share-region \(region) is not a region (\(Region.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        if let maxConnections = self.maxConnections, !P2PSettings.maxConnectionsRange.contains(maxConnections) {
            throw ValidationError("--max-connections must be between 1 and 20, got \(maxConnections)")
        }
        if let port = self.dashboardPort, !(0...65_535).contains(port) {
            throw ValidationError("--dashboard-port must be between 0 and 65535, got \(port)")
        }
        if self.dashboardHost.isEmpty {
            throw ValidationError("--dashboard-host needs an address, e.g. 127.0.0.1")
        }
        if self.share, self.report == nil {
            throw ValidationError("--share needs --report FILE: the reports are made from it")
        }
        let parameters = try self.networkParameters()
        if let minimum = self.displayMinimum {
            guard parameters.label != NetworkParameters.publicNetwork.label else {
                throw ValidationError(
                    "--display-minimum is for a demo network: add --epoch-length or --pow-difficulty"
                )
            }
            guard (1...DisplayPolicy.standard.networkMinimum).contains(minimum) else {
                throw ValidationError(
                    "--display-minimum must be between 1 and \(DisplayPolicy.standard.networkMinimum), got \(minimum)"
                )
            }
        }
    }

    /// The display policy: the standard one, or the demo network's lowered threshold.
    var displayPolicy: DisplayPolicy {
        self.displayMinimum.map { DisplayPolicy(subPopulationMinimum: $0, networkMinimum: $0) } ?? .standard
    }

    /// The network's parameters: the public network, or a demo network when either demo flag is given.
    func networkParameters() throws -> NetworkParameters {
        guard self.epochLength != nil || self.powDifficulty != nil else { return .publicNetwork }
        let seconds = try self.epochLength.map(Self.seconds(of:)) ?? NetworkParameters.demo.schedule.lengthSeconds
        do {
            return try NetworkParameters(
                label: "demo",
                epochLengthSeconds: seconds,
                difficultyBits: self.powDifficulty ?? NetworkParameters.demo.difficultyBits,
                scryptCostLog2: NetworkParameters.demo.scryptCostLog2
            )
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Seconds of a duration such as `90`, `60s`, `10m`, `2h`, `1d`, `1w`.
    static func seconds(of text: String) throws -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let multiplier = units[last] {
            digits = text.dropLast()
            unit = multiplier
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Int64(digits), value > 0,
            value <= Int64.max / unit
        else {
            throw ValidationError("--epoch-length \(text) is not a duration like 60s, 10m, 2h or 1w")
        }
        return value * unit
    }

    /// This run's flags as overrides of the stored settings (a flag not given keeps the stored value).
    func overrides() throws -> SettingsOverrides {
        try SettingsOverrides(
            joinPrivacyNetwork: self.join ? true : nil,
            shareAnonymousData: self.share ? true : nil,
            shareRegionalData: self.shareRegion != nil ? true : nil,
            maxConnections: self.maxConnections,
            listenAddresses: self.listen.isEmpty ? nil : self.listen,
            bootstrapAddresses: self.bootstrap.isEmpty ? nil : self.bootstrap,
            mdns: self.mdns ? true : nil,
            dashboardPort: self.dashboardPort,
            identityKeyFile: self.keyFile
        )
    }

    /// The options of this run: `stored` settings with the flags on top.
    func options(stored: StoredSettings = StoredSettings()) throws -> CommunityNodeOptions {
        let effective = try self.overrides().applied(to: stored)
        let region = self.shareRegion.flatMap(Region.init(rawValue:))
        var report = try self.report.map { path throws(CommandError) in try readPrivacyReport(atPath: path) }
        if let region { report?.region = region }
        let listen = effective.node.listenAddresses.isEmpty ? ["/ip4/127.0.0.1/tcp/0"] : effective.node.listenAddresses
        return CommunityNodeOptions(
            settings: effective.p2p,
            parameters: try self.networkParameters(),
            listenAddresses: try listen.map { try Multiaddr(parsing: $0) },
            bootstrap: try effective.node.bootstrapAddresses.map { try Multiaddr(parsing: $0) },
            mdns: effective.node.mdns,
            report: report,
            policy: self.displayPolicy
        )
    }

    /// Opens the data directory's database and reads this run's settings (stored, with the flags on top).
    func openDatabase() async throws -> (DataDirectory, NodeDatabase, NodeSettings) {
        let directory = try DataDirectory.resolve(
            override: self.dataDirectory,
            environment: ProcessInfo.processInfo.environment,
            currentDirectory: FileManager.default.currentDirectoryPath
        )
        try directory.create()
        let database = try NodeDatabase(directory: directory)
        return (directory, database, try await database.settings(applying: try self.overrides()))
    }

    /// The dashboard of this run (`nil` with --no-dashboard): the port from the settings (flag, stored or the
    /// default), the per-install token kept in the data directory.
    func dashboardOptions(settings: NodeSettings, directory: DataDirectory) throws -> NodeDashboardOptions? {
        guard !self.noDashboard else { return nil }
        let options = NodeDashboardOptions(
            host: self.dashboardHost,
            port: settings.effective.node.dashboardPort ?? NodeDashboardOptions.defaultPort,
            token: try InstallToken.loadOrCreate(in: directory).value,
            allowNonLoopback: true,
            fallbackToAnyPort: settings.effective.node.dashboardPort == nil,
            endpointDirectory: directory
        )
        return options
    }

    func run() async throws {
        let printer = NodeEventPrinter(json: self.events == .jsonl)
        let database: NodeDatabase
        var options: CommunityNodeOptions
        do {
            let settings: NodeSettings
            let directory: DataDirectory
            (directory, database, settings) = try await self.openDatabase()
            options = try self.options(stored: settings.stored)
            if options.settings.joinPrivacyNetwork, let keyFile = settings.effective.node.identityKeyFile {
                options.identity = try IdentityStore.identity(keyFile: keyFile)
            }
            options.dashboard = try self.dashboardOptions(settings: settings, directory: directory)
        } catch {
            printer.print(.network(.error("\(error)")))
            throw ExitCode.failure
        }
        if !options.parameters.isPublic {
            printer.demoNetwork(options.parameters)
        }
        if let dashboard = options.dashboard, !dashboard.isLoopback {
            printer.warning(
                "the dashboard binds \(dashboard.host): other machines can reach it (the token still guards changes)"
            )
        }
        defer { try? database.close() }
        let node = CommunityNode(
            options: options,
            database: database,
            logger: Logger(label: "phantom-trail.node", factory: { _ in SwiftLogNoOpLogHandler() }),
            sink: { printer.print($0) }
        )
        do {
            try await node.run()
        } catch {
            printer.print(.network(.error("\(error)")))
            throw ExitCode.failure
        }
    }
}

/// Prints node events as JSON lines (field names and order are a contract) or readable text.
struct NodeEventPrinter: Sendable {
    var json: Bool

    func demoNetwork(_ parameters: NetworkParameters) {
        let text =
            "network \"\(parameters.label)\" (demo/test): epoch \(parameters.schedule.lengthSeconds) s, "
            + "proof of work \(parameters.difficultyBits) bits; the public network rejects its reports"
        if self.json {
            self.emit(
                P2PEventPrinter.object([
                    ("event", .string("network")), ("label", .string(parameters.label)),
                    ("epoch_seconds", .number(Double(parameters.schedule.lengthSeconds))),
                    ("pow_difficulty", .number(Double(parameters.difficultyBits))), ("message", .string(text)),
                ])
            )
        } else {
            self.emit(text)
        }
    }

    func print(_ event: CommunityNodeEvent) {
        switch event {
        case .notJoined(let message):
            if self.json {
                self.emit(P2PEventPrinter.object([("event", .string("not_joined")), ("message", .string(message))]))
            } else {
                self.emit(message)
            }
        case .listening(let peer, let addresses):
            P2PEventPrinter(json: self.json).listening(peer: peer, addresses: addresses)
        case .dashboard(let url, let port):
            self.line(
                "dashboard",
                [("url", .string(url)), ("port", .number(Double(port)))],
                text: "dashboard: \(url)"
            )
        case .network(let event):
            self.print(event)
        }
    }

    private func print(_ event: PrivacyNetworkEvent) {
        switch event {
        case .peerJoined(let peer):
            self.line("peer_connected", [("peer_id", .string(peer.description))], text: "connected to \(peer)")
        case .peerLeft(let peer):
            self.line("peer_disconnected", [("peer_id", .string(peer.description))], text: "disconnected from \(peer)")
        case .reportSent(let type):
            self.line("report_sent", [("type", .string(type.rawValue))], text: "sent a \(type.rawValue) report")
        case .reportAccepted(let type, let epoch):
            self.line(
                "report_accepted",
                [("type", .string(type.rawValue)), ("epoch", .number(Double(epoch)))],
                text: "accepted a \(type.rawValue) report of epoch \(epoch)"
            )
        case .statisticsChanged(let stats, let comparison):
            if self.json {
                let statsJSON = Self.encode(stats)
                let comparisonJSON = comparison.map(Self.encode) ?? "null"
                self.emit("{\"event\":\"stats\",\"stats\":\(statsJSON),\"comparison\":\(comparisonJSON)}")
            } else {
                self.emit(Self.text(stats, comparison))
            }
        case .error(let message):
            P2PEventPrinter(json: self.json).failure(message)
        }
    }

    /// A warning for the user (an event line `warning` with `message`).
    func warning(_ message: String) {
        self.line("warning", [("message", .string(message))], text: "warning: \(message)")
    }

    func line(_ name: String, _ fields: [(String, P2PEventPrinter.JSONValue)], text: String) {
        if self.json {
            self.emit(P2PEventPrinter.object([("event", .string(name))] + fields))
        } else {
            self.emit(text)
        }
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func text(_ stats: CommunityStats, _ comparison: CommunityComparison?) -> String {
        var text = "statistics: \(stats.connectedPeers) users reported this epoch"
        switch stats.averageScore {
        case .shown(let average):
            text += String(format: ", average score %.1f", average.value)
        case .needsMoreReports(let have, let needed):
            text += " (gathering data: \(have) of \(have + needed) score reports needed)"
        }
        if let comparison {
            text += "; your score \(comparison.userScore)"
        }
        return text
    }

    private func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
