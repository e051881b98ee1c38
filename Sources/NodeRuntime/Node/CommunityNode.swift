import CommunityInsights
import Foundation
public import Logging
import P2PCore
import PrivacyCore
public import PrivacyNetwork
import ServiceLifecycle
import UnixSignals

/// The node: the community network as a swift-service-lifecycle service group, stopped cleanly by
/// SIGINT or SIGTERM (every unsent report is cancelled, every connection closed).
///
/// Without `joinPrivacyNetwork` the node says so and opens nothing: no host is created, so no socket,
/// dial or multicast happens.
public final class CommunityNode: Sendable {
    /// Receives the node's events (called from the node's tasks, in order).
    public typealias EventSink = @Sendable (CommunityNodeEvent) -> Void

    /// The community network (created at once; it opens nothing until the service runs, and only with
    /// consent).
    public let network: P2PPrivacyNetwork
    private let options: CommunityNodeOptions
    private let database: NodeDatabase?
    private let logger: Logger
    private let sink: EventSink

    /// A node for `options`.
    /// - Parameters:
    ///   - options: settings, parameters, addresses and the local report.
    ///   - database: where the user's own score per epoch and the per-epoch aggregate estimates are kept
    ///     (`nil`: nothing is stored).
    ///   - logger: the node's logger.
    ///   - makeTransport: creates the libp2p side (default: ``LibP2PPrivacyTransport``); called only after
    ///     consent to join.
    ///   - sink: receives the node's events.
    public init(
        options: CommunityNodeOptions,
        database: NodeDatabase? = nil,
        logger: Logger,
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
            configuration: PrivacyNetworkConfiguration(parameters: options.parameters, bootstrap: options.bootstrap),
            secret: options.randomizerSecret ?? RandomizerSecret.generate(),
            makeTransport: makeTransport ?? {
                try LibP2PPrivacyTransport(
                    identity: identity ?? PrivateKey(),
                    options: transportOptions,
                    logger: transportLogger
                )
            }
        )
    }

    /// The text shown when the user has not joined.
    public static let notJoinedMessage =
        "not joined: the community network is off (joinPrivacyNetwork). Run with --join to connect, "
        + "and --share to also send anonymous reports."

    /// Runs the node until SIGINT or SIGTERM (or until the task is cancelled).
    public func run() async throws {
        guard ConsentGate(settings: self.options.settings).mayOpenSockets else {
            self.sink(.notJoined(Self.notJoinedMessage))
            return
        }
        let group = ServiceGroup(
            services: [NetworkService(node: self)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: self.logger
        )
        try await group.run()
    }

    /// The network's service body: join, share the report, forward events until shutdown, then leave.
    func serve() async throws {
        guard ConsentGate(settings: self.options.settings).mayOpenSockets else {
            self.sink(.notJoined(Self.notJoinedMessage))
            return
        }
        try await self.network.initializeNetwork()
        if let peer = await self.network.localPeerID {
            self.sink(.listening(peer, await self.network.listenAddresses()))
            self.logger.info("community node listening", metadata: ["p2p.peer": "\(peer)"])
        }
        if let report = self.options.report {
            do {
                let summary = try anonymizeForP2P(report, settings: self.options.settings, now: Date())
                await self.network.shareAnonymousData(summary, of: report)
            } catch {
                self.sink(.network(.error("the report cannot be used: \(error)")))
            }
        }
        let events = self.network.events
        let sink = self.sink
        let history = HistoryWriter(
            database: self.database,
            scope: NetworkScope(self.options.parameters),
            network: self.network,
            sink: sink
        )
        await cancelWhenGracefulShutdown {
            for await event in events {
                sink(.network(event))
                if case .statisticsChanged(let stats, let comparison) = event {
                    await history.statisticsChanged(stats, comparison)
                }
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
                average: stats.averageScore,
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
        guard let database = self.database else { return }
        for write in writes {
            do {
                switch write {
                case .ownScore(let record): try await database.recordOwnScore(record, network: self.scope)
                case .snapshot(let snapshot): try await database.recordSnapshot(snapshot, network: self.scope)
                }
            } catch {
                self.sink(.network(.error("cannot store the history: \(error)")))
            }
        }
    }
}

/// The community network as a service of the node's group.
private struct NetworkService: Service {
    let node: CommunityNode

    func run() async throws {
        try await self.node.serve()
    }
}
