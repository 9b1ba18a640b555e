//! The history on a PostgreSQL server (`--db postgres://user:pass@host/db`): one place every CI runner
//! records into. Same tables and migrations as the SQLite file; an advisory lock makes one of several
//! runners that start at once apply them. Connections are unencrypted (`NoTls`): keep the server on a
//! private network or reach it through a tunnel.

use super::record::{stamp, RunRecord};
use super::summary::{RootCause, RunRow};
use super::{redact, schema, Counts, HistoryError, Hit, Labels, Store};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Row};
use std::str::FromStr;
use std::time::Duration;

/// Key of the advisory lock held while migrating (any constant shared by every diag).
const MIGRATION_LOCK: i64 = 0x6469_6167_6869_7374; // "diaghist"

/// A history on a PostgreSQL server.
pub struct PgStore {
    client: Client,
    db: String,
}

fn err(db: &str, e: postgres::Error) -> HistoryError {
    // The server's own message says more than the client's summary.
    let msg = match e.as_db_error() {
        Some(d) => format!("{}: {}", d.code().code(), d.message()),
        None => e.to_string(),
    };
    HistoryError::Db {
        db: db.to_string(),
        msg: format!("{msg}; check the URL, that the server is up and that the user may create tables in the database"),
    }
}

impl PgStore {
    /// Connect and bring the schema to the newest version.
    pub fn open(url: &str) -> Result<Self, HistoryError> {
        Self::open_to(url, schema::latest())
    }

    /// Connect and migrate up to `target` only (tests build old databases with it).
    pub fn open_to(url: &str, target: i64) -> Result<Self, HistoryError> {
        let db = redact(url);
        let mut config = Config::from_str(url.trim()).map_err(|e| HistoryError::Db {
            db: db.clone(),
            msg: format!(
                "not a PostgreSQL URL ({e}); give postgres://USER:PASSWORD@HOST:PORT/DATABASE"
            ),
        })?;
        if config.get_connect_timeout().is_none() {
            // An unreachable server should fail the step soon, not hang a CI job.
            config.connect_timeout(Duration::from_secs(15));
        }
        if config.get_application_name().is_none() {
            config.application_name("diag");
        }
        let client = config.connect(NoTls).map_err(|e| HistoryError::Db {
            db: db.clone(),
            msg: format!("cannot connect: {e}; check the host, port, user and password, and that the server accepts connections without TLS from here"),
        })?;
        let mut s = PgStore { client, db };
        s.migrate(target)?;
        Ok(s)
    }

    fn version(&mut self) -> Result<i64, postgres::Error> {
        let has: bool = self
            .client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                                WHERE table_schema = current_schema() AND table_name = 'schema_version')",
                &[],
            )?
            .try_get(0)?;
        if !has {
            return Ok(0);
        }
        let v: Option<i64> = self
            .client
            .query_one("SELECT MAX(version) FROM schema_version", &[])?
            .try_get(0)?;
        Ok(v.unwrap_or(0))
    }

    fn migrate(&mut self, target: i64) -> Result<(), HistoryError> {
        let db = self.db.clone();
        let now = self.version().map_err(|e| err(&db, e))?;
        if schema::pending(now, target, &db)?.is_empty() {
            return Ok(());
        }
        let mut tx = self.client.transaction().map_err(|e| err(&db, e))?;
        // Runners that start at once: one migrates, the others wait here and then find nothing to do.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(|e| err(&db, e))?;
        tx.batch_execute(schema::VERSION_TABLE)
            .map_err(|e| err(&db, e))?;
        let now: Option<i64> = tx
            .query_one("SELECT MAX(version) FROM schema_version", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| err(&db, e))?;
        let steps = schema::pending(now.unwrap_or(0), target, &db)?;
        let Some(last) = steps.last().map(|m| m.version) else {
            return Ok(());
        };
        for m in steps {
            tx.batch_execute(m.postgres).map_err(|e| HistoryError::Db {
                db: db.clone(),
                msg: format!(
                    "migration to version {} ({}) failed: {e}",
                    m.version, m.what
                ),
            })?;
        }
        tx.execute("DELETE FROM schema_version", &[])
            .map_err(|e| err(&db, e))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&last])
            .map_err(|e| err(&db, e))?;
        tx.commit().map_err(|e| err(&db, e))
    }
}

impl Store for PgStore {
    fn add(&mut self, run: &RunRecord) -> Result<RunRow, HistoryError> {
        let db = self.db.clone();
        let e = |e| err(&db, e);
        let mut tx = self.client.transaction().map_err(e)?;
        let c = run.counts();
        let root = run.root();
        let n = |x: u32| i64::from(x);
        let inserted = tx.query_one(
            "INSERT INTO runs (run_id, run_time, recorded_at, verdict, fail_on, origin, critical, high,
                               medium, low, info, root_rule, root_title, root_fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             RETURNING seq",
            &[
                &run.run_id,
                &stamp(run.time),
                &stamp(run.recorded_at),
                &run.verdict,
                &run.fail_on,
                &run.origin,
                &n(c.critical),
                &n(c.high),
                &n(c.medium),
                &n(c.low),
                &n(c.info),
                &root.map(|f| f.rule.as_str()),
                &root.map(|f| f.title.as_str()),
                &root.map(|f| f.fingerprint.as_str()),
            ],
        );
        let seq: i64 = match inserted {
            Ok(row) => row.try_get(0).map_err(e)?,
            Err(x) if x.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                return Err(HistoryError::Duplicate(run.run_id.clone()))
            }
            Err(x) => return Err(e(x)),
        };
        let st = tx
            .prepare(
                "INSERT INTO findings (run_seq, rule, severity, title, fingerprint, cid_fingerprint,
                                       is_root, basis)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .map_err(e)?;
        for f in &run.findings {
            tx.execute(
                &st,
                &[
                    &seq,
                    &f.rule,
                    &f.severity.as_str(),
                    &f.title,
                    &f.fingerprint,
                    &f.cid_fingerprint,
                    &i64::from(f.root),
                    &f.basis.as_str(),
                ],
            )
            .map_err(e)?;
        }
        for (k, v) in &run.labels {
            tx.execute(
                "INSERT INTO labels (run_seq, key, value) VALUES ($1, $2, $3)",
                &[&seq, k, v],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(RunRow::of(run, seq))
    }

    fn last_runs(&mut self, n: usize, only: &Labels) -> Result<Vec<RunRow>, HistoryError> {
        let db = self.db.clone();
        let e = |e| err(&db, e);
        let (filter, args) = super::label_filter(only, |i| format!("${i}"));
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT seq, run_id, run_time, recorded_at, verdict, fail_on, origin, critical, high,
                            medium, low, info, root_rule, root_title, root_fingerprint
                     FROM runs{filter} ORDER BY run_time DESC, seq DESC LIMIT {}",
                    i64::try_from(n).unwrap_or(i64::MAX)
                ),
                &sql_args(&args),
            )
            .map_err(e)?;
        let mut out: Vec<RunRow> = rows
            .iter()
            .map(run_row)
            .collect::<Result<_, _>>()
            .map_err(e)?;
        out.reverse();
        let seqs: Vec<i64> = out.iter().map(|r| r.seq).collect();
        for l in self
            .client
            .query(
                "SELECT run_seq, key, value FROM labels WHERE run_seq = ANY($1)",
                &[&seqs],
            )
            .map_err(e)?
        {
            let seq: i64 = l.try_get(0).map_err(e)?;
            if let Some(r) = out.iter_mut().find(|r| r.seq == seq) {
                r.labels
                    .insert(l.try_get(1).map_err(e)?, l.try_get(2).map_err(e)?);
            }
        }
        Ok(out)
    }

    fn count_runs(&mut self, only: &Labels) -> Result<usize, HistoryError> {
        let (filter, args) = super::label_filter(only, |i| format!("${i}"));
        let n: i64 = self
            .client
            .query_one(
                &format!("SELECT COUNT(*) FROM runs{filter}"),
                &sql_args(&args),
            )
            .map_err(|e| err(&self.db, e))?
            .try_get(0)
            .map_err(|e| err(&self.db, e))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    fn hits(&mut self, prefix: &str) -> Result<Vec<Hit>, HistoryError> {
        let rows = self
            .client
            .query(
                "SELECT r.seq, r.run_id, r.run_time, r.verdict, f.rule, f.severity, f.title,
                        f.fingerprint, f.cid_fingerprint, f.is_root
                 FROM findings f JOIN runs r ON r.seq = f.run_seq
                 WHERE f.fingerprint LIKE $1 OR f.cid_fingerprint LIKE $1
                 ORDER BY r.run_time, r.seq",
                &[&format!("{prefix}%")],
            )
            .map_err(|e| err(&self.db, e))?;
        let hit = |r: &Row| -> Result<Hit, postgres::Error> {
            Ok(Hit {
                seq: r.try_get(0)?,
                run_id: r.try_get(1)?,
                time: r.try_get(2)?,
                verdict: r.try_get(3)?,
                rule: r.try_get(4)?,
                severity: r.try_get(5)?,
                title: r.try_get(6)?,
                fingerprint: r.try_get(7)?,
                cid_fingerprint: r.try_get(8)?,
                root: r.try_get::<_, i64>(9)? != 0,
            })
        };
        rows.iter()
            .map(hit)
            .collect::<Result<_, _>>()
            .map_err(|e| err(&self.db, e))
    }

    fn schema_version(&mut self) -> Result<i64, HistoryError> {
        let db = self.db.clone();
        self.version().map_err(|e| err(&db, e))
    }
}

/// A `runs` row (the columns `last_runs` selects, in order).
fn run_row(r: &Row) -> Result<RunRow, postgres::Error> {
    let count = |i: usize| -> Result<u32, postgres::Error> {
        Ok(u32::try_from(r.try_get::<_, i64>(i)?).unwrap_or(u32::MAX))
    };
    let root = match (
        r.try_get::<_, Option<String>>(12)?,
        r.try_get::<_, Option<String>>(13)?,
        r.try_get::<_, Option<String>>(14)?,
    ) {
        (Some(rule), Some(title), Some(fingerprint)) => Some(RootCause {
            rule,
            title,
            fingerprint,
        }),
        _ => None,
    };
    Ok(RunRow {
        seq: r.try_get(0)?,
        run_id: r.try_get(1)?,
        time: r.try_get(2)?,
        recorded_at: r.try_get(3)?,
        verdict: r.try_get(4)?,
        fail_on: r.try_get(5)?,
        origin: r.try_get(6)?,
        counts: Counts {
            critical: count(7)?,
            high: count(8)?,
            medium: count(9)?,
            low: count(10)?,
            info: count(11)?,
        },
        root_cause: root,
        labels: Labels::new(),
    })
}

/// Text parameters as the client takes them.
fn sql_args<'a>(args: &'a [&'a str]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}
