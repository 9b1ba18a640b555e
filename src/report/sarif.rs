//! `diag check --format sarif`: SARIF 2.1.0 for code-scanning UIs; each rule a SARIF rule, each finding
//! a result located at its first evidence line.

use super::CheckWriter;
use crate::rules::finding::{Analysis, Severity};
use serde_json::json;
use std::io::{self, Write};

/// The SARIF writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sarif;

impl CheckWriter for Sarif {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_sarif(out, a)
    }
}

/// SARIF 2.1.0 with one result per finding, located at its first evidence line.
pub fn write_sarif(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let tl = &a.timeline;
    let rules: Vec<_> = a
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.title,
                "shortDescription": {"text": r.title},
                "fullDescription": {"text": r.description},
                "help": {"text": r.remediation},
                "properties": {"severity": r.severity.as_str()},
            })
        })
        .collect();
    let results: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Low | Severity::Info => "note",
            };
            let locations: Vec<_> = f
                .evidence
                .iter()
                .take(1)
                .filter_map(|e| tl.events.get(e.event))
                .map(|ev| {
                    let path = tl.sources.get(ev.source).map(|s| s.path.clone()).unwrap_or_default();
                    json!({"physicalLocation": {
                        "artifactLocation": {"uri": path},
                        "region": {"startLine": ev.line.max(1), "endLine": ev.end_line.max(ev.line).max(1)}
                    }})
                })
                .collect();
            json!({
                "ruleId": f.rule,
                "level": level,
                "message": {"text": f.title},
                "locations": locations,
                "properties": {
                    "id": f.id,
                    "severity": f.severity.as_str(),
                    "cids": f.cids.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                    "caused_by": f.caused_by,
                    "causes": f.causes,
                    "count": f.count,
                },
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "diag", "version": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
