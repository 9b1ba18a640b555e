//! End-to-end tests of what CI and dashboards consume: the JSON report against its committed schema,
//! SARIF against the 2.1.0 schema, JUnit, GitHub annotations, NDJSON findings, baselines, and the
//! command-line habits (colour, quiet, completions, man page, "did you mean", stdout vs stderr).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn diag_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_diag"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("DIAG_FAIL_ON")
        .env_remove("DIAG_RUN_ID")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run diag")
}

fn diag(args: &[&str]) -> Output {
    diag_env(args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Every sample set: the seed, the healthy run and each fault.
fn sample_dirs() -> Vec<String> {
    let mut v = vec!["samples/seed".to_string(), "samples/healthy".to_string()];
    let mut faults: Vec<String> = std::fs::read_dir(repo("samples/faults"))
        .expect("samples/faults")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| format!("samples/faults/{}", e.file_name().to_string_lossy()))
        .collect();
    faults.sort();
    v.extend(faults);
    v
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::validator_for(schema).expect("a valid JSON Schema")
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not validate:\n{}",
        errors.join("\n")
    );
}

// ---------------------------------------------------------------- JSON report and its schema

#[test]
fn the_committed_report_schema_is_the_generated_one() {
    let generated = diag::report::wire::schema();
    let path = repo("schemas/diag.report.v1.json");
    let text = serde_json::to_string_pretty(&generated).expect("schema") + "\n";
    if std::env::var_os("DIAG_BLESS_SCHEMA").is_some() {
        std::fs::write(&path, &text).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "schemas/diag.report.v1.json is out of date with the Rust types; regenerate it with\n  DIAG_BLESS_SCHEMA=1 cargo test --test ci the_committed_report_schema_is_the_generated_one"
    );
}

#[test]
fn every_json_report_validates_against_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("schemas/diag.report.v1.json")).expect("schema file"),
    )
    .expect("schema is JSON");
    let v = validator(&schema);
    for dir in sample_dirs() {
        for fail_on in ["high", "none"] {
            let o = diag(&["check", &dir, "--format", "json", "--fail-on", fail_on]);
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{dir}: {}",
                stderr(&o)
            );
            assert_valid(&v, &json(&o), &format!("{dir} --fail-on {fail_on}"));
        }
    }
    // With run metadata and a baseline.
    let dir = tempfile::tempdir().expect("tempdir");
    let b = dir.path().join("b.json");
    let b = b.to_str().expect("utf-8 path");
    let o = diag(&["check", "samples/seed", "--write-baseline", b, "-q"]);
    assert_eq!(o.status.code(), Some(1));
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "json",
        "--baseline",
        b,
        "--run-id",
        "ci-42",
        "--label",
        "branch=main",
        "--label",
        "commit=abc",
    ]);
    assert_valid(&v, &json(&o), "seed with a baseline");
}

/// An input that stopped early makes the SARIF invocation unsuccessful, with a notification naming it.
#[test]
fn sarif_says_when_an_input_stopped_early() {
    let o = diag(&[
        "check",
        "samples/bad/truncated.log.gz",
        "--allow-partial",
        "--format",
        "sarif",
    ]);
    let doc = json(&o);
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{inv}");
    let note = inv["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap_or("");
    assert!(note.contains("truncated.log.gz"), "{note}");
    let ok = json(&diag(&["check", "samples/healthy", "--format", "sarif"]));
    assert_eq!(ok["runs"][0]["invocations"][0]["executionSuccessful"], true);
    if let Some(v) = sarif_validator() {
        assert_valid(&v, &doc, "truncated gz");
    }
}

#[test]
fn the_json_report_carries_verdict_run_metadata_facts_and_fingerprints() {
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "json",
        "--run-id",
        "build-7",
        "--label",
        "branch=main",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let r = json(&o);
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["fail_on"], "high");
    assert_eq!(r["run"]["id"], "build-7");
    assert_eq!(r["run"]["labels"]["branch"], "main");
    assert_eq!(r["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let findings = r["findings"].as_array().expect("findings");
    let gap = findings
        .iter()
        .find(|f| f["rule"] == "ratchet-version-gap")
        .expect("the ratchet gap");
    assert_eq!(gap["facts"]["gap"], "9", "{gap}");
    for f in findings {
        let fp = f["fingerprint"].as_str().expect("fingerprint");
        let cfp = f["cid_fingerprint"].as_str().expect("cid_fingerprint");
        assert_eq!(fp.len(), 16);
        assert_eq!(cfp.len(), 16);
        assert_eq!(f["suppressed"], false);
    }
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let r = json(&o);
    assert_eq!(r["verdict"], "pass");
    assert!(r["fail_on"].is_null());
}

// ---------------------------------------------------------------- SARIF

fn sarif_validator() -> Option<jsonschema::Validator> {
    let path = repo("../shared/schemas/sarif-schema-2.1.0.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "skipping SARIF schema validation: {} is not here",
            path.display()
        );
        return None;
    };
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    Some(validator(&schema))
}

#[test]
fn sarif_validates_against_the_2_1_0_schema_for_every_sample() {
    let Some(v) = sarif_validator() else { return };
    for dir in sample_dirs() {
        let o = diag(&["check", &dir, "--format", "sarif"]);
        assert_valid(&v, &json(&o), &dir);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let b = dir.path().join("b.json");
    let b = b.to_str().expect("utf-8 path");
    diag(&["check", "samples/seed", "--write-baseline", b, "-q"]);
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "sarif",
        "--baseline",
        b,
        "--run-id",
        "7",
    ]);
    assert_valid(&v, &json(&o), "seed with a baseline");
}

#[test]
fn sarif_locates_all_evidence_links_causes_and_fingerprints_stably() {
    let s = json(&diag(&["check", "samples/seed", "--format", "sarif"]));
    let r = json(&diag(&["check", "samples/seed", "--format", "json"]));
    let run = &s["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run["results"].as_array().expect("results");
    let findings = r["findings"].as_array().expect("findings");
    assert_eq!(results.len(), findings.len());
    for (res, f) in results.iter().zip(findings) {
        // The rule index points at the result's rule, whose level and help come from the rule file.
        let i = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        assert!(rules[i]["defaultConfiguration"]["level"].is_string());
        assert!(rules[i]["help"]["text"]
            .as_str()
            .expect("help")
            .contains("Fix: "));
        // Every evidence line is a location or a related location.
        let mut lines: Vec<u64> = res["locations"]
            .as_array()
            .into_iter()
            .chain(res["relatedLocations"].as_array())
            .flatten()
            .filter_map(|l| l["physicalLocation"]["region"]["startLine"].as_u64())
            .collect();
        lines.sort_unstable();
        for e in f["evidence"].as_array().expect("evidence") {
            assert!(
                lines.contains(&e["line"].as_u64().expect("line")),
                "{}: {e}",
                f["id"]
            );
        }
        assert_eq!(
            res["partialFingerprints"]["diagFingerprint/v1"],
            f["fingerprint"]
        );
        assert_eq!(
            res["partialFingerprints"]["diagCidFingerprint/v1"],
            f["cid_fingerprint"]
        );
        // A finding with a cause carries its chain as a code flow ending at itself, root first.
        if let Some(cause) = f["caused_by"].as_str() {
            let flow = res["codeFlows"][0]["threadFlows"][0]["locations"]
                .as_array()
                .unwrap_or_else(|| panic!("{} has a cause but no code flow", f["id"]));
            assert!(flow.len() >= 2);
            let text = flow[flow.len() - 2]["location"]["message"]["text"]
                .as_str()
                .unwrap_or("");
            assert!(text.contains(cause), "{text}");
        }
    }
    // The panic's evidence spans two lines (its payload): the region says so.
    let panic = results
        .iter()
        .find(|r| r["ruleId"] == "panic")
        .expect("panic");
    let region = &panic["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 118);
    assert_eq!(region["endLine"], 119);
}

#[test]
fn sarif_uris_are_encoded_and_stdin_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let spaced = dir.path().join("service log #1.log");
    std::fs::copy(repo("samples/seed/internal-service.log"), &spaced).expect("copy");
    let o = diag(&[
        "check",
        spaced.to_str().expect("utf-8"),
        "--format",
        "sarif",
    ]);
    let s = json(&o);
    let uri = s["runs"][0]["artifacts"][0]["location"]["uri"]
        .as_str()
        .expect("uri");
    assert!(uri.starts_with("file:///"), "{uri}");
    assert!(uri.ends_with("service%20log%20%231.log"), "{uri}");

    let mut c = Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(["check", "-", "--format", "sarif"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let text = std::fs::read(repo("samples/seed/internal-service.log")).expect("seed");
    if let Some(mut i) = c.stdin.take() {
        std::io::Write::write_all(&mut i, &text).expect("stdin");
    }
    let o = c.wait_with_output().expect("wait");
    let s = json(&o);
    let a = &s["runs"][0]["artifacts"][0];
    assert_eq!(a["location"]["uri"], "stdin");
    assert!(a["description"]["text"]
        .as_str()
        .unwrap_or("")
        .contains("standard input"));
    if let Some(v) = sarif_validator() {
        assert_valid(&v, &s, "stdin");
    }
}

// ---------------------------------------------------------------- JUnit

#[test]
fn junit_has_a_testcase_per_rule_placed_and_timed_with_evidence_in_failures() {
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "junit",
        "--run-id",
        "r1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let x = stdout(&o);
    let doc = roxmltree::Document::parse(&x).expect("well-formed XML");
    let rules = stdout(&diag(&["rules", "list"])).lines().count() - 1;
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), rules);
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("suite");
    assert!(suite
        .attribute("time")
        .and_then(|t| t.parse::<f64>().ok())
        .is_some());
    assert!(x.contains(r#"<property name="run_id" value="r1"/>"#), "{x}");
    for c in &cases {
        assert!(c
            .attribute("time")
            .and_then(|t| t.parse::<f64>().ok())
            .is_some());
    }
    let panic = cases
        .iter()
        .find(|c| c.attribute("name") == Some("panic"))
        .expect("panic");
    assert_eq!(
        panic.attribute("file"),
        Some("samples/seed/internal-service.log")
    );
    assert_eq!(panic.attribute("line"), Some("118"));
    let failure = panic
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("failure");
    let body = failure.text().unwrap_or("");
    assert!(
        body.contains("internal-service:118 Panic occurred"),
        "{body}"
    );
    assert!(body.contains("Fix: "), "{body}");
    // Below the threshold: not a failure, but the findings are still there.
    let timeout = cases
        .iter()
        .find(|c| c.attribute("name") == Some("request-timeout"))
        .expect("request-timeout");
    assert!(timeout.children().all(|n| !n.has_tag_name("failure")));
    assert!(timeout.children().any(|n| n.has_tag_name("system-out")));
}

// ---------------------------------------------------------------- GitHub

#[test]
fn github_annotations_point_at_the_key_evidence_of_each_failing_finding() {
    let o = diag(&["check", "samples/seed", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let r = json(&diag(&["check", "samples/seed", "--format", "json"]));
    let failing = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "critical" || f["severity"] == "high")
        .count();
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), failing, "{out}");
    let panic = errors
        .iter()
        .find(|l| l.contains("title=diag panic "))
        .expect("the panic");
    assert!(
        panic.starts_with("::error file=samples/seed/internal-service.log,line=118,endLine=119,"),
        "{panic}"
    );
    // One annotation per line: multi-line text is escaped.
    assert!(errors.iter().all(|l| l.matches("::").count() >= 2));
    assert!(out.lines().last().unwrap_or("").contains("FAIL"));
    // At --fail-on critical only the critical ones are annotated.
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "github",
        "--fail-on",
        "critical",
    ]);
    let n = stdout(&o)
        .lines()
        .filter(|l| l.starts_with("::error "))
        .count();
    assert_eq!(
        n,
        r["summary"]["critical"].as_u64().expect("critical") as usize
    );
}

// ---------------------------------------------------------------- NDJSON findings

#[test]
fn ndjson_has_one_finding_per_line_with_the_run_metadata_then_a_run_line() {
    let o = diag(&[
        "check",
        "samples/seed",
        "--format",
        "ndjson",
        "--run-id",
        "n1",
        "--label",
        "suite=p2p",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let r = json(&diag(&["check", "samples/seed", "--format", "json"]));
    let n = r["findings"].as_array().expect("findings").len();
    assert_eq!(lines.len(), n + 1);
    for l in &lines[..n] {
        assert_eq!(l["kind"], "finding");
        assert_eq!(l["run"]["id"], "n1");
        assert_eq!(l["run"]["labels"]["suite"], "p2p");
        assert!(l["fingerprint"].is_string() && l["rule"].is_string() && l["severity"].is_string());
    }
    let last = &lines[n];
    assert_eq!(last["kind"], "run");
    assert_eq!(last["verdict"], "fail");
    assert_eq!(last["summary"], r["summary"]);
}

// ---------------------------------------------------------------- baselines

/// A copy of the seed in a temporary directory, to add failures to.
fn seed_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for e in std::fs::read_dir(repo("samples/seed"))
        .expect("seed")
        .flatten()
    {
        std::fs::copy(e.path(), dir.path().join(e.file_name())).expect("copy");
    }
    dir
}

fn new_and_suppressed(o: &Output) -> (u64, u64) {
    let r = json(o);
    let b = &r["baseline"];
    (
        b["new"].as_u64().expect("new"),
        b["suppressed"].as_u64().expect("suppressed"),
    )
}

#[test]
fn a_baseline_round_trip_accepts_todays_findings_and_fails_on_a_new_one() {
    let logs = seed_copy();
    let d = logs.path().to_str().expect("utf-8").to_string();
    let base = tempfile::tempdir().expect("tempdir");
    let b = base.path().join("diag-baseline.json");
    let b = b.to_str().expect("utf-8").to_string();

    let o = diag(&["check", &d, "--write-baseline", &b]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "writing a baseline does not change today's verdict"
    );
    assert!(
        stderr(&o).contains("baseline of 15 findings"),
        "{}",
        stderr(&o)
    );

    // Rerun: everything is known, nothing is new, the run passes.
    let o = diag(&["check", &d, "--baseline", &b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(new_and_suppressed(&o), (0, 15));
    let r = json(&o);
    assert_eq!(r["verdict"], "pass");
    assert!(r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .all(|f| f["suppressed"] == true));

    // The text report says so and hides them unless asked.
    let o = diag(&["check", &d, "--baseline", &b]);
    let out = stdout(&o);
    assert!(out.contains("15 findings accepted, 0 new"), "{out}");
    assert!(!out.contains("\nFindings\n"), "{out}");
    let o = diag(&["check", &d, "--baseline", &b, "--show-suppressed"]);
    assert!(stdout(&o).contains("(in baseline)"), "{}", stdout(&o));

    // A second ratchet gap (another client, the same kind of line, beside the first ones): one more
    // of a known fingerprint than the baseline holds is new.
    let svc = logs.path().join("internal-service.log");
    let text = std::fs::read_to_string(&svc).expect("service log");
    let mut lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("Attempted to get ratchet v8"))
        .expect("the seed's second ratchet line");
    let extra = "internal-service-1  | 2025-12-30T01:43:41.013500000Z ERROR citadel: /usr/local/cargo/git/checkouts/citadel-protocol-5ed557508e8a0da8/7a040b2/citadel_crypt/src/toolset.rs:252: Attempted to get ratchet v9 for cid=1234567890123456789, but does not exist! len: 1. Oldest: 0. Newest: 0";
    lines.insert(at + 1, extra);
    std::fs::write(&svc, lines.join("\n") + "\n").expect("write");
    let o = diag(&["check", &d, "--baseline", &b, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(new_and_suppressed(&o), (1, 15));
    let r = json(&o);
    let new: Vec<&Value> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["suppressed"] == false)
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["rule"], "ratchet-version-gap");

    // GitHub annotations and SARIF agree: only the new one is annotated; SARIF marks the rest.
    let o = diag(&["check", &d, "--baseline", &b, "--format", "github"]);
    assert_eq!(
        stdout(&o)
            .lines()
            .filter(|l| l.starts_with("::error "))
            .count(),
        1
    );
    let s = json(&diag(&["check", &d, "--baseline", &b, "--format", "sarif"]));
    let results = s["runs"][0]["results"].as_array().expect("results");
    assert_eq!(
        results
            .iter()
            .filter(|r| r["baselineState"] == "new")
            .count(),
        1
    );
    assert_eq!(
        results
            .iter()
            .filter(|r| r["suppressions"].is_array())
            .count(),
        15
    );
}

#[test]
fn a_missing_or_foreign_baseline_is_a_clear_usage_error() {
    let o = diag(&[
        "check",
        "samples/seed",
        "--baseline",
        "no/such/baseline.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--write-baseline"), "{}", stderr(&o));
    let o = diag(&[
        "check",
        "samples/seed",
        "--baseline",
        "samples/seed/internal-service.log",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a diag baseline"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------- command line

#[test]
fn color_follows_the_flag_and_the_environment() {
    let esc = |o: &Output| o.stdout.contains(&0x1b);
    // Off a terminal: no colour by default, colour when forced.
    assert!(!esc(&diag(&["check", "samples/seed"])));
    assert!(esc(&diag(&["check", "samples/seed", "--color", "always"])));
    assert!(esc(&diag(&["--color=always", "check", "samples/seed"])));
    assert!(esc(&diag_env(
        &["check", "samples/seed"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    // NO_COLOR wins over CLICOLOR_FORCE; --color always wins over both.
    assert!(!esc(&diag_env(
        &["check", "samples/seed"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    )));
    assert!(!esc(&diag_env(
        &["check", "samples/seed", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    assert!(esc(&diag_env(
        &["check", "samples/seed", "--color", "always"],
        &[("NO_COLOR", "1"), ("TERM", "dumb")]
    )));
    let o = diag(&["check", "samples/seed", "--color", "sometimes"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn quiet_leaves_the_verdict_to_the_exit_code() {
    let o = diag(&["check", "samples/seed", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let o = diag(&["-q", "check", "samples/healthy", "--fail-on", "medium"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", stderr(&o));
    let o = diag(&["check", "--quiet", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/dir"), "errors are still said");
}

#[test]
fn completions_for_each_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = diag(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let s = stdout(&o);
        assert!(s.contains("timeline") && s.contains("fail-on"), "{shell}");
    }
    let o = diag(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let o = diag(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = stdout(&o);
    assert!(
        man.starts_with(".ie") || man.contains(".TH diag"),
        "{}",
        &man[..man.len().min(200)]
    );
    assert!(man.contains("check") && man.contains("timeline"));
}

#[test]
fn typos_get_did_you_mean() {
    let o = diag(&["chek", "samples/seed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `check`?"),
        "{}",
        stderr(&o)
    );
    // A word close to nothing is taken as a path and reported as one.
    let o = diag(&["zzzqqq"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("did you mean"), "{}", stderr(&o));
    let o = diag(&["check", "samples/seed", "--disable", "panik"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `panic`?"),
        "{}",
        stderr(&o)
    );
    let o = diag(&["check", "samples/seed", "--input-format", "citadel-tracin"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `citadel-tracing`?"),
        "{}",
        stderr(&o)
    );
    let o = diag(&["check", "samples/seed", "--fail-on", "hihg"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'high'"), "{}", stderr(&o));
    let o = diag(&["timeline", "samples/seed", "--cid", "alise_1767144257"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `alice_1767144257`?"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_timeline_sends_events_to_stdout_and_its_summary_to_stderr() {
    let o = diag(&["timeline", "samples/seed", "--source", "alice"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let err = stderr(&o);
    assert!(
        !out.contains("Sources") && !out.contains("events shown"),
        "{out}"
    );
    assert!(
        err.contains("Sources") && err.contains("of 376 events shown"),
        "{err}"
    );
    // The playwright tab has no time of its own: its mark is explained.
    assert!(out.lines().any(|l| l.contains('~')), "{out}");
    assert!(err.contains("~ no time of its own"), "{err}");
    let help = stdout(&diag(&["timeline", "--help"]));
    assert!(
        help.contains("`~` no time of its own") && help.contains("`·` time of day"),
        "{help}"
    );
    assert!(help.contains("smart case"), "{help}");
    let o = diag(&["timeline", "samples/seed", "-q"]);
    assert!(o.stderr.is_empty() && !o.stdout.is_empty());
}

#[test]
fn grep_is_smart_case() {
    let count = |pat: &str| {
        stdout(&diag(&[
            "timeline",
            "samples/seed",
            "--grep",
            pat,
            "--format",
            "ndjson",
        ]))
        .lines()
        .count()
    };
    let lower = count("websocket communication task ended");
    let exact = count("WebSocket communication task ended");
    let wrong_case = count("Websocket communication task ended");
    assert!(lower >= exact && exact > 0, "{lower} {exact}");
    assert_eq!(wrong_case, 0);
}

#[test]
fn lists_are_aligned_and_labelled_and_counts_read_right() {
    let rules = stdout(&diag(&["rules", "list"]));
    let header = rules.lines().next().expect("header");
    assert!(header.starts_with("ID") && header.contains("SEVERITY") && header.contains("KIND"));
    let col = |word: &str| header.find(word).expect("column");
    for l in rules.lines().skip(1) {
        // Each column starts where its header does, also after `critical` and `accounting`.
        assert_eq!(l.as_bytes()[col("SEVERITY") - 1], b' ', "{l}");
        assert_ne!(l.as_bytes()[col("SEVERITY")], b' ', "{l}");
        assert_ne!(l.as_bytes()[col("KIND")], b' ', "{l}");
        assert_ne!(l.as_bytes()[col("TITLE")], b' ', "{l}");
        assert_eq!(l.as_bytes()[col("TITLE") - 1], b' ', "{l}");
    }
    let formats = stdout(&diag(&["formats", "list"]));
    let header = formats.lines().next().expect("header");
    assert!(
        header.starts_with("NAME") && header.contains("PRIORITY"),
        "{header}"
    );
    // Two-digit finding ids keep the severity column in place.
    let text = stdout(&diag(&["check", "samples/seed"]));
    let tree: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("↳") || l.contains("root F"))
        .collect();
    let at = |l: &str| {
        l.find(" CRITICAL ")
            .or(l.find(" HIGH "))
            .or(l.find(" MEDIUM "))
            .or(l.find(" LOW "))
    };
    let f9 = tree.iter().find(|l| l.contains(" F9 ")).expect("F9");
    let f10 = tree.iter().find(|l| l.contains(" F10 ")).expect("F10");
    assert_eq!(at(f9), at(f10), "{f9}\n{f10}");
}

/// Split a shell command line into words (double quotes group; `$VARS` stay as text).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn the_example_pipelines_use_flags_diag_has() {
    use clap::Parser;
    let mut checked = 0;
    for (file, must) in [
        (
            "examples/ci/github-actions.yml",
            ["upload-sarif", "--format github"],
        ),
        (
            "examples/ci/gitlab-ci.yml",
            ["junit: diag-junit.xml", "--format junit"],
        ),
    ] {
        let text = std::fs::read_to_string(repo(file)).expect(file);
        for m in must {
            assert!(text.contains(m), "{file} lacks {m}");
        }
        for line in text.lines() {
            let Some(at) = line.find("diag check ") else {
                continue;
            };
            // The command up to a redirection or `||`.
            let cmd = line[at..].split(['>', '|']).next().unwrap_or("");
            let w = words(cmd);
            let parsed = diag::cli::Cli::try_parse_from(&w);
            assert!(parsed.is_ok(), "{file}: {cmd}: {:?}", parsed.err());
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked}");
}

#[test]
fn a_ratchet_title_never_joins_ranges_from_different_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("service.log");
    let line = |t: &str, req: u32, newest: u32| {
        format!("2025-12-30T01:43:{t}Z ERROR citadel: citadel_crypt/src/toolset.rs:252: Attempted to get ratchet v{req} for cid=4926344781773734389, but does not exist! len: 1. Oldest: 0. Newest: {newest}\n")
    };
    // Three episodes of one client: the held range grew between them; requests out of order.
    let text = [
        line("10.000000", 27, 25),
        line("20.000000", 13, 11),
        line("30.000000", 39, 38),
    ]
    .concat();
    std::fs::write(&log, text).expect("write");
    let r = json(&diag(&[
        "check",
        log.to_str().expect("utf-8"),
        "--format",
        "json",
    ]));
    let titles: Vec<&str> = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "ratchet-version-gap")
        .filter_map(|f| f["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 1, "{titles:?}");
    let t = titles[0];
    assert!(
        t.starts_with("ratchet v13, 27, 39 requested"),
        "sorted: {t}"
    );
    assert!(
        !t.contains("holds only"),
        "no range that never existed: {t}"
    );
    assert!(t.contains("in 3 episodes"), "{t}");
    // One episode keeps the held range.
    let text = [line("10.000000", 9, 0), line("10.100000", 8, 0)].concat();
    std::fs::write(&log, text).expect("write");
    let r = json(&diag(&[
        "check",
        log.to_str().expect("utf-8"),
        "--format",
        "json",
    ]));
    let t = r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "ratchet-version-gap")
        .and_then(|f| f["title"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        t.contains("v8, 9 requested") && t.contains("which holds only v0..v0 (gap 9)"),
        "{t}"
    );
}

#[test]
fn the_readme_sample_is_what_check_prints() {
    let readme = std::fs::read_to_string(repo("README.md")).expect("README");
    let start =
        readme.find("it prints:\n\n```\n").expect("the sample") + "it prints:\n\n```\n".len();
    let block = &readme[start..];
    let block = &block[..block.find("```").expect("end of the sample")];
    let out = stdout(&diag(&["check", "samples/seed"]));
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.trim_start().starts_with("Root cause:"))
        .collect();
    for (want, got) in block.lines().zip(&lines) {
        let want = want.strip_suffix("...").unwrap_or(want);
        assert!(got.starts_with(want), "README: {want}\ndiag:   {got}");
    }
    assert!(block.lines().count() > 10);
}

#[test]
fn a_baseline_recognises_the_same_failure_in_another_run_with_other_cids() {
    let base = tempfile::tempdir().expect("tempdir");
    let b = base.path().join("b.json");
    let b = b.to_str().expect("utf-8").to_string();
    let o = diag(&["check", "samples/seed", "--write-baseline", &b, "-q"]);
    assert_eq!(o.status.code(), Some(1));
    // The next run: the clients registered with other CIDs, the panic moved a few lines.
    let logs = seed_copy();
    for e in std::fs::read_dir(logs.path()).expect("copy").flatten() {
        let text = std::fs::read_to_string(e.path()).expect("read");
        let text = text
            .replace("2140228971562830034", "3141592653589793238")
            .replace("21402289", "31415926")
            .replace("4926344781773734389", "2718281828459045235")
            .replace("49263447", "27182818")
            .replace("session.rs:2254:18", "session.rs:2301:18");
        std::fs::write(e.path(), text).expect("write");
    }
    let d = logs.path().to_str().expect("utf-8");
    let o = diag(&["check", d, "--baseline", &b, "--format", "json"]);
    assert_eq!(new_and_suppressed(&o), (0, 15), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0));
}
