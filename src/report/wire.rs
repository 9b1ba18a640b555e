//! The `diag.report/v1` wire types: what `diag check --format json` writes, apart from the crate's
//! own types so they can change without changing the schema (CIDs as strings: they exceed 2^53).

use super::run::{Run, Verdict};
use crate::model::Timeline;
use crate::rules::finding::{Analysis, Finding, Severity};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;

/// Schema name of the JSON report; bumped only when a field changes meaning.
pub const SCHEMA: &str = "diag.report/v1";

/// The JSON report (wire types only: CIDs are strings, they exceed 2^53).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    /// Always `diag.report/v1`.
    pub schema: &'static str,
    /// Producer.
    pub tool: Tool,
    /// `fail` when a new finding is at or above `fail_on` (the exit code is then 1), else `pass`.
    pub verdict: Verdict,
    /// The `--fail-on` threshold; null for `--fail-on none` (findings never fail the run).
    pub fail_on: Option<Severity>,
    /// Who ran it and why: `--run-id`, `--label key=value`.
    pub run: RunOut,
    /// Inputs.
    pub sources: Vec<SourceOut>,
    /// Findings, most severe first.
    pub findings: Vec<FindingOut>,
    /// Linked findings with their root cause.
    pub incidents: Vec<IncidentOut>,
    /// Findings per severity.
    pub summary: Summary,
    /// What `--baseline` suppressed; null without a baseline.
    pub baseline: Option<BaselineOut>,
    /// Whether every source was read to its end; `false` means the findings rest on partial evidence.
    pub complete: bool,
    /// Sources that stopped early, and where.
    pub incomplete: Vec<IncompleteOut>,
}

/// Run metadata for dashboards that collect many runs (no wall time: the same logs give the same report).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunOut {
    /// `--run-id`, or null.
    pub id: Option<String>,
    /// `--label key=value` pairs.
    pub labels: BTreeMap<String, String>,
}

/// What a baseline did to this run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BaselineOut {
    /// The baseline file as given.
    pub path: String,
    /// Findings the baseline accepts (still listed, with `suppressed: true`).
    pub suppressed: usize,
    /// Findings not in the baseline: these alone decide the verdict.
    pub new: usize,
    /// Accepted findings that did not occur this time (fixed, or not reached).
    pub absent: usize,
}

/// A source that could not be read to its end (a truncated or corrupt gz, a gz bomb, a read error), or
/// a folder that could not be read at all (then both counts are 0).
#[derive(Debug, Serialize, JsonSchema)]
pub struct IncompleteOut {
    /// Path or `<stdin>`.
    pub path: String,
    /// Label.
    pub label: String,
    /// Lines read before reading stopped (the last one is the last kept).
    pub stopped_after_line: u64,
    /// Bytes read (after decompression) before reading stopped.
    pub stopped_after_bytes: u64,
    /// Why it stopped.
    pub error: String,
}

/// The sources that stopped early, one per file (the services of one compose log share it).
pub fn incomplete(tl: &Timeline) -> Vec<IncompleteOut> {
    let mut out: Vec<IncompleteOut> = Vec::new();
    for s in &tl.sources {
        let dropped = (s.parse.dropped_events > 0).then(|| {
            format!(
                "{} events from the middle were not kept (the per-stream cap, --max-events)",
                s.parse.dropped_events
            )
        });
        if let Some(e) = s.read.error.clone().or(dropped) {
            if !out.iter().any(|o| o.path == s.path) {
                out.push(IncompleteOut {
                    path: s.path.clone(),
                    label: s.label.clone(),
                    stopped_after_line: s.read.lines,
                    stopped_after_bytes: s.read.bytes,
                    error: e,
                });
            }
        }
    }
    // Folders that could not be listed: nothing was read from them.
    out.extend(tl.unread.iter().map(|u| IncompleteOut {
        path: u.path.clone(),
        label: u.path.clone(),
        stopped_after_line: 0,
        stopped_after_bytes: 0,
        error: u.error.clone(),
    }));
    out
}

/// Producer name and version.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tool {
    /// `diag`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// One source in the report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SourceOut {
    /// Path or `<stdin>`.
    pub path: String,
    /// Label.
    pub label: String,
    /// Detected or forced format.
    pub format: String,
    /// Events parsed.
    pub events: usize,
    /// Lines that fit nothing.
    pub unparsed: u64,
    /// How it was placed on the timeline.
    pub placement: String,
    /// Clock offset to the reference source in seconds, when estimated.
    pub clock_offset_s: Option<f64>,
    /// CIDs that own the source (a tab's user), as strings.
    pub owners: Vec<String>,
}

/// One finding in the report.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FindingOut {
    /// `F1`...
    pub id: String,
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// What was found.
    pub title: String,
    /// CIDs as strings.
    pub cids: Vec<String>,
    /// First evidence time (RFC 3339) or null.
    pub first_ts: Option<String>,
    /// Last evidence time or null.
    pub last_ts: Option<String>,
    /// Matching events.
    pub count: usize,
    /// Supporting lines.
    pub evidence: Vec<EvidenceOut>,
    /// Id of the causing finding.
    pub caused_by: Option<String>,
    /// Ids of the findings this one caused (its children in the incident tree).
    pub causes: Vec<String>,
    /// Extra facts (gap, attempts, location...), values as text.
    pub facts: BTreeMap<String, String>,
    /// Whether windows were measured in time or event order.
    pub window_basis: crate::rules::finding::WindowBasis,
    /// Stable across runs of the same failure (rule + key evidence template; no CIDs, times, lines):
    /// what baselines and SARIF's `partialFingerprints` key on.
    pub fingerprint: String,
    /// `fingerprint` narrowed to this run's CIDs.
    pub cid_fingerprint: String,
    /// Accepted by `--baseline`: listed, but it does not fail the run.
    pub suppressed: bool,
}

/// One evidence line.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EvidenceOut {
    /// Source label.
    pub source: String,
    /// Line in that source.
    pub line: u64,
    /// Time on the timeline, or null.
    pub ts: Option<String>,
    /// The record's text (first line).
    pub text: String,
    /// Why it is evidence.
    pub role: String,
}

/// One incident.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IncidentOut {
    /// `I1`...
    pub id: String,
    /// Root finding id.
    pub root: String,
    /// Finding ids, root first.
    pub findings: Vec<String>,
    /// CIDs as strings.
    pub cids: Vec<String>,
    /// Narrative.
    pub summary: String,
}

/// Findings per severity.
#[derive(Debug, Clone, Serialize, JsonSchema, Default, PartialEq, Eq)]
pub struct Summary {
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Medium findings.
    pub medium: usize,
    /// Low findings.
    pub low: usize,
    /// Info findings.
    pub info: usize,
}

fn ts(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// Count findings per severity.
pub fn summarize(findings: &[Finding]) -> Summary {
    let mut s = Summary::default();
    for f in findings {
        match f.severity {
            Severity::Critical => s.critical += 1,
            Severity::High => s.high += 1,
            Severity::Medium => s.medium += 1,
            Severity::Low => s.low += 1,
            Severity::Info => s.info += 1,
        }
    }
    s
}

pub(super) fn label(tl: &Timeline, ev: usize) -> String {
    tl.event(ev)
        .and_then(|e| tl.sources.get(e.source))
        .map(|s| s.label.clone())
        .unwrap_or_default()
}

/// Build the JSON report with the default threshold (`--fail-on high`) and no run metadata.
pub fn build(a: &Analysis) -> Report {
    build_run(a, &Run::with_fail_on(Some(Severity::High)))
}

/// The JSON Schema of [`Report`], as committed in `schemas/diag.report.v1.json`.
pub fn schema() -> serde_json::Value {
    let mut s = serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default();
    if let Some(o) = s.as_object_mut() {
        o.insert("title".into(), "diag.report/v1".into());
    }
    s
}

/// Build the JSON report of one check run.
pub fn build_run(a: &Analysis, run: &Run) -> Report {
    let tl = &a.timeline;
    let sources = tl
        .sources
        .iter()
        .map(|s| SourceOut {
            path: s.path.clone(),
            label: s.label.clone(),
            format: s.detection.format.clone(),
            events: s.events,
            unparsed: s.parse.unparsed,
            placement: s.placement.clone(),
            clock_offset_s: s.offset.as_ref().map(|o| o.seconds),
            owners: s.owners.iter().map(|c| c.to_string()).collect(),
        })
        .collect();
    let findings = a
        .findings
        .iter()
        .map(|f| {
            let evs: Vec<_> = f
                .evidence
                .iter()
                .filter_map(|e| tl.event(e.event))
                .collect();
            let facts: BTreeMap<String, String> = f.facts.iter().cloned().collect();
            FindingOut {
                id: f.id.clone(),
                rule: f.rule.clone(),
                severity: f.severity,
                title: f.title.clone(),
                cids: f.cids.iter().map(|c| c.to_string()).collect(),
                first_ts: ts(evs.iter().filter_map(|e| e.ts).min()),
                last_ts: ts(evs.iter().filter_map(|e| e.ts).max()),
                count: f.count,
                evidence: f
                    .evidence
                    .iter()
                    .filter_map(|e| {
                        tl.event(e.event).map(|ev| EvidenceOut {
                            source: label(tl, e.event),
                            line: ev.line,
                            ts: ts(ev.ts),
                            text: ev.message.clone(),
                            role: e.role.clone(),
                        })
                    })
                    .collect(),
                caused_by: f.caused_by.clone(),
                causes: f.causes.clone(),
                facts,
                window_basis: f.window_basis,
                fingerprint: a.fingerprint(f),
                cid_fingerprint: a.cid_fingerprint(f),
                suppressed: run.is_suppressed(f),
            }
        })
        .collect();
    let incidents = a
        .incidents
        .iter()
        .map(|i| IncidentOut {
            id: i.id.clone(),
            root: i.root.clone(),
            findings: i.findings.clone(),
            cids: i.cids.iter().map(|c| c.to_string()).collect(),
            summary: i.summary.clone(),
        })
        .collect();
    let incomplete = incomplete(tl);
    Report {
        schema: SCHEMA,
        tool: Tool {
            name: "diag",
            version: env!("CARGO_PKG_VERSION"),
        },
        sources,
        findings,
        incidents,
        summary: summarize(&a.findings),
        verdict: run.verdict(a),
        fail_on: run.fail_on,
        run: RunOut {
            id: run.run_id.clone(),
            labels: run.labels.clone(),
        },
        baseline: run.baseline.as_ref().map(|m| BaselineOut {
            path: m.path.clone(),
            suppressed: m.suppressed.len(),
            new: a.findings.len().saturating_sub(m.suppressed.len()),
            absent: m.absent,
        }),
        complete: incomplete.is_empty(),
        incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Axis, CidDirectory, Unread};

    #[test]
    fn an_unreadable_folder_makes_the_report_incomplete() {
        let mut tl = Timeline {
            sources: Vec::new(),
            events: Vec::new(),
            cids: CidDirectory::default(),
            anchors: Vec::new(),
            axis: Axis::Time,
            dated: true,
            unread: Vec::new(),
            sparse: None,
        };
        assert!(incomplete(&tl).is_empty());
        tl.unread.push(Unread {
            path: "logs/private".into(),
            error: "Permission denied (os error 13)".into(),
        });
        let a = Analysis {
            timeline: tl,
            findings: Vec::new(),
            incidents: Vec::new(),
            rules: Vec::new(),
            templates: None,
        };
        let r = build(&a);
        assert!(!r.complete);
        assert_eq!(r.incomplete.len(), 1);
        assert_eq!(r.incomplete[0].path, "logs/private");
        assert_eq!(r.incomplete[0].stopped_after_bytes, 0);
        assert!(r.incomplete[0].error.contains("Permission denied"));
    }
}
