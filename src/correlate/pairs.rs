//! Anchor pairs: events of two sources that `parsers/anchors.toml` says record the same moment, or
//! one just before the other.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use crate::defs::{AnchorDef, Relation};
use crate::model::{Event, SourceId};
use regex::Regex;
use std::borrow::Cow;
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

/// Both sides' occurrences of every pattern anchor (`None` for shared-UUID anchors), the anchors
/// shared out between the cores: each is a pass of two regexes over every event, independent of the
/// others. Each scan has its own copy of its regexes (a shared one takes a locked cache pool off its
/// first thread).
fn scan_all(
    defs: &[&AnchorDef],
    per_source: &[Vec<Event>],
) -> Vec<Option<(Occurrences, Occurrences)>> {
    let events: usize = per_source.iter().map(Vec::len).sum();
    // Bits 2k and 2k+1: the two sides of the k-th pattern anchor.
    let sides: Vec<&Regex> = defs.iter().filter_map(|d| sides_of(d)).flatten().collect();
    let bits = if events < PARALLEL_MIN {
        None
    } else {
        side_bits(&sides, per_source)
    };
    let mut nth = 0;
    let work: Vec<(&AnchorDef, Option<u32>)> = defs
        .iter()
        .map(|d| {
            let first_bit = sides_of(d).map(|_| {
                nth += 2;
                nth - 2
            });
            (*d, first_bit)
        })
        .collect();
    let scan = |def: &AnchorDef, first_bit: Option<u32>| -> Option<(Occurrences, Occurrences)> {
        let [fr, sr] = sides_of(def)?;
        let (fr, sr) = (fr.clone(), sr.clone());
        let hint = bits.as_deref().zip(first_bit);
        Some(occurrences(def, &fr, &sr, per_source, hint))
    };
    if events < PARALLEL_MIN {
        return work.iter().map(|&(d, b)| scan(d, b)).collect();
    }
    crate::par::queue(&work, || (), |_, &(d, b)| scan(d, b))
}

/// A pattern anchor's two regexes; `None` for a shared-UUID anchor or one without both sides.
fn sides_of(d: &AnchorDef) -> Option<[&Regex; 2]> {
    if d.shared_uuid {
        return None;
    }
    Some([d.first.as_ref()?, d.second.as_ref()?])
}

/// Fewest events worth a thread per anchor.
const PARALLEL_MIN: usize = 16 * 1024;

/// Per source, per event, a bit for each of `sides` (at most 32) whose regex matches the message: one
/// pass of a `RegexSet` over every event, on every core, instead of one pass per regex. `None` when the
/// set cannot be built (too many sides, over the size limit): each regex is then tried.
fn side_bits(sides: &[&Regex], per_source: &[Vec<Event>]) -> Option<Vec<Vec<u32>>> {
    if sides.is_empty() || sides.len() > 32 {
        return None;
    }
    let set = regex::RegexSet::new(sides.iter().map(|r| r.as_str())).ok()?;
    let out = per_source
        .iter()
        .map(|evs| {
            crate::par::pieces(evs, PARALLEL_MIN, |_, piece| {
                // Its own copy: a set shared between threads takes a locked cache pool.
                let own = set.clone();
                piece
                    .iter()
                    .map(|ev| {
                        own.matches(&ev.message)
                            .iter()
                            .fold(0u32, |b, i| b | (1u32 << i))
                    })
                    .collect::<Vec<u32>>()
            })
            .concat()
        })
        .collect();
    Some(out)
}

/// The key an anchor side's match in `text` gives (its key groups joined), when it matches.
fn key_of(def: &AnchorDef, re: &Regex, text: &str) -> Option<String> {
    let c = re.captures(text)?;
    Some(
        def.key
            .iter()
            .map(|k| c.name(k).map(|m| m.as_str()).unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\u{1}"),
    )
}

/// Where the two sides of one pattern anchor occur, by key and source.
fn occurrences(
    def: &AnchorDef,
    fr: &Regex,
    sr: &Regex,
    per_source: &[Vec<Event>],
    bits: Option<(&[Vec<u32>], u32)>,
) -> (Occurrences, Occurrences) {
    // Whether side `side` (0 first, 1 second) may match event `i` of source `s`: the set's bits when
    // there are any, else the regex without groups (which allocates nothing).
    let may = |re: &Regex, s: usize, i: usize, side: u32, ev: &Event| match bits {
        Some((b, first)) => b
            .get(s)
            .and_then(|v| v.get(i))
            .is_some_and(|m| m & (1u32 << (first + side)) != 0),
        None => re.is_match(&ev.message),
    };
    let keyed = |re: &Regex, ev: &Event| key_of(def, re, &ev.message);
    let mut firsts: Occurrences = HashMap::new();
    let mut seconds: Occurrences = HashMap::new();
    for (s, evs) in per_source.iter().enumerate() {
        for (i, ev) in evs.iter().enumerate() {
            if may(fr, s, i, 0, ev) {
                if let Some(k) = keyed(fr, ev) {
                    firsts.entry((s, k)).or_default().push(i);
                }
            }
            if may(sr, s, i, 1, ev) {
                if let Some(k) = keyed(sr, ev) {
                    seconds.entry((s, k)).or_default().push(i);
                }
            }
        }
    }
    (firsts, seconds)
}

/// Per UUID, the first event of each source that names it, in source order (the in-memory scan
/// borrows the UUIDs from the events; a streaming one owns them).
pub type UuidFirsts<'a> = BTreeMap<Cow<'a, str>, Vec<At>>;

/// What pairing needs of the sources, found by scanning their events: each pattern anchor's
/// occurrences (in [`ordered`] order, `None` for a shared-UUID anchor) and every UUID's first event
/// per source.
#[derive(Debug, Default)]
pub struct Scanned<'a> {
    /// Both sides' occurrences of each anchor.
    pub occurrences: Vec<Option<(Occurrences, Occurrences)>>,
    /// First mention of each UUID per source.
    pub uuids: UuidFirsts<'a>,
}

/// The anchor definitions in the order pairs are made: pattern anchors first, since they know which
/// side comes first; a shared UUID then only pairs events that no pattern anchor has paired already.
pub fn ordered(defs: &[AnchorDef]) -> Vec<&AnchorDef> {
    defs.iter()
        .filter(|d| !d.shared_uuid)
        .chain(defs.iter().filter(|d| d.shared_uuid))
        .collect()
}

/// Every anchor pair between the sources: pattern anchors first, then shared UUIDs not yet paired.
pub fn find_pairs(per_source: &[Vec<Event>], defs: &[AnchorDef]) -> Vec<Pair> {
    let ordered = ordered(defs);
    let mut uuids = UuidFirsts::new();
    if ordered.iter().any(|d| d.shared_uuid) {
        for (s, evs) in per_source.iter().enumerate() {
            for (i, ev) in evs.iter().enumerate() {
                let at = At {
                    source: s,
                    index: i,
                };
                for u in &ev.uuids {
                    note_uuid(&mut uuids, at, u, || Cow::Borrowed(u.as_str()));
                }
            }
        }
    }
    let scanned = Scanned {
        occurrences: scan_all(&ordered, per_source),
        uuids,
    };
    pairs_from(&ordered, scanned, per_source.len())
}

/// Note UUID `u`, named at `at`, when this is its first mention in that source (`key` makes the map's
/// key, only for a UUID not seen before).
fn note_uuid<'a>(uuids: &mut UuidFirsts<'a>, at: At, u: &str, key: impl FnOnce() -> Cow<'a, str>) {
    match uuids.get_mut(u) {
        Some(e) => {
            if !e.iter().any(|x| x.source == at.source) {
                e.push(at);
            }
        }
        None => {
            uuids.insert(key(), vec![at]);
        }
    }
}

/// The pairs of `sources` sources, from what scanning them found.
pub fn pairs_from(ordered: &[&AnchorDef], scanned: Scanned<'_>, sources: usize) -> Vec<Pair> {
    let mut pairs = Vec::new();
    let mut covered: HashSet<At> = HashSet::new();
    let Scanned { occurrences, uuids } = scanned;
    for (def, occ) in ordered.iter().zip(occurrences) {
        if def.shared_uuid {
            covered.extend(pairs.iter().flat_map(|p: &Pair| [p.first, p.second]));
            for occ in uuids.values() {
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
            for sb in 0..sources {
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

/// Scans events one at a time, as a streaming reader meets them, for what [`pairs_from`] needs: the
/// same occurrences as the in-memory scan, with one `RegexSet` over every side per event.
pub struct Scanner {
    /// Per anchor in [`ordered`] order: its definition and sides (`None` for shared UUIDs).
    anchors: Vec<(AnchorDef, Option<[Regex; 2]>)>,
    /// Every side's regex, in anchor order (two per pattern anchor); bit `2k + side`.
    set: Option<regex::RegexSet>,
    /// Whether some anchor pairs shared UUIDs.
    uuid_anchor: bool,
    found: Scanned<'static>,
}

impl Scanner {
    /// A scanner for these anchors (its own copies of their regexes: one scanner per thread).
    pub fn new(defs: &[AnchorDef]) -> Scanner {
        let anchors: Vec<(AnchorDef, Option<[Regex; 2]>)> = ordered(defs)
            .into_iter()
            .map(|d| (d.clone(), sides_of(d).map(|[a, b]| [a.clone(), b.clone()])))
            .collect();
        let sides: Vec<&str> = anchors
            .iter()
            .filter_map(|(_, s)| s.as_ref())
            .flat_map(|[a, b]| [a.as_str(), b.as_str()])
            .collect();
        let set = (!sides.is_empty() && sides.len() <= 64)
            .then(|| regex::RegexSet::new(&sides).ok())
            .flatten();
        let uuid_anchor = anchors.iter().any(|(d, _)| d.shared_uuid);
        let occurrences = anchors
            .iter()
            .map(|(_, s)| s.as_ref().map(|_| Default::default()))
            .collect();
        Scanner {
            anchors,
            set,
            uuid_anchor,
            found: Scanned {
                occurrences,
                uuids: UuidFirsts::new(),
            },
        }
    }

    /// Take in the `at.index`-th event of source `at.source` (each source's events in order).
    pub fn event(&mut self, at: At, ev: &Event) {
        if self.uuid_anchor {
            for u in &ev.uuids {
                note_uuid(&mut self.found.uuids, at, u, || Cow::Owned(u.clone()));
            }
        }
        let hits = self.set.as_ref().map(|set| set.matches(&ev.message));
        let mut bit = 0;
        for ((def, sides), occ) in self.anchors.iter().zip(&mut self.found.occurrences) {
            let (Some(res), Some((firsts, seconds))) = (sides, occ.as_mut()) else {
                continue;
            };
            for (side, (re, into)) in res.iter().zip([firsts, seconds]).enumerate() {
                let may = match &hits {
                    Some(h) => h.matched(bit + side),
                    None => re.is_match(&ev.message),
                };
                if let Some(k) = may.then(|| key_of(def, re, &ev.message)).flatten() {
                    into.entry((at.source, k)).or_default().push(at.index);
                }
            }
            bit += 2;
        }
    }

    /// Add what another scanner found, its sources numbered from `base`.
    pub fn absorb(&mut self, other: Scanner, base: SourceId) {
        let Scanned { occurrences, uuids } = other.found;
        for (mine, theirs) in self.found.occurrences.iter_mut().zip(occurrences) {
            let (Some((mf, ms)), Some((tf, ts))) = (mine.as_mut(), theirs) else {
                continue;
            };
            for (into, from) in [(mf, tf), (ms, ts)] {
                for ((s, k), v) in from {
                    into.insert((s + base, k), v);
                }
            }
        }
        for (u, ats) in uuids {
            let e = self.found.uuids.entry(u).or_default();
            e.extend(ats.into_iter().map(|a| At {
                source: a.source + base,
                index: a.index,
            }));
            // In source order, as the in-memory scan finds them.
            e.sort_by_key(|a| a.source);
        }
    }

    /// What was found.
    pub fn finish(self) -> Scanned<'static> {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Registry;

    /// The sides found through the `RegexSet`'s bits are the sides each regex finds alone, for every
    /// built-in anchor, on the seed's three sources and a multi-process fault's.
    #[test]
    fn anchor_sides_from_the_set_equal_each_regex_alone() {
        let reg = Registry::load(None).unwrap();
        let runs = [crate::fixtures::SEED, crate::fixtures::MULTI_PEER_KILLED];
        let defs: Vec<&AnchorDef> = reg.anchors.iter().filter(|d| !d.shared_uuid).collect();
        let sides: Vec<&Regex> = defs.iter().filter_map(|d| sides_of(d)).flatten().collect();
        assert!(sides.len() >= 4, "{} sides", sides.len());
        let mut found = 0;
        for run in runs {
            let per_source: Vec<Vec<Event>> = run
                .iter()
                .map(|(label, text)| {
                    let p = crate::pipeline::parse_str(&reg, label, text).unwrap();
                    p.sources.into_iter().flat_map(|(_, evs)| evs).collect()
                })
                .collect();
            let bits = side_bits(&sides, &per_source).expect("a set for the built-in anchors");
            let mut first = 0;
            for d in &defs {
                let Some([fr, sr]) = sides_of(d) else {
                    continue;
                };
                let with = occurrences(d, fr, sr, &per_source, Some((&bits, first)));
                let without = occurrences(d, fr, sr, &per_source, None);
                assert_eq!(with, without, "anchor {}", d.name);
                found += with.0.len() + with.1.len();
                first += 2;
            }
        }
        assert!(found > 0, "some anchor sides occur in the samples");
    }
}
