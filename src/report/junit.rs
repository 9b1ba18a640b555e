//! `diag check --format junit`: JUnit XML for CI test views (GitLab, Jenkins, GitHub Actions). Each rule
//! is a test case; a rule fails when it has a finding at or above `--fail-on`.

use super::CheckWriter;
use crate::rules::finding::{Analysis, Severity};
use std::io::{self, Write};

/// The JUnit writer.
#[derive(Debug, Clone, Copy)]
pub struct Junit {
    /// The `--fail-on` threshold: findings at or above it are failures.
    pub fail_on: Option<Severity>,
}

impl CheckWriter for Junit {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_junit(out, a, self.fail_on)
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
