//! What the command line settled about one `diag check` run and every check writer needs: the
//! `--fail-on` threshold, the run's id and labels, which findings a baseline suppresses, and the time
//! taken. The verdict is computed here once, so the exit code and every format agree.

use super::baseline::Matched;
use crate::rules::finding::{Analysis, Finding, Severity};
use std::collections::BTreeMap;

/// One check run as the reports describe it.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Findings at or above this fail the run; `None` (`--fail-on none`) never fails.
    pub fail_on: Option<Severity>,
    /// `--run-id`: names the run for dashboards (a CI job id, a build number).
    pub run_id: Option<String>,
    /// `--label key=value`: free metadata (branch, commit, test name), sorted by key.
    pub labels: BTreeMap<String, String>,
    /// What `--baseline` matched, when one was given.
    pub baseline: Option<Matched>,
    /// `--show-suppressed`: list baselined findings in text output too.
    pub show_suppressed: bool,
    /// Wall time of the whole check (read, parse, correlate, rules), in seconds.
    pub elapsed_s: f64,
    /// Time each rule took, in seconds, by rule id.
    pub rule_times: BTreeMap<String, f64>,
}

/// Pass or fail, as every format states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No new finding at or above the threshold.
    Pass,
    /// At least one new finding at or above the threshold.
    Fail,
}

impl Verdict {
    /// `PASS` / `FAIL` for text.
    pub fn upper(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
        }
    }
}

impl Run {
    /// A run with only a threshold (no metadata, no baseline).
    pub fn with_fail_on(fail_on: Option<Severity>) -> Run {
        Run {
            fail_on,
            ..Run::default()
        }
    }

    /// Whether the baseline accepted this finding.
    pub fn is_suppressed(&self, f: &Finding) -> bool {
        self.baseline
            .as_ref()
            .is_some_and(|b| b.suppressed.contains(&f.id))
    }

    /// Whether this finding fails the run: new (not in the baseline) and at or above the threshold.
    pub fn fails(&self, f: &Finding) -> bool {
        !self.is_suppressed(f) && self.fail_on.is_some_and(|t| f.severity >= t)
    }

    /// The run's verdict.
    pub fn verdict(&self, a: &Analysis) -> Verdict {
        if a.findings.iter().any(|f| self.fails(f)) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }

    /// Findings the baseline did not suppress, in report order.
    pub fn new_findings<'a>(&'a self, a: &'a Analysis) -> impl Iterator<Item = &'a Finding> + 'a {
        a.findings.iter().filter(move |f| !self.is_suppressed(f))
    }
}

/// "1 finding", "2 findings": a count with its noun in the right number.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "finding"), "1 finding");
        assert_eq!(plural(0, "finding"), "0 findings");
        assert_eq!(plural(2, "source"), "2 sources");
    }
}
