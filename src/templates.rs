//! Templates: what kind of line an event is, independent of its values.
//!
//! A template is the event's level, its call site's file (without the line number, so that a profile
//! learned on one build still matches the next) and its message with the values masked: CIDs, numbers,
//! UUIDs, hex ids, paths, URLs and quoted values become placeholders, and what sits inside `(...)` and
//! `{...}` (debug-printed payloads) is folded. The key is a pure function of the event, so the same
//! line shape gets the same template id in every run; that is what lets a profile learned from green
//! runs be compared with a red one. (Online Drain miners such as `logdrain` were considered: their
//! cluster ids and templates depend on the order and history of the lines fed to them, so two runs do
//! not key the same clusters.)
// Indexing cannot panic here: template ids index the list they were assigned from.
#![allow(clippy::indexing_slicing)]

use crate::hash::Map;
use crate::model::Timeline;
use crate::model::{Event, Level, SourceId};
use regex::Regex;
use std::sync::{Arc, OnceLock};

/// Most tokens kept of a masked message: the head of a message says what it is.
const MAX_TOKENS: usize = 14;
/// Most bytes of a message looked at.
const MAX_SCAN: usize = 400;

/// One template and where it occurs in a timeline.
#[derive(Debug, Clone)]
pub struct Template {
    /// Short stable id (`t` + 8 hex digits of the key's hash).
    pub id: String,
    /// The full key: `level|site|masked message`.
    pub key: String,
    /// Level of its events.
    pub level: Level,
    /// Call site file (no line), when the format gives one.
    pub site: Option<String>,
    /// Call site with the line of its first occurrence, for display.
    pub site_line: Option<String>,
    /// The masked message.
    pub text: String,
    /// Events of this template.
    pub count: usize,
    /// Index of the first event in `Timeline::events`.
    pub first: usize,
    /// Index of the last event.
    pub last: usize,
    /// Events per source, in source order.
    pub per_source: Vec<(SourceId, usize)>,
}

impl Template {
    /// A template of this key first met at event `i` (counted by [`Template::count_at`]).
    fn first_at(key: &str, site_line: Option<String>, i: usize) -> Template {
        let (level, site, text) = split_key(key);
        Template {
            id: id_of(key),
            key: key.to_string(),
            level,
            site,
            site_line,
            text,
            count: 0,
            first: i,
            last: i,
            per_source: Vec::new(),
        }
    }

    /// Count event `i`, of source `source`, as one of this template's.
    fn count_at(&mut self, i: usize, source: SourceId) {
        self.count += 1;
        self.last = i;
        match self.per_source.iter_mut().find(|(s, _)| *s == source) {
            Some((_, n)) => *n += 1,
            None => self.per_source.push((source, 1)),
        }
    }
}

/// A template number per event: two bytes each while there are at most 65,536 templates (a run has a
/// few thousand), four past that. One per event of the whole input lives from pass 1 to the rules,
/// unless only the held events' are kept ([`Ids::keep_only`]).
#[derive(Debug, Clone)]
pub enum Ids {
    /// Every number fits 16 bits.
    Narrow(Vec<u16>),
    /// Some number does not.
    Wide(Vec<u32>),
    /// Only some events have a number (those a two-pass `check` holds): the rest were read once
    /// and are not asked about again.
    Sparse(Box<SparseIds>),
}

/// The numbers of some events, by their index: a few per cent of a large input's events.
#[derive(Debug, Clone, Default)]
pub struct SparseIds {
    /// Indices of the events with a number, ascending.
    at: Vec<usize>,
    ids: Vec<u32>,
    /// Events in all, with a number or not.
    len: usize,
}

impl Default for Ids {
    fn default() -> Ids {
        Ids::Narrow(Vec::new())
    }
}

impl PartialEq for Ids {
    fn eq(&self, other: &Ids) -> bool {
        self.len() == other.len() && self.indexed().eq(other.indexed())
    }
}

impl Ids {
    /// Room for `n` numbers.
    pub fn with_capacity(n: usize) -> Ids {
        Ids::Narrow(Vec::with_capacity(n))
    }

    /// Add the next event's number (all of them widened the first time one needs it).
    pub fn push(&mut self, t: u32) {
        match self {
            Ids::Narrow(v) => match u16::try_from(t) {
                Ok(x) => v.push(x),
                Err(_) => {
                    let mut w: Vec<u32> = Vec::with_capacity(v.capacity().max(v.len() + 1));
                    w.extend(v.iter().map(|&x| u32::from(x)));
                    w.push(t);
                    *self = Ids::Wide(w);
                }
            },
            Ids::Wide(v) => v.push(t),
            Ids::Sparse(s) => {
                s.at.push(s.len);
                s.ids.push(t);
                s.len += 1;
            }
        }
    }

    /// The number of event `i`.
    pub fn get(&self, i: usize) -> Option<u32> {
        match self {
            Ids::Narrow(v) => v.get(i).map(|&x| u32::from(x)),
            Ids::Wide(v) => v.get(i).copied(),
            Ids::Sparse(s) => {
                s.at.binary_search(&i)
                    .ok()
                    .and_then(|k| s.ids.get(k))
                    .copied()
            }
        }
    }

    /// How many events there are (with a number or, once sparse, without).
    pub fn len(&self) -> usize {
        match self {
            Ids::Narrow(v) => v.len(),
            Ids::Wide(v) => v.len(),
            Ids::Sparse(s) => s.len,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every event that has a number, with its index, in order.
    pub fn indexed(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        let (narrow, wide, sparse) = match self {
            Ids::Narrow(v) => (
                Some(v.iter().map(|&x| u32::from(x)).enumerate()),
                None,
                None,
            ),
            Ids::Wide(v) => (None, Some(v.iter().copied().enumerate()), None),
            Ids::Sparse(s) => (
                None,
                None,
                Some(s.at.iter().copied().zip(s.ids.iter().copied())),
            ),
        };
        narrow
            .into_iter()
            .flatten()
            .chain(wide.into_iter().flatten())
            .chain(sparse.into_iter().flatten())
    }

    /// Keep only the numbers of the events `held` (ascending indices): a two-pass `check` asks for
    /// no other once pass 2 has read, and the list of every event's (2 bytes each, 34 MB at 4 GB)
    /// would otherwise live on beside the held timeline at the peak of the run.
    pub fn keep_only(&mut self, held: &[usize]) {
        let mut s = SparseIds {
            at: Vec::with_capacity(held.len()),
            ids: Vec::with_capacity(held.len()),
            len: self.len(),
        };
        let mut last = None;
        for &i in held {
            if last.is_some_and(|l| l >= i) {
                continue;
            }
            last = Some(i);
            if let Some(t) = self.get(i) {
                s.at.push(i);
                s.ids.push(t);
            }
        }
        *self = Ids::Sparse(Box::new(s));
    }

    /// Give back the room not used.
    pub fn shrink_to_fit(&mut self) {
        match self {
            Ids::Narrow(v) => v.shrink_to_fit(),
            Ids::Wide(v) => v.shrink_to_fit(),
            Ids::Sparse(s) => {
                s.at.shrink_to_fit();
                s.ids.shrink_to_fit();
            }
        }
    }
}

/// The templates of a timeline: one id per event and the list of templates.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    /// For each event, the index of its template in `list`.
    pub of_event: Ids,
    /// Templates in order of first occurrence.
    pub list: Vec<Template>,
}

impl Templates {
    /// Compute the template of every event of a timeline. Masking is most of the cost and each
    /// event's is independent: it runs on every core, a block of events at a time (so the keys held
    /// at once are bounded by the block, not the timeline); numbering stays in timeline order.
    pub fn build(tl: &Timeline) -> Templates {
        let mut b = Builder::new(tl.events.len());
        for chunk in tl.events.chunks(b.block()) {
            b.add(chunk);
        }
        b.finish()
    }

    /// The template of an event.
    pub fn of(&self, event: usize) -> Option<&Template> {
        self.of_event
            .get(event)
            .and_then(|t| self.list.get(t as usize))
    }

    /// A template by id.
    pub fn by_id(&self, id: &str) -> Option<&Template> {
        self.list.iter().find(|t| t.id == id)
    }
}

/// Templates built a block of events at a time, in timeline order: [`Templates::build`] over a held
/// timeline, or a two-pass `check` over events it sees once (`crate::lean`).
pub struct Builder {
    index: Map<String, u32>,
    /// A source names a few hundred call sites over millions of lines: mask each once.
    sites: Map<Arc<str>, String>,
    out: Templates,
    workers: usize,
}

impl Builder {
    /// A builder expecting about `events` events.
    pub fn new(events: usize) -> Builder {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, MAX_WORKERS);
        Builder {
            index: Map::default(),
            sites: Map::default(),
            out: Templates {
                of_event: Ids::with_capacity(events),
                list: Vec::new(),
            },
            workers,
        }
    }

    /// Events worth giving [`Builder::add`] at once: a block for every worker.
    pub fn block(&self) -> usize {
        BLOCK * self.workers
    }

    /// Add the next events (the first has the index of the events added so far); their templates
    /// are then `of_event` of the templates so far.
    pub fn add(&mut self, chunk: &[Event]) {
        for l in chunk.iter().filter_map(|ev| ev.location.as_ref()) {
            if self.sites.len() < MAX_SITES && !self.sites.contains_key(l) {
                self.sites.insert(Arc::clone(l), site_file(l));
            }
        }
        let out = &mut self.out;
        for (ev, key) in chunk.iter().zip(keys_of(chunk, &self.sites, self.workers)) {
            let i = out.of_event.len();
            let t = match self.index.get(&key) {
                Some(&t) => t,
                None => {
                    let t = out.list.len() as u32;
                    let site_line = ev.location.as_deref().map(short_site_line);
                    out.list.push(Template::first_at(&key, site_line, i));
                    self.index.insert(key, t);
                    t
                }
            };
            out.of_event.push(t);
            if let Some(tp) = out.list.get_mut(t as usize) {
                tp.count_at(i, ev.source);
            }
        }
    }

    /// The templates so far.
    pub fn templates(&self) -> &Templates {
        &self.out
    }

    /// The templates of every event added.
    pub fn finish(self) -> Templates {
        self.out
    }
}

/// Template keys masked on one thread, with its own copy of the regexes, a cache of call sites and
/// a memo of masked messages.
pub struct Keyer {
    m: Masks,
    sites: Map<Arc<str>, String>,
    /// Masked text of messages seen lately: logs repeat lines word for word (a poll, a stress run's
    /// sends), and masking is most of a key's cost. Started again when full.
    masked: crate::memo::Recent<Box<str>>,
}

impl Default for Keyer {
    fn default() -> Keyer {
        Keyer {
            m: masks().clone(),
            sites: Map::default(),
            masked: crate::memo::Recent::default(),
        }
    }
}

impl Keyer {
    /// The template key of an event (as [`key_of`]).
    pub fn key(&mut self, ev: &Event) -> String {
        let mut key = String::new();
        self.key_into(ev, &mut key);
        key
    }

    /// [`Keyer::key`], written into `key` (one buffer for every event: most keys are known).
    pub fn key_into(&mut self, ev: &Event, key: &mut String) {
        key.clear();
        let level = ev.level.unwrap_or(Level::Info);
        let site = match ev.location.as_ref() {
            None => "",
            Some(l) => {
                if !self.sites.contains_key(l) && self.sites.len() >= MAX_SITES {
                    // A site past the cache's bound: keyed without being remembered.
                    push_key(key, level, &site_file(l), &mask_with(&self.m, &ev.message));
                    return;
                }
                self.sites
                    .entry(Arc::clone(l))
                    .or_insert_with(|| site_file(l))
                    .as_str()
            }
        };
        let msg = ev.message.as_str();
        if let Some(text) = self.masked.get(msg) {
            push_key(key, level, site, text);
            return;
        }
        let text = mask_with(&self.m, msg);
        push_key(key, level, site, &text);
        self.masked.put(msg, text.into_boxed_str());
    }
}

/// The templates of one stream's events in the stream's own order, before the streams are merged
/// into a timeline (pass 1 of a two-pass `check`, which reads each input on a thread of its own):
/// each event's template in the stream, and each template's key and first call site.
#[derive(Debug, Default)]
pub struct StreamKeys {
    index: Map<String, u32>,
    /// Per template of the stream: its key, and the call site with line of its first event.
    keys: Vec<(String, Option<String>)>,
    /// Per event of the stream, its template in `keys`.
    of_event: Ids,
}

impl StreamKeys {
    /// Add the stream's next event, of template key `key`: its template in the stream, and whether
    /// that template is new.
    pub fn add(&mut self, key: &str, ev: &Event) -> (u32, bool) {
        if let Some(&t) = self.index.get(key) {
            self.of_event.push(t);
            return (t, false);
        }
        let t = self.keys.len() as u32;
        self.keys
            .push((key.to_string(), ev.location.as_deref().map(short_site_line)));
        self.index.insert(key.to_string(), t);
        self.of_event.push(t);
        (t, true)
    }

    /// The level and masked message of a template of the stream.
    pub fn level_text(&self, t: u32) -> Option<(Level, String)> {
        let (key, _) = self.keys.get(t as usize)?;
        let (level, _, text) = split_key(key);
        Some((level, text))
    }

    /// Give back what the lists reserved while growing (they live until the streams are merged).
    pub fn shrink(&mut self) {
        self.of_event.shrink_to_fit();
        self.index = Default::default();
    }
}

/// The templates of a timeline whose streams were keyed apart ([`StreamKeys`]): `order` gives each
/// event of the timeline, in timeline order, as (stream, index in the stream). The same templates,
/// ids and counts as [`Templates::build`] over the merged timeline, since keys are pure functions of
/// events and each stream keeps its order in the timeline.
pub fn merge_streams(
    streams: &[StreamKeys],
    order: impl Iterator<Item = (usize, usize)>,
    events: usize,
) -> Templates {
    let mut out = Templates {
        of_event: Ids::with_capacity(events),
        list: Vec::new(),
    };
    let mut index: Map<&str, u32> = Map::default();
    // Per stream, its templates' numbers in the merged list once met.
    let mut global: Vec<Vec<Option<u32>>> =
        streams.iter().map(|s| vec![None; s.keys.len()]).collect();
    for (i, (s, k)) in order.enumerate() {
        let Some(stream) = streams.get(s) else {
            continue;
        };
        let Some(local) = stream.of_event.get(k) else {
            continue;
        };
        let Some(slot) = global.get_mut(s).and_then(|g| g.get_mut(local as usize)) else {
            continue;
        };
        let t = match *slot {
            Some(t) => t,
            None => {
                let (key, site_line) = &stream.keys[local as usize];
                let t = match index.get(key.as_str()) {
                    Some(&t) => t,
                    None => {
                        let t = out.list.len() as u32;
                        out.list.push(Template::first_at(key, site_line.clone(), i));
                        index.insert(key, t);
                        t
                    }
                };
                *slot = Some(t);
                t
            }
        };
        out.of_event.push(t);
        out.list[t as usize].count_at(i, s);
    }
    out
}

/// Events per worker in one block of [`Templates::build`].
const BLOCK: usize = 16 * 1024;

/// Most threads masking at once.
const MAX_WORKERS: usize = 8;

/// Fewest events worth a second thread.
const PARALLEL_MIN: usize = 4 * 1024;

/// The template keys of `evs`, in order, split over `workers` threads when there are enough. Each
/// thread masks with its own copy of the regexes: one shared across threads goes through a locked
/// cache pool on every match.
fn keys_of(evs: &[Event], sites: &Map<Arc<str>, String>, workers: usize) -> Vec<String> {
    let one = |m: &Masks, evs: &[Event]| -> Vec<String> {
        evs.iter()
            .map(|ev| match ev.location.as_deref() {
                Some(l) => match sites.get(l) {
                    Some(site) => key_with(m, ev, site),
                    None => key_with(m, ev, &site_file(l)),
                },
                None => key_with(m, ev, ""),
            })
            .collect()
    };
    if workers < 2 || evs.len() < PARALLEL_MIN {
        return one(masks(), evs);
    }
    let per = evs.len().div_ceil(workers);
    let parts: Vec<Option<Vec<String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = evs
            .chunks(per)
            .map(|c| {
                let m = masks().clone();
                s.spawn(move || one(&m, c))
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    let mut keys = Vec::with_capacity(evs.len());
    for (part, c) in parts.into_iter().zip(evs.chunks(per)) {
        // A worker that could not finish (it cannot panic on data, but a thread can fail to run):
        // its share is masked here.
        keys.extend(part.unwrap_or_else(|| one(masks(), c)));
    }
    keys
}

/// Call sites whose masked form is cached while building (input where every line names a new one
/// would otherwise grow the cache without bound).
const MAX_SITES: usize = 16_384;

/// The template key of one event.
pub fn key_of(ev: &Event) -> String {
    let site = ev.location.as_deref().map(site_file).unwrap_or_default();
    key_with_site(ev, &site)
}

/// The template key of one event whose call-site file (`site_file` of its location) is known.
fn key_with_site(ev: &Event, site: &str) -> String {
    key_with(masks(), ev, site)
}

/// [`key_with_site`] with these regexes.
fn key_with(m: &Masks, ev: &Event, site: &str) -> String {
    let mut key = String::new();
    let level = ev.level.unwrap_or(Level::Info);
    push_key(&mut key, level, site, &mask_with(m, &ev.message));
    key
}

/// Write a template key: `level|site|masked text` (what [`split_key`] reads back).
fn push_key(key: &mut String, level: Level, site: &str, masked: &str) {
    for part in [level.as_str(), "|", site, "|", masked] {
        key.push_str(part);
    }
}

/// The template id of one event (same as its template's `id`).
pub fn id_of_event(ev: &Event) -> String {
    id_of(&key_of(ev))
}

/// Short id of a key: FNV-1a, so it is the same on every machine and in every run.
pub fn id_of(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("t{:08x}", (h >> 32) as u32 ^ (h as u32))
}

fn split_key(key: &str) -> (Level, Option<String>, String) {
    let mut parts = key.splitn(3, '|');
    let level = parts.next().and_then(Level::parse).unwrap_or(Level::Info);
    let site = parts.next().filter(|s| !s.is_empty()).map(String::from);
    let text = parts.next().unwrap_or_default().to_string();
    (level, site, text)
}

/// A byte test that says whether a mask's regex can match, the regex, and its replacement.
type MaskStep = (fn(&[u8]) -> bool, Regex, &'static str);

#[derive(Clone)]
struct Masks {
    registry: Regex,
    version: Regex,
    url_host: Regex,
    line: Regex,
    /// Mask steps in order: a byte test that must pass before the regex is worth running, the regex,
    /// and what replaces its matches.
    steps: Vec<MaskStep>,
    /// The last step, numbers: see [`mask_numbers`].
    number: Regex,
}

fn masks() -> &'static Masks {
    static M: OnceLock<Masks> = OnceLock::new();
    M.get_or_init(|| {
        let re = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("built-in mask {s}: {e}"));
        Masks {
            registry: re(r"^.*?/(?:registry/src/[^/]+|git/checkouts/[^/]+/[^/]+)/"),
            version: re(r"-\d+\.\d+\.\d+[^/]*/"),
            url_host: re(r"^[a-z][a-z0-9+.-]*://[^/]*/"),
            line: re(r"(:\d+)+$"),
            steps: vec![
                (has_url, re(r#"[a-z][a-z0-9+.-]*://[^\s"'<>)]+"#), "<url>"),
                (|b| b.contains(&b'"'), re(r#""(?:[^"\\]|\\.)*""#), "<q>"),
                (|b| b.contains(&b'`'), re(r"`[^`]*`"), "<q>"),
                (
                    |b| b.contains(&b'-') && has_digit(b),
                    re(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
                    "<uuid>",
                ),
                (|b| b.contains(&b'/'), re(r"(?:[\w.\-~]*/[\w.\-~]+){2,}(?::\d+)*"), "<path>"),
                (
                    |b| b.contains(&b'.') && has_digit(b),
                    re(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
                    "<ip>",
                ),
                (may_hold_hex, re(r"\b(?:0x)?[0-9a-fA-F]*\d[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b"), "<hex>"),
                (may_hold_hex, re(r"\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\d[0-9a-fA-F]*\b"), "<hex>"),
            ],
            number: re(NUMBER),
        }
    })
}

/// A number where it stands alone: not glued to a letter or digit before it. The last mask step;
/// ASCII text takes [`mask_numbers`] instead, which gives the same result without running a
/// capture-group regex (the bounded backtracker) on every number of every line.
const NUMBER: &str = r"(^|[^A-Za-z0-9])[-+]?\d+(?:\.\d+)?";

/// `NUMBER` replaced by `${1}<n>` in ASCII text, by hand: at each place the regex would try, the
/// same leftmost-first choice (start of text, else one character that is not a letter or digit;
/// a sign only when a digit follows; greedy digits; a decimal part only with digits after the dot).
fn mask_numbers(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if !s.is_ascii() {
        return None;
    }
    let digits_at = |j: usize| {
        let mut k = j;
        while b.get(k).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
        k
    };
    // The end of `[-+]?\d+(?:\.\d+)?` at `j`, when it matches there.
    let number_at = |j: usize| -> Option<usize> {
        let mut k = j;
        if matches!(b.get(k), Some(b'-' | b'+')) && b.get(k + 1).is_some_and(u8::is_ascii_digit) {
            k += 1;
        }
        let end = digits_at(k);
        if end == k {
            return None;
        }
        if b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
            return Some(digits_at(end + 1));
        }
        Some(end)
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    if let Some(end) = number_at(0) {
        out.push_str("<n>");
        i = end;
    }
    while let Some(&c) = b.get(i) {
        if !c.is_ascii_alphanumeric() {
            if let Some(end) = number_at(i + 1) {
                out.push(char::from(c));
                out.push_str("<n>");
                i = end;
                continue;
            }
        }
        out.push(char::from(c));
        i += 1;
    }
    Some(out)
}

fn has_digit(b: &[u8]) -> bool {
    b.iter().any(u8::is_ascii_digit)
}

/// Whether a hex mask can match: a run of hex characters holding a digit and a letter `a`-`f` (both
/// hex regexes need one; most lines with numbers have none, and skip two regex scans). Text with
/// other than ASCII is left to the regexes (their `\d` takes other scripts' digits too).
fn may_hold_hex(b: &[u8]) -> bool {
    if !has_digit(b) {
        return false;
    }
    if !b.is_ascii() {
        return true;
    }
    let (mut digit, mut letter) = (false, false);
    for &c in b {
        if c.is_ascii_digit() {
            digit = true;
        } else if c.is_ascii_hexdigit() {
            letter = true;
        } else {
            (digit, letter) = (false, false);
            continue;
        }
        if digit && letter {
            return true;
        }
    }
    false
}

fn has_url(b: &[u8]) -> bool {
    memchr::memmem::find(b, b"://").is_some()
}

/// A call site's file, without registry prefix, crate version or line: stable across builds.
pub fn site_file(loc: &str) -> String {
    let m = masks();
    let s = m.registry.replace(loc, "");
    let s = m.url_host.replace(&s, "");
    let s = m.version.replace_all(&s, "/");
    m.line.replace(&s, "").into_owned()
}

/// A call site for display: the file as in `site_file`, with its line.
fn short_site_line(loc: &str) -> String {
    let m = masks();
    let s = m.registry.replace(loc, "");
    let s = m.url_host.replace(&s, "");
    m.version.replace_all(&s, "/").into_owned()
}

/// Mask the values of a message so that lines of one shape share a template.
pub fn mask(message: &str) -> String {
    mask_with(masks(), message)
}

/// [`mask`] with these regexes.
fn mask_with(m: &Masks, message: &str) -> String {
    let mut end = message.len().min(MAX_SCAN);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut s = message[..end].trim().to_string();
    // Most lines need only a few of the steps: a byte test skips the others without a regex scan.
    for (worth, re, with) in &m.steps {
        if !worth(s.as_bytes()) {
            continue;
        }
        if let std::borrow::Cow::Owned(o) = re.replace_all(&s, *with) {
            s = o;
        }
    }
    if has_digit(s.as_bytes()) {
        s = match mask_numbers(&s) {
            Some(o) => o,
            None => m.number.replace_all(&s, "${1}<n>").into_owned(),
        };
    }
    let s = fold_brackets(&s);
    let mut out = String::with_capacity(s.len());
    for (i, tok) in s.split_whitespace().enumerate() {
        if i == MAX_TOKENS {
            out.push_str(" …");
            break;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(tok);
    }
    out
}

/// Fold what sits inside `(...)` and `{...}`: debug-printed payloads vary, their head says what they are.
/// The text outside brackets is copied a run at a time (every event's message passes here); brackets
/// are ASCII, so byte positions are character boundaries.
fn fold_brackets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    // Start of the run of text outside brackets not yet copied.
    let mut from = 0;
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'(' | b'{' => {
                if depth == 0 {
                    out.push_str(s.get(from..i).unwrap_or_default());
                    out.push(char::from(c));
                    out.push('…');
                }
                depth += 1;
            }
            b')' | b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(char::from(c));
                    from = i + 1;
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        out.push_str(s.get(from..).unwrap_or_default());
    } else {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The character-at-a-time definition of [`fold_brackets`].
    fn fold_reference(s: &str) -> String {
        let mut out = String::new();
        let mut depth = 0usize;
        for c in s.chars() {
            match c {
                '(' | '{' => {
                    if depth == 0 {
                        out.push(c);
                        out.push('…');
                    }
                    depth += 1;
                }
                ')' | '}' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        out.push(c);
                    }
                }
                _ if depth == 0 => out.push(c),
                _ => {}
            }
        }
        if depth > 0 {
            out.push('…');
        }
        out
    }

    #[test]
    fn brackets_fold_to_their_head() {
        assert_eq!(
            fold_brackets("PeerEvent(PeerEvent { cid: 1 }) sent {x} a) (open"),
            "PeerEvent(…) sent {…} a) (……"
        );
        assert_eq!(fold_brackets("é(ü)é"), "é(…)é");
        for s in ["PeerEvent(PeerEvent { cid: 1 }) sent {x} a) (open", "é(ü)é"] {
            assert_eq!(fold_brackets(s), fold_reference(s));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// The run-at-a-time fold equals the character-at-a-time definition, nested, unbalanced and
        /// around multi-byte characters.
        #[test]
        fn folding_runs_equals_the_definition(s in "[(){}a é€]{0,40}") {
            prop_assert_eq!(fold_brackets(&s), fold_reference(&s));
        }

        /// The hand-written number mask equals the regex on any ASCII text, built from the
        /// characters that decide it (digits, signs, dots, letters, separators).
        #[test]
        fn number_scan_equals_the_regex(s in "[0-9+.a-fA-Z_ :,=<>()-]{0,40}") {
            let want = masks().number.replace_all(&s, "${1}<n>").into_owned();
            prop_assert_eq!(mask_numbers(&s), Some(want));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// Where the hex gate says no and the digit test it replaced said yes, neither hex regex
        /// matches: the gate only spares scans, every template stays as it was.
        #[test]
        fn the_hex_gate_never_hides_a_hex_match(s in "[0-9a-fA-Fg-z_ .:=/x٣é-]{0,40}") {
            if has_digit(s.as_bytes()) && !may_hold_hex(s.as_bytes()) {
                for (_, re, _) in masks().steps.iter().filter(|(_, _, w)| *w == "<hex>") {
                    prop_assert!(!re.is_match(&s), "{:?} matches {}", s, re.as_str());
                }
            }
        }
    }

    #[test]
    fn number_scan_cases() {
        for s in [
            "", "5", "-5", "+5x", "--5", "a-5", "1.2.3", "12a3", "x 1.", "x .5", "(-1,+2)", "v1.2",
            "-", "1-2", "a+-3",
        ] {
            let want = masks().number.replace_all(s, "${1}<n>").into_owned();
            assert_eq!(mask_numbers(s), Some(want), "{s:?}");
        }
        assert_eq!(mask_numbers("é 5"), None, "non-ASCII text takes the regex");
    }

    #[test]
    fn values_are_masked_and_the_shape_kept() {
        assert_eq!(
            mask("[SHUTDOWN TRIGGER] Client 2734615345280554342 shutting down rekey"),
            "[SHUTDOWN TRIGGER] Client <n> shutting down rekey"
        );
        assert_eq!(
            mask("About to connect to server 127.0.0.1:32969 for user peer.a.5e1fcd37"),
            "About to connect to server <ip> for user peer.a.<hex>"
        );
        assert_eq!(
            mask("Unhandled node result: InternalServerError(InternalServerError { ticket_opt: None })"),
            "Unhandled node result: InternalServerError(…)"
        );
        assert_eq!(
            mask("Unhandled node result: ReKeyResult(ReKeyResult { status: Success })"),
            "Unhandled node result: ReKeyResult(…)"
        );
        assert_eq!(
            mask("[P2P-MSG] sink.send() SUCCEEDED for message from 1 to Some(2)"),
            "[P2P-MSG] sink.send(…) SUCCEEDED for message from <n> to Some(…)"
        );
        assert_eq!(
            mask("Request 97d21b6a-c372-47ee-be3f-fd8e4e59cd3e for alice_1767144257 said \"x y\""),
            "Request <uuid> for alice_<n> said <q>"
        );
        assert_eq!(
            mask("error=peer closed connection without sending TLS close_notify: https://docs.rs/x#y"),
            "error=peer closed connection without sending TLS close_notify: <url>"
        );
    }

    #[test]
    fn sites_drop_registry_version_and_line() {
        assert_eq!(
            site_file("/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/citadel_proto-0.13.0/src/proto/session.rs:942"),
            "citadel_proto/src/proto/session.rs"
        );
        assert_eq!(
            site_file("citadel-internal-service/src/kernel/requests/message.rs:37"),
            "citadel-internal-service/src/kernel/requests/message.rs"
        );
        assert_eq!(site_file("http://localhost:5173/src/w.js:1022"), "src/w.js");
        assert_eq!(
            site_file("/usr/local/cargo/git/checkouts/citadel-protocol-5ed557508e8a0da8/7a040b2/citadel_wire/src/standard/nat_identification.rs:509"),
            "citadel_wire/src/standard/nat_identification.rs"
        );
    }

    #[test]
    fn ids_are_stable_and_differ_by_shape() {
        let a = id_of("error|x.rs|connection not found");
        assert_eq!(a, id_of("error|x.rs|connection not found"));
        assert_ne!(a, id_of("info|x.rs|connection not found"));
        assert_eq!(a.len(), 9);
    }

    /// Numbers stay two bytes until one needs more, then every number is kept and widened; lists
    /// of the same numbers are equal whatever their width.
    #[test]
    fn template_numbers_widen_when_one_needs_it() {
        let mut ids = Ids::with_capacity(4);
        let want: Vec<u32> = (0..70_000u32).map(|i| (i * 7919) % 70_001).collect();
        let mut narrow = Ids::default();
        for (k, &t) in want.iter().enumerate() {
            ids.push(t);
            if t <= u32::from(u16::MAX) {
                narrow.push(t);
            }
            assert_eq!(ids.get(k), Some(t));
            assert_eq!(
                matches!(ids, Ids::Wide(_)),
                want[..=k].iter().any(|&x| x > u32::from(u16::MAX))
            );
        }
        assert!(matches!(narrow, Ids::Narrow(_)));
        assert_eq!(ids.indexed().map(|(_, t)| t).collect::<Vec<_>>(), want);
        assert_eq!(ids.len(), want.len());
        assert_eq!(ids.get(want.len()), None);
        let mut wide = Ids::Wide(Vec::new());
        for (_, t) in narrow.indexed() {
            wide.push(t);
        }
        assert_eq!(wide, narrow);
        assert_ne!(ids, narrow);
    }

    /// Kept for some events only, the numbers asked for are those of the whole list, the others
    /// are none, the count of events stays, and events added later keep theirs.
    #[test]
    fn numbers_kept_for_held_events_alone_are_the_same() {
        let want: Vec<u32> = (0..10_000u32).map(|i| (i * 31) % 977).collect();
        let mut every = Ids::default();
        want.iter().for_each(|&t| every.push(t));
        let held: Vec<usize> = (0..want.len())
            .filter(|i| i % 7 == 3 || *i == 9_999)
            .collect();
        // Unsorted or repeated entries past the first are ignored, not misplaced.
        let mut asked = held.clone();
        asked.push(5);
        asked.push(9_999);
        let mut sparse = every.clone();
        sparse.keep_only(&asked);
        assert!(matches!(sparse, Ids::Sparse(_)));
        assert_eq!(sparse.len(), want.len());
        for (i, &t) in want.iter().enumerate() {
            let expect = held.binary_search(&i).is_ok().then_some(t);
            assert_eq!(sparse.get(i), expect, "event {i}");
        }
        let got: Vec<(usize, u32)> = sparse.indexed().collect();
        let expect: Vec<(usize, u32)> = held.iter().map(|&i| (i, want[i])).collect();
        assert_eq!(got, expect);
        assert_ne!(sparse, every);
        sparse.push(70_000);
        assert_eq!(sparse.len(), want.len() + 1);
        assert_eq!(sparse.get(want.len()), Some(70_000));
        sparse.shrink_to_fit();
        assert_eq!(sparse.get(3), Some(want[3]));
        assert_eq!(sparse.get(4), None);
    }

    /// A keyer's memo changes no key: each corpus line, met again soon and a round later with
    /// other levels and sites, gets the key computed anew, past the memo's bound too.
    #[test]
    fn a_keyer_gives_the_keys_computed_anew() {
        let reg = crate::defs::Registry::load(None).unwrap();
        let mut lines = crate::parse::record::tests::corpus_lines(&reg, &[]);
        lines.extend(
            (0..2 * crate::memo::ENTRIES).map(|i| format!("request {i} failed after {i}0 ms")),
        );
        lines.push("x".repeat(crate::memo::TEXT + 1) + " 42");
        let mut keyer = Keyer::default();
        let mut n = 0;
        for round in 0..3 {
            for (i, l) in lines.iter().enumerate() {
                for again in [l, &lines[i.saturating_sub(5)]] {
                    let ev = Event {
                        message: again.clone(),
                        level: [None, Some(Level::Error), Some(Level::Warn)][(i + round) % 3],
                        location: ((i + round) % 4 == 0)
                            .then(|| Arc::from(format!("src/f{}.rs:{i}", i % 3))),
                        ..Default::default()
                    };
                    assert_eq!(keyer.key(&ev), key_of(&ev), "{again:?}");
                    assert!(keyer.masked.len() <= crate::memo::ENTRIES);
                    n += 1;
                }
            }
        }
        assert!(n > 6 * crate::memo::ENTRIES, "{n} keys compared");
    }

    #[test]
    fn a_timeline_gets_one_template_per_shape() {
        let text = " INFO citadel: a.rs:1: Session for 1111111111111111111 cleared\n INFO citadel: a.rs:1: Session for 2222222222222222222 cleared\nERROR citadel: a.rs:9: error=connection lost\n";
        let t = Templates::build(&crate::pipeline::timeline_of(&[("svc", text)]).unwrap());
        assert_eq!(t.list.len(), 2);
        assert_eq!(t.list[0].count, 2);
        assert_eq!(t.of(1).map(|x| x.id.clone()), Some(t.list[0].id.clone()));
        assert_eq!(t.list[1].level, Level::Error);
    }

    /// Past one block, keys are computed on several threads: every event still gets the template of
    /// its own key, numbered in order of first occurrence, with the counts a serial pass gives.
    #[test]
    fn a_timeline_of_many_blocks_gets_the_templates_a_serial_pass_gives() {
        let mut text = String::new();
        for i in 0..(BLOCK * 3 + 123) {
            let line = match i % 5 {
                0 => format!(
                    " INFO citadel: a.rs:1: Session for {} cleared\n",
                    1_000_000_000_000_000_000u64 + i as u64
                ),
                1 => format!("ERROR citadel: b.rs:{}: request {i} failed\n", i % 7),
                2 if i % 1000 == 2 => {
                    format!(" WARN citadel: c.rs:3: rare shape number {}\n", i / 1000)
                }
                _ => format!(" INFO citadel: d.rs:4: tick {i}\n"),
            };
            text.push_str(&line);
        }
        let tl = crate::pipeline::timeline_of(&[("svc", &text)]).unwrap();
        assert!(tl.events.len() > BLOCK * 2);
        let t = Templates::build(&tl);
        let mut firsts: Vec<String> = Vec::new();
        let mut counts: Map<String, usize> = Map::default();
        for (i, ev) in tl.events.iter().enumerate() {
            let key = key_of(ev);
            assert_eq!(
                t.of(i).map(|x| x.key.as_str()),
                Some(key.as_str()),
                "event {i}"
            );
            if !firsts.contains(&key) {
                firsts.push(key.clone());
            }
            *counts.entry(key).or_default() += 1;
        }
        let keys: Vec<&str> = t.list.iter().map(|x| x.key.as_str()).collect();
        assert_eq!(keys, firsts.iter().map(String::as_str).collect::<Vec<_>>());
        for x in &t.list {
            assert_eq!(Some(&x.count), counts.get(&x.key), "{}", x.key);
        }
    }
}
