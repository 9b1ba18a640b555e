//! Rules: data-driven detection over the correlated timeline.
//!
//! `load` reads `rules/*.toml` (embedded) and `--rules DIR`; `expr` is their condition language;
//! `engine` applies each rule kind to the timeline; `link` chains findings into incidents; `selftest`
//! runs the cases every rule file carries.
pub mod engine;
pub mod expr;
pub mod finding;
pub mod link;
pub mod load;
pub mod selftest;

use crate::model::Timeline;
use finding::{Analysis, Finding};
use load::Rule;

/// Which rules run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Rule ids to skip.
    pub disable: Vec<String>,
    /// If not empty, only these rule ids run.
    pub only: Vec<String>,
}

impl Selection {
    /// Whether a rule runs.
    pub fn allows(&self, id: &str) -> bool {
        !self.disable.iter().any(|d| d == id)
            && (self.only.is_empty() || self.only.iter().any(|o| o == id))
    }
}

/// Run the selected rules over a timeline, number the findings and link them into incidents.
pub fn run(rules: &[Rule], sel: &Selection, timeline: Timeline) -> Analysis {
    let mut findings: Vec<Finding> = Vec::new();
    let active: Vec<Rule> = rules
        .iter()
        .filter(|r| sel.allows(&r.info.id))
        .cloned()
        .collect();
    for r in &active {
        findings.extend(engine::evaluate(r, &timeline));
    }
    let first_pos = |f: &Finding| {
        f.evidence
            .first()
            .and_then(|e| timeline.events.get(e.event))
            .map(|e| e.pos)
            .unwrap_or(0.0)
    };
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(first_pos(a).total_cmp(&first_pos(b)))
    });
    for (i, f) in findings.iter_mut().enumerate() {
        f.id = format!("F{}", i + 1);
    }
    let incidents = link::link(&mut findings, &active, &timeline);
    Analysis {
        timeline,
        findings,
        incidents,
        rules: active.iter().map(|r| r.info.clone()).collect(),
    }
}

/// Load the rules (built-in plus `dir`) and analyse a timeline with all of them.
pub fn analyze(
    timeline: &Timeline,
    dir: Option<&std::path::Path>,
) -> Result<Analysis, crate::defs::DefError> {
    let rules = load::load_rules(dir)?;
    Ok(run(&rules, &Selection::default(), timeline.clone()))
}
