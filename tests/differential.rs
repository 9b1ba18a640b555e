//! Differential: the prefiltered rule engine (`rules::run_with`) gives exactly the findings of the full
//! scan (`rules::run_full_scan`, every pattern tried on every event): rule, severity, title, CIDs,
//! counts, evidence events and causes, on every sample, every real log when present, and generated
//! corpora with planted incidents (ratchet gaps, panics, cascades, retry storms).

#[path = "../benches/common/mod.rs"]
mod common;

use diag::rules::{self, Selection};
use std::path::{Path, PathBuf};

type Summary = Vec<(
    String,
    String,
    String,
    Vec<u64>,
    usize,
    Vec<usize>,
    Option<String>,
)>;

fn summarise(a: &rules::finding::Analysis) -> Summary {
    a.findings
        .iter()
        .map(|f| {
            (
                f.rule.clone(),
                f.severity.to_string(),
                f.title.clone(),
                f.cids.clone(),
                f.count,
                f.evidence.iter().map(|e| e.event).collect(),
                f.caused_by.clone(),
            )
        })
        .collect()
}

/// Findings with and without the prefilter for one run's files.
fn both(files: &[(String, String)]) -> (Summary, Summary) {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(l, t)| (l.as_str(), t.as_str()))
        .collect();
    let tl = diag::pipeline::timeline_of(&refs).expect("timeline");
    let rules = rules::load::load_rules(None).expect("rules");
    let profile = diag::profile::Profile::builtin().unwrap_or_default();
    let sel = Selection::default();
    let fast = rules::run_with(&rules, &sel, tl.clone(), &profile);
    let full = rules::run_full_scan(&rules, &sel, tl, &profile);
    (summarise(&fast), summarise(&full))
}

fn read_dir_files(dir: &Path) -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .filter_map(|p| {
            let text = std::fs::read(&p).ok()?;
            let label = p.file_stem()?.to_string_lossy().into_owned();
            Some((label, String::from_utf8_lossy(&text).into_owned()))
        })
        .collect()
}

/// The sample folders: seed, healthy and every fault.
fn sample_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut dirs = vec![root.join("seed"), root.join("healthy")];
    let mut faults: Vec<PathBuf> = std::fs::read_dir(root.join("faults"))
        .expect("samples/faults")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    faults.sort();
    dirs.extend(faults);
    dirs
}

#[test]
fn prefiltered_engine_equals_full_scan_on_every_sample() {
    let dirs = sample_dirs();
    let mut with_findings = 0;
    for d in &dirs {
        let files = read_dir_files(d);
        assert!(!files.is_empty(), "{}", d.display());
        let (fast, full) = both(&files);
        assert_eq!(fast, full, "{}", d.display());
        with_findings += usize::from(!fast.is_empty());
    }
    assert!(
        with_findings >= 10,
        "only {with_findings} samples with findings"
    );
}

#[test]
fn prefiltered_engine_equals_full_scan_on_real_logs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-logs");
    if !dir.is_dir() {
        eprintln!("skipping: {} is not here", dir.display());
        return;
    }
    let all = read_dir_files(&dir);
    for f in &all {
        let (fast, full) = both(std::slice::from_ref(f));
        assert_eq!(fast, full, "{}", f.0);
    }
    // Multi-process runs, given together: files that share the part of the name before `__`.
    let mut runs: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for f in &all {
        if let Some((run, _)) = f.0.split_once("__") {
            runs.entry(run.to_string()).or_default().push(f.clone());
        }
    }
    for (run, files) in runs.into_iter().filter(|(_, f)| f.len() > 1) {
        let (fast, full) = both(&files);
        assert_eq!(fast, full, "{run}");
    }
}

#[test]
fn prefiltered_engine_equals_full_scan_on_generated_corpora_with_planted_incidents() {
    for seed in [7, 1234] {
        // Large enough to hold several planted incidents (one about every 1,500 steps).
        let c = common::Corpus::generate(3_000_000, seed);
        let files: Vec<(String, String)> = c
            .files()
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let (fast, full) = both(&files);
        assert!(
            fast.iter().any(|f| f.0 == "ratchet-version-gap")
                && fast.iter().any(|f| f.0 == "panic"),
            "seed {seed}: planted incidents not found: {:?}",
            fast.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert_eq!(fast, full, "seed {seed}");
    }
}

/// One run of the `diag` binary: exit code, stdout, stderr.
type Ran = (Option<i32>, Vec<u8>, Vec<u8>);

/// Run `diag` with these arguments (no colour).
fn diag(args: &[&str], rest: &[String]) -> Ran {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_diag"))
        .args(args)
        .args(rest)
        .env("NO_COLOR", "1")
        .output()
        .expect("run diag");
    (out.status.code(), out.stdout, out.stderr)
}

/// Two runs that must agree: the same exit code, stdout and stderr byte for byte.
fn same(held: &Ran, other: &Ran, what: &str) {
    assert_eq!(held.0, other.0, "{what}: exit code");
    assert!(
        held.1 == other.1,
        "{what}: stdout differs ({} vs {} bytes)",
        held.1.len(),
        other.1.len()
    );
    assert_eq!(
        String::from_utf8_lossy(&held.2),
        String::from_utf8_lossy(&other.2),
        "{what}: stderr"
    );
}

/// `diag timeline` with `--stream always` (two passes, no events held) and `--stream never` (every
/// event held): byte-identical output, NDJSON and text, filtered or not.
fn streamed_equals_loaded(args: &[String], what: &str) -> usize {
    let run = |stream: &str, extra: &[&str]| {
        let mut a = vec!["timeline", "--stream", stream];
        a.extend_from_slice(extra);
        diag(&a, args)
    };
    let mut lines = 0;
    for extra in [
        &["--format", "ndjson"][..],
        &["--format", "text"],
        &["--format", "ndjson", "--level", "warn"],
    ] {
        let held = run("never", extra);
        same(&held, &run("always", extra), &format!("{what} {extra:?}"));
        lines += held.1.iter().filter(|&&b| b == b'\n').count();
    }
    lines
}

/// Two generated corpora with planted incidents (3 MB each), written under `tmp`: (seed, folder).
fn generated(tmp: &Path) -> Vec<(u64, String)> {
    [7, 1234]
        .into_iter()
        .map(|seed| {
            let c = common::Corpus::generate(3_000_000, seed);
            let dir = tmp.join(format!("seed{seed}"));
            std::fs::create_dir_all(&dir).expect("dir");
            for (name, text) in c.files() {
                std::fs::write(dir.join(name), text).expect("write");
            }
            (seed, dir.display().to_string())
        })
        .collect()
}

#[test]
fn streamed_timeline_equals_loaded_on_generated_corpora_and_multi_process_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (seed, dir) in generated(tmp.path()) {
        let lines = streamed_equals_loaded(&[dir], &format!("seed {seed}"));
        assert!(lines > 10_000, "seed {seed}: {lines} lines");
    }
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-logs");
    let mut runs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (label, _) in read_dir_files(&real) {
        if let Some((run, _)) = label.split_once("__") {
            let path = real.join(format!("{label}.log"));
            runs.entry(run.to_string())
                .or_default()
                .push(path.display().to_string());
        }
    }
    for (run, files) in runs.into_iter().filter(|(_, f)| f.len() > 1) {
        streamed_equals_loaded(&files, &run);
    }
}

/// `diag check` with `--stream always` (two passes; a sparse timeline of the events a rule can read,
/// see `diag::lean`) and `--stream never` (every event held): the same exit code and byte-identical
/// reports (JSON, SARIF, text, NDJSON findings, GitHub annotations), stderr included. Returns
/// whether the run had findings.
fn two_pass_check_equals_held(args: &[String], what: &str) -> bool {
    let run = |stream: &str, format: &str| {
        diag(
            &[
                "check",
                "--fail-on",
                "high",
                "--stream",
                stream,
                "--format",
                format,
            ],
            args,
        )
    };
    let mut found = false;
    for format in ["json", "sarif", "text", "ndjson", "github"] {
        let held = run("never", format);
        same(&held, &run("always", format), &format!("{what} {format}"));
        if format == "json" {
            // A refused input (binary) writes no report.
            let v: Option<serde_json::Value> = serde_json::from_slice(&held.1).ok();
            assert!(v.is_some() || held.1.is_empty(), "{what}: not JSON");
            found = v.is_some_and(|v| v["findings"].as_array().is_some_and(|f| !f.is_empty()));
        }
    }
    found
}

#[test]
fn two_pass_check_equals_held_check_on_samples_real_logs_and_generated_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sets: Vec<Vec<String>> = Vec::new();
    sets.extend(sample_dirs().iter().map(|d| vec![d.display().to_string()]));
    // Bad input (binary, invalid UTF-8, a truncated gz): the same errors and exit codes.
    let mut bad: Vec<PathBuf> = std::fs::read_dir(root.join("samples/bad"))
        .expect("samples/bad")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    bad.sort();
    sets.extend(bad.iter().map(|p| vec![p.display().to_string()]));
    let real = root.join("../shared/real-logs");
    let mut runs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (label, _) in read_dir_files(&real) {
        let path = real.join(format!("{label}.log")).display().to_string();
        sets.push(vec![path.clone()]);
        if let Some((run, _)) = label.split_once("__") {
            runs.entry(run.to_string()).or_default().push(path);
        }
    }
    sets.extend(runs.into_values().filter(|f| f.len() > 1));
    let tmp = tempfile::tempdir().expect("tempdir");
    sets.extend(generated(tmp.path()).into_iter().map(|(_, dir)| vec![dir]));
    let mut with_findings = 0;
    for args in &sets {
        with_findings += usize::from(two_pass_check_equals_held(args, &args.join(" ")));
    }
    assert!(
        with_findings >= 12,
        "only {with_findings} of {} runs with findings",
        sets.len()
    );
}
