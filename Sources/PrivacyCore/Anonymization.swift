public import Foundation

/// The original plan's `anonymizeForP2P`: the minimized summary of a local report.
///
/// - score rounded to the nearest 5, grade from that rounded score;
/// - tracker count = distinct tracker domains, capped at 50;
/// - risk distribution in whole percents;
/// - the top 3 site categories by event count (sensitive categories folded into "other", ties broken
///   by canonical order), listed in canonical order;
/// - `now` rounded to the nearest hour;
/// - the region only with `shareRegionalData` on.
/// - Parameters:
///   - report: the local report; it is validated first.
///   - settings: the user's settings (only `shareRegionalData` matters here).
///   - now: the current time (injected).
/// - Throws: ``PrivacyReportError`` if the report breaks the format's rules.
public func anonymizeForP2P(
    _ report: PrivacyReport,
    settings: P2PSettings,
    now: Date
) throws(PrivacyReportError) -> AnonymousPrivacyData {
    try report.validate()
    let roundedScore = (report.score + 2) / 5 * 5
    var riskCounts: [RiskLevel: Int] = [:]
    var categoryCounts: [SiteCategory: Int] = [:]
    for event in report.events {
        riskCounts[event.riskLevel, default: 0] += 1
        categoryCounts[SiteCategory(folding: event.siteCategory), default: 0] += 1
    }
    let top = categoryCounts.sorted { lhs, rhs in
        lhs.value != rhs.value ? lhs.value > rhs.value : lhs.key.index < rhs.key.index
    }
    .prefix(AnonymousPrivacyData.maximumCategories)
    .map(\.key)
    .sorted { $0.index < $1.index }
    let hour = (now.timeIntervalSince1970 / 3600).rounded(.toNearestOrAwayFromZero) * 3600
    do {
        return try AnonymousPrivacyData(
            privacyScore: roundedScore,
            grade: Grade(score: roundedScore),
            trackerCount: min(report.distinctTrackerCount, AnonymousPrivacyData.maximumTrackerCount),
            riskDistribution: RiskDistribution(counts: riskCounts),
            websiteCategories: top,
            timestamp: Date(timeIntervalSince1970: hour),
            region: settings.shareRegionalData ? report.region : nil
        )
    } catch {
        preconditionFailure("anonymizeForP2P broke an invariant of its own output: \(error)")
    }
}
