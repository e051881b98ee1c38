import CommunityInsights

/// The per-epoch report counts (``ReportTally``) of epochs whose raw reports were dropped, for the
/// sub-population figures pooled over the last few epochs (``CommunityEstimates/pooledTally``).
///
/// Aggregates only, in memory: raw reports live for the current and previous epoch (privacy-design.md,
/// "Storage"); a tally holds counts per randomized value, never a report.
struct EpochTallyHistory: Sendable {
    /// How many epochs are kept.
    let capacity: Int
    private var tallies: [UInt32: ReportTally] = [:]

    /// A history keeping the newest `capacity` epochs.
    init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// Keeps `tally` as the counts of `epoch`, forgetting the oldest epochs beyond the capacity.
    mutating func record(_ tally: ReportTally, epoch: UInt32) {
        guard self.capacity > 0 else { return }
        self.tallies[epoch] = tally
        while self.tallies.count > self.capacity, let oldest = self.tallies.keys.min() {
            self.tallies[oldest] = nil
        }
    }

    /// The kept counts of `epoch`.
    func tally(of epoch: UInt32) -> ReportTally? { self.tallies[epoch] }

    /// The counts of the `epochs` epochs ending with `last`, each from `live` (epochs whose reports are still held)
    /// or else from the history, with the number of epochs that had any.
    func pooled(
        endingWith last: UInt32,
        epochs: Int,
        live: (UInt32) -> ReportTally?
    ) -> (tally: ReportTally, epochs: Int) {
        var pooled = ReportTally()
        var found = 0
        for offset in 0..<UInt32(max(epochs, 1)) where offset <= last {
            let epoch = last - offset
            guard let tally = live(epoch) ?? self.tallies[epoch] else { continue }
            pooled.merge(tally)
            found += 1
        }
        return (pooled, max(found, 1))
    }
}
