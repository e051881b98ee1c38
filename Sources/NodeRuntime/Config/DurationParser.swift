/// Parses durations written as a whole number and one unit: `20s`, `5m`, `2h`, `3d`, `1w`.
///
/// Units: `s` seconds, `m` minutes, `h` hours, `d` days, `w` weeks. The number must be positive and the
/// result must fit in 64-bit seconds.
public enum DurationParser {
    /// The seconds in one unit, by unit letter.
    static let unitSeconds: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]

    /// The duration `text` stands for, in seconds.
    /// - Throws: ``NodeRuntimeError/Code/invalidDuration`` naming what is wrong with `text`.
    public static func seconds(_ text: String) throws(NodeRuntimeError) -> Int64 {
        let trimmed = text.trimmingWhitespace()
        let example = "write a whole number and a unit, e.g. 20s, 5m, 2h, 3d or 1w"
        guard let unit = trimmed.last else {
            throw NodeRuntimeError(.invalidDuration, "empty duration: \(example)")
        }
        guard let perUnit = Self.unitSeconds[unit] else {
            let problem = unit.isNumber ? "has no unit" : "has an unknown unit \"\(unit)\""
            throw NodeRuntimeError(.invalidDuration, "duration \"\(text)\" \(problem): \(example)")
        }
        let digits = trimmed.dropLast()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw NodeRuntimeError(
                .invalidDuration,
                "duration \"\(text)\" does not start with a whole number: \(example)"
            )
        }
        guard let count = Int64(digits) else {
            throw NodeRuntimeError(.invalidDuration, "duration \"\(text)\" is too long")
        }
        guard count > 0 else {
            throw NodeRuntimeError(.invalidDuration, "duration \"\(text)\" must be longer than zero")
        }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: perUnit)
        guard !overflow else {
            throw NodeRuntimeError(.invalidDuration, "duration \"\(text)\" is too long")
        }
        return seconds
    }

    /// The duration `text` stands for.
    /// - Throws: ``NodeRuntimeError/Code/invalidDuration`` naming what is wrong with `text`.
    public static func duration(_ text: String) throws(NodeRuntimeError) -> Duration {
        .seconds(try Self.seconds(text))
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return slice
    }
}
