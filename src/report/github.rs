//! `diag check --format github`: GitHub Actions workflow commands. Each finding that fails the run (new,
//! at or above `--fail-on`) becomes an `::error` annotation at its key evidence line, so the job's
//! summary and the log show it; a plain verdict line follows.

use super::run::{plural, Run};
use super::CheckWriter;
use crate::rules::finding::{Analysis, Finding};
use std::io::{self, Write};

/// The GitHub Actions writer.
#[derive(Debug, Clone, Default)]
pub struct Github {
    /// Threshold, run metadata and baseline of this run.
    pub run: Run,
}

impl CheckWriter for Github {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_github(out, a, &self.run)
    }
}

/// Escape a command's message (GitHub's rules: `%`, CR and LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command's property value (the message's rules plus `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error` line for a finding.
fn annotation(a: &Analysis, f: &Finding) -> String {
    let tl = &a.timeline;
    let mut props: Vec<String> = Vec::new();
    let mut body = f.title.clone();
    if let Some((i, ev)) = f
        .evidence
        .first()
        .and_then(|e| tl.event(e.event).map(|ev| (e.event, ev)))
    {
        if let Some(src) = tl.sources.get(ev.source) {
            props.push(format!("file={}", escape_property(&src.path)));
        }
        let line = ev.line.max(1);
        props.push(format!("line={line}"));
        props.push(format!("endLine={}", ev.end_line.max(line)));
        body.push_str(&format!(
            "\n{}:{} {}",
            super::wire::label(tl, i),
            ev.line,
            ev.message
        ));
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("diag {} ({}, {})", f.rule, f.severity, f.id))
    ));
    if let Some(c) = &f.caused_by {
        if let Some(cause) = a.findings.iter().find(|x| &x.id == c) {
            body.push_str(&format!(
                "\ncaused by {} [{}]: {}",
                cause.id, cause.rule, cause.title
            ));
        }
    }
    if let Some(r) = a.rules.iter().find(|r| r.id == f.rule) {
        // The rule file wraps its text; an annotation reads better as one paragraph.
        let fix: Vec<&str> = r.remediation.split_whitespace().collect();
        body.push_str(&format!("\nFix: {}", fix.join(" ")));
    }
    format!("::error {}::{}", props.join(","), escape_data(&body))
}

/// Write the annotations and a verdict line.
pub fn write_github(out: &mut dyn Write, a: &Analysis, run: &Run) -> io::Result<()> {
    let failing: Vec<&Finding> = a.findings.iter().filter(|f| run.fails(f)).collect();
    for f in &failing {
        writeln!(out, "{}", annotation(a, f))?;
    }
    let suppressed = a.findings.iter().filter(|f| run.is_suppressed(f)).count();
    let mut line = format!(
        "diag check: {}, {} at or above {} — {}",
        plural(a.findings.len(), "finding"),
        failing.len(),
        run.fail_on.map(|s| s.as_str()).unwrap_or("none"),
        run.verdict(a).upper()
    );
    if suppressed > 0 {
        line.push_str(&format!(" ({suppressed} accepted in the baseline)"));
    }
    writeln!(out, "{line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
