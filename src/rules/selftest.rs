//! The cases every rule file carries (`[[test]]`): logs that must trigger the rule and logs that must
//! not. `diag rules test` and `cargo test` run the same cases.

use super::load::Rule;
use super::{run, Selection};
use crate::defs::Registry;

/// Outcome of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Rule id.
    pub rule: String,
    /// Case name.
    pub case: String,
    /// Where the case is written.
    pub origin: String,
    /// Findings expected.
    pub expected: usize,
    /// Findings produced (or an error).
    pub got: Result<usize, String>,
    /// Titles of the findings, for failure messages.
    pub titles: Vec<String>,
}

impl CaseResult {
    /// Whether the case passed.
    pub fn passed(&self) -> bool {
        self.got.as_ref().is_ok_and(|n| *n == self.expected)
    }
}

/// Run every case of every rule.
pub fn run_all(reg: &Registry, rules: &[Rule]) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for rule in rules {
        for t in &rule.tests {
            let (got, titles) = match crate::pipeline::timeline_from_texts(reg, &t.sources) {
                Err(e) => (Err(e.to_string()), vec![]),
                Ok(tl) => {
                    let sel = Selection {
                        only: vec![rule.info.id.clone()],
                        ..Default::default()
                    };
                    let a = run(std::slice::from_ref(rule), &sel, tl);
                    (
                        Ok(a.findings.len()),
                        a.findings.iter().map(|f| f.title.clone()).collect(),
                    )
                }
            };
            out.push(CaseResult {
                rule: rule.info.id.clone(),
                case: t.name.clone(),
                origin: format!("{}:{}", rule.origin, t.line),
                expected: t.expect,
                got,
                titles,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_passes_its_own_cases() {
        let reg = Registry::load(None).unwrap();
        let rules = crate::rules::load::load_rules(None).unwrap();
        assert!(!rules.is_empty());
        let results = run_all(&reg, &rules);
        let failed: Vec<String> = results
            .iter()
            .filter(|r| !r.passed())
            .map(|r| {
                format!(
                    "{} / {} ({}): expected {}, got {:?} {:?}",
                    r.rule, r.case, r.origin, r.expected, r.got, r.titles
                )
            })
            .collect();
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }
}
