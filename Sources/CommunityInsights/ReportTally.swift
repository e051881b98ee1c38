public import PrivacyCore

/// Per-type counts of randomized values: everything the estimators need from a set of wire reports.
///
/// Reports whose randomized value lies outside the type's domain (possible only for reports built in
/// memory, never for decoded ones) are counted in ``rejected`` and otherwise ignored.
public struct ReportTally: Hashable, Sendable, Codable {
    /// Score reports per decile (10 values).
    public var score: [Int]
    /// Tracker reports per bucket (6 values).
    public var trackers: [Int]
    /// Risk reports per bucket (4 values).
    public var risk: [Int]
    /// Category reports per site category, in `SiteCategory.allCases` order (12 values).
    public var category: [Int]
    /// Region-grade reports per region, each with counts per randomized grade in `Grade.allCases` order.
    public var regionGrade: [Region: [Int]]
    /// Tool reports per drawn tool, each with counts per cell `isAGrade·2 + usesTool`.
    public var tool: [ProtectionTool: [Int]]
    /// Reports ignored because their value was out of range.
    public var rejected: Int

    /// An empty tally.
    public init() {
        self.score = Array(repeating: 0, count: ReportType.score.domainSize)
        self.trackers = Array(repeating: 0, count: ReportType.trackers.domainSize)
        self.risk = Array(repeating: 0, count: ReportType.risk.domainSize)
        self.category = Array(repeating: 0, count: ReportType.category.domainSize)
        self.regionGrade = [:]
        self.tool = [:]
        self.rejected = 0
    }

    /// Tallies `reports`.
    public init(_ reports: some Sequence<WireReport>) {
        self.init()
        for report in reports {
            self.add(report)
        }
    }

    /// Adds one report.
    public mutating func add(_ report: WireReport) {
        let index = report.randomizedIndex
        guard index >= 0, index < report.type.domainSize else {
            self.rejected += 1
            return
        }
        switch report {
        case .score: self.score[index] += 1
        case .trackers: self.trackers[index] += 1
        case .risk: self.risk[index] += 1
        case .category: self.category[index] += 1
        case .regionGrade(let region, _):
            self.regionGrade[region, default: Array(repeating: 0, count: ReportType.regionGrade.domainSize)][index] += 1
        case .tool(let tool, _, _):
            self.tool[tool, default: Array(repeating: 0, count: ReportType.tool.domainSize)][index] += 1
        }
    }

    /// Adds every count of `other` (tallies of disjoint report sets combine by addition).
    public mutating func merge(_ other: ReportTally) {
        Self.add(other.score, to: &self.score)
        Self.add(other.trackers, to: &self.trackers)
        Self.add(other.risk, to: &self.risk)
        Self.add(other.category, to: &self.category)
        for (region, counts) in other.regionGrade {
            Self.add(counts, to: &self.regionGrade[region, default: Array(repeating: 0, count: counts.count)])
        }
        for (tool, counts) in other.tool {
            Self.add(counts, to: &self.tool[tool, default: Array(repeating: 0, count: counts.count)])
        }
        self.rejected += other.rejected
    }

    /// Number of reports of `type`.
    public func count(of type: ReportType) -> Int {
        switch type {
        case .score: self.score.reduce(0, +)
        case .trackers: self.trackers.reduce(0, +)
        case .risk: self.risk.reduce(0, +)
        case .category: self.category.reduce(0, +)
        case .regionGrade: self.regionGrade.values.reduce(0) { $0 + $1.reduce(0, +) }
        case .tool: self.tool.values.reduce(0) { $0 + $1.reduce(0, +) }
        }
    }

    /// Number of region-grade reports that name `region`.
    public func count(in region: Region) -> Int { self.regionGrade[region]?.reduce(0, +) ?? 0 }

    /// Number of tool reports that drew `tool`.
    public func count(of tool: ProtectionTool) -> Int { self.tool[tool]?.reduce(0, +) ?? 0 }

    private static func add(_ counts: [Int], to target: inout [Int]) {
        for (index, count) in counts.enumerated() where index < target.count {
            target[index] += count
        }
    }
}
