//! Filters shared by `diag timeline` and the TUI: CID (or name), source, minimum level, text.

use crate::model::Timeline;
use crate::model::{Event, Level};
use regex::Regex;

/// What to keep; empty parts keep everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep events that mention this CID (fully or by a prefix that resolves to it).
    pub cid: Option<u64>,
    /// Keep events of sources whose label contains this text.
    pub source: Option<String>,
    /// Keep events at or above this level (events without a level count as info).
    pub min_level: Option<Level>,
    /// Keep events whose text matches.
    pub grep: Option<Regex>,
}

impl Filter {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.cid.is_none()
            && self.source.is_none()
            && self.min_level.is_none()
            && self.grep.is_none()
    }

    /// Whether an event passes.
    pub fn matches(&self, tl: &Timeline, ev: &Event) -> bool {
        if let Some(min) = self.min_level {
            if ev.level.unwrap_or(Level::Info) < min {
                return false;
            }
        }
        self.matches_but_level(tl, ev)
    }

    /// Whether an event passes every condition but the level.
    fn matches_but_level(&self, tl: &Timeline, ev: &Event) -> bool {
        if let Some(s) = &self.source {
            let label = tl
                .sources
                .get(ev.source)
                .map(|s| s.label.as_str())
                .unwrap_or("");
            if !label.contains(s.as_str()) {
                return false;
            }
        }
        if let Some(c) = self.cid {
            if !ev.cids.iter().any(|r| tl.cids.resolve(r) == Some(c)) {
                return false;
            }
        }
        if let Some(g) = &self.grep {
            if !g.is_match(&ev.message) && !ev.continuation.iter().any(|l| g.is_match(l)) {
                return false;
            }
        }
        true
    }

    /// Events that carry no level (their format has none and their text gave none) and that only the
    /// minimum level hid: such events count as info, so `--level warn` hides them; this says how many.
    pub fn hidden_without_level(&self, tl: &Timeline) -> usize {
        tl.events
            .iter()
            .filter(|ev| self.hid_without_level(tl, ev))
            .count()
    }

    /// Whether only the minimum level hid `ev`, an event without a level (see
    /// [`Filter::hidden_without_level`]).
    pub fn hid_without_level(&self, tl: &Timeline, ev: &Event) -> bool {
        self.min_level.is_some_and(|min| min > Level::Info)
            && ev.level.is_none()
            && self.matches_but_level(tl, ev)
    }

    /// A short description for status lines.
    pub fn describe(&self, tl: &Timeline) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.cid {
            parts.push(format!("cid={}", tl.cids.describe(c)));
        }
        if let Some(s) = &self.source {
            parts.push(format!("source={s}"));
        }
        if let Some(l) = self.min_level {
            parts.push(format!("level>={l}"));
        }
        if let Some(g) = &self.grep {
            parts.push(format!("text=/{}/", g.as_str()));
        }
        parts.join(" ")
    }
}
