import Foundation

// The single-question wire reports of privacy-design.md ("Wire reports").

/// The six wire report types of protocol v1. Each answers one fixed question from a small domain.
public enum ReportType: String, CaseIterable, Codable, Sendable {
    case score
    case trackers
    case risk
    case category
    case regionGrade = "region_grade"
    case tool

    /// Wire index (position in `allCases`).
    public var index: Int { Self.allCases.firstIndex(of: self)! }

    /// Size of the randomized part of the value domain (k of the GRR randomizer).
    /// - score: 10 deciles; trackers: 6 buckets; risk: 4 buckets; category: 12 site categories;
    /// - regionGrade: the 5 grades (the region is sent as chosen, outside the randomizer);
    /// - tool: the 4 cells of (is A-grade, uses T) for the uniformly drawn tool T.
    public var domainSize: Int {
        switch self {
        case .score: 10
        case .trackers: 6
        case .risk: 4
        case .category: SiteCategory.allCases.count
        case .regionGrade: Grade.allCases.count
        case .tool: 4
        }
    }

    /// The fixed per-report ε of protocol v1 (effective ε of the whole two-layer randomizer).
    public var epsilon: Double {
        switch self {
        case .score: 2
        case .trackers, .risk, .category, .regionGrade, .tool: 1
        }
    }

    /// The effective per-report randomizer an estimator must debias.
    public var randomizer: GeneralizedRandomizedResponse {
        GeneralizedRandomizedResponse(domainSize: self.domainSize, epsilon: self.epsilon)
    }
}

/// k-ary generalized randomized response: keep the true value with probability p, otherwise
/// report one of the k − 1 other values uniformly (each with probability q), p/q = e^ε.
public struct GeneralizedRandomizedResponse: Hashable, Sendable {
    public let domainSize: Int
    public let epsilon: Double

    public init(domainSize: Int, epsilon: Double) {
        precondition(domainSize >= 2, "GRR needs at least two values")
        precondition(epsilon > 0, "GRR needs a positive epsilon")
        self.domainSize = domainSize
        self.epsilon = epsilon
    }

    /// Probability of reporting the true value.
    public var p: Double {
        let e = exp(self.epsilon)
        return e / (e + Double(self.domainSize - 1))
    }

    /// Probability of reporting one particular other value.
    public var q: Double { 1 / (exp(self.epsilon) + Double(self.domainSize - 1)) }
}

/// Decile of a score: 0–9 → 0 … 90–100 → 9.
public func scoreDecile(_ score: Int) -> Int { min(max(score, 0), 100) == 100 ? 9 : min(max(score, 0), 100) / 10 }

/// One randomized wire report, as carried in an envelope (the value is already randomized).
public enum WireReport: Hashable, Sendable {
    /// Randomized score decile, 0...9.
    case score(decile: Int)
    /// Randomized tracker bucket, 0...5: 0, 1–5, 6–15, 16–30, 31–50, 51+.
    case trackers(bucket: Int)
    /// Randomized bucket of the share of high/critical events, 0...3: 0, <10%, 10–30%, >30%.
    case risk(bucket: Int)
    /// Randomized site category.
    case category(SiteCategory)
    /// The region as chosen, and the randomized grade.
    case regionGrade(region: Region, grade: Grade)
    /// The uniformly drawn tool T and the randomized cell (is A-grade, uses T).
    case tool(ProtectionTool, isAGrade: Bool, usesTool: Bool)

    public var type: ReportType {
        switch self {
        case .score: .score
        case .trackers: .trackers
        case .risk: .risk
        case .category: .category
        case .regionGrade: .regionGrade
        case .tool: .tool
        }
    }

    /// The index of the randomized value in `type.domainSize` (for tool: isAGrade·2 + usesTool).
    public var randomizedIndex: Int {
        switch self {
        case .score(let decile): decile
        case .trackers(let bucket): bucket
        case .risk(let bucket): bucket
        case .category(let category): category.index
        case .regionGrade(_, let grade): grade.index
        case .tool(_, let isAGrade, let usesTool): (isAGrade ? 2 : 0) + (usesTool ? 1 : 0)
        }
    }
}
