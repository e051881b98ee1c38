import Foundation
import PrivacyCore
import Testing

@testable import PhantomTrailCLI

/// The one report-file reader both commands use: PrivacyCore's decoder behind a size check.
@Suite("Report file reader")
struct ReportFileTests {
    @Test("A valid file decodes to the report it describes")
    func valid() throws {
        let files = try ReportFiles()
        let report = try readPrivacyReport(atPath: try files.write(exampleReport))
        #expect(report.score == 82)
        #expect(report.events.count == 3)
        #expect(report.tools == [.uBlockOrigin])
        #expect(report.region == .europe)
    }

    @Test(
        "Bad content is refused with the file and the offending field named",
        arguments: [
            (#"{"score": 150, "events": [], "tools": []}"#, "score"),
            (#"{"score": 50, "tools": []}"#, "events"),
            (#"{"score": 50, "events": [], "tools": ["no_such_tool"]}"#, "tools[0]"),
            (#"{"score": "high", "events": [], "tools": []}"#, "score"),
            ("{\"score\": 50,", "not valid JSON"),
            ("", "not valid JSON"),
        ]
    )
    func badContent(contents: String, expected: String) throws {
        let files = try ReportFiles()
        let path = try files.write(contents)
        #expect {
            try readPrivacyReport(atPath: path)
        } throws: { error in
            let message = String(describing: error)
            return message.hasPrefix("\(path): ") && message.contains(expected)
        }
    }

    @Test("A missing file, a directory and a file over the size limit are refused before decoding")
    func badFiles() throws {
        let files = try ReportFiles()
        let missing = files.directory.appendingPathComponent("absent.json").path
        #expect(throws: CommandError.self) { try readPrivacyReport(atPath: missing) }
        #expect {
            try readPrivacyReport(atPath: files.directory.path)
        } throws: { error in
            String(describing: error) == "\(files.directory.path): not a regular file"
        }
        let path = try files.write(exampleReport)
        let size = exampleReport.utf8.count
        #expect {
            try readPrivacyReport(atPath: path, maximumBytes: size - 1)
        } throws: { error in
            String(describing: error).contains("too large (\(size) bytes, at most \(size - 1))")
        }
        #expect(try readPrivacyReport(atPath: path, maximumBytes: size).score == 82)
    }

    @Test("The default limit is PrivacyCore's 16 MiB")
    func defaultLimit() throws {
        let files = try ReportFiles()
        let padding = String(repeating: " ", count: PrivacyReport.Limits.maximumJSONBytes)
        let path = try files.write(exampleReport + padding)
        #expect {
            try readPrivacyReport(atPath: path)
        } throws: { error in
            String(describing: error).contains("at most \(16 * 1024 * 1024)")
        }
    }
}
