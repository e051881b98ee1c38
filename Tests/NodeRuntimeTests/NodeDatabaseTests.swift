import CommunityInsights
import Foundation
import GRDB
import PrivacyCore
import Testing

@testable import NodeRuntime

@Suite("Node database")
struct NodeDatabaseTests {
    private static func snapshot(epoch: Int, participants: Int = 60, average: Double = 60) -> AggregateSnapshot {
        AggregateSnapshot(
            epoch: epoch,
            participants: participants,
            averageScore: Estimate(
                value: average,
                lower: average - 4,
                upper: average + 4,
                standardError: 2,
                supportingReports: participants
            )
        )
    }

    @Test("A new database is in WAL mode, fully migrated, and its files are 0600 in a 0700 directory")
    func freshDatabase() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        let database = try NodeDatabase(directory: directory)
        #expect(try await database.journalMode() == "wal")
        #expect(try await database.appliedMigrations() == ["v1", "v2"])
        try await database.recordOwnScore(OwnScoreRecord(epoch: 1, score: 70), network: .publicNetwork)
        #expect(try permissions(directory.path) == 0o700)
        #expect(try permissions(directory.databasePath) == 0o600)
        #expect(try permissions(directory.databasePath + "-wal") == 0o600)
        #expect(try permissions(directory.databasePath + "-shm") == 0o600)
        try database.close()
    }

    @Test("Settings default to all sharing off and round-trip through the database")
    func settingsRoundTrip() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        let database = try NodeDatabase(directory: directory)
        #expect(try await database.storedSettings() == StoredSettings())
        #expect(try await database.storedSettings().p2p.sendsReports == false)

        let saved = StoredSettings(
            p2p: try P2PSettings(joinPrivacyNetwork: true, shareAnonymousData: true, maxConnections: 7),
            node: try NodeOptions(
                listenAddresses: ["/ip4/0.0.0.0/tcp/4001"],
                mdns: true,
                dashboardPort: 8737,
                identityKeyFile: "/keys/node.key"
            )
        )
        try await database.saveSettings(saved)
        try database.close()

        let reopened = try NodeDatabase(directory: directory)
        #expect(try await reopened.storedSettings() == saved)
        try reopened.close()
    }

    @Test("Flags win for one run without being saved, unless saving is asked for")
    func overrides() async throws {
        let temporary = try TemporaryDirectory()
        let database = try NodeDatabase(directory: temporary.dataDirectory())
        try await database.saveSettings(StoredSettings(p2p: try P2PSettings(joinPrivacyNetwork: true)))
        let flags = try SettingsOverrides(shareAnonymousData: true, maxConnections: 3, mdns: true)

        let run = try await database.settings(applying: flags)
        #expect(run.effective.p2p.joinPrivacyNetwork)
        #expect(run.effective.p2p.shareAnonymousData)
        #expect(run.effective.p2p.maxConnections == 3)
        #expect(run.effective.node.mdns)
        #expect(run.stored.p2p.shareAnonymousData == false)
        #expect(try await database.storedSettings().p2p.shareAnonymousData == false)

        let savedRun = try await database.settings(applying: flags, save: true)
        #expect(savedRun.stored == savedRun.effective)
        let stored = try await database.storedSettings()
        #expect(stored.p2p.shareAnonymousData && stored.p2p.maxConnections == 3 && stored.node.mdns)
        try database.close()
    }

    @Test("Out-of-range overrides and options are rejected with the setting's name")
    func invalidOverrides() {
        #expect {
            _ = try SettingsOverrides(maxConnections: 21)
        } throws: { error in
            (error as? NodeRuntimeError)?.code == .invalidSetting && "\(error)".contains("maxConnections")
        }
        #expect {
            _ = try SettingsOverrides(bootstrapAddresses: ["not a multiaddr"])
        } throws: { error in
            (error as? NodeRuntimeError)?.code == .invalidSetting && "\(error)".contains("bootstrapAddresses")
        }
        #expect(throws: NodeRuntimeError(.invalidSetting, "")) { _ = try NodeOptions(dashboardPort: 70_000) }
        #expect(throws: NodeRuntimeError(.invalidSetting, "")) {
            _ = try NodeOptions(listenAddresses: Array(repeating: "/ip4/127.0.0.1/tcp/1", count: 65))
        }
    }

    @Test("Malformed stored settings fail with a message naming the key")
    func malformedStoredSettings() async throws {
        let temporary = try TemporaryDirectory()
        let directory = temporary.dataDirectory()
        let database = try NodeDatabase(directory: directory)
        try database.close()
        let queue = try DatabaseQueue(path: directory.databasePath)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES ('p2p', '{\"maxConnections\": 99}')")
        }
        try queue.close()
        let reopened = try NodeDatabase(directory: directory)
        await #expect {
            _ = try await reopened.storedSettings()
        } throws: { error in
            (error as? NodeRuntimeError)?.code == .malformedFile && "\(error)".contains("\"p2p\"")
        }
        try reopened.close()
    }

    @Test("Own history: one score per epoch (the latest wins), oldest first, kept apart per network")
    func ownHistory() async throws {
        let temporary = try TemporaryDirectory()
        let database = try NodeDatabase(directory: temporary.dataDirectory())
        let demo = NetworkScope(.demo)
        #expect(demo != .publicNetwork)
        for (epoch, score) in [(3, 71), (1, 55), (2, 64), (3, 80)] {
            try await database.recordOwnScore(OwnScoreRecord(epoch: epoch, score: score), network: .publicNetwork)
        }
        try await database.recordOwnScore(OwnScoreRecord(epoch: 90_000, score: 10), network: demo)

        let history = try await database.ownHistory(network: .publicNetwork)
        #expect(history == [.init(epoch: 1, score: 55), .init(epoch: 2, score: 64), .init(epoch: 3, score: 80)])
        #expect(try await database.ownHistory(network: .publicNetwork, limit: 2).map(\.epoch) == [2, 3])
        #expect(try await database.ownHistory(network: demo) == [.init(epoch: 90_000, score: 10)])
        #expect(TrendAnalysis().ownScoreChange(history) == OwnScoreTrend(fromEpoch: 2, toEpoch: 3, change: 16))

        await #expect(throws: NodeRuntimeError(.invalidSetting, "")) {
            try await database.recordOwnScore(OwnScoreRecord(epoch: 4, score: 101), network: .publicNetwork)
        }
        try database.close()
    }

    @Test("Snapshots round-trip exactly and feed TrendAnalysis; only the latest epochs are kept")
    func snapshots() async throws {
        let temporary = try TemporaryDirectory()
        let database = try NodeDatabase(
            path: temporary.path + "/small.sqlite",
            migratingUpTo: nil,
            retainedSnapshots: 3
        )
        let written = (10...14).map { Self.snapshot(epoch: $0, average: 50 + Double($0 - 10) * 5) }
        for snapshot in written.shuffled() {
            try await database.recordSnapshot(snapshot, network: .publicNetwork)
        }
        let stored = try await database.snapshots(network: .publicNetwork)
        #expect(stored == Array(written.suffix(3)))
        #expect(try await database.snapshots(network: NetworkScope(.demo)).isEmpty)
        let trend = try #require(TrendAnalysis().latestChange(stored))
        #expect(trend.fromEpoch == 13 && trend.toEpoch == 14 && trend.change.value == 5)

        var broken = Self.snapshot(epoch: 20)
        broken.averageScore.value = .nan
        await #expect(throws: NodeRuntimeError(.invalidSetting, "")) {
            try await database.recordSnapshot(broken, network: .publicNetwork)
        }
        try database.close()
    }

    @Test("A database left at migration v1 upgrades: its rows move to the public network")
    func upgradesFromV1() async throws {
        let temporary = try TemporaryDirectory()
        let path = temporary.path + "/old.sqlite"
        let old = try NodeDatabase(path: path, migratingUpTo: "v1", retainedSnapshots: 10)
        #expect(try await old.appliedMigrations() == ["v1"])
        try old.close()
        // Rows as a v1 node wrote them (no network column).
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO setting (key, value) VALUES ('p2p', '{"joinPrivacyNetwork": true}');
                    INSERT INTO own_score (epoch, score, grade) VALUES (2900, 77, 'C'), (2901, 83, 'B');
                    INSERT INTO aggregate_snapshot VALUES (2901, 45, 61.5, 57.5, 65.5, 2.0, 45);
                    """
            )
        }
        try queue.close()

        let upgraded = try NodeDatabase(path: path)
        #expect(try await upgraded.appliedMigrations() == ["v1", "v2"])
        #expect(try await upgraded.journalMode() == "wal")
        #expect(try await upgraded.storedSettings().p2p.joinPrivacyNetwork)
        #expect(
            try await upgraded.ownHistory(network: .publicNetwork) == [
                .init(epoch: 2900, score: 77), .init(epoch: 2901, score: 83),
            ]
        )
        #expect(
            try await upgraded.snapshots(network: .publicNetwork) == [
                AggregateSnapshot(
                    epoch: 2901,
                    participants: 45,
                    averageScore: Estimate(
                        value: 61.5,
                        lower: 57.5,
                        upper: 65.5,
                        standardError: 2,
                        supportingReports: 45
                    )
                )
            ]
        )
        #expect(try await upgraded.ownHistory(network: NetworkScope(.demo)).isEmpty)
        // The upgraded schema takes a second network for the same epoch.
        try await upgraded.recordOwnScore(OwnScoreRecord(epoch: 2901, score: 12), network: NetworkScope(.demo))
        #expect(try await upgraded.ownHistory(network: .publicNetwork).last?.score == 83)
        try upgraded.close()
    }
}
