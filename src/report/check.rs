//! `diag check` output: the `diag.report/v1` JSON contract for dashboards and a text report for people
//! that reads like a hand-written incident report.

use super::style::{sanitize, Style};
use crate::model::Timeline;
use crate::rules::finding::{Analysis, Finding, Severity};
use serde::Serialize;
use std::io::{self, Write};

/// Schema name of the JSON report; bumped only when a field changes meaning.
pub const SCHEMA: &str = "diag.report/v1";

/// The JSON report (wire types only: CIDs are strings, they exceed 2^53).
#[derive(Debug, Serialize)]
pub struct Report {
    /// Always `diag.report/v1`.
    pub schema: &'static str,
    /// Producer.
    pub tool: Tool,
    /// Inputs.
    pub sources: Vec<SourceOut>,
    /// Findings, most severe first.
    pub findings: Vec<FindingOut>,
    /// Linked findings with their root cause.
    pub incidents: Vec<IncidentOut>,
    /// Findings per severity.
    pub summary: Summary,
}

/// Producer name and version.
#[derive(Debug, Serialize)]
pub struct Tool {
    /// `diag`.
    pub name: &'static str,
    /// Crate version.
    pub version: &'static str,
}

/// One source in the report.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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
    /// Extra facts (gap, attempts, location...).
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Whether windows were measured in time or event order.
    pub window_basis: crate::rules::finding::WindowBasis,
}

/// One evidence line.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize, Default, PartialEq, Eq)]
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

fn label(tl: &Timeline, ev: usize) -> String {
    tl.events
        .get(ev)
        .and_then(|e| tl.sources.get(e.source))
        .map(|s| s.label.clone())
        .unwrap_or_default()
}

/// Build the JSON report.
pub fn build(a: &Analysis) -> Report {
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
                .filter_map(|e| tl.events.get(e.event))
                .collect();
            let mut facts = serde_json::Map::new();
            for (k, v) in &f.facts {
                facts.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
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
                        tl.events.get(e.event).map(|ev| EvidenceOut {
                            source: label(tl, e.event),
                            line: ev.line,
                            ts: ts(ev.ts),
                            text: ev.message.clone(),
                            role: e.role.clone(),
                        })
                    })
                    .collect(),
                caused_by: f.caused_by.clone(),
                facts,
                window_basis: f.window_basis,
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
    }
}

/// Write the JSON report.
pub fn write_json(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(a))?;
    out.write_all(b"\n")
}

fn sev_style(style: Style, s: Severity) -> String {
    let code = match s {
        Severity::Critical => "1;41;97",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    style.paint(code, &format!("{:<8}", s.as_str().to_ascii_uppercase()))
}

fn cid_list(tl: &Timeline, cids: &[u64]) -> String {
    cids.iter()
        .map(|c| tl.cids.describe(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Write the text report.
pub fn write_text(
    out: &mut dyn Write,
    a: &Analysis,
    fail_on: Option<Severity>,
    style: Style,
) -> io::Result<()> {
    let tl = &a.timeline;
    let s = summarize(&a.findings);
    let failed = fail_on.is_some_and(|t| a.findings.iter().any(|f| f.severity >= t));
    writeln!(
        out,
        "{} {} critical, {} high, {} medium, {} low, {} info — {}",
        style.bold("diag check:"),
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.info,
        if failed {
            style.paint("1;31", "FAIL")
        } else {
            style.paint("1;32", "PASS")
        }
    )?;
    for inc in &a.incidents {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "Incident {} (CIDs: {})",
                inc.id,
                cid_list(tl, &inc.cids)
            ))
        )?;
        writeln!(out, "  {}", sanitize(&inc.summary))?;
        for (n, id) in inc.findings.iter().enumerate() {
            if let Some(f) = a.findings.iter().find(|f| &f.id == id) {
                let arrow = if n == 0 { "root" } else { "  ↳ " };
                writeln!(
                    out,
                    "  {arrow} {} {} {}",
                    f.id,
                    sev_style(style, f.severity),
                    sanitize(&f.title)
                )?;
            }
        }
    }
    if !a.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Findings"))?;
    }
    for f in &a.findings {
        writeln!(
            out,
            "{} {} [{}] {}",
            sev_style(style, f.severity),
            f.id,
            f.rule,
            sanitize(&f.title)
        )?;
        if !f.cids.is_empty() {
            writeln!(out, "         CIDs: {}", cid_list(tl, &f.cids))?;
        }
        if let Some(c) = &f.caused_by {
            writeln!(out, "         caused by {c}")?;
        }
        let mut facts: Vec<String> = f.facts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match f.window_basis {
            crate::rules::finding::WindowBasis::Time => {
                facts.push("window measured in time".into())
            }
            crate::rules::finding::WindowBasis::Order => {
                facts.push("window measured in event order (no times)".into())
            }
            crate::rules::finding::WindowBasis::None => {}
        }
        if !facts.is_empty() {
            writeln!(out, "         {}", style.dim(&sanitize(&facts.join("  "))))?;
        }
        for e in f.evidence.iter().take(4) {
            if let Some(ev) = tl.events.get(e.event) {
                let t = super::timeline::time_column(tl, ev);
                writeln!(
                    out,
                    "         {} {} {}:{} {}",
                    style.dim(&t),
                    style.dim(&format!("{:<11}", e.role)),
                    label(tl, e.event),
                    ev.line,
                    sanitize(&ev.message.chars().take(160).collect::<String>())
                )?;
                if e.role == "match" || e.role == "trigger" {
                    if let Some(c) = ev.continuation.first() {
                        writeln!(out, "         {:>24} {}", "", style.dim(&sanitize(c)))?;
                    }
                }
            }
        }
        if f.evidence.len() > 4 || f.count > f.evidence.len() {
            writeln!(
                out,
                "         {}",
                style.dim(&format!(
                    "… {} events in all",
                    f.count.max(f.evidence.len())
                ))
            )?;
        }
    }
    writeln!(out)?;
    super::timeline::write_source_summary(out, tl, style)?;
    Ok(())
}
