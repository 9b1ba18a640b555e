//! The history in a SQLite file (bundled SQLite). Write-ahead logging and a busy timeout let several
//! processes (CI jobs on one machine) record at once: a writer waits for the lock instead of failing,
//! and readers do not block writers.

use super::record::{stamp, RunRecord};
use super::summary::{RootCause, RunRow};
use super::{schema, HistoryError, Hit, Labels, Mode, Store};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another one before giving up.
const BUSY: Duration = Duration::from_secs(60);

/// A history file.
pub struct SqliteStore {
    conn: Connection,
    db: String,
}

fn err(db: &str, e: rusqlite::Error) -> HistoryError {
    let hint = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            "it is not a SQLite database; point --db at a new file or at a history diag wrote"
        }
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => {
            "another process held it locked for more than a minute; retry, and keep the file off network filesystems (SQLite locking needs a local disk)"
        }
        Some(ErrorCode::ReadOnly) | Some(ErrorCode::PermissionDenied) | Some(ErrorCode::CannotOpen) => {
            "check that the file and its directory exist and are writable"
        }
        _ => "check the file is a history diag wrote (or move it aside to start a new one)",
    };
    HistoryError::Db {
        db: db.to_string(),
        msg: format!("{e}; {hint}"),
    }
}

impl SqliteStore {
    /// Open (in [`Mode::Write`], create) the file and bring its schema to the newest version.
    pub fn open(path: &Path, mode: Mode) -> Result<Self, HistoryError> {
        Self::open_to(path, mode, schema::latest())
    }

    /// Open and migrate up to `target` only (tests build old databases with it).
    pub fn open_to(path: &Path, mode: Mode, target: i64) -> Result<Self, HistoryError> {
        let db = path.display().to_string();
        if mode == Mode::Read && !path.exists() {
            return Err(HistoryError::Missing(db));
        }
        if mode == Mode::Write {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| HistoryError::Db {
                    db: db.clone(),
                    msg: format!(
                        "cannot create the directory {}: {e}; check permissions or give another --db",
                        dir.display()
                    ),
                })?;
            }
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if mode == Mode::Write {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(path, flags).map_err(|e| err(&db, e))?;
        conn.busy_timeout(BUSY).map_err(|e| err(&db, e))?;
        // WAL: readers never block the writer; the setting stays with the file.
        let journal: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(|e| err(&db, e))?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(HistoryError::Db {
                db,
                msg: format!("SQLite kept journal mode {journal:?} instead of WAL; keep the file on a local disk"),
            });
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| err(&db, e))?;
        let mut s = SqliteStore { conn, db };
        s.migrate(target)?;
        Ok(s)
    }

    fn version(&self) -> Result<i64, rusqlite::Error> {
        let has: Option<String> = self
            .conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if has.is_none() {
            return Ok(0);
        }
        self.conn
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map(|v| v.unwrap_or(0))
    }

    fn migrate(&mut self, target: i64) -> Result<(), HistoryError> {
        let db = self.db.clone();
        let now = self.version().map_err(|e| err(&db, e))?;
        if schema::pending(now, target, &db)?.is_empty() {
            return Ok(());
        }
        // Several processes may open a new file at once: the write lock makes one of them migrate, and
        // the others see its version once they get the lock.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| err(&db, e))?;
        tx.execute_batch(schema::VERSION_TABLE)
            .map_err(|e| err(&db, e))?;
        let now: i64 = tx
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .map_err(|e| err(&db, e))?
            .unwrap_or(0);
        let steps = schema::pending(now, target, &db)?;
        let Some(last) = steps.last().map(|m| m.version) else {
            return Ok(());
        };
        for m in steps {
            tx.execute_batch(m.sqlite).map_err(|e| HistoryError::Db {
                db: db.clone(),
                msg: format!(
                    "migration to version {} ({}) failed: {e}",
                    m.version, m.what
                ),
            })?;
        }
        tx.execute("DELETE FROM schema_version", [])
            .map_err(|e| err(&db, e))?;
        tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [last])
            .map_err(|e| err(&db, e))?;
        tx.commit().map_err(|e| err(&db, e))
    }

    fn labels(&self, seq: i64) -> Result<Labels, rusqlite::Error> {
        let mut st = self
            .conn
            .prepare_cached("SELECT key, value FROM labels WHERE run_seq = ?1")?;
        let rows = st.query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }
}

impl Store for SqliteStore {
    fn add(&mut self, run: &RunRecord) -> Result<RunRow, HistoryError> {
        let db = self.db.clone();
        let e = |e| err(&db, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let c = run.counts();
        let root = run.root();
        let inserted = tx.execute(
            "INSERT INTO runs (run_id, run_time, recorded_at, verdict, fail_on, origin, critical, high,
                               medium, low, info, root_rule, root_title, root_fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                run.run_id,
                stamp(run.time),
                stamp(run.recorded_at),
                run.verdict,
                run.fail_on,
                run.origin,
                c.critical,
                c.high,
                c.medium,
                c.low,
                c.info,
                root.map(|f| &f.rule),
                root.map(|f| &f.title),
                root.map(|f| &f.fingerprint),
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(x) if x.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                return Err(HistoryError::Duplicate(run.run_id.clone()))
            }
            Err(x) => return Err(e(x)),
        }
        let seq = tx.last_insert_rowid();
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO findings (run_seq, rule, severity, title, fingerprint, cid_fingerprint,
                                           is_root, basis)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(e)?;
            for f in &run.findings {
                st.execute(params![
                    seq,
                    f.rule,
                    f.severity.as_str(),
                    f.title,
                    f.fingerprint,
                    f.cid_fingerprint,
                    i64::from(f.root),
                    f.basis.as_str(),
                ])
                .map_err(e)?;
            }
            let mut st = tx
                .prepare("INSERT INTO labels (run_seq, key, value) VALUES (?1, ?2, ?3)")
                .map_err(e)?;
            for (k, v) in &run.labels {
                st.execute(params![seq, k, v]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)?;
        Ok(RunRow::of(run, seq))
    }

    fn last_runs(&mut self, n: usize, only: &Labels) -> Result<Vec<RunRow>, HistoryError> {
        let db = self.db.clone();
        let e = |e| err(&db, e);
        let (filter, args) = super::label_filter(only, |i| format!("?{i}"));
        let mut rows: Vec<RunRow> = {
            let mut st = self
                .conn
                .prepare(&format!(
                    "SELECT seq, run_id, run_time, recorded_at, verdict, fail_on, origin, critical, high,
                            medium, low, info, root_rule, root_title, root_fingerprint
                     FROM runs{filter} ORDER BY run_time DESC, seq DESC LIMIT {}",
                    i64::try_from(n).unwrap_or(i64::MAX)
                ))
                .map_err(e)?;
            let it = st
                .query_map(rusqlite::params_from_iter(args), |r| {
                    let root = match (r.get::<_, Option<String>>(12)?, r.get(13)?, r.get(14)?) {
                        (Some(rule), Some(title), Some(fingerprint)) => Some(RootCause {
                            rule,
                            title,
                            fingerprint,
                        }),
                        _ => None,
                    };
                    Ok(RunRow {
                        seq: r.get(0)?,
                        run_id: r.get(1)?,
                        time: r.get(2)?,
                        recorded_at: r.get(3)?,
                        verdict: r.get(4)?,
                        fail_on: r.get(5)?,
                        origin: r.get(6)?,
                        counts: super::Counts {
                            critical: r.get(7)?,
                            high: r.get(8)?,
                            medium: r.get(9)?,
                            low: r.get(10)?,
                            info: r.get(11)?,
                        },
                        root_cause: root,
                        labels: Labels::new(),
                    })
                })
                .map_err(e)?;
            it.collect::<Result<_, _>>().map_err(e)?
        };
        rows.reverse();
        for r in &mut rows {
            r.labels = self.labels(r.seq).map_err(e)?;
        }
        Ok(rows)
    }

    fn count_runs(&mut self, only: &Labels) -> Result<usize, HistoryError> {
        let (filter, args) = super::label_filter(only, |i| format!("?{i}"));
        let n: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM runs{filter}"),
                rusqlite::params_from_iter(args),
                |r| r.get(0),
            )
            .map_err(|e| err(&self.db, e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn hits(&mut self, prefix: &str) -> Result<Vec<Hit>, HistoryError> {
        let db = self.db.clone();
        let e = |e| err(&db, e);
        let mut st = self
            .conn
            .prepare(
                "SELECT r.seq, r.run_id, r.run_time, r.verdict, f.rule, f.severity, f.title,
                        f.fingerprint, f.cid_fingerprint, f.is_root
                 FROM findings f JOIN runs r ON r.seq = f.run_seq
                 WHERE f.fingerprint LIKE ?1 OR f.cid_fingerprint LIKE ?1
                 ORDER BY r.run_time, r.seq",
            )
            .map_err(e)?;
        let it = st
            .query_map([format!("{prefix}%")], |r| {
                Ok(Hit {
                    seq: r.get(0)?,
                    run_id: r.get(1)?,
                    time: r.get(2)?,
                    verdict: r.get(3)?,
                    rule: r.get(4)?,
                    severity: r.get(5)?,
                    title: r.get(6)?,
                    fingerprint: r.get(7)?,
                    cid_fingerprint: r.get(8)?,
                    root: r.get::<_, i64>(9)? != 0,
                })
            })
            .map_err(e)?;
        it.collect::<Result<_, _>>().map_err(e)
    }

    fn schema_version(&mut self) -> Result<i64, HistoryError> {
        self.version().map_err(|e| err(&self.db, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::record::{Basis, FindingRecord};
    use crate::rules::finding::Severity;
    use chrono::{TimeZone, Utc};

    fn run(id: &str, secs: i64, fp: &str) -> RunRecord {
        RunRecord {
            run_id: id.into(),
            time: Utc.timestamp_opt(secs, 0).single().unwrap(),
            recorded_at: Utc::now(),
            verdict: "FAIL".into(),
            fail_on: Some("high".into()),
            origin: "test".into(),
            labels: [("branch".to_string(), "main".to_string())].into(),
            findings: vec![FindingRecord {
                rule: "panic".into(),
                severity: Severity::Critical,
                title: "panic at a.rs:1:1".into(),
                fingerprint: fp.into(),
                cid_fingerprint: Some(format!("{fp}-cid")),
                basis: Basis::Stable,
                root: true,
            }],
        }
    }

    #[test]
    fn add_list_and_find_by_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/h.sqlite");
        let mut s = SqliteStore::open(&path, Mode::Write).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::latest());
        // Added out of time order: listing follows run time.
        s.add(&run("b", 2_000, "aaaa000000000001")).unwrap();
        s.add(&run("a", 1_000, "aaaa000000000001")).unwrap();
        s.add(&run("c", 3_000, "bbbb000000000002")).unwrap();
        let ids: Vec<String> = s
            .last_runs(2, &Labels::new())
            .unwrap()
            .into_iter()
            .map(|r| r.run_id)
            .collect();
        assert_eq!(ids, ["b", "c"]);
        let all = s.last_runs(10, &Labels::new()).unwrap();
        let main: Labels = [("branch".to_string(), "main".to_string())].into();
        assert_eq!(s.last_runs(10, &main).unwrap().len(), 3);
        let other: Labels = [("branch".to_string(), "dev".to_string())].into();
        assert!(s.last_runs(10, &other).unwrap().is_empty());
        assert_eq!(s.count_runs(&other).unwrap(), 0);
        assert_eq!(
            all[0].labels.get("branch").map(String::as_str),
            Some("main")
        );
        assert_eq!(all[0].counts.critical, 1);
        let hits = s.hits("aaaa").unwrap();
        assert_eq!(
            hits.iter().map(|h| h.run_id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(matches!(
            s.add(&run("a", 5, "x")),
            Err(HistoryError::Duplicate(_))
        ));
        assert_eq!(s.count_runs(&main).unwrap(), 3);
    }

    #[test]
    fn version_one_databases_migrate_and_keep_their_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let s = SqliteStore::open_to(&path, Mode::Write, 1).unwrap();
            s.conn
                .execute_batch(
                    "INSERT INTO runs (run_id, run_time, recorded_at, verdict, origin, critical, high,
                                       medium, low, info)
                     VALUES ('old', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', 'FAIL',
                             'logs', 1, 0, 0, 0, 0);
                     INSERT INTO findings (run_seq, rule, severity, title, fingerprint, is_root)
                     VALUES (1, 'panic', 'critical', 'panic', 'cccc000000000003', 1);",
                )
                .unwrap();
            assert_eq!(s.version().unwrap(), 1);
        }
        let mut s = SqliteStore::open(&path, Mode::Read).unwrap();
        assert_eq!(s.schema_version().unwrap(), schema::latest());
        assert_eq!(s.last_runs(5, &Labels::new()).unwrap()[0].run_id, "old");
        let basis: String = s
            .conn
            .query_row("SELECT basis FROM findings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(basis, "stable");
        assert_eq!(s.hits("cccc").unwrap().len(), 1);
    }

    #[test]
    fn future_versions_missing_files_and_non_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        drop(SqliteStore::open(&path, Mode::Write).unwrap());
        Connection::open(&path)
            .unwrap()
            .execute("UPDATE schema_version SET version = 99", [])
            .unwrap();
        let e = SqliteStore::open(&path, Mode::Read)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("schema version 99") && e.contains("upgrade diag"),
            "{e}"
        );
        let e = SqliteStore::open(&dir.path().join("none"), Mode::Read)
            .err()
            .unwrap();
        assert!(matches!(e, HistoryError::Missing(_)));
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
        let e = SqliteStore::open(&junk, Mode::Write)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("not a SQLite database"), "{e}");
    }
}
