public import PrivacyCore

/// Debiased frequency estimate of one report type's value histogram.
///
/// The reports of one type in one epoch are independent draws of k-ary randomized response (GRR)
/// with keep probability `p` and per-other-value probability `q`. With `c_v` reports of value `v`
/// out of `n`, the unbiased estimate of the true share of `v` is
/// `f̂_v = (c_v/n − q)/(p − q)` (privacy-design.md, "Wire reports"). It can be negative and always
/// sums to 1; ``frequencies`` is its Euclidean projection onto the probability simplex, which is what
/// histograms display.
///
/// Linear figures (a mean, a cumulative share) are computed from the unprojected estimate, which is
/// unbiased; projection would move mass from the near-empty cells onto the others and bias them.
/// Their variance is exact for the multinomial counts:
/// `Var(Σ w_v f̂_v) = (Σ w_v² λ_v − (Σ w_v λ_v)²) / (n (p − q)²)`, where `λ_v` is the probability of
/// randomized value `v`. The plug-in is the fitted model's `λ_v = q + (p − q) f̃_v` with `f̃` the projected
/// ``frequencies`` (``modelShares``): where the debiased estimate lies in the simplex this equals the
/// observed share `c_v/n`; at the boundary (a value never or rarely seen) the observed share falls below
/// `q`, the least any value can have, and plugging it in would shrink the variance, down to zero when
/// every report carries one value (11 reports all in one decile gave a "100–100%" interval). The model's
/// `λ_v ≥ q` keeps small samples' intervals as wide as the randomizer makes them.
public struct HistogramEstimator: Hashable, Sendable {
    /// The randomizer the reports went through.
    public let randomizer: GeneralizedRandomizedResponse
    /// Reports per randomized value.
    public let counts: [Int]
    /// Number of reports.
    public let total: Int
    /// The unbiased debiased shares (may be negative; they sum to 1 when `total > 0`).
    public let debiased: [Double]
    /// The debiased shares projected onto the probability simplex (non-negative, sum 1).
    public let frequencies: [Double]

    /// Estimates from per-value report counts; `counts.count` must equal the randomizer's domain size.
    public init(counts: [Int], randomizer: GeneralizedRandomizedResponse) {
        precondition(counts.count == randomizer.domainSize, "one count per randomized value")
        self.randomizer = randomizer
        self.counts = counts
        self.total = counts.reduce(0, +)
        let k = randomizer.domainSize
        if self.total == 0 {
            self.debiased = Array(repeating: 1 / Double(k), count: k)
        } else {
            let n = Double(self.total)
            let p = randomizer.p
            let q = randomizer.q
            self.debiased = counts.map { (Double($0) / n - q) / (p - q) }
        }
        self.frequencies = projectOntoSimplex(self.debiased)
    }

    /// Estimates the histogram of `type` from its per-value counts.
    public init(counts: [Int], type: ReportType) {
        self.init(counts: counts, randomizer: type.randomizer)
    }

    /// The observed share of reports with each randomized value (λ̂).
    public var observedShares: [Double] {
        guard self.total > 0 else { return Array(repeating: 0, count: self.counts.count) }
        return self.counts.map { Double($0) / Double(self.total) }
    }

    /// The probability of each randomized value under the fitted model: `q + (p − q) f̃_v`, with `f̃` the
    /// projected ``frequencies``. Every entry is at least `q`; it equals ``observedShares`` when no debiased
    /// share is negative.
    public var modelShares: [Double] {
        let p = self.randomizer.p
        let q = self.randomizer.q
        return self.frequencies.map { q + (p - q) * $0 }
    }

    /// Covariance of the unprojected estimates of values `u` and `v` (model-based plug-in, see the type).
    public func covariance(_ u: Int, _ v: Int) -> Double {
        guard self.total > 0 else { return .infinity }
        let lambda = self.modelShares
        let scale = Double(self.total) * Self.square(self.randomizer.p - self.randomizer.q)
        return ((u == v ? lambda[u] : 0) - lambda[u] * lambda[v]) / scale
    }

    /// Standard error of the unbiased estimate of `Σ weights[v] · f_v`.
    public func standardError(weights: [Double]) -> Double {
        precondition(weights.count == self.counts.count, "one weight per value")
        guard self.total > 0 else { return .infinity }
        let lambda = self.modelShares
        var first = 0.0
        var second = 0.0
        for (w, l) in zip(weights, lambda) {
            first += w * l
            second += w * w * l
        }
        let variance = max(second - first * first, 0)
        return (variance / Double(self.total)).squareRoot() / (self.randomizer.p - self.randomizer.q)
    }

    /// The unbiased estimate of `Σ weights[v] · f_v` with its 95% interval, clamped to `range`.
    public func linear(weights: [Double], clampedTo range: ClosedRange<Double>) -> Estimate {
        precondition(weights.count == self.counts.count, "one weight per value")
        let value = zip(weights, self.debiased).reduce(0) { $0 + $1.0 * $1.1 }
        return Estimate(
            normal: value,
            standardError: self.standardError(weights: weights),
            supportingReports: self.total,
            clampedTo: range
        )
    }

    /// The share of value `v` as displayed (projected), with a 95% interval of the same width as
    /// the unbiased estimate's, clamped to [0, 1].
    public func share(_ v: Int) -> Estimate {
        Estimate(
            normal: self.frequencies[v],
            standardError: self.covariance(v, v).squareRoot(),
            supportingReports: self.total,
            clampedTo: 0...1
        )
    }

    /// The share of value `numerator` among the values `numerator` and `other` (a conditional share,
    /// e.g. "uses T" among A-grade reports): the ratio of the unprojected estimates (projection would
    /// push it to 0% or 100% whenever one cell is near empty), clamped to [0, 1], with a delta-method
    /// interval. `nil` when the estimated base `f_numerator + f_other` is not positive.
    public func conditionalShare(_ numerator: Int, among other: Int) -> Estimate? {
        let a = self.debiased[numerator]
        let b = self.debiased[other]
        let base = a + b
        guard self.total > 0, base > 0 else { return nil }
        let ga = b / (base * base)
        let gb = -a / (base * base)
        let variance =
            ga * ga * self.covariance(numerator, numerator) + gb * gb * self.covariance(other, other) + 2 * ga * gb
            * self.covariance(numerator, other)
        return Estimate(
            normal: a / base,
            standardError: max(variance, 0).squareRoot(),
            supportingReports: self.total,
            clampedTo: 0...1
        )
    }

    private static func square(_ x: Double) -> Double { x * x }
}

/// Euclidean projection of `vector` onto the probability simplex {x : x_i ≥ 0, Σ x_i = 1}.
///
/// The sort-based algorithm: with `u` sorted in decreasing order, `ρ` is the largest `j` with
/// `u_j − (Σ_{i≤j} u_i − 1)/j > 0`, `θ = (Σ_{i≤ρ} u_i − 1)/ρ`, and the result is `max(v − θ, 0)`.
/// An empty vector stays empty; non-finite entries count as 0.
public func projectOntoSimplex(_ vector: [Double]) -> [Double] {
    guard !vector.isEmpty else { return [] }
    let clean = vector.map { $0.isFinite ? $0 : 0 }
    let sorted = clean.sorted(by: >)
    var running = 0.0
    var theta = 0.0
    for (offset, u) in sorted.enumerated() {
        running += u
        let candidate = (running - 1) / Double(offset + 1)
        if u - candidate > 0 {
            theta = candidate
        }
    }
    return clean.map { max($0 - theta, 0) }
}
