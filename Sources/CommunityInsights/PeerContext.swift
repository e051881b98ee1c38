import PrivacyCore

/// Peer context for the app's other features: the privacy-score explanation and the AI analysis
/// prompt. Both read only a ``CommunityDashboard`` (estimates, never reports).
public enum PeerContext {
    /// A privacy-score explanation that places the user among their peers.
    public static func scoreExplanation(_ dashboard: CommunityDashboard) -> String {
        let comparison = dashboard.comparison
        var sentences = ["Your privacy score is \(comparison.userScore) (grade \(comparison.userGrade))."]
        switch (comparison.networkAverage, comparison.betterThan) {
        case (.shown(let average), .shown(let rank)):
            sentences.append(
                "Among the \(dashboard.stats.connectedPeers) peers heard from this week the average is "
                    + "\(InsightTexts.whole(average.value)) (95% interval \(InsightTexts.range(average))), and you "
                    + "score better than about \(InsightTexts.whole(rank.value))% of them "
                    + "(\(InsightTexts.range(rank))%)."
            )
        case (.needsMoreReports(let have, let needed), _), (_, .needsMoreReports(let have, let needed)):
            sentences.append(
                "Peer comparison is still \(InsightTexts.gathering(have: have, needed: needed)), so no network figure "
                    + "is given yet."
            )
        }
        for area in dashboard.areas {
            let name = area.area == .trackers ? "the number of trackers you meet" : "your share of high-risk trackers"
            switch area.standing {
            case .ahead:
                sentences.append(
                    "On \(name) you do better than most peers (\(InsightTexts.whole(area.peersWorse?.value ?? 0))% do worse)."
                )
            case .behind:
                sentences.append(
                    "On \(name) most peers do better (\(InsightTexts.whole(area.peersBetter?.value ?? 0))%), "
                        + "so this is where you can gain the most."
                )
            case .similar:
                sentences.append("On \(name) you are close to the typical peer.")
            case .gatheringData:
                break
            }
        }
        if let first = dashboard.comparison.recommendations.first {
            sentences.append("Peer-backed next step: \(first.message).")
        }
        return sentences.joined(separator: " ")
    }

    /// A compact block of peer insights for an AI analysis prompt: one `key: value` fact per line,
    /// intervals included, figures withheld by the display policy stated as such.
    public static func promptBlock(_ dashboard: CommunityDashboard) -> String {
        var lines = [
            "PEER CONTEXT (anonymous community estimates from locally randomized reports; 95% intervals)",
            "peers_this_week: \(dashboard.stats.connectedPeers)",
            "user_score: \(dashboard.comparison.userScore) (\(dashboard.comparison.userGrade))",
        ]
        lines.append("network_average: \(self.describe(dashboard.comparison.networkAverage, unit: ""))")
        lines.append("better_than_peers: \(self.describe(dashboard.comparison.betterThan, unit: "%"))")
        if case .shown(let shares) = dashboard.stats.scoreDistribution {
            lines.append(
                "grade_shares: "
                    + shares.map { "\($0.grade) \(InsightTexts.whole($0.share.value))%" }.joined(separator: ", ")
            )
        }
        let tools = dashboard.popularTools.prefix(5).compactMap { usage -> String? in
            guard let share = usage.shareAmongAGrade?.scaled(by: 100) else { return nil }
            return
                "\(usage.tool.displayName) \(InsightTexts.whole(share.value))% (\(InsightTexts.range(share)), n=\(usage.reports))"
        }
        lines.append(
            "tools_among_a_grade_peers: "
                + (tools.isEmpty ? "withheld (fewer than K reports)" : tools.joined(separator: "; "))
        )
        for area in dashboard.areas {
            lines.append("\(area.area.rawValue)_standing: \(area.standing.rawValue)")
        }
        if let trend = dashboard.overallTrend {
            lines.append("network_trend: \(trend.direction.rawValue)")
        }
        if !dashboard.comparison.recommendations.isEmpty {
            lines.append(
                "peer_recommendations: " + dashboard.comparison.recommendations.map(\.message).joined(separator: " | ")
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func describe(_ figure: Displayed<Estimate>, unit: String) -> String {
        switch figure {
        case .shown(let estimate):
            "\(InsightTexts.whole(estimate.value))\(unit) (\(InsightTexts.range(estimate))\(unit))"
        case .needsMoreReports(let have, let needed):
            InsightTexts.gathering(have: have, needed: needed)
        }
    }
}
