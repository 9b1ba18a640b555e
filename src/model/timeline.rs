//! The correlated timeline: every source's events in one order, the CIDs and names they mention, and the
//! links between sources. Data only; `correlate` builds it, everything downstream reads it.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use super::event::{CidRef, Event};
use super::source::SourceInfo;
use std::collections::BTreeMap;

/// A link between two events that record the same moment in two sources.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnchorLink {
    /// Anchor definition name (shared: a run links hundreds of thousands of pairs).
    pub name: std::sync::Arc<str>,
    /// Event index (in `Timeline::events`) of the first side.
    pub a: usize,
    /// Event index of the second side.
    pub b: usize,
}

/// What a truncated CID resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The one full CID it prefixes.
    Unique(u64),
    /// Several full CIDs share the prefix.
    Ambiguous(Vec<u64>),
    /// No full CID in the logs starts with it.
    Unknown,
}

/// What a CID looks like, from `parsers/entities.toml`: when a number is a full CID rather than a
/// truncated one, and which rule captures hold CIDs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidShape {
    /// Digits from which a decimal number is a full CID (fewer: a truncated prefix).
    pub full_min_digits: usize,
    /// Names of rule captures whose values are CIDs (resolved to full CIDs).
    pub captures: Vec<String>,
}

impl CidShape {
    /// Whether a string of digits is long enough to be a full CID.
    pub fn is_full_digits(&self, digits: &str) -> bool {
        digits.len() >= self.full_min_digits
    }

    /// Whether a number is large enough to be a full CID.
    pub fn is_full(&self, v: u64) -> bool {
        let digits = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        digits >= self.full_min_digits
    }

    /// Whether a rule capture of this name holds a CID.
    pub fn is_capture(&self, name: &str) -> bool {
        self.captures.iter().any(|c| c == name)
    }
}

/// Known CIDs, their names, and what truncated CIDs stand for.
#[derive(Debug, Clone, Default)]
pub struct CidDirectory {
    /// What full and truncated CIDs look like.
    pub shape: CidShape,
    /// Full CID → names (first is preferred).
    pub names: BTreeMap<u64, Vec<String>>,
    /// Prefix → resolution.
    pub prefixes: BTreeMap<String, Resolution>,
}

impl CidDirectory {
    /// The full CID behind a reference, when known.
    pub fn resolve(&self, c: &CidRef) -> Option<u64> {
        match c {
            CidRef::Full(v) => Some(*v),
            CidRef::Prefix(p) => match self.prefixes.get(p) {
                Some(Resolution::Unique(v)) => Some(*v),
                _ => None,
            },
            CidRef::Lost => None,
        }
    }

    /// Preferred name of a CID.
    pub fn name(&self, cid: u64) -> Option<&str> {
        self.names
            .get(&cid)
            .and_then(|v| v.first())
            .map(|s| s.as_str())
    }

    /// Find a CID by name, full number or unique prefix.
    pub fn lookup(&self, q: &str) -> Option<u64> {
        if let Ok(v) = q.parse::<u64>() {
            if self.names.contains_key(&v) {
                return Some(v);
            }
            let hits: Vec<u64> = self
                .names
                .keys()
                .copied()
                .filter(|c| c.to_string().starts_with(q))
                .collect();
            return if hits.len() == 1 {
                Some(hits[0])
            } else {
                Some(v)
            };
        }
        let ql = q.to_ascii_lowercase();
        self.names
            .iter()
            .find(|(_, ns)| ns.iter().any(|n| n.to_ascii_lowercase() == ql))
            .or_else(|| {
                self.names
                    .iter()
                    .find(|(_, ns)| ns.iter().any(|n| n.to_ascii_lowercase().starts_with(&ql)))
            })
            .map(|(c, _)| *c)
    }

    /// `name (cid)` or the CID alone.
    pub fn describe(&self, cid: u64) -> String {
        match self.name(cid) {
            Some(n) => format!("{n} ({cid})"),
            None => cid.to_string(),
        }
    }
}

/// Whether the timeline's axis is real time or the order of a reference source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// Positions are nanoseconds since the epoch.
    Time,
    /// No source had time: positions follow the reference source's line order.
    Order,
}

/// The correlated timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Sources, indexed by `Event::source`.
    pub sources: Vec<SourceInfo>,
    /// Events of all sources in timeline order.
    pub events: Vec<Event>,
    /// CIDs and names.
    pub cids: CidDirectory,
    /// Cross-source links.
    pub anchors: Vec<AnchorLink>,
    /// What positions mean.
    pub axis: Axis,
    /// Whether timestamps carry a real date (false when only times of day were known).
    pub dated: bool,
    /// Parts of the inputs that could not be read at all (a folder without permission): the findings
    /// rest on partial evidence when this is not empty.
    pub unread: Vec<Unread>,
    /// When only some events are held (a two-pass `check`, `crate::lean`): where each held event is
    /// in the whole timeline, and what the rules read of the others. `None`: every event is held.
    pub sparse: Option<Box<Sparse>>,
}

impl Timeline {
    /// The event at index `i` of the whole timeline, when it is held.
    pub fn event(&self, i: usize) -> Option<&Event> {
        match &self.sparse {
            None => self.events.get(i),
            Some(sp) => sp
                .at
                .binary_search(&i)
                .ok()
                .and_then(|k| self.events.get(k)),
        }
    }

    /// Held events with their index in the whole timeline, in timeline order.
    pub fn indexed(&self) -> impl DoubleEndedIterator<Item = (usize, &Event)> + '_ {
        self.indexed_from(0)
    }

    /// [`Timeline::indexed`] from the first held event at index `i` or later, found without walking
    /// the ones before.
    pub fn indexed_from(&self, i: usize) -> impl DoubleEndedIterator<Item = (usize, &Event)> + '_ {
        let at = self.sparse.as_ref().map(|sp| sp.at.as_slice());
        let from = at.map_or(i, |a| a.partition_point(|&j| j < i));
        self.events
            .get(from..)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(move |(k, e)| {
                let k = from + k;
                (at.and_then(|a| a.get(k).copied()).unwrap_or(k), e)
            })
    }

    /// Events in the whole timeline, held or not.
    pub fn len(&self) -> usize {
        self.sparse
            .as_ref()
            .map_or(self.events.len(), |sp| sp.total)
    }

    /// Whether the timeline has no event.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// CIDs named by the events of source `s` that are not held (none when every event is held).
    pub fn unheld_cids(&self, s: usize) -> &[u64] {
        self.sparse
            .as_ref()
            .and_then(|sp| sp.cids.get(s))
            .map_or(&[], Vec::as_slice)
    }
}

/// An event by its index in the whole timeline. Rules and reports index only events they found (hits
/// and evidence), which a sparse timeline holds by construction; an index it does not hold reads as
/// an empty event rather than ending the run (and fails debug builds, where tests run).
impl std::ops::Index<usize> for Timeline {
    type Output = Event;

    fn index(&self, i: usize) -> &Event {
        static EMPTY: std::sync::OnceLock<Event> = std::sync::OnceLock::new();
        match self.event(i) {
            Some(e) => e,
            None => {
                debug_assert!(false, "event {i} is not held");
                EMPTY.get_or_init(Event::default)
            }
        }
    }
}

/// What a timeline that holds only some of its events knows of the rest.
#[derive(Debug, Clone, Default)]
pub struct Sparse {
    /// For each held event (same order as `Timeline::events`), its index in the whole timeline.
    pub at: Vec<usize>,
    /// Events in the whole timeline.
    pub total: usize,
    /// Per source, the CIDs (resolved, sorted, distinct) that its events not held name.
    pub cids: Vec<Vec<u64>>,
}

/// A path the run could not read (it holds no events), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// The path as walked.
    pub path: String,
    /// The operating system's reason.
    pub error: String,
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cannot read {}: {}; it was skipped (check its permissions)",
            self.path, self.error
        )
    }
}
