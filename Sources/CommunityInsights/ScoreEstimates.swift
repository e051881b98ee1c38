public import PrivacyCore

/// How a score decile on the wire maps back to 0–100 scores.
///
/// A score report carries the decile of the *anonymized* score, which is the score rounded to the
/// nearest 5 (privacy-design.md, "Layers"). Decile `i` therefore holds the rounded scores `10i` and
/// `10i + 5` (and 100 in decile 9), i.e. the raw scores `10i − 2 … 10i + 7` (0…7 for decile 0,
/// 88…100 for decile 9). The bins are shifted by 2.5 points against the naive `10i … 10i + 9`, so
/// the naive midpoint `10i + 5` would overstate the average by about 2.5 points.
///
/// The displayed average estimates the population's true mean of the raw scores. Peers do not know
/// how scores are spread inside a bin, so each decile stands for the midpoint of its raw range
/// (``representative(ofDecile:)``: 3.5, 12.5, 22.5, …, 82.5, 94). For any smooth score density the
/// within-bin deviations from the midpoint cancel across bins to first order (the sum of
/// `w²/12 · f'(x)` over the bins telescopes), so the estimator's bias is far below its sampling
/// error; the tests measure it on the synthetic population.
public enum ScoreScale {
    /// The anonymized score: the raw score clamped to 0–100 and rounded to the nearest 5.
    public static func anonymizedScore(_ score: Int) -> Int {
        let clamped = min(max(score, 0), 100)
        return 5 * Int((Double(clamped) / 5).rounded())
    }

    /// The decile a user with this raw score reports (of the anonymized score).
    public static func decile(ofScore score: Int) -> Int { scoreDecile(self.anonymizedScore(score)) }

    /// The raw scores whose anonymized score falls in `decile` (0...9).
    public static func rawRange(ofDecile decile: Int) -> ClosedRange<Int> {
        switch decile {
        case ...0: 0...7
        case 9...: 88...100
        default: (10 * decile - 2)...(10 * decile + 7)
        }
    }

    /// The score a decile stands for: the midpoint of its raw range.
    public static func representative(ofDecile decile: Int) -> Double {
        let range = self.rawRange(ofDecile: decile)
        return Double(range.lowerBound + range.upperBound) / 2
    }

    /// The grade every score in `decile` gets (grades are computed from the anonymized score).
    public static func grade(ofDecile decile: Int) -> Grade { Grade(score: decile * 10) }

    /// Representatives of all ten deciles.
    public static let representatives: [Double] = (0..<10).map { representative(ofDecile: $0) }
}

/// Estimates of the network's score distribution from one epoch's score reports.
public struct ScoreEstimates: Hashable, Sendable {
    /// The debiased decile histogram.
    public let histogram: HistogramEstimator

    /// Estimates from per-decile report counts.
    public init(counts: [Int]) {
        self.histogram = HistogramEstimator(counts: counts, type: .score)
    }

    /// Number of score reports (one per participating user per epoch).
    public var reports: Int { self.histogram.total }

    /// Estimated mean of the raw scores, 0–100, with its 95% interval.
    public var average: Estimate {
        self.histogram.linear(weights: ScoreScale.representatives, clampedTo: 0...100)
    }

    /// Estimated share of users per decile (projected), with intervals.
    public var deciles: [Estimate] { (0..<10).map { self.histogram.share($0) } }

    /// Estimated share of users per grade, in `Grade.allCases` order (A first), with intervals.
    public var grades: [Grade: Estimate] {
        var result: [Grade: Estimate] = [:]
        for grade in Grade.allCases {
            let weights = (0..<10).map { ScoreScale.grade(ofDecile: $0) == grade ? 1.0 : 0.0 }
            let value = zip(weights, self.histogram.frequencies).reduce(0) { $0 + $1.0 * $1.1 }
            result[grade] = Estimate(
                normal: value,
                standardError: self.histogram.standardError(weights: weights),
                supportingReports: self.reports,
                clampedTo: 0...1
            )
        }
        return result
    }

    /// Estimated median raw score (from the cumulative model of ``betterThan(score:)``).
    public var median: Double { self.quantile(0.5) }

    /// Estimated `probability`-quantile of the raw scores.
    public func quantile(_ probability: Double) -> Double {
        let edges = Self.cumulativeEdges(self.histogram.debiased)
        for decile in 0..<10 {
            let mass = edges[decile + 1] - edges[decile]
            if mass > 0, edges[decile + 1] >= probability {
                let target = min(max((probability - edges[decile]) / mass, 0), 1)
                let slope = Self.slope(inDecile: decile, edges: edges)
                return self.position(Self.inverseWithinBin(target, slope: slope), inDecile: decile)
            }
        }
        return 100
    }

    /// "Better than X%": the estimated share of users whose raw score is strictly lower than
    /// `score`, counting ties as half (the mid-rank), as a fraction 0–1 with its 95% interval.
    ///
    /// The model: the cumulative shares at the decile edges are the running sums of the unbiased
    /// debiased shares, made non-decreasing by isotonic regression (a no-op wherever the histogram has
    /// real mass, so the figure stays unbiased there; it keeps "better than" monotone in the score
    /// where noise makes a near-empty decile negative). Inside the user's decile the share below the
    /// score follows a linear density whose slope comes from the neighbouring deciles; in the two
    /// end deciles (0–7 and 88–100) the density is taken as uniform, because scores can pile up at
    /// the ends of the scale where no neighbour shows it. The interval is the delta method on the
    /// debiased shares (their multinomial covariance), so it includes the noise of the slope; in the
    /// end deciles, whose shape is unknown, it adds a shape term `mass · t(1 − t)/2` in quadrature
    /// (the spread of linear within-bin densities whose slope has standard deviation 1). Where the
    /// isotonic step or the [0, 1] clamp binds, its derivative vanishes, so the standard error is never
    /// below that of the figure's linear reading (the debiased shares below the score, plus the
    /// within-bin part of the score's own decile): a few reports never give a zero-width interval.
    public func betterThan(score: Int) -> Estimate {
        let clamped = min(max(score, 0), 100)
        let range = ScoreScale.rawRange(ofDecile: ScoreScale.decile(ofScore: clamped))
        return self.rankEstimate(score: clamped, offset: 0.5 / Double(range.count))
    }

    /// The percentile of `score`: the estimated share of users with a raw score at or below it,
    /// as a fraction 0–1 with its 95% interval (same model as ``betterThan(score:)``).
    public func percentile(score: Int) -> Estimate {
        let clamped = min(max(score, 0), 100)
        let range = ScoreScale.rawRange(ofDecile: ScoreScale.decile(ofScore: clamped))
        return self.rankEstimate(score: clamped, offset: 1 / Double(range.count))
    }

    /// The cumulative share below relative position `(score − lower)/width + offset` of the score's bin.
    private func rankEstimate(score: Int, offset: Double) -> Estimate {
        let decile = ScoreScale.decile(ofScore: score)
        let range = ScoreScale.rawRange(ofDecile: decile)
        let t = Double(score - range.lowerBound) / Double(range.count) + offset
        let value = { (shares: [Double]) -> Double in
            let edges = Self.cumulativeEdges(shares)
            let mass = edges[decile + 1] - edges[decile]
            return edges[decile] + Self.withinBinCDF(t, slope: Self.slope(inDecile: decile, edges: edges)) * mass
        }
        let shares = self.histogram.debiased
        let step = 1e-6
        var gradient = Array(repeating: 0.0, count: shares.count)
        for index in shares.indices {
            var up = shares
            var down = shares
            up[index] += step
            down[index] -= step
            gradient[index] = (value(up) - value(down)) / (2 * step)
        }
        // Where the isotonic step or the clamp binds (an edge pinned at 0 or 1, typical of a few reports piled in
        // one decile), the model's derivative is zero and the delta method alone would give a zero-width interval.
        // The error of the same figure read linearly (every share below the user's decile, plus the within-bin part
        // of the user's decile, the slope held fixed) is its floor.
        let edges = Self.cumulativeEdges(shares)
        let within = Self.withinBinCDF(t, slope: Self.slope(inDecile: decile, edges: edges))
        let linear = shares.indices.map { $0 < decile ? 1 : ($0 == decile ? within : 0) }
        var standardError = max(
            self.histogram.standardError(weights: gradient),
            self.histogram.standardError(weights: linear)
        )
        if decile == 0 || decile == 9 {
            // Unknown shape of an end decile: the spread of linear within-bin densities with slope sd 1.
            let shape = (edges[decile + 1] - edges[decile]) * min(max(t, 0), 1) * (1 - min(max(t, 0), 1)) / 2
            standardError = (standardError * standardError + shape * shape).squareRoot()
        }
        return Estimate(
            normal: value(shares),
            standardError: standardError,
            supportingReports: self.reports,
            clampedTo: 0...1
        )
    }

    /// Cumulative shares at the 11 decile edges: running sums of `shares`, made non-decreasing by
    /// isotonic regression (pool adjacent violators) and clamped to [0, 1].
    static func cumulativeEdges(_ shares: [Double]) -> [Double] {
        var running = 0.0
        var raw = [0.0]
        for share in shares {
            running += share
            raw.append(running)
        }
        // Pool adjacent violators: blocks of (mean, size).
        var blocks: [(mean: Double, size: Int)] = []
        for value in raw {
            blocks.append((value, 1))
            while blocks.count >= 2, blocks[blocks.count - 2].mean > blocks[blocks.count - 1].mean {
                let last = blocks.removeLast()
                let previous = blocks.removeLast()
                let size = previous.size + last.size
                blocks.append(
                    ((previous.mean * Double(previous.size) + last.mean * Double(last.size)) / Double(size), size)
                )
            }
        }
        return blocks.flatMap { Array(repeating: min(max($0.mean, 0), 1), count: $0.size) }
    }

    /// Slope `s` of the normalized within-bin density `g(t) = 1 + s(t − ½)` on [0, 1], from the
    /// densities (share per raw score point) of the neighbouring deciles, clamped to [−2, 2] so that
    /// `g` stays non-negative; 0 (uniform) in the end deciles and in empty ones.
    static func slope(inDecile decile: Int, edges: [Double]) -> Double {
        guard decile > 0, decile < 9 else { return 0 }
        let density = { (i: Int) in (edges[i + 1] - edges[i]) / Double(ScoreScale.rawRange(ofDecile: i).count) }
        let here = density(decile)
        guard here > 0 else { return 0 }
        let run = ScoreScale.representative(ofDecile: decile + 1) - ScoreScale.representative(ofDecile: decile - 1)
        let perPoint = (density(decile + 1) - density(decile - 1)) / run
        let s = perPoint * Double(ScoreScale.rawRange(ofDecile: decile).count) / here
        return min(max(s, -2), 2)
    }

    /// `G(t) = ∫₀ᵗ g`, the share of a bin's mass below relative position `t`.
    static func withinBinCDF(_ t: Double, slope s: Double) -> Double {
        let t = min(max(t, 0), 1)
        return t + s * (t * t - t) / 2
    }

    /// The inverse of ``withinBinCDF(_:slope:)`` on [0, 1].
    static func inverseWithinBin(_ y: Double, slope s: Double) -> Double {
        guard abs(s) > 1e-9 else { return y }
        // s/2 · t² + (1 − s/2) · t − y = 0, root in [0, 1].
        let a = s / 2
        let b = 1 - s / 2
        let root = (-b + (b * b + 4 * a * y).squareRoot()) / (2 * a)
        return min(max(root, 0), 1)
    }

    private func position(_ t: Double, inDecile decile: Int) -> Double {
        let range = ScoreScale.rawRange(ofDecile: decile)
        let value = Double(range.lowerBound) - 0.5 + t * Double(range.count)
        return min(max(value, 0), 100)
    }
}
