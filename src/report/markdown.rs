//! `diag report` (and `diag check --format markdown`): the run's report as a person would write it
//! after a failed test, in GitHub-flavoured Markdown. Sections follow the hand-written seed report:
//! accounts, test results, critical findings with evidence, the lost message's trace, severities, the
//! root cause analysis, the backend summary, the history of runs, recommendations, sources, files
//! referenced, the overall result. A section the evidence does not support says so in one line.
//! Every piece of log text is escaped, so a log line cannot break the document or inject markup.

use super::digest::{self, Trace};
use super::fields::time_column;
use super::steps::{self, Status};
use super::wire::{summarize, Summary};
use super::CheckWriter;
use crate::model::{Axis, Event, Level, Timeline};
use crate::rules::finding::{Analysis, Finding, Severity};
use std::collections::BTreeMap;
use std::io::{self, Write};

mod analysis;
mod escape;
mod run;

use analysis::{console, critical, root_cause, severity_table};
pub use escape::{block, cell, code, code_cell, inline};
use run::{accounts, backend, files, history, overall, recommendations, sources, test_results};

/// One run of the history database, as the Test History Summary lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryRow {
    /// Run id (given with `--run-id` or generated).
    pub run_id: String,
    /// When the run was recorded (RFC 3339 or as the database keeps it).
    pub time: String,
    /// `PASS` or `FAIL`.
    pub verdict: String,
    /// Title of the root finding of the first incident, or empty.
    pub root_cause: String,
    /// Findings per severity.
    pub counts: Summary,
}

/// The Markdown writer.
#[derive(Debug, Clone, Default)]
pub struct Markdown {
    /// The `--fail-on` threshold the verdict uses (`None`: findings never fail the run).
    pub fail_on: Option<Severity>,
    /// Each rule's declared `caused_by` (rule id → possible causes, most likely first).
    pub causes: BTreeMap<String, Vec<String>>,
    /// Runs from the history database, newest last; empty when no database was given.
    pub history: Vec<HistoryRow>,
}

impl CheckWriter for Markdown {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_markdown(out, a, self)
    }
}

/// Each rule's `caused_by`, for [`Markdown::causes`].
pub fn causes_of(rules: &[crate::rules::load::Rule]) -> BTreeMap<String, Vec<String>> {
    rules
        .iter()
        .map(|r| (r.info.id.clone(), r.caused_by.clone()))
        .collect()
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn label(tl: &Timeline, ev: &Event) -> String {
    tl.sources
        .get(ev.source)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| "?".into())
}

/// One event as an evidence line: time (with its quality mark), source:line, level, message.
fn event_line(tl: &Timeline, ev: &Event) -> String {
    let lvl = super::fields::level_caps(ev, "-");
    format!(
        "{}{} {}:{} {:<5} {}",
        time_column(tl, ev).trim_end(),
        ev.ts_quality.mark(),
        label(tl, ev),
        ev.line,
        lvl,
        clip(&ev.message, 400)
    )
}

/// How many continuation lines an evidence block shows under a record.
const CONT: usize = 4;

fn event_lines(tl: &Timeline, ev: &Event, out: &mut Vec<String>) {
    out.push(event_line(tl, ev));
    for (i, c) in ev.continuation.iter().enumerate() {
        if i == CONT {
            out.push(format!("    … {} more lines", ev.continuation.len() - CONT));
            break;
        }
        out.push(format!("    {}", clip(c, 400)));
    }
}

fn cids_text(tl: &Timeline, cids: &[u64]) -> String {
    cids.iter()
        .map(|c| tl.cids.describe(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sev_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn counts_text(s: &Summary) -> String {
    format!(
        "{} critical, {} high, {} medium, {} low, {} info",
        s.critical, s.high, s.medium, s.low, s.info
    )
}

fn span_text(tl: &Timeline) -> String {
    let times: Vec<_> = tl.events.iter().filter_map(|e| e.ts).collect();
    match (tl.axis, times.iter().min(), times.iter().max()) {
        (Axis::Time, Some(a), Some(b)) if tl.dated => format!(
            "{} – {} UTC",
            a.format("%Y-%m-%d %H:%M:%S"),
            b.format("%H:%M:%S")
        ),
        (Axis::Time, Some(a), Some(b)) => format!(
            "{} – {} (times of day; no date known)",
            a.format("%H:%M:%S"),
            b.format("%H:%M:%S")
        ),
        _ => "no times: events are in the order of the reference source".into(),
    }
}

fn root_of(a: &Analysis) -> Option<&Finding> {
    a.incidents
        .first()
        .and_then(|i| a.findings.iter().find(|f| f.id == i.root))
        .or_else(|| a.findings.first())
}

/// Write the report.
pub fn write_markdown(out: &mut dyn Write, a: &Analysis, opts: &Markdown) -> io::Result<()> {
    let tl = &a.timeline;
    let failed = digest::failed(a, opts.fail_on);
    let verdict = if failed { "FAIL" } else { "PASS" };
    let counts = summarize(&a.findings);
    writeln!(out, "# diag report: {verdict}")?;
    writeln!(out)?;
    writeln!(out, "**Period:** {}  ", inline(&span_text(tl)))?;
    writeln!(
        out,
        "**Sources:** {}  ",
        inline(
            &tl.sources
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    )?;
    writeln!(
        out,
        "**Findings:** {} ({})  ",
        a.findings.len(),
        counts_text(&counts)
    )?;
    match root_of(a) {
        Some(r) => writeln!(out, "**Root cause:** {} ({})", inline(&r.title), r.id)?,
        None => writeln!(out, "**Root cause:** none: no rule found anything")?,
    }
    writeln!(out)?;
    accounts(out, tl)?;
    test_results(out, a)?;
    critical(out, a)?;
    console(out, a)?;
    severity_table(out, a, &counts)?;
    root_cause(out, a, opts)?;
    backend(out, a)?;
    history(out, &opts.history)?;
    recommendations(out, a)?;
    sources(out, tl)?;
    files(out, a)?;
    overall(out, a, opts, failed, &counts)
}
