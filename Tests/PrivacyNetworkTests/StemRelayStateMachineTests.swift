import NIOCore
import PrivacyCore
import TestSupport
import Testing

@testable import PrivacyNetwork

@Suite("StemRelayStateMachine") struct StemRelayStateMachineTests {
    typealias Machine = StemRelayStateMachine<Int>

    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(fluff: Double = 0.1, peers: [Int] = [1, 2, 3], rng: inout SplitMix64) throws -> Machine {
        var machine = Machine(configuration: try StemRelayConfiguration(fluffProbability: fluff))
        for peer in peers {
            _ = machine.peerConnected(peer, isOutbound: true, now: self.start, using: &rng)
        }
        _ = machine.tick(now: self.start, using: &rng)
        return machine
    }

    /// A machine that is not a diffuser in its first epoch (found by trying seeds, so the test is deterministic).
    func relayingMachine(peers: [Int] = [1, 2, 3]) throws -> (Machine, SplitMix64) {
        for seed in UInt64(0)..<100 {
            var rng = SplitMix64(seed: seed)
            let machine = try self.machine(peers: peers, rng: &rng)
            if !machine.isDiffuser { return (machine, rng) }
        }
        throw PrivacyNetworkError(.invalidArgument, "no relaying seed")
    }

    func report(_ seed: UInt64) -> (ReportEnvelope, ReportID) {
        let envelope = try! ReportEnvelope(epoch: 1, report: .score(decile: 2), nonce: seed)
        return (envelope, ReportID(envelope))
    }

    @Test("The configuration refuses a fluff probability outside 0.1–0.2 and a relay count outside 1–2")
    func configurationRange() {
        #expect(throws: PrivacyNetworkError.self) { try StemRelayConfiguration(fluffProbability: 0.05) }
        #expect(throws: PrivacyNetworkError.self) { try StemRelayConfiguration(fluffProbability: 0.5) }
        #expect(throws: PrivacyNetworkError.self) { try StemRelayConfiguration(relayCount: 3) }
        #expect(throws: PrivacyNetworkError.self) { try StemRelayConfiguration(embargoMean: .zero) }
        #expect((try? StemRelayConfiguration(fluffProbability: 0.2)) != nil)
    }

    @Test("The first epoch starts with a report or a tick, then two relays are drawn among the outbound peers only")
    func relaysAreOutbound() throws {
        var rng = SplitMix64(seed: 1)
        var machine = Machine(configuration: try StemRelayConfiguration())
        _ = machine.peerConnected(9, isOutbound: false, now: self.start, using: &rng)
        _ = machine.peerConnected(1, isOutbound: true, now: self.start, using: &rng)
        _ = machine.peerConnected(8, isOutbound: false, now: self.start, using: &rng)
        _ = machine.peerConnected(2, isOutbound: true, now: self.start, using: &rng)
        _ = machine.peerConnected(3, isOutbound: true, now: self.start, using: &rng)
        #expect(machine.relays.isEmpty)
        _ = machine.tick(now: self.start, using: &rng)
        #expect(machine.relays.count == 2)
        #expect(Set(machine.relays).isSubset(of: [1, 2, 3]))
    }

    @Test("The author's own report goes to a relay on the stem with an embargo, never fluffed first")
    func ownReportStems() throws {
        var (machine, rng) = try self.relayingMachine()
        let (envelope, id) = self.report(1)
        let actions = machine.ownReport(envelope, id: id, now: self.start, using: &rng)
        let relay = try #require(machine.ownRoute)
        #expect(machine.relays.contains(relay))
        #expect(actions.contains(.sendStem(envelope, id: id, to: relay)))
        #expect(!actions.contains { if case .fluff = $0 { true } else { false } })
        guard case .scheduleEmbargo(id, let deadline) = try #require(actions.first) else {
            Issue.record("no embargo scheduled: \(actions)")
            return
        }
        #expect(deadline > self.start)
    }

    @Test("A diffuser's own report still goes on the stem")
    func diffuserOwnReportStems() throws {
        for seed in UInt64(0)..<200 {
            var rng = SplitMix64(seed: seed)
            var machine = try self.machine(rng: &rng)
            guard machine.isDiffuser else { continue }
            let (envelope, id) = self.report(1)
            let actions = machine.ownReport(envelope, id: id, now: self.start, using: &rng)
            #expect(actions.contains { if case .sendStem = $0 { true } else { false } })
            #expect(!actions.contains { if case .fluff = $0 { true } else { false } })
            return
        }
        Issue.record("no seed made a diffuser")
    }

    @Test("With no relay the author waits, sends when an outbound peer connects, and fluffs only after its embargo")
    func ownReportWaitsForRelay() throws {
        var rng = SplitMix64(seed: 3)
        var machine = Machine(configuration: try StemRelayConfiguration())
        let (envelope, id) = self.report(1)
        let actions = machine.ownReport(envelope, id: id, now: self.start, using: &rng)
        #expect(actions.count == 1)
        guard case .scheduleEmbargo(id, let deadline) = try #require(actions.first) else {
            Issue.record("expected only an embargo, got \(actions)")
            return
        }
        #expect(machine.peerConnected(5, isOutbound: false, now: self.start, using: &rng).isEmpty)
        #expect(
            machine.peerConnected(6, isOutbound: true, now: self.start, using: &rng)
                == [.sendStem(envelope, id: id, to: 6)]
        )
        #expect(machine.embargoExpired(id, now: deadline) == [.fluff(envelope, id: id)])
        #expect(machine.heldCount == 0)
    }

    @Test("An author with no relay at all fluffs its report when the embargo fires")
    func ownReportEmbargoWithoutRelay() throws {
        var rng = SplitMix64(seed: 3)
        var machine = Machine(configuration: try StemRelayConfiguration())
        let (envelope, id) = self.report(1)
        guard
            case .scheduleEmbargo(_, let deadline) = machine.ownReport(envelope, id: id, now: self.start, using: &rng)
                .first
        else {
            Issue.record("no embargo")
            return
        }
        #expect(machine.embargoExpired(id, now: deadline - .nanoseconds(1)) == [.scheduleEmbargo(id, at: deadline)])
        #expect(machine.embargoExpired(id, now: deadline) == [.fluff(envelope, id: id)])
        #expect(machine.embargoExpired(id, now: deadline).isEmpty)
    }

    @Test("Reports from one inbound peer always take the same relay within an epoch")
    func pseudorandomForwarding() throws {
        var (machine, rng) = try self.relayingMachine()
        var relayOf: [Int: Set<Int>] = [:]
        for index in 0..<40 {
            let sender = 10 + index % 4
            let (envelope, id) = self.report(UInt64(index))
            for action in machine.stemReceived(envelope, id: id, from: sender, now: self.start, using: &rng) {
                if case .sendStem(_, _, let relay) = action { relayOf[sender, default: []].insert(relay) }
            }
        }
        #expect(relayOf.count == 4)
        for relays in relayOf.values { #expect(relays.count == 1) }
        #expect(Set(relayOf.values.flatMap { $0 }).isSubset(of: Set(machine.relays)))
    }

    @Test("A relayed report is held with an embargo, cancelled when it is seen in gossip")
    func gossipCancelsEmbargo() throws {
        var (machine, rng) = try self.relayingMachine()
        let (envelope, id) = self.report(7)
        let actions = machine.stemReceived(envelope, id: id, from: 42, now: self.start, using: &rng)
        #expect(actions.count == 2)
        #expect(machine.heldCount == 1)
        #expect(machine.seenInGossip(id) == [.cancelEmbargo(id)])
        #expect(machine.heldCount == 0)
        #expect(machine.embargoExpired(id, now: self.start + .hours(1)).isEmpty)
        #expect(machine.stemReceived(envelope, id: id, from: 43, now: self.start, using: &rng).isEmpty)
    }

    @Test("A duplicate stem copy of a held report does nothing")
    func duplicateStem() throws {
        var (machine, rng) = try self.relayingMachine()
        let (envelope, id) = self.report(7)
        _ = machine.stemReceived(envelope, id: id, from: 42, now: self.start, using: &rng)
        #expect(machine.stemReceived(envelope, id: id, from: 43, now: self.start, using: &rng).isEmpty)
    }

    @Test("A diffuser fluffs every stem report it receives")
    func diffuserFluffs() throws {
        for seed in UInt64(0)..<200 {
            var rng = SplitMix64(seed: seed)
            var machine = try self.machine(fluff: 0.2, rng: &rng)
            guard machine.isDiffuser else { continue }
            let (envelope, id) = self.report(1)
            #expect(
                machine.stemReceived(envelope, id: id, from: 42, now: self.start, using: &rng) == [
                    .fluff(envelope, id: id)
                ]
            )
            return
        }
        Issue.record("no seed made a diffuser")
    }

    @Test("The diffuser share over many epochs is close to the fluff probability")
    func diffuserShare() throws {
        var rng = SplitMix64(seed: 11)
        var machine = try self.machine(fluff: 0.2, rng: &rng)
        var now = self.start
        var diffuser = 0
        let epochs = 4000
        for _ in 0..<epochs {
            now = now + .minutes(10)
            _ = machine.tick(now: now, using: &rng)
            if machine.isDiffuser { diffuser += 1 }
        }
        let share = Double(diffuser) / Double(epochs)
        #expect(abs(share - 0.2) < 0.025)
    }

    @Test("A relay that disconnects is replaced by another outbound peer and its routes are redrawn")
    func relayReplaced() throws {
        var (machine, rng) = try self.relayingMachine(peers: [1, 2, 3, 4])
        let (envelope, id) = self.report(1)
        _ = machine.stemReceived(envelope, id: id, from: 50, now: self.start, using: &rng)
        let gone = try #require(machine.route(from: 50))
        _ = machine.peerDisconnected(gone, now: self.start, using: &rng)
        #expect(machine.relays.count == 2)
        #expect(!machine.relays.contains(gone))
        #expect(machine.route(from: 50) == nil)
        #expect(!machine.outboundCandidates.contains(gone))
    }

    @Test(
        "When the own reports' relay disconnects, the next own report of the epoch goes to another relay",
        arguments: [[1, 2, 3, 4], [1, 2]]
    )
    func ownRelayReplaced(peers: [Int]) throws {
        var (machine, rng) = try self.relayingMachine(peers: peers)
        let epochRelays = Set(machine.relays)
        let (first, firstID) = self.report(1)
        _ = machine.ownReport(first, id: firstID, now: self.start, using: &rng)
        let gone = try #require(machine.ownRoute)
        _ = machine.peerDisconnected(gone, now: self.start + .seconds(1), using: &rng)
        // Still the same stem epoch: only the lost relay is replaced (by a spare outbound peer, if any).
        #expect(machine.relays.count == min(2, peers.count - 1))
        #expect(!machine.relays.contains(gone))
        #expect(Set(machine.relays).subtracting([gone]).isSuperset(of: epochRelays.subtracting([gone])))
        let (second, secondID) = self.report(2)
        let actions = machine.ownReport(second, id: secondID, now: self.start + .seconds(2), using: &rng)
        let sentTo = actions.compactMap { action -> Int? in
            guard case .sendStem(let envelope, let id, let relay) = action, envelope == second, id == secondID else {
                return nil
            }
            return relay
        }
        #expect(sentTo.count == 1)
        let next = try #require(sentTo.first)
        #expect(next != gone)
        #expect(machine.relays.contains(next))
        #expect(machine.ownRoute == next)
        // The first report stays held under its embargo (its send to the lost relay is left to it).
        #expect(machine.heldCount == 2)
    }

    @Test("A relayed report goes to the other relay rather than back to its sender")
    func noSendBack() throws {
        var (machine, rng) = try self.relayingMachine(peers: [1, 2])
        for (index, sender) in [1, 2].enumerated() {
            let (envelope, id) = self.report(UInt64(index))
            _ = machine.stemReceived(envelope, id: id, from: sender, now: self.start, using: &rng)
            #expect(machine.route(from: sender) == (sender == 1 ? 2 : 1))
        }
    }

    @Test("A node with no relay fluffs a stem report instead of dropping it")
    func noRelayFluffs() throws {
        for seed in UInt64(0)..<100 {
            var rng = SplitMix64(seed: seed)
            var machine = try self.machine(peers: [], rng: &rng)
            let (envelope, id) = self.report(1)
            guard !machine.isDiffuser else { continue }
            #expect(
                machine.stemReceived(envelope, id: id, from: 42, now: self.start, using: &rng) == [
                    .fluff(envelope, id: id)
                ]
            )
            return
        }
    }

    @Test("A new stem epoch redraws the relays and forgets the routes")
    func epochRoll() throws {
        var (machine, rng) = try self.relayingMachine(peers: Array(1...12))
        var relaySets: Set<[Int]> = [Set(machine.relays).sorted()]
        var now = self.start
        for _ in 0..<10 {
            now = now + .minutes(10)
            _ = machine.tick(now: now, using: &rng)
            #expect(machine.ownRoute == nil)
            #expect(machine.relays.count == 2)
            relaySets.insert(Set(machine.relays).sorted())
        }
        #expect(relaySets.count > 3)
        #expect(machine.nextEpochChange == now + .minutes(10))
    }

    @Test("Embargo delays are exponential with the configured mean")
    func embargoMean() throws {
        var rng = SplitMix64(seed: 5)
        var machine = Machine(configuration: try StemRelayConfiguration(embargoMean: .seconds(30)))
        var total = 0.0
        let count = 4000
        for index in 0..<count {
            let (envelope, id) = self.report(UInt64(index))
            for case .scheduleEmbargo(_, let deadline) in machine.ownReport(
                envelope,
                id: id,
                now: self.start,
                using: &rng
            ) {
                total += Double((deadline - self.start).nanoseconds) / 1e9
            }
        }
        #expect(abs(total / Double(count) - 30) < 1.5)
    }
}

@Suite("StemRelayConfiguration scaled to the report epoch")
struct StemRelayConfigurationScalingTests {
    @Test("The embargo mean is min(30 s, epoch / 20) and the stem epoch min(10 min, epoch)")
    func scaling() throws {
        let minute = StemRelayConfiguration.scaled(toEpochLengthSeconds: 60)
        #expect(minute.embargoMean == .seconds(3))
        #expect(minute.stemEpochLength == .seconds(60))
        let tenMinutes = StemRelayConfiguration.scaled(toEpochLengthSeconds: 600)
        #expect(tenMinutes.embargoMean == .seconds(30))
        #expect(tenMinutes.stemEpochLength == .minutes(10))
        let week = StemRelayConfiguration.scaled(toEpochLengthSeconds: 7 * 24 * 3600)
        #expect(week == (try StemRelayConfiguration()))
        // Very short (test) epochs keep a positive embargo.
        #expect(StemRelayConfiguration.scaled(toEpochLengthSeconds: 0).embargoMean == .milliseconds(50))
    }
}
