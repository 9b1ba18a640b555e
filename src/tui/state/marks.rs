//! Marks (lnav's bookmarks): `m` marks the line under the cursor, `u` / `U` go to the next or previous
//! marked line the filters show, `C` drops them. A reload keeps them on the same source lines.

use super::App;
use std::collections::HashMap;

impl App {
    pub(super) fn toggle_mark(&mut self) {
        let Some(i) = self.current_event() else {
            return;
        };
        let marks = &mut self.events.marks;
        match marks.binary_search(&i) {
            Ok(k) => {
                marks.remove(k);
            }
            Err(k) => marks.insert(k, i),
        }
        let n = marks.len();
        self.message = Some(if marks.contains(&i) {
            format!("marked ({n} in all; u / U go through them)")
        } else {
            format!("unmarked ({n} left)")
        });
    }

    pub(super) fn mark_step(&mut self, forward: bool) {
        if self.events.marks.is_empty() {
            self.message = Some("no marks yet; m marks the line under the cursor".into());
            return;
        }
        let here = self.current_event().unwrap_or(0);
        let rows = &self.events.rows;
        let shown = |m: &&usize| rows.contains(**m);
        let marks = &self.events.marks;
        let target = if forward {
            marks.iter().filter(|&&m| m > here).find(shown)
        } else {
            marks.iter().rev().filter(|&&m| m < here).find(shown)
        };
        match target.copied() {
            Some(m) => {
                self.jump_to_event(m, false);
            }
            None => self.message = Some("no more marked lines that way".into()),
        }
    }

    /// The marked rows shown, or `None` when none is (`:write-to` then writes every row shown).
    pub(super) fn marked_rows(&self) -> Option<Vec<usize>> {
        let rows = &self.events.rows;
        let shown: Vec<usize> = self
            .events
            .marks
            .iter()
            .copied()
            .filter(|&m| rows.contains(m))
            .collect();
        (!shown.is_empty()).then_some(shown)
    }

    /// Marks as (source label, line), to find them again after a reload.
    pub(super) fn mark_places(&self) -> Vec<(String, u64)> {
        let tl = &self.analysis.timeline;
        self.events
            .marks
            .iter()
            .filter_map(|&i| {
                let ev = self.row(i)?;
                Some((tl.sources.get(ev.source)?.label.clone(), ev.line))
            })
            .collect()
    }

    /// Marks of a new load at these places (lines no longer there are dropped).
    pub(super) fn place_marks(&self, places: &[(String, u64)]) -> Vec<usize> {
        if places.is_empty() {
            return Vec::new();
        }
        let tl = &self.analysis.timeline;
        let index: HashMap<(&str, u64), usize> = (0..self.total())
            .filter_map(|i| {
                let ev = self.row(i)?;
                Some(((tl.sources.get(ev.source)?.label.as_str(), ev.line), i))
            })
            .collect();
        let mut out: Vec<usize> = places
            .iter()
            .filter_map(|(l, line)| index.get(&(l.as_str(), *line)).copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}
