//! Records: the one way the TUI reads the timeline's records, whether the analysis holds them or an
//! [`Index`] reads them again from their files when shown (inputs too big to hold). Filters, jumps
//! and the overview read a record's row (its place, source, level and CIDs); the screen, the detail
//! pane, searches and text filters read the whole record.

use super::{App, Rows};
use crate::index::Index;
use crate::model::Event;
use regex::Regex;
use std::borrow::Cow;

impl App {
    /// Records in the timeline.
    pub fn total(&self) -> usize {
        match &self.index {
            Some(ix) => ix.len(),
            None => self.analysis.timeline.events.len(),
        }
    }

    /// The index that reads the records, when they are not held.
    pub fn index(&self) -> Option<&Index> {
        self.index.as_deref()
    }

    /// Record `i`, whole.
    pub fn record(&self, i: usize) -> Option<Cow<'_, Event>> {
        match &self.index {
            Some(ix) => ix.event(i).map(Cow::Owned),
            None => self.analysis.timeline.events.get(i).map(Cow::Borrowed),
        }
    }

    /// Record `i` as far as its row knows it (no text when it is indexed): place, source, lines,
    /// level, CIDs.
    pub fn row(&self, i: usize) -> Option<Cow<'_, Event>> {
        match &self.index {
            Some(ix) => ix.skeleton(i).map(Cow::Owned),
            None => self.analysis.timeline.events.get(i).map(Cow::Borrowed),
        }
    }

    /// Record `i`'s position on the axis and its level.
    pub fn place(&self, i: usize) -> Option<(f64, Option<crate::model::Level>)> {
        match &self.index {
            Some(ix) => ix.place(i),
            None => self
                .analysis
                .timeline
                .events
                .get(i)
                .map(|e| (e.pos, e.level)),
        }
    }

    /// Records `idx`, whole, in that order (an index reads each file once for all of them).
    pub fn records(&self, idx: &[usize]) -> Vec<(usize, Cow<'_, Event>)> {
        match &self.index {
            Some(ix) => ix
                .events(idx)
                .into_iter()
                .map(|(i, e)| (i, Cow::Owned(e)))
                .collect(),
            None => idx
                .iter()
                .filter_map(|&i| {
                    self.analysis
                        .timeline
                        .events
                        .get(i)
                        .map(|e| (i, Cow::Borrowed(e)))
                })
                .collect(),
        }
    }

    /// The records among `among` (sorted timeline indices) whose text (message or a further line)
    /// `re` matches. An index reads again only the records whose lines may hold a match (see
    /// [`crate::index::sieve`]); held records are looked at.
    pub fn matching(&self, re: &Regex, among: &Rows) -> Vec<usize> {
        match &self.index {
            Some(ix) => {
                let mut hits = ix.matching(re);
                if among.len() != ix.len() {
                    hits.retain(|&i| among.contains(i));
                }
                hits
            }
            None => among
                .iter()
                .filter(|&i| {
                    self.analysis
                        .timeline
                        .events
                        .get(i)
                        .is_some_and(|ev| text_hits(re, ev))
                })
                .collect(),
        }
    }
}

/// Whether a record's text (message or a further line) matches.
pub(super) fn text_hits(re: &Regex, ev: &Event) -> bool {
    re.is_match(&ev.message) || ev.continuation.iter().any(|l| re.is_match(l))
}
