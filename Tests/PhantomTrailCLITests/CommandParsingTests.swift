import ArgumentParser
import Testing

@testable import PhantomTrailCLI

/// Flags and `validate()` of every command, parsed in-process as `phantom-trail` would.
@Suite("Command-line parsing")
struct CommandParsingTests {
    @Test("insights: the flags reach the command; the seed defaults to 1")
    func insightsFlags() throws {
        let parsed = try PhantomTrail.parseAsRoot(["insights", "--report", "r.json", "--population", "250"])
        let command = try #require(parsed as? InsightsCommand)
        #expect(command.report == "r.json")
        #expect(command.population == 250)
        #expect(command.seed == 1)
        #expect(!command.json)

        let seeded = try #require(
            try PhantomTrail.parseAsRoot([
                "insights", "--report", "r.json", "--population", "1", "--seed", "9", "--json",
            ])
                as? InsightsCommand
        )
        #expect(seeded.seed == 9 && seeded.json && seeded.population == 1)
    }

    @Test("anonymize: the flags reach the command; defaults are the public network and no seed")
    func anonymizeFlags() throws {
        let plain = try #require(
            try PhantomTrail.parseAsRoot(["anonymize", "--report", "r.json"]) as? AnonymizeCommand
        )
        #expect(plain.report == "r.json")
        #expect(plain.network == .public && plain.seed == nil && plain.now == nil)
        #expect(!plain.json && !plain.mint && !plain.shareRegionalData)

        let full = try #require(
            try PhantomTrail.parseAsRoot([
                "anonymize", "--report", "r.json", "--json", "--share-regional-data", "--network", "demo",
                "--now", "2026-11-27T12:00:00Z", "--seed", "4", "--mint",
            ]) as? AnonymizeCommand
        )
        #expect(full.json && full.shareRegionalData && full.mint)
        #expect(full.network == .demo && full.seed == 4 && full.now == "2026-11-27T12:00:00Z")
    }

    @Test(
        "Bad flags of every command are refused with a message naming the problem",
        arguments: [
            (
                ["insights", "--report", "r.json", "--population", "0"],
                "--population must be between 1 and 100000, got 0"
            ),
            (["insights", "--report", "r.json", "--population", "100001"], "got 100001"),
            (["insights", "--report", "r.json", "--population", "many"], "many"),
            (["insights", "--report", "r.json", "--population", "10", "--seed", "1.5"], "1.5"),
            (["insights", "--population", "10"], "--report"),
            (["insights", "--report", "r.json"], "--population"),
            (["insights", "--report", "r.json", "--population", "10", "--verbose"], "--verbose"),
            (["anonymize", "--report", "r.json", "--now", "yesterday"], "--now: \"yesterday\" is not an ISO 8601"),
            (["anonymize", "--report", "r.json", "--network", "mainnet"], "mainnet"),
            (["anonymize", "--report", "r.json", "--seed", "x"], "x"),
            (["anonymize"], "--report"),
            (["p2p", "id", "--key", "k"], "--key"),
            (["frobnicate"], "frobnicate"),
        ]
    )
    func badFlags(arguments: [String], expected: String) {
        #expect {
            try PhantomTrail.parseAsRoot(arguments)
        } throws: { error in
            PhantomTrail.message(for: error).contains(expected)
        }
    }

    @Test("p2p id parses without flags")
    func p2pID() throws {
        #expect(try PhantomTrail.parseAsRoot(["p2p", "id"]) is P2PCommand.ID)
    }
}
