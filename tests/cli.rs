//! End-to-end tests: the real `diag` binary on the bundled samples, checked as a user or a CI job sees
//! it (exit codes, the JSON contract read into test-only types, error messages).

use serde::Deserialize;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn diag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run diag")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `diag args` with `input` on its standard input, and `TMPDIR` set when given.
fn diag_fed(args: &[&str], tmpdir: Option<&Path>, input: &[u8]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_diag"));
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(t) = tmpdir {
        cmd.env("TMPDIR", t);
    }
    let mut child = cmd.spawn().expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("feed stdin");
    child.wait_with_output().expect("wait")
}

// The wire format as a dashboard reads it: independent of the crate's own types.
#[derive(Debug, Deserialize)]
struct Report {
    schema: String,
    tool: Tool,
    sources: Vec<Source>,
    findings: Vec<Finding>,
    incidents: Vec<Incident>,
    summary: Summary,
}
#[derive(Debug, Deserialize)]
struct Tool {
    name: String,
    version: String,
}
#[derive(Debug, Deserialize)]
struct Source {
    path: String,
    label: String,
    format: String,
    events: u64,
    unparsed: u64,
}
#[derive(Debug, Deserialize)]
struct Finding {
    id: String,
    rule: String,
    severity: String,
    title: String,
    cids: Vec<String>,
    first_ts: Option<String>,
    last_ts: Option<String>,
    count: u64,
    evidence: Vec<Evidence>,
    caused_by: Option<String>,
}
#[derive(Debug, Deserialize)]
struct Evidence {
    source: String,
    line: u64,
    ts: Option<String>,
    text: String,
}
#[derive(Debug, Deserialize)]
struct Incident {
    id: String,
    root: String,
    findings: Vec<String>,
    cids: Vec<String>,
    summary: String,
}
#[derive(Debug, Deserialize)]
struct Summary {
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    info: u64,
}

/// The seven kinds of failure the seed's evidence supports (the rule ids dashboards rely on).
const SEVEN_KINDS: [&str; 7] = [
    "ratchet-version-gap",
    "panic",
    "channel-closed-cascade",
    "retry-storm",
    "request-timeout",
    "websocket-lost",
    "message-not-delivered",
];

const ALICE: &str = "2140228971562830034";
const BOB: &str = "4926344781773734389";

fn seed_report() -> Report {
    let o = diag(&["check", "samples/seed", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "stderr: {}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("check --format json is JSON")
}

#[test]
fn check_on_the_seed_finds_all_seven_kinds_and_fails() {
    let r = seed_report();
    assert_eq!(r.schema, "diag.report/v1");
    assert_eq!(r.tool.name, "diag");
    assert!(!r.tool.version.is_empty());
    let rules: std::collections::BTreeSet<&str> =
        r.findings.iter().map(|f| f.rule.as_str()).collect();
    for want in SEVEN_KINDS {
        assert!(rules.contains(want), "missing {want}: {rules:?}");
    }
    assert_eq!(
        r.summary.critical,
        r.findings
            .iter()
            .filter(|f| f.severity == "critical")
            .count() as u64
    );
    assert_eq!(
        r.summary.critical + r.summary.high + r.summary.medium + r.summary.low + r.summary.info,
        r.findings.len() as u64
    );
    // Every source parsed cleanly.
    assert_eq!(r.sources.len(), 3);
    for s in &r.sources {
        assert_eq!(
            s.unparsed, 0,
            "{} ({}) has unparsed lines",
            s.label, s.format
        );
        assert!(s.events > 50, "{}", s.path);
    }
}

#[test]
fn the_seed_incident_is_rooted_in_the_ratchet_gap_then_the_panic() {
    let r = seed_report();
    let by_id = |id: &str| {
        r.findings
            .iter()
            .find(|f| f.id == id)
            .expect("finding id resolves")
    };
    assert!(!r.incidents.is_empty());
    let inc = &r.incidents[0];
    assert_eq!(inc.id, "I1");
    assert_eq!(
        by_id(&inc.root).rule,
        "ratchet-version-gap",
        "{}",
        inc.summary
    );
    assert_eq!(inc.findings.first(), Some(&inc.root));
    let chain: Vec<&str> = inc
        .findings
        .iter()
        .map(|id| by_id(id).rule.as_str())
        .collect();
    assert_eq!(chain[1], "panic", "{chain:?}");
    let pos = |rule: &str| {
        chain
            .iter()
            .position(|r| *r == rule)
            .expect("rule in chain")
    };
    assert!(
        pos("websocket-lost") < pos("channel-closed-cascade"),
        "{chain:?}"
    );
    assert!(
        pos("channel-closed-cascade") < pos("retry-storm"),
        "{chain:?}"
    );
    assert_eq!(
        *chain.last().expect("non-empty"),
        "message-not-delivered",
        "{chain:?}"
    );
    assert!(inc.cids.contains(&ALICE.to_string()) && inc.cids.contains(&BOB.to_string()));
    assert!(
        inc.summary.starts_with("Root cause: ratchet"),
        "{}",
        inc.summary
    );
    // Deprecation warnings are reported (low) but are context, not causes.
    let dep: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "deprecation-warning")
        .collect();
    assert_eq!(dep.len(), 2, "React Router flags and deprecated WASM init");
    assert!(dep
        .iter()
        .all(|f| f.severity == "low" && !inc.findings.contains(&f.id) && f.caused_by.is_none()));
    // caused_by links walk back to the root.
    let panic = r
        .findings
        .iter()
        .find(|f| f.rule == "panic")
        .expect("panic finding");
    assert_eq!(panic.caused_by.as_deref(), Some(inc.root.as_str()));
}

#[test]
fn findings_carry_their_numbers_and_evidence() {
    let r = seed_report();
    let gap = r
        .findings
        .iter()
        .find(|f| f.rule == "ratchet-version-gap")
        .expect("gap");
    assert_eq!(gap.cids, vec![BOB.to_string()], "CIDs are strings");
    assert!(gap.title.contains("gap 9"), "{}", gap.title);
    assert_eq!(gap.count, 2);
    assert_eq!(gap.evidence[0].source, "internal-service");
    assert!(gap.evidence[0].text.contains("ratchet v9"));
    assert!(gap.evidence[0]
        .ts
        .as_deref()
        .is_some_and(|t| t.starts_with("2025-12-30T01:43")));
    assert!(gap.first_ts.is_some() && gap.last_ts.is_some());
    let panic = r
        .findings
        .iter()
        .find(|f| f.rule == "panic")
        .expect("panic");
    assert!(
        panic.title.contains("session.rs:2254:18"),
        "{}",
        panic.title
    );
    assert!(panic.title.contains("Option::unwrap()"), "{}", panic.title);
    let storm = r
        .findings
        .iter()
        .find(|f| f.rule == "retry-storm")
        .expect("storm");
    assert_eq!(storm.count, 6);
    assert!(storm.title.contains("63s"), "{}", storm.title);
    assert!(
        storm.cids.contains(&ALICE.to_string()),
        "truncated 21402289... resolved: {:?}",
        storm.cids
    );
    let lost = r
        .findings
        .iter()
        .find(|f| f.rule == "message-not-delivered")
        .expect("lost");
    assert!(lost.title.contains("97d21b6a"), "{}", lost.title);
    assert!(lost
        .evidence
        .iter()
        .all(|e| e.source == "alice-tab0" && e.line > 0));
    let ws: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.rule == "websocket-lost")
        .collect();
    assert!(ws.iter().any(|f| f.title.contains("alice-tab0")));
}

#[test]
fn the_healthy_run_passes_even_at_medium() {
    let o = diag(&[
        "check",
        "samples/healthy",
        "--fail-on",
        "medium",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let r: Report = serde_json::from_slice(&o.stdout).expect("json");
    let serious: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| ["critical", "high", "medium"].contains(&f.severity.as_str()))
        .map(|f| f.title.as_str())
        .collect();
    assert!(serious.is_empty(), "{serious:?}");
}

#[test]
fn fail_on_and_rule_selection_change_the_exit_code() {
    assert_eq!(
        diag(&["check", "samples/seed", "--fail-on", "none"])
            .status
            .code(),
        Some(0)
    );
    let only = diag(&[
        "check",
        "samples/seed",
        "--only",
        "request-timeout",
        "--fail-on",
        "high",
    ]);
    assert_eq!(only.status.code(), Some(0), "request timeouts are medium");
    let only = diag(&[
        "check",
        "samples/seed",
        "--only",
        "request-timeout",
        "--fail-on",
        "medium",
    ]);
    assert_eq!(only.status.code(), Some(1));
    let bad = diag(&["check", "samples/seed", "--disable", "no-such-rule"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("rules list"), "{}", stderr(&bad));
}

#[test]
fn text_check_reads_like_a_report() {
    let o = diag(&["check", "samples/seed"]);
    let out = stdout(&o);
    assert!(out.starts_with("diag check:"), "{out}");
    assert!(out.contains("FAIL"));
    assert!(out.contains("Incident I1"));
    assert!(out.contains("Root cause: ratchet"));
    assert!(
        out.contains("bob_1767144257 (4926344781773734389)"),
        "CIDs get names"
    );
    assert!(out.contains("clock offset"), "per source clock offset");
    assert!(!out.contains('\x1b'), "no colour off a terminal");
}

#[test]
fn timeline_tells_one_story_with_resolved_cids() {
    let o = diag(&["timeline", "samples/seed"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let at = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in timeline"))
    };
    // Causal order across three sources with three different time stories.
    assert!(at("Sending reliable P2P message from") < at("Attempted to get ratchet v9"));
    assert!(at("Attempted to get ratchet v9") < at("Panic occurred"));
    assert!(at("Panic occurred") < at("WebSocket communication task ended"));
    assert!(at("WebSocket communication task ended") < at("retry in 32s (attempt 6)"));
    assert!(
        out.contains("21402289…=alice_1767144257 (2140228971562830034)"),
        "truncated CID resolved to name and CID"
    );
    assert!(
        out.contains("alice-tab0") && out.contains("bob-tab1") && out.contains("internal-service")
    );
}

#[test]
fn timeline_ndjson_has_the_documented_fields_and_filters() {
    let o = diag(&[
        "timeline",
        "samples/seed",
        "--format",
        "ndjson",
        "--cid",
        "bob",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert!(lines.len() > 10);
    for v in &lines {
        for k in [
            "source",
            "line",
            "ts",
            "ts_quality",
            "level",
            "target",
            "message",
            "cids",
            "uuids",
            "fields",
        ] {
            assert!(v.get(k).is_some(), "missing {k} in {v}");
        }
        let cids = v["cids"].as_array().expect("cids array");
        assert!(cids.iter().all(|c| c.is_string()), "CIDs are strings");
        assert!(
            cids.iter().any(|c| c == BOB),
            "--cid bob keeps Bob's events: {v}"
        );
        assert!(["exact", "time-of-day", "inferred", "order"]
            .contains(&v["ts_quality"].as_str().expect("quality")));
    }
    let o = diag(&[
        "timeline",
        "samples/seed",
        "--format",
        "ndjson",
        "--level",
        "error",
        "--source",
        "internal",
    ]);
    for l in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("json");
        assert_eq!(v["level"], "error");
        assert_eq!(v["source"], "internal-service");
    }
}

#[test]
fn labels_globs_gz_and_stdin() {
    let o = diag(&[
        "timeline",
        "bob=samples/seed/bob-tab1.devtools.log",
        "--format",
        "ndjson",
    ]);
    assert!(stdout(&o).lines().all(|l| l.contains("\"source\":\"bob\"")));
    let o = diag(&["timeline", "samples/seed/*.log", "--format", "ndjson"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("svc.log.gz");
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/seed/internal-service.log"),
    )
    .expect("read");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&text).expect("gz");
    std::fs::write(&gz, e.finish().expect("gz")).expect("write");
    let o = diag(&[
        "check",
        gz.to_str().expect("utf8 path"),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    let r: Report = serde_json::from_slice(&o.stdout).expect("json");
    assert!(r.findings.iter().any(|f| f.rule == "panic"));
    let from_stdin = |args: &[&str]| diag_fed(args, None, &text);
    let out = from_stdin(&["timeline", "svc=-", "--format", "ndjson"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"source\":\"svc\""));
    // Stdin is read twice from a private copy: the same lines, nothing to say about it.
    let streamed = from_stdin(&[
        "timeline", "svc=-", "--format", "ndjson", "--stream", "always",
    ]);
    assert_eq!(streamed.stdout, out.stdout);
    let err = String::from_utf8_lossy(&streamed.stderr);
    assert!(!err.contains("--stream always reads files only"), "{err}");
    // A gz file streams: both passes inflate it.
    let held = diag(&[
        "timeline",
        gz.to_str().expect("utf8 path"),
        "--format",
        "ndjson",
        "--stream",
        "never",
    ]);
    let twice = diag(&[
        "timeline",
        gz.to_str().expect("utf8 path"),
        "--format",
        "ndjson",
        "--stream",
        "always",
    ]);
    assert!(!held.stdout.is_empty());
    assert_eq!(held.stdout, twice.stdout);
    assert_eq!(stderr(&held), stderr(&twice));
}

/// `check` copies standard input to a private temporary file and reads that twice, as it reads
/// a file: the report is the one a held read gives (sources named as stdin, plain or gz), and the
/// copy is gone when the run ends.
#[test]
fn check_reads_stdin_twice_from_a_private_copy() {
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/seed/internal-service.log"),
    )
    .expect("read");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&text).expect("gz");
    let gz = e.finish().expect("gz");
    let tmp = tempfile::tempdir().expect("tempdir");
    let check = [
        "check",
        "svc=-",
        "--format",
        "json",
        "--fail-on",
        "none",
        "--stream",
    ];
    let run = |input: &[u8], stream: &str| -> serde_json::Value {
        let out = diag_fed(&[&check[..], &[stream]].concat(), Some(tmp.path()), input);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            !stderr(&out).contains("reads files only"),
            "{}",
            stderr(&out)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        // Timings differ between any two runs.
        fn untimed(v: &mut serde_json::Value) {
            match v {
                serde_json::Value::Object(m) => {
                    m.retain(|k, _| !k.ends_with("_s") && k != "rule_times");
                    m.values_mut().for_each(untimed);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(untimed),
                _ => {}
            }
        }
        untimed(&mut v);
        v
    };
    for input in [&text[..], &gz[..]] {
        let held = run(input, "never");
        let twice = run(input, "always");
        assert_eq!(held, twice);
        let sources = twice["sources"].as_array().expect("sources");
        assert!(!sources.is_empty());
        for s in sources {
            assert_eq!(s["path"], "<stdin>", "{s}");
            assert!(
                s["label"].as_str().is_some_and(|l| l.starts_with("svc")),
                "{s}"
            );
        }
        assert!(twice["findings"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f["rule"] == "panic")));
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("tmp").collect();
    assert!(left.is_empty(), "copies left behind: {left:?}");
    // No folder to copy into: read once and held, the same report, and a note that says why.
    let missing = tmp.path().join("missing");
    let out = diag_fed(&[&check[..], &["always"]].concat(), Some(&missing), &text);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot make a private copy of standard input"),
        "{}",
        stderr(&out)
    );
    let r: Report = serde_json::from_slice(&out.stdout).expect("json");
    assert!(r.findings.iter().any(|f| f.rule == "panic"));
}

#[test]
fn bad_input_gets_clear_errors_and_counted_skips() {
    let o = diag(&["check", "/no/such/dir/x.log"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/dir/x.log"), "{}", stderr(&o));
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("core.bin");
    std::fs::write(&bin, [0x7fu8, b'E', b'L', b'F', 0, 0, 1, 2, 0, 0]).expect("write");
    let log = dir.path().join("svc.log");
    std::fs::write(
        &log,
        b" INFO citadel: a.rs:1: hello \xff\xfe world\r\nERROR citadel: a.rs:2: boom\r\n",
    )
    .expect("write");
    let o = diag(&[
        "timeline",
        bin.to_str().expect("p"),
        log.to_str().expect("p"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a refused input makes the run an input error"
    );
    assert!(
        stderr(&o).contains("core.bin") && stderr(&o).contains("binary"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("invalid UTF-8"), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("boom"),
        "the readable input is still shown"
    );
    // A truncated gz keeps what was read and says so.
    let text: String = (0..20000)
        .map(|i| format!(" INFO citadel: a.rs:{i}: line {i}\n"))
        .collect();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).expect("gz");
    let z = e.finish().expect("gz");
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &z[..z.len() / 2]).expect("write");
    let o = diag(&["timeline", cut.to_str().expect("p"), "--format", "ndjson"]);
    assert!(stderr(&o).contains("gzip"), "{}", stderr(&o));
    assert!(stdout(&o).lines().count() > 100);
}

#[test]
fn a_malformed_rule_file_names_file_line_and_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("mine.toml");
    std::fs::write(
        &p,
        "id = \"mine\"\ntitle = \"Mine\"\nseverity = \"hgh\"\nkind = \"match\"\ndescription = \"d\"\nremediation = \"r\"\n",
    )
    .expect("write");
    let o = diag(&[
        "check",
        "samples/seed",
        "--rules",
        dir.path().to_str().expect("p"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("mine.toml:3:"), "{e}");
    assert!(e.contains("did you mean \"high\""), "{e}");
}

#[test]
fn rules_test_and_list() {
    let o = diag(&["rules", "test"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains(" passed, 0 failed"));
    let o = diag(&["rules", "list"]);
    let out = stdout(&o);
    for id in SEVEN_KINDS {
        assert!(out.contains(id), "{id}");
    }
}

#[test]
fn formats_list_and_detect() {
    let o = diag(&["formats", "list"]);
    assert!(stdout(&o).contains("citadel-tracing"));
    let o = diag(&["formats", "detect", "samples/seed/internal-service.log"]);
    assert!(stdout(&o).contains("citadel-tracing"), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 unparsed"), "{}", stdout(&o));
}

#[test]
fn bare_invocation_off_a_terminal_is_a_check() {
    let o = diag(&["samples/seed"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).starts_with("diag check:"));
}

#[test]
fn junit_and_sarif_for_ci() {
    let o = diag(&["check", "samples/seed", "--format", "junit"]);
    assert_eq!(o.status.code(), Some(1));
    let x = stdout(&o);
    assert!(x.starts_with("<?xml"));
    assert!(
        x.contains(r#"<testcase classname="diag.rules" name="panic" file="samples/seed/internal-service.log" line="118""#),
        "{x}"
    );
    let timeout = x
        .lines()
        .find(|l| l.contains(r#"name="request-timeout""#))
        .unwrap_or_default();
    assert!(
        timeout.contains("<system-out>") && !timeout.contains("<failure"),
        "medium findings do not fail at --fail-on high: {timeout}"
    );
    let o = diag(&["check", "samples/seed", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("sarif is json");
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "panic" && r["level"] == "error"));
    assert!(results
        .iter()
        .all(|r| r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1)));
}

/// The real service logs of `../shared/real-logs` (present beside the repo on developer machines and in
/// CI; skipped with a message elsewhere): all parse, the healthy ones pass, the faults are named.
#[test]
fn real_service_logs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-logs");
    if !dir.is_dir() {
        eprintln!("skipping: {} is not here", dir.display());
        return;
    }
    let case = |name: &str, fail_rule: Option<&str>| {
        let p = dir.join(name);
        let o = diag(&[
            "check",
            p.to_str().expect("utf8"),
            "--format",
            "json",
            "--fail-on",
            "medium",
        ]);
        let r: Report = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", stderr(&o)));
        assert_eq!(r.sources[0].format, "citadel-tracing", "{name}");
        assert_eq!(r.sources[0].unparsed, 0, "{name}");
        match fail_rule {
            None => assert_eq!(
                o.status.code(),
                Some(0),
                "{name}: {:?}",
                r.findings.iter().map(|f| &f.title).collect::<Vec<_>>()
            ),
            Some(rule) => {
                assert_eq!(o.status.code(), Some(1), "{name}");
                assert!(r.findings.iter().any(|f| f.rule == rule), "{name}: {rule}");
            }
        }
    };
    case("p2p_messaging_test_with_backtraces.ansi.log", None);
    case("group_chat_leave_and_end.ansi.log", None);
    case(
        "p2p_wrong_session_password.ansi.log",
        Some("key-exchange-failed"),
    );
    case(
        "fault_peer_service_killed__citadel_server.ansi.log",
        Some("peer-connection-dropped"),
    );
}

/// Issue 7: which source is the service (the reference clock, owner of no CIDs) comes from its format's
/// `role = "service"`, not from its name. The built-in service format renamed in a `--parsers` dir
/// gives the same timeline; without its role it does not.
#[test]
fn the_service_is_known_by_its_role_not_its_name() {
    let logs = tempfile::tempdir().expect("tempdir");
    // No time anywhere: the reference is chosen by anchors, then by role. The tab has more lines, so
    // only the role keeps the service first; the service's send line would otherwise make it an owner.
    let svc = logs.path().join("svc.log");
    let tab = logs.path().join("tab.txt");
    std::fs::write(
        &svc,
        " INFO app_service: svc.rs:10: handling request_id=11111111-2222-4333-8444-555555555555\n \
         INFO app_service: svc.rs:11: Sending reliable P2P message from 2140228971562830034 to 4926344781773734389\n \
         INFO app_service: svc.rs:12: done\n",
    )
    .expect("write");
    std::fs::write(
        &tab,
        "tab starts\nrouting 11111111-2222-4333-8444-555555555555\nsecond\nthird\nfourth\n",
    )
    .expect("write");
    let builtin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("parsers/citadel-tracing.toml"),
    )
    .expect("read the built-in service format");
    assert!(builtin.contains("\nrole = \"service\"\n"));
    let renamed = builtin.replacen("name = \"citadel-tracing\"", "name = \"acme-server\"", 1);
    let with_role = tempfile::tempdir().expect("tempdir");
    let without_role = tempfile::tempdir().expect("tempdir");
    // Same file name: the user's file replaces the built-in one.
    std::fs::write(with_role.path().join("citadel-tracing.toml"), &renamed).expect("write");
    std::fs::write(
        without_role.path().join("citadel-tracing.toml"),
        renamed.replacen("\nrole = \"service\"\n", "\n", 1),
    )
    .expect("write");
    let (svc, tab) = (svc.to_str().unwrap(), tab.to_str().unwrap());
    for (cmd, format) in [
        ("timeline", "ndjson"),
        ("timeline", "text"),
        ("check", "json"),
    ] {
        let run = |parsers: Option<&Path>| {
            let mut args = vec![cmd, "--format", format];
            if let Some(p) = parsers {
                args.extend(["--parsers", p.to_str().unwrap()]);
            }
            args.extend([svc, tab]);
            stdout(&diag(&args)).replace("acme-server", "citadel-tracing")
        };
        let original = run(None);
        assert!(!original.is_empty());
        assert_eq!(
            original,
            run(Some(with_role.path())),
            "{cmd} --format {format}"
        );
        if cmd == "check" {
            assert_ne!(original, run(Some(without_role.path())), "the role decides");
        }
    }
}
