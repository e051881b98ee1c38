import CommunityInsights
import Dashboard
import Foundation
import NodeRuntime
import P2PCore
import PrivacyCore
import Synchronization
import TestSupport
import Testing

@testable import PrivacyNetwork

@Suite("Node dashboard source")
struct NodeDashboardSourceTests {
    /// A cheap network: 10-minute epochs, no proof of work to speak of.
    static let parameters = try! NetworkParameters(
        label: "test",
        epochLengthSeconds: 600,
        difficultyBits: 0,
        scryptCostLog2: 1
    )
    static let epoch: UInt32 = 100
    static let start = Self.parameters.schedule.start(of: Self.epoch).addingTimeInterval(60)

    /// A network over a fake transport with no timer, counting the transports it creates.
    private static func network(
        settings: P2PSettings,
        now: ManualNow,
        transport: FakePrivacyTransport = FakePrivacyTransport(),
        created: TransportCounter? = nil
    ) -> P2PPrivacyNetwork {
        P2PPrivacyNetwork(
            settings: settings,
            configuration: PrivacyNetworkConfiguration(parameters: Self.parameters, tickInterval: nil),
            secret: RandomizerSecret.generate(),
            now: { now.now },
            makeTransport: {
                created?.count.withLock { $0 += 1 }
                return transport
            }
        )
    }

    private static var report: PrivacyReport { SyntheticPopulation(count: 1, seed: 11).users[0].privacyReport }

    @Test("Before joining: the status says not joined on a labelled demo network, and there is nothing to compare")
    func notJoined() async throws {
        let now = ManualNow(Self.start)
        let network = Self.network(settings: P2PSettings(), now: now)
        let source = NodeDashboardSource(network: network, database: nil, now: { now.now })
        let status = try await source.status()
        #expect(!status.joined)
        #expect(!status.sharing)
        #expect(status.connectedPeers == 0)
        #expect(status.usersReportedThisEpoch == 0)
        #expect(status.network == .demo)
        #expect(status.networkLabel == "test")
        #expect(status.epoch == Int(Self.epoch))
        #expect(status.epochLengthSeconds == 600)
        #expect(abs(status.epochProgress - 0.1) < 1e-9)
        #expect(status.targetPeers == P2PSettings().maxConnections)
        #expect(try await source.comparison() == nil)
        #expect(try await source.insights() == nil)
        #expect(try await source.trendHistory().isEmpty)
        let disclosure = try await source.disclosure()
        #expect(disclosure.summary == nil)
        #expect(disclosure.wireReports.isEmpty)
    }

    @Test("A submitted report gives the comparison, the insights and the disclosure; its wire reports turn sent")
    func submitReport() async throws {
        let now = ManualNow(Self.start)
        let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true)
        let transport = FakePrivacyTransport()
        let network = Self.network(settings: settings, now: now, transport: transport)
        try await network.initializeNetwork()
        let source = NodeDashboardSource(network: network, database: nil, now: { now.now })
        let report = Self.report
        try await source.submitReport(report)

        let comparison = try #require(try await source.comparison())
        #expect(comparison.userScore == report.score)
        let insights = try #require(try await source.insights())
        #expect(insights.comparison.userScore == report.score)
        #expect(try await source.status().sharing)

        await network.waitForMints()
        var disclosure = try await source.disclosure()
        #expect(disclosure.epoch == Int(Self.epoch))
        #expect(disclosure.summary == (try anonymizeForP2P(report, settings: settings, now: Self.start)))
        #expect(disclosure.wireReports.count == 2)
        #expect(disclosure.wireReports.map(\.report.type).first == .score)
        let end = Self.parameters.schedule.end(of: Self.epoch)
        for wire in disclosure.wireReports {
            #expect(!wire.sent)
            #expect(wire.sendAt >= Self.start && wire.sendAt < end)
        }
        #expect(transport.relayed.isEmpty)

        now.set(end.addingTimeInterval(-0.5))
        await network.tick()
        disclosure = try await source.disclosure()
        #expect(disclosure.wireReports.count == 2)
        #expect(disclosure.wireReports.allSatisfy { $0.sent })
        let relayed = try transport.relayed.map { try ReportEnvelope(decoding: $0).report }
        #expect(Set(relayed) == Set(disclosure.wireReports.map(\.report)))
    }

    @Test("A malformed report is refused with a clear error and changes nothing")
    func badReport() async throws {
        let now = ManualNow(Self.start)
        let source = NodeDashboardSource(network: Self.network(settings: P2PSettings(), now: now), database: nil)
        var report = Self.report
        report.score = 400
        let error = await #expect(throws: DashboardError.self) { try await source.submitReport(report) }
        #expect(error?.code == .invalidReport)
        #expect(try await source.comparison() == nil)
    }

    @Test("Settings are stored and applied at once: joining starts the network, leaving stops it")
    func settingsApply() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        try directory.create()
        let database = try NodeDatabase(directory: directory)
        defer { try? database.close() }
        let now = ManualNow(Self.start)
        let created = TransportCounter()
        let network = Self.network(settings: P2PSettings(), now: now, created: created)
        let source = NodeDashboardSource(network: network, database: database, now: { now.now })
        var updates = source.updates().makeAsyncIterator()

        let joined = try await source.updateSettings(try P2PSettings(joinPrivacyNetwork: true, maxConnections: 4))
        #expect(joined.joinPrivacyNetwork)
        #expect(joined.maxConnections == 4)
        #expect(await network.isRunning)
        #expect(created.count.withLock { $0 } == 1)
        #expect(try await database.storedSettings().p2p == joined)
        #expect(try await source.status().targetPeers == 4)
        #expect(await updates.next() == .settings)

        let left = try await source.updateSettings(P2PSettings())
        #expect(!left.joinPrivacyNetwork)
        #expect(await !network.isRunning)
        #expect(try await !database.storedSettings().p2p.joinPrivacyNetwork)
        #expect(created.count.withLock { $0 } == 1)
    }

    @Test("Turning sharing on after a report plans that report's wire reports at once")
    func shareLater() async throws {
        let now = ManualNow(Self.start)
        let network = Self.network(settings: try P2PSettings(joinPrivacyNetwork: true), now: now)
        try await network.initializeNetwork()
        let source = NodeDashboardSource(network: network, database: nil, now: { now.now })
        try await source.submitReport(Self.report)
        #expect(try await source.disclosure().wireReports.isEmpty)
        _ = try await source.updateSettings(try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true))
        #expect(try await source.disclosure().wireReports.count == 2)
        #expect(await network.pendingReports == 2)
    }

    @Test("Peers show a short id, the direction and the last ping, never the full id")
    func peers() async throws {
        let now = ManualNow(Self.start)
        let transport = FakePrivacyTransport()
        let network = Self.network(
            settings: try P2PSettings(joinPrivacyNetwork: true),
            now: now,
            transport: transport
        )
        try await network.initializeNetwork()
        let source = NodeDashboardSource(network: network, database: nil, now: { now.now })
        let dialed = PeerID(publicKey: PrivateKey().publicKey)
        let dialing = PeerID(publicKey: PrivateKey().publicKey)
        await network.transportEvent(.peerConnected(dialed, dialedByUs: true))
        await network.transportEvent(.peerConnected(dialing, dialedByUs: false))
        transport.setRoundTrip(.milliseconds(12), for: dialed)

        let peers = try await source.peers()
        #expect(
            Set(peers) == [
                DashboardPeer(peerID: dialed.description, direction: .outbound, pingMilliseconds: 12),
                DashboardPeer(peerID: dialing.description, direction: .inbound, pingMilliseconds: nil),
            ]
        )
        for peer in peers {
            #expect(peer.shortID.count < dialed.description.count)
        }
        #expect(try await source.status().connectedPeers == 2)
    }

    @Test("Network events and ping rounds become dashboard updates, and the streams end when the node stops")
    func updates() async throws {
        let now = ManualNow(Self.start)
        let network = Self.network(settings: P2PSettings(), now: now)
        let source = NodeDashboardSource(network: network, database: nil, now: { now.now })
        let stream = source.updates()
        source.networkEvent(.peerJoined(PeerID(publicKey: PrivateKey().publicKey)))
        source.networkEvent(.reportAccepted(.score, epoch: Self.epoch))
        source.networkEvent(.reportSent(.score))
        source.networkEvent(.statisticsChanged(await network.getCommunityStats(), nil))
        source.pingRoundElapsed()
        source.finish()
        var received: [DashboardUpdate] = []
        for await update in stream {
            received.append(update)
        }
        #expect(received == [.peers, .status, .disclosure, .statistics, .status, .peers])
        #expect(try await source.status().lastUpdated == Self.start)
    }

    @Test("The trend history is the stored snapshots of this network, not of another")
    func trendHistory() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        try directory.create()
        let database = try NodeDatabase(directory: directory)
        defer { try? database.close() }
        let ours = AggregateSnapshot(
            epoch: 98,
            participants: 120,
            averageScore: Estimate(value: 61, lower: 55, upper: 67, standardError: 3, supportingReports: 120)
        )
        let theirs = AggregateSnapshot(
            epoch: 2,
            participants: 900,
            averageScore: Estimate(value: 70, lower: 68, upper: 72, standardError: 1, supportingReports: 900)
        )
        try await database.recordSnapshot(ours, network: NetworkScope(Self.parameters))
        try await database.recordSnapshot(theirs, network: .publicNetwork)
        let source = NodeDashboardSource(
            network: Self.network(settings: P2PSettings(), now: ManualNow(Self.start)),
            database: database
        )
        #expect(try await source.trendHistory() == [ours])
    }
}

/// Counts the transports a network creates.
final class TransportCounter: Sendable {
    let count = Mutex(0)
}
