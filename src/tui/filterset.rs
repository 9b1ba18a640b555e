//! The TUI's filters: what to keep (a CID, a source, a minimum level, text patterns, a template) and
//! what to hide (CIDs, sources, levels, text patterns, templates). `f` edits both (`-cid:...` hides),
//! lnav's `:filter-in` / `:filter-out` add text patterns, `t` / `T` keep or hide a template.
//!
//! Text patterns kept combine as lnav's `filter-in` do: a line passes when any of them matches. Every
//! other part must hold, and nothing hidden may match.

use crate::model::{Event, Level, RawTime, Timeline};
use chrono::NaiveTime;
use regex::Regex;

/// What to hide; each list hides what any of its entries matches.
#[derive(Debug, Clone, Default)]
pub struct Hide {
    /// Events that mention one of these CIDs.
    pub cids: Vec<u64>,
    /// Events of sources whose label contains one of these.
    pub sources: Vec<String>,
    /// Events at one of these levels (events without a level count as info).
    pub levels: Vec<Level>,
    /// Events whose text matches one of these.
    pub text: Vec<Regex>,
    /// Events of one of these templates (ids).
    pub templates: Vec<String>,
}

impl Hide {
    /// Whether nothing is hidden.
    pub fn is_empty(&self) -> bool {
        self.cids.is_empty()
            && self.sources.is_empty()
            && self.levels.is_empty()
            && self.text.is_empty()
            && self.templates.is_empty()
    }
}

/// Every filter in force in the TUI; empty parts keep everything.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Keep events that mention this CID (fully or by a prefix that resolves to it).
    pub cid: Option<u64>,
    /// Keep events of sources whose label contains this.
    pub source: Option<String>,
    /// Keep events at or above this level.
    pub min_level: Option<Level>,
    /// Keep events whose text matches any of these.
    pub text: Vec<Regex>,
    /// Keep only events of this template (id).
    pub template: Option<String>,
    /// What to hide.
    pub hide: Hide,
    /// Hide lines before this time of day (lnav's `:hide-lines-before`).
    pub from: Option<NaiveTime>,
    /// Hide lines after this time of day (lnav's `:hide-lines-after`).
    pub until: Option<NaiveTime>,
}

/// The time of day a line is shown at, when it has one.
pub fn time_of_day(ev: &Event) -> Option<NaiveTime> {
    match (ev.ts, &ev.raw_ts) {
        (Some(ts), _) => Some(ts.time()),
        (None, Some(RawTime::TimeOfDay(t))) => Some(*t),
        _ => None,
    }
}

fn mentions(tl: &Timeline, ev: &Event, cid: u64) -> bool {
    ev.cids.iter().any(|r| tl.cids.resolve(r) == Some(cid))
}

fn text_hits(re: &Regex, ev: &Event) -> bool {
    re.is_match(&ev.message) || ev.continuation.iter().any(|l| re.is_match(l))
}

fn label<'a>(tl: &'a Timeline, ev: &Event) -> &'a str {
    tl.sources
        .get(ev.source)
        .map(|s| s.label.as_str())
        .unwrap_or("")
}

impl Filters {
    /// Whether nothing is filtered.
    pub fn is_empty(&self) -> bool {
        self.cid.is_none()
            && self.source.is_none()
            && self.min_level.is_none()
            && self.text.is_empty()
            && self.template.is_none()
            && self.hide.is_empty()
            && self.from.is_none()
            && self.until.is_none()
    }

    /// Whether a part of the filter other than text patterns is in force.
    pub fn restricts_but_text(&self) -> bool {
        let mut rest = self.clone();
        rest.text.clear();
        rest.hide.text.clear();
        !rest.is_empty()
    }

    /// Whether a part of the filter is about templates (the caller then looks them up).
    pub fn uses_templates(&self) -> bool {
        self.template.is_some() || !self.hide.templates.is_empty()
    }

    /// Whether an event passes; `template` is its template id (needed only when
    /// [`Filters::uses_templates`]).
    pub fn matches(&self, tl: &Timeline, ev: &Event, template: Option<&str>) -> bool {
        self.matches_but_text(tl, ev, template) && self.text_passes(ev)
    }

    /// Whether a part of the filter reads the records' text.
    pub fn reads_text(&self) -> bool {
        !self.text.is_empty() || !self.hide.text.is_empty()
    }

    /// Whether an event's text passes the text patterns kept and hidden.
    pub fn text_passes(&self, ev: &Event) -> bool {
        if !self.text.is_empty() && !self.text.iter().any(|re| text_hits(re, ev)) {
            return false;
        }
        !self.hide.text.iter().any(|re| text_hits(re, ev))
    }

    /// [`Filters::matches`] but for the text patterns: what a record's row answers alone.
    pub fn matches_but_text(&self, tl: &Timeline, ev: &Event, template: Option<&str>) -> bool {
        let level = ev.level.unwrap_or(Level::Info);
        if self.min_level.is_some_and(|min| level < min) || self.hide.levels.contains(&level) {
            return false;
        }
        if let Some(s) = &self.source {
            if !label(tl, ev).contains(s.as_str()) {
                return false;
            }
        }
        if !self.hide.sources.is_empty() {
            let l = label(tl, ev);
            if self.hide.sources.iter().any(|s| l.contains(s.as_str())) {
                return false;
            }
        }
        if self.cid.is_some_and(|c| !mentions(tl, ev, c))
            || self.hide.cids.iter().any(|&c| mentions(tl, ev, c))
        {
            return false;
        }
        if let Some(t) = &self.template {
            if template != Some(t.as_str()) {
                return false;
            }
        }
        if template.is_some_and(|t| self.hide.templates.iter().any(|h| h == t)) {
            return false;
        }
        if self.from.is_some() || self.until.is_some() {
            // Lines without a time cannot be placed before or after: they stay.
            if let Some(t) = time_of_day(ev) {
                if self.from.is_some_and(|f| t < f) || self.until.is_some_and(|u| t > u) {
                    return false;
                }
            }
        }
        true
    }

    /// Drop a text pattern kept or hidden, by what the user typed; false when there is none such.
    pub fn remove_text(&mut self, typed: &str) -> bool {
        let before = self.text.len() + self.hide.text.len();
        let same = |re: &Regex| re.as_str().trim_start_matches("(?i)") != typed;
        self.text.retain(same);
        self.hide.text.retain(same);
        self.text.len() + self.hide.text.len() < before
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Axis, CidDirectory};

    fn tl(messages: &[(&str, Level)]) -> Timeline {
        let mut events = Vec::new();
        for (k, (m, l)) in messages.iter().enumerate() {
            events.push(Event {
                line: k as u64 + 1,
                message: m.to_string(),
                level: Some(*l),
                ..Event::default()
            });
        }
        Timeline {
            sources: Vec::new(),
            events,
            cids: CidDirectory::default(),
            anchors: Vec::new(),
            axis: Axis::Order,
            dated: false,
            unread: Vec::new(),
            sparse: None,
        }
    }

    fn kept(f: &Filters, t: &Timeline) -> Vec<usize> {
        (0..t.events.len())
            .filter(|&i| f.matches(t, &t.events[i], Some(if i == 0 { "t0" } else { "t1" })))
            .collect()
    }

    #[test]
    fn hidden_parts_remove_and_text_patterns_add() {
        let t = tl(&[
            ("connect ok", Level::Info),
            ("connect failed", Level::Warn),
            ("noise", Level::Debug),
            ("panic", Level::Error),
        ]);
        let mut f = Filters::default();
        assert_eq!(kept(&f, &t), vec![0, 1, 2, 3]);
        f.text = vec![Regex::new("connect").unwrap(), Regex::new("panic").unwrap()];
        assert_eq!(kept(&f, &t), vec![0, 1, 3], "any kept pattern keeps a line");
        f.hide.text.push(Regex::new("failed").unwrap());
        assert_eq!(kept(&f, &t), vec![0, 3]);
        assert!(f.remove_text("failed") && f.remove_text("panic"));
        assert!(!f.remove_text("nothing such"));
        assert_eq!(kept(&f, &t), vec![0, 1]);
        f.hide.levels.push(Level::Info);
        assert_eq!(kept(&f, &t), vec![1], "info hidden");
        let mut f = Filters {
            template: Some("t1".into()),
            ..Filters::default()
        };
        assert_eq!(kept(&f, &t), vec![1, 2, 3]);
        f.template = None;
        f.hide.templates.push("t1".into());
        assert_eq!(kept(&f, &t), vec![0]);
        assert!(f.uses_templates() && !f.is_empty());
    }
}
