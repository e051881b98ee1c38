public import CommunityInsights
public import Dashboard
public import Foundation
import P2PCore
public import PrivacyCore
public import PrivacyNetwork
import Synchronization

/// The dashboard's view of a running node: a ``DashboardDataSource`` over the node's ``P2PPrivacyNetwork`` and
/// its ``NodeDatabase``.
///
/// - Settings changes are stored in the database (when there is one) and applied to the network at once: turning
///   `joinPrivacyNetwork` on starts the network, turning it off stops it.
/// - A submitted report is anonymized (``anonymizeForP2P(_:settings:now:)``) and handed to the network; only the
///   user's own score per epoch reaches the database (through the node's history), never the report.
/// - ``networkEvent(_:)`` turns the network's events into ``DashboardUpdate``s for every open event stream.
public final class NodeDashboardSource: DashboardDataSource {
    private struct State {
        var report: PrivacyReport?
        var summary: AnonymousPrivacyData?
        var lastUpdated: Date?
    }

    /// The network the dashboard shows.
    public let network: P2PPrivacyNetwork
    private let database: NodeDatabase?
    private let scope: NetworkScope
    private let broadcaster = DashboardUpdateBroadcaster()
    private let now: @Sendable () -> Date
    // Guards the last submitted report, its summary and the time of the last statistics.
    private let state = Mutex(State())

    /// A source over `network`.
    /// - Parameters:
    ///   - network: the node's community network.
    ///   - database: where settings and history are kept (`nil`: settings live for this run only).
    ///   - now: the current time.
    public init(network: P2PPrivacyNetwork, database: NodeDatabase?, now: @escaping @Sendable () -> Date = { Date() }) {
        self.network = network
        self.database = database
        self.scope = NetworkScope(network.parameters)
        self.now = now
    }

    // MARK: DashboardDataSource

    public func status() async throws -> DashboardStatus {
        let parameters = self.network.parameters
        let settings = await self.network.settings
        let stats = await self.network.getCommunityStats()
        let epoch = await self.network.currentEpoch ?? 0
        let start = parameters.schedule.start(of: epoch)
        let progress = self.now().timeIntervalSince(start) / Double(parameters.schedule.lengthSeconds)
        return DashboardStatus(
            connectedPeers: await self.network.connectedPeers().count,
            targetPeers: settings.maxConnections,
            usersReportedThisEpoch: stats.connectedPeers,
            network: parameters.isPublic ? .public : .demo,
            networkLabel: parameters.label,
            epochLengthSeconds: Int(parameters.schedule.lengthSeconds),
            epoch: Int(epoch),
            epochProgress: min(max(progress, 0), 1),
            lastUpdated: self.state.withLock { $0.lastUpdated },
            joined: settings.joinPrivacyNetwork,
            sharing: settings.sendsReports,
            usersReportedInPreviousEpoch: stats.isPreviousEpoch
        )
    }

    public func stats() async throws -> CommunityStats {
        await self.network.getCommunityStats()
    }

    public func comparison() async throws -> CommunityComparison? {
        await self.network.getComparison()
    }

    public func insights() async throws -> CommunityDashboard? {
        guard let profile = await self.network.localProfile else { return nil }
        let estimates = await self.network.currentEstimates()
        let epoch = await self.network.currentEpoch ?? 0
        let history = try await self.trendHistory()
        let ownHistory = try await self.ownHistory()
        let stats = await self.network.getCommunityStats()
        return CommunityDashboard(
            estimates: estimates,
            profile: profile,
            history: history,
            ownHistory: ownHistory,
            epoch: Int(epoch),
            lastUpdated: stats.lastUpdated,
            epochProgress: stats.dataFreshness
        )
    }

    public func trendHistory() async throws -> [AggregateSnapshot] {
        guard let database = self.database else { return [] }
        do {
            return try await database.snapshots(network: self.scope)
        } catch {
            throw DashboardError(code: .unavailable, message: "the history cannot be read: \(error.message)")
        }
    }

    public func peers() async throws -> [DashboardPeer] {
        let roundTrips = await self.network.pingRoundTrips()
        return await self.network.connectedPeers().map { peer in
            DashboardPeer(
                peerID: peer.id.description,
                direction: peer.dialedByUs ? .outbound : .inbound,
                pingMilliseconds: roundTrips[peer.id].map(Self.milliseconds)
            )
        }
    }

    public func settings() async throws -> P2PSettings {
        await self.network.settings
    }

    public func updateSettings(_ settings: P2PSettings) async throws -> P2PSettings {
        if let database = self.database {
            do {
                var stored = try await database.storedSettings()
                stored.p2p = settings
                try await database.saveSettings(stored)
            } catch {
                throw DashboardError(code: .unavailable, message: "the settings cannot be stored: \(error.message)")
            }
        }
        do {
            try await self.network.updateSettings(settings)
        } catch {
            self.broadcaster.publish(.settings)
            self.broadcaster.publish(.status)
            throw DashboardError(code: .unavailable, message: "the network could not start: \(error)")
        }
        // A report given earlier is planned now if the new settings allow sending (at most once per epoch).
        if let report = self.state.withLock({ $0.report }) {
            try? await self.share(report)
        }
        for update in [DashboardUpdate.settings, .status, .peers, .disclosure, .statistics] {
            self.broadcaster.publish(update)
        }
        return await self.network.settings
    }

    public func submitReport(_ report: PrivacyReport) async throws {
        do {
            try await self.share(report)
        } catch {
            throw DashboardError(code: .invalidReport, message: "the report cannot be used: \(error)")
        }
        self.broadcaster.publish(.disclosure)
        self.broadcaster.publish(.statistics)
    }

    public func disclosure() async throws -> DashboardDisclosure {
        let epoch = await self.network.currentEpoch ?? 0
        let reports = await self.network.scheduledReports(in: epoch)
        return DashboardDisclosure(
            epoch: Int(epoch),
            summary: self.state.withLock { $0.summary },
            wireReports: reports.map {
                DashboardWireReport(report: $0.report.report, sendAt: $0.report.sendAt, sent: $0.sent)
            }
        )
    }

    public func updates() -> AsyncStream<DashboardUpdate> {
        self.broadcaster.subscribe()
    }

    // MARK: The node's side

    /// Anonymizes `report` with the settings in force and hands it to the network (see
    /// ``P2PPrivacyNetwork/shareAnonymousData(_:of:)``).
    /// - Throws: ``PrivacyReportError`` when the report breaks the format's rules.
    public func share(_ report: PrivacyReport) async throws(PrivacyReportError) {
        let settings = await self.network.settings
        let summary = try anonymizeForP2P(report, settings: settings, now: self.now())
        self.state.withLock { state in
            state.report = report
            state.summary = summary
        }
        await self.network.shareAnonymousData(summary, of: report)
    }

    /// Tells every open event stream what `event` changed.
    public func networkEvent(_ event: PrivacyNetworkEvent) {
        for update in Self.updates(for: event) {
            if update == .statistics {
                self.state.withLock { $0.lastUpdated = self.now() }
            }
            self.broadcaster.publish(update)
        }
    }

    /// A ping round went by: the peers' round-trip times may have changed, so open event streams refresh the peers.
    public func pingRoundElapsed() {
        self.broadcaster.publish(.peers)
    }

    /// The node stopped: every open event stream ends.
    public func finish() {
        self.broadcaster.finish()
    }

    /// The parts of the page an event changes.
    static func updates(for event: PrivacyNetworkEvent) -> [DashboardUpdate] {
        switch event {
        case .peerJoined, .peerLeft: [.peers, .status]
        case .reportSent: [.disclosure]
        case .reportAccepted: []
        case .statisticsChanged: [.statistics, .status]
        case .error: []
        }
    }

    private func ownHistory() async throws -> [OwnScoreRecord] {
        guard let database = self.database else { return [] }
        do {
            return try await database.ownHistory(network: self.scope)
        } catch {
            throw DashboardError(code: .unavailable, message: "the history cannot be read: \(error.message)")
        }
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
