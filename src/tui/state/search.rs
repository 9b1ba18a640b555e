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

    /// Put a search in force and find all its hits among the rows shown.
    pub(super) fn set_search(&mut self, re: Option<Regex>) {
        self.events.search = re;
        self.find_hits();
    }

    /// Recompute the hits of the search in force (after a search or a filter change).
    pub(super) fn find_hits(&mut self) {
        self.events.hits = match &self.events.search {
            Some(re) => self
                .events
                .rows
                .iter()
                .copied()
                .filter(|&i| self.event_hits(re, i))
                .collect(),
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
        let tl = &self.analysis.timeline;
        let at_least = |r: usize| tl.events[self.events.rows[r]].level >= Some(min);
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
