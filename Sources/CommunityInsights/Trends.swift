/// The aggregate figures of one past epoch, kept for trends (storage is another module's job).
///
/// It holds estimates only, never a report: privacy-design.md ("Storage") allows per-epoch aggregate
/// estimates on disk.
public struct AggregateSnapshot: Hashable, Sendable, Codable {
    /// The epoch number.
    public var epoch: Int
    /// Score reports in the epoch.
    public var participants: Int
    /// The estimated average score (points) with its interval.
    public var averageScore: Estimate

    /// Creates a snapshot from its parts.
    public init(epoch: Int, participants: Int, averageScore: Estimate) {
        self.epoch = epoch
        self.participants = participants
        self.averageScore = averageScore
    }

    /// The snapshot of an epoch's estimates.
    public init(epoch: Int, estimates: CommunityEstimates) {
        self.init(epoch: epoch, participants: estimates.participants, averageScore: estimates.score.average)
    }
}

/// The user's own score in one epoch (kept only on the user's device).
public struct OwnScoreRecord: Hashable, Sendable, Codable {
    /// The epoch number.
    public var epoch: Int
    /// The exact local score.
    public var score: Int

    /// Creates a record.
    public init(epoch: Int, score: Int) {
        self.epoch = epoch
        self.score = score
    }
}

/// Which way a figure moved, claimed only when the change exceeds its 95% interval.
public enum TrendDirection: String, Hashable, Sendable, Codable {
    /// The figure rose by more than its interval.
    case up
    /// The figure fell by more than its interval.
    case down
    /// The change is within the noise: nothing is claimed.
    case noClearChange = "no_clear_change"
}

/// A change of the network average between epochs.
public struct ScoreTrend: Hashable, Sendable, Codable {
    /// First epoch compared.
    public var fromEpoch: Int
    /// Last epoch compared.
    public var toEpoch: Int
    /// Change of the average in points, with its 95% interval.
    public var change: Estimate
    /// Change relative to the earlier average, in percent.
    public var relativeChangePercent: Double
    /// The direction, `.noClearChange` unless the interval excludes zero.
    public var direction: TrendDirection

    /// Creates a trend.
    public init(
        fromEpoch: Int,
        toEpoch: Int,
        change: Estimate,
        relativeChangePercent: Double,
        direction: TrendDirection
    ) {
        self.fromEpoch = fromEpoch
        self.toEpoch = toEpoch
        self.change = change
        self.relativeChangePercent = relativeChangePercent
        self.direction = direction
    }
}

/// The user's own score change between their last two recorded epochs (exact: no interval).
public struct OwnScoreTrend: Hashable, Sendable, Codable {
    /// Earlier epoch.
    public var fromEpoch: Int
    /// Later epoch.
    public var toEpoch: Int
    /// Change in points.
    public var change: Int

    /// Creates an own-score trend.
    public init(fromEpoch: Int, toEpoch: Int, change: Int) {
        self.fromEpoch = fromEpoch
        self.toEpoch = toEpoch
        self.change = change
    }

    /// `.up`, `.down`, or `.noClearChange` when unchanged.
    public var direction: TrendDirection { self.change > 0 ? .up : (self.change < 0 ? .down : .noClearChange) }
}

/// Trends across epochs from stored snapshots.
///
/// Two epochs' estimates are independent (different reports), so the change of the average has
/// standard error `√(se₁² + se₂²)`; across several epochs the trend is the weighted least-squares
/// slope (weights `1/se²`) with standard error `1/√Σ w (x − x̄)²`. Epochs with fewer score reports
/// than the policy's network minimum are skipped.
public struct TrendAnalysis: Hashable, Sendable {
    /// The thresholds; snapshots below the network minimum are ignored.
    public var policy: DisplayPolicy

    /// Creates an analysis.
    public init(policy: DisplayPolicy = .standard) {
        self.policy = policy
    }

    /// The change between the latest two usable epochs ("network average up 15% this week").
    public func latestChange(_ snapshots: [AggregateSnapshot]) -> ScoreTrend? {
        let usable = self.usable(snapshots)
        guard usable.count >= 2 else { return nil }
        let before = usable[usable.count - 2]
        let after = usable[usable.count - 1]
        let difference = after.averageScore.value - before.averageScore.value
        let se = (Self.square(before.averageScore.standardError) + Self.square(after.averageScore.standardError))
            .squareRoot()
        return self.trend(
            from: before,
            to: after,
            change: difference,
            standardError: se,
            reports: before.participants + after.participants
        )
    }

    /// The trend over all usable epochs ("privacy scores in your network trending upward"), as the
    /// fitted change from the first to the last of them; needs at least three epochs.
    public func overallTrend(_ snapshots: [AggregateSnapshot]) -> ScoreTrend? {
        let usable = self.usable(snapshots)
        guard usable.count >= 3 else { return nil }
        let weights = usable.map { 1 / max(Self.square($0.averageScore.standardError), 1e-12) }
        let xs = usable.map { Double($0.epoch) }
        let ys = usable.map(\.averageScore.value)
        let totalWeight = weights.reduce(0, +)
        let meanX = zip(weights, xs).reduce(0) { $0 + $1.0 * $1.1 } / totalWeight
        let meanY = zip(weights, ys).reduce(0) { $0 + $1.0 * $1.1 } / totalWeight
        var sxx = 0.0
        var sxy = 0.0
        for index in usable.indices {
            sxx += weights[index] * Self.square(xs[index] - meanX)
            sxy += weights[index] * (xs[index] - meanX) * (ys[index] - meanY)
        }
        guard sxx > 0 else { return nil }
        let span = xs.last! - xs.first!
        let slope = sxy / sxx
        return self.trend(
            from: usable.first!,
            to: usable.last!,
            change: slope * span,
            standardError: span / sxx.squareRoot(),
            reports: usable.reduce(0) { $0 + $1.participants }
        )
    }

    /// The user's own change between their last two records (by epoch).
    public func ownScoreChange(_ history: [OwnScoreRecord]) -> OwnScoreTrend? {
        let sorted = history.sorted { $0.epoch < $1.epoch }
        guard sorted.count >= 2 else { return nil }
        let before = sorted[sorted.count - 2]
        let after = sorted[sorted.count - 1]
        return OwnScoreTrend(fromEpoch: before.epoch, toEpoch: after.epoch, change: after.score - before.score)
    }

    private func usable(_ snapshots: [AggregateSnapshot]) -> [AggregateSnapshot] {
        snapshots
            .filter { $0.participants >= self.policy.networkMinimum && $0.averageScore.standardError.isFinite }
            .sorted { $0.epoch < $1.epoch }
    }

    private func trend(
        from before: AggregateSnapshot,
        to after: AggregateSnapshot,
        change: Double,
        standardError: Double,
        reports: Int
    ) -> ScoreTrend {
        let estimate = Estimate(
            normal: change,
            standardError: standardError,
            supportingReports: reports,
            clampedTo: -100...100
        )
        let direction: TrendDirection = estimate.lower > 0 ? .up : (estimate.upper < 0 ? .down : .noClearChange)
        let base = before.averageScore.value
        return ScoreTrend(
            fromEpoch: before.epoch,
            toEpoch: after.epoch,
            change: estimate,
            relativeChangePercent: base > 0 ? 100 * change / base : 0,
            direction: direction
        )
    }

    private static func square(_ x: Double) -> Double { x * x }
}
