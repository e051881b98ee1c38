import Foundation
import PrivacyCore

/// Reads and validates the local privacy report at `path` with PrivacyCore's decoder.
///
/// The size is checked before anything is read, so a huge file is refused without loading it.
/// - Parameters:
///   - path: the report file (JSON, docs/privacy-report.schema.json).
///   - maximumBytes: the size limit (default 16 MiB, ``PrivacyReport/Limits/maximumJSONBytes``).
/// - Throws: ``CommandError`` naming the file and the problem (the offending field for bad content).
func readPrivacyReport(
    atPath path: String,
    maximumBytes: Int = PrivacyReport.Limits.maximumJSONBytes
) throws(CommandError) -> PrivacyReport {
    let attributes: [FileAttributeKey: Any]
    do {
        attributes = try FileManager.default.attributesOfItem(atPath: path)
    } catch {
        throw CommandError("\(path): cannot read the file (\(error.localizedDescription))")
    }
    guard (attributes[.type] as? FileAttributeType) == .typeRegular else {
        throw CommandError("\(path): not a regular file")
    }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    guard size <= maximumBytes else {
        throw CommandError("\(path): \(PrivacyReportError.tooLarge(byteCount: size, limit: maximumBytes))")
    }
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw CommandError("\(path): cannot read the file (\(error.localizedDescription))")
    }
    do {
        return try PrivacyReport(jsonData: data, maximumBytes: maximumBytes)
    } catch {
        throw CommandError("\(path): \(error)")
    }
}

/// A failure a command reports as "Error: <message>" with exit code 1.
struct CommandError: Error, CustomStringConvertible {
    /// The message, naming the problem.
    let description: String

    init(_ description: String) { self.description = description }
}
