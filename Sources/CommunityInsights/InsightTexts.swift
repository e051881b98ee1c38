public import PrivacyCore

/// Every user-facing sentence of the community screens, produced from estimates, in one place.
///
/// Percent estimates are expected in 0–100, scores in points. Intervals are shown wherever the
/// figure is estimated from randomized reports.
public enum InsightTexts {
    /// "Connected to 47 privacy-conscious users".
    public static func networkStatus(participants: Int) -> String {
        switch participants {
        case ...0: "Not connected to other privacy-conscious users yet"
        case 1: "Connected to 1 privacy-conscious user"
        default: "Connected to \(participants) privacy-conscious users"
        }
    }

    /// "Better than 78% of connected peers (95% interval 74–82%)".
    public static func rank(betterThan: Displayed<Estimate>) -> String {
        switch betterThan {
        case .shown(let estimate):
            "Better than \(self.whole(estimate.value))% of connected peers (95% interval \(self.range(estimate))%)"
        case .needsMoreReports(let have, let needed):
            "Your rank: \(self.gathering(have: have, needed: needed))"
        }
    }

    /// "Network average: B (82 ±3), Your score: A (91)".
    public static func averageComparison(networkAverage: Displayed<Estimate>, userScore: Int) -> String {
        let user = "Your score: \(Grade(score: userScore)) (\(userScore))"
        switch networkAverage {
        case .shown(let estimate):
            let average = Int(estimate.value.rounded())
            let halfWidth = estimate.halfWidth
            let plusMinus = halfWidth < 0.95 ? "\((halfWidth * 10).rounded() / 10)" : "\(self.whole(halfWidth))"
            return "Network average: \(Grade(score: average)) (\(average) ±\(plusMinus)), \(user)"
        case .needsMoreReports(let have, let needed):
            return "Network average: \(self.gathering(have: have, needed: needed)), \(user)"
        }
    }

    /// "85% of A-grade peers use uBlock Origin (95% interval 70–95%, 212 reports)".
    public static func toolPopularity(_ usage: Displayed<ToolUsage>, tool: ProtectionTool) -> String {
        switch usage {
        case .shown(let usage):
            guard let share = usage.shareAmongAGrade?.scaled(by: 100) else {
                return "\(tool.displayName): no A-grade peers among its \(usage.reports) reports yet"
            }
            return "\(self.whole(share.value))% of A-grade peers use \(tool.displayName) "
                + "(95% interval \(self.range(share))%, \(usage.reports) reports)"
        case .needsMoreReports(let have, let needed):
            return "\(tool.displayName) among A-grade peers: \(self.needsMore(have: have, needed: needed))"
        }
    }

    /// "Privacy scores in your network trending upward", or the honest "no clear trend". `period` names one epoch
    /// ("week"; "demo epoch" on a time-lapse demo network).
    public static func overallTrend(_ trend: ScoreTrend?, period: String = "week") -> String {
        guard let trend else { return "Network trend: gathering data (needs three \(period)s with enough reports)" }
        switch trend.direction {
        case .up: return "Privacy scores in your network trending upward"
        case .down: return "Privacy scores in your network trending downward"
        case .noClearChange: return "Privacy scores in your network: no clear trend"
        }
    }

    /// "Network average up 15% this week (+9 points, 95% interval +4 to +14)"; `period` names one epoch.
    public static func weeklyChange(_ trend: ScoreTrend?, period: String = "week") -> String {
        guard let trend else {
            let label = period == "week" ? "Weekly change" : "Change per \(period)"
            return "\(label): gathering data (needs two \(period)s with enough reports)"
        }
        let points =
            "\(self.signed(trend.change.value)) points, 95% interval \(self.signed(trend.change.lower)) to "
            + "\(self.signed(trend.change.upper))"
        switch trend.direction {
        case .up:
            return "Network average up \(self.whole(abs(trend.relativeChangePercent)))% this \(period) (\(points))"
        case .down:
            return "Network average down \(self.whole(abs(trend.relativeChangePercent)))% this \(period) (\(points))"
        case .noClearChange: return "Network average: no clear change this \(period) (\(points))"
        }
    }

    /// "Your score improved by 6 points since last week"; `period` names one epoch.
    public static func ownChange(_ trend: OwnScoreTrend?, period: String = "week") -> String? {
        guard let trend else { return nil }
        switch trend.direction {
        case .up: return "Your score improved by \(trend.change) points since last \(period)"
        case .down: return "Your score dropped by \(-trend.change) points since last \(period)"
        case .noClearChange: return "Your score is unchanged since last \(period)"
        }
    }

    /// "Connected to 12 users in your region", shown only from K region reports on.
    public static func region(_ stats: Displayed<RegionalStats>, region: Region?) -> String {
        guard let region else { return "Regional figures: you do not share a region" }
        switch stats {
        case .shown(let stats):
            return "Connected to \(stats.reports) users in your region (\(region.displayName)); "
                + "typical grade \(stats.typicalGrade)"
        case .needsMoreReports(let have, let needed):
            return "Regional figures for \(region.displayName): \(self.needsMore(have: have, needed: needed))"
        }
    }

    /// "High-scoring peers recommend Privacy Badger: 62% of A-grade peers use it (…)".
    public static func toolRecommendation(tool: ProtectionTool, share: Estimate) -> String {
        "High-scoring peers recommend \(tool.displayName): \(self.whole(share.value))% of A-grade peers use it "
            + "(95% interval \(self.range(share))%, \(share.supportingReports) reports)"
    }

    /// "73% of peers see fewer trackers than you (…)".
    public static func trackerRecommendation(share: Estimate) -> String {
        "\(self.whole(share.value))% of peers see fewer trackers than you (95% interval \(self.range(share))%, "
            + "\(share.supportingReports) reports)"
    }

    /// "64% of peers meet fewer high-risk trackers than you (…)".
    public static func riskRecommendation(share: Estimate) -> String {
        "\(self.whole(share.value))% of peers meet a smaller share of high-risk trackers than you "
            + "(95% interval \(self.range(share))%, \(share.supportingReports) reports)"
    }

    /// "Top categories: News 24%, Social media 18%, Shopping 12% (share of category reports)".
    public static func topCategories(_ categories: Displayed<[CategoryShare]>) -> String {
        switch categories {
        case .shown(let shares):
            let list = shares.map { "\($0.category.displayName) \(self.whole($0.share.value * 100))%" }
            return "Top categories: \(list.joined(separator: ", ")) (share of category reports)"
        case .needsMoreReports(let have, let needed):
            return "Top categories: \(self.needsMore(have: have, needed: needed))"
        }
    }

    /// "gathering data (12 of 50 reports so far)".
    public static func gathering(have: Int, needed: Int) -> String {
        "gathering data (\(have) of \(have + needed) reports so far)"
    }

    /// "needs 38 more reports".
    public static func needsMore(have: Int, needed: Int) -> String {
        needed == 1 ? "needs 1 more report" : "needs \(needed) more reports"
    }

    /// "74–82" for an estimate in percent or points.
    public static func range(_ estimate: Estimate) -> String {
        "\(self.whole(estimate.lower))–\(self.whole(estimate.upper))"
    }

    /// A figure rounded to a whole number.
    public static func whole(_ x: Double) -> Int { x.isFinite ? Int(x.rounded()) : 0 }

    private static func signed(_ x: Double) -> String {
        let value = self.whole(x)
        return value > 0 ? "+\(value)" : "\(value)"
    }
}
