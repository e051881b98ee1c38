import CommunityInsights

/// Decides what a node writes to its database as its statistics change (pure; the node performs the writes).
///
/// The user's own score is written once per epoch, when the first comparison of that epoch arrives. The network's
/// aggregate estimate is written at most once per epoch: the last shown estimate of an epoch is kept in memory and
/// written when the next epoch's statistics arrive, or when the node stops (``finish()``). Only aggregate figures and
/// the user's own score are ever written: no peer id, address or report.
struct NodeHistoryRecorder: Sendable {
    /// A write the node has to perform.
    enum Write: Hashable, Sendable {
        /// The user's own score of an epoch.
        case ownScore(OwnScoreRecord)
        /// An epoch's aggregate estimate.
        case snapshot(AggregateSnapshot)
    }

    private var ownScoreEpoch: Int?
    private var pending: AggregateSnapshot?

    /// The writes due when the statistics of `epoch` change: the network `average` from `participants` score
    /// reports, and the user's own score when there is a local report.
    mutating func statisticsChanged(
        average: Displayed<Estimate>,
        participants: Int,
        userScore: Int?,
        epoch: Int
    ) -> [Write] {
        var writes: [Write] = []
        if let userScore, self.ownScoreEpoch != epoch {
            self.ownScoreEpoch = epoch
            writes.append(.ownScore(OwnScoreRecord(epoch: epoch, score: userScore)))
        }
        if let pending = self.pending, pending.epoch != epoch {
            writes.append(.snapshot(pending))
            self.pending = nil
        }
        if case .shown(let estimate) = average {
            self.pending = AggregateSnapshot(epoch: epoch, participants: participants, averageScore: estimate)
        }
        return writes
    }

    /// The writes due when the node stops: the current epoch's last estimate, if one was shown.
    mutating func finish() -> [Write] {
        defer { self.pending = nil }
        return self.pending.map { [.snapshot($0)] } ?? []
    }
}
