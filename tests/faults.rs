//! End-to-end: `diag check` on every fault and healthy sample of `samples/faults/` says what its
//! `expect.toml` demands, and on the real service logs of `../shared/real-logs` (when present) healthy
//! runs raise nothing at medium or above while every fault run raises a high finding.

use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Deserialize)]
struct Expect {
    verdict: String,
    #[serde(default)]
    must: Vec<Must>,
    #[serde(default)]
    must_not: Vec<MustNot>,
    /// The incident the run must hold, when the sample is about how causes link.
    incident: Option<IncidentExpect>,
}

/// One incident: its root's rule, rules it must contain, how many sources its evidence spans.
#[derive(Debug, Deserialize)]
struct IncidentExpect {
    root: String,
    #[serde(default)]
    includes: Vec<String>,
    #[serde(default)]
    min_sources: usize,
}

#[derive(Debug, Deserialize)]
struct Must {
    rule: String,
    min_severity: String,
    #[serde(default)]
    title_contains: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MustNot {
    rule: String,
    min_severity: String,
}

fn rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Run `diag check --format json` on inputs; the exit code and the findings.
fn check(inputs: &[PathBuf]) -> (Option<i32>, Vec<Value>) {
    let (code, report) = check_report(inputs);
    (
        code,
        report["findings"].as_array().cloned().unwrap_or_default(),
    )
}

/// Whether some incident of the report has the expected root and members, and its evidence spans
/// enough sources; `Err` says what the incidents were instead.
fn incident_matches(report: &Value, want: &IncidentExpect) -> Result<(), String> {
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let rule_of = |id: &Value| -> String {
        findings
            .iter()
            .find(|f| &f["id"] == id)
            .and_then(|f| f["rule"].as_str())
            .unwrap_or("")
            .to_string()
    };
    let incidents = report["incidents"].as_array().cloned().unwrap_or_default();
    let mut seen = Vec::new();
    for inc in &incidents {
        let members: Vec<&Value> = inc["findings"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let rules: Vec<String> = members.iter().map(|m| rule_of(m)).collect();
        let sources: std::collections::BTreeSet<String> = findings
            .iter()
            .filter(|f| members.contains(&&f["id"]))
            .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["source"].as_str().map(str::to_string))
            .collect();
        if rule_of(&inc["root"]) == want.root
            && want.includes.iter().all(|r| rules.contains(r))
            && sources.len() >= want.min_sources
        {
            return Ok(());
        }
        seen.push(format!(
            "root {} with {rules:?} over {} sources",
            rule_of(&inc["root"]),
            sources.len()
        ));
    }
    Err(format!(
        "no incident rooted in {} with {:?} over {}+ sources; incidents: {seen:?}",
        want.root, want.includes, want.min_sources
    ))
}

/// Run `diag check --format json` on inputs; the exit code and the whole report.
fn check_report(inputs: &[PathBuf]) -> (Option<i32>, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_diag"));
    cmd.arg("check").arg("--format").arg("json");
    cmd.args(inputs);
    let o = cmd.output().expect("run diag");
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{inputs:?}: {e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code(), v)
}

fn titles(f: &[Value]) -> Vec<String> {
    f.iter()
        .map(|x| format!("{} {} {}", x["severity"], x["rule"], x["title"]))
        .collect()
}

#[test]
fn every_fault_sample_says_what_its_expect_toml_demands() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/faults");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("samples/faults")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect.toml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "fault samples: {dirs:?}");
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let text = std::fs::read_to_string(dir.join("expect.toml")).expect("read expect.toml");
        let exp: Expect = toml::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (code, report) = check_report(std::slice::from_ref(dir));
        let findings = report["findings"].as_array().cloned().unwrap_or_default();
        if let Some(want) = &exp.incident {
            if let Err(e) = incident_matches(&report, want) {
                failures.push(format!("{name}: {e}"));
            }
        }
        let want = if exp.verdict == "fail" { 1 } else { 0 };
        if code != Some(want) {
            failures.push(format!(
                "{name}: exit {code:?}, want {want}: {:?}",
                titles(&findings)
            ));
        }
        for m in &exp.must {
            let hit = findings.iter().any(|f| {
                f["rule"] == m.rule.as_str()
                    && rank(f["severity"].as_str().unwrap_or("")) >= rank(&m.min_severity)
                    && m.title_contains.iter().all(|w| {
                        f["title"]
                            .as_str()
                            .unwrap_or("")
                            .to_lowercase()
                            .contains(&w.to_lowercase())
                    })
            });
            if !hit {
                failures.push(format!(
                    "{name}: no {} at {}+ with {:?}: {:?}",
                    m.rule,
                    m.min_severity,
                    m.title_contains,
                    titles(&findings)
                ));
            }
        }
        for m in &exp.must_not {
            let bad: Vec<String> = findings
                .iter()
                .filter(|f| {
                    (m.rule == "*" || f["rule"] == m.rule.as_str())
                        && rank(f["severity"].as_str().unwrap_or("")) >= rank(&m.min_severity)
                })
                .map(|f| format!("{} {}", f["rule"], f["title"]))
                .collect();
            if !bad.is_empty() {
                failures.push(format!(
                    "{name}: must not have {} at {}+: {bad:?}",
                    m.rule, m.min_severity
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Real captures: healthy runs stay below medium; each fault run (a single file or a whole
/// multi-process run) has a finding at high or above (a wrong session password: medium or above).
#[test]
fn real_runs_healthy_pass_faults_are_named() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-logs");
    if !dir.is_dir() {
        eprintln!("skipping: {} is not here", dir.display());
        return;
    }
    let files = |names: &[&str]| -> Vec<PathBuf> {
        names
            .iter()
            .map(|n| dir.join(format!("{n}.ansi.log")))
            .collect()
    };
    let healthy: &[&[&str]] = &[
        &["p2p_messaging_test_with_backtraces"],
        &["group_chat_leave_and_end"],
        &["p2p_messaging_test_rustlog_info"],
        &["intra_kernel_peer_message"],
        &["p2p_file_transfer_ok"],
        &["stress_file_transfer_inmemory_refused__citadel_server"],
    ];
    let faults: &[(&[&str], &str)] = &[
        (&["p2p_wrong_session_password"], "medium"),
        (&["fault_peer_service_killed__citadel_server"], "high"),
        (
            &["fault_no_server_register_panic__internal_service_a"],
            "high",
        ),
        (
            &[
                "fault_no_server_register_panic__internal_service_a",
                "fault_no_server_register_panic__internal_service_b",
            ],
            "high",
        ),
        (
            &[
                "stress_file_transfer_inmemory_refused__citadel_server",
                "stress_file_transfer_inmemory_refused__internal_service_a",
                "stress_file_transfer_inmemory_refused__internal_service_b",
            ],
            "high",
        ),
    ];
    let mut failures = Vec::new();
    for names in healthy {
        let (_, f) = check(&files(names));
        let loud: Vec<String> = titles(&f)
            .into_iter()
            .zip(&f)
            .filter(|(_, x)| rank(x["severity"].as_str().unwrap_or("")) >= 2)
            .map(|(t, _)| t)
            .collect();
        if !loud.is_empty() {
            failures.push(format!("healthy {names:?}: {loud:?}"));
        }
    }
    for (names, min) in faults {
        let (_, f) = check(&files(names));
        if !f
            .iter()
            .any(|x| rank(x["severity"].as_str().unwrap_or("")) >= rank(min))
        {
            failures.push(format!(
                "fault {names:?}: nothing at {min}+: {:?}",
                titles(&f)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
