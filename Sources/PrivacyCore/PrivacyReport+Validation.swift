import Foundation

extension PrivacyReport {
    /// Limits of the local report format (docs/privacy-report.schema.json states the same numbers).
    public enum Limits {
        /// Largest accepted JSON document, in bytes (16 MiB).
        public static let maximumJSONBytes = 16 * 1024 * 1024
        /// Most tracker events in one report.
        public static let maximumEvents = 100_000
        /// Longest tracker domain (a DNS name has at most 253 characters).
        public static let maximumDomainLength = 253
        /// Earliest accepted event time: 2000-01-01T00:00:00Z.
        public static let earliestTime: Double = 946_684_800
        /// Latest accepted event time (exclusive): 2100-01-01T00:00:00Z.
        public static let latestTime: Double = 4_102_444_800
    }

    /// Checks every rule of the format; the error names the first offending field.
    public func validate() throws(PrivacyReportError) {
        guard (0...100).contains(self.score) else {
            throw .invalidField(path: "score", problem: .outOfRange(value: String(self.score), allowed: "0...100"))
        }
        guard self.events.count <= Limits.maximumEvents else {
            throw .invalidField(
                path: "events",
                problem: .tooMany(count: self.events.count, limit: Limits.maximumEvents)
            )
        }
        for (index, event) in self.events.enumerated() {
            if let problem = Self.domainProblem(event.trackerDomain) {
                throw .invalidField(path: "events[\(index)].tracker_domain", problem: problem)
            }
            guard event.time.isFinite, event.time >= Limits.earliestTime, event.time < Limits.latestTime else {
                throw .invalidField(path: "events[\(index)].time", problem: .invalidTime(String(event.time)))
            }
        }
    }

    /// The number of distinct tracker domains (case-insensitive): the report's uncapped tracker count.
    public var distinctTrackerCount: Int {
        Set(self.events.map { $0.trackerDomain.lowercased() }).count
    }

    static func domainProblem(_ domain: String) -> PrivacyReportError.Problem? {
        let length = domain.utf8.count
        guard length <= Limits.maximumDomainLength else {
            return .tooLong(length: length, limit: Limits.maximumDomainLength)
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !domain.isEmpty
            && labels.allSatisfy { label in
                !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { byte in
                        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                    }
            }
        return valid ? nil : .invalidDomain(domain)
    }
}
