import GRDB

extension NodeDatabase {
    /// The schema's migrations, in order. Never edit a migration that has shipped; add a new one.
    ///
    /// - `v1`: settings (JSON per key), the user's own score per epoch, per-epoch aggregate estimates.
    /// - `v2`: own scores and snapshots are keyed by network as well as epoch, so a demo network's epochs
    ///   never mix with the public network's; earlier rows belong to the public network.
    static func makeMigrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE setting (
                        key TEXT PRIMARY KEY NOT NULL,
                        value TEXT NOT NULL
                    );
                    CREATE TABLE own_score (
                        epoch INTEGER PRIMARY KEY NOT NULL CHECK (epoch >= 0),
                        score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
                        grade TEXT NOT NULL
                    );
                    CREATE TABLE aggregate_snapshot (
                        epoch INTEGER PRIMARY KEY NOT NULL CHECK (epoch >= 0),
                        participants INTEGER NOT NULL CHECK (participants >= 0),
                        average_value REAL NOT NULL,
                        average_lower REAL NOT NULL,
                        average_upper REAL NOT NULL,
                        average_standard_error REAL NOT NULL,
                        average_supporting_reports INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE own_score_v2 (
                        network TEXT NOT NULL,
                        epoch INTEGER NOT NULL CHECK (epoch >= 0),
                        score INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
                        grade TEXT NOT NULL,
                        PRIMARY KEY (network, epoch)
                    );
                    INSERT INTO own_score_v2 (network, epoch, score, grade)
                        SELECT :network, epoch, score, grade FROM own_score;
                    DROP TABLE own_score;
                    ALTER TABLE own_score_v2 RENAME TO own_score;
                    CREATE TABLE aggregate_snapshot_v2 (
                        network TEXT NOT NULL,
                        epoch INTEGER NOT NULL CHECK (epoch >= 0),
                        participants INTEGER NOT NULL CHECK (participants >= 0),
                        average_value REAL NOT NULL,
                        average_lower REAL NOT NULL,
                        average_upper REAL NOT NULL,
                        average_standard_error REAL NOT NULL,
                        average_supporting_reports INTEGER NOT NULL,
                        PRIMARY KEY (network, epoch)
                    );
                    INSERT INTO aggregate_snapshot_v2
                        SELECT :network, epoch, participants, average_value, average_lower, average_upper,
                            average_standard_error, average_supporting_reports
                        FROM aggregate_snapshot;
                    DROP TABLE aggregate_snapshot;
                    ALTER TABLE aggregate_snapshot_v2 RENAME TO aggregate_snapshot;
                    """,
                arguments: ["network": NetworkScope.publicNetwork.identifier]
            )
        }
        return migrator
    }
}
