//! `diag check --format junit`: JUnit XML for CI test views (GitLab, Jenkins, GitHub Actions). Each rule
//! is a test case; a rule fails when it has a finding at or above `--fail-on`.

use super::run::Run;
use super::CheckWriter;
use crate::rules::finding::{Analysis, Finding};
use std::io::{self, Write};

/// The JUnit writer.
#[derive(Debug, Clone, Default)]
pub struct Junit {
    /// Threshold (findings at or above it are failures), run metadata and baseline of this run.
    pub run: Run,
}

impl CheckWriter for Junit {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_junit(out, a, &self.run)
    }
}

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

/// A finding and its evidence, as the failure body lists them.
fn describe(a: &Analysis, f: &Finding, run: &Run) -> String {
    let tl = &a.timeline;
    let mut s = format!("{} [{}] {}", f.id, f.severity, f.title);
    if run.is_suppressed(f) {
        s.push_str(" (accepted in the baseline)");
    }
    if let Some(c) = &f.caused_by {
        s.push_str(&format!("\n  caused by {c}"));
    }
    for e in &f.evidence {
        if let Some(ev) = tl.event(e.event) {
            s.push_str(&format!(
                "\n  {:<11} {}:{} {}",
                e.role,
                super::wire::label(tl, e.event),
                ev.line,
                ev.message
            ));
        }
    }
    if f.count > f.evidence.len() {
        s.push_str(&format!("\n  … {} events in all", f.count));
    }
    s
}

/// `file` and `line` attributes of a finding's key evidence.
fn place(a: &Analysis, f: &Finding) -> String {
    let tl = &a.timeline;
    f.evidence
        .first()
        .and_then(|e| tl.event(e.event))
        .and_then(|ev| {
            tl.sources.get(ev.source).map(|s| {
                format!(
                    r#" file="{}" line="{}""#,
                    xml_escape(&s.path),
                    ev.line.max(1)
                )
            })
        })
        .unwrap_or_default()
}

/// JUnit XML: one test case per rule, placed at its key evidence; a rule fails when it has a new
/// finding at or above the threshold, and the failure body lists each such finding with its evidence.
pub fn write_junit(out: &mut dyn Write, a: &Analysis, run: &Run) -> io::Result<()> {
    let failures = a
        .rules
        .iter()
        .filter(|r| a.findings.iter().any(|f| f.rule == r.id && run.fails(f)))
        .count();
    let n = a.rules.len();
    let time = run.elapsed_s;
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="diag check" tests="{n}" failures="{failures}" errors="0" time="{time:.3}">"#
    )?;
    writeln!(
        out,
        r#"<testsuite name="diag" tests="{n}" failures="{failures}" errors="0" skipped="0" time="{time:.3}">"#
    )?;
    let mut props: Vec<(String, String)> = Vec::new();
    if let Some(id) = &run.run_id {
        props.push(("run_id".into(), id.clone()));
    }
    for (k, v) in &run.labels {
        props.push((format!("label.{k}"), v.clone()));
    }
    props.push((
        "verdict".into(),
        run.verdict(a).upper().to_ascii_lowercase(),
    ));
    props.push((
        "fail_on".into(),
        run.fail_on.map(|s| s.as_str()).unwrap_or("none").into(),
    ));
    writeln!(out, "  <properties>")?;
    for (k, v) in &props {
        writeln!(
            out,
            r#"    <property name="{}" value="{}"/>"#,
            xml_escape(k),
            xml_escape(v)
        )?;
    }
    writeln!(out, "  </properties>")?;
    for r in &a.rules {
        let fs: Vec<&Finding> = a.findings.iter().filter(|f| f.rule == r.id).collect();
        let bad: Vec<&Finding> = fs.iter().copied().filter(|f| run.fails(f)).collect();
        let at = bad
            .first()
            .or(fs.first())
            .map(|f| place(a, f))
            .unwrap_or_default();
        let t = run.rule_times.get(&r.id).copied().unwrap_or(0.0);
        write!(
            out,
            r#"  <testcase classname="diag.rules" name="{}"{at} time="{t:.3}">"#,
            xml_escape(&r.id)
        )?;
        if let Some(first) = bad.first() {
            let body: Vec<String> = bad.iter().map(|f| describe(a, f, run)).collect();
            write!(
                out,
                r#"<failure type="{}" message="{}">{}</failure>"#,
                first.severity,
                xml_escape(&first.title),
                xml_escape(&format!(
                    "{}\n\nWhy: {}\n\nFix: {}",
                    body.join("\n\n"),
                    r.description.trim(),
                    r.remediation.trim()
                ))
            )?;
        }
        let quiet: Vec<String> = fs
            .iter()
            .filter(|f| !run.fails(f))
            .map(|f| describe(a, f, run))
            .collect();
        if !quiet.is_empty() {
            write!(
                out,
                "<system-out>{}</system-out>",
                xml_escape(&quiet.join("\n\n"))
            )?;
        }
        writeln!(out, "</testcase>")?;
    }
    writeln!(out, "</testsuite>")?;
    writeln!(out, "</testsuites>")
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
