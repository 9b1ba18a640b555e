//! CI formats of `diag check`: JUnit XML (test views of GitLab, Jenkins, GitHub actions) and SARIF 2.1.0
//! (code-scanning UIs). Each rule is a test case / SARIF rule; each finding a failure / result.

use crate::rules::finding::{Analysis, Severity};
use serde_json::json;
use std::io::{self, Write};

fn xml_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: one test case per rule; a rule fails when it has a finding at or above `fail_on`.
pub fn write_junit(out: &mut dyn Write, a: &Analysis, fail_on: Option<Severity>) -> io::Result<()> {
    let failing = |s: Severity| fail_on.is_some_and(|t| s >= t);
    let failures = a
        .rules
        .iter()
        .filter(|r| {
            a.findings
                .iter()
                .any(|f| f.rule == r.id && failing(f.severity))
        })
        .count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="diag check" tests="{}" failures="{failures}"><testsuite name="diag" tests="{}" failures="{failures}">"#,
        a.rules.len(),
        a.rules.len()
    )?;
    for r in &a.rules {
        let fs: Vec<_> = a.findings.iter().filter(|f| f.rule == r.id).collect();
        write!(
            out,
            r#"  <testcase classname="diag.rules" name="{}">"#,
            xml_escape(&r.id)
        )?;
        let bad: Vec<_> = fs.iter().filter(|f| failing(f.severity)).collect();
        if let Some(first) = bad.first() {
            let body: Vec<String> = bad
                .iter()
                .map(|f| format!("{} [{}] {}", f.id, f.severity, f.title))
                .collect();
            write!(
                out,
                r#"<failure type="{}" message="{}">{}</failure>"#,
                first.severity,
                xml_escape(&first.title),
                xml_escape(&format!(
                    "{}\n\nRemediation: {}",
                    body.join("\n"),
                    r.remediation
                ))
            )?;
        } else if !fs.is_empty() {
            let body: Vec<String> = fs
                .iter()
                .map(|f| format!("{} [{}] {}", f.id, f.severity, f.title))
                .collect();
            write!(
                out,
                "<system-out>{}</system-out>",
                xml_escape(&body.join("\n"))
            )?;
        }
        writeln!(out, "</testcase>")?;
    }
    writeln!(out, "</testsuite></testsuites>")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_escaped() {
        assert_eq!(
            xml_escape("a<b & \"c\"\x1b"),
            "a&lt;b &amp; &quot;c&quot;\u{fffd}"
        );
    }
}
