import ArgumentParser
import CommunityInsights
import Foundation
import NodeRuntime
import P2PCore
import PrivacyCore
import Testing

@testable import PhantomTrailCLI

@Suite("node command")
struct NodeCommandTests {
    @Test("Defaults: not joined, not sharing, the public network, listening on loopback")
    func defaults() throws {
        let command = try PhantomTrail.parseAsRoot(["node"]) as? NodeCommand
        let options = try #require(command).options()
        #expect(options.settings == P2PSettings())
        #expect(options.parameters.isPublic)
        #expect(options.listenAddresses.map(\.description) == ["/ip4/127.0.0.1/tcp/0"])
    }

    @Test("--join --share --share-region set the consent settings and the report's region")
    func consentFlags() throws {
        let files = try ReportFiles()
        let path = try files.write(exampleReport)
        let parsed = try PhantomTrail.parseAsRoot([
            "node", "--join", "--share", "--report", path, "--share-region", "europe", "--max-connections", "4",
        ])
        let options = try #require(parsed as? NodeCommand).options()
        #expect(options.settings.joinPrivacyNetwork)
        #expect(options.settings.shareAnonymousData)
        #expect(options.settings.shareRegionalData)
        #expect(options.settings.maxConnections == 4)
        #expect(options.report?.region == .europe)
    }

    @Test("Stored settings are used when no flag is given; flags override them for the run")
    func storedSettingsAndOverrides() throws {
        let stored = StoredSettings(
            p2p: try P2PSettings(joinPrivacyNetwork: true, maxConnections: 7),
            node: try NodeOptions(
                listenAddresses: ["/ip4/127.0.0.1/tcp/4555"],
                bootstrapAddresses: ["/ip4/192.0.2.9/tcp/4001/p2p/\(PeerID(publicKey: PrivateKey().publicKey))"],
                mdns: true
            )
        )
        let plain = try #require(try PhantomTrail.parseAsRoot(["node"]) as? NodeCommand).options(stored: stored)
        #expect(plain.settings == stored.p2p)
        #expect(plain.mdns)
        #expect(plain.listenAddresses.map(\.description) == stored.node.listenAddresses)
        #expect(plain.bootstrap.map(\.description) == stored.node.bootstrapAddresses)

        let parsed = try PhantomTrail.parseAsRoot([
            "node", "--max-connections", "3", "--listen", "/ip4/127.0.0.1/tcp/0", "--key-file", "/tmp/k.key",
        ])
        let command = try #require(parsed as? NodeCommand)
        let flagged = try command.options(stored: stored)
        #expect(flagged.settings.joinPrivacyNetwork)
        #expect(flagged.settings.maxConnections == 3)
        #expect(flagged.listenAddresses.map(\.description) == ["/ip4/127.0.0.1/tcp/0"])
        #expect(try command.overrides().identityKeyFile == "/tmp/k.key")
        #expect(try command.overrides().joinPrivacyNetwork == nil)
    }

    @Test("The demo flags make a labelled network that is not the public one")
    func demoNetwork() throws {
        let parsed = try PhantomTrail.parseAsRoot(["node", "--epoch-length", "2m", "--pow-difficulty", "2"])
        let parameters = try #require(parsed as? NodeCommand).networkParameters()
        #expect(parameters.label == "demo")
        #expect(parameters.schedule.lengthSeconds == 120)
        #expect(parameters.difficultyBits == 2)
        #expect(!parameters.isPublic)
        #expect(parameters.digest != NetworkParameters.publicNetwork.digest)
    }

    @Test(
        "Bad flags are refused with a reason",
        arguments: [
            ["node", "--listen", "not-an-address"],
            ["node", "--bootstrap", "/ip4/127.0.0.1/tcp/4001"],
            ["node", "--share-region", "mars"],
            ["node", "--max-connections", "0"],
            ["node", "--max-connections", "21"],
            ["node", "--epoch-length", "4s"],
            ["node", "--epoch-length", "soon"],
            ["node", "--pow-difficulty", "40"],
            ["node", "--share"],
            ["node", "--events", "xml"],
            ["node", "--dashboard-port", "70000"],
            ["node", "--dashboard-port", "-1"],
            ["node", "--dashboard-host", ""],
        ]
    )
    func badFlags(_ arguments: [String]) {
        #expect(throws: (any Error).self) { try PhantomTrail.parseAsRoot(arguments) }
    }

    @Test("--display-minimum lowers a demo network's display threshold, and only a demo network's")
    func displayMinimum() throws {
        let parsed = try PhantomTrail.parseAsRoot(["node", "--epoch-length", "60s", "--display-minimum", "2"])
        let options = try #require(parsed as? NodeCommand).options()
        #expect(options.policy.networkMinimum == 2 && options.policy.subPopulationMinimum == 2)
        let standard = try #require(try PhantomTrail.parseAsRoot(["node", "--epoch-length", "60s"]) as? NodeCommand)
        #expect(try standard.options().policy == .standard)
        #expect(throws: (any Error).self) { try PhantomTrail.parseAsRoot(["node", "--display-minimum", "2"]) }
        #expect(throws: (any Error).self) {
            try PhantomTrail.parseAsRoot(["node", "--pow-difficulty", "2", "--display-minimum", "0"])
        }
        #expect(throws: (any Error).self) {
            try PhantomTrail.parseAsRoot(["node", "--pow-difficulty", "2", "--display-minimum", "51"])
        }
    }

    @Test("Readable statistics say how many score reports are needed in all")
    func gatheringText() throws {
        let line = NodeEventPrinter.text(
            CommunityStats(
                estimates: CommunityEstimates(reports: [], policy: .standard),
                lastUpdated: Date(timeIntervalSince1970: 0),
                epochProgress: 0.5
            ),
            nil
        )
        #expect(line.contains("gathering data: 0 of 50 score reports needed"), "\(line)")
    }

    @Test("Durations: seconds, minutes, hours, days, weeks")
    func durations() throws {
        #expect(try NodeCommand.seconds(of: "90") == 90)
        #expect(try NodeCommand.seconds(of: "60s") == 60)
        #expect(try NodeCommand.seconds(of: "10m") == 600)
        #expect(try NodeCommand.seconds(of: "2h") == 7_200)
        #expect(try NodeCommand.seconds(of: "1d") == 86_400)
        #expect(try NodeCommand.seconds(of: "1w") == 604_800)
        #expect(throws: (any Error).self) { try NodeCommand.seconds(of: "-5m") }
        #expect(throws: (any Error).self) { try NodeCommand.seconds(of: "m") }
    }

    @Test("The dashboard: the default port with fallback, the per-install token kept 0600 in the data directory")
    func dashboardDefaults() async throws {
        let files = try ReportFiles()
        let data = files.directory.appendingPathComponent("data").path
        let command = try #require(try PhantomTrail.parseAsRoot(["node", "--data-dir", data]) as? NodeCommand)
        let (directory, database, settings) = try await command.openDatabase()
        defer { try? database.close() }
        let dashboard = try #require(try command.dashboardOptions(settings: settings, directory: directory))
        #expect(dashboard.host == "127.0.0.1")
        #expect(dashboard.isLoopback)
        #expect(dashboard.port == NodeDashboardOptions.defaultPort)
        #expect(dashboard.fallbackToAnyPort)
        #expect(dashboard.endpointFileDirectory?.path == directory.path)
        let token = try #require(try InstallToken.load(from: directory))
        #expect(dashboard.token == token.value)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.installTokenPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let again = try #require(try command.dashboardOptions(settings: settings, directory: directory))
        #expect(again.token == dashboard.token)
    }

    @Test("--dashboard-port is kept as chosen (no fallback), --dashboard-host names another address, --no-dashboard")
    func dashboardFlags() async throws {
        let files = try ReportFiles()
        let data = files.directory.appendingPathComponent("data").path
        let parsed = try PhantomTrail.parseAsRoot([
            "node", "--data-dir", data, "--dashboard-port", "0", "--dashboard-host", "0.0.0.0",
        ])
        let command = try #require(parsed as? NodeCommand)
        let (directory, database, settings) = try await command.openDatabase()
        defer { try? database.close() }
        let dashboard = try #require(try command.dashboardOptions(settings: settings, directory: directory))
        #expect(dashboard.port == 0)
        #expect(!dashboard.fallbackToAnyPort)
        #expect(!dashboard.isLoopback)
        #expect(dashboard.host == "0.0.0.0")
        #expect(try command.overrides().dashboardPort == 0)

        let off = try #require(
            try PhantomTrail.parseAsRoot(["node", "--data-dir", data, "--no-dashboard"]) as? NodeCommand
        )
        #expect(try off.dashboardOptions(settings: settings, directory: directory) == nil)
    }
}
