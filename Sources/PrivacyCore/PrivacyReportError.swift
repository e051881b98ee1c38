/// Why a ``PrivacyReport`` (or its JSON) was rejected. Every field error names the field's path, for
/// example `events[3].risk_level: unknown value "severe" (expected one of low, medium, high, critical)`.
public enum PrivacyReportError: Error, Equatable, CustomStringConvertible {
    /// The input is larger than the decoder accepts.
    case tooLarge(byteCount: Int, limit: Int)
    /// The input is not JSON at all.
    case malformedJSON(detail: String)
    /// One field is missing, unexpected or invalid.
    case invalidField(path: String, problem: Problem)

    /// What is wrong with one field.
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        /// A required field is absent.
        case missing
        /// A field that the format does not define.
        case unexpected
        /// The JSON type is wrong (for example a string where a number belongs).
        case wrongType(expected: String)
        /// A string outside a fixed vocabulary.
        case unknownValue(String, expected: [String])
        /// A number outside its allowed range.
        case outOfRange(value: String, allowed: String)
        /// A string longer than allowed.
        case tooLong(length: Int, limit: Int)
        /// An array with more elements than allowed.
        case tooMany(count: Int, limit: Int)
        /// A tracker domain that is not a host name.
        case invalidDomain(String)
        /// A time that is not an ISO 8601 UTC date-time in the accepted range.
        case invalidTime(String)
        /// A value listed twice where each may appear once.
        case duplicate(String)

        public var description: String {
            switch self {
            case .missing: "required field is missing"
            case .unexpected: "unknown field"
            case .wrongType(let expected): "wrong type, expected \(expected)"
            case .unknownValue(let value, let expected):
                "unknown value \"\(value)\" (expected one of \(expected.joined(separator: ", ")))"
            case .outOfRange(let value, let allowed): "\(value) is out of range (allowed: \(allowed))"
            case .tooLong(let length, let limit): "too long (\(length) characters, at most \(limit))"
            case .tooMany(let count, let limit): "too many elements (\(count), at most \(limit))"
            case .invalidDomain(let domain): "\"\(domain)\" is not a valid domain name"
            case .invalidTime(let time):
                "\"\(time)\" is not an ISO 8601 UTC date-time between 2000 and 2100 (e.g. 2026-11-20T10:15:00Z)"
            case .duplicate(let value): "\"\(value)\" is listed more than once"
            }
        }
    }

    public var description: String {
        switch self {
        case .tooLarge(let byteCount, let limit): "report is too large (\(byteCount) bytes, at most \(limit))"
        case .malformedJSON(let detail): "report is not valid JSON: \(detail)"
        case .invalidField(let path, let problem): "\(path): \(problem)"
        }
    }
}
