import ArgumentParser
import CommunityInsights
import Foundation
import NodeRuntime
import PrivacyCore
import Testing

@testable import PhantomTrailCLI

@Suite("demo command")
struct DemoCommandTests {
    @Test("Defaults: 60 synthetic peers, 10-second demo epochs with low proof of work, port 8787, the example report")
    func defaults() throws {
        let command = try #require(try PhantomTrail.parseAsRoot(["demo"]) as? DemoCommand)
        let options = try command.options()
        #expect(options.peerReports.count == 60)
        #expect(Set(options.peerReports.map(\.score)).count > 10)
        #expect(options.parameters.label == "demo")
        #expect(!options.parameters.isPublic)
        #expect(options.parameters.schedule.lengthSeconds == 10)
        #expect(options.parameters.difficultyBits == DemoOptions.difficultyBits)
        #expect(options.dashboardPort == 8787)
        #expect(options.userReport == (try PrivacyReport.example()))
        #expect(options.policy.networkMinimum < DisplayPolicy.standard.networkMinimum)
    }

    @Test("--peers, --epoch, --port and --seed are used; the same seed gives the same synthetic users")
    func flags() throws {
        let arguments = ["demo", "--peers", "12", "--epoch", "5m", "--port", "0", "--seed", "7", "--events", "jsonl"]
        let command = try #require(try PhantomTrail.parseAsRoot(arguments) as? DemoCommand)
        let options = try command.options()
        #expect(options.peerReports.count == 12)
        #expect(options.parameters.schedule.lengthSeconds == 300)
        #expect(options.dashboardPort == 0)
        #expect(command.events == .jsonl)
        let again = try #require(try PhantomTrail.parseAsRoot(arguments) as? DemoCommand).options()
        #expect(again.peerReports == options.peerReports)
    }

    @Test(
        "Bad flags are refused with a reason",
        arguments: [
            ["demo", "--peers", "0"],
            ["demo", "--peers", "501"],
            ["demo", "--epoch", "4s"],
            ["demo", "--epoch", "later"],
            ["demo", "--port", "70000"],
            ["demo", "--events", "xml"],
        ]
    )
    func badFlags(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try PhantomTrail.parseAsRoot(arguments) }
    }

    @Test("The built-in example report is examples/report.json")
    func exampleReport() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = try Data(contentsOf: root.appendingPathComponent("examples/report.json"))
        #expect(try PrivacyReport.example() == (try PrivacyReport(jsonData: file)))
    }
}
