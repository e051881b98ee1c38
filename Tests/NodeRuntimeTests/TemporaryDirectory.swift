import Foundation
import NodeRuntime

/// A fresh directory under the system's temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        self.path =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("node-runtime-tests-\(UUID().uuidString)", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    /// A data directory inside this one (not yet created).
    func dataDirectory(_ name: String = "data") -> DataDirectory {
        DataDirectory(path: self.path + "/" + name, currentDirectory: "/")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

/// The permission bits of a file.
func permissions(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// A small valid local report (docs/privacy-report.schema.json).
let exampleReportJSON = """
    {"score": 82, "tools": ["ublock_origin"], "region": "europe", "events": [
      {"tracker_domain": "doubleclick.net", "tracker_category": "advertising", "risk_level": "high",
       "site_category": "news", "time": "2026-11-16T08:12:40Z"}]}
    """
