//! The history on a real PostgreSQL server, started by this test in a temporary directory (as the
//! `postgres` user when the test runs as root: `initdb` refuses root). Migrations (fresh and from
//! version 1), add/list/show through the binary, a newer schema refused, concurrent writers.
//!
//! Without server binaries the test says so on stderr and returns; under CI (`CI=true`) it fails, since
//! `.ci/run` installs PostgreSQL 15.

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Directory of `initdb`, `pg_ctl` and `postgres`: `DIAG_PG_BIN`, else the newest under /usr/lib/postgresql.
fn server_bin() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DIAG_PG_BIN") {
        return Some(PathBuf::from(d));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
        .collect();
    // Prefer 15 (what CI installs), else the newest.
    dirs.sort_by_key(|d| (d.to_string_lossy().contains("/15/"), d.clone()));
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| text(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A throw-away server; stopped when dropped (also when a check fails).
struct Server {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    port: u16,
}

impl Server {
    fn tool(&self, name: &str) -> Command {
        let exe = self.bin.join(name);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn start(bin: PathBuf) -> Result<Server, String> {
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("diag-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\n").map_err(|e| e.to_string())?;
        if as_postgres {
            let st = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .map_err(|e| e.to_string())?;
            if !st.success() {
                return Err(
                    "cannot chown the temporary directory to the postgres user (is there one?)"
                        .into(),
                );
            }
        }
        let data = dir.path().join("data");
        let mut s = Server {
            _dir: dir,
            bin,
            data,
            as_postgres,
            port: 0,
        };
        let o = s
            .tool("initdb")
            .arg("-D")
            .arg(&s.data)
            .args([
                "-U",
                "diag",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "-N",
            ])
            .arg(format!("--pwfile={}", pw.display()))
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !o.status.success() {
            return Err(format!("initdb failed: {}", text(&o.stderr)));
        }
        let sock = s.data.parent().unwrap_or(Path::new("/tmp")).to_path_buf();
        let mut last = String::new();
        // A free port: bind to port 0, note it, let it go; another process may take it in between,
        // so a failed start is tried again on another port.
        for _ in 0..3 {
            s.port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            let o = s
                .tool("pg_ctl")
                .arg("-D")
                .arg(&s.data)
                .arg("-l")
                .arg(sock.join("log"))
                .args(["-w", "-t", "60", "-o"])
                .arg(format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
                    s.port,
                    sock.display()
                ))
                .arg("start")
                .output()
                .map_err(|e| format!("pg_ctl: {e}"))?;
            if o.status.success() {
                return Ok(s);
            }
            let log = std::fs::read_to_string(sock.join("log")).unwrap_or_default();
            last = format!(
                "pg_ctl start failed: {}{}\n{log}",
                text(&o.stdout),
                text(&o.stderr)
            );
        }
        Err(last)
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://diag:s3cret@127.0.0.1:{}/{db}", self.port)
    }

    fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls).expect("connect")
    }

    fn create_db(&self, name: &str) -> String {
        self.client("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn diag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("DIAG_DB")
        .env_remove("DIAG_RUN_ID")
        .env_remove("DIAG_FAIL_ON")
        .output()
        .expect("run diag")
}

fn json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON output")
}

fn run_ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["run_id"].as_str().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn history_on_a_real_postgresql_server() {
    let Some(bin) = server_bin() else {
        let why = "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin or DIAG_PG_BIN";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{why}; .ci/run installs postgresql-15, so CI must have them");
        }
        eprintln!("SKIPPED history_on_a_real_postgresql_server: {why} (apt-get install postgresql-15 to run it)");
        return;
    };
    let server = match Server::start(bin) {
        Ok(s) => s,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{e}"),
        Err(e) => {
            eprintln!("SKIPPED history_on_a_real_postgresql_server: the server did not start: {e}");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let o = diag(&["check", "samples/seed", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let report = dir.path().join("seed.json");
    std::fs::write(&report, &o.stdout).unwrap();
    let report = report.display().to_string();

    // Fresh database: migrated on first use; add from logs, from a report, via check --record.
    let url = server.create_db("hist");
    let o = diag(&[
        "check",
        "samples/seed",
        "--record",
        "--db",
        &url,
        "--run-id",
        "pg-1",
        "--label",
        "runner=a",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("recorded run pg-1"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        !text(&o.stderr).contains("s3cret"),
        "password shown: {}",
        text(&o.stderr)
    );
    json(&diag(&[
        "history", "add", &report, "--db", &url, "--run-id", "pg-2", "--format", "json",
    ]));
    json(&diag(&[
        "history",
        "add",
        "samples/faults/test-helper-panic",
        "--db",
        &url,
        "--run-id",
        "pg-3",
        "--time",
        "2026-01-02T00:00:00Z",
        "--format",
        "json",
    ]));
    let version: i64 = server
        .client("hist")
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, diag::history::schema::latest());

    let list = json(&diag(&["history", "--db", &url, "--format", "json"]));
    assert_eq!(list["total_runs"], 3);
    assert_eq!(run_ids(&list), ["pg-1", "pg-2", "pg-3"]);
    assert!(!list["db"].as_str().unwrap().contains("s3cret"));
    let runs = list["runs"].as_array().unwrap();
    assert_eq!(runs[0]["labels"]["runner"], "a");
    assert_eq!(runs[0]["root_cause"], runs[1]["root_cause"]);
    assert_eq!(runs[0]["counts"], runs[1]["counts"]);
    let fp = runs[0]["root_cause"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(list["recurring"][0]["fingerprint"], fp.as_str());
    let only = json(&diag(&[
        "history", "--db", &url, "--label", "runner=a", "--format", "json",
    ]));
    assert_eq!(run_ids(&only), ["pg-1"]);
    assert_eq!(only["total_runs"], 1);

    // The same rows as SQLite gives for the same runs.
    let sqlite = dir.path().join("same.sqlite").display().to_string();
    let _ = diag(&[
        "check",
        "samples/seed",
        "--record",
        "--db",
        &sqlite,
        "--run-id",
        "pg-1",
        "--label",
        "runner=a",
    ]);
    let lite = json(&diag(&["history", "--db", &sqlite, "--format", "json"]));
    for k in ["root_cause", "counts", "time", "verdict", "labels"] {
        assert_eq!(lite["runs"][0][k], runs[0][k], "{k}");
    }

    let show = json(&diag(&[
        "history", "show", &fp, "--db", &url, "--format", "json",
    ]));
    assert_eq!(
        (show["runs"].as_u64(), show["total_runs"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(show["first_seen"]["run_id"], "pg-1");
    assert_eq!(show["last_seen"]["run_id"], "pg-2");
    let t = text(&diag(&["history", "show", &fp[..6], "--db", &url]).stdout);
    assert!(t.contains("Seen in 2 of 3 recorded runs"), "{t}");
    let o = diag(&["history", "add", &report, "--db", &url, "--run-id", "pg-2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("already recorded"),
        "{}",
        text(&o.stderr)
    );

    // A version-1 database (built with only the first migration) migrates and keeps its runs.
    let old = server.create_db("old");
    drop(diag::history::postgres::PgStore::open_to(&old, 1).expect("v1 schema"));
    server
        .client("old")
        .batch_execute(
            "INSERT INTO runs (run_id, run_time, recorded_at, verdict, origin, critical, high, medium,
                               low, info, root_rule, root_title, root_fingerprint)
             VALUES ('v1-run', '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', 'FAIL', 'logs',
                     1, 0, 0, 0, 0, 'panic', 'panic', 'cccc000000000003');
             INSERT INTO findings (run_seq, rule, severity, title, fingerprint, is_root)
             VALUES (1, 'panic', 'critical', 'panic', 'cccc000000000003', 1);",
        )
        .unwrap();
    let list = json(&diag(&["history", "--db", &old, "--format", "json"]));
    assert_eq!(run_ids(&list), ["v1-run"]);
    let show = json(&diag(&[
        "history",
        "show",
        "cccc000000000003",
        "--db",
        &old,
        "--format",
        "json",
    ]));
    assert_eq!(show["root_cause_in"], 1);
    let mut c = server.client("old");
    let v: i64 = c
        .query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, diag::history::schema::latest());
    let basis: String = c
        .query_one("SELECT basis FROM findings", &[])
        .unwrap()
        .get(0);
    assert_eq!(basis, "stable");

    // A database from a newer diag is refused.
    c.batch_execute("UPDATE schema_version SET version = 99")
        .unwrap();
    let o = diag(&["history", "--db", &old]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(
        e.contains("schema version 99") && e.contains("upgrade diag"),
        "{e}"
    );
    assert!(!e.contains("s3cret"), "password shown: {e}");

    // Many runners at once on a fresh database: they race to migrate, then to insert; none is lost.
    let busy = server.create_db("busy");
    let children: Vec<_> = (0..12)
        .map(|i| {
            let id = format!("r{i:02}");
            let mut c = Command::new(env!("CARGO_BIN_EXE_diag"));
            c.current_dir(root())
                .env("NO_COLOR", "1")
                .env_remove("DIAG_DB");
            if i % 4 == 0 {
                c.args([
                    "check",
                    "samples/seed",
                    "--record",
                    "--db",
                    &busy,
                    "--run-id",
                    &id,
                ]);
            } else {
                c.args(["history", "add", &report, "--db", &busy, "--run-id", &id]);
            }
            let child = c
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            (i, child)
        })
        .collect();
    for (i, ch) in children {
        let o = ch.wait_with_output().unwrap();
        let want = if i % 4 == 0 { 1 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(want),
            "writer {i}: {}",
            text(&o.stderr)
        );
    }
    let list = json(&diag(&[
        "history", "--db", &busy, "--last", "50", "--format", "json",
    ]));
    let want: Vec<String> = (0..12).map(|i| format!("r{i:02}")).collect();
    assert_eq!(run_ids(&list), want);
    let n: i64 = server
        .client("busy")
        .query_one("SELECT COUNT(*) FROM schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1, "one version row after concurrent migrations");
}
