import ArgumentParser
import CommunityInsights
import Foundation
import PrivacyCore
import TestSupport
import Testing

@testable import PhantomTrailCLI

/// The insights command's output: the dashboard of the report in a seeded synthetic community.
@Suite("insights output")
struct InsightsCommandTests {
    static func command(
        _ path: String,
        population: Int = 400,
        seed: UInt64 = 3,
        json: Bool = false
    ) throws
        -> InsightsCommand
    {
        var arguments = ["insights", "--report", path, "--population", String(population), "--seed", String(seed)]
        if json { arguments.append("--json") }
        return try #require(try PhantomTrail.parseAsRoot(arguments) as? InsightsCommand)
    }

    @Test("The text shows the header, every dashboard text and the figures with intervals")
    func text() async throws {
        let files = try ReportFiles()
        let path = try files.write(exampleReport)
        let output = try await Self.command(path).output(now: fixedNow)
        let dashboard = try await SyntheticCommunity.dashboard(
            for: try readPrivacyReport(atPath: path),
            size: 400,
            seed: 3,
            now: fixedNow
        )
        #expect(output.hasPrefix("Community insights (synthetic community of 400 users, seed 3)\n"))
        #expect(!dashboard.texts.isEmpty)
        for text in dashboard.texts {
            #expect(output.contains("  \(text)\n"), "missing: \(text)")
        }
        #expect(output.contains("Figures (95% intervals):"))
        let average = try #require(dashboard.stats.averageScore.value)
        #expect(output.contains("average score: \(InsightTexts.whole(average.value)) ("))
        #expect(output.contains("Privacy score explanation:"))
    }

    @Test("The same seed gives the same output; another seed gives other figures")
    func seeded() async throws {
        let files = try ReportFiles()
        let path = try files.write(exampleReport)
        let first = try await Self.command(path, seed: 8).output(now: fixedNow)
        #expect(first == (try await Self.command(path, seed: 8).output(now: fixedNow)))
        #expect(first != (try await Self.command(path, seed: 9).output(now: fixedNow)))
    }

    @Test("--json prints the dashboard, whose texts and figures match the text output's source")
    func json() async throws {
        let files = try ReportFiles()
        let path = try files.write(exampleReport)
        let output = try await Self.command(path, json: true).output(now: fixedNow)
        let object = try #require(try jsonObject(output) as? [String: Any])
        #expect(object["texts"] is [String])
        #expect(object["stats"] is [String: Any] && object["comparison"] is [String: Any])
        let decoded = try JSONDecoder.iso8601.decode(CommunityDashboard.self, from: Data(output.utf8))
        let expected = try await SyntheticCommunity.dashboard(
            for: try readPrivacyReport(atPath: path),
            size: 400,
            seed: 3,
            now: fixedNow
        )
        #expect(decoded.texts == expected.texts)
        #expect(decoded.stats.averageScore == expected.stats.averageScore)
    }

    @Test("A tiny community withholds the figures instead of showing noise")
    func tiny() async throws {
        let files = try ReportFiles()
        let output = try await Self.command(try files.write(exampleReport), population: 10).output(now: fixedNow)
        #expect(output.contains("average score: gathering data (10 of 50 reports so far)"))
    }

    @Test("A bad report file makes the command fail with the file and the field named")
    func badFile() async throws {
        let files = try ReportFiles()
        let path = try files.write(#"{"score": 50, "events": [{"tracker_domain": "x..y"}], "tools": []}"#)
        await #expect {
            try await Self.command(path).output(now: fixedNow)
        } throws: { error in
            String(describing: error).hasPrefix("\(path): events[0]")
        }
        await #expect(throws: CommandError.self) {
            try await Self.command(files.directory.appendingPathComponent("absent.json").path).output(now: fixedNow)
        }
    }
}

extension JSONDecoder {
    fileprivate static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf",
            negativeInfinity: "-inf",
            nan: "nan"
        )
        return decoder
    }
}
