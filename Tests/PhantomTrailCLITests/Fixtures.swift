import Foundation

/// A temporary directory for report files, removed when the test ends.
final class ReportFiles {
    let directory: URL

    init() throws {
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("phantom-trail-cli-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// Writes `contents` to a file named `name` and returns its path.
    func write(_ contents: String, named name: String = "report.json") throws -> String {
        let url = self.directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
        return url.path
    }
}

/// A small valid report (docs/privacy-report.schema.json): 3 tracker domains, one high-risk event.
let exampleReport = """
    {
      "score": 82,
      "events": [
        {"tracker_domain": "doubleclick.net", "tracker_category": "advertising", "risk_level": "high",
         "site_category": "news", "time": "2026-11-16T08:12:40Z"},
        {"tracker_domain": "google-analytics.com", "tracker_category": "analytics", "risk_level": "medium",
         "site_category": "news", "time": "2026-11-16T08:12:41Z"},
        {"tracker_domain": "scorecardresearch.com", "tracker_category": "analytics", "risk_level": "low",
         "site_category": "shopping", "time": "2026-11-16T19:03:05Z"}
      ],
      "tools": ["ublock_origin"],
      "region": "europe"
    }
    """

/// A fixed "now" (mid-November 2026), so that outputs do not depend on the clock.
let fixedNow = Date(timeIntervalSince1970: 1_795_000_000)

/// Parses JSON text into Foundation objects.
func jsonObject(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
}
