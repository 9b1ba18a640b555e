//! Moving the timeline cursor by content: search hits (incremental while typing), errors.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::records::text_hits;
use super::{App, PREVIEW_ROWS};
use crate::model::Level;
use crate::tui::query;
use regex::Regex;

impl App {
    pub(super) fn event_hits(&self, re: &Regex, i: usize) -> bool {
        self.record(i).is_some_and(|ev| text_hits(re, &ev))
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
            .find(|&r| self.events.rows.get(r).is_some_and(&test))
    }

    /// [`App::find_row`] for the rows whose record's text `re` matches: an index reads the rows
    /// looked at in one go.
    fn find_text_row(&self, from: usize, limit: usize, re: &Regex) -> Option<usize> {
        if self.index().is_none() {
            return self.find_row(from, true, limit, |i| self.event_hits(re, i));
        }
        let n = self.events.rows.len();
        let order: Vec<usize> = (0..n.min(limit)).map(|k| (from + k) % n).collect();
        // Rows in timeline order read each file once; the hit is the first in the order asked.
        let mut wanted: Vec<usize> = order
            .iter()
            .filter_map(|&r| self.events.rows.get(r))
            .collect();
        wanted.sort_unstable();
        let hits: std::collections::HashSet<usize> = self
            .records(&wanted)
            .into_iter()
            .filter(|(_, ev)| text_hits(re, ev))
            .map(|(i, _)| i)
            .collect();
        order
            .into_iter()
            .find(|&r| self.events.rows.get(r).is_some_and(|i| hits.contains(&i)))
    }

    /// Put a search in force and find all its hits among the rows shown.
    pub(super) fn set_search(&mut self, re: Option<Regex>) {
        self.events.search = re;
        self.find_hits();
    }

    /// Recompute the hits of the search in force (after a search or a filter change).
    pub(super) fn find_hits(&mut self) {
        self.events.hits = match &self.events.search {
            Some(re) => self.matching(re, &self.events.rows),
            None => Vec::new(),
        };
    }

    /// Which hit the cursor is on (1-based, `None` between hits) and how many there are.
    pub fn hit_position(&self) -> Option<(Option<usize>, usize)> {
        self.events.search.as_ref()?;
        let hits = &self.events.hits;
        let at = self
            .current_event()
            .and_then(|i| hits.binary_search(&i).ok())
            .map(|k| k + 1);
        Some((at, hits.len()))
    }

    pub(super) fn search_step(&mut self, forward: bool) {
        let Some(re) = &self.events.search else {
            self.message = Some("no search yet; press / to search".into());
            return;
        };
        let hits = &self.events.hits;
        let (Some(&first), Some(&last)) = (hits.first(), hits.last()) else {
            self.message = Some(format!("no match for /{}/", re.as_str()));
            return;
        };
        let here = self.current_event().unwrap_or(0);
        // Hits and rows are both in timeline order: the next hit is a binary search away.
        let next = if forward {
            hits.get(hits.partition_point(|&h| h <= here)).copied()
        } else {
            hits.partition_point(|&h| h < here)
                .checked_sub(1)
                .map(|k| hits[k])
        };
        let target = next.unwrap_or_else(|| {
            self.message = Some("search wrapped around".into());
            if forward {
                first
            } else {
                last
            }
        });
        self.jump_to_event(target, false);
    }

    /// `e`/`E` (errors), `w`/`W` (warnings or worse): the next row at or above a level.
    pub(super) fn level_step(&mut self, forward: bool, min: Level) {
        let at_least = |r: usize| {
            (self.events.rows.get(r))
                .and_then(|i| self.place(i))
                .is_some_and(|(_, l)| l >= Some(min))
        };
        let found = if forward {
            (self.events.cursor + 1..self.events.rows.len()).find(|&r| at_least(r))
        } else {
            (0..self.events.cursor).rev().find(|&r| at_least(r))
        };
        match found {
            Some(r) => {
                self.events.cursor = r;
                self.keep_cursor_visible();
            }
            None => {
                self.message = Some(match min {
                    Level::Error => "no more errors that way".into(),
                    _ => "no more warnings or errors that way".into(),
                })
            }
        }
    }

    /// Rows an incremental search looks at per keystroke: fewer when the records are read again.
    fn preview_rows(&self) -> usize {
        match self.index() {
            Some(_) => PREVIEW_ROWS / 20,
            None => PREVIEW_ROWS,
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
                let found = self.find_text_row(origin.0, self.preview_rows(), &re);
                match found {
                    Some(r) => {
                        self.events.cursor = r;
                        self.keep_cursor_visible();
                    }
                    None if self.events.rows.len() > self.preview_rows() => {
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
