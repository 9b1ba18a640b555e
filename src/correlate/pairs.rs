//! Anchor pairs: events of two sources that `parsers/anchors.toml` says record the same moment, or
//! one just before the other.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use crate::defs::{AnchorDef, Relation};
use crate::model::{Event, SourceId};
use regex::Regex;
use std::collections::{BTreeMap, HashMap, HashSet};

/// An event of one source, before the merge: (source, index in that source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct At {
    /// Source.
    pub source: SourceId,
    /// Index of the event in its source.
    pub index: usize,
}

/// A candidate anchor pair between two sources.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Anchor definition name.
    pub name: String,
    /// The earlier (or same-moment) side.
    pub first: At,
    /// The later side.
    pub second: At,
    /// How the two sides relate in time.
    pub relation: Relation,
}

/// Where a source's event stands against its partner in an anchor pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Both record the same moment.
    Same,
    /// This event happens before its partner (an upper bound on its clock's offset).
    Before,
    /// This event happens after its partner (a lower bound).
    After,
}

impl Pair {
    /// For a pair that involves `source`: its own event index, the partner event, and where its own
    /// event stands against the partner.
    pub fn seen_from(&self, source: SourceId) -> Option<(usize, At, Side)> {
        let ordered = self.relation == Relation::Before;
        if self.first.source == source {
            let side = if ordered { Side::Before } else { Side::Same };
            Some((self.first.index, self.second, side))
        } else if self.second.source == source {
            let side = if ordered { Side::After } else { Side::Same };
            Some((self.second.index, self.first, side))
        } else {
            None
        }
    }

    /// Whether either side is in `source`.
    pub fn touches(&self, source: SourceId) -> bool {
        self.first.source == source || self.second.source == source
    }
}

/// Where each side of a pattern anchor occurs: key → event indices, per source, in order.
type Occurrences = HashMap<(SourceId, String), Vec<usize>>;

/// Both sides' occurrences of every pattern anchor (`None` for shared-UUID anchors), one thread per
/// anchor: each is a pass of two regexes over every event, independent of the others. Each thread
/// has its own copy of its regexes (a shared one takes a locked cache pool off its first thread).
fn scan_all(
    defs: &[&AnchorDef],
    per_source: &[Vec<Event>],
) -> Vec<Option<(Occurrences, Occurrences)>> {
    let events: usize = per_source.iter().map(Vec::len).sum();
    let scan = |def: &AnchorDef| -> Option<(Occurrences, Occurrences)> {
        let (fr, sr) = (def.first.clone()?, def.second.clone()?);
        (!def.shared_uuid).then(|| occurrences(def, &fr, &sr, per_source))
    };
    if events < PARALLEL_MIN {
        return defs.iter().map(|d| scan(d)).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = defs.iter().map(|d| s.spawn(move || scan(d))).collect();
        handles
            .into_iter()
            .zip(defs)
            .map(|(h, d)| h.join().unwrap_or_else(|_| scan(d)))
            .collect()
    })
}

/// Fewest events worth a thread per anchor.
const PARALLEL_MIN: usize = 16 * 1024;

/// Where the two sides of one pattern anchor occur, by key and source.
fn occurrences(
    def: &AnchorDef,
    fr: &Regex,
    sr: &Regex,
    per_source: &[Vec<Event>],
) -> (Occurrences, Occurrences) {
    let keyed = |re: &Regex, ev: &Event| -> Option<String> {
        // Most events match neither side: the test without groups allocates nothing.
        if !re.is_match(&ev.message) {
            return None;
        }
        let c = re.captures(&ev.message)?;
        Some(
            def.key
                .iter()
                .map(|k| c.name(k).map(|m| m.as_str()).unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\u{1}"),
        )
    };
    let mut firsts: Occurrences = HashMap::new();
    let mut seconds: Occurrences = HashMap::new();
    for (s, evs) in per_source.iter().enumerate() {
        for (i, ev) in evs.iter().enumerate() {
            if let Some(k) = keyed(fr, ev) {
                firsts.entry((s, k)).or_default().push(i);
            }
            if let Some(k) = keyed(sr, ev) {
                seconds.entry((s, k)).or_default().push(i);
            }
        }
    }
    (firsts, seconds)
}

/// Every anchor pair between the sources: pattern anchors first, then shared UUIDs not yet paired.
pub fn find_pairs(per_source: &[Vec<Event>], defs: &[AnchorDef]) -> Vec<Pair> {
    let mut pairs = Vec::new();
    // Pattern anchors first: they know which side comes first. A shared UUID then only pairs events
    // that no pattern anchor has paired already.
    let ordered: Vec<&AnchorDef> = defs
        .iter()
        .filter(|d| !d.shared_uuid)
        .chain(defs.iter().filter(|d| d.shared_uuid))
        .collect();
    let mut covered: HashSet<At> = HashSet::new();
    let scanned = scan_all(&ordered, per_source);
    for (def, occ) in ordered.into_iter().zip(scanned) {
        if def.shared_uuid {
            covered.extend(pairs.iter().flat_map(|p: &Pair| [p.first, p.second]));
            // uuid → per source, first event mentioning it
            let mut seen: BTreeMap<&str, Vec<At>> = BTreeMap::new();
            for (s, evs) in per_source.iter().enumerate() {
                for (i, ev) in evs.iter().enumerate() {
                    for u in &ev.uuids {
                        let e = seen.entry(u.as_str()).or_default();
                        if !e.iter().any(|at| at.source == s) {
                            e.push(At {
                                source: s,
                                index: i,
                            });
                        }
                    }
                }
            }
            for (_, occ) in seen {
                for w in 1..occ.len() {
                    if covered.contains(&occ[0]) && covered.contains(&occ[w]) {
                        continue;
                    }
                    pairs.push(Pair {
                        name: def.name.clone(),
                        first: occ[0],
                        second: occ[w],
                        relation: def.relation,
                    });
                }
            }
            continue;
        }
        let Some((firsts, seconds)) = occ else {
            continue;
        };
        let mut keys: Vec<_> = firsts.keys().cloned().collect();
        keys.sort();
        for (sa, k) in keys {
            for sb in 0..per_source.len() {
                if sb == sa {
                    continue;
                }
                let (Some(fa), Some(sbv)) =
                    (firsts.get(&(sa, k.clone())), seconds.get(&(sb, k.clone())))
                else {
                    continue;
                };
                // Unkeyed anchors (a panic and the disconnects after it) pair first with first only.
                let n = if def.key.is_empty() {
                    1
                } else {
                    fa.len().min(sbv.len())
                };
                for j in 0..n {
                    pairs.push(Pair {
                        name: def.name.clone(),
                        first: At {
                            source: sa,
                            index: fa[j],
                        },
                        second: At {
                            source: sb,
                            index: sbv[j],
                        },
                        relation: def.relation,
                    });
                }
            }
        }
    }
    pairs
}
