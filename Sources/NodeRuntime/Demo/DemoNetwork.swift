import CommunityInsights
import Foundation
public import Logging
import NIOCore
import P2PCore
import PrivacyCore
import PrivacyNetwork
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `phantom-trail demo`: a labelled demo network in one process on 127.0.0.1. Every synthetic peer is a real
/// ``LibP2PPrivacyTransport`` host (TCP, Noise, Yamux, GossipSub, stem, sync) with its own synthetic user; the
/// user's own node joins them with its report and serves the dashboard.
///
/// The network never leaves loopback (listeners on 127.0.0.1, no mDNS) and is labelled "demo" (its own parameters,
/// so the public network rejects its reports). Synthetic peers send their epoch's two wire reports within a few
/// seconds of the start (and of each later epoch) instead of at a random moment of the epoch, so the dashboard fills
/// at once. Every host shares the process's one event loop group, and the synthetic peers share one
/// ``WorkVerdictCache``: each report's proof of work is verified once in the process, not once per peer.
public final class DemoNetwork: Sendable {
    /// Receives the demo's events (called from the demo's tasks).
    public typealias EventSink = @Sendable (DemoEvent) -> Void

    private let options: DemoOptions
    private let logger: Logger
    private let sink: EventSink
    private let started = ContinuousClock.now
    private let workVerdicts: WorkVerdictCache

    /// A demo of `options`.
    public init(options: DemoOptions, logger: Logger, sink: @escaping EventSink) {
        self.options = options
        self.workVerdicts = WorkVerdictCache(parameters: options.parameters)
        self.logger = logger
        self.sink = sink
    }

    /// Runs the demo until SIGINT or SIGTERM (or until the task is cancelled).
    public func run() async throws {
        try await self.run(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// Runs the demo until one of `signals` arrives or the task is cancelled. The user's data (settings, history, the
    /// token) lives in a scratch directory removed at the end.
    func run(gracefulShutdownSignals signals: [UnixSignal]) async throws {
        self.sink(.network(self.options.parameters))
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("phantom-trail-demo-\(UUID().uuidString)", isDirectory: true).path
        let directory = DataDirectory(path: scratch, currentDirectory: "/")
        try directory.create()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let database = try NodeDatabase(directory: directory)
        defer { try? database.close() }
        let token = try InstallToken.loadOrCreate(in: directory)

        let peers = try await self.startPeers()
        let node = self.userNode(peers: peers, database: database, token: token)
        let service = DemoPeersService(demo: self, peers: peers, node: node)
        let group = ServiceGroup(
            services: [service as any Service] + (try node.services()),
            gracefulShutdownSignals: signals,
            logger: self.logger
        )
        try await group.run()
    }

    // MARK: Peers

    /// One synthetic peer: its network and its user.
    struct Peer: Sendable {
        let network: P2PPrivacyNetwork
        let report: PrivacyReport
        let settings: P2PSettings
        let secret: RandomizerSecret
        let address: Multiaddr
    }

    private func startPeers() async throws -> [Peer] {
        var peers: [Peer] = []
        var generator = SystemRandomNumberGenerator()
        let total = self.options.peerReports.count
        for report in self.options.peerReports {
            let settings = try P2PSettings(
                joinPrivacyNetwork: true,
                shareAnonymousData: true,
                shareRegionalData: report.region != nil,
                maxConnections: self.options.maxConnections
            )
            let bootstrap = peers.map(\.address).shuffled(using: &generator).prefix(self.options.bootstrapPeers)
            let network = self.makeNetwork(settings: settings, bootstrap: Array(bootstrap))
            try await network.initializeNetwork()
            guard let address = await network.listenAddresses().first else {
                throw NodeRuntimeError(.nodeRequestFailed, "a demo peer has no listen address")
            }
            peers.append(
                Peer(
                    network: network,
                    report: report,
                    settings: settings,
                    secret: RandomizerSecret.generate(),
                    address: address
                )
            )
            self.sink(.startingPeers(started: peers.count, total: total))
        }
        return peers
    }

    private func makeNetwork(settings: P2PSettings, bootstrap: [Multiaddr]) -> P2PPrivacyNetwork {
        let transportOptions = LibP2PPrivacyTransport.Options(
            listenAddresses: [Self.loopback],
            maxConnections: settings.maxConnections,
            mdns: false,
            parameters: self.options.parameters,
            workVerdicts: self.workVerdicts
        )
        let logger = self.logger
        // Synthetic peers hold a report whose stem hop failed for at most a 2 s mean embargo (not up to 30 s as on
        // a long epoch), and fluff with the design's highest probability (0.2: about 5 stem hops instead of 10, each
        // a new stream), so that every synthetic report reaches the user's node within its 10 s epoch.
        var stem = StemRelayConfiguration.scaled(
            toEpochLengthSeconds: self.options.parameters.schedule.lengthSeconds,
            embargoAtMost: .seconds(2)
        )
        stem.fluffProbability = StemRelayConfiguration.fluffProbabilityRange.upperBound
        let stemConfiguration = stem
        return P2PPrivacyNetwork(
            settings: settings,
            configuration: PrivacyNetworkConfiguration(
                parameters: self.options.parameters,
                bootstrap: bootstrap,
                policy: self.options.policy
            ),
            secret: RandomizerSecret.generate(),
            makeTransport: {
                try LibP2PPrivacyTransport(
                    identity: PrivateKey(),
                    options: transportOptions,
                    logger: logger,
                    stem: stemConfiguration
                )
            }
        )
    }

    private static let loopback = try! Multiaddr(parsing: "/ip4/127.0.0.1/tcp/0")

    private func userNode(peers: [Peer], database: NodeDatabase, token: InstallToken) -> CommunityNode {
        var generator = SystemRandomNumberGenerator()
        let settings =
            (try? P2PSettings(
                joinPrivacyNetwork: true,
                shareAnonymousData: true,
                shareRegionalData: self.options.userReport.region != nil,
                maxConnections: max(self.options.maxConnections, 8)
            )) ?? P2PSettings()
        return CommunityNode(
            options: CommunityNodeOptions(
                settings: settings,
                parameters: self.options.parameters,
                listenAddresses: [Self.loopback],
                bootstrap: Array(peers.map(\.address).shuffled(using: &generator).prefix(5)),
                report: self.options.userReport,
                dashboard: NodeDashboardOptions(
                    port: self.options.dashboardPort,
                    token: token.value,
                    fallbackToAnyPort: self.options.dashboardPort == NodeDashboardOptions.defaultPort
                ),
                policy: self.options.policy,
                // Peers' round trips show within seconds of connecting (the public default is slower).
                pingInterval: .seconds(2)
            ),
            database: database,
            logger: self.logger,
            sink: { [self] event in
                if case .dashboard(let url, let port) = event {
                    self.dashboardURL.withLock { $0 = url }
                    self.sink(.dashboard(url: url, port: port))
                }
            }
        )
    }

    // MARK: Reports

    /// Sends `peer`'s two wire reports of every epoch, a few seconds after the demo (or the epoch) starts.
    func sendReports(of peer: Peer) async {
        let schedule = self.options.parameters.schedule
        var generator = SystemRandomNumberGenerator()
        var first = true
        while !Task.isCancelled {
            guard let epoch = try? schedule.epoch(containing: Date()) else { return }
            let delay = (first ? 1 : 0) + Double.random(in: 0..<max(self.options.sendWindowSeconds, 0.001))
            first = false
            do {
                try await ContinuousClock().sleep(for: .seconds(delay))
                try await self.send(peer, epoch: epoch, using: &generator)
                let next = schedule.end(of: epoch).timeIntervalSinceNow
                try await ContinuousClock().sleep(for: .seconds(max(next, 0.05)))
            } catch is CancellationError {
                return
            } catch {
                self.sink(.error("a demo peer could not send its reports: \(error)"))
                return
            }
        }
    }

    private func send(_ peer: Peer, epoch: UInt32, using generator: inout SystemRandomNumberGenerator) async throws {
        let summary = try anonymizeForP2P(peer.report, settings: peer.settings, now: Date())
        let plan = EpochPlan(
            epoch: epoch,
            schedule: self.options.parameters.schedule,
            settings: peer.settings,
            truth: TrueReportValues(report: peer.report, summary: summary),
            secret: peer.secret,
            using: &generator
        )
        for entry in plan.entries {
            try Task.checkCancellation()
            let envelope = try ReportEnvelope(epoch: epoch, report: entry.report)
            let minted = try await ProofOfWork.mint(envelope, parameters: self.options.parameters, using: &generator)
            do {
                try await peer.network.broadcastToNetwork(.privacyData(minted))
            } catch {
                // A stem hop that timed out falls back to publishing, and the relay may have published it already:
                // the report is out either way. Other failures are shown; the next report is still sent.
                if !"\(error)".contains("already seen") {
                    self.sink(.error("a demo peer could not send a report: \(error)"))
                }
            }
        }
    }

    // MARK: Progress

    /// Reports the user's node's progress until the dashboard is populated (see ``DemoReadyRule``).
    func watch(_ node: CommunityNode) async {
        let expected = self.options.peerReports.count * 2
        var lastReceived = -1
        var url: String?
        var rule = DemoReadyRule(graceSeconds: self.options.fullDashboardGraceSeconds)
        while !Task.isCancelled {
            do {
                try await ContinuousClock().sleep(for: .milliseconds(250))
            } catch {
                return
            }
            guard let epoch = await node.network.currentEpoch else { continue }
            let received = min(await node.network.admittedReports(in: epoch), expected)
            if received != lastReceived {
                lastReceived = received
                self.sink(.reports(received: received, expected: expected))
            }
            let readiness = DemoReadiness(
                dashboard: try? await node.dashboardSource.insights(),
                history: (try? await node.dashboardSource.trendHistory()) ?? [],
                reports: received,
                expectedReports: expected
            )
            if url == nil { url = self.dashboardURL.withLock { $0 } }
            let (seconds, attoseconds) = (ContinuousClock.now - self.started).components
            let elapsed = Double(seconds) + Double(attoseconds) * 1e-18
            if rule.observe(readiness, atSeconds: elapsed), let url {
                self.sink(.ready(readiness, url: url, seconds: elapsed))
                return
            }
        }
    }

    /// The dashboard's URL once it listens.
    private let dashboardURL = Mutex<String?>(nil)
}

/// The synthetic peers as a service of the demo's group: their reports, their event streams, the progress watch, and
/// at shutdown their disconnection.
private struct DemoPeersService: Service {
    let demo: DemoNetwork
    let peers: [DemoNetwork.Peer]
    let node: CommunityNode

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for peer in self.peers {
                // Nobody reads a synthetic peer's events; draining keeps their buffers empty.
                group.addTask {
                    for await _ in peer.network.events {}
                }
                group.addTask { await self.demo.sendReports(of: peer) }
            }
            group.addTask { await self.demo.watch(self.node) }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        await withDiscardingTaskGroup { group in
            for peer in self.peers {
                group.addTask { await peer.network.disconnectFromNetwork() }
            }
        }
    }
}
