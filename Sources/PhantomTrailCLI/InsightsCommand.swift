import ArgumentParser
import CommunityInsights
import Foundation
import PrivacyCore
import TestSupport

/// `phantom-trail insights`: compares a privacy report with a synthetic community sent through the
/// anonymize → randomize → envelope → decode → estimate path and prints the dashboard.
struct InsightsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insights",
        abstract: "Compare a privacy report with a synthetic community of N users.",
        discussion: """
            Every synthetic user anonymizes a report, randomizes one epoch of wire reports with its own \
            secret and sends them as 512-byte envelopes with proof of work (on a network labelled \
            "synthetic" with difficulty 0); the envelopes are decoded and checked as a peer does, and \
            the community figures are estimated from the admitted reports only, with 95% intervals.
            """
    )

    /// Largest synthetic community the command builds: every user's two 512-byte envelopes are kept in
    /// memory (about 100 MiB at this size) and each costs two scrypt calls.
    static let maximumPopulation = 100_000

    @Option(name: .long, help: "The local privacy report (JSON, at most 16 MiB).")
    var report: String

    @Option(name: .long, help: "Number of synthetic users (1–100,000).")
    var population: Int

    @Option(name: .long, help: "Seed of the synthetic community.")
    var seed: UInt64 = 1

    @Flag(name: .long, help: "Print the dashboard as JSON.")
    var json = false

    func validate() throws {
        guard (1...Self.maximumPopulation).contains(self.population) else {
            throw ValidationError(
                "--population must be between 1 and \(Self.maximumPopulation), got \(self.population)"
            )
        }
    }

    func run() async throws {
        print(try await self.output(now: Date()))
    }

    /// What the command prints: the dashboard of the report in a synthetic community, as text or JSON.
    /// - Parameter now: the current time (picks the epoch; stamped on the statistics).
    func output(now: Date) async throws -> String {
        let privacyReport = try readPrivacyReport(atPath: self.report)
        let dashboard = try await SyntheticCommunity.dashboard(
            for: privacyReport,
            size: self.population,
            seed: self.seed,
            now: now
        )
        guard self.json else {
            return InsightsFormatter.text(dashboard, population: self.population, seed: self.seed)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return String(decoding: try encoder.encode(dashboard), as: UTF8.self)
    }
}

/// Plain-text rendering of a ``CommunityDashboard``.
enum InsightsFormatter {
    static func text(_ dashboard: CommunityDashboard, population: Int, seed: UInt64) -> String {
        var lines = ["Community insights (synthetic community of \(population) users, seed \(seed))", ""]
        lines += dashboard.texts.map { "  \($0)" }
        lines += ["", "Figures (95% intervals):"]
        lines.append("  average score: \(self.figure(dashboard.stats.averageScore, unit: ""))")
        if case .shown(let median) = dashboard.stats.medianScore {
            lines.append("  median score: \(InsightTexts.whole(median))")
        }
        lines.append("  better than: \(self.figure(dashboard.comparison.betterThan, unit: "%"))")
        lines.append("  percentile (at or below you): \(self.figure(dashboard.comparison.percentile, unit: "%"))")
        if case .shown(let grades) = dashboard.leaderboard.grades {
            lines.append("  grades:")
            for row in grades {
                lines.append(
                    "    \(row.grade)  \(self.percent(row.share))  ~\(row.estimatedUsers) users\(row.isYou ? "  ← you" : "")"
                )
            }
        }
        lines.append(
            "  trackers: \(self.distribution(dashboard.trackerDistribution, labels: (0..<6).map(LocalProfile.trackersBucketLabel)))"
        )
        lines.append(
            "  risk: \(self.distribution(dashboard.riskDistribution, labels: (0..<4).map(LocalProfile.riskBucketLabel)))"
        )
        lines.append("  regions:")
        for row in dashboard.leaderboard.regions {
            let marker = row.isYou ? "  ← you" : ""
            switch row.stats {
            case .shown(let stats):
                let share = row.shareAOrB.map { ", A or B \(self.percent($0))" } ?? ""
                lines.append(
                    "    \(row.region.displayName): \(stats.reports) reports, typical grade \(stats.typicalGrade)\(share)\(marker)"
                )
            case .needsMoreReports(let have, let needed):
                lines.append(
                    "    \(row.region.displayName): \(InsightTexts.needsMore(have: have, needed: needed))\(marker)"
                )
            }
        }
        lines.append("  tools among A-grade peers:")
        if dashboard.popularTools.isEmpty {
            lines.append("    withheld: no tool has \(DisplayPolicy.standard.subPopulationMinimum) reports yet")
        }
        for usage in dashboard.popularTools {
            lines.append("    \(InsightTexts.toolPopularity(.shown(usage), tool: usage.tool))")
        }
        lines += ["", "Privacy score explanation:", "  \(PeerContext.scoreExplanation(dashboard))"]
        if !dashboard.education.isEmpty {
            lines += ["", "Learn more:"]
            lines += dashboard.education.map { "  \($0.entry.title): \($0.entry.body)" }
        }
        return lines.joined(separator: "\n")
    }

    private static func figure(_ figure: Displayed<Estimate>, unit: String) -> String {
        switch figure {
        case .shown(let estimate):
            "\(InsightTexts.whole(estimate.value))\(unit) (\(InsightTexts.range(estimate))\(unit), "
                + "\(estimate.supportingReports) reports)"
        case .needsMoreReports(let have, let needed): InsightTexts.gathering(have: have, needed: needed)
        }
    }

    private static func percent(_ estimate: Estimate) -> String {
        "\(InsightTexts.whole(estimate.value))% (\(InsightTexts.range(estimate))%)"
    }

    private static func distribution(_ figure: Displayed<[Estimate]>, labels: [String]) -> String {
        switch figure {
        case .shown(let shares):
            zip(labels, shares).map { "\($0) \(InsightTexts.whole($1.value))%" }.joined(separator: ", ")
        case .needsMoreReports(let have, let needed): InsightTexts.needsMore(have: have, needed: needed)
        }
    }
}
