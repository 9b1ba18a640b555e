//! Filters: the filtered index of the timeline, rebuilt when a filter changes; `c` (only the CID under
//! the cursor) and `t` / `T` (only or no lines of the template under the cursor).
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::rows::{sorted_with, Rows};
use super::App;
use crate::templates::Templates;
use crate::tui::filterset::Filters;
use crate::tui::histogram::Histogram;

impl App {
    /// The filtered index (computes the templates first when a filter names one).
    pub(super) fn filtered(&mut self) -> Rows {
        if self.events.filter.uses_templates() {
            self.ensure_templates();
        }
        let tl = &self.analysis.timeline;
        let n = self.total();
        if self.events.filter.is_empty() {
            return Rows::All(n);
        }
        let f = &self.events.filter;
        let templates = self.templates.as_ref().filter(|_| f.uses_templates());
        // Every part but the text on each row; the text on the records that pass the rest (an
        // index reads them again for it).
        // Only text patterns: no list of every row before they are matched.
        let rest: Rows = if !f.restricts_but_text() {
            Rows::All(n)
        } else {
            (0..n)
                .filter(|&i| {
                    let t = templates.and_then(|t| t.of(i)).map(|t| t.id.as_str());
                    self.row(i).is_some_and(|ev| f.matches_but_text(tl, &ev, t))
                })
                .collect()
        };
        if !f.reads_text() {
            return rest;
        }
        // Any text pattern kept, and none hidden: each pattern's matches among the rest.
        let mut kept = rest;
        if !f.text.is_empty() {
            let mut any: Vec<usize> = f
                .text
                .iter()
                .flat_map(|re| self.matching(re, &kept))
                .collect();
            any.sort_unstable();
            any.dedup();
            kept = any.into_iter().collect();
        }
        for re in &f.hide.text {
            let hidden = self.matching(re, &kept);
            kept = sorted_with(&kept, &hidden, false);
        }
        kept
    }

    /// The templates of the loaded events, computed once per load.
    pub(super) fn ensure_templates(&mut self) -> &Templates {
        self.templates
            .get_or_insert_with(|| Templates::build(&self.analysis.timeline))
    }

    /// Drop every filter (`x`, `:clear-filter`).
    pub(super) fn clear_filters(&mut self) {
        self.events.filter = Filters::default();
        self.refilter();
        self.message = Some("all filters dropped".into());
    }

    /// `t`: only lines of the template under the cursor (again: drop that); `T`: hide them.
    pub(super) fn template_filter(&mut self, hide: bool) {
        let Some(i) = self.current_event() else {
            self.message = Some("no line under the cursor".into());
            return;
        };
        let Some((id, text, count)) = self
            .ensure_templates()
            .of(i)
            .map(|t| (t.id.clone(), t.text.clone(), t.count))
        else {
            return;
        };
        let f = &mut self.events.filter;
        let what = super::super::text::safe(&text, 80);
        self.message = Some(if hide {
            if !f.hide.templates.contains(&id) {
                f.hide.templates.push(id.clone());
            }
            if f.template.as_ref() == Some(&id) {
                f.template = None;
            }
            format!("hid template {id} ({count} lines): {what}")
        } else if f.template.as_ref() == Some(&id) {
            f.template = None;
            format!("template filter dropped ({id})")
        } else {
            f.template = Some(id.clone());
            f.hide.templates.retain(|h| *h != id);
            format!("only template {id} ({count} lines): {what}")
        });
        let message = self.message.take();
        self.refilter();
        if self.message.is_none() {
            self.message = message;
        }
    }

    /// Rebuild the filtered index after a filter change, keeping the cursor on the same record or the
    /// next one shown.
    pub(super) fn refilter(&mut self) {
        let here = self.current_event();
        self.events.rows = self.filtered();
        self.find_hits();
        self.derived.hist = Histogram::build(self.total(), &self.events.rows, &|i| self.place(i));
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
        let Some(ev) = self.row(i) else { return };
        for c in &ev.cids {
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
