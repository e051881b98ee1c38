import Foundation
import PrivacyCore
import TestSupport
import Testing

@testable import PrivacyNetwork

@Suite("Report schedule")
struct ReportScheduleStateMachineTests {
    private let schedule = SyntheticCommunity.parameters.schedule
    private let epoch: UInt32 = 5_000

    private func plan(seed: UInt64) -> EpochPlan {
        var rng = SeededGenerator(seed: seed)
        let user = SyntheticPopulation(count: 1, seed: seed).users[0]
        return EpochPlan(
            epoch: self.epoch,
            schedule: self.schedule,
            settings: user.sharingSettings,
            truth: user.trueReportValues(),
            secret: RandomizerSecret.generate(using: &rng),
            using: &rng
        )
    }

    private func envelope(_ report: WireReport) throws -> ReportEnvelope {
        try ReportEnvelope(epoch: self.epoch, report: report, nonce: 7)
    }

    @Test("A plan made at the epoch's start keeps its moments and mints both reports")
    func keepsMoments() {
        var machine = ReportScheduleStateMachine()
        var rng = SeededGenerator(seed: 1)
        let plan = self.plan(seed: 11)
        let start = self.schedule.start(of: self.epoch)
        let action = machine.planned(plan, now: start, epochEnd: self.schedule.end(of: self.epoch), using: &rng)
        #expect(action.mint.count == 2)
        #expect(action.sendAt.keys.sorted().map(\.index) == [0, 1])
        for (id, sendAt) in action.sendAt {
            #expect(sendAt == plan.entries[id.index].sendAt)
        }
        #expect(machine.pendingCount == 2)
    }

    @Test("Moments already past are drawn again inside the rest of the epoch")
    func redrawsPast() {
        for seed in UInt64(1)...40 {
            var machine = ReportScheduleStateMachine()
            var rng = SeededGenerator(seed: seed)
            let plan = self.plan(seed: seed)
            let end = self.schedule.end(of: self.epoch)
            let now = end.addingTimeInterval(-30)
            let action = machine.planned(plan, now: now, epochEnd: end, using: &rng)
            for sendAt in action.sendAt.values {
                #expect(sendAt >= now)
                #expect(sendAt < end)
            }
        }
    }

    @Test("An epoch is planned only once")
    func planOnce() {
        var machine = ReportScheduleStateMachine()
        var rng = SeededGenerator(seed: 2)
        let start = self.schedule.start(of: self.epoch)
        let end = self.schedule.end(of: self.epoch)
        _ = machine.planned(self.plan(seed: 3), now: start, epochEnd: end, using: &rng)
        let again = machine.planned(self.plan(seed: 4), now: start, epochEnd: end, using: &rng)
        #expect(again.mint.isEmpty)
        #expect(machine.pendingCount == 2)
        #expect(machine.hasPlanned(self.epoch))
    }

    @Test("A minted report waits for its moment, then leaves on the tick")
    func waitsForMoment() throws {
        var machine = ReportScheduleStateMachine()
        var rng = SeededGenerator(seed: 5)
        let plan = self.plan(seed: 5)
        let start = self.schedule.start(of: self.epoch)
        let action = machine.planned(plan, now: start, epochEnd: self.schedule.end(of: self.epoch), using: &rng)
        let first = try #require(action.sendAt.min { $0.value < $1.value })
        let minted = try self.envelope(plan.entries[first.key.index].report)
        #expect(machine.minted(first.key, envelope: minted, now: start) == nil)
        #expect(machine.tick(now: first.value.addingTimeInterval(-0.001)).isEmpty)
        let sends = machine.tick(now: first.value)
        #expect(sends == [ReportScheduleStateMachine.Send(id: first.key, envelope: minted)])
        #expect(machine.sent[self.epoch] == [minted.report.type])
        #expect(machine.tick(now: first.value).isEmpty)
    }

    @Test("A report whose moment came during its proof of work leaves when the work finishes")
    func dueWhileMinting() throws {
        var machine = ReportScheduleStateMachine()
        var rng = SeededGenerator(seed: 6)
        let plan = self.plan(seed: 6)
        let start = self.schedule.start(of: self.epoch)
        let action = machine.planned(plan, now: start, epochEnd: self.schedule.end(of: self.epoch), using: &rng)
        let late = self.schedule.end(of: self.epoch).addingTimeInterval(-0.001)
        #expect(machine.tick(now: late).isEmpty)
        for id in action.mint.keys.sorted() {
            let minted = try self.envelope(plan.entries[id.index].report)
            #expect(machine.minted(id, envelope: minted, now: late)?.envelope == minted)
        }
        #expect(machine.pendingCount == 0)
        #expect(machine.sent[self.epoch]?.count == 2)
    }

    @Test("Cancelling drops every unsent report, minted or not, and they never leave")
    func cancel() throws {
        var machine = ReportScheduleStateMachine()
        var rng = SeededGenerator(seed: 7)
        let plan = self.plan(seed: 7)
        let start = self.schedule.start(of: self.epoch)
        let action = machine.planned(plan, now: start, epochEnd: self.schedule.end(of: self.epoch), using: &rng)
        let ids = action.mint.keys.sorted()
        _ = machine.minted(ids[0], envelope: try self.envelope(plan.entries[0].report), now: start)
        #expect(machine.cancelAll() == ids)
        #expect(machine.pendingCount == 0)
        #expect(machine.tick(now: self.schedule.end(of: self.epoch)).isEmpty)
        #expect(machine.minted(ids[1], envelope: try self.envelope(plan.entries[1].report), now: start) == nil)
        #expect(machine.sent[self.epoch] == nil)
    }

    @Test("A failed proof of work drops its report")
    func mintFailed() {
        var machine = ReportScheduleStateMachine()
        var rng = SeededGenerator(seed: 8)
        let action = machine.planned(
            self.plan(seed: 8),
            now: self.schedule.start(of: self.epoch),
            epochEnd: self.schedule.end(of: self.epoch),
            using: &rng
        )
        machine.mintFailed(action.mint.keys.sorted()[0])
        #expect(machine.pendingCount == 1)
    }
}
