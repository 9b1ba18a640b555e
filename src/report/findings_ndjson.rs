//! `diag check --format ndjson`: one JSON object per finding, each carrying the run's metadata, then one
//! closing `run` line with the verdict and counts. Made for log shippers (Vector, Fluent Bit, Filebeat)
//! that send every line as a document to Loki or Elasticsearch: no line needs another to be understood.

use super::run::Run;
use super::wire::{build_run, FindingOut, RunOut, Summary, Tool};
use super::CheckWriter;
use crate::rules::finding::{Analysis, Severity};
use serde::Serialize;
use std::io::{self, Write};

/// Schema name of each line.
pub const SCHEMA: &str = "diag.finding/v1";

/// The NDJSON findings writer.
#[derive(Debug, Clone, Default)]
pub struct FindingsNdjson {
    /// Threshold, run metadata and baseline of this run.
    pub run: Run,
}

impl CheckWriter for FindingsNdjson {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_findings(out, a, &self.run)
    }
}

/// A finding line.
#[derive(Serialize)]
struct FindingLine<'a> {
    schema: &'static str,
    kind: &'static str,
    tool: &'a Tool,
    run: &'a RunOut,
    fail_on: Option<Severity>,
    /// Whether this finding alone fails the run (new and at or above `fail_on`).
    fails: bool,
    /// The incident the finding belongs to.
    incident: Option<&'a str>,
    #[serde(flatten)]
    finding: &'a FindingOut,
}

/// The closing line: the verdict and counts, so passing runs are recorded too.
#[derive(Serialize)]
struct RunLine<'a> {
    schema: &'static str,
    kind: &'static str,
    tool: &'a Tool,
    run: &'a RunOut,
    fail_on: Option<Severity>,
    verdict: super::run::Verdict,
    summary: &'a Summary,
    sources: usize,
    incidents: usize,
}

/// Write one line per finding and a closing run line.
pub fn write_findings(out: &mut dyn Write, a: &Analysis, run: &Run) -> io::Result<()> {
    let report = build_run(a, run);
    for (f, wire) in a.findings.iter().zip(&report.findings) {
        let incident = a
            .incidents
            .iter()
            .find(|i| i.findings.iter().any(|x| x == &f.id))
            .map(|i| i.id.as_str());
        let line = FindingLine {
            schema: SCHEMA,
            kind: "finding",
            tool: &report.tool,
            run: &report.run,
            fail_on: report.fail_on,
            fails: run.fails(f),
            incident,
            finding: wire,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    let line = RunLine {
        schema: SCHEMA,
        kind: "run",
        tool: &report.tool,
        run: &report.run,
        fail_on: report.fail_on,
        verdict: report.verdict,
        summary: &report.summary,
        sources: report.sources.len(),
        incidents: report.incidents.len(),
    };
    serde_json::to_writer(&mut *out, &line)?;
    out.write_all(b"\n")
}
