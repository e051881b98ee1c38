public import Foundation

// The JSON format of the local report (docs/privacy-report.schema.json), e.g.
// {"score": 91, "events": [{"tracker_domain": "doubleclick.net", "tracker_category": "advertising",
//   "risk_level": "high", "site_category": "news", "time": "2026-11-20T10:15:00Z"}],
//  "tools": ["ublock_origin"], "region": "europe"}

extension PrivacyReport {
    /// Decodes and validates a report from its JSON format.
    /// - Parameters:
    ///   - jsonData: the document, at most `maximumBytes` long.
    ///   - maximumBytes: the size limit (default ``Limits/maximumJSONBytes``, 16 MiB).
    /// - Throws: ``PrivacyReportError``, naming the offending field and the problem.
    public init(jsonData: Data, maximumBytes: Int = Limits.maximumJSONBytes) throws(PrivacyReportError) {
        guard jsonData.count <= maximumBytes else {
            throw .tooLarge(byteCount: jsonData.count, limit: maximumBytes)
        }
        let decoded: ReportDocument
        do {
            decoded = try JSONDecoder().decode(ReportDocument.self, from: jsonData)
        } catch let error as PrivacyReportError {
            throw error
        } catch let error as DecodingError {
            throw Self.translate(error)
        } catch {
            throw .malformedJSON(detail: String(describing: error))
        }
        self = decoded.report
        try self.validate()
    }

    /// The report in its JSON format (keys sorted, times as ISO 8601 UTC).
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try! encoder.encode(ReportDocument(report: self))
    }

    private static func translate(_ error: DecodingError) -> PrivacyReportError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalidField(path: fieldPath(context.codingPath + [key]), problem: .missing)
        case .typeMismatch(let type, let context):
            return .invalidField(path: fieldPath(context.codingPath), problem: .wrongType(expected: jsonTypeName(type)))
        case .valueNotFound(let type, let context):
            return .invalidField(path: fieldPath(context.codingPath), problem: .wrongType(expected: jsonTypeName(type)))
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = (context.underlyingError.map { String(describing: $0) }) ?? context.debugDescription
                return .malformedJSON(detail: detail)
            }
            return .invalidField(
                path: fieldPath(context.codingPath),
                problem: .wrongType(expected: "a value of the documented type")
            )
        @unknown default:
            return .malformedJSON(detail: String(describing: error))
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch type {
        case is Int.Type, is Double.Type: return "an integer"
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        default: return name.hasPrefix("Array") || name.hasPrefix("[") && !name.contains(":") ? "an array" : "an object"
        }
    }
}

/// Formats a coding path the way users read it: `events[3].risk_level`.
func fieldPath(_ codingPath: [any CodingKey]) -> String {
    var path = ""
    for key in codingPath {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return path.isEmpty ? "report" : path
}

/// A coding key for any field name (so unknown fields can be found and named).
struct FieldKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { self.stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where K == FieldKey {
    /// Rejects fields outside `known`.
    func rejectUnknownFields(_ known: Set<String>) throws(PrivacyReportError) {
        for key in self.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
            throw .invalidField(path: fieldPath(self.codingPath + [key]), problem: .unexpected)
        }
    }

    /// Decodes a string from a fixed vocabulary.
    func decodeVocabulary<T: RawRepresentable & CaseIterable>(_ type: T.Type, _ name: String) throws -> T
    where T.RawValue == String {
        let raw = try self.decode(String.self, forKey: FieldKey(name))
        guard let value = T(rawValue: raw) else {
            throw PrivacyReportError.invalidField(
                path: fieldPath(self.codingPath + [FieldKey(name)]),
                problem: .unknownValue(raw, expected: T.allCases.map(\.rawValue))
            )
        }
        return value
    }
}

/// Parses an ISO 8601 UTC date-time, with or without fractional seconds.
func parseISO8601(_ text: String) -> Date? {
    let plain = Date.ISO8601FormatStyle()
    if let date = try? plain.parse(text) {
        return date
    }
    return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
}

/// Formats a time as ISO 8601 UTC without fractional seconds.
func formatISO8601(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle())
}

private struct ReportDocument: Codable {
    var report: PrivacyReport

    init(report: PrivacyReport) { self.report = report }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        try container.rejectUnknownFields(["score", "events", "tools", "region"])
        // Decoded as a number first, so that 91.5 is reported as "not an integer" rather than as bad JSON.
        let number = try container.decode(Double.self, forKey: FieldKey("score"))
        guard number == number.rounded() else {
            throw PrivacyReportError.invalidField(path: "score", problem: .wrongType(expected: "an integer"))
        }
        guard (0...100).contains(number) else {
            throw PrivacyReportError.invalidField(
                path: "score",
                problem: .outOfRange(value: number.formatted(.number.grouping(.never)), allowed: "0...100")
            )
        }
        let score = Int(number)
        var eventsContainer = try container.nestedUnkeyedContainer(forKey: FieldKey("events"))
        if let count = eventsContainer.count, count > PrivacyReport.Limits.maximumEvents {
            throw PrivacyReportError.invalidField(
                path: "events",
                problem: .tooMany(count: count, limit: PrivacyReport.Limits.maximumEvents)
            )
        }
        var events: [PrivacyReport.TrackerEvent] = []
        while !eventsContainer.isAtEnd {
            events.append(try eventsContainer.decode(EventDocument.self).event)
        }
        var tools: Set<ProtectionTool> = []
        var toolsContainer = try container.nestedUnkeyedContainer(forKey: FieldKey("tools"))
        while !toolsContainer.isAtEnd {
            let index = toolsContainer.currentIndex
            let raw = try toolsContainer.decode(String.self)
            let path = "tools[\(index)]"
            guard let tool = ProtectionTool(rawValue: raw) else {
                throw PrivacyReportError.invalidField(
                    path: path,
                    problem: .unknownValue(raw, expected: ProtectionTool.allCases.map(\.rawValue))
                )
            }
            guard tools.insert(tool).inserted else {
                throw PrivacyReportError.invalidField(path: path, problem: .duplicate(raw))
            }
        }
        let region: Region? =
            container.contains(FieldKey("region"))
            ? try container.decodeVocabulary(Region.self, "region") : nil
        self.report = PrivacyReport(score: score, events: events, tools: tools, region: region)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(self.report.score, forKey: FieldKey("score"))
        try container.encode(self.report.events.map(EventDocument.init(event:)), forKey: FieldKey("events"))
        let tools = ProtectionTool.allCases.filter { self.report.tools.contains($0) }.map(\.rawValue)
        try container.encode(tools, forKey: FieldKey("tools"))
        try container.encodeIfPresent(self.report.region?.rawValue, forKey: FieldKey("region"))
    }
}

private struct EventDocument: Codable {
    var event: PrivacyReport.TrackerEvent

    init(event: PrivacyReport.TrackerEvent) { self.event = event }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldKey.self)
        try container.rejectUnknownFields(["tracker_domain", "tracker_category", "risk_level", "site_category", "time"])
        let domain = try container.decode(String.self, forKey: FieldKey("tracker_domain"))
        if let problem = PrivacyReport.domainProblem(domain) {
            throw PrivacyReportError.invalidField(
                path: fieldPath(container.codingPath + [FieldKey("tracker_domain")]),
                problem: problem
            )
        }
        let trackerCategory = try container.decodeVocabulary(TrackerCategory.self, "tracker_category")
        let riskLevel = try container.decodeVocabulary(RiskLevel.self, "risk_level")
        let siteCategory = try container.decodeVocabulary(WebsiteCategory.self, "site_category")
        let timeText = try container.decode(String.self, forKey: FieldKey("time"))
        guard let time = parseISO8601(timeText)?.timeIntervalSince1970,
            time >= PrivacyReport.Limits.earliestTime, time < PrivacyReport.Limits.latestTime
        else {
            throw PrivacyReportError.invalidField(
                path: fieldPath(container.codingPath + [FieldKey("time")]),
                problem: .invalidTime(timeText)
            )
        }
        self.event = PrivacyReport.TrackerEvent(
            trackerDomain: domain,
            trackerCategory: trackerCategory,
            riskLevel: riskLevel,
            siteCategory: siteCategory,
            time: time
        )
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldKey.self)
        try container.encode(self.event.trackerDomain, forKey: FieldKey("tracker_domain"))
        try container.encode(self.event.trackerCategory.rawValue, forKey: FieldKey("tracker_category"))
        try container.encode(self.event.riskLevel.rawValue, forKey: FieldKey("risk_level"))
        try container.encode(self.event.siteCategory.rawValue, forKey: FieldKey("site_category"))
        let date = Date(timeIntervalSince1970: self.event.time)
        try container.encode(formatISO8601(date), forKey: FieldKey("time"))
    }
}
