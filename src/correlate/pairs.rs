//! Anchor pairs: events of two sources that `parsers/anchors.toml` says record the same moment, or
//! one just before the other.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use crate::defs::{AnchorDef, Relation};
use crate::model::{Event, SourceId};
use regex::Regex;
use std::collections::BTreeMap;

/// An event of one source, before the merge: (source, index in that source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct At {
    /// Source.
    pub source: SourceId,
    /// Index of the event in its source.
    pub index: usize,
}

/// A candidate anchor pair between two sources, in 24 bytes (a run makes hundreds of thousands,
/// all held while the sources are placed; with the anchor's name and two whole places they took 56).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    first_index: usize,
    second_index: usize,
    first_source: u16,
    second_source: u16,
    /// The number of its anchor definition in [`ordered`] order ([`link_names`] names it).
    pub def: u16,
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
    /// The pair of anchor `def` (in [`ordered`] order) from `first` to `second`; `None` past what
    /// a pair numbers (65,536 sources or anchor definitions: no input comes near).
    pub fn new(def: usize, first: At, second: At, relation: Relation) -> Option<Pair> {
        Some(Pair {
            first_index: first.index,
            second_index: second.index,
            first_source: u16::try_from(first.source).ok()?,
            second_source: u16::try_from(second.source).ok()?,
            def: u16::try_from(def).ok()?,
            relation,
        })
    }

    /// The earlier (or same-moment) side.
    pub fn first(&self) -> At {
        At {
            source: usize::from(self.first_source),
            index: self.first_index,
        }
    }

    /// The later side.
    pub fn second(&self) -> At {
        At {
            source: usize::from(self.second_source),
            index: self.second_index,
        }
    }

    /// For a pair that involves `source`: its own event index, the partner event, and where its own
    /// event stands against the partner.
    pub fn seen_from(&self, source: SourceId) -> Option<(usize, At, Side)> {
        let ordered = self.relation == Relation::Before;
        let (first, second) = (self.first(), self.second());
        if first.source == source {
            let side = if ordered { Side::Before } else { Side::Same };
            Some((first.index, second, side))
        } else if second.source == source {
            let side = if ordered { Side::After } else { Side::Same };
            Some((second.index, first, side))
        } else {
            None
        }
    }

    /// Whether either side is in `source`.
    pub fn touches(&self, source: SourceId) -> bool {
        self.first().source == source || self.second().source == source
    }
}

/// Where one side of a pattern anchor occurs: every match's source, key and event index, in a
/// list sorted by source, key and index once the scan ends ([`Occurrences::sort`]). A run names
/// hundreds of thousands of keys, most once per source: 24 bytes each here (a key that is no
/// canonical UUID is kept once, by number), where a hash map of keys to index lists took about
/// four times that (a third of the first pass's peak at 1 GB). A few keys repeat a million times
/// (a poll names its connection every round): a key met again lately grows a run of its
/// occurrences instead, a byte or two each (the differences of their indices), where each took an
/// entry of 24 bytes (at 4 GB 6.4 M entries, the first pass's largest list).
#[derive(Debug, Clone, Default)]
pub struct Occurrences {
    /// An entry per occurrence, or per run of a key's occurrences (its first, [`RUN_BIT`] set).
    list: Vec<Occ>,
    /// The runs; once sorted, in the order of their first entries in `list`.
    runs: Vec<Run>,
    /// Once sorted: where each run's first entry is in `list`.
    run_at: Vec<usize>,
    /// The keys that are no canonical UUID, each once.
    texts: Vec<Box<str>>,
    /// Where each is in `texts`, while the scan notes occurrences.
    numbers: crate::hash::Map<Box<str>, u32>,
    /// While the scan notes occurrences: the keys (bytes, source and text bit) met lately, and how
    /// many of their occurrences took an entry of their own, or the run they grow. Bounded: emptied
    /// when full, so a key met only long ago starts again with entries of its own.
    lately: crate::hash::Map<([u8; 16], u64), Lately>,
}

/// What a key met lately has: so many entries of its own, or a run.
#[derive(Debug, Clone, Copy)]
enum Lately {
    Entries(u8),
    Run(u32),
}

/// Keys [`Occurrences::lately`] remembers at most (about 40 bytes each).
const LATELY_MAX: usize = 2048;

/// Occurrences of a key that take entries of their own before a run starts: a run costs about
/// 70 bytes, an entry 24, and most keys repeat once or twice if at all.
const ENTRIES_BEFORE_RUN: u8 = 3;

/// Consecutive occurrences of one key in one source: the first is an entry of the list (with
/// [`RUN_BIT`]), the others the differences of their indices.
#[derive(Debug, Clone)]
struct Run {
    first: Occ,
    /// The differences between consecutive indices, LEB128 ([`crate::varint`]).
    steps: Vec<u8>,
    last: u64,
    count: usize,
}

/// One occurrence: its key's 16 bytes (a canonical UUID's, or the number of its text in
/// [`Occurrences::texts`]), and its source, whether the key is a text, whether a run starts here,
/// and its event index, packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Occ {
    key: [u8; 16],
    at: u64,
}

/// Bits of an occurrence's event index (2^42 events in a source); above them the run bit, the text
/// bit, then the source (2^20 sources).
const INDEX_BITS: u32 = 42;
const RUN_BIT: u64 = 1 << INDEX_BITS;
const TEXT_BIT: u64 = RUN_BIT << 1;
const SOURCE_SHIFT: u32 = INDEX_BITS + 2;

impl Occ {
    fn source(&self) -> SourceId {
        unpack(self.at).source
    }

    fn index(&self) -> usize {
        unpack(self.at).index
    }
}

/// A key as an occurrence list holds it: a canonical UUID's bytes, or a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyRef<'a> {
    Canon(&'a [u8; 16]),
    Text(&'a str),
}

impl KeyRef<'_> {
    /// The key, owned.
    fn owned(self) -> Key {
        match self {
            KeyRef::Canon(b) => Key::Canon(*b),
            KeyRef::Text(t) => Key::Text(t.into()),
        }
    }

    /// Keys order as their texts do (as [`Key`]s do).
    fn cmp(self, other: KeyRef<'_>) -> std::cmp::Ordering {
        match (self, other) {
            (KeyRef::Canon(a), KeyRef::Canon(b)) => a.cmp(b),
            (KeyRef::Text(a), KeyRef::Text(b)) => a.cmp(b),
            (a, b) => a.owned().cmp(&b.owned()),
        }
    }
}

/// The occurrences of one key in one source: entries of the sorted list, each one occurrence or
/// the first of a run.
#[derive(Debug, Clone, Copy)]
struct Segments<'a> {
    of: &'a Occurrences,
    /// Where `list` starts in the whole list.
    from: usize,
    list: &'a [Occ],
}

impl<'a> Segments<'a> {
    /// The run that starts at entry `k` of `list`, if one does.
    fn run(&self, k: usize, o: &Occ) -> Option<&'a Run> {
        if o.at & RUN_BIT == 0 {
            return None;
        }
        let n = self.of.run_at.binary_search(&(self.from + k)).ok()?;
        self.of.runs.get(n)
    }

    /// How many occurrences.
    fn len(&self) -> usize {
        let each = |(k, o)| self.run(k, o).map_or(1, |r| r.count);
        self.list.iter().enumerate().map(each).sum()
    }

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The occurrences' event indices, in order (entries and runs of one key never interleave: a
    /// run takes every occurrence of its key until it ends).
    fn indices(self) -> impl Iterator<Item = usize> + 'a {
        self.list.iter().enumerate().flat_map(move |(k, o)| {
            let steps = self.run(k, o).map_or(&[][..], |r| &r.steps[..]);
            let (mut at, mut index) = (0, o.index() as u64);
            let rest = std::iter::from_fn(move || {
                index += crate::varint::take(steps, &mut at)?;
                Some(index as usize)
            });
            std::iter::once(o.index()).chain(rest)
        })
    }
}

impl Occurrences {
    /// Note a match of key `key` at event `index` of source `source` (each source's matches in
    /// the order of their events). A place past what 64 bits pack (over 2^42 events in a source,
    /// or 2^20 sources) is left out: no file comes near it.
    fn push(&mut self, source: SourceId, key: &Key, index: usize) {
        let Some(at) = pack(At { source, index }) else {
            return;
        };
        let (key, text) = match key {
            Key::Canon(b) => (*b, 0),
            Key::Text(t) => {
                let next = u32::try_from(self.texts.len()).unwrap_or(u32::MAX);
                let n = match self.numbers.get(t) {
                    Some(&n) => n,
                    None => {
                        self.texts.push(t.clone());
                        self.numbers.insert(t.clone(), next);
                        next
                    }
                };
                let mut b = [0u8; 16];
                b[..4].copy_from_slice(&n.to_le_bytes());
                (b, TEXT_BIT)
            }
        };
        let at = at | text;
        let slot = (key, at >> INDEX_BITS);
        if self.lately.len() >= LATELY_MAX && !self.lately.contains_key(&slot) {
            self.lately.clear();
        }
        let lately = self.lately.entry(slot).or_insert(Lately::Entries(0));
        let index = index as u64;
        match *lately {
            Lately::Entries(n) if n < ENTRIES_BEFORE_RUN => *lately = Lately::Entries(n + 1),
            Lately::Entries(_) => {
                if let Ok(r) = u32::try_from(self.runs.len()) {
                    let first = Occ {
                        key,
                        at: at | RUN_BIT,
                    };
                    self.runs.push(Run {
                        first,
                        steps: Vec::new(),
                        last: index,
                        count: 1,
                    });
                    self.list.push(first);
                    *lately = Lately::Run(r);
                    return;
                }
            }
            Lately::Run(r) => {
                if let Some(run) = self.runs.get_mut(r as usize).filter(|r| r.last < index) {
                    crate::varint::put(&mut run.steps, index - run.last);
                    run.last = index;
                    run.count += 1;
                    return;
                }
                // Out of order (not how a scan notes them): an entry of its own.
                *lately = Lately::Entries(0);
            }
        }
        self.list.push(Occ { key, at });
    }

    /// The key of occurrence `o`.
    fn key<'a>(texts: &'a [Box<str>], o: &'a Occ) -> KeyRef<'a> {
        if o.at & TEXT_BIT == 0 {
            return KeyRef::Canon(&o.key);
        }
        let n = u32::from_le_bytes([o.key[0], o.key[1], o.key[2], o.key[3]]);
        KeyRef::Text(texts.get(n as usize).map_or("", |t| t))
    }

    /// Sort by source, key and index (what [`Occurrences::runs`] and [`Occurrences::get`] read),
    /// the runs in the order of their first entries, and give back the room the lists grew into,
    /// the texts' numbers and the keys met lately.
    fn sort(&mut self) {
        let texts = &self.texts;
        let order = |a: &Occ, b: &Occ| {
            (a.source().cmp(&b.source()))
                .then_with(|| Occurrences::key(texts, a).cmp(Occurrences::key(texts, b)))
                .then(a.index().cmp(&b.index()))
        };
        self.list.sort_unstable_by(order);
        self.runs.sort_unstable_by(|a, b| order(&a.first, &b.first));
        self.run_at = (self.list.iter().enumerate())
            .filter(|(_, o)| o.at & RUN_BIT != 0)
            .map(|(k, _)| k)
            .collect();
        self.list.shrink_to_fit();
        self.runs.shrink_to_fit();
        self.runs.iter_mut().for_each(|r| r.steps.shrink_to_fit());
        self.numbers = Default::default();
        self.lately = Default::default();
    }

    /// Each source's keys in order, with the occurrences of the key in the source.
    fn runs(&self) -> impl Iterator<Item = (SourceId, KeyRef<'_>, Segments<'_>)> + '_ {
        let mut from = 0;
        self.list
            .chunk_by(|a, b| {
                a.source() == b.source() && a.key == b.key && a.at & TEXT_BIT == b.at & TEXT_BIT
            })
            .filter_map(move |list| {
                let segments = Segments {
                    of: self,
                    from,
                    list,
                };
                from += list.len();
                let o = list.first()?;
                Some((o.source(), Occurrences::key(&self.texts, o), segments))
            })
    }

    /// The occurrences of `key` in `source`.
    fn get(&self, source: SourceId, key: KeyRef<'_>) -> Segments<'_> {
        let place = |o: &Occ| {
            o.source()
                .cmp(&source)
                .then_with(|| Occurrences::key(&self.texts, o).cmp(key))
        };
        let from = self.list.partition_point(|o| place(o).is_lt());
        let rest = self.list.get(from..).unwrap_or_default();
        let n = rest.partition_point(|o| place(o).is_eq());
        Segments {
            of: self,
            from,
            list: rest.get(..n).unwrap_or_default(),
        }
    }

    /// How many occurrences there are, and how many entries and bytes of runs hold them.
    fn sizes(&self) -> (usize, usize, usize) {
        let steps = self.runs.iter().map(|r| r.steps.len()).sum();
        let n = self.runs().map(|(_, _, s)| s.len()).sum();
        (n, self.list.len(), steps)
    }

    /// Every occurrence as (source, key, index), in order.
    #[cfg(test)]
    fn all(&self) -> Vec<(SourceId, Key, usize)> {
        self.runs()
            .flat_map(|(s, k, seg)| seg.indices().map(move |i| (s, k.owned(), i)))
            .collect()
    }

    /// How many occurrences there are.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.sizes().0
    }
}

#[cfg(test)]
impl PartialEq for Occurrences {
    fn eq(&self, other: &Occurrences) -> bool {
        self.all() == other.all()
    }
}

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
    let gate = gate_of(&sides.iter().map(|r| r.as_str()).collect::<Vec<_>>());
    let out = per_source
        .iter()
        .map(|evs| {
            crate::par::pieces(evs, PARALLEL_MIN, |_, piece| {
                // Its own copy: a set shared between threads takes a locked cache pool.
                let own = set.clone();
                piece
                    .iter()
                    .map(|ev| {
                        if gate.as_ref().is_some_and(|g| !g.is_match(&ev.message)) {
                            return 0;
                        }
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

/// One automaton of the literals every side's matches hold (one of its side's list each), when
/// every side has such literals: a text it does not match matches no side.
fn gate_of(sides: &[&str]) -> Option<aho_corasick::AhoCorasick> {
    let literals: Vec<Vec<Vec<u8>>> = sides
        .iter()
        .map(|re| crate::defs::literals::required_literals(re))
        .collect::<Option<_>>()?;
    if literals.is_empty() {
        return None;
    }
    aho_corasick::AhoCorasick::new(literals.concat()).ok()
}

/// The key an anchor side's match in `text` gives (its key groups joined), when it matches.
fn key_of(def: &AnchorDef, re: &Regex, text: &str) -> Option<Key> {
    let c = re.captures(text)?;
    let group = |k: &String| c.name(k).map(|m| m.as_str()).unwrap_or("");
    Some(match def.key.as_slice() {
        [one] => Key::of(group(one)),
        keys => Key::of(&keys.iter().map(group).collect::<Vec<_>>().join("\u{1}")),
    })
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
    let mut firsts = Occurrences::default();
    let mut seconds = Occurrences::default();
    for (s, evs) in per_source.iter().enumerate() {
        for (i, ev) in evs.iter().enumerate() {
            if may(fr, s, i, 0, ev) {
                if let Some(k) = keyed(fr, ev) {
                    firsts.push(s, &k, i);
                }
            }
            if may(sr, s, i, 1, ev) {
                if let Some(k) = keyed(sr, ev) {
                    seconds.push(s, &k, i);
                }
            }
        }
    }
    firsts.sort();
    seconds.sort();
    (firsts, seconds)
}

/// Per UUID, the first event of each source that names it. While a scan notes them, a canonical
/// UUID's first source and event are kept in a hash map of its 16 bytes (about 37 bytes a UUID,
/// where a tree of keys to lists took 72: a run names hundreds of thousands); its first events in
/// other sources, and every other key, in a tree. Once the scan ends ([`UuidFirsts::settle`]), the
/// map is a list sorted by key.
#[derive(Debug, Default)]
pub struct UuidFirsts {
    canon: crate::hash::Map<[u8; 16], u64>,
    sorted: Vec<([u8; 16], u64)>,
    more: BTreeMap<Key, Firsts>,
}

/// An event's place in 64 bits (as [`Occ`] packs it), when it fits.
fn pack(at: At) -> Option<u64> {
    let (s, i) = (
        u64::try_from(at.source).ok()?,
        u64::try_from(at.index).ok()?,
    );
    (s >> (64 - SOURCE_SHIFT) == 0 && i < RUN_BIT).then_some((s << SOURCE_SHIFT) | i)
}

/// The place [`pack`] packed (the run and text bits of an [`Occ`] aside).
fn unpack(v: u64) -> At {
    At {
        source: (v >> SOURCE_SHIFT) as SourceId,
        index: (v & (RUN_BIT - 1)) as usize,
    }
}

impl UuidFirsts {
    /// Note UUID `u`, named at `at`, when this is its first mention in that source.
    fn note(&mut self, at: At, u: &str) {
        let key = Key::of(u);
        if let (Key::Canon(b), Some(packed)) = (&key, pack(at)) {
            match self.canon.entry(*b) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(packed);
                    return;
                }
                std::collections::hash_map::Entry::Occupied(o) => {
                    if unpack(*o.get()).source == at.source {
                        return;
                    }
                }
            }
        }
        match self.more.get_mut(&key) {
            Some(e) => e.note(at),
            None => {
                self.more.insert(key, Firsts::One(at));
            }
        }
    }

    /// The scan ended: the map becomes a list sorted by key.
    fn settle(&mut self) {
        let mut sorted: Vec<([u8; 16], u64)> = self.canon.drain().collect();
        self.canon = Default::default();
        sorted.append(&mut self.sorted);
        sorted.sort_unstable();
        self.sorted = sorted;
    }

    /// UUIDs noted.
    pub fn len(&self) -> usize {
        self.canon.len() + self.sorted.len() + self.more.len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every UUID in key order, with its first events (in the order met), once settled.
    fn iter(&self) -> impl Iterator<Item = (Key, Vec<At>)> + '_ {
        let mut sorted = self.sorted.iter().peekable();
        let mut more = self.more.iter().peekable();
        std::iter::from_fn(move || {
            let canon = sorted.peek().map(|(b, _)| Key::Canon(*b));
            let take_canon = match (&canon, more.peek()) {
                (Some(c), Some((k, _))) => c <= *k,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !take_canon {
                let (k, f) = more.next()?;
                return Some((k.clone(), f.as_slice().to_vec()));
            }
            let (_, first) = sorted.next()?;
            let key = canon?;
            let mut ats = vec![unpack(*first)];
            if let Some((_, f)) = more.next_if(|(k, _)| **k == key) {
                ats.extend_from_slice(f.as_slice());
            }
            Some((key, ats))
        })
    }
}

/// The first events that name one UUID, one per source, in the order met: most UUIDs are named
/// in one source of an input, kept inline without a list's allocation.
#[derive(Debug, Clone)]
pub enum Firsts {
    /// Named in one source.
    One(At),
    /// Named in several.
    Many(Box<Vec<At>>),
}

impl Firsts {
    /// The events, in the order met.
    pub fn as_slice(&self) -> &[At] {
        match self {
            Firsts::One(a) => std::slice::from_ref(a),
            Firsts::Many(v) => v,
        }
    }

    /// Add `at` unless its source has a first already.
    fn note(&mut self, at: At) {
        if self.as_slice().iter().any(|x| x.source == at.source) {
            return;
        }
        match self {
            Firsts::One(a) => *self = Firsts::Many(Box::new(vec![*a, at])),
            Firsts::Many(v) => v.push(at),
        }
    }
}

/// A UUID, or an anchor's key, as a map key: its 16 bytes when it is a UUID written canonically
/// (lower-case 8-4-4-4-12 hex, as the built-in extractor and request ids give them), its text
/// otherwise (a user's own extractor, a pair of CIDs). A run names hundreds of thousands; the bytes
/// take 16 where the text took 60 and an allocation. Keys order as their texts do, so pairs come
/// out in the same order either way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A canonical UUID's bytes, most significant first.
    Canon([u8; 16]),
    /// Any other text.
    Text(Box<str>),
}

/// Where the dashes of a canonical UUID are.
const DASHES: [usize; 4] = [8, 13, 18, 23];

impl Key {
    /// The key of a text: a UUID's, or an anchor's key groups joined.
    pub fn of(u: &str) -> Key {
        Key::canon(u).map_or_else(|| Key::Text(u.into()), Key::Canon)
    }

    fn canon(u: &str) -> Option<[u8; 16]> {
        let b = u.as_bytes();
        if b.len() != 36 || DASHES.iter().any(|&d| b.get(d) != Some(&b'-')) {
            return None;
        }
        let mut out = [0u8; 16];
        let mut nibbles = b
            .iter()
            .enumerate()
            .filter(|(i, _)| !DASHES.contains(i))
            .map(|(_, &c)| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            });
        for byte in &mut out {
            *byte = (nibbles.next()?? << 4) | nibbles.next()??;
        }
        Some(out)
    }

    /// The text of the key.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Key::Text(t) => std::borrow::Cow::Borrowed(t),
            Key::Canon(b) => {
                use std::fmt::Write;
                let mut s = String::with_capacity(36);
                for (i, byte) in b.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        s.push('-');
                    }
                    // Writing to a `String` cannot fail.
                    let _ = write!(s, "{byte:02x}");
                }
                std::borrow::Cow::Owned(s)
            }
        }
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        match (self, other) {
            // Fixed width, digits before letters, dashes in the same places: the bytes order as
            // the texts do.
            (Key::Canon(a), Key::Canon(b)) => a.cmp(b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            _ => self.text().cmp(&other.text()),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What one scan found, its sources numbered from 0: each pattern anchor's occurrences (in
/// [`ordered`] order, `None` for a shared-UUID anchor) and every UUID's first event per source.
#[derive(Debug, Default)]
pub struct Found {
    /// Both sides' occurrences of each anchor.
    pub occurrences: Vec<Option<(Occurrences, Occurrences)>>,
    /// First mention of each UUID per source.
    pub uuids: UuidFirsts,
}

/// What pairing needs of the sources: what each scan found, with the number of its first source, in
/// source order. A streaming reader scans each input on its own; its finds are read where they are,
/// not joined into one map, which held both at once (a third of the first pass's memory at 1 GB).
#[derive(Debug, Default)]
pub struct Scanned {
    parts: Vec<(SourceId, Found)>,
}

impl Scanned {
    /// How many anchor occurrences the scans noted, the list entries and bytes of runs that hold
    /// them, and how many UUIDs (for `DIAG_MEMTRACE`).
    pub fn sizes(&self) -> [usize; 4] {
        let found = self.parts.iter().map(|(_, f)| f);
        let mut out = [0; 4];
        for (a, b) in found.clone().flat_map(|f| f.occurrences.iter().flatten()) {
            for (n, entries, steps) in [a.sizes(), b.sizes()] {
                out[0] += n;
                out[1] += entries;
                out[2] += steps;
            }
        }
        out[3] = found.map(|f| f.uuids.len()).sum();
        out
    }

    /// What one scan of every source found.
    pub fn whole(mut found: Found) -> Scanned {
        found.uuids.settle();
        Scanned {
            parts: vec![(0, found)],
        }
    }

    /// The part that holds source `s`, and `s` numbered within it.
    fn part_of(&self, s: SourceId) -> Option<(&Found, SourceId)> {
        let k = self.parts.partition_point(|(base, _)| *base <= s);
        let (base, f) = self.parts.get(k.checked_sub(1)?)?;
        Some((f, s - base))
    }

    /// Every UUID, in key order, with its first event in each source, in source order.
    fn uuid_firsts(&self) -> impl Iterator<Item = Vec<At>> + '_ {
        let mut iters: Vec<_> = self
            .parts
            .iter()
            .map(|(base, f)| (*base, f.uuids.iter().peekable()))
            .collect();
        std::iter::from_fn(move || {
            let least = iters
                .iter_mut()
                .filter_map(|(_, it)| it.peek().map(|(k, _)| k.clone()))
                .min()?;
            let mut ats: Vec<At> = Vec::new();
            for (base, it) in &mut iters {
                if let Some((_, found)) = it.next_if(|(k, _)| *k == least) {
                    ats.extend(found.iter().map(|a| At {
                        source: a.source + *base,
                        index: a.index,
                    }));
                }
            }
            ats.sort_by_key(|a| a.source);
            Some(ats)
        })
    }
}

/// The anchor definitions in the order pairs are made: pattern anchors first, since they know which
/// side comes first; a shared UUID then only pairs events that no pattern anchor has paired already.
pub fn ordered(defs: &[AnchorDef]) -> Vec<&AnchorDef> {
    defs.iter()
        .filter(|d| !d.shared_uuid)
        .chain(defs.iter().filter(|d| d.shared_uuid))
        .collect()
}

/// The name of each anchor definition, by the number its pairs carry ([`Pair::def`]).
pub fn link_names(defs: &[AnchorDef]) -> Vec<std::sync::Arc<str>> {
    ordered(defs)
        .iter()
        .map(|d| std::sync::Arc::from(d.name.as_str()))
        .collect()
}

/// Every anchor pair between the sources: pattern anchors first, then shared UUIDs not yet paired.
pub fn find_pairs(per_source: &[Vec<Event>], defs: &[AnchorDef]) -> Vec<Pair> {
    let ordered = ordered(defs);
    let mut uuids = UuidFirsts::default();
    if ordered.iter().any(|d| d.shared_uuid) {
        for (s, evs) in per_source.iter().enumerate() {
            for (i, ev) in evs.iter().enumerate() {
                let at = At {
                    source: s,
                    index: i,
                };
                for u in &ev.uuids {
                    uuids.note(at, u);
                }
            }
        }
    }
    let scanned = Scanned::whole(Found {
        occurrences: scan_all(&ordered, per_source),
        uuids,
    });
    pairs_from(&ordered, scanned, per_source.len())
}

/// The pairs of `sources` sources, from what scanning them found.
pub fn pairs_from(ordered: &[&AnchorDef], mut scanned: Scanned, sources: usize) -> Vec<Pair> {
    let mut pairs = Vec::new();
    let mut covered: crate::hash::Set<At> = Default::default();
    for (nth, def) in ordered.iter().enumerate() {
        if def.shared_uuid {
            covered.extend(pairs.iter().flat_map(|p: &Pair| [p.first(), p.second()]));
            for occ in scanned.uuid_firsts() {
                for w in 1..occ.len() {
                    if covered.contains(&occ[0]) && covered.contains(&occ[w]) {
                        continue;
                    }
                    pairs.extend(Pair::new(nth, occ[0], occ[w], def.relation));
                }
            }
            continue;
        }
        // Both sides' occurrences of this anchor, by source: (part, source within it).
        let side = |s: SourceId, second: bool| {
            let (f, local) = scanned.part_of(s)?;
            let (firsts, seconds) = f.occurrences.get(nth)?.as_ref()?;
            Some((if second { seconds } else { firsts }, local))
        };
        // Parts hold consecutive sources in order, each part's keys sorted by source and key: the
        // firsts come in (source, key) order without a list of them all.
        let firsts = scanned
            .parts
            .iter()
            .filter_map(|(base, f)| Some((*base, &f.occurrences.get(nth)?.as_ref()?.0)))
            .flat_map(|(base, firsts)| firsts.runs().map(move |(s, k, v)| (s + base, k, v)));
        for (sa, k, fa) in firsts {
            for sb in 0..sources {
                if sb == sa {
                    continue;
                }
                let Some(sbv) = side(sb, true).map(|(m, local)| m.get(local, k)) else {
                    continue;
                };
                if sbv.is_empty() {
                    continue;
                }
                // Unkeyed anchors (a panic and the disconnects after it) pair first with first only.
                let n = if def.key.is_empty() {
                    1
                } else {
                    fa.len().min(sbv.len())
                };
                for (a, b) in fa.indices().zip(sbv.indices()).take(n) {
                    let (first, second) = (
                        At {
                            source: sa,
                            index: a,
                        },
                        At {
                            source: sb,
                            index: b,
                        },
                    );
                    pairs.extend(Pair::new(nth, first, second, def.relation));
                }
            }
        }
        // This anchor's occurrences are done with: freed before the next one's pairs are made (at
        // 4 GB they were most of the first pass's peak, all held at once).
        for (_, f) in &mut scanned.parts {
            if let Some(o) = f.occurrences.get_mut(nth) {
                *o = None;
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
    /// The literals one of which every side's matches hold, when each side has some: a message
    /// without any of them matches no side, and the set is not run on it (most lines).
    gate: Option<aho_corasick::AhoCorasick>,
    /// Whether some anchor pairs shared UUIDs.
    uuid_anchor: bool,
    /// What this scanner's own events gave.
    found: Found,
    /// What the scanners it absorbed found, with the number of their first source.
    absorbed: Vec<(SourceId, Found)>,
    /// The sides (bit `2k + side`, as in `set`) and keys recent messages matched: a poll names the
    /// same connection every time, and its regexes ran on each ([`crate::memo`]).
    /// Shared with the memo: a repeated message takes a reference, not a copy of its keys.
    recent: crate::memo::Recent<std::sync::Arc<[(usize, Key)]>>,
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
        let gate = gate_of(&sides);
        let uuid_anchor = anchors.iter().any(|(d, _)| d.shared_uuid);
        let occurrences = anchors
            .iter()
            .map(|(_, s)| s.as_ref().map(|_| Default::default()))
            .collect();
        Scanner {
            anchors,
            set,
            gate,
            uuid_anchor,
            found: Found {
                occurrences,
                uuids: UuidFirsts::default(),
            },
            absorbed: Vec::new(),
            recent: Default::default(),
        }
    }

    /// Take in the `at.index`-th event of source `at.source` (each source's events in order).
    pub fn event(&mut self, at: At, ev: &Event) {
        if self.uuid_anchor {
            for u in &ev.uuids {
                self.found.uuids.note(at, u);
            }
        }
        if self.gate.as_ref().is_some_and(|g| !g.is_match(&ev.message)) {
            return;
        }
        let matched = match self.recent.get(&ev.message) {
            Some(m) => std::sync::Arc::clone(m),
            None => {
                let m: std::sync::Arc<[(usize, Key)]> = self.sides_matched(&ev.message).into();
                self.recent.put(&ev.message, std::sync::Arc::clone(&m));
                m
            }
        };
        let lists = self.found.occurrences.iter_mut().flatten();
        let mut sides = lists.flat_map(|(firsts, seconds)| [firsts, seconds]);
        let mut next = 0;
        for (bit, key) in matched.iter() {
            // `matched` is in bit order: walk the sides forward to this one.
            let Some(into) = sides.nth(bit - next) else {
                break;
            };
            next = bit + 1;
            into.push(at.source, key, at.index);
        }
    }

    /// Which pattern anchor sides `text` matches (bit `2k + side` over the pattern anchors, in
    /// order), with the key each gives.
    fn sides_matched(&self, text: &str) -> Vec<(usize, Key)> {
        let hits = self.set.as_ref().map(|set| set.matches(text));
        let mut out = Vec::new();
        let mut bit = 0;
        for (def, sides) in &self.anchors {
            let Some(res) = sides else {
                continue;
            };
            for (side, re) in res.iter().enumerate() {
                let may = match &hits {
                    Some(h) => h.matched(bit + side),
                    None => re.is_match(text),
                };
                if let Some(k) = may.then(|| key_of(def, re, text)).flatten() {
                    out.push((bit + side, k));
                }
            }
            bit += 2;
        }
        out
    }

    /// Add what another scanner found, its sources numbered from `base` (after every source this
    /// one has seen). Its finds are kept as they are, beside this one's.
    pub fn absorb(&mut self, other: Scanner, base: SourceId) {
        let Scanner {
            found, absorbed, ..
        } = other;
        self.absorbed.push((base, found));
        self.absorbed
            .extend(absorbed.into_iter().map(|(b, f)| (base + b, f)));
    }

    /// What was found.
    pub fn finish(self) -> Scanned {
        let mut parts = vec![(0, self.found)];
        parts.extend(self.absorbed);
        // Sources in order (a stable sort: an empty scanner that absorbed the others comes first).
        parts.sort_by_key(|(base, _)| *base);
        for (_, f) in &mut parts {
            f.uuids.settle();
            for (a, b) in f.occurrences.iter_mut().flatten() {
                a.sort();
                b.sort();
            }
        }
        Scanned { parts }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pair is 24 bytes, gives back the places it was made of from either side, and is not made
    /// past what it numbers.
    #[test]
    fn a_pair_is_small_and_gives_back_its_places() {
        assert_eq!(std::mem::size_of::<Pair>(), 24);
        let (a, b) = (
            At {
                source: 3,
                index: 1 << 40,
            },
            At {
                source: 0,
                index: 7,
            },
        );
        let p = Pair::new(2, a, b, Relation::Before).unwrap();
        assert_eq!((p.first(), p.second(), p.def), (a, b, 2));
        assert_eq!(p.seen_from(3), Some((1 << 40, b, Side::Before)));
        assert_eq!(p.seen_from(0), Some((7, a, Side::After)));
        assert_eq!(p.seen_from(1), None);
        assert!(p.touches(0) && !p.touches(2));
        let far = At {
            source: 70_000,
            index: 1,
        };
        assert!(Pair::new(0, far, b, Relation::Same).is_none());
        assert!(Pair::new(70_000, a, b, Relation::Same).is_none());
    }
    use crate::defs::Registry;

    /// Every side of the built-in pattern anchors holds a literal: the scanner runs its regexes
    /// only on the lines that hold one, and a line without any matches no side.
    #[test]
    fn the_built_in_anchors_are_gated_by_their_literals() {
        let reg = Registry::load(None).unwrap();
        let scanner = Scanner::new(&reg.anchors);
        let gate = scanner.gate.as_ref().expect("every side has literals");
        assert!(!gate.is_match("Session started for cid=1234567890123456789"));
        assert!(gate.is_match("Panic occurred: panicked at src/lib.rs:1:1"));
    }

    proptest::proptest! {
        /// Canonical UUIDs and near-misses order by key as by text.
        #[test]
        fn uuid_keys_order_as_texts(
            a in "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            b in "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            c in "[0-9a-fA-F-]{34,38}",
        ) {
            let (ka, kb, kc) = (Key::of(&a), Key::of(&b), Key::of(&c));
            proptest::prop_assert_eq!(ka.cmp(&kb), a.cmp(&b));
            proptest::prop_assert_eq!(ka.cmp(&kc), a.as_str().cmp(c.as_str()));
            proptest::prop_assert_eq!(kc.text(), c.as_str());
        }
    }

    /// Scanners that each read one input and are absorbed one after another give the pairs one scan
    /// of every source gives, on the seed and a multi-process fault (inputs kept apart, not joined).
    #[test]
    fn absorbed_scanners_pair_as_one_scan() {
        let reg = Registry::load(None).unwrap();
        let runs = [crate::fixtures::SEED, crate::fixtures::MULTI_PEER_KILLED];
        // Doubled: every record followed by a copy, which the scanner's memo of recent messages
        // answers.
        for (run, doubled) in runs.into_iter().flat_map(|r| [(r, false), (r, true)]) {
            let inputs: Vec<Vec<Vec<Event>>> = run
                .iter()
                .map(|(label, text)| {
                    let p = crate::pipeline::parse_str(&reg, label, text).unwrap();
                    let mut evs: Vec<Vec<Event>> = p.sources.into_iter().map(|(_, e)| e).collect();
                    for e in evs.iter_mut().flatten() {
                        reg.entities.apply(e);
                    }
                    if doubled {
                        for list in &mut evs {
                            *list = list.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
                        }
                    }
                    evs
                })
                .collect();
            let all: Vec<Vec<Event>> = inputs.iter().flatten().cloned().collect();
            let want = find_pairs(&all, &reg.anchors);
            let mut main = Scanner::new(&reg.anchors);
            let mut base = 0;
            for input in &inputs {
                let mut one = Scanner::new(&reg.anchors);
                for (s, evs) in input.iter().enumerate() {
                    for (i, ev) in evs.iter().enumerate() {
                        one.event(
                            At {
                                source: s,
                                index: i,
                            },
                            ev,
                        );
                    }
                }
                main.absorb(one, base);
                base += input.len();
            }
            let got = pairs_from(&ordered(&reg.anchors), main.finish(), all.len());
            assert!(!want.is_empty());
            assert_eq!(format!("{got:?}"), format!("{want:?}"));
        }
    }

    /// A UUID key gives back its text, is compact exactly when the text is canonical, and keys order
    /// as their texts do, canonical or not.
    #[test]
    fn uuid_keys_keep_their_text_and_its_order() {
        let texts = [
            "00000000-0000-0000-0000-000000000000",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "0a1b2c3d-4e5f-6789-abcd-ef012345678",
            "0a1b2c3d-4e5f-6789-abcd-ef01234567890",
            "0A1B2C3D-4E5F-6789-ABCD-EF0123456789",
            "0a1b2c3d-4e5f-6789-abcd-ef012345678g",
            "0a1b2c3d04e5f-6789-abcd-ef0123456789",
            "9a1b2c3d-4e5f-6789-abcd-ef0123456789",
            "a0000000-0000-0000-0000-000000000000",
            "-",
            "",
            "zz",
            "é",
        ];
        let keys: Vec<Key> = texts.iter().map(|t| Key::of(t)).collect();
        for (t, k) in texts.iter().zip(&keys) {
            assert_eq!(k.text(), *t);
            let canonical = t.len() == 36
                && t.chars().enumerate().all(|(i, c)| {
                    if DASHES.contains(&i) {
                        c == '-'
                    } else {
                        c.is_ascii_digit() || ('a'..='f').contains(&c)
                    }
                });
            assert_eq!(matches!(k, Key::Canon(_)), canonical, "{t}");
        }
        for (ta, a) in texts.iter().zip(&keys) {
            for (tb, b) in texts.iter().zip(&keys) {
                assert_eq!(a.cmp(b), ta.cmp(tb), "{ta} against {tb}");
            }
        }
    }

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

    proptest::proptest! {
        /// Sorted occurrences give, per source and key in order, the indices a map of lists
        /// gives, and each key's indices in a source looked up alone.
        #[test]
        fn occurrences_give_what_a_map_of_lists_gives(
            pushes in proptest::collection::vec((0usize..4, 0usize..6, 0usize..100_000), 0..400),
        ) {
            // Canonical UUIDs (some sorting among texts, some after) and texts.
            let key = |k: usize| match k % 3 {
                0 => Key::of(&format!("{k:08x}-0000-4000-8000-000000000000")),
                1 => Key::of(&format!("{k}")),
                _ => Key::of(&format!("k{k}")),
            };
            let mut occ = Occurrences::default();
            let mut want: BTreeMap<(SourceId, Key), Vec<usize>> = BTreeMap::new();
            let mut next = [0usize; 4];
            for (s, k, step) in pushes {
                // Each source's events come in order.
                next[s] += step + 1;
                occ.push(s, &key(k), next[s]);
                want.entry((s, key(k))).or_default().push(next[s]);
            }
            occ.sort();
            let got: Vec<(SourceId, Key, Vec<usize>)> = occ
                .runs()
                .map(|(s, k, seg)| (s, k.owned(), seg.indices().collect()))
                .collect();
            let expect: Vec<(SourceId, Key, Vec<usize>)> =
                want.iter().map(|((s, k), v)| (*s, k.clone(), v.clone())).collect();
            proptest::prop_assert_eq!(&got, &expect);
            for s in 0..5 {
                for k in 0..7 {
                    let k = key(k);
                    let k = match &k {
                        Key::Canon(b) => KeyRef::Canon(b),
                        Key::Text(t) => KeyRef::Text(t),
                    };
                    let seg = occ.get(s, k);
                    let found: Vec<usize> = seg.indices().collect();
                    let expect = want.get(&(s, k.owned())).cloned().unwrap_or_default();
                    proptest::prop_assert_eq!(seg.len(), expect.len());
                    proptest::prop_assert_eq!(found, expect);
                }
            }
        }
    }

    /// A key met over and over takes one entry and a byte per further occurrence, also when more
    /// keys than the scan remembers come between (each once): those forget it, and its
    /// occurrences after them start a run of their own, in order with the first.
    #[test]
    fn a_key_met_again_and_again_grows_a_run() {
        let hot = Key::of("0badcafe-0000-4000-8000-000000000000");
        let mut occ = Occurrences::default();
        let mut want = Vec::new();
        let mut i = 0;
        for round in 0..3 {
            for _ in 0..10_000 {
                i += 3;
                occ.push(1, &hot, i);
                want.push((1, hot.clone(), i));
            }
            // Between the rounds more distinct keys than it remembers.
            for k in 0..(LATELY_MAX + 10) * (round % 2) {
                i += 1;
                let key = Key::of(&format!("{k:08x}-0000-4000-8000-00000000000{round}"));
                occ.push(1, &key, i);
                want.push((1, key, i));
            }
        }
        occ.sort();
        let (n, entries, steps) = occ.sizes();
        assert_eq!(n, want.len());
        want.sort();
        assert_eq!(occ.all(), want);
        let key = KeyRef::Canon(match &hot {
            Key::Canon(b) => b,
            Key::Text(_) => unreachable!("a canonical UUID"),
        });
        assert_eq!(occ.get(1, key).len(), 30_000);
        // Two runs (the distinct keys came between the first and second rounds, and made the
        // scan forget the hot key), each after ENTRIES_BEFORE_RUN entries of its own.
        let hot_entries = entries - (LATELY_MAX + 10);
        assert_eq!(hot_entries, 2 * (usize::from(ENTRIES_BEFORE_RUN) + 1));
        assert_eq!(steps, 30_000 - hot_entries);
    }

    proptest::proptest! {
        /// The first events of each UUID per source, in key order, as a tree of keys to lists
        /// noted them, for canonical UUIDs and other keys named in one source or several.
        #[test]
        fn uuid_firsts_give_what_a_tree_of_lists_gives(
            notes in proptest::collection::vec((0usize..3, 0usize..8, 0usize..50), 0..120),
        ) {
            let text = |k: usize| match k % 3 {
                0 | 1 => format!("{k:08x}-0000-4000-8000-000000000000"),
                _ => format!("uuid-{k}"),
            };
            let mut got = UuidFirsts::default();
            let mut want: BTreeMap<Key, Vec<At>> = BTreeMap::new();
            let mut next = [0usize; 3];
            for (s, k, step) in notes {
                next[s] += step;
                let at = At { source: s, index: next[s] };
                got.note(at, &text(k));
                let firsts = want.entry(Key::of(&text(k))).or_default();
                if !firsts.iter().any(|a| a.source == s) {
                    firsts.push(at);
                }
            }
            got.settle();
            let got: Vec<(Key, Vec<At>)> = got.iter().collect();
            let want: Vec<(Key, Vec<At>)> = want.into_iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
