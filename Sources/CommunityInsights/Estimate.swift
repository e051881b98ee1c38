/// One estimated figure with its 95% interval and the number of reports behind it.
///
/// Every figure the community screens show is an `Estimate`: a point value, a two-sided 95% interval
/// from the randomizer's variance (see ``HistogramEstimator``), and the count of wire reports of the
/// type that supports it, which drives the display policy (``DisplayPolicy``).
public struct Estimate: Hashable, Codable, Sendable {
    /// The point estimate.
    public var value: Double
    /// Lower end of the 95% interval.
    public var lower: Double
    /// Upper end of the 95% interval.
    public var upper: Double
    /// Estimated standard error of `value` (before clamping to the valid range).
    public var standardError: Double
    /// Number of wire reports of the supporting type.
    public var supportingReports: Int

    /// Creates an estimate from its parts.
    public init(value: Double, lower: Double, upper: Double, standardError: Double, supportingReports: Int) {
        self.value = value
        self.lower = lower
        self.upper = upper
        self.standardError = standardError
        self.supportingReports = supportingReports
    }

    /// The normal 95% interval `value ± 1.96·standardError`, everything clamped to `range`. An unbiased estimate
    /// outside the range (a few reports can debias to 130 points) is shown at the range's end with the interval
    /// reaching `1.96·standardError` into the range from there, not collapsed onto the end.
    public init(
        normal value: Double,
        standardError: Double,
        supportingReports: Int,
        clampedTo range: ClosedRange<Double>
    ) {
        let halfWidth = Self.z95 * standardError
        let shown = Self.clamp(value, range)
        self.value = shown
        self.lower = Self.clamp(min(value, shown) - halfWidth, range)
        self.upper = Self.clamp(max(value, shown) + halfWidth, range)
        self.standardError = standardError
        self.supportingReports = supportingReports
    }

    /// The two-sided 95% normal quantile.
    public static let z95 = 1.959_963_984_540_054

    /// Half the width of the interval.
    public var halfWidth: Double { (self.upper - self.lower) / 2 }

    /// Whether `x` lies inside the interval (ends included).
    public func covers(_ x: Double) -> Bool { self.lower <= x && x <= self.upper }

    /// The same estimate with value and interval multiplied by `factor` (e.g. a share to a percentage).
    public func scaled(by factor: Double) -> Estimate {
        Estimate(
            value: self.value * factor,
            lower: self.lower * factor,
            upper: self.upper * factor,
            standardError: self.standardError * factor,
            supportingReports: self.supportingReports
        )
    }

    private static func clamp(_ x: Double, _ range: ClosedRange<Double>) -> Double {
        guard !x.isNaN else { return range.lowerBound }
        return min(max(x, range.lowerBound), range.upperBound)
    }
}

/// A figure that may be withheld by the display policy.
///
/// JSON: `{"status": "shown", "value": …}` or `{"status": "needs_more_reports", "have": 12, "needed": 38}`.
public enum Displayed<Value: Hashable & Sendable & Codable>: Hashable, Sendable, Codable {
    /// The figure may be shown.
    case shown(Value)
    /// Too few reports support the figure; `neededReports` more are required before it is shown.
    case needsMoreReports(have: Int, neededReports: Int)

    /// The value when shown.
    public var value: Value? {
        if case .shown(let value) = self { return value }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case status
        case value
        case have
        case needed
    }

    /// Decodes the JSON form above.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .status) {
        case "shown":
            self = .shown(try container.decode(Value.self, forKey: .value))
        case "needs_more_reports":
            self = .needsMoreReports(
                have: try container.decode(Int.self, forKey: .have),
                neededReports: try container.decode(Int.self, forKey: .needed)
            )
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .status,
                in: container,
                debugDescription: "unknown status \(other)"
            )
        }
    }

    /// Encodes the JSON form above.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .shown(let value):
            try container.encode("shown", forKey: .status)
            try container.encode(value, forKey: .value)
        case .needsMoreReports(let have, let needed):
            try container.encode("needs_more_reports", forKey: .status)
            try container.encode(have, forKey: .have)
            try container.encode(needed, forKey: .needed)
        }
    }
}

/// The display thresholds of privacy-design.md ("Display policy").
public struct DisplayPolicy: Hashable, Sendable, Codable {
    /// K: a sub-population figure (a region, a category, a tool among A-grade peers) needs at least
    /// this many reports of its type.
    public var subPopulationMinimum: Int
    /// Network-wide score figures say "gathering data" below this many score reports.
    ///
    /// At ε = 2 over 10 deciles the 95% half-width of the average is about 129/√n points, so 20
    /// reports give ±29 points (three grades: not a useful number) and 50 reports give ±18 points
    /// (under two grades). The default is therefore 50, the same as K.
    public var networkMinimum: Int

    /// How many standard errors a recommendation's evidence must clear its threshold by, as a multiple of the
    /// engine's own confidence level (``RecommendationEngine``): 1 on the public network (the evidence holds at
    /// the lower end of its interval); a labelled demo network of a few dozen peers may use 0 (the point
    /// estimate passes the threshold), and shows the evidence with its full, wide interval.
    public var recommendationConfidence: Double

    /// Creates a policy.
    public init(subPopulationMinimum: Int = 50, networkMinimum: Int = 50, recommendationConfidence: Double = 1) {
        self.subPopulationMinimum = subPopulationMinimum
        self.networkMinimum = networkMinimum
        self.recommendationConfidence = min(max(recommendationConfidence, 0), 1)
    }

    /// Protocol v1's policy: K = 50, network minimum 50.
    public static let standard = DisplayPolicy()

    /// Applies the sub-population threshold K to a figure built from `reports` reports.
    public func subPopulation<V: Hashable & Sendable & Codable>(_ reports: Int, _ make: () -> V) -> Displayed<V> {
        Self.gate(reports, minimum: self.subPopulationMinimum, make)
    }

    /// Applies the network threshold to a figure built from `reports` score reports.
    public func network<V: Hashable & Sendable & Codable>(_ reports: Int, _ make: () -> V) -> Displayed<V> {
        Self.gate(reports, minimum: self.networkMinimum, make)
    }

    private static func gate<V: Hashable & Sendable & Codable>(
        _ reports: Int,
        minimum: Int,
        _ make: () -> V
    ) -> Displayed<V> {
        reports >= minimum ? .shown(make()) : .needsMoreReports(have: reports, neededReports: minimum - reports)
    }
}
