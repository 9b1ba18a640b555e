//! End-to-end tests of the history of runs on SQLite: the real `diag` binary records the bundled samples
//! (`history add` from logs and from a JSON report, `check --record`), lists them, follows a fingerprint,
//! migrates an empty file, refuses a newer schema, and keeps every run when many processes write at once.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample(p: &str) -> String {
    root().join(p).display().to_string()
}

fn diag_in(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_diag"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("DIAG_DB")
        .env_remove("DIAG_RUN_ID")
        .env_remove("DIAG_FAIL_ON");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run diag")
}

fn diag(args: &[&str]) -> Output {
    diag_in(&root(), args, &[])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(o: &Output) -> &Output {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&ok(o).stdout).expect("JSON output")
}

/// The seed's JSON report, written by the binary.
fn seed_report(dir: &Path) -> PathBuf {
    let o = diag(&["check", "samples/seed", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let p = dir.join("seed.json");
    std::fs::write(&p, &o.stdout).unwrap();
    p
}

fn run_ids(list: &Value) -> Vec<String> {
    list["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["run_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn add_list_show_across_logs_reports_and_check_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite").display().to_string();
    let report = seed_report(dir.path());

    // check --record keeps its own exit code and report, and says what it recorded on stderr.
    let o = diag(&[
        "check",
        "samples/seed",
        "--record",
        "--db",
        &db,
        "--run-id",
        "seed-a",
        "--label",
        "branch=main",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("ratchet"), "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).contains("recorded run seed-a"),
        "{}",
        text(&o.stderr)
    );

    // The same failure from its JSON report, then a different failure from logs.
    let added = json(&diag(&[
        "history",
        "add",
        &report.display().to_string(),
        "--db",
        &db,
        "--run-id",
        "seed-b",
        "--format",
        "json",
    ]));
    assert_eq!(added["recorded"]["run_id"], "seed-b");
    assert_eq!(added["recorded"]["verdict"], "FAIL");
    ok(&diag(&[
        "history",
        "add",
        "samples/faults/test-helper-panic",
        "--db",
        &db,
        "--run-id",
        "helper",
        "--time",
        "2026-01-02T00:00:00Z",
    ]));
    ok(&diag(&[
        "history",
        "add",
        "samples/healthy",
        "--db",
        &db,
        "--run-id",
        "green",
        "--time",
        "1767400000",
    ]));

    let list = json(&diag(&["history", "--db", &db, "--format", "json"]));
    assert_eq!(list["total_runs"], 4);
    assert_eq!(run_ids(&list), ["seed-a", "seed-b", "helper", "green"]);
    let runs = list["runs"].as_array().unwrap();
    // Logs and report of one run give the same row: root cause, counts, time.
    for k in ["root_cause", "counts", "time", "verdict"] {
        assert_eq!(runs[0][k], runs[1][k], "{k}");
    }
    assert_eq!(runs[0]["root_cause"]["rule"], "ratchet-version-gap");
    assert_eq!(runs[0]["labels"]["branch"], "main");
    assert_eq!(runs[3]["verdict"], "PASS");
    assert_ne!(
        runs[2]["root_cause"]["fingerprint"],
        runs[0]["root_cause"]["fingerprint"]
    );
    let fp = runs[0]["root_cause"]["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    // The recurring root cause is grouped by its fingerprint.
    assert_eq!(list["recurring"].as_array().unwrap().len(), 1);
    assert_eq!(list["recurring"][0]["fingerprint"], fp.as_str());
    assert_eq!(
        list["recurring"][0]["runs"],
        serde_json::json!(["seed-a", "seed-b"])
    );

    // The fingerprint recorded is the one the report carries.
    let rep: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let root_id = rep["incidents"][0]["root"].as_str().unwrap();
    let root = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == root_id)
        .unwrap();
    assert_eq!(root["fingerprint"], fp.as_str());

    // --last and the text table.
    let last = json(&diag(&[
        "history", "list", "--db", &db, "--last", "2", "--format", "json",
    ]));
    assert_eq!(run_ids(&last), ["helper", "green"]);
    let main = json(&diag(&[
        "history",
        "--db",
        &db,
        "--label",
        "branch=main",
        "--format",
        "json",
    ]));
    assert_eq!(run_ids(&main), ["seed-a"]);
    assert_eq!(main["total_runs"], 1);
    let t = text(&ok(&diag(&["history", "--db", &db, "--label", "branch=dev"])).stdout);
    assert!(t.starts_with("No runs with branch=dev recorded"), "{t}");
    let t = text(&ok(&diag(&["history", "--db", &db])).stdout);
    assert!(
        t.contains("| Run | Time (UTC) | Verdict | Root cause | Critical | High |"),
        "{t}"
    );
    assert!(t.contains("| seed-a | 2025-12-30 "), "{t}");
    assert!(t.contains("Recurring root causes"), "{t}");

    // show: by full fingerprint, by prefix, text and JSON.
    let show = json(&diag(&[
        "history", "show", &fp, "--db", &db, "--format", "json",
    ]));
    assert_eq!(show["runs"], 2);
    assert_eq!(show["total_runs"], 4);
    assert_eq!(show["root_cause_in"], 2);
    assert_eq!(show["first_seen"]["run_id"], "seed-a");
    assert_eq!(show["last_seen"]["run_id"], "seed-b");
    let t = text(&ok(&diag(&["history", "show", &fp[..8], "--db", &db])).stdout);
    assert!(t.contains("First seen: run seed-a"), "{t}");
    assert!(t.contains("Seen in 2 of 4 recorded runs"), "{t}");

    // A finding that is not a root cause is found too, by its CID fingerprint as well.
    let panic = rep["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "panic")
        .unwrap();
    let cid = panic["cid_fingerprint"].as_str().unwrap();
    let by_cid = json(&diag(&[
        "history", "show", cid, "--db", &db, "--format", "json",
    ]));
    assert_eq!(by_cid["matched"], "cid_fingerprint");
    assert_eq!(by_cid["runs"], 2);
    assert_eq!(by_cid["root_cause_in"], 0);
}

#[test]
fn mistakes_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite").display().to_string();
    let report = seed_report(dir.path()).display().to_string();
    ok(&diag(&[
        "history", "add", &report, "--db", &db, "--run-id", "one",
    ]));
    let o = diag(&["history", "add", &report, "--db", &db, "--run-id", "one"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("already recorded"),
        "{}",
        text(&o.stderr)
    );
    for (args, says) in [
        (
            vec!["history", "show", "xyz!", "--db", &db],
            "not a fingerprint",
        ),
        (
            vec!["history", "show", "0000", "--db", &db],
            "no finding with fingerprint",
        ),
        (
            vec![
                "history",
                "--db",
                dir.path().join("none.sqlite").to_str().unwrap(),
            ],
            "no history at",
        ),
        (
            vec!["history", "add", &report, "--db", &db, "--label", "oops"],
            "KEY=VALUE",
        ),
        (
            vec!["history", "add", &report, "--db", &db, "--time", "soon"],
            "--time",
        ),
        (
            vec!["history", "--db", "postgres://ci:hunter2@127.0.0.1:1/diag"],
            "cannot connect",
        ),
    ] {
        let o = diag(&args);
        let e = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(says), "{args:?}: {e}");
        assert!(!e.contains("hunter2"), "password shown: {e}");
    }
    // Reading a history never creates one.
    assert!(!dir.path().join("none.sqlite").exists());
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, "not a database at all, just text\n".repeat(200)).unwrap();
    let o = diag(&["history", "add", &report, "--db", junk.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("not a SQLite database"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn default_location_env_and_empty_file_migration() {
    let dir = tempfile::tempdir().unwrap();
    let seed = sample("samples/seed");
    // Default: .diag/history.sqlite under the working directory, directory created.
    ok(&diag_in(
        dir.path(),
        &["history", "add", &seed, "--run-id", "d1"],
        &[],
    ));
    assert!(dir.path().join(".diag/history.sqlite").is_file());
    // DIAG_DB and DIAG_RUN_ID, as a CI job sets them once.
    let envdb = dir.path().join("env/h.sqlite");
    let e = envdb.to_str().unwrap();
    ok(&diag_in(
        dir.path(),
        &["history", "add", &seed],
        &[("DIAG_DB", e), ("DIAG_RUN_ID", "job-7")],
    ));
    let list = json(&diag_in(
        dir.path(),
        &["history", "--format", "json"],
        &[("DIAG_DB", e)],
    ));
    assert_eq!(run_ids(&list), ["job-7"]);

    // An empty file (as `touch` leaves it) is migrated to the newest schema.
    let empty = dir.path().join("empty.sqlite");
    std::fs::write(&empty, b"").unwrap();
    let p = empty.to_str().unwrap();
    ok(&diag(&[
        "history", "add", &seed, "--db", p, "--run-id", "e1",
    ]));
    let conn = rusqlite::Connection::open(&empty).unwrap();
    let v: i64 = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, diag::history::schema::latest());
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    // A database from a newer diag is refused, not written.
    conn.execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(conn);
    let o = diag(&["history", "add", &seed, "--db", p, "--run-id", "e2"]);
    assert_eq!(o.status.code(), Some(2));
    let e = text(&o.stderr);
    assert!(
        e.contains("schema version 99") && e.contains("upgrade diag"),
        "{e}"
    );
    let conn = rusqlite::Connection::open(&empty).unwrap();
    let runs: i64 = conn
        .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1);
}

#[test]
fn report_without_fingerprints_is_recorded_by_masked_titles() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite").display().to_string();
    let report = seed_report(dir.path());
    let mut v: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for f in v["findings"].as_array_mut().unwrap() {
        let f = f.as_object_mut().unwrap();
        f.remove("fingerprint");
        f.remove("cid_fingerprint");
    }
    let old = dir.path().join("old.json");
    std::fs::write(&old, serde_json::to_vec(&v).unwrap()).unwrap();
    for id in ["o1", "o2"] {
        let o = ok(&diag(&[
            "history",
            "add",
            old.to_str().unwrap(),
            "--db",
            &db,
            "--run-id",
            id,
        ]))
        .clone();
        assert!(
            text(&o.stderr).contains("without a \"fingerprint\""),
            "{}",
            text(&o.stderr)
        );
    }
    let list = json(&diag(&["history", "--db", &db, "--format", "json"]));
    // Both old reports group under the same fallback fingerprint.
    assert_eq!(
        list["recurring"][0]["runs"],
        serde_json::json!(["o1", "o2"])
    );
}

#[test]
fn concurrent_writers_lose_no_run() {
    let dir = tempfile::tempdir().unwrap();
    // A fresh path: the writers also race to create the file and migrate it.
    let db = dir.path().join("ci/h.sqlite").display().to_string();
    let report = seed_report(dir.path()).display().to_string();
    let mut children = Vec::new();
    for i in 0..12 {
        let mut c = Command::new(env!("CARGO_BIN_EXE_diag"));
        c.current_dir(root())
            .env("NO_COLOR", "1")
            .env_remove("DIAG_DB");
        let id = format!("w{i:02}");
        if i % 3 == 0 {
            // Some writers check logs (slower, longer between open and write) ...
            c.args([
                "check",
                "samples/seed",
                "--record",
                "--db",
                &db,
                "--run-id",
                &id,
            ]);
        } else {
            // ... most add a report (fast: they hit the lock together).
            c.args(["history", "add", &report, "--db", &db, "--run-id", &id]);
        }
        children.push((i, c.output_spawn()));
    }
    for (i, child) in children {
        let o = child.wait_with_output().expect("wait");
        let want = if i % 3 == 0 { 1 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(want),
            "writer {i}: {}",
            text(&o.stderr)
        );
    }
    let list = json(&diag(&[
        "history", "--db", &db, "--last", "100", "--format", "json",
    ]));
    let mut ids = run_ids(&list);
    ids.sort();
    let want: Vec<String> = (0..12).map(|i| format!("w{i:02}")).collect();
    assert_eq!(ids, want);
    assert_eq!(list["total_runs"], 12);
}

/// Spawn with captured output.
trait SpawnCaptured {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl SpawnCaptured for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn diag")
    }
}

#[test]
fn json_logs_are_read_as_logs_not_as_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite").display().to_string();
    // JSON lines, and a single JSON object that is a log record rather than a report.
    let one = dir.path().join("one.json");
    let line = std::fs::read_to_string(root().join("samples/formats/tracing-json.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&one, format!("{line}\n")).unwrap();
    for (i, p) in [
        sample("samples/formats/tracing-json.jsonl"),
        one.display().to_string(),
    ]
    .iter()
    .enumerate()
    {
        let id = format!("j{i}");
        let o = diag(&[
            "history", "add", p, "--db", &db, "--run-id", &id, "--format", "json",
        ]);
        let v = json(&o);
        assert_eq!(v["recorded"]["origin"], p.as_str());
        assert!(
            !text(&o.stderr).contains("fingerprint"),
            "read as a report: {}",
            text(&o.stderr)
        );
    }
}

/// The Markdown report lists the recorded runs when a history database is given, and says how to
/// give one when there is none.
#[test]
fn markdown_report_lists_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.sqlite").display().to_string();
    let seed = sample("samples/seed");
    let rec = diag(&[
        "check",
        &seed,
        "--record",
        "--db",
        &db,
        "--run-id",
        "nightly-41",
    ]);
    assert_eq!(rec.status.code(), Some(1), "{}", text(&rec.stderr));
    for args in [
        vec!["report", seed.as_str(), "--db", db.as_str()],
        vec![
            "check",
            seed.as_str(),
            "--format",
            "markdown",
            "--db",
            db.as_str(),
        ],
    ] {
        let md = text(&diag(&args).stdout);
        let section = md
            .split("## Test History Summary")
            .nth(1)
            .unwrap_or_else(|| panic!("{args:?}: no history section:\n{md}"));
        let section = section.split("\n## ").next().unwrap_or("");
        assert!(section.contains("| nightly-41 |"), "{args:?}: {section}");
        assert!(section.contains("**FAIL**"), "{args:?}: {section}");
    }
    let none = dir.path().join("absent.sqlite").display().to_string();
    let md = text(&diag(&["report", seed.as_str(), "--db", none.as_str()]).stdout);
    let section = md.split("## Test History Summary").nth(1).expect("section");
    assert!(section.contains("--db"), "{section}");
    assert!(
        !std::path::Path::new(&none).exists(),
        "a report must not create a database"
    );
}
