//! The findings pane's moves: selecting an entry marks its evidence and jumps the timeline to it; `r`
//! finds the root cause of the current incident.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::{App, Entry};

impl App {
    pub(super) fn finding_index(&self, id: &str) -> Option<usize> {
        self.analysis.findings.iter().position(|f| f.id == id)
    }

    pub(super) fn entry_evidence(&self, s: usize) -> Vec<usize> {
        let a = &self.analysis;
        let mut ev: Vec<usize> = match self.findings.entries.get(s) {
            Some(Entry::Finding(f)) => a.findings[*f].evidence.iter().map(|e| e.event).collect(),
            Some(Entry::Incident(i)) => a.incidents[*i]
                .findings
                .iter()
                .filter_map(|id| self.finding_index(id))
                .flat_map(|f| a.findings[f].evidence.iter().map(|e| e.event))
                .collect(),
            None => Vec::new(),
        };
        ev.sort_unstable();
        ev.dedup();
        ev
    }

    /// The event a findings entry is about: a finding's first evidence, an incident's root's.
    pub(super) fn entry_target(&self, s: usize) -> Option<usize> {
        let a = &self.analysis;
        let f = match self.findings.entries.get(s)? {
            Entry::Finding(f) => *f,
            Entry::Incident(i) => self.finding_index(&a.incidents[*i].root)?,
        };
        a.findings[f].evidence.first().map(|e| e.event)
    }

    /// Select a findings entry: mark its evidence and jump the timeline to it.
    pub(super) fn select(&mut self, s: usize) {
        if self.findings.entries.is_empty() {
            self.message = Some(match &self.rules_error {
                Some(e) => format!("no findings: {e}"),
                None => "no findings".into(),
            });
            return;
        }
        let s = s.min(self.findings.entries.len() - 1);
        self.findings.selected = Some(s);
        self.findings.marked = self.entry_evidence(s);
        if let Some(ev) = self.entry_target(s) {
            if !self.jump_to_event(ev, true) {
                self.message = Some("its evidence is hidden by the filters; x drops them".into());
            }
        }
        self.detail.scroll = 0;
        self.keep_selection_visible();
    }

    pub(super) fn move_selection(&mut self, delta: isize) {
        self.select(self.findings.step_target(delta));
        self.name_selection();
    }

    /// Name the selected entry in the status line (`]`, `[`, `:goto F3`), as `r` names the root.
    pub(super) fn name_selection(&mut self) {
        let Some(s) = self.findings.selected else {
            return;
        };
        let a = &self.analysis;
        let what = match self.findings.entries.get(s) {
            Some(Entry::Finding(f)) => {
                let f = &a.findings[*f];
                format!("{} {}: {}", f.id, f.severity.as_str(), f.title)
            }
            Some(Entry::Incident(i)) => {
                let inc = &a.incidents[*i];
                format!("{}: {}", inc.id, inc.summary)
            }
            None => return,
        };
        let n = self.findings.entries.len();
        let named = format!("{}/{n} {what}", s + 1);
        // Keep what select() said (its evidence is hidden) after the name.
        self.message = Some(match self.message.take() {
            Some(m) => format!("{named} · {m}"),
            None => named,
        });
    }

    /// Select the root finding of the current (or first) incident and jump to its trigger.
    pub(super) fn root(&mut self) {
        let a = &self.analysis;
        let incident = match self
            .findings
            .selected
            .and_then(|s| self.findings.entries.get(s))
        {
            Some(Entry::Incident(i)) => Some(*i),
            Some(Entry::Finding(f)) => {
                let id = &a.findings[*f].id;
                a.incidents.iter().position(|inc| inc.findings.contains(id))
            }
            None => None,
        }
        .or((!a.incidents.is_empty()).then_some(0));
        let root = match incident {
            Some(i) => self.finding_index(&a.incidents[i].root),
            None => {
                // No incident: follow `caused_by` up from the selected (or most severe) finding.
                let mut f = match self
                    .findings
                    .selected
                    .and_then(|s| self.findings.entries.get(s))
                {
                    Some(Entry::Finding(f)) => Some(*f),
                    _ => self.findings.entries.iter().find_map(|e| match e {
                        Entry::Finding(f) => Some(*f),
                        Entry::Incident(_) => None,
                    }),
                };
                for _ in 0..a.findings.len() {
                    match f.and_then(|f| a.findings[f].caused_by.as_deref()) {
                        Some(id) => match self.finding_index(id) {
                            Some(up) => f = Some(up),
                            None => break,
                        },
                        None => break,
                    }
                }
                f
            }
        };
        match root.and_then(|f| {
            self.findings
                .entries
                .iter()
                .position(|e| *e == Entry::Finding(f))
        }) {
            Some(s) => {
                self.select(s);
                if let (Some(i), Some(Entry::Finding(f))) = (incident, self.findings.entries.get(s))
                {
                    let a = &self.analysis;
                    self.message = Some(format!(
                        "root cause of {}: {} {}",
                        a.incidents[i].id, a.findings[*f].id, a.findings[*f].title
                    ));
                }
            }
            None => self.select(0),
        }
    }
}
