//! Moving the timeline cursor by content: search hits (incremental while typing), errors.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::{App, PREVIEW_ROWS};
use crate::model::Level;
use crate::tui::query;
use regex::Regex;

impl App {
    pub(super) fn event_hits(&self, re: &Regex, i: usize) -> bool {
        let ev = &self.analysis.timeline.events[i];
        re.is_match(&ev.message) || ev.continuation.iter().any(|l| re.is_match(l))
    }

    /// The next row (from `from`, inclusive, wrapping) whose event passes `test`, looking at most at
    /// `limit` rows.
    pub(super) fn find_row(
        &self,
        from: usize,
        forward: bool,
        limit: usize,
        test: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let n = self.events.rows.len();
        (0..n.min(limit))
            .map(|k| {
                if forward {
                    (from + k) % n
                } else {
                    (from + n - k % n) % n
                }
            })
            .find(|&r| test(self.events.rows[r]))
    }

    pub(super) fn search_step(&mut self, forward: bool) {
        let Some(re) = self.events.search.clone() else {
            self.message = Some("no search yet; press / to search".into());
            return;
        };
        if self.events.rows.is_empty() {
            return;
        }
        let n = self.events.rows.len();
        let from = if forward {
            (self.events.cursor + 1) % n
        } else {
            (self.events.cursor + n - 1) % n
        };
        match self.find_row(from, forward, usize::MAX, |i| self.event_hits(&re, i)) {
            Some(r) => {
                if (forward && r <= self.events.cursor) || (!forward && r >= self.events.cursor) {
                    self.message = Some("search wrapped around".into());
                }
                self.events.cursor = r;
                self.keep_cursor_visible();
            }
            None => self.message = Some(format!("no match for /{}/", re.as_str())),
        }
    }

    pub(super) fn error_step(&mut self, forward: bool) {
        let tl = &self.analysis.timeline;
        let found = if forward {
            (self.events.cursor + 1..self.events.rows.len())
                .find(|&r| tl.events[self.events.rows[r]].level == Some(Level::Error))
        } else {
            (0..self.events.cursor)
                .rev()
                .find(|&r| tl.events[self.events.rows[r]].level == Some(Level::Error))
        };
        match found {
            Some(r) => {
                self.events.cursor = r;
                self.keep_cursor_visible();
            }
            None => self.message = Some("no more errors that way".into()),
        }
    }

    /// Incremental search: the first hit from where the prompt opened.
    pub(super) fn preview_search(&mut self) {
        let Some(p) = &self.prompt else { return };
        let (origin, text) = (p.origin, p.text.clone());
        (self.events.cursor, self.events.scroll) = origin;
        if text.is_empty() || self.events.rows.is_empty() {
            return;
        }
        match query::pattern(&text) {
            Ok(re) => {
                let found =
                    self.find_row(origin.0, true, PREVIEW_ROWS, |i| self.event_hits(&re, i));
                match found {
                    Some(r) => {
                        self.events.cursor = r;
                        self.keep_cursor_visible();
                    }
                    None if self.events.rows.len() > PREVIEW_ROWS => {
                        self.message = Some("no hit nearby; Enter searches everything".into());
                    }
                    None => self.message = Some("no match".into()),
                }
                if let Some(p) = &mut self.prompt {
                    p.error = None;
                }
            }
            Err(e) => {
                if let Some(p) = &mut self.prompt {
                    p.error = Some(e);
                }
            }
        }
    }
}
