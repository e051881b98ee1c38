public import PrivacyCore

/// A suggestion backed by what the network's reports show (the plan's `P2PRecommendation`).
public struct P2PRecommendation: Hashable, Sendable, Codable {
    /// What the user could do.
    public enum Kind: Hashable, Sendable, Codable {
        /// Start using a tool that A-grade peers use.
        case adoptTool(ProtectionTool)
        /// Cut down the number of trackers (the user sees more than most peers).
        case reduceTrackers
        /// Cut down high-risk trackers (the user's share is higher than most peers').
        case reduceRisk
    }

    /// What the user could do.
    public var kind: Kind
    /// The peer evidence, in percent (0–100) with its 95% interval and the supporting report count.
    public var evidence: Estimate
    /// One sentence stating the evidence.
    public var message: String
    /// The education entry that explains the step.
    public var topic: EducationTopic

    /// Creates a recommendation.
    public init(kind: Kind, evidence: Estimate, message: String, topic: EducationTopic) {
        self.kind = kind
        self.evidence = evidence
        self.message = message
        self.topic = topic
    }
}

/// Turns the epoch's estimates and the user's profile into evidence-backed recommendations.
///
/// A recommendation is made only when (1) at least K reports of the supporting type back it, and
/// (2) the evidence holds at the lower end of its 95% interval, not just at the point estimate:
/// - a tool the user does not use, whose share among A-grade peers is at least
///   ``minimumToolShare`` even at the lower end of a one-sided 95% bound corrected for testing all
///   14 tools at once (Bonferroni, z = 2.69), and which an estimated K A-grade reports support
///   (``CommunityEstimates/toolUsage(_:)``);
/// - the tracker (risk) area when the user is in bucket 2 or higher and the share of peers in a
///   lower bucket exceeds ``minimumLaggingShare`` at the interval's lower end.
///
/// A labelled demo network may relax (2) through ``DisplayPolicy/recommendationConfidence`` (0: the point
/// estimate must pass); the evidence is always shown with its full 95% interval.
public struct RecommendationEngine: Hashable, Sendable {
    /// Lowest share (0–1) of A-grade peers using a tool, at the interval's lower end.
    public var minimumToolShare: Double
    /// Lowest share (0–1) of peers doing better than the user in an area, at the interval's lower end.
    public var minimumLaggingShare: Double
    /// At most this many tool recommendations.
    public var maximumToolRecommendations: Int

    /// Creates an engine.
    public init(
        minimumToolShare: Double = 1.0 / 3.0,
        minimumLaggingShare: Double = 0.5,
        maximumToolRecommendations: Int = 3
    ) {
        self.minimumToolShare = minimumToolShare
        self.minimumLaggingShare = minimumLaggingShare
        self.maximumToolRecommendations = maximumToolRecommendations
    }

    /// One-sided normal quantile for 95% confidence over all tools (Bonferroni over 14 tests).
    static let familyWiseZ = 2.69

    /// The recommendations for `profile`, tools first (most used by A-grade peers first), then
    /// trackers, then risk.
    public func recommendations(for profile: LocalProfile, estimates: CommunityEstimates) -> [P2PRecommendation] {
        var result: [P2PRecommendation] = []
        var tools: [(ProtectionTool, Estimate)] = []
        let confidence = estimates.policy.recommendationConfidence
        for tool in ProtectionTool.allCases where !profile.tools.contains(tool) {
            guard let usage = estimates.toolUsage(tool).value, let share = usage.shareAmongAGrade,
                usage.reports >= estimates.policy.subPopulationMinimum,
                share.value - confidence * Self.familyWiseZ * share.standardError >= self.minimumToolShare
            else { continue }
            tools.append((tool, share))
        }
        tools.sort { $0.1.value != $1.1.value ? $0.1.value > $1.1.value : $0.0.index < $1.0.index }
        for (tool, share) in tools.prefix(max(self.maximumToolRecommendations, 0)) {
            let percent = share.scaled(by: 100)
            result.append(
                P2PRecommendation(
                    kind: .adoptTool(tool),
                    evidence: percent,
                    message: InsightTexts.toolRecommendation(tool: tool, share: percent),
                    topic: EducationTopic.topic(for: tool)
                )
            )
        }
        if let lagging = self.lagging(bucket: profile.trackersBucket, in: estimates.trackers, policy: estimates.policy)
        {
            result.append(
                P2PRecommendation(
                    kind: .reduceTrackers,
                    evidence: lagging,
                    message: InsightTexts.trackerRecommendation(share: lagging),
                    topic: .tooManyTrackers
                )
            )
        }
        if let lagging = self.lagging(bucket: profile.riskBucket, in: estimates.risk, policy: estimates.policy) {
            result.append(
                P2PRecommendation(
                    kind: .reduceRisk,
                    evidence: lagging,
                    message: InsightTexts.riskRecommendation(share: lagging),
                    topic: .highRiskTrackers
                )
            )
        }
        return result
    }

    /// Percent of peers in a lower bucket than `bucket`, when the user lags by the engine's rule.
    private func lagging(bucket: Int, in histogram: HistogramEstimator, policy: DisplayPolicy) -> Estimate? {
        guard bucket >= 2, bucket < histogram.counts.count, histogram.total >= policy.subPopulationMinimum else {
            return nil
        }
        let weights = (0..<histogram.counts.count).map { $0 < bucket ? 1.0 : 0.0 }
        let share = histogram.linear(weights: weights, clampedTo: 0...1)
        let bound = share.value - policy.recommendationConfidence * Estimate.z95 * share.standardError
        guard bound > self.minimumLaggingShare else { return nil }
        return share.scaled(by: 100)
    }
}
