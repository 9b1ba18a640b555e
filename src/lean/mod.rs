//! The timeline `diag check` needs, read in two passes: a sparse timeline that holds only the events
//! some rule can read, each at its index in the whole timeline.
//!
//! Pass 1 ([`stream::plan_marked`]) reads every event for placement and, on a thread of
//! its own per input ([`Marker`]), keys its template (templates count every event; they are
//! numbered in timeline order once the sources are placed) and decides from the event alone what a
//! rule can read of it, noting the lines of those records. Pass 2 ([`fill`]:
//! [`stream::replay_only`]) reads only those lines again, passing every other line over unread,
//! and hands the records on in timeline order. What a rule can read of an event:
//! - a match of one of its patterns: a literal of the pattern found and its regex matching
//!   ([`Mentions`]), held whole;
//! - a warning or an error (severity by phase tests whether a later one is benign), or a template a
//!   generic rule watches (its level, or an INFO template whose text names a failure): held whole;
//! - the last events of each source (`process-vanished` ends its evidence with a source's last
//!   line): held whole;
//! - a match of a pattern without literals (a CID shape): held with only the part of its message
//!   the pattern matches; when the pattern is only an `absence` rule's follow-up, only the first
//!   such match of a source after each trigger of its rule (see [`Need::Part`]), which is settled
//!   in timeline order between the passes ([`settle_follow_ups`]).
//!
//! Absence, accounting, count, sequence and match rules (those without echoes) are judged online
//! ([`online`]): pass 2 feeds them every record it reads, in timeline order, and they keep only
//! what a later record can still change (open trigger groups; per sender and receiver the message
//! ids and the sends' values; open bursts and those waiting for a success; the heads of sequences
//! still claiming consequences; per match group its count and values) and the records their
//! findings show. A record only they read is let go once they have seen it: on a chat those are
//! most of the records rules read (every send, receipt and retry's success, a dead channel's
//! cascade of failures, a timeout repeated), which pass 2 held before; a warning or error among
//! them is held for the generic rules, thin past the first of its template.
//!
//! Of the events not held, rules read only the CIDs (`process-vanished`, accounting and severity by
//! phase ask which CIDs a source names): those are kept per source ([`crate::model::Sparse`]).
//! Every index is the one the held timeline gives, so windows, echo merging and causal links decide
//! as they do there; `tests/differential.rs` holds the two to the same reports byte for byte.

use crate::memo::Recent;
use crate::model::{CidRef, Event, Level, Timeline};
use crate::rules::engine::MAX_EVIDENCE;
use crate::rules::load::{Kind, Rule};
use crate::rules::online;
use crate::rules::prefilter::{Bits, Mentions, Need};
use crate::stream::{self, Note, Packed, PassError, Plan};
use crate::templates::{self, Templates};
use std::collections::VecDeque;

mod thin;
pub use thin::ThinRecords;

/// How many times `--max-events` a stream may have here. A held timeline costs about 0.6 KB per
/// event; this one about 0.2 KB per event read on a service log (a quarter of the events held), but
/// up to the same 0.6 KB on a log whose every line a rule reads.
pub const CAP_FACTOR: f64 = 1.5;

/// Last events of each source kept whole: at least `process-vanished`'s tail.
const TAIL: usize = 16;

/// The judges' time is measured on one record in this many.
const TIMED: u64 = 16;

/// Which events a rule set can read.
#[derive(Clone)]
pub struct Keep {
    /// What any rule can read: pass 1 marks those records for pass 2.
    mentions: Mentions,
    /// What the rules judged on the held timeline can read: pass 2 holds those records. The
    /// others are judged online as pass 2 reads them ([`online`]), without holding them.
    held: Mentions,
    /// The rules judged online.
    online: std::sync::Arc<[Rule]>,
    /// Generic rules' watched levels, and the words that make an INFO template watched.
    generic: Vec<(Vec<Level>, Option<regex::Regex>)>,
    /// Whether some rule's expression reads an event's `key=value` fields.
    reads_fields: bool,
    /// The benign list's regexes, which severity by phase tests every warning and error against;
    /// `None` when one matches an empty message (then no record is held thin: see [`Thinning`]).
    benign: Option<Vec<regex::Regex>>,
}

impl Keep {
    /// The test for these rules; `None` when every event must be held (a pattern matches empty
    /// text, so it could match what was dropped).
    pub fn for_rules(rules: &[&Rule]) -> Option<Keep> {
        let generic = rules
            .iter()
            .filter(|r| matches!(r.kind, Kind::Storm | Kind::Novel))
            .map(|r| (r.levels.clone(), r.info_words.clone()))
            .collect();
        let (online, held): (Vec<&Rule>, Vec<&Rule>) =
            rules.iter().copied().partition(|r| online::judges(r));
        Some(Keep {
            mentions: Mentions::for_rules(rules)?,
            held: Mentions::for_rules(&held)?,
            online: online.into_iter().cloned().collect(),
            generic,
            reads_fields: rules.iter().any(|r| r.reads_fields()),
            benign: benign_regexes(&crate::profile::Profile::builtin().unwrap_or_default()),
        })
    }

    /// Whether a generic rule or severity by phase reads the events of a template of this level
    /// and masked text.
    fn watches(&self, level: Level, text: &str) -> bool {
        matches!(level, Level::Warn | Level::Error)
            || self.generic.iter().any(|(levels, words)| {
                levels.contains(&level)
                    || (level == Level::Info && words.as_ref().is_some_and(|w| w.is_match(text)))
            })
    }
}

/// The benign list's regexes, or `None` when one matches an empty message.
fn benign_regexes(profile: &crate::profile::Profile) -> Option<Vec<regex::Regex>> {
    let all: Vec<regex::Regex> = profile.benign.iter().map(|b| b.regex.clone()).collect();
    (!all.iter().any(|r| r.is_match(""))).then_some(all)
}

/// Which held records of watched templates are held thin: without their text (message, further
/// lines, fields, ids), keeping their place, level and CIDs. A storm of one warning is held a
/// hundred thousand times over for the generic rules, which read of it only its place, level,
/// template and CIDs, except for the first events of each template in each source: the finding's
/// example, its evidence (the first [`MAX_EVIDENCE`]) and the benign list's test. Severity by phase
/// reads every later warning's text, but only to test it against the benign list: a record whose
/// text the list does not match, and that no pattern of a rule judged on the held timeline matches,
/// reads the same thin. The first records of each template and source are held whole.
struct Thinning<'k> {
    benign: &'k [regex::Regex],
    templates: &'k Templates,
    /// Per (template, source): records that could be held thin so far.
    seen: std::collections::HashMap<(u32, usize), usize>,
}

impl Thinning<'_> {
    /// What of the record at timeline index `i`, held whole for `mark`, is held when it can be
    /// held thin: nothing, or the part of its message a pattern without literals reads; and
    /// whether a rule judged on the held timeline may read that part (else only the generic rules
    /// and severity by phase read the record, and only when no named finding explains it).
    fn thin(&mut self, keep: &Keep, i: usize, ev: &Event, mark: Mark) -> Option<(String, bool)> {
        if !mark.watched || mark.tail {
            return None;
        }
        let t = self.templates.of_event.get(i)?;
        let (part, read) = match keep.held.need(ev) {
            Need::Nothing => (String::new(), false),
            Need::Part { text, .. } => (text, true),
            Need::Whole => return None,
        };
        let benign = |text: &str| self.benign.iter().any(|r| r.is_match(text));
        if benign(&ev.message) || benign(&part) {
            return None;
        }
        let n = self.seen.entry((t, ev.source)).or_insert(0);
        *n += 1;
        (*n > MAX_EVIDENCE).then_some((part, read))
    }
}

/// What the rules can read of an event by itself, decided in pass 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Own {
    /// All of it: a pattern's literal and regex match it, or a generic rule watches its template;
    /// with the follow-up patterns (bits) whose rules it may trigger ([`Mentions::arms`]).
    Whole(Bits),
    /// The part a pattern without literals matches.
    Part,
    /// The part a follow-up pattern without literals matches (these bits, as in [`Need::Part`]):
    /// read only when it is the first of its source since a trigger, which is settled in timeline
    /// order once pass 1 has placed every event ([`settle_follow_ups`]).
    FollowUp(Bits),
    /// Nothing.
    Nothing,
}

/// Pass 1's note on a record pass 2 reads.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    own: Own,
    /// Among the last events of its source not read whole for their own sake: held whole.
    tail: bool,
    /// Of a template a generic rule or severity by phase watches: held whole.
    watched: bool,
}

impl Note for Mark {
    /// Follow-up bits above four bits: the kind (two), tail, watched.
    fn pack(&self) -> u64 {
        let (kind, bits) = match self.own {
            Own::Whole(b) => (0, b),
            Own::Part => (1, 0),
            Own::FollowUp(b) => (2, b),
            Own::Nothing => (3, 0),
        };
        (u64::from(bits) << 4) | (kind << 2) | (u64::from(self.tail) << 1) | u64::from(self.watched)
    }

    fn unpack(v: u64) -> Option<Mark> {
        let bits = Bits::try_from(v >> 4).ok()?;
        let own = match (v >> 2) & 3 {
            0 => Own::Whole(bits),
            1 => Own::Part,
            2 => Own::FollowUp(bits),
            _ => Own::Nothing,
        };
        Some(Mark {
            own,
            tail: v & 2 != 0,
            watched: v & 1 != 0,
        })
    }
}

impl Mark {
    /// Whether pass 2 holds the record whole whatever it reads: among its source's last events, of
    /// a watched template, or marked whole when no rule is judged online (then all that rules read
    /// is held).
    fn surely_held(&self, keep: &Keep) -> bool {
        self.tail
            || self.watched
            || (keep.online.is_empty() && matches!(self.own, Own::Whole(_) | Own::Nothing))
    }
}

/// Pass 1's marks on one stream: its templates, the records pass 2 reads, and the CIDs of the
/// records no rule reads.
#[derive(Debug, Default)]
pub struct StreamMarks {
    keys: templates::StreamKeys,
    /// Per template of the stream: whether its events are read whole.
    watched: Vec<bool>,
    /// The records pass 2 may read, in source order, packed.
    wants: Packed,
    /// Whether some of them are follow-ups, which are settled before pass 2.
    follow_ups: bool,
    /// The last events not read whole for their own sake: (index, first line, last line). Once
    /// the stream ends these are its tail, held whole.
    last: VecDeque<(usize, u64, u64)>,
    /// CIDs (as written) of the events no rule reads.
    unheld: std::collections::BTreeSet<CidRef>,
    seen: usize,
}

/// Pass 1's marking of one input's events, on its reading thread with its own regexes: each event's
/// template, and what the rules can read of it.
pub struct Marker {
    keep: Keep,
    keyer: templates::Keyer,
    /// What rules can read of messages seen lately ([`crate::memo`]).
    reads: Recent<Read>,
    streams: Vec<StreamMarks>,
    /// The template key of the event in hand, reused.
    key: String,
}

/// What rules can read of a one-line record, as far as it was asked: as a watched template's
/// record ([`Mentions::arms`]), and as one no generic rule watches.
#[derive(Debug, Clone, Copy, Default)]
struct Read {
    arms: Option<Bits>,
    unwatched: Option<Own>,
}

/// What rules can read of an event by itself (`watched`: a generic rule watches its template).
fn own_anew(keep: &Keep, ev: &Event, watched: bool) -> Own {
    let whole = || Own::Whole(keep.mentions.arms(ev));
    if watched {
        return whole();
    }
    match keep.mentions.need(ev) {
        Need::Whole => whole(),
        Need::Part {
            follow_up: None, ..
        } => Own::Part,
        Need::Part {
            follow_up: Some(bits),
            ..
        } => Own::FollowUp(bits),
        Need::Nothing => Own::Nothing,
    }
}

/// [`own_anew`], from `reads` when the message was seen lately: a one-line record's answer
/// depends on its message alone.
fn own_of(keep: &Keep, reads: &mut Recent<Read>, ev: &Event, watched: bool) -> Own {
    if !ev.continuation.is_empty() || !Recent::<Read>::fits(&ev.message) {
        return own_anew(keep, ev, watched);
    }
    let known = reads.get(&ev.message).copied().unwrap_or_default();
    match (watched, known) {
        (true, Read { arms: Some(a), .. }) => return Own::Whole(a),
        (
            false,
            Read {
                unwatched: Some(o), ..
            },
        ) => return o,
        _ => {}
    }
    let own = own_anew(keep, ev, watched);
    let mut read = known;
    if let Own::Whole(a) = own {
        read.arms = Some(a);
    }
    if !watched {
        read.unwatched = Some(own);
    }
    // Replaces what was known of it.
    reads.put(&ev.message, read);
    own
}

impl Marker {
    /// A marker for the rules of `keep`.
    pub fn new(keep: &Keep) -> Marker {
        Marker {
            keep: keep.clone(),
            keyer: templates::Keyer::default(),
            reads: Recent::default(),
            key: String::new(),
            streams: Vec::new(),
        }
    }

    /// The next event of stream `k`.
    pub fn add(&mut self, k: usize, ev: &Event) {
        if self.streams.len() <= k {
            self.streams.resize_with(k + 1, StreamMarks::default);
        }
        let Some(st) = self.streams.get_mut(k) else {
            return;
        };
        let i = st.seen;
        st.seen += 1;
        self.keyer.key_into(ev, &mut self.key);
        let (t, new) = st.keys.add(&self.key, ev);
        if new {
            let watched = st
                .keys
                .level_text(t)
                .is_none_or(|(level, text)| self.keep.watches(level, &text));
            st.watched.push(watched);
        }
        let watched = st.watched.get(t as usize).copied().unwrap_or(true);
        let own = own_of(&self.keep, &mut self.reads, ev, watched);
        if own != Own::Nothing {
            let mark = Mark {
                own,
                tail: false,
                watched,
            };
            st.follow_ups |= matches!(own, Own::FollowUp(_));
            st.wants
                .push(&stream::Want::new(i, ev.line, ev.end_line, mark));
        }
        // A follow-up may be dropped once settled: its CIDs are noted here, where they are at
        // hand (no pattern but follow-ups matches it, so it is no accounting rule's send, and the
        // rules read these lists only as sets joined with the held events' CIDs).
        if matches!(own, Own::Nothing | Own::FollowUp(_)) {
            // Most name a CID the set has: no clone for those.
            for c in &ev.cids {
                if !st.unheld.contains(c) {
                    st.unheld.insert(c.clone());
                }
            }
        }
        if !matches!(own, Own::Whole(_)) {
            st.last.push_back((i, ev.line, ev.end_line));
            if st.last.len() > TAIL {
                st.last.pop_front();
            }
        }
    }

    /// The marks of the input's `streams` streams, each stream's last events marked.
    pub fn finish(mut self, streams: usize) -> Vec<StreamMarks> {
        self.streams
            .resize_with(streams.max(self.streams.len()), StreamMarks::default);
        for st in &mut self.streams {
            st.wants.shrink_to_fit();
            st.keys.shrink();
        }
        self.streams
    }
}

impl StreamMarks {
    /// The records pass 2 may read, in source order, its tail marked: a tail event marked for
    /// itself is marked tail too, one not marked is added.
    fn into_wants(self) -> impl Iterator<Item = stream::Want<Mark>> {
        let mut wants = self.wants.into_wants::<Mark>().peekable();
        let mut tail = self.last.into_iter().peekable();
        std::iter::from_fn(move || {
            let next_tail = tail.peek().map(|t| t.0);
            match (wants.peek().map(|w| w.index), next_tail) {
                (Some(i), Some(t)) if t < i => tail.next().map(tail_want),
                (Some(i), Some(t)) if t == i => {
                    tail.next();
                    let mut w = wants.next()?;
                    w.what.tail = true;
                    Some(w)
                }
                (Some(_), _) => wants.next(),
                (None, _) => tail.next().map(tail_want),
            }
        })
    }
}

/// A tail event no rule marked: held whole.
fn tail_want((index, line, end_line): (usize, u64, u64)) -> stream::Want<Mark> {
    let mark = Mark {
        own: Own::Nothing,
        tail: true,
        watched: false,
    };
    stream::Want::new(index, line, end_line, mark)
}

/// A timeline for `check`, its templates, and what pass 2 saw.
pub struct Lean {
    /// A sparse timeline: the events a rule can read, each at its index in the whole timeline.
    pub timeline: Timeline,
    /// The template of every event, held or not.
    pub templates: Templates,
    /// Events the inputs gained after pass 1 read them (left out).
    pub extra: u64,
    /// What the rules judged online found.
    pub online: Vec<online::Judged>,
    /// Records held thin that only the generic rules and severity by phase read: they join the
    /// timeline once the named rules have run, those a named finding explains left out
    /// ([`crate::rules::run_prepared`]).
    pub late: ThinRecords,
}

/// Keep only the part of an event a pattern without literals reads (and its CIDs, its place).
fn strip(ev: &mut Event, part: String) {
    ev.message = part;
    ev.continuation = Default::default();
    ev.fields = Default::default();
    ev.uuids = Default::default();
    ev.msgid_prefixes = Default::default();
    ev.users = Default::default();
    ev.names = Default::default();
}

/// The events of pass 2 as they arrive, in timeline order: judged by the rules judged online, and
/// held whole, cut to a part, or (when only those rules read them) let go with their CIDs noted.
struct Filler<'k> {
    keep: &'k Keep,
    /// What the rules read of an event held whole besides its CIDs (pass 2 parses with the CID
    /// extractors alone): its fields, when a rule reads them.
    extract: Option<&'k crate::defs::Extractors>,
    shared: crate::intern::Interner,
    /// The rules judged online, each fed every record pass 2 reads, and the seconds each took.
    judges: Vec<online::Judge<'k>>,
    /// Which of the judges' patterns the record in hand may match.
    gate: online::Gate,
    judging: Vec<f64>,
    /// Records fed to the judges so far.
    fed: u64,
    /// Some rule judged online reads fields: every record gets them before it is judged.
    judges_fields: bool,
    /// Held events and their indices in the whole timeline (two lists, not one of pairs: the
    /// timeline takes the events as they are, without a copy).
    at: Vec<usize>,
    held: Vec<Event>,
    /// The records held thin, kept compactly until pass 2 ends.
    thin: ThinRecords,
    /// Those of them no rule judged on the held timeline reads, kept thin until the named rules
    /// have said which they explain.
    late: ThinRecords,
    /// Per source, the CIDs of the records read and let go.
    let_go: Vec<std::collections::BTreeSet<u64>>,
    /// Which records of watched templates are held thin (`None`: none).
    thinning: Option<Thinning<'k>>,
}

impl Filler<'_> {
    /// The next event pass 2 read, at index `i` of the whole timeline `tl` (its sources and CIDs).
    fn take(&mut self, tl: &Timeline, i: usize, mut ev: Event, mark: Mark) {
        let mut extracted = false;
        if !self.judges.is_empty() {
            if let (true, Some(x)) = (self.judges_fields, self.extract) {
                x.apply_shared(&mut ev, &mut self.shared);
                extracted = true;
            }
            self.gate.scan(&ev);
            // Each judge's time is measured on one record in `TIMED` and counted for all of them:
            // two clock reads per judge per record were a hundredth of the run.
            let timed = self.fed.is_multiple_of(TIMED);
            self.fed += 1;
            for (j, secs) in self.judges.iter_mut().zip(&mut self.judging) {
                if timed {
                    let started = std::time::Instant::now();
                    j.feed(tl, i, &ev, &self.gate);
                    *secs += started.elapsed().as_secs_f64() * TIMED as f64;
                } else {
                    j.feed(tl, i, &ev, &self.gate);
                }
            }
        }
        // Some(None): held whole; Some(Some(part)): held cut to the part; None: let go.
        // Held as pass 1 marked it when no rule is judged online (all that rules read is held).
        let held = if mark.surely_held(self.keep) {
            Some(None)
        } else {
            match (self.keep.held.need(&ev), mark.own) {
                (Need::Nothing, _) => None,
                (Need::Part { text, .. }, Own::Part | Own::FollowUp(_)) => Some(Some(text)),
                _ => Some(None),
            }
        };
        match held {
            None => {
                if let Some(set) = self.let_go.get_mut(ev.source) {
                    set.extend(ev.cids.iter().filter_map(|c| tl.cids.resolve(c)));
                }
                return;
            }
            Some(Some(text)) => strip(&mut ev, text),
            Some(None) => {
                let thin = self
                    .thinning
                    .as_mut()
                    .and_then(|t| t.thin(self.keep, i, &ev, mark));
                if let Some((part, read)) = thin {
                    let into = if read { &mut self.thin } else { &mut self.late };
                    match into.push(i, ev, part) {
                        Ok(()) => return,
                        Err(back) => {
                            let (e, part) = *back;
                            ev = e;
                            strip(&mut ev, part);
                        }
                    }
                } else if let (false, Some(x)) = (extracted, self.extract) {
                    x.apply_shared(&mut ev, &mut self.shared);
                }
            }
        }
        self.at.push(i);
        self.held.push(ev);
    }
}

/// Add the records online findings show (`extra`, by index) to the held ones (both in index
/// order): a record held already is taken whole from `extra`, as a held check shows it. Merged in
/// place, from the back: a copy of the held records here was the two-pass check's peak.
fn hold_records(at: &mut Vec<usize>, held: &mut Vec<Event>, mut extra: Vec<(usize, Event)>) {
    if extra.is_empty() {
        return;
    }
    extra.sort_by_key(|(i, _)| *i);
    extra.dedup_by_key(|(i, _)| *i);
    let mut new = Vec::with_capacity(extra.len());
    for (i, ev) in extra {
        match at.binary_search(&i).ok().and_then(|k| held.get_mut(k)) {
            Some(e) => *e = ev,
            None => new.push((i, ev)),
        }
    }
    let old = at.len();
    // Exactly: a doubling of the held records' room took twice their size at once.
    at.reserve_exact(new.len());
    held.reserve_exact(new.len());
    at.resize(old + new.len(), 0);
    held.resize_with(old + new.len(), Event::default);
    // `k`: where the next largest goes; `a`: the held records not moved yet are `..a`.
    let (mut k, mut a) = (at.len(), old);
    for (j, ev) in new.into_iter().rev() {
        while a > 0 && at.get(a - 1).is_some_and(|&i| i > j) {
            k -= 1;
            a -= 1;
            at.swap(k, a);
            held.swap(k, a);
        }
        k -= 1;
        if let (Some(i), Some(e)) = (at.get_mut(k), held.get_mut(k)) {
            (*i, *e) = (j, ev);
        }
    }
}

/// Settle, in timeline order, which follow-up matches are read: of a source's matches of a
/// follow-up pattern, the first after each trigger of its rule (the rule asks whether some
/// follow-up comes after the trigger, within its window, and the first of each source after it is
/// the nearest there). The others are dropped unless they are among their source's last events.
/// Takes each source's marks in source order; gives those pass 2 reads, packed.
fn settle_follow_ups(
    order: impl Iterator<Item = (usize, usize)>,
    streams: Vec<impl Iterator<Item = stream::Want<Mark>>>,
) -> Vec<Packed> {
    let mut streams: Vec<_> = streams.into_iter().map(Iterator::peekable).collect();
    let mut read: Vec<Packed> = streams.iter().map(|_| Packed::default()).collect();
    // Per follow-up pattern (bit), the triggers seen so far; per (source, bit), that count when
    // the source's last match of it was read.
    let mut armed = [0u64; Bits::BITS as usize];
    let mut firsts: std::collections::HashMap<(usize, u32), u64> = Default::default();
    for (s, i) in order {
        let (Some(list), Some(out)) = (streams.get_mut(s), read.get_mut(s)) else {
            continue;
        };
        let Some(w) = list.next_if(|w| w.index == i) else {
            continue;
        };
        match w.what.own {
            Own::Whole(bits) if bits != 0 => {
                for (bit, n) in armed.iter_mut().enumerate() {
                    if bits & (1 << bit) != 0 {
                        *n += 1;
                    }
                }
            }
            Own::FollowUp(bits) => {
                let mut first = false;
                for (bit, &n) in armed.iter().enumerate() {
                    if bits & (1 << bit) == 0 {
                        continue;
                    }
                    let last = firsts.entry((s, bit as u32)).or_insert(u64::MAX);
                    if *last != n {
                        *last = n;
                        first = true;
                    }
                }
                if !first && !w.what.tail {
                    continue;
                }
            }
            _ => {}
        }
        out.push(&w);
    }
    // Marks the order did not reach (none, unless an input changed between the passes) are kept.
    for (list, out) in streams.into_iter().zip(&mut read) {
        for w in list {
            out.push(&w);
        }
        out.shrink_to_fit();
    }
    read
}

/// Which events' template numbers [`fill`] keeps for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    /// Every event's: the TUI filters and jumps by template over every record.
    Every,
    /// The held events' alone: `check`'s rules ask about no other.
    Held,
}

/// Pass 2 over a plan [`stream::plan_marked`] marked: a sparse timeline of the events a rule of `keep` can read,
/// each placed as the whole timeline places it. Only the lines of those records are read again.
pub fn fill(
    reg: &crate::defs::Registry,
    mut plan: Plan,
    keep: &Keep,
    numbered: Numbered,
) -> Result<Lean, PassError> {
    // No rule or report reads the anchor links (the TUI jumps along them): at 4 GB 860 k of them,
    // 27 MB held to the end.
    plan.timeline.anchors = Vec::new();
    let Some(marks) = plan.marks.take() else {
        return Err(PassError::Reread(
            "the inputs".into(),
            "the first pass marked nothing (an internal error)".into(),
        ));
    };
    let mut keys = Vec::with_capacity(marks.len());
    let mut streams = Vec::with_capacity(marks.len());
    let mut unheld_refs = Vec::with_capacity(marks.len());
    let follow_ups = marks.iter().any(|m| m.follow_ups);
    for mut m in marks {
        keys.push(std::mem::take(&mut m.keys));
        unheld_refs.push(std::mem::take(&mut m.unheld));
        streams.push(m.into_wants());
    }
    let total = plan.events();
    let mut templates = templates::merge_streams(&keys, plan.order(), total);
    drop(keys);
    crate::memory::at("templates-merged");
    let wants: Vec<Packed> = if follow_ups {
        settle_follow_ups(plan.order(), streams)
    } else {
        streams.into_iter().map(Iterator::collect).collect()
    };
    // Pass 2 reads these records in timeline order from their places alone: every event's
    // position is let go.
    plan.place_wants::<Mark>(&wants);
    crate::memory::note(|| {
        let (all, spots) = plan.placed_bytes();
        format!("placed: {all} bytes of every event's position left, {spots} bytes of the records pass 2 reads")
    });
    // The packed marks and what settling kept of them, and the positions, are freed: give the
    // pages back before pass 2's readers allocate in arenas of their own (90 MB at 1 GB).
    crate::memory::trim();
    crate::memory::at("settled");
    // Room at once for the records surely held; the rest grow the lists as they come. Reserving
    // for every record read held a third of the peak at 1 GB for records the online rules judge
    // and let go (a list this large grows in place: the allocator remaps its pages, no copy).
    let n: usize = wants
        .iter()
        .flat_map(Packed::iter::<Mark>)
        .filter(|w| w.what.surely_held(keep))
        .count();
    let fields = keep.reads_fields.then(|| reg.entities.fields_only());
    let gate = online::Gate::new(keep.online.iter());
    let mut judges: Vec<online::Judge> = keep
        .online
        .iter()
        .filter_map(|r| online::Judge::new(r, plan.timeline.axis))
        .collect();
    judges.iter_mut().for_each(|j| j.bind(&gate));
    let mut f = Filler {
        keep,
        extract: fields.as_ref(),
        shared: Default::default(),
        judges,
        gate,
        judging: vec![0.0; keep.online.len()],
        fed: 0,
        judges_fields: keep.online.iter().any(Rule::reads_fields),
        at: Vec::with_capacity(n),
        held: Vec::with_capacity(n),
        thin: ThinRecords::default(),
        late: ThinRecords::default(),
        let_go: vec![Default::default(); plan.timeline.sources.len()],
        thinning: keep.benign.as_deref().map(|benign| Thinning {
            benign,
            templates: &templates,
            seen: Default::default(),
        }),
    };
    let mut light = reg.clone();
    light.entities = reg.entities.for_cids();
    let extra = stream::replay_only(&light, &plan, &wants, |i, ev, want| {
        f.take(&plan.timeline, i, ev, want.what);
        Ok(())
    })?;
    crate::memory::at("pass2-read");
    crate::memory::note(|| {
        let mb = |n: usize| n / 1_000_000;
        let text = f.held.iter().map(|e| e.message.capacity()).sum();
        let more = f.held.iter().flat_map(|e| &e.continuation);
        let more = more
            .map(|c| c.capacity() + std::mem::size_of::<String>())
            .sum();
        format!(
            "pass 2 holds {} records of {} bytes (messages {} MB, continuations {} MB), {} thin in {} MB and {} thin for the generic rules alone in {} MB",
            f.held.len(),
            std::mem::size_of::<Event>(),
            mb(text),
            mb(more),
            f.thin.len(),
            mb(f.thin.heap_bytes()),
            f.late.len(),
            mb(f.late.heap_bytes()),
        )
    });
    drop(wants);
    // The CIDs of the records pass 2 did not read, per source (accounting asks which receivers
    // records that are no send name).
    let mut unheld: Vec<std::collections::BTreeSet<u64>> = unheld_refs
        .iter()
        .map(|refs| {
            refs.iter()
                .filter_map(|c| plan.timeline.cids.resolve(c))
                .collect()
        })
        .collect();
    let unread: std::collections::HashSet<u64> = unheld.iter().flatten().copied().collect();
    let mut online: Vec<online::Judged> = f.judges.into_iter().map(|j| j.finish(&unread)).collect();
    drop(unread);
    let records: Vec<Vec<(usize, Event)>> = online.iter_mut().map(|j| j.take_records()).collect();
    drop(f.thinning);
    let (mut at, mut events, thin, late, let_go) = (f.at, f.held, f.thin, f.late, f.let_go);
    at.shrink_to_fit();
    events.shrink_to_fit();
    if numbered == Numbered::Held {
        // Before the thin records become events: the peak of the run comes then.
        let mut held: Vec<usize> = at
            .iter()
            .copied()
            .chain(thin.ats())
            .chain(late.ats())
            .chain(records.iter().flatten().map(|(i, _)| *i))
            .collect();
        held.sort_unstable();
        templates.of_event.keep_only(&held);
    }
    // The readers and the judges' state are gone: the thin records become events.
    let axis = (plan.timeline.axis, plan.timeline.dated);
    let (mut at, mut events) = thin.into_events(at, events, axis);
    for r in records {
        hold_records(&mut at, &mut events, r);
    }
    unheld.resize_with(unheld.len().max(let_go.len()), Default::default);
    for (set, gone) in unheld.iter_mut().zip(let_go) {
        set.extend(gone);
    }
    // The records kept thin for the generic rules are not in the timeline the named rules read
    // (none of their patterns reads them): their CIDs count among those of the records not held.
    for (s, cids) in late.cids() {
        if let Some(set) = unheld.get_mut(s) {
            set.extend(cids.iter().filter_map(|c| plan.timeline.cids.resolve(c)));
        }
    }
    let cids = unheld
        .into_iter()
        .map(|set| set.into_iter().collect())
        .collect();
    let mut timeline = plan.timeline;
    timeline.events = events;
    timeline.sparse = Some(Box::new(crate::model::Sparse { at, total, cids }));
    Ok(Lean {
        timeline,
        templates,
        extra,
        online,
        late,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Registry;
    use crate::rules::{self, Selection};
    use std::sync::atomic::AtomicU64;

    /// Pass 1 of `inputs`, marking what the rules of `keep` read.
    fn marked(
        reg: &Registry,
        inputs: &[crate::source::Input],
        opts: &crate::correlate::Options,
        keep: &Keep,
    ) -> Plan {
        stream::plan_marked(
            reg,
            inputs,
            None,
            opts,
            &AtomicU64::new(0),
            Some(keep),
            false,
        )
        .unwrap()
    }

    const SITE: &str = " INFO citadel: citadel-internal-service/src/kernel/mod.rs:40:";

    /// Findings (rule, title, evidence) of a held and of a two-pass analysis of these files, and the
    /// two-pass timeline.
    fn both(files: &[(&str, String)]) -> (Vec<String>, Vec<String>, Timeline) {
        both_with(files, None)
    }

    /// [`both`] with the rules of `rules` (a folder) besides the built-in ones.
    fn both_with(
        files: &[(&str, String)],
        rules: Option<&std::path::Path>,
    ) -> (Vec<String>, Vec<String>, Timeline) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let reg = Registry::load(None).unwrap();
        let opts = crate::correlate::Options::default();
        let inputs = crate::source::expand_all(&[dir.path().display().to_string()])
            .unwrap()
            .inputs;
        let all = rules::load::load_rules(rules).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        let profile = crate::profile::Profile::builtin().unwrap_or_default();
        let sel = Selection::default();
        let summary = |a: &rules::finding::Analysis| -> Vec<String> {
            a.findings
                .iter()
                .map(|f| {
                    let ev: Vec<usize> = f.evidence.iter().map(|e| e.event).collect();
                    format!("{} {} {ev:?}", f.rule, f.title)
                })
                .collect()
        };
        let (tl, _) = crate::pipeline::load(&reg, &inputs, None, &opts).unwrap();
        let held = summary(&rules::run_with(&all, &sel, tl, &profile));
        let keep = Keep::for_rules(&active).unwrap();
        let plan = marked(&reg, &inputs, &opts, &keep);
        let lean = fill(&reg, plan, &keep, Numbered::Every).unwrap();
        let prepared = rules::Prepared {
            templates: lean.templates,
            online: lean.online,
            late: lean.late,
        };
        let found = rules::run_prepared(&all, &sel, lean.timeline, prepared, &profile).0;
        (held, summary(&found), found.timeline)
    }

    /// The memo of what rules read changes no mark: every corpus line, met again soon and a round
    /// later, watched and not, some with continuation lines, gets what deciding it anew gives.
    #[test]
    fn a_marker_memo_gives_the_marks_decided_anew() {
        let reg = Registry::load(None).unwrap();
        let all = rules::load::load_rules(None).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        let keep = Keep::for_rules(&active).unwrap();
        let mut lines = crate::parse::record::tests::corpus_lines(&reg, &[]);
        lines.extend((0..2 * crate::memo::ENTRIES).map(|i| format!("cid={i}0000000000000001")));
        let mut reads = Recent::default();
        let (mut n, mut kinds) = (0, std::collections::BTreeSet::new());
        for round in 0..3 {
            for (i, l) in lines.iter().enumerate() {
                for again in [l, &lines[i.saturating_sub(5)]] {
                    let mut ev = Event {
                        message: again.clone(),
                        ..Default::default()
                    };
                    if (i + round) % 13 == 0 {
                        ev.continuation = thin_vec::thin_vec![lines[(i + 1) % lines.len()].clone()];
                    }
                    let watched = (i + round) % 3 == 0;
                    let got = own_of(&keep, &mut reads, &ev, watched);
                    assert_eq!(got, own_anew(&keep, &ev, watched), "{again:?}");
                    kinds.insert(format!("{:?}", std::mem::discriminant(&got)));
                    n += 1;
                }
            }
        }
        assert!(reads.len() <= crate::memo::ENTRIES);
        assert!(
            n > 6 * crate::memo::ENTRIES && kinds.len() >= 3,
            "{n} {kinds:?}"
        );
    }

    /// Templates keyed per stream in pass 1 and numbered in timeline order are the templates of
    /// the held timeline: ids, keys, counts, first and last events, per-source counts, call sites
    /// and every event's template, on samples of several sources and formats.
    #[test]
    fn templates_keyed_in_pass_one_are_the_held_timelines() {
        let reg = Registry::load(None).unwrap();
        let opts = crate::correlate::Options::default();
        let all = rules::load::load_rules(None).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        let keep = Keep::for_rules(&active).unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut compared = 0;
        for set in ["seed", "healthy", "formats"] {
            let arg = root.join(set).display().to_string();
            let inputs = crate::source::expand_all(&[arg]).unwrap().inputs;
            let (tl, _) = crate::pipeline::load(&reg, &inputs, None, &opts).unwrap();
            let want = Templates::build(&tl);
            let plan = marked(&reg, &inputs, &opts, &keep);
            let got = fill(&reg, plan, &keep, Numbered::Every).unwrap().templates;
            assert_eq!(got.of_event, want.of_event, "{set}");
            assert_eq!(
                format!("{:?}", got.list),
                format!("{:?}", want.list),
                "{set}"
            );
            compared += got.of_event.len();
            // Kept for the held events alone (as `check` keeps them), each held event's template
            // is the same, and the list of templates too.
            let plan = marked(&reg, &inputs, &opts, &keep);
            let lean = fill(&reg, plan, &keep, Numbered::Held).unwrap();
            let sparse = &lean.templates;
            assert!(
                matches!(sparse.of_event, templates::Ids::Sparse(_)),
                "{set}"
            );
            assert_eq!(sparse.of_event.len(), want.of_event.len(), "{set}");
            assert_eq!(format!("{:?}", sparse.list), format!("{:?}", want.list));
            let held: Vec<usize> = lean.timeline.indexed().map(|(i, _)| i).collect();
            assert!(
                !held.is_empty() && held.len() < want.of_event.len(),
                "{set}"
            );
            for &i in &held {
                assert_eq!(sparse.of_event.get(i), want.of_event.get(i), "{set} {i}");
            }
            assert_eq!(sparse.of_event.indexed().count(), held.len(), "{set}");
        }
        assert!(compared > 1000, "{compared} events");
    }

    /// A rule whose condition reads a `key=value` field finds in two passes what it finds held:
    /// the events a two-pass check holds get their fields when (and only when) a rule reads them.
    #[test]
    fn a_rule_that_reads_fields_gets_them_in_two_passes() {
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(
            rules.path().join("disk.toml"),
            "id = \"disk-full\"\ntitle = \"Disk full\"\nseverity = \"high\"\nkind = \"match\"\n\
             description = \"A storage warning that names its disk.\"\nremediation = \"Free the disk.\"\n\
             [[pattern]]\nregex = 'Storage warning'\ncondition = \"exists(fields.disk)\"\n\
             [[test]]\nname = \"x\"\nexpect = 1\nlog = \"Storage warning disk=sda1\"\n\
             [[test]]\nname = \"y\"\nexpect = 0\nlog = \"Storage warning\"\n",
        )
        .unwrap();
        let log = format!(
            "{}{SITE} Storage warning for the cache\n{SITE} Storage warning disk=sda2 at 99%\n{}",
            filler(20),
            filler(20)
        );
        let (held, lean, tl) = both_with(&[("service.log", log)], Some(rules.path()));
        assert!(held.iter().any(|f| f.starts_with("disk-full ")), "{held:?}");
        assert_eq!(held, lean);
        let all = rules::load::load_rules(Some(rules.path())).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        assert!(Keep::for_rules(&active).unwrap().reads_fields);
        let builtin = rules::load::load_rules(None).unwrap();
        let active: Vec<&Rule> = builtin.iter().collect();
        assert!(!Keep::for_rules(&active).unwrap().reads_fields);
        // Without such a rule, held events carry no fields (the rules would not read them).
        let (_, _, plain) = both(&[(
            "service.log",
            format!("{SITE} Storage warning disk=sda2\n{}", filler(20)),
        )]);
        assert!(plain.events.iter().all(|e| e.fields.is_empty()));
        assert!(tl.events.iter().any(|e| e.field("disk") == Some("sda2")));
    }

    /// `n` lines no rule reads.
    fn filler(n: usize) -> String {
        (0..n)
            .map(|i| format!("{SITE} Heartbeat tick {i} handled\n"))
            .collect()
    }

    #[test]
    fn events_no_rule_reads_are_dropped_and_the_findings_stay() {
        // A panic (a rule's literal), a warning, a CID named only in passing, and filler lines.
        let log = format!(
            "{}{SITE} Peer 2575839661623456362 keep-alive ok\n{} WARN citadel: a/b.rs:9: Slow disk\n\
             {}ERROR citadel: a/c.rs:3: Panic occurred: panicked at a/c.rs:3:1:\n{}",
            filler(30),
            filler(30),
            filler(30),
            filler(30)
        );
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert!(held.iter().any(|f| f.starts_with("panic ")), "{held:?}");
        assert_eq!(held, lean);
        let by_text = |t: &str| tl.events.iter().find(|e| e.message.contains(t));
        assert!(
            by_text("Panic occurred").is_some(),
            "a rule's line is whole"
        );
        assert!(by_text("Slow disk").is_some(), "a warning is whole");
        // The CID line only an absence rule reads was judged online and let go; its CID is kept
        // with its source's.
        assert!(by_text("2575839661623456362").is_none());
        assert!(tl.unheld_cids(0).contains(&2575839661623456362));
        // Filler is not held, but the last lines of the source are, whole; every held event
        // keeps its index in the whole timeline.
        let dropped = tl.len() - tl.events.len();
        assert!(dropped >= 100, "{dropped} dropped");
        assert_eq!(tl.len(), 123);
        let (i, last) = tl.indexed().next_back().unwrap();
        assert_eq!(i, 122);
        assert!(last.message.contains("Heartbeat tick 29"));
        assert!(tl.event(40).is_none());
        // Walking from an index skips to the first held event at or after it.
        for from in 0..=tl.len() {
            let walked: Vec<usize> = tl.indexed_from(from).map(|(i, _)| i).collect();
            let filtered: Vec<usize> = tl
                .indexed()
                .map(|(i, _)| i)
                .filter(|&i| i >= from)
                .collect();
            assert_eq!(walked, filtered, "from {from}");
        }
        assert!(tl.event(30).is_none());
        assert!(tl
            .events
            .iter()
            .rev()
            .take(TAIL)
            .all(|e| e.message.contains("Heartbeat")));
    }

    #[test]
    fn a_cid_named_in_passing_still_answers_an_absence_rule() {
        // `milestone-not-reached` asks whether any line after the node started names a session's
        // CID; here only a line no other rule reads does, far from the end.
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Peer 2575839661623456362 keep-alive ok\n{}",
            filler(5),
            filler(40)
        );
        let (held, lean, tl) = both(&[("service.log", log.clone())]);
        assert!(
            !held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
        // The line was judged online, not held; its CID stays known to its source.
        assert!(tl.event(6).is_none());
        assert!(tl.unheld_cids(0).contains(&2575839661623456362));
        // Without the CID line the rule fires: the line above is what answers it.
        let without = log.replace(
            " Peer 2575839661623456362 keep-alive ok",
            " Peer keep-alive ok",
        );
        let (held, lean, _) = both(&[("service.log", without)]);
        assert!(
            held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
    }

    /// The held records whose message has `text`.
    fn held_naming(tl: &Timeline, text: &str) -> Vec<usize> {
        tl.indexed()
            .filter(|(_, e)| e.message.contains(text))
            .map(|(i, _)| i)
            .collect()
    }

    /// A storm of one warning is held whole for its first records only: past the evidence a finding
    /// shows, its records are held thin (place, level and CIDs, no text), unless the benign list
    /// names them or a rule's pattern reads them; the findings stay those of a held check.
    #[test]
    fn a_storms_records_past_the_evidence_are_held_thin() {
        let n = 3 * MAX_EVIDENCE;
        let storm: String = (0..n)
            .map(|i| {
                format!(
                    " WARN citadel: a/d.rs:7: Queue 4581122330019988771 backlog {i} over limit\n"
                )
            })
            .collect();
        let benign: String = (0..n)
            .map(|i| {
                format!("ERROR citadel: a/e.rs:2: error=failed to lookup address information {i}\n")
            })
            .collect();
        let log = format!("{}{storm}{}{benign}{}", filler(20), filler(20), filler(20));
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert_eq!(held, lean);
        assert!(held.iter().any(|f| f.contains("backlog")), "{held:?}");
        let backlog: Vec<&Event> = tl
            .events
            .iter()
            .filter(|e| e.location.as_deref() == Some("a/d.rs:7"))
            .collect();
        assert_eq!(backlog.len(), n, "every record of the storm is held");
        let whole = backlog
            .iter()
            .filter(|e| e.message.contains("backlog"))
            .count();
        assert_eq!(whole, MAX_EVIDENCE, "the first ones whole, the rest thin");
        assert!(
            backlog.iter().all(|e| !e.cids.is_empty()),
            "thin ones keep their CIDs"
        );
        assert!(backlog[..MAX_EVIDENCE]
            .iter()
            .all(|e| e.message.contains("backlog")));
        // What the benign list names is read whole (severity by phase tests every one).
        assert_eq!(held_naming(&tl, "lookup address").len(), n);
    }

    /// The records of a storm a named finding explains (a retry storm, judged online) are not made
    /// events at all past those held whole: the generic rules would skip them, and no rule judged
    /// on the held timeline reads them. The findings stay those of a held check, and a storm no
    /// named finding explains keeps every record (above).
    #[test]
    fn records_a_named_finding_explains_are_not_made_events() {
        let n = 3 * MAX_EVIDENCE;
        let retries: String = (0..n)
            .map(|i| {
                format!(
                    " WARN citadel: a/c.rs:9: P2PAutoConnect: Connect failed for 4581122330019988771, retry in 2s (attempt {})\n",
                    i + 1
                )
            })
            .collect();
        let log = format!("{}{retries}{}", filler(20), filler(20));
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert_eq!(held, lean);
        assert!(
            held.iter().any(|f| f.starts_with("retry-storm")),
            "{held:?}"
        );
        let kept = tl
            .events
            .iter()
            .filter(|e| e.location.as_deref() == Some("a/c.rs:9"))
            .count();
        assert!(
            (MAX_EVIDENCE..n / 2).contains(&kept),
            "{kept} of {n} retries held"
        );
        // Their CID stays known to the source, as that of records not held.
        assert!(tl.unheld_cids(0).contains(&4581122330019988771));
    }

    /// Of a source's follow-up matches, pass 2 reads the first after each trigger of their rule
    /// (and its last lines); a line held whole for another reason arms nothing.
    #[test]
    fn the_first_follow_up_after_each_trigger_is_read() {
        let want = |index: usize, own: Own, tail: bool| {
            let mark = Mark {
                own,
                tail,
                watched: false,
            };
            stream::Want::new(index, index as u64 + 1, index as u64 + 1, mark)
        };
        let wants = vec![
            want(0, Own::Whole(1), false),
            want(1, Own::FollowUp(1), false),
            want(2, Own::FollowUp(1), false),
            want(3, Own::Whole(0), false),
            want(4, Own::FollowUp(1), false),
            want(5, Own::Whole(1), false),
            want(6, Own::FollowUp(1), false),
            want(7, Own::FollowUp(1), false),
            want(8, Own::FollowUp(1), true),
        ];
        let wants = settle_follow_ups((0..9).map(|i| (0, i)), vec![wants.into_iter()]);
        let read: Vec<usize> = wants[0].iter::<Mark>().map(|w| w.index).collect();
        assert_eq!(read, vec![0, 1, 3, 5, 6, 8]);
    }

    proptest::proptest! {
        /// Records merged in place come out in index order, once each, an extra record in the
        /// place of a held one of its index.
        #[test]
        fn records_merge_in_index_order_extra_ones_winning(
            held_at in proptest::collection::btree_set(0usize..60, 0..30),
            extra_at in proptest::collection::vec(0usize..60, 0..30),
        ) {
            let ev = |i: usize, from: &str| Event {
                line: i as u64,
                message: format!("{from} {i}"),
                ..Default::default()
            };
            let mut at: Vec<usize> = held_at.iter().copied().collect();
            let mut held: Vec<Event> = at.iter().map(|&i| ev(i, "held")).collect();
            let extra: Vec<(usize, Event)> = extra_at.iter().map(|&i| (i, ev(i, "extra"))).collect();
            let mut want: std::collections::BTreeMap<usize, String> =
                held_at.iter().map(|&i| (i, format!("held {i}"))).collect();
            for &i in &extra_at {
                want.insert(i, format!("extra {i}"));
            }
            hold_records(&mut at, &mut held, extra);
            let got: Vec<(usize, String)> =
                at.iter().copied().zip(held.into_iter().map(|e| e.message)).collect();
            proptest::prop_assert_eq!(got, want.into_iter().collect::<Vec<_>>());
        }
    }

    /// Every note packs into a number and back: each kind, with follow-up bits up to the top one,
    /// tail and watched.
    #[test]
    fn marks_pack_and_come_back() {
        for own in [
            Own::Whole(0),
            Own::Whole(Bits::MAX),
            Own::Part,
            Own::FollowUp(1),
            Own::FollowUp(1 << (Bits::BITS - 1)),
            Own::Nothing,
        ] {
            for (tail, watched) in [(false, false), (true, false), (false, true), (true, true)] {
                let m = Mark { own, tail, watched };
                let back = Mark::unpack(m.pack()).unwrap();
                assert_eq!((back.own, back.tail, back.watched), (own, tail, watched));
            }
        }
        // A number no mark packs to (bits past `Bits`) gives none.
        assert!(Mark::unpack(u64::MAX).is_none());
    }

    /// A stream's marks come back in source order with its tail: a tail event marked for itself
    /// keeps its mark and is marked tail, one not marked comes in as a tail alone.
    #[test]
    fn marks_come_back_with_the_streams_tail() {
        let mut st = StreamMarks::default();
        for (i, own) in [(2, Own::Part), (5, Own::FollowUp(3)), (7, Own::Whole(1))] {
            let mark = Mark {
                own,
                tail: false,
                watched: i == 7,
            };
            st.wants.push(&stream::Want::new(
                i,
                10 * i as u64,
                10 * i as u64 + 1,
                mark,
            ));
        }
        st.last = [(4, 40, 40), (5, 50, 51), (8, 80, 82)]
            .into_iter()
            .collect();
        let got: Vec<_> = st
            .into_wants()
            .map(|w| {
                (
                    w.index,
                    w.line,
                    w.end_line(),
                    w.what.own,
                    w.what.tail,
                    w.what.watched,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (2, 20, 21, Own::Part, false, false),
                (4, 40, 40, Own::Nothing, true, false),
                (5, 50, 51, Own::FollowUp(3), true, false),
                (7, 70, 71, Own::Whole(1), false, true),
                (8, 80, 82, Own::Nothing, true, false),
            ]
        );
    }

    #[test]
    fn of_cids_named_in_passing_none_is_held_and_the_findings_stay() {
        // Two nodes start; each is followed by many lines naming a CID. Only the first after each
        // start can answer `milestone-not-reached` (pass 2 reads only those), which is judged
        // online: none is held, and the findings are the same.
        let cid_lines = |n: usize| -> String {
            (0..n)
                .map(|i| format!("{SITE} Peer 25758396616234{i:05} keep-alive ok\n"))
                .collect()
        };
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Citadel client established\n{}{}",
            cid_lines(50),
            cid_lines(50),
            filler(20)
        );
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert_eq!(held, lean);
        assert!(!held.iter().any(|f| f.starts_with("milestone-not-reached")));
        assert_eq!(
            held_naming(&tl, "2575839661623"),
            Vec::<usize>::new(),
            "judged online, none held"
        );
        // Where the second start has no CID line after it, the rule fires on it, held or not.
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Citadel client established\n{}",
            cid_lines(50),
            filler(20)
        );
        let (held, lean, _) = both(&[("service.log", log)]);
        assert!(
            held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
        // Lines held whole for another reason (warnings, a rule's own line) between the starts do
        // not make the next CID line one to hold: only a trigger of the rule does.
        let warn = " WARN citadel: citadel-internal-service/src/kernel/mod.rs:41:";
        let noisy: String = (0..5)
            .map(|k| {
                format!(
                    "{warn} Slow disk {k}\n{SITE} WebSocket connected successfully\n{}",
                    cid_lines(10)
                )
            })
            .collect();
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Citadel client established\n{noisy}{}",
            cid_lines(5),
            filler(20)
        );
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert_eq!(held, lean);
        assert_eq!(
            held_naming(&tl, "2575839661623"),
            Vec::<usize>::new(),
            "judged online, none held"
        );
    }

    #[test]
    fn a_rule_that_matches_an_empty_line_keeps_every_event() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("anything.toml"),
            "id = \"anything\"\ntitle = \"t\"\nseverity = \"low\"\nkind = \"match\"\n\
             description = \"d\"\nremediation = \"r\"\n[[pattern]]\nregex = '^x*$'\n\
             [[test]]\nname = \"x\"\nexpect = 1\nlog = \"xx\"\n\
             [[test]]\nname = \"y\"\nexpect = 0\nlog = \"yy\"\n",
        )
        .unwrap();
        let all = rules::load::load_rules(Some(dir.path())).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        assert!(Keep::for_rules(&active).is_none());
        let builtin = rules::load::load_rules(None).unwrap();
        let active: Vec<&Rule> = builtin.iter().collect();
        assert!(Keep::for_rules(&active).is_some());
    }
}
