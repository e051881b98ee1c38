import CommunityInsights
import Dashboard
public import Foundation
public import Logging
import P2PCore
import PrivacyCore
public import PrivacyNetwork
public import ServiceLifecycle
import Synchronization
import UnixSignals

/// The node: the community network and the local dashboard as a swift-service-lifecycle service group, stopped
/// cleanly by SIGINT or SIGTERM (every unsent report is cancelled, every connection closed).
///
/// Without `joinPrivacyNetwork` the node says so and opens no P2P socket: no host is created, so no listener, dial
/// or multicast happens. The dashboard (when configured) still runs, and turning `joinPrivacyNetwork` on there
/// starts the network.
public final class CommunityNode: Sendable {
    /// Receives the node's events (called from the node's tasks, in order).
    public typealias EventSink = @Sendable (CommunityNodeEvent) -> Void

    /// The community network (created at once; it opens nothing until the service runs, and only with
    /// consent).
    public let network: P2PPrivacyNetwork
    /// What the dashboard reads from the node.
    public let dashboardSource: NodeDashboardSource
    private let options: CommunityNodeOptions
    private let database: NodeDatabase?
    private let logger: Logger
    private let sink: EventSink

    /// A node for `options`.
    /// - Parameters:
    ///   - options: settings, parameters, addresses, the local report and the dashboard.
    ///   - database: where settings, the user's own score per epoch and the per-epoch aggregate estimates are kept
    ///     (`nil`: nothing is stored).
    ///   - logger: the node's logger.
    ///   - now: the current time (epochs, schedules, statistics).
    ///   - makeTransport: creates the libp2p side (default: ``LibP2PPrivacyTransport``); called only after
    ///     consent to join.
    ///   - sink: receives the node's events.
    public init(
        options: CommunityNodeOptions,
        database: NodeDatabase? = nil,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        makeTransport: P2PPrivacyNetwork.TransportFactory? = nil,
        sink: @escaping EventSink
    ) {
        self.options = options
        self.database = database
        self.logger = logger
        self.sink = sink
        let transportOptions = LibP2PPrivacyTransport.Options(
            listenAddresses: options.listenAddresses,
            maxConnections: options.settings.maxConnections,
            mdns: options.mdns,
            parameters: options.parameters
        )
        let identity = options.identity
        let transportLogger = logger
        self.network = P2PPrivacyNetwork(
            settings: options.settings,
            configuration: PrivacyNetworkConfiguration(
                parameters: options.parameters,
                bootstrap: options.bootstrap,
                pingInterval: options.pingInterval,
                policy: options.policy
            ),
            secret: options.randomizerSecret ?? RandomizerSecret.generate(),
            now: now,
            makeTransport: makeTransport ?? {
                try LibP2PPrivacyTransport(
                    identity: identity ?? PrivateKey(),
                    options: transportOptions,
                    logger: transportLogger
                )
            }
        )
        self.dashboardSource = NodeDashboardSource(network: self.network, database: database, now: now)
    }

    /// The text shown when the user has not joined.
    public static let notJoinedMessage =
        "not joined: the community network is off (joinPrivacyNetwork). Run with --join to connect, "
        + "and --share to also send anonymous reports."

    /// Runs the node until SIGINT or SIGTERM (or until the task is cancelled). Without consent to join and without
    /// a dashboard it only says how to join and returns.
    public func run() async throws {
        guard ConsentGate(settings: self.options.settings).mayOpenSockets || self.options.dashboard != nil else {
            self.sink(.notJoined(Self.notJoinedMessage))
            return
        }
        let group = ServiceGroup(
            services: try self.services(),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: self.logger
        )
        try await group.run()
    }

    /// The node's services, for a caller that runs its own service group: the dashboard (when configured) and the
    /// network. The network is last, so a graceful shutdown stops it first and its end closes the dashboard's event
    /// streams.
    /// - Throws: ``DashboardError`` when the dashboard's options are invalid (token, port, a non-loopback host
    ///   without ``NodeDashboardOptions/allowNonLoopback``).
    public func services() throws -> [any Service] {
        var services: [any Service] = []
        if let dashboard = self.options.dashboard {
            services.append(
                try DashboardService(options: dashboard, source: self.dashboardSource, node: self, logger: self.logger)
            )
        }
        services.append(NetworkService(node: self))
        return services
    }

    /// The dashboard listens on `port`: tell the front end and, with a data directory, write the endpoint file that
    /// `phantom-trail native-host` reads.
    fileprivate func dashboardListening(port: Int, options: NodeDashboardOptions) {
        if let directory = options.endpointFileDirectory {
            do {
                try NodeEndpoint(url: "http://127.0.0.1:\(port)/", pid: getpid()).write(to: directory)
            } catch {
                self.sink(.network(.error("cannot write the node endpoint: \(error)")))
            }
        }
        self.sink(
            .dashboard(url: DashboardServer.url(host: options.host, port: port, token: options.token), port: port)
        )
        self.logger.info("dashboard listening", metadata: ["dash.port": "\(port)"])
    }

    /// The network's service body: join (with consent), share the report, forward events until shutdown, then
    /// leave.
    func serve() async throws {
        defer { self.dashboardSource.finish() }
        if ConsentGate(settings: self.options.settings).mayOpenSockets {
            try await self.network.initializeNetwork()
            if let peer = await self.network.localPeerID {
                self.sink(.listening(peer, await self.network.listenAddresses()))
                self.logger.info("community node listening", metadata: ["p2p.peer": "\(peer)"])
            }
        } else {
            self.sink(.notJoined(Self.notJoinedMessage))
        }
        if let report = self.options.report {
            do {
                try await self.dashboardSource.share(report)
            } catch {
                self.sink(.network(.error("the report cannot be used: \(error)")))
            }
        }
        let events = self.network.events
        let sink = self.sink
        let source = self.dashboardSource
        let history = HistoryWriter(
            database: self.database,
            scope: NetworkScope(self.options.parameters),
            network: self.network,
            sink: sink
        )
        let pingInterval = self.options.pingInterval
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                // Ping round trips change without a network event: the peers panel is refreshed once per ping round.
                group.addTask {
                    while (try? await Task.sleep(for: pingInterval)) != nil {
                        source.pingRoundElapsed()
                    }
                }
                for await event in events {
                    // The history is written first, so whoever sees the statistics event can rely on it being
                    // stored.
                    if case .statisticsChanged(let stats, let comparison) = event {
                        await history.statisticsChanged(stats, comparison)
                    }
                    sink(.network(event))
                    source.networkEvent(event)
                }
                group.cancelAll()
            }
        }
        await self.network.disconnectFromNetwork()
        await history.finish()
    }
}

/// Performs the ``NodeHistoryRecorder``'s writes on the node's database (nothing without one).
private actor HistoryWriter {
    private let database: NodeDatabase?
    private let scope: NetworkScope
    private let network: P2PPrivacyNetwork
    private let sink: CommunityNode.EventSink
    private var recorder = NodeHistoryRecorder()

    init(
        database: NodeDatabase?,
        scope: NetworkScope,
        network: P2PPrivacyNetwork,
        sink: @escaping CommunityNode.EventSink
    ) {
        self.database = database
        self.scope = scope
        self.network = network
        self.sink = sink
    }

    func statisticsChanged(_ stats: CommunityStats, _ comparison: CommunityComparison?) async {
        guard self.database != nil, let epoch = await self.network.currentEpoch else { return }
        await self.perform(
            self.recorder.statisticsChanged(
                // Figures carried over from the previous epoch must not be stored as this epoch's.
                average: stats.isPreviousEpoch ? .needsMoreReports(have: 0, neededReports: 1) : stats.averageScore,
                participants: stats.connectedPeers,
                userScore: comparison?.userScore,
                epoch: Int(epoch)
            )
        )
    }

    func finish() async {
        await self.perform(self.recorder.finish())
    }

    private func perform(_ writes: [NodeHistoryRecorder.Write]) async {
        guard let database = self.database, !writes.isEmpty else { return }
        let scope = self.scope
        for write in writes {
            do {
                // A write in flight finishes even when the node's task is being cancelled (shutdown), so that the
                // last epoch's history is not lost: the database refuses to start work in a cancelled task.
                try await Task {
                    switch write {
                    case .ownScore(let record): try await database.recordOwnScore(record, network: scope)
                    case .snapshot(let snapshot): try await database.recordSnapshot(snapshot, network: scope)
                    }
                }.value
            } catch {
                self.sink(.network(.error("cannot store the history: \(error)")))
            }
        }
    }
}

/// The dashboard as a service of the node's group; the endpoint file lives as long as it does. When the default
/// port is taken (``NodeDashboardOptions/fallbackToAnyPort``) it serves on any free port instead.
private struct DashboardService: Service {
    let options: NodeDashboardOptions
    let source: NodeDashboardSource
    let node: CommunityNode
    let logger: Logger

    init(options: NodeDashboardOptions, source: NodeDashboardSource, node: CommunityNode, logger: Logger) throws {
        self.options = options
        self.source = source
        self.node = node
        self.logger = logger
        _ = try self.application(port: options.port, listening: ListeningFlag())
    }

    func run() async throws {
        defer {
            if let directory = self.options.endpointFileDirectory { try? NodeEndpoint.remove(from: directory) }
        }
        let listening = ListeningFlag()
        do {
            try await self.application(port: self.options.port, listening: listening).run()
        } catch
            where !listening.value.load(ordering: .relaxed) && self.options.fallbackToAnyPort && self.options.port != 0
        {
            try await self.application(port: 0, listening: listening).run()
        }
    }

    private func application(port: Int, listening: ListeningFlag) throws -> any Service {
        var options = self.options
        options.port = port
        let server = try DashboardServer(
            configuration: DashboardServer.Configuration(
                host: options.host,
                port: port,
                token: options.token,
                allowNonLoopback: options.allowNonLoopback
            ),
            dataSource: self.source,
            logger: self.logger
        )
        let node = self.node
        return server.makeApplication { [options] port in
            listening.value.store(true, ordering: .relaxed)
            node.dashboardListening(port: port, options: options)
        }
    }
}

/// Whether a dashboard application reached the listening state (a bind failure happens before).
private final class ListeningFlag: Sendable {
    let value = Atomic(false)
}

/// The community network as a service of the node's group.
private struct NetworkService: Service {
    let node: CommunityNode

    func run() async throws {
        try await self.node.serve()
    }
}
