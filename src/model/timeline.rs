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
    /// Anchor definition name.
    pub name: String,
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
