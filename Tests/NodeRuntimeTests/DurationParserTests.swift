import NodeRuntime
import Testing

@Suite("Duration parser")
struct DurationParserTests {
    @Test(
        "Whole numbers with one unit",
        arguments: [
            ("20s", 20), ("5m", 300), ("2h", 7_200), ("3d", 259_200), ("1w", 604_800), (" 90s\n", 90),
        ] as [(String, Int64)]
    )
    func parses(text: String, seconds: Int64) throws {
        #expect(try DurationParser.seconds(text) == seconds)
        #expect(try DurationParser.duration(text) == .seconds(seconds))
    }

    @Test(
        "Bad input is rejected with a message that names the problem",
        arguments: [
            ("", "empty"), ("20", "has no unit"), ("5x", "unknown unit \"x\""), ("m", "whole number"),
            ("-5m", "whole number"), ("1.5h", "whole number"), ("0s", "longer than zero"),
            ("99999999999999999999s", "too long"), ("9999999999999999w", "too long"),
        ]
    )
    func rejects(text: String, problem: String) {
        #expect {
            _ = try DurationParser.seconds(text)
        } throws: { error in
            guard let error = error as? NodeRuntimeError else { return false }
            return error.code == .invalidDuration && error.message.contains(problem)
        }
    }
}
