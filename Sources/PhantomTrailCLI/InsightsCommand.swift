import ArgumentParser
import CommunityInsights
import Foundation
import PrivacyCore
import TestSupport

/// `phantom-trail insights`: compares a privacy report with a synthetic community sent through the
/// randomize → estimate path and prints the dashboard.
struct InsightsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insights",
        abstract: "Compare a privacy report with a synthetic community of N users.",
        discussion: """
            The synthetic users send one epoch of locally randomized reports; the community figures are \
            estimated from those reports only, exactly as a peer would, and shown with 95% intervals.
            """
    )

    /// Largest synthetic community the command builds.
    static let maximumPopulation = 1_000_000

    @Option(name: .long, help: "Path of the privacy report (JSON).")
    var report: String

    @Option(name: .long, help: "Number of synthetic users (1–1,000,000).")
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
        let privacyReport = try readPrivacyReport(atPath: self.report)
        let dashboard = SyntheticCommunity.dashboard(
            for: privacyReport,
            size: self.population,
            seed: self.seed,
            now: Date()
        )
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            encoder.nonConformingFloatEncodingStrategy = .convertToString(
                positiveInfinity: "inf",
                negativeInfinity: "-inf",
                nan: "nan"
            )
            print(String(decoding: try encoder.encode(dashboard), as: UTF8.self))
        } else {
            print(InsightsFormatter.text(dashboard, population: self.population, seed: self.seed))
        }
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

// MARK: - Report file reader (TEMPORARY)

/// Reads the user's privacy report.
///
/// TEMPORARY, minimal reader: PrivacyCore's JSON decoder (`PrivacyReport(jsonData:)`, with
/// field-named errors) is being written concurrently; when it is merged, replace this function's body
/// with a call to it. Accepts the snake_case format of docs/privacy-report.schema.json.
func readPrivacyReport(atPath path: String) throws -> PrivacyReport {
    let maximumBytes = 4 << 20
    guard FileManager.default.fileExists(atPath: path) else {
        throw InsightsCommandError("report file not found: \(path)")
    }
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw InsightsCommandError("cannot read report file \(path): \(error.localizedDescription)")
    }
    guard data.count <= maximumBytes else {
        throw InsightsCommandError("report file \(path) is \(data.count) bytes; the limit is \(maximumBytes)")
    }
    let file: ReportFile
    do {
        file = try JSONDecoder().decode(ReportFile.self, from: data)
    } catch DecodingError.keyNotFound(let key, let context) {
        throw InsightsCommandError(
            "report file \(path): missing field \(InsightsCommandError.path(context.codingPath + [key]))"
        )
    } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
        throw InsightsCommandError(
            "report file \(path): wrong type at \(InsightsCommandError.path(context.codingPath))"
        )
    } catch DecodingError.dataCorrupted(let context) {
        let at = context.codingPath.isEmpty ? "" : " at \(InsightsCommandError.path(context.codingPath))"
        throw InsightsCommandError("report file \(path): invalid JSON or value\(at): \(context.debugDescription)")
    } catch {
        throw InsightsCommandError("report file \(path): \(error)")
    }
    guard (0...100).contains(file.score) else {
        throw InsightsCommandError("report file \(path): score must be 0–100, got \(file.score)")
    }
    return PrivacyReport(
        score: file.score,
        events: file.events.map {
            PrivacyReport.TrackerEvent(
                trackerDomain: $0.trackerDomain,
                trackerCategory: $0.trackerCategory,
                riskLevel: $0.riskLevel,
                siteCategory: $0.siteCategory,
                time: 0
            )
        },
        tools: Set(file.tools),
        region: file.region
    )
}

extension InsightsCommandError {
    fileprivate static func path(_ codingPath: [any CodingKey]) -> String {
        let joined = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
    }
}

/// A failure of the `insights` command, with a message naming the problem.
struct InsightsCommandError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

private struct ReportFile: Decodable {
    struct Event: Decodable {
        let trackerDomain: String
        let trackerCategory: TrackerCategory
        let riskLevel: RiskLevel
        let siteCategory: WebsiteCategory

        enum CodingKeys: String, CodingKey {
            case trackerDomain = "tracker_domain"
            case trackerCategory = "tracker_category"
            case riskLevel = "risk_level"
            case siteCategory = "site_category"
        }
    }

    let score: Int
    let events: [Event]
    let tools: [ProtectionTool]
    let region: Region?
}
