public import CommunityInsights
public import Foundation
public import PrivacyCore

/// A synthetic community for demos and the `insights` command: `size` synthetic users send one
/// epoch of randomized reports, which go through the estimators, and the user's report is compared
/// with the result.
public enum SyntheticCommunity {
    /// The dashboard `report`'s owner would see in a synthetic network of `size` users.
    /// - Parameters:
    ///   - report: the user's local report.
    ///   - size: number of synthetic users.
    ///   - seed: seed of the population and of the randomization.
    ///   - now: the time stamped on the statistics.
    public static func dashboard(for report: PrivacyReport, size: Int, seed: UInt64, now: Date) -> CommunityDashboard {
        let population = SyntheticPopulation(count: size, seed: seed)
        let estimates = CommunityEstimates(reports: population.randomizedReports(seed: seed &+ 1))
        return CommunityDashboard(
            estimates: estimates,
            profile: LocalProfile(report: report),
            lastUpdated: now,
            epochProgress: 1
        )
    }
}
