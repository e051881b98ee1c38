public import PrivacyCore

/// The accepted reports a node holds in memory (privacy-design.md, "Storage"): those of the current and the
/// previous epoch only, deduplicated by content id, at most ``capacityPerEpoch`` per epoch. Older epochs are
/// dropped when the epoch advances. Nothing here is ever written to disk.
public struct ReportPool: Sendable {
    /// What ``insert(_:id:currentEpoch:)`` did.
    public enum InsertResult: Hashable, Sendable {
        /// The report is new and kept.
        case inserted
        /// The pool already holds this report.
        case duplicate
        /// The report's epoch is neither the current nor the previous one.
        case wrongEpoch
        /// The report's epoch holds ``ReportPool/capacityPerEpoch`` reports already.
        case full
    }

    /// The default bound per epoch.
    public static let defaultCapacityPerEpoch = 50_000

    /// The most reports kept per epoch.
    public let capacityPerEpoch: Int
    /// The newest epoch the pool was advanced to (reports of it and of the one before are kept).
    public private(set) var currentEpoch: UInt32?
    private var byEpoch: [UInt32: [ReportEnvelope]] = [:]
    private var ids: [UInt32: Set<ReportID>] = [:]

    /// An empty pool keeping at most `capacityPerEpoch` (at least 1) reports per epoch.
    public init(capacityPerEpoch: Int = Self.defaultCapacityPerEpoch) {
        self.capacityPerEpoch = max(1, capacityPerEpoch)
    }

    /// Moves to `epoch` (never backwards) and drops every report older than the previous epoch.
    public mutating func advance(to epoch: UInt32) {
        if let current = self.currentEpoch, epoch <= current { return }
        self.currentEpoch = epoch
        for stored in Array(self.byEpoch.keys) where !Self.isKept(stored, current: epoch) {
            self.byEpoch[stored] = nil
            self.ids[stored] = nil
        }
    }

    /// Adds an accepted report, first advancing to `currentEpoch`.
    @discardableResult
    public mutating func insert(_ envelope: ReportEnvelope, id: ReportID, currentEpoch: UInt32) -> InsertResult {
        self.advance(to: currentEpoch)
        let epoch = envelope.epoch
        guard let current = self.currentEpoch, Self.isKept(epoch, current: current) else { return .wrongEpoch }
        if self.ids[epoch]?.contains(id) == true { return .duplicate }
        guard self.byEpoch[epoch, default: []].count < self.capacityPerEpoch else { return .full }
        self.byEpoch[epoch, default: []].append(envelope)
        self.ids[epoch, default: []].insert(id)
        return .inserted
    }

    /// Whether the pool holds the report `id`.
    public func contains(_ id: ReportID) -> Bool {
        self.ids.values.contains { $0.contains(id) }
    }

    /// The number of reports of `epoch`.
    public func count(epoch: UInt32) -> Int {
        self.byEpoch[epoch]?.count ?? 0
    }

    /// The reports of `epoch`, in arrival order, for the estimators (``CommunityEstimates``).
    public func reports(epoch: UInt32) -> [WireReport] {
        (self.byEpoch[epoch] ?? []).map(\.report)
    }

    /// The envelopes of `epochs` (in the order given, each in arrival order), at most `limit` in all.
    public func envelopes(epochs: [UInt32], limit: Int) -> [ReportEnvelope] {
        var result: [ReportEnvelope] = []
        for epoch in epochs where result.count < limit {
            let stored = self.byEpoch[epoch] ?? []
            result.append(contentsOf: stored.prefix(limit - result.count))
        }
        return result
    }

    /// The epochs that hold at least one report, oldest first.
    public var epochs: [UInt32] {
        self.byEpoch.keys.sorted()
    }

    private static func isKept(_ epoch: UInt32, current: UInt32) -> Bool {
        ReportValidator.isInEpochWindow(epoch, current: current)
    }
}
