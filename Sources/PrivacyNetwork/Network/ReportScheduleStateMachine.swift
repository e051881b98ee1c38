import Foundation
import PrivacyCore

/// When this node's own reports leave it (privacy-design.md, "Wire reports"): each report of an epoch's
/// ``EpochPlan`` is minted (proof of work) in the background and handed to the stem relay at its own random
/// moment of the epoch. Pure: the caller passes `now`, the randomness, and carries out the actions.
///
/// - An epoch is planned at most once: a report cancelled because sharing was turned off is not replaced in
///   that epoch, so a user never sends more than the plan's two reports per epoch.
/// - A planned moment already past when the plan is made (the node joined mid-epoch) is drawn again,
///   uniformly in the rest of the epoch, so a report never leaves at the moment the node starts.
/// - A report whose moment has come but whose proof of work is not finished leaves when the work finishes.
struct ReportScheduleStateMachine {
    /// One planned report.
    struct EntryID: Hashable, Sendable, Comparable {
        /// The epoch of the plan.
        var epoch: UInt32
        /// The position in the plan.
        var index: Int

        static func < (lhs: EntryID, rhs: EntryID) -> Bool {
            (lhs.epoch, lhs.index) < (rhs.epoch, rhs.index)
        }
    }

    private enum EntryState {
        /// Proof of work running; `due` once its moment has come.
        case minting(sendAt: Date, type: ReportType, due: Bool)
        /// Minted, waiting for its moment.
        case ready(sendAt: Date, envelope: ReportEnvelope)
    }

    /// What to do after a plan was made.
    struct PlanAction: Hashable, Sendable {
        /// Reports to mint in the background, each with its entry.
        var mint: [EntryID: ReportEnvelope]
        /// The moment of each entry.
        var sendAt: [EntryID: Date]
    }

    /// A report to hand to the stem relay now.
    struct Send: Hashable, Sendable {
        /// The entry.
        var id: EntryID
        /// The minted envelope.
        var envelope: ReportEnvelope
    }

    private var entries: [EntryID: EntryState] = [:]
    private var plannedEpochs: Set<UInt32> = []
    /// The types already sent, per epoch (the user interface says what was already sent).
    private(set) var sent: [UInt32: [ReportType]] = [:]

    /// Whether `epoch` has been planned already.
    func hasPlanned(_ epoch: UInt32) -> Bool { self.plannedEpochs.contains(epoch) }

    /// The number of planned reports not yet sent.
    var pendingCount: Int { self.entries.count }

    /// Takes `plan` (made for its epoch) and returns what to mint and when each report leaves.
    /// - Parameters:
    ///   - plan: the epoch's plan; ignored (empty action) if that epoch was planned before.
    ///   - now: the current time.
    ///   - epochEnd: the first instant after the plan's epoch.
    ///   - rng: draws new moments for moments already past.
    mutating func planned(
        _ plan: EpochPlan,
        now: Date,
        epochEnd: Date,
        using rng: inout some RandomNumberGenerator
    ) -> PlanAction {
        var action = PlanAction(mint: [:], sendAt: [:])
        guard self.plannedEpochs.insert(plan.epoch).inserted else { return action }
        for (index, entry) in plan.entries.enumerated() {
            let id = EntryID(epoch: plan.epoch, index: index)
            var sendAt = entry.sendAt
            if sendAt < now {
                let remaining = max(0, epochEnd.timeIntervalSince(now))
                let fraction = Double(rng.next() >> 11) * 0x1.0p-53
                sendAt = now.addingTimeInterval((fraction * remaining * 1000).rounded(.down) / 1000)
            }
            guard let envelope = try? ReportEnvelope(epoch: plan.epoch, report: entry.report) else {
                // The randomizers only produce in-domain values; an entry that cannot be enveloped is skipped.
                continue
            }
            self.entries[id] = .minting(sendAt: sendAt, type: entry.report.type, due: false)
            action.mint[id] = envelope
            action.sendAt[id] = sendAt
        }
        return action
    }

    /// The proof of work of `id` finished. Returns the report to send now if its moment has come.
    mutating func minted(_ id: EntryID, envelope: ReportEnvelope, now: Date) -> Send? {
        guard case .minting(let sendAt, _, let due) = self.entries[id] else { return nil }
        if due || sendAt <= now {
            self.entries[id] = nil
            self.sent[id.epoch, default: []].append(envelope.report.type)
            return Send(id: id, envelope: envelope)
        }
        self.entries[id] = .ready(sendAt: sendAt, envelope: envelope)
        return nil
    }

    /// The proof of work of `id` failed (it was cancelled); the report is dropped.
    mutating func mintFailed(_ id: EntryID) {
        self.entries[id] = nil
    }

    /// Time passed: returns the minted reports whose moment has come, in plan order, and marks the ones
    /// still minting as due.
    mutating func tick(now: Date) -> [Send] {
        var sends: [Send] = []
        for id in self.entries.keys.sorted() {
            switch self.entries[id] {
            case .ready(let sendAt, let envelope) where sendAt <= now:
                self.entries[id] = nil
                self.sent[id.epoch, default: []].append(envelope.report.type)
                sends.append(Send(id: id, envelope: envelope))
            case .minting(let sendAt, let type, false) where sendAt <= now:
                self.entries[id] = .minting(sendAt: sendAt, type: type, due: true)
            default:
                break
            }
        }
        return sends
    }

    /// Sharing stopped: every report not yet sent is cancelled. Returns the cancelled entries (their proof
    /// of work must be stopped).
    mutating func cancelAll() -> [EntryID] {
        let cancelled = self.entries.keys.sorted()
        self.entries.removeAll()
        return cancelled
    }

    /// Forgets the bookkeeping of epochs before `epoch` (they can no longer be planned or sent).
    mutating func forget(before epoch: UInt32) {
        self.plannedEpochs = self.plannedEpochs.filter { $0 >= epoch }
        self.sent = self.sent.filter { $0.key >= epoch }
        self.entries = self.entries.filter { $0.key.epoch >= epoch }
    }
}
