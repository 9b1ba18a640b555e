//! The history of runs: each checked run (its verdict, root cause, counts by severity and every
//! finding's fingerprint) kept in a database, so a team can see which failures recur and since when.
//!
//! One [`Store`] trait with two implementations: [`sqlite`] (a file, the default
//! `.diag/history.sqlite`) and [`postgres`] (a shared server for many CI runners). Both apply the same
//! versioned migrations ([`schema`]). What a run is made of ([`record`]) and how runs are shown
//! ([`summary`]) do not depend on the backend.

#[cfg(feature = "cli")]
pub mod cmd;
pub mod postgres;
pub mod record;
pub mod schema;
pub mod sqlite;
pub mod summary;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use record::{FindingRecord, RunRecord};
pub use summary::{FingerprintHistory, RunRow};

/// Where the history lives when neither `--db` nor `DIAG_DB` says.
pub const DEFAULT_DB: &str = ".diag/history.sqlite";

/// Findings of one run per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Critical findings.
    pub critical: u32,
    /// High findings.
    pub high: u32,
    /// Medium findings.
    pub medium: u32,
    /// Low findings.
    pub low: u32,
    /// Info findings.
    pub info: u32,
}

/// What went wrong with the history database, each with what to do next.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Reading a history that was never written.
    #[error("no history at {0} yet; record a run with `diag history add LOGS` or `diag check --record`, or point --db / DIAG_DB at the right database")]
    Missing(String),
    /// The database was written by a newer diag.
    #[error("the history database {db} has schema version {found}, but this diag knows versions up to {known}; upgrade diag, or point --db at another database")]
    FutureSchema {
        /// The database, password hidden.
        db: String,
        /// Version found in `schema_version`.
        found: i64,
        /// Newest version this build knows.
        known: i64,
    },
    /// A run with this id is already recorded.
    #[error("run {0:?} is already recorded; give another --run-id (each run is recorded once)")]
    Duplicate(String),
    /// A fingerprint given to `history show` is malformed, unknown or ambiguous.
    #[error("{0}")]
    Fingerprint(String),
    /// A REPORT.json that is not a `diag.report/v1` report.
    #[error("{0}")]
    Report(String),
    /// The database refused (not a database, no permission, server down...).
    #[error("history database {db}: {msg}")]
    Db {
        /// The database, password hidden.
        db: String,
        /// What failed and what to check.
        msg: String,
    },
}

/// One finding of a recorded run as the stores return it, for [`summary::fingerprint_history`].
#[derive(Debug, Clone)]
pub struct Hit {
    /// Insertion order of the run.
    pub seq: i64,
    /// Run id.
    pub run_id: String,
    /// Run time (RFC 3339, UTC).
    pub time: String,
    /// Verdict of the run.
    pub verdict: String,
    /// Rule id.
    pub rule: String,
    /// Severity word.
    pub severity: String,
    /// Title in that run.
    pub title: String,
    /// Stable fingerprint.
    pub fingerprint: String,
    /// Fingerprint with CIDs, when known.
    pub cid_fingerprint: Option<String>,
    /// Whether the finding was the run's root cause.
    pub root: bool,
}

/// A history database: SQLite file or PostgreSQL server, behind one interface.
pub trait Store {
    /// Record one run; returns its row as listed. Fails with [`HistoryError::Duplicate`] when its id exists.
    fn add(&mut self, run: &RunRecord) -> Result<RunRow, HistoryError>;
    /// The newest `n` runs by run time (then by insertion), oldest first; only runs carrying every
    /// label of `only` (all runs when it is empty).
    fn last_runs(&mut self, n: usize, only: &Labels) -> Result<Vec<RunRow>, HistoryError>;
    /// How many runs carrying every label of `only` are recorded.
    fn count_runs(&mut self, only: &Labels) -> Result<usize, HistoryError>;
    /// Findings whose fingerprint or CID fingerprint starts with `prefix` (lower-case hex), by run time.
    fn hits(&mut self, prefix: &str) -> Result<Vec<Hit>, HistoryError>;
    /// The schema version the database is at.
    fn schema_version(&mut self) -> Result<i64, HistoryError>;
}

/// Whether opening may create the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Create the file (and its directory) when missing: `add`, `check --record`.
    Write,
    /// Refuse a missing file with [`HistoryError::Missing`]: `history`, `history show`.
    Read,
}

/// Whether `db` names a PostgreSQL server rather than a file.
pub fn is_postgres(db: &str) -> bool {
    let l = db.trim_start().to_ascii_lowercase();
    l.starts_with("postgres://") || l.starts_with("postgresql://")
}

/// `db` fit for messages: a URL's password replaced by `***`.
pub fn redact(db: &str) -> String {
    if !is_postgres(db) {
        return db.to_string();
    }
    let Some((scheme, rest)) = db.split_once("://") else {
        return db.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return db.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => db.to_string(),
    }
}

/// Open the history at `db` (a file path or a `postgres://` URL) and bring its schema up to date.
pub fn open(db: &str, mode: Mode) -> Result<Box<dyn Store>, HistoryError> {
    if is_postgres(db) {
        Ok(Box::new(postgres::PgStore::open(db)?))
    } else {
        Ok(Box::new(sqlite::SqliteStore::open(
            std::path::Path::new(db),
            mode,
        )?))
    }
}

/// The last `n` runs of the history at `db` as plain rows (run id, time, verdict, root cause, counts),
/// oldest first: what the Markdown report's "Test History Summary" shows.
pub fn last_runs(db: &str, n: usize) -> Result<Vec<RunRow>, HistoryError> {
    open(db, Mode::Read)?.last_runs(n, &Labels::new())
}

/// The "Test History Summary" section of a Markdown report: heading, the last `n` runs' table and the
/// recurring root causes, as `diag history` prints it.
pub fn markdown_section(db: &str, n: usize) -> Result<String, HistoryError> {
    let mut store = open(db, Mode::Read)?;
    let only = Labels::new();
    let rows = store.last_runs(n, &only)?;
    let total = store.count_runs(&only)?;
    let mut out = Vec::new();
    summary::write_list_text(&mut out, &redact(db), &only, &rows, total).map_err(|e| {
        HistoryError::Db {
            db: redact(db),
            msg: e.to_string(),
        }
    })?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `WHERE` clause keeping runs that carry every label of `only`, with the placeholder for the i-th
/// parameter (`?i` or `$i`); the parameters are key, value, key, value...
fn label_filter(only: &Labels, ph: fn(usize) -> String) -> (String, Vec<&str>) {
    if only.is_empty() {
        return (String::new(), Vec::new());
    }
    let mut conds = Vec::new();
    let mut params = Vec::new();
    for (i, (k, v)) in only.iter().enumerate() {
        conds.push(format!(
            "EXISTS (SELECT 1 FROM labels l WHERE l.run_seq = runs.seq AND l.key = {} AND l.value = {})",
            ph(2 * i + 1),
            ph(2 * i + 2)
        ));
        params.push(k.as_str());
        params.push(v.as_str());
    }
    (format!(" WHERE {}", conds.join(" AND ")), params)
}

/// Labels as stored: key → value.
pub type Labels = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_section_lists_recorded_runs() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("h.sqlite").display().to_string();
        assert!(matches!(
            markdown_section(&db, 5),
            Err(HistoryError::Missing(_))
        ));
        let tl = crate::pipeline::timeline_of(&[(
            "svc.log",
            include_str!("../../samples/seed/internal-service.log"),
        )])
        .unwrap();
        let a = crate::rules::analyze(&tl, None).unwrap();
        let meta = record::Meta {
            run_id: Some("r1".into()),
            fail_on: Some(crate::rules::finding::Severity::High),
            ..Default::default()
        };
        open(&db, Mode::Write)
            .unwrap()
            .add(&record::from_analysis(&a, &meta))
            .unwrap();
        let rows = last_runs(&db, 5).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].verdict, "FAIL");
        let s = markdown_section(&db, 5).unwrap();
        assert!(s.starts_with("## Test History Summary"), "{s}");
        assert!(s.contains("| r1 | "), "{s}");
    }

    #[test]
    fn urls_are_told_from_files_and_passwords_hidden() {
        assert!(is_postgres("postgres://u:p@h/db"));
        assert!(is_postgres("PostgreSQL://h/db"));
        assert!(!is_postgres(".diag/history.sqlite"));
        assert_eq!(
            redact("postgres://ci:s3cret@db.example:5432/diag"),
            "postgres://ci:***@db.example:5432/diag"
        );
        assert_eq!(
            redact("postgres://db.example/diag"),
            "postgres://db.example/diag"
        );
        assert_eq!(redact("a/b.sqlite"), "a/b.sqlite");
    }
}
