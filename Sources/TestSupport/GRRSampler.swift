public import PrivacyCore

/// A plain k-ary randomized response sampler for tests and simulations.
///
/// For one epoch across many users, PrivacyCore's two-layer randomizer is exactly GRR with the
/// type's `epsilon` over its `domainSize` (`ReportType.randomizer`), so simulations of a single
/// epoch randomize with this sampler. Production code randomizes through PrivacyCore.
public enum GRRSampler {
    /// Randomizes `index` (0..<randomizer.domainSize): keep it with probability `p`, otherwise
    /// report one of the other values uniformly.
    public static func randomize(
        _ index: Int,
        with randomizer: GeneralizedRandomizedResponse,
        using generator: inout some RandomNumberGenerator
    ) -> Int {
        let k = randomizer.domainSize
        if generator.nextUnit() < randomizer.p {
            return index
        }
        return (index + 1 + Int.random(in: 0..<(k - 1), using: &generator)) % k
    }

    /// Randomizes a report holding a true value; the region of a region-grade report and the drawn
    /// tool of a tool report stay as they are (they are outside the randomizer).
    public static func randomize(_ report: WireReport, using generator: inout some RandomNumberGenerator) -> WireReport
    {
        let index = self.randomize(report.randomizedIndex, with: report.type.randomizer, using: &generator)
        return report.replacingRandomizedIndex(with: index)
    }
}

extension WireReport {
    /// The same report with its randomized value set to `index` (0..<type.domainSize).
    public func replacingRandomizedIndex(with index: Int) -> WireReport {
        switch self {
        case .score: .score(decile: index)
        case .trackers: .trackers(bucket: index)
        case .risk: .risk(bucket: index)
        case .category: .category(SiteCategory.allCases[index])
        case .regionGrade(let region, _): .regionGrade(region: region, grade: Grade.allCases[index])
        case .tool(let tool, _, _): .tool(tool, isAGrade: index >= 2, usesTool: index % 2 == 1)
        }
    }
}
