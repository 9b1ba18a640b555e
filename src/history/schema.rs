//! The versioned schema: migrations applied in order, the version kept in `schema_version` (one row).
//! Each migration is written once per dialect; both dialects make the same tables and columns.
//! Times are RFC 3339 text in UTC with milliseconds, so they sort as text in either database.

use super::HistoryError;

/// One step of the schema.
#[derive(Debug)]
pub struct Migration {
    /// The version the database is at after this step.
    pub version: i64,
    /// What the step adds.
    pub what: &'static str,
    /// The step in SQLite.
    pub sqlite: &'static str,
    /// The step in PostgreSQL.
    pub postgres: &'static str,
}

/// The table that holds the version.
pub const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)";

/// Every migration, oldest first. Append only: a released step never changes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        what: "runs and their findings",
        sqlite: "
            CREATE TABLE runs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL UNIQUE,
                run_time TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                verdict TEXT NOT NULL,
                fail_on TEXT,
                origin TEXT NOT NULL,
                critical INTEGER NOT NULL,
                high INTEGER NOT NULL,
                medium INTEGER NOT NULL,
                low INTEGER NOT NULL,
                info INTEGER NOT NULL,
                root_rule TEXT,
                root_title TEXT,
                root_fingerprint TEXT
            );
            CREATE TABLE findings (
                run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
                rule TEXT NOT NULL,
                severity TEXT NOT NULL,
                title TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                cid_fingerprint TEXT,
                is_root INTEGER NOT NULL
            );",
        postgres: "
            CREATE TABLE runs (
                seq BIGSERIAL PRIMARY KEY,
                run_id TEXT NOT NULL UNIQUE,
                run_time TEXT NOT NULL,
                recorded_at TEXT NOT NULL,
                verdict TEXT NOT NULL,
                fail_on TEXT,
                origin TEXT NOT NULL,
                critical BIGINT NOT NULL,
                high BIGINT NOT NULL,
                medium BIGINT NOT NULL,
                low BIGINT NOT NULL,
                info BIGINT NOT NULL,
                root_rule TEXT,
                root_title TEXT,
                root_fingerprint TEXT
            );
            CREATE TABLE findings (
                run_seq BIGINT NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
                rule TEXT NOT NULL,
                severity TEXT NOT NULL,
                title TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                cid_fingerprint TEXT,
                is_root BIGINT NOT NULL
            );",
    },
    Migration {
        version: 2,
        what: "labels, how each fingerprint was obtained, indexes for show and list",
        sqlite: "
            CREATE TABLE labels (
                run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_seq, key)
            );
            ALTER TABLE findings ADD COLUMN basis TEXT NOT NULL DEFAULT 'stable';
            CREATE INDEX findings_fingerprint ON findings(fingerprint);
            CREATE INDEX findings_cid_fingerprint ON findings(cid_fingerprint);
            CREATE INDEX findings_run ON findings(run_seq);
            CREATE INDEX runs_time ON runs(run_time, seq);",
        postgres: "
            CREATE TABLE labels (
                run_seq BIGINT NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_seq, key)
            );
            ALTER TABLE findings ADD COLUMN basis TEXT NOT NULL DEFAULT 'stable';
            CREATE INDEX findings_fingerprint ON findings(fingerprint);
            CREATE INDEX findings_cid_fingerprint ON findings(cid_fingerprint);
            CREATE INDEX findings_run ON findings(run_seq);
            CREATE INDEX runs_time ON runs(run_time, seq);",
    },
];

/// The newest version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The steps a database at `current` still needs, up to `target`; a database newer than this build is
/// refused rather than written with an older idea of its tables.
pub fn pending(
    current: i64,
    target: i64,
    db: &str,
) -> Result<Vec<&'static Migration>, HistoryError> {
    if current > latest() {
        return Err(HistoryError::FutureSchema {
            db: super::redact(db),
            found: current,
            known: latest(),
        });
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| m.version > current && m.version <= target)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_climb_by_one_and_both_dialects_have_every_step() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.what);
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty());
            // The same tables in both dialects.
            let tables = |s: &str| s.matches("CREATE TABLE").count();
            assert_eq!(tables(m.sqlite), tables(m.postgres), "{}", m.what);
        }
    }

    #[test]
    fn pending_steps_and_future_versions() {
        assert_eq!(pending(0, latest(), "x").unwrap().len(), MIGRATIONS.len());
        assert!(pending(latest(), latest(), "x").unwrap().is_empty());
        assert_eq!(pending(0, 1, "x").unwrap().len(), 1);
        let e = pending(latest() + 1, latest(), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("upgrade diag"), "{e}");
    }
}
