import CommunityInsights
import Dashboard
import Foundation
import PrivacyCore
import Synchronization
import TestSupport

/// A dashboard data source for the browser test: figures from a synthetic community (seeded, no clock),
/// a state the test changes while the page is open, and a real ``DashboardUpdateBroadcaster`` so the page
/// hears about each change over its event stream.
///
/// Peer ids and the network label carry markup on purpose: the page must show them as text.
final class ScriptedDashboardSource: DashboardDataSource {
    /// What the node "knows" at one moment.
    struct Phase: Sendable {
        var peers: [DashboardPeer]
        var estimates: CommunityEstimates
    }

    /// When the figures were "computed".
    static let now = Date(timeIntervalSince1970: 1_795_000_000)
    /// A network label with markup in it.
    static let networkLabel = #"demo <img src=x onerror="alert(1)">"#
    /// A peer id with markup in it, short enough to be shown whole.
    static let markupPeerID = "<img src=x>"

    let user: SyntheticUser
    let epoch: Int
    let history: [AggregateSnapshot]
    let disclosureValue: DashboardDisclosure
    /// The phases the test steps through: the first is shown on load.
    let phases: [Phase]
    /// Whether the privacy tool has sent the local report.
    let hasReport: Bool
    private let current = Mutex(0)
    private let settingsValue: Mutex<P2PSettings>
    private let broadcaster = DashboardUpdateBroadcaster()

    /// A community of `size` users; the first phase sees the reports of the first `firstPhaseUsers` users
    /// and three peers, the second sees everyone and five peers. Groups of 10 reports are shown.
    static func make(size: Int = 6000, firstPhaseUsers: Int = 4500, seed: UInt64 = 7) async -> ScriptedDashboardSource {
        await Self.make(size: size, firstPhaseUsers: firstPhaseUsers, seed: seed, fresh: false)
    }

    /// A node that just started: no local report, no peer, and the reports of only `users` users under the
    /// public network's display rules (groups under 50 reports withheld).
    static func fresh(users: Int = 300, seed: UInt64 = 11) async -> ScriptedDashboardSource {
        await Self.make(size: users, firstPhaseUsers: users, seed: seed, fresh: true)
    }

    private static func make(
        size: Int,
        firstPhaseUsers: Int,
        seed: UInt64,
        fresh: Bool
    ) async -> ScriptedDashboardSource {
        let parameters = SyntheticCommunity.parameters
        let epoch = (try? parameters.schedule.epoch(containing: Self.now)) ?? 1
        let community = await SyntheticCommunity(
            population: SyntheticPopulation(count: size, seed: seed),
            epoch: epoch,
            seed: seed &+ 1
        )
        let reports = await community.admitted.reports
        // Two reports per user, in user order.
        // Groups of 10 reports are shown (the public network needs 50), so a few thousand users fill every
        // section, popular tools among A-grade peers included.
        let policy = fresh ? DisplayPolicy.standard : DisplayPolicy(subPopulationMinimum: 10)
        let first = CommunityEstimates(reports: reports.prefix(2 * firstPhaseUsers), policy: policy)
        let all = CommunityEstimates(reports: reports, policy: policy)
        let peers = [
            DashboardPeer(
                peerID: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
                direction: .outbound,
                pingMilliseconds: 3.5
            ),
            DashboardPeer(peerID: Self.markupPeerID, direction: .inbound, pingMilliseconds: nil),
            DashboardPeer(
                peerID: "12D3KooWAbCdEfGhJkLmNpQrStUvWxYz123456789aBcDeFgHiJk",
                direction: .inbound,
                pingMilliseconds: 12
            ),
        ]
        let more = [
            DashboardPeer(
                peerID: "12D3KooWMoreMoreMoreMoreMoreMoreMoreMoreMoreMore0001",
                direction: .outbound,
                pingMilliseconds: 7
            ),
            DashboardPeer(
                peerID: "12D3KooWMoreMoreMoreMoreMoreMoreMoreMoreMoreMore0002",
                direction: .outbound,
                pingMilliseconds: 9
            ),
        ]
        let user = community.population.users[0]
        var generator = SeededGenerator(seed: seed &+ 2)
        let plan = EpochPlan(
            epoch: epoch,
            schedule: parameters.schedule,
            settings: user.sharingSettings,
            truth: user.trueReportValues(now: Self.now),
            secret: RandomizerSecret.generate(using: &generator),
            using: &generator
        )
        let average = first.score.average
        let history = (1...4).map { back in
            AggregateSnapshot(
                epoch: Int(epoch) - back,
                participants: firstPhaseUsers - 50 * back,
                averageScore: Estimate(
                    value: average.value - Double(back) * 1.5,
                    lower: average.lower - Double(back) * 1.5,
                    upper: average.upper - Double(back) * 1.5,
                    standardError: average.standardError,
                    supportingReports: firstPhaseUsers - 50 * back
                )
            )
        }
        return ScriptedDashboardSource(
            user: user,
            epoch: Int(epoch),
            history: history,
            disclosure: DashboardDisclosure(
                epoch: Int(epoch),
                summary: try? anonymizeForP2P(user.privacyReport, settings: user.sharingSettings, now: Self.now),
                wireReports: plan.entries.enumerated().map {
                    DashboardWireReport(report: $0.element.report, sendAt: $0.element.sendAt, sent: $0.offset == 0)
                }
            ),
            phases: fresh
                ? [Phase(peers: [], estimates: first)]
                : [Phase(peers: peers, estimates: first), Phase(peers: peers + more, estimates: all)],
            hasReport: !fresh
        )
    }

    private init(
        user: SyntheticUser,
        epoch: Int,
        history: [AggregateSnapshot],
        disclosure: DashboardDisclosure,
        phases: [Phase],
        hasReport: Bool
    ) {
        self.hasReport = hasReport
        self.user = user
        self.epoch = epoch
        self.history = history
        self.disclosureValue = disclosure
        self.phases = phases
        self.settingsValue = Mutex(user.sharingSettings)
    }

    /// The phase in force.
    var phase: Phase { self.phases[self.current.withLock { $0 }] }

    /// Moves to the next phase and tells every open event stream that peers and statistics changed.
    func advance() {
        self.current.withLock { $0 = min($0 + 1, self.phases.count - 1) }
        self.broadcaster.publish(.peers)
        self.broadcaster.publish(.statistics)
    }

    /// Open event streams (one per page listening).
    var listeners: Int { self.broadcaster.subscriberCount }

    /// Ends every event stream.
    func finish() { self.broadcaster.finish() }

    func status() async throws -> DashboardStatus {
        let phase = self.phase
        let settings = self.settingsValue.withLock { $0 }
        return DashboardStatus(
            connectedPeers: phase.peers.count,
            targetPeers: settings.maxConnections,
            usersReportedThisEpoch: phase.estimates.participants,
            network: .demo,
            networkLabel: Self.networkLabel,
            epochLengthSeconds: 600,
            epoch: self.epoch,
            epochProgress: 0.4,
            lastUpdated: Self.now,
            joined: settings.joinPrivacyNetwork,
            sharing: settings.sendsReports
        )
    }

    func stats() async throws -> CommunityStats {
        CommunityStats(estimates: self.phase.estimates, lastUpdated: Self.now, epochProgress: 0.4)
    }

    func comparison() async throws -> CommunityComparison? {
        guard self.hasReport else { return nil }
        return CommunityComparison(profile: self.user.localProfile, estimates: self.phase.estimates)
    }

    func insights() async throws -> CommunityDashboard? {
        guard self.hasReport else { return nil }
        return CommunityDashboard(
            estimates: self.phase.estimates,
            profile: self.user.localProfile,
            history: self.history,
            ownHistory: [OwnScoreRecord(epoch: self.epoch - 1, score: self.user.localProfile.score - 4)],
            epoch: self.epoch,
            lastUpdated: Self.now,
            epochProgress: 0.4
        )
    }

    func trendHistory() async throws -> [AggregateSnapshot] {
        self.history + [AggregateSnapshot(epoch: self.epoch, estimates: self.phase.estimates)]
    }

    func peers() async throws -> [DashboardPeer] { self.phase.peers }

    func settings() async throws -> P2PSettings { self.settingsValue.withLock { $0 } }

    func updateSettings(_ settings: P2PSettings) async throws -> P2PSettings {
        self.settingsValue.withLock { $0 = settings }
        self.broadcaster.publish(.settings)
        return settings
    }

    func submitReport(_ report: PrivacyReport) async throws {
        throw DashboardError.unavailable("the browser test's node takes no reports")
    }

    func disclosure() async throws -> DashboardDisclosure {
        guard self.hasReport else { return DashboardDisclosure(epoch: self.epoch, summary: nil, wireReports: []) }
        return self.disclosureValue
    }

    func updates() -> AsyncStream<DashboardUpdate> { self.broadcaster.subscribe() }
}
