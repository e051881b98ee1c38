public import CommunityInsights
import Foundation
import GRDB
import PrivacyCore

/// The node's SQLite database (GRDB `DatabasePool`, WAL journal) in the data directory.
///
/// It holds only what privacy-design.md ("Storage") allows on disk: settings, the user's own score per
/// epoch, and per-epoch aggregate estimates for trends. Received reports, peer IDs and peer addresses have
/// no table and are never written. The file and its `-wal`/`-shm` companions have mode 0600.
public final class NodeDatabase: Sendable {
    /// The largest stored settings value accepted (JSON).
    public static let maximumSettingsBytes = 64 * 1024
    /// How many epochs of snapshots are kept per network (older ones are deleted).
    public static let maximumSnapshotsPerNetwork = 520

    /// The database file's path.
    public let path: String
    private let pool: DatabasePool
    private let retainedSnapshots: Int

    /// Opens (creating if needed) the database of `directory` and brings its schema up to date.
    /// - Throws: ``NodeRuntimeError`` if the directory or database cannot be created, opened or migrated.
    public convenience init(directory: DataDirectory) throws(NodeRuntimeError) {
        try directory.create()
        try self.init(path: directory.databasePath)
    }

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// - Throws: ``NodeRuntimeError`` if the database cannot be created, opened or migrated.
    public convenience init(path: String) throws(NodeRuntimeError) {
        try self.init(path: path, migratingUpTo: nil, retainedSnapshots: Self.maximumSnapshotsPerNetwork)
    }

    /// Opens the database and applies migrations up to `target` (all when `nil`), keeping `retainedSnapshots`
    /// epochs of snapshots per network; tests use this to build an old schema or a small retention.
    init(path: String, migratingUpTo target: String?, retainedSnapshots: Int) throws(NodeRuntimeError) {
        self.retainedSnapshots = retainedSnapshots
        // Created 0600 before SQLite opens it; SQLite gives -wal and -shm the same mode.
        try PrivateFile.createIfMissing(path)
        var configuration = Configuration()
        configuration.label = "NodeDatabase"
        do {
            self.pool = try DatabasePool(path: path, configuration: configuration)
            let migrator = Self.makeMigrator()
            if let target {
                try migrator.migrate(self.pool, upTo: target)
            } else {
                try migrator.migrate(self.pool)
            }
        } catch {
            throw NodeRuntimeError(.database, "cannot open the database \(path): \(error)", underlying: error)
        }
        self.path = path
    }

    // MARK: Settings

    /// The stored settings (defaults where nothing is stored yet).
    /// - Throws: ``NodeRuntimeError/Code/malformedFile`` if a stored value is not valid settings JSON.
    public func storedSettings() async throws(NodeRuntimeError) -> StoredSettings {
        let rows = try await self.read { db in
            try [String: String](
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, value FROM setting").map {
                    ($0["key"] as String, $0["value"] as String)
                }
            )
        }
        var settings = StoredSettings()
        if let text = rows[SettingKey.p2p] {
            settings.p2p = try self.decode(P2PSettings.self, text, key: SettingKey.p2p)
        }
        if let text = rows[SettingKey.node] {
            settings.node = try self.decode(NodeOptions.self, text, key: SettingKey.node)
        }
        return settings
    }

    /// Replaces the stored settings.
    public func saveSettings(_ settings: StoredSettings) async throws(NodeRuntimeError) {
        let p2p = try Self.encode(settings.p2p)
        let node = try Self.encode(settings.node)
        try await self.write { db in
            let sql =
                "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            try db.execute(sql: sql, arguments: [SettingKey.p2p, p2p])
            try db.execute(sql: sql, arguments: [SettingKey.node, node])
        }
    }

    /// The settings of one run: stored values with `overrides` on top. With `save`, the overrides are also
    /// written, so they become the stored settings.
    public func settings(
        applying overrides: SettingsOverrides,
        save: Bool = false
    ) async throws(NodeRuntimeError) -> NodeSettings {
        var stored = try await self.storedSettings()
        if save, !overrides.isEmpty {
            stored = overrides.applied(to: stored)
            try await self.saveSettings(stored)
        }
        return NodeSettings(stored: stored, overrides: overrides)
    }

    // MARK: Own history

    /// Records (or replaces) the user's own score for an epoch of `network`.
    /// - Throws: ``NodeRuntimeError/Code/invalidSetting`` for a negative epoch or a score outside 0–100.
    public func recordOwnScore(_ record: OwnScoreRecord, network: NetworkScope) async throws(NodeRuntimeError) {
        guard record.epoch >= 0, (0...100).contains(record.score) else {
            throw NodeRuntimeError(
                .invalidSetting,
                "own score record: epoch \(record.epoch) and score \(record.score) must be ≥ 0 and 0–100"
            )
        }
        try await self.write { db in
            try db.execute(
                sql: """
                    INSERT INTO own_score (network, epoch, score, grade) VALUES (?, ?, ?, ?)
                    ON CONFLICT(network, epoch) DO UPDATE SET score = excluded.score, grade = excluded.grade
                    """,
                arguments: [network.identifier, record.epoch, record.score, Grade(score: record.score).rawValue]
            )
        }
    }

    /// The user's own scores on `network`, oldest epoch first (the latest `limit` epochs).
    public func ownHistory(network: NetworkScope, limit: Int = 520) async throws(NodeRuntimeError) -> [OwnScoreRecord] {
        try await self.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT epoch, score FROM own_score WHERE network = ? ORDER BY epoch DESC LIMIT ?",
                arguments: [network.identifier, max(limit, 0)]
            ).map { OwnScoreRecord(epoch: $0["epoch"], score: $0["score"]) }.reversed()
        }
    }

    // MARK: Aggregate snapshots

    /// Records (or replaces) an epoch's aggregate estimates on `network`, keeping the latest
    /// ``maximumSnapshotsPerNetwork`` epochs.
    /// - Throws: ``NodeRuntimeError/Code/invalidSetting`` for a negative epoch or participant count or a NaN.
    public func recordSnapshot(_ snapshot: AggregateSnapshot, network: NetworkScope) async throws(NodeRuntimeError) {
        let average = snapshot.averageScore
        let figures = [average.value, average.lower, average.upper, average.standardError]
        guard snapshot.epoch >= 0, snapshot.participants >= 0, average.supportingReports >= 0,
            !figures.contains(where: \.isNaN)
        else {
            throw NodeRuntimeError(.invalidSetting, "aggregate snapshot of epoch \(snapshot.epoch) has invalid values")
        }
        let retained = self.retainedSnapshots
        try await self.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO aggregate_snapshot (network, epoch, participants, average_value,
                        average_lower, average_upper, average_standard_error, average_supporting_reports)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    network.identifier, snapshot.epoch, snapshot.participants, average.value, average.lower,
                    average.upper, average.standardError, average.supportingReports,
                ]
            )
            try db.execute(
                sql: """
                    DELETE FROM aggregate_snapshot WHERE network = ? AND epoch NOT IN (
                        SELECT epoch FROM aggregate_snapshot WHERE network = ? ORDER BY epoch DESC LIMIT ?)
                    """,
                arguments: [network.identifier, network.identifier, retained]
            )
        }
    }

    /// The stored snapshots of `network`, oldest epoch first (the latest `limit` epochs), as
    /// ``TrendAnalysis`` takes them.
    public func snapshots(
        network: NetworkScope,
        limit: Int = NodeDatabase.maximumSnapshotsPerNetwork
    ) async throws(NodeRuntimeError) -> [AggregateSnapshot] {
        try await self.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT epoch, participants, average_value, average_lower, average_upper,
                        average_standard_error, average_supporting_reports
                    FROM aggregate_snapshot WHERE network = ? ORDER BY epoch DESC LIMIT ?
                    """,
                arguments: [network.identifier, max(limit, 0)]
            ).map { row in
                AggregateSnapshot(
                    epoch: row["epoch"],
                    participants: row["participants"],
                    averageScore: Estimate(
                        value: row["average_value"],
                        lower: row["average_lower"],
                        upper: row["average_upper"],
                        standardError: row["average_standard_error"],
                        supportingReports: row["average_supporting_reports"]
                    )
                )
            }.reversed()
        }
    }

    // MARK: Inspection

    /// SQLite's journal mode (`wal` for this database).
    public func journalMode() async throws(NodeRuntimeError) -> String {
        try await self.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// The identifiers of the applied migrations, in order.
    public func appliedMigrations() async throws(NodeRuntimeError) -> [String] {
        try await self.read { db in try Self.makeMigrator().appliedMigrations(db) }
    }

    /// Checkpoints the WAL into the main file (used before copying the database).
    public func checkpoint() async throws(NodeRuntimeError) {
        try await self.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// Closes the connections; later calls fail.
    public func close() throws(NodeRuntimeError) {
        do {
            try self.pool.close()
        } catch {
            throw NodeRuntimeError(.database, "cannot close the database \(self.path): \(error)", underlying: error)
        }
    }

    // MARK: Helpers

    private enum SettingKey {
        static let p2p = "p2p"
        static let node = "node"
    }

    private func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(NodeRuntimeError) -> T {
        do {
            return try await self.pool.read(body)
        } catch {
            throw NodeRuntimeError(.database, "reading \(self.path) failed: \(error)", underlying: error)
        }
    }

    private func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws(NodeRuntimeError) -> T {
        do {
            return try await self.pool.write(body)
        } catch {
            throw NodeRuntimeError(.database, "writing \(self.path) failed: \(error)", underlying: error)
        }
    }

    private func writeWithoutTransaction<T: Sendable>(
        _ body: @Sendable (Database) throws -> T
    ) async throws(NodeRuntimeError) -> T {
        do {
            return try await self.pool.writeWithoutTransaction(body)
        } catch {
            throw NodeRuntimeError(.database, "writing \(self.path) failed: \(error)", underlying: error)
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String, key: String) throws(NodeRuntimeError) -> T {
        guard text.utf8.count <= Self.maximumSettingsBytes else {
            throw NodeRuntimeError(.malformedFile, "stored settings \"\(key)\" in \(self.path) are too large")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw NodeRuntimeError(
                .malformedFile,
                "stored settings \"\(key)\" in \(self.path) are not valid: \(error)",
                underlying: error
            )
        }
    }

    private static func encode(_ value: some Encodable) throws(NodeRuntimeError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw NodeRuntimeError(.invalidSetting, "settings cannot be encoded: \(error)", underlying: error)
        }
    }
}
