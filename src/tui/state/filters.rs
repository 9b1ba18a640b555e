//! Filters: the filtered index of the timeline, rebuilt when a filter changes, and `c` (only the CID
//! under the cursor).
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::App;
use crate::tui::histogram::Histogram;

impl App {
    pub(super) fn filtered(&self) -> Vec<usize> {
        let tl = &self.analysis.timeline;
        if self.events.filter.is_empty() {
            return (0..tl.events.len()).collect();
        }
        tl.events
            .iter()
            .enumerate()
            .filter(|(_, ev)| self.events.filter.matches(tl, ev))
            .map(|(i, _)| i)
            .collect()
    }

    /// Rebuild the filtered index after a filter change, keeping the cursor on the same record or the
    /// next one shown.
    pub(super) fn refilter(&mut self) {
        let here = self.current_event();
        self.events.rows = self.filtered();
        self.derived.hist = Histogram::build(&self.analysis.timeline.events, &self.events.rows);
        match here {
            Some(ev) => {
                self.jump_to_event(ev, false);
            }
            None => {
                self.events.cursor = 0;
                self.events.scroll = 0;
            }
        }
        if self.events.rows.is_empty() {
            self.message = Some("no events pass the filters; x drops them".into());
        }
    }

    pub(super) fn focus_cid(&mut self) {
        let Some(i) = self.current_event() else {
            return;
        };
        let tl = &self.analysis.timeline;
        let mut cids: Vec<u64> = Vec::new();
        for c in &tl.events[i].cids {
            if let Some(v) = tl.cids.resolve(c) {
                if !cids.contains(&v) {
                    cids.push(v);
                }
            }
        }
        if cids.is_empty() {
            self.message = Some("no known CID on this line".into());
            return;
        }
        let next = match self
            .events
            .filter
            .cid
            .and_then(|c| cids.iter().position(|&x| x == c))
        {
            Some(k) if k + 1 < cids.len() => Some(cids[k + 1]),
            Some(_) => None,
            None => Some(cids[0]),
        };
        self.events.filter.cid = next;
        self.message = Some(match next {
            Some(c) => format!("only CID {}", tl.cids.describe(c)),
            None => "CID filter dropped".into(),
        });
        self.refilter();
    }
}
