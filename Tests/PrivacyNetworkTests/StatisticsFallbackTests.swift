import CommunityInsights
import Foundation
import P2PCore
import PrivacyCore
import TestSupport
import Testing

@testable import PrivacyNetwork

@Suite("Statistics at an epoch boundary fall back to the previous complete epoch")
struct StatisticsFallbackTests {
    let parameters = TestReports.parameters
    let epoch: UInt32 = 4_000
    let policy = DisplayPolicy(subPopulationMinimum: 3, networkMinimum: 3)

    /// A node that is not joined (admission and statistics need no transport) at the start of `epoch` + 0.5.
    func makeNetwork(time: TestTime) -> P2PPrivacyNetwork {
        var rng = SeededGenerator(seed: 5)
        return P2PPrivacyNetwork(
            settings: P2PSettings(),
            configuration: PrivacyNetworkConfiguration(
                parameters: self.parameters,
                tickInterval: nil,
                policy: self.policy
            ),
            secret: RandomizerSecret.generate(using: &rng),
            now: time.source,
            rng: SeededGenerator(seed: 6),
            makeTransport: { throw PrivacyNetworkError(.notJoined, "no transport in this test") }
        )
    }

    /// Admits score reports of `epoch` with the given deciles (each a distinct envelope).
    func admit(_ deciles: [Int], epoch: UInt32, seed: UInt64, to network: P2PPrivacyNetwork) async {
        for (index, decile) in deciles.enumerated() {
            let envelope = TestReports.minted(epoch: epoch, decile: decile, seed: seed &+ UInt64(index))
            #expect(await network.admit(envelope.encode(), from: nil) == .accept)
        }
    }

    @Test("A new epoch with too few reports shows the previous epoch, labelled, until it has enough")
    func fallback() async throws {
        let schedule = self.parameters.schedule
        let time = TestTime(schedule.start(of: self.epoch).addingTimeInterval(300))
        let network = self.makeNetwork(time: time)
        var events = network.events.makeAsyncIterator()
        await network.tick()

        // Epoch 4000 gathers four score reports: shown, about the current epoch.
        await self.admit([9, 9, 8, 9], epoch: self.epoch, seed: 100, to: network)
        var stats = await network.getCommunityStats()
        #expect(stats.epoch == self.epoch && !stats.isPreviousEpoch)
        #expect(stats.connectedPeers == 4)
        guard case .shown(let average) = stats.averageScore else {
            Issue.record("four reports should be shown with a minimum of three")
            return
        }

        // The boundary: epoch 4001 has no report yet, so the figures stay those of epoch 4000, complete.
        time.set(schedule.start(of: self.epoch + 1).addingTimeInterval(1))
        await network.tick()
        stats = await network.getCommunityStats()
        #expect(stats.epoch == self.epoch && stats.isPreviousEpoch)
        #expect(stats.averageScore == .shown(average))
        #expect(stats.connectedPeers == 4)
        #expect(stats.dataFreshness == 1)
        // The tick's event carries the same labelled figures.
        var changed: CommunityStats?
        while let event = await events.next() {
            if case .statisticsChanged(let eventStats, _) = event, eventStats.epoch == self.epoch,
                eventStats.isPreviousEpoch
            {
                changed = eventStats
                break
            }
        }
        #expect(changed?.averageScore == .shown(average))

        // Two reports of the new epoch are still below the minimum: still the previous epoch.
        await self.admit([1, 2], epoch: self.epoch + 1, seed: 200, to: network)
        stats = await network.getCommunityStats()
        #expect(stats.epoch == self.epoch && stats.isPreviousEpoch && stats.connectedPeers == 4)

        // The third one reaches it: the statistics move to the new epoch.
        await self.admit([1], epoch: self.epoch + 1, seed: 300, to: network)
        stats = await network.getCommunityStats()
        #expect(stats.epoch == self.epoch + 1 && !stats.isPreviousEpoch)
        #expect(stats.connectedPeers == 3)
        #expect(stats.dataFreshness < 0.01)
        guard case .shown(let newAverage) = stats.averageScore else {
            Issue.record("three reports should be shown with a minimum of three")
            return
        }
        #expect(newAverage != average)
    }

    @Test("The comparison describes the same epoch as the statistics")
    func comparisonFollows() async throws {
        let schedule = self.parameters.schedule
        let time = TestTime(schedule.start(of: self.epoch).addingTimeInterval(300))
        let network = self.makeNetwork(time: time)
        await network.tick()
        let user = SyntheticPopulation(count: 1, seed: 3).users[0]
        let settings = try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true)
        await network.shareAnonymousData(
            try anonymizeForP2P(user.privacyReport, settings: settings, now: time.now),
            of: user.privacyReport
        )
        await self.admit([5, 6, 7], epoch: self.epoch, seed: 400, to: network)
        time.set(schedule.start(of: self.epoch + 1))
        await network.tick()
        let comparison = try #require(await network.getComparison())
        #expect(comparison.epoch == self.epoch && comparison.isPreviousEpoch)
        #expect(comparison.networkAverage == (await network.getCommunityStats()).averageScore)
        guard case .shown = comparison.betterThan else {
            Issue.record("the previous epoch's comparison should be shown")
            return
        }
    }

    @Test("Without a showable previous epoch the current one is shown, gathering data")
    func noFallbackWithoutPreviousData() async throws {
        let schedule = self.parameters.schedule
        let time = TestTime(schedule.start(of: self.epoch).addingTimeInterval(300))
        let network = self.makeNetwork(time: time)
        await network.tick()
        await self.admit([4, 4], epoch: self.epoch, seed: 500, to: network)
        time.set(schedule.start(of: self.epoch + 1))
        await network.tick()
        await self.admit([3], epoch: self.epoch + 1, seed: 600, to: network)
        let stats = await network.getCommunityStats()
        #expect(stats.epoch == self.epoch + 1 && !stats.isPreviousEpoch)
        #expect(stats.averageScore == .needsMoreReports(have: 1, neededReports: 2))
    }
}
