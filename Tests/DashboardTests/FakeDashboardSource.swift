import CommunityInsights
import Dashboard
import Foundation
import PrivacyCore
import Synchronization
import TestSupport

/// Deterministic community figures built once from a synthetic community (seeded, no clock).
struct DashboardFixture: Sendable {
    /// When the fixture's figures were "computed".
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// Estimates of the whole community with K = 10, so every figure is shown.
    let estimates: CommunityEstimates
    /// Estimates from the first 150 users under the standard policy: regions and tools are withheld.
    let sparseEstimates: CommunityEstimates
    let user: SyntheticUser
    let profile: LocalProfile
    let epoch: Int
    let history: [AggregateSnapshot]
    let disclosure: DashboardDisclosure

    /// The fixture shared by every test (computed on first use).
    static let shared = Task { await DashboardFixture(size: 6000, seed: 2026) }

    init(size: Int, seed: UInt64) async {
        let parameters = SyntheticCommunity.parameters
        let epoch = (try? parameters.schedule.epoch(containing: Self.now)) ?? 1
        let community = await SyntheticCommunity(
            population: SyntheticPopulation(count: size, seed: seed),
            epoch: epoch,
            seed: seed &+ 1
        )
        let admitted = await community.admitted.reports
        self.estimates = CommunityEstimates(reports: admitted, policy: DisplayPolicy(subPopulationMinimum: 10))
        self.sparseEstimates = CommunityEstimates(reports: Array(admitted.prefix(300)), policy: .standard)
        self.user = community.population.users[0]
        self.profile = self.user.localProfile
        self.epoch = Int(epoch)
        let average = self.estimates.score.average
        self.history = (1...4).map { back in
            AggregateSnapshot(
                epoch: Int(epoch) - back,
                participants: size - 100 * back,
                averageScore: Estimate(
                    value: average.value - Double(back) * 1.5,
                    lower: average.lower - Double(back) * 1.5,
                    upper: average.upper - Double(back) * 1.5,
                    standardError: average.standardError,
                    supportingReports: size - 100 * back
                )
            )
        }
        var generator = SeededGenerator(seed: seed &+ 2)
        let plan = EpochPlan(
            epoch: epoch,
            schedule: parameters.schedule,
            settings: self.user.sharingSettings,
            truth: self.user.trueReportValues(now: Self.now),
            secret: RandomizerSecret.generate(using: &generator),
            using: &generator
        )
        let summary = try? anonymizeForP2P(self.user.privacyReport, settings: self.user.sharingSettings, now: Self.now)
        self.disclosure = DashboardDisclosure(
            epoch: Int(epoch),
            summary: summary,
            wireReports: plan.entries.enumerated().map {
                DashboardWireReport(report: $0.element.report, sendAt: $0.element.sendAt, sent: $0.offset == 0)
            }
        )
    }

    /// The assembled dashboard for the fixture's user over `estimates`.
    func dashboard(_ estimates: CommunityEstimates) -> CommunityDashboard {
        CommunityDashboard(
            estimates: estimates,
            profile: self.profile,
            history: self.history,
            ownHistory: [OwnScoreRecord(epoch: self.epoch - 1, score: self.profile.score - 4)],
            epoch: self.epoch,
            lastUpdated: Self.now,
            epochProgress: 0.4
        )
    }
}

/// A data source over the fixture: settings and the submitted report are kept; updates can be queued.
final class FakeDashboardSource: DashboardDataSource {
    struct State {
        var settings: P2PSettings
        var reports: [PrivacyReport] = []
        var hasReport: Bool
        var networkLabel: String
        var peers: [DashboardPeer]
        var pendingUpdates: [DashboardUpdate] = []
    }

    let fixture: DashboardFixture
    let estimates: CommunityEstimates
    let state: Mutex<State>

    /// A source with a local report (or not), sharing on, three peers; `sparse` uses the small community.
    init(fixture: DashboardFixture, hasReport: Bool = true, networkLabel: String = "demo", sparse: Bool = false) {
        self.fixture = fixture
        self.estimates = sparse ? fixture.sparseEstimates : fixture.estimates
        self.state = Mutex(
            State(
                settings: fixture.user.sharingSettings,
                hasReport: hasReport,
                networkLabel: networkLabel,
                peers: [
                    DashboardPeer(
                        peerID: "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo",
                        direction: .outbound,
                        pingMilliseconds: 3.5
                    ),
                    DashboardPeer(
                        peerID: "12D3KooWAbCdEfGhJkLmNpQrStUvWxYz123456789aBcDeFgHiJk",
                        direction: .inbound,
                        pingMilliseconds: nil
                    ),
                    DashboardPeer(peerID: "short-id", direction: .inbound, pingMilliseconds: 12),
                ]
            )
        )
    }

    /// Updates the next event stream yields before it ends.
    func queueUpdates(_ updates: [DashboardUpdate]) { self.state.withLock { $0.pendingUpdates = updates } }

    /// Reports handed to the node so far.
    var submittedReports: [PrivacyReport] { self.state.withLock { $0.reports } }

    func status() async throws -> DashboardStatus {
        let state = self.state.withLock { $0 }
        return DashboardStatus(
            connectedPeers: state.peers.count,
            targetPeers: state.settings.maxConnections,
            usersReportedThisEpoch: self.estimates.participants,
            network: .demo,
            networkLabel: state.networkLabel,
            epochLengthSeconds: 600,
            epoch: self.fixture.epoch,
            epochProgress: 0.4,
            lastUpdated: DashboardFixture.now,
            joined: state.settings.joinPrivacyNetwork,
            sharing: state.settings.sendsReports
        )
    }

    func stats() async throws -> CommunityStats {
        CommunityStats(estimates: self.estimates, lastUpdated: DashboardFixture.now, epochProgress: 0.4)
    }

    func comparison() async throws -> CommunityComparison? {
        guard self.state.withLock({ $0.hasReport }) else { return nil }
        return CommunityComparison(profile: self.fixture.profile, estimates: self.estimates)
    }

    func insights() async throws -> CommunityDashboard? {
        guard self.state.withLock({ $0.hasReport }) else { return nil }
        return self.fixture.dashboard(self.estimates)
    }

    func trendHistory() async throws -> [AggregateSnapshot] {
        self.fixture.history + [AggregateSnapshot(epoch: self.fixture.epoch, estimates: self.estimates)]
    }

    func peers() async throws -> [DashboardPeer] { self.state.withLock { $0.peers } }

    func settings() async throws -> P2PSettings { self.state.withLock { $0.settings } }

    func updateSettings(_ settings: P2PSettings) async throws -> P2PSettings {
        self.state.withLock { $0.settings = settings }
        return settings
    }

    func submitReport(_ report: PrivacyReport) async throws {
        self.state.withLock {
            $0.reports.append(report)
            $0.hasReport = true
        }
    }

    func disclosure() async throws -> DashboardDisclosure {
        guard self.state.withLock({ $0.hasReport }) else {
            return DashboardDisclosure(epoch: self.fixture.epoch, summary: nil, wireReports: [])
        }
        return self.fixture.disclosure
    }

    func updates() -> AsyncStream<DashboardUpdate> {
        let pending = self.state.withLock { $0.pendingUpdates }
        return AsyncStream { continuation in
            for update in pending {
                continuation.yield(update)
            }
            continuation.finish()
        }
    }
}
