import ArgumentParser
import Foundation
import PrivacyCore
import Testing

@testable import PhantomTrailCLI

/// The anonymize command's output: the summary and this epoch's wire reports, as JSON and as text.
@Suite("anonymize output")
struct AnonymizeCommandTests {
    static func command(_ files: ReportFiles, _ extra: [String]) throws -> AnonymizeCommand {
        let path = try files.write(exampleReport)
        let parsed = try PhantomTrail.parseAsRoot(["anonymize", "--report", path, "--seed", "11"] + extra)
        return try #require(parsed as? AnonymizeCommand)
    }

    @Test("--json prints the summary, the network, the epoch and two typed wire reports")
    func json() throws {
        let files = try ReportFiles()
        let output = try Self.command(files, ["--json", "--share-regional-data"]).output(now: fixedNow)
        let object = try #require(try jsonObject(output) as? [String: Any])
        #expect(Set(object.keys) == ["summary", "network", "epoch", "epoch_start", "epoch_end", "reports"])

        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["privacy_score"] as? Int == 80)
        #expect(summary["grade"] as? String == "B")
        #expect(summary["tracker_count"] as? Int == 3)
        #expect(summary["region"] as? String == "europe")
        #expect(summary["website_categories"] as? [String] == ["news", "shopping"])
        #expect(summary["timestamp"] is String && summary["risk_distribution"] is [String: Any])

        let network = try #require(object["network"] as? [String: Any])
        #expect(network["label"] as? String == "public")
        #expect(network["epoch_length_seconds"] as? Int == 604_800)
        #expect(network["difficulty_bits"] as? Int == NetworkParameters.publicNetwork.difficultyBits)
        let epoch = try #require(object["epoch"] as? Int)
        #expect(epoch == Int(try EpochSchedule.weekly.epoch(containing: fixedNow)))
        #expect(object["epoch_start"] is String && object["epoch_end"] is String)

        let reports = try #require(object["reports"] as? [[String: Any]])
        #expect(reports.count == 2)
        #expect(reports.first?["type"] as? String == "score")
        for report in reports {
            #expect(Set(report.keys) == ["type", "epsilon", "send_at", "value"])
            #expect(report["epsilon"] is Double && report["send_at"] is String)
            #expect(report["value"] is [String: Any])
        }
        let decile = try #require((reports[0]["value"] as? [String: Any])?["decile"] as? Int)
        #expect((0...9).contains(decile))
    }

    @Test("Without --share-regional-data the summary carries no region")
    func noRegion() throws {
        let files = try ReportFiles()
        let output = try Self.command(files, ["--json"]).output(now: fixedNow)
        let summary = try #require((try jsonObject(output) as? [String: Any])?["summary"] as? [String: Any])
        #expect(summary["region"] == nil || summary["region"] is NSNull)
    }

    @Test("--seed and --now make the output reproducible; --now overrides the clock")
    func reproducible() throws {
        let files = try ReportFiles()
        let command = try Self.command(files, ["--now", "2026-11-27T12:00:00Z"])
        let first = try command.output(now: fixedNow)
        #expect(first == (try command.output(now: Date(timeIntervalSince1970: 1_800_000_000))))
        #expect(first.hasPrefix("Anonymized summary (stays on this device):\n"))
        #expect(first.contains("Privacy score:   80 (grade B; measured 82)"))
        #expect(first.contains("Region:          not shared"))
        #expect(first.contains("  1. score: score decile"))
        #expect(first.contains("  2. "))
    }

    @Test("--mint on the demo network shows 512-byte envelopes that a peer admits")
    func mint() throws {
        let files = try ReportFiles()
        let output = try Self.command(files, ["--json", "--mint", "--network", "demo"]).output(now: fixedNow)
        let object = try #require(try jsonObject(output) as? [String: Any])
        let epoch = try #require(object["epoch"] as? Int)
        let reports = try #require(object["reports"] as? [[String: Any]])
        for report in reports {
            let hex = try #require(report["envelope_hex"] as? String)
            #expect(hex.count == 2 * ReportEnvelope.size)
            let bytes = stride(from: 0, to: hex.count, by: 2).map { offset in
                let start = hex.index(hex.startIndex, offsetBy: offset)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16) ?? 0
            }
            let envelope = try ReportEnvelope(decoding: bytes)
            try envelope.validate(parameters: .demo, currentEpoch: UInt32(epoch))
            #expect(report["type"] as? String == envelope.report.type.rawValue)
            #expect(report["mint_seconds"] is Double && report["verify_seconds"] is Double)
        }
    }

    @Test("A bad report file makes the command fail with the file named")
    func badFile() throws {
        let files = try ReportFiles()
        let path = try files.write(#"{"score": 101, "events": [], "tools": []}"#)
        let command = try #require(try PhantomTrail.parseAsRoot(["anonymize", "--report", path]) as? AnonymizeCommand)
        #expect {
            try command.output(now: fixedNow)
        } throws: { error in
            String(describing: error).hasPrefix("\(path): score")
        }
    }
}
