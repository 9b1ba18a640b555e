//! Records from lines: start, continue or end a record as the format's mode says, and make an `Event` of
//! it (level, target, location, time, message, fields, entities).

use super::ansi::strip_ansi;
use super::json::json_path;
use super::prefix::{Peeler, Prefix};
use super::time::parse_time;
use crate::defs::{Extractors, Format, JsonPaths, Mode, Registry};
use crate::memo::Recent;
use crate::model::{Event, Level, ParseStats, RawTime};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;

const UNPARSED_SAMPLES: usize = 5;

/// Most continuation lines kept per record: a runaway record (an unterminated dump, a huge `{:#?}`)
/// must not hold a whole file in memory.
pub const MAX_CONTINUATION: usize = 2000;

/// Most events kept per stream: every event stays in memory for the whole run (about 0.6 KB each with
/// what correlation and the rules add), so a log of ten million one-byte lines must not make ten
/// million. Past this, events from the middle are dropped (counted): the first half and the most
/// recent quarter or more stay, since a failure usually shows at the start or at the end.
pub const MAX_EVENTS: usize = 2_000_000;

struct Pending {
    ev: Event,
    closed: bool,
}

/// Incremental parser of one source; events come out in source order, tagged with their container.
pub struct SourceParser<'a> {
    fmt: &'a Format,
    extract: &'a Extractors,
    // One open record per container: interleaved compose streams keep their own multi-line state.
    pending: crate::hash::Map<Option<String>, Pending>,
    order: Vec<Option<String>>,
    /// What became of the lines so far.
    pub stats: ParseStats,
    // Finished events per container, in order of each container's first event.
    out: Vec<(Option<String>, Vec<Event>)>,
    /// Most events kept per stream (see [`MAX_EVENTS`]).
    pub max_events: usize,
    // The last plausible time a line carried, to count times that go back.
    last_instant: Option<chrono::NaiveDateTime>,
    // The per-line work, for lines this parser prepares itself.
    prep: LinePrep<'a>,
    // Whether the last line was skipped (its open records are closed already).
    in_gap: bool,
}

/// What a reader hands on in place of a line it skipped (a line never holds a line feed): the
/// parser closes its open records there, so that the records it is given whole come out as a full
/// read gives them, and the lines of records it is not given become nothing or stray pieces.
pub const SKIP: &str = "\n";

/// What one physical line is, decided from that line alone: escape codes and collector prefixes peeled,
/// ignore and strip patterns applied, start patterns tried. This is most of parsing, and it can run
/// on another thread ahead of the record state (see [`LinePrep`] and [`SourceParser::apply`]).
// Most lines are `Text`, and a batch lives for a moment: boxing the event would cost an allocation
// per line, freed on another thread.
#[allow(clippy::large_enum_variant)]
pub enum Prepared {
    /// A meta line the format ignores.
    Ignored,
    /// A line the reader skipped unread ([`SKIP`]): a second pass that wants other records only.
    Skipped,
    /// A line of a JSON-lines format.
    Json {
        /// Its compose service.
        key: Option<String>,
        /// Its event, or the line when it is not one of the format's objects.
        event: Result<Event, String>,
    },
    /// A line with nothing left once its artefacts are cut.
    Blank {
        /// Its compose service.
        key: Option<String>,
        /// Whether a strip pattern (a copy artefact) closed the record.
        closes: bool,
        /// The level a strip pattern's `level` group gave.
        strip_level: Option<Level>,
    },
    /// A line with text.
    Text(TextLine),
}

/// A prepared line with text.
pub struct TextLine {
    /// Its compose service.
    key: Option<String>,
    /// The collector's time.
    prefix_ts: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether a strip pattern closed the record.
    closes: bool,
    /// The level a strip pattern gave.
    strip_level: Option<Level>,
    /// The event a start pattern made of it, and whether that start is weak.
    started: Option<(Event, bool)>,
    /// The line's text, when it may continue a record (no start, or a weak one); untrimmed, as an
    /// unparsed line is shown as it was.
    text: Option<String>,
}

/// The per-line half of parsing for one format: a parser has one, and a helper thread has its own
/// (over its own copy of the definitions: a `Regex` shared between threads goes through a lock).
pub struct LinePrep<'a> {
    fmt: &'a Format,
    reg: &'a Registry,
    // Capture slots reused on every line, per start pattern (whole pattern, head): no allocation per
    // line for the groups.
    locs: Vec<(regex::CaptureLocations, Option<regex::CaptureLocations>)>,
    // One copy of each target and location: a source names a few hundred over millions of lines.
    // Kept here so that a helper's events hold its copies: the parser that takes them on then drops
    // a reference, never memory the helper allocated (a free across threads takes the allocator's
    // lock of the thread that allocated it).
    shared: crate::intern::Interner,
    peeler: Peeler,
    // Per start pattern with a head that looks at no text past its match (no `$`, `\b`, `\B`,
    // `\z`): the groups of the heads seen lately, by the head's text ([`crate::memo`]). A service
    // log repeats a few hundred heads (level, target, call site) over millions of lines, and
    // resolving groups is a bounded backtracker's work where one search finds where the head ends.
    heads: Vec<Option<Recent<Groups>>>,
    // The groups of the current line's head, reused.
    slots: Vec<Option<(usize, usize)>>,
    // The current line's location, written out, reused.
    place: String,
}

/// The byte ranges of a pattern's groups in a line, by group number.
type Groups = Box<[Option<(usize, usize)>]>;

/// Whether a head pattern's match depends only on the text it matched: no assertion that looks at
/// the character after it (conservative: an escaped `$` counts too).
pub(crate) fn head_is_closed(pat: &str) -> bool {
    !(pat.contains('$') || pat.contains("\\b") || pat.contains("\\B") || pat.contains("\\z"))
}

impl<'a> LinePrep<'a> {
    /// The per-line work of format `fmt`.
    pub fn new(fmt: &'a Format, reg: &'a Registry) -> Self {
        LinePrep {
            fmt,
            reg,
            locs: fmt
                .start
                .iter()
                .map(|sp| {
                    let head = sp.head.as_ref().map(|h| h.capture_locations());
                    (sp.regex.capture_locations(), head)
                })
                .collect(),
            shared: crate::intern::Interner::default(),
            peeler: Peeler::new(reg),
            heads: fmt
                .start
                .iter()
                .map(|sp| {
                    let h = sp.head.as_ref()?;
                    head_is_closed(h.as_str()).then(Recent::default)
                })
                .collect(),
            slots: Vec::new(),
            place: String::new(),
        }
    }

    /// What the physical line `raw` is, before the record state decides what it does.
    pub fn prepare(&mut self, raw: &str) -> Prepared {
        if raw == SKIP {
            return Prepared::Skipped;
        }
        let clean = strip_ansi(raw);
        let (line, prefix) = if self.fmt.collectors {
            self.peeler.strip(self.reg, &clean)
        } else {
            (clean.as_ref(), Prefix::default())
        };
        let Prefix {
            ts: prefix_ts,
            container: key,
        } = prefix;
        let ignored = match &self.fmt.ignore_any {
            Some(any) => any.is_match(line),
            None => self.fmt.ignore.iter().any(|r| r.is_match(line)),
        };
        if ignored {
            return Prepared::Ignored;
        }
        let fmt = self.fmt;
        if let Some(j) = &fmt.json {
            return self.json(line, j, key);
        }
        // Copy artefacts are cut off; they also mark the end of a record, and a `level` group in the
        // artefact gives the record its level (DevTools' "Understand this error").
        let mut closes = false;
        let mut strip_level = None;
        let mut stripped: Cow<'_, str> = Cow::Borrowed(line);
        for r in &self.fmt.strip {
            // `captures` allocates its slots before it searches; most lines have no artefact.
            if !r.is_match(&stripped) {
                continue;
            }
            let Some(caps) = r.captures(&stripped) else {
                continue;
            };
            if strip_level.is_none() {
                strip_level = caps
                    .name("level")
                    .and_then(|l| self.fmt.level_of(l.as_str()));
            }
            stripped = Cow::Owned(r.replace_all(&stripped, "").into_owned());
            closes = true;
        }
        let line: &str = &stripped;
        if line.trim().is_empty() {
            return Prepared::Blank {
                key,
                closes,
                strip_level,
            };
        }
        let started = self.try_start(line);
        let text = match &started {
            Some((_, false)) => None,
            _ => Some(line.to_string()),
        };
        Prepared::Text(TextLine {
            key,
            prefix_ts,
            closes,
            strip_level,
            started,
            text,
        })
    }

    fn try_start(&mut self, line: &str) -> Option<(Event, bool)> {
        let fmt = self.fmt;
        // The head alone decides a line without line breaks: `.` and `$` of the tail it drops would
        // treat one (`\n`, or `\r` under CRLF mode) differently.
        let plain = memchr::memchr2(b'\n', b'\r', line.as_bytes()).is_none();
        for (k, (sp, (whole, head))) in fmt.start.iter().zip(self.locs.iter_mut()).enumerate() {
            let (re, locs, rest) = match (&sp.head, head) {
                (Some(h), Some(l)) if plain => (h, l, true),
                _ => (&sp.regex, whole, false),
            };
            let memo = match self.heads.get_mut(k) {
                Some(Some(m)) if rest => Some(m),
                _ => None,
            };
            // The groups of the line read into `slots`, and where the match ends.
            let read = |slots: &mut Vec<Option<(usize, usize)>>,
                        locs: &mut regex::CaptureLocations| {
                let m = re.captures_read(locs, line)?;
                slots.clear();
                slots.extend((0..locs.len()).map(|i| locs.get(i)));
                Some(m.end())
            };
            let end = match memo {
                Some(memo) => {
                    let Some(m) = re.find(line) else { continue };
                    let key = line.get(..m.end()).unwrap_or_default();
                    if let Some(groups) = memo.get(key) {
                        self.slots.clear();
                        self.slots.extend_from_slice(groups);
                    } else {
                        if read(&mut self.slots, locs).is_none() {
                            continue;
                        }
                        memo.put(key, self.slots.clone().into_boxed_slice());
                    }
                    m.end()
                }
                None => {
                    let Some(end) = read(&mut self.slots, locs) else {
                        continue;
                    };
                    end
                }
            };
            let mut ev = Event {
                level: sp.level,
                ..Default::default()
            };
            let mut message = if rest {
                line.get(end..).map(|r| r.trim_end().to_string())
            } else {
                None
            };
            let mut loc = LocationParts::default();
            for (i, name) in re.capture_names().enumerate() {
                let Some(name) = name else { continue };
                let Some(v) = self
                    .slots
                    .get(i)
                    .copied()
                    .flatten()
                    .and_then(|(a, b)| line.get(a..b))
                else {
                    continue;
                };
                match name {
                    "ts" => ev.raw_ts = parse_time(&fmt.time_formats, v),
                    "level" => {
                        if let Some(l) = fmt.level_of(v) {
                            ev.level = Some(l);
                        }
                    }
                    "target" => ev.target = Some(self.shared.get(v)),
                    "message" => message = Some(v.trim_end().to_string()),
                    other => {
                        if !loc.take(other, v) {
                            ev.fields.push((self.shared.get(other), v.to_string()))
                        }
                    }
                }
            }
            ev.location = loc.location(&mut self.place).map(|l| self.shared.get(l));
            ev.message = message.unwrap_or_else(|| line.trim_end().to_string());
            ev.fields.shrink_to_fit();
            return Some((ev, sp.weak));
        }
        None
    }

    /// A JSON-lines line: its event, or the line itself when it is not one.
    fn json(&mut self, line: &str, j: &JsonPaths, key: Option<String>) -> Prepared {
        let t = line.trim();
        if t.is_empty() {
            return Prepared::Blank {
                key,
                closes: false,
                strip_level: None,
            };
        }
        let v: Value = match serde_json::from_str(t) {
            Ok(v) => v,
            Err(_) => {
                return Prepared::Json {
                    key,
                    event: Err(line.to_string()),
                }
            }
        };
        if !j.require.iter().all(|p| json_path(&v, p).is_some()) {
            return Prepared::Json {
                key,
                event: Err(line.to_string()),
            };
        }
        let first = |paths: &[String]| paths.iter().find_map(|p| json_path(&v, p));
        let mut ev = Event::default();
        let msg = first(&j.message)
            .map(|c| c.into_owned())
            .unwrap_or_default();
        let mut lines = msg.lines();
        ev.message = lines.next().unwrap_or("").to_string();
        ev.continuation = lines.map(|l| l.to_string()).collect();
        ev.level = first(&j.level).and_then(|l| self.fmt.level_of(&l));
        ev.target = first(&j.target).map(|c| self.shared.get(&c));
        ev.location = first(&j.location).map(|c| match first(&j.srcline) {
            Some(l) => self.shared.get(&format!("{c}:{l}")),
            None => self.shared.get(&c),
        });
        ev.raw_ts = first(&j.ts).and_then(|s| parse_time(&self.fmt.time_formats, &s));
        for p in &j.fields {
            if let Some(Value::Object(m)) = p.split('.').try_fold(&v, |acc, k| acc.get(k)) {
                for (k, val) in m {
                    if k == "message" {
                        continue;
                    }
                    let s = match val {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    ev.fields.push((self.shared.get(k), s));
                }
            }
        }
        // A start pattern that fits the message's first line refines it (`%cINFO%c file.rs:12 %c` of
        // console_log, `url line:col text`): its level, location, target and fields win, its message
        // group replaces the line.
        if let Some((sub, _)) = self.try_start(&ev.message) {
            ev.message = sub.message;
            ev.level = sub.level.or(ev.level);
            ev.location = sub.location.or(ev.location.take());
            ev.target = sub.target.or(ev.target.take());
            if sub.raw_ts.is_some() {
                ev.raw_ts = sub.raw_ts;
            }
            ev.fields.extend(sub.fields);
        }
        // An event with fields and no message text reads as its fields, as a text logger prints it.
        if ev.message.is_empty() && ev.continuation.is_empty() && !ev.fields.is_empty() {
            let kv: Vec<String> = ev.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            ev.message = kv.join(" ");
        }
        Prepared::Json { key, event: Ok(ev) }
    }
}

/// `s` without trailing white space, in place.
fn trimmed(mut s: String) -> String {
    s.truncate(s.trim_end().len());
    s
}

impl<'a> SourceParser<'a> {
    /// A parser for one source in format `fmt`.
    pub fn new(fmt: &'a Format, reg: &'a Registry) -> Self {
        SourceParser {
            fmt,
            extract: &reg.entities,
            pending: Default::default(),
            order: Vec::new(),
            stats: ParseStats::default(),
            out: Vec::new(),
            max_events: MAX_EVENTS,
            last_instant: None,
            prep: LinePrep::new(fmt, reg),
            in_gap: false,
        }
    }

    /// Number the streams as a reading of the whole input numbered them (containers in order of
    /// first appearance): a reading of some lines only may meet them in another order, or not at all.
    pub fn number_streams(&mut self, keys: &[Option<String>]) {
        for k in keys {
            if !self.out.iter().any(|(o, _)| o == k) {
                self.out.push((k.clone(), Vec::new()));
            }
        }
    }

    fn flush(&mut self, key: &Option<String>) {
        if let Some(p) = self.pending.remove(key) {
            let ev = self.finish_event(p.ev);
            self.emit(key, ev);
        }
    }

    fn emit(&mut self, key: &Option<String>, ev: Event) {
        // Kept for the whole run: see MAX_EVENTS.
        match self.out.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => {
                v.push(ev);
                let cap = self.max_events.max(4);
                if v.len() >= cap {
                    // A quarter at a time, right after the kept head: amortised, and the tail stays.
                    let head = cap / 2;
                    let drop = cap / 4;
                    v.drain(head..head + drop);
                    self.stats.dropped_events += drop as u64;
                }
            }
            None => self.out.push((key.clone(), vec![ev])),
        }
    }

    /// The shared copy of a target or location.
    fn share(&mut self, v: Option<Arc<str>>) -> Option<Arc<str>> {
        Some(self.prep.shared.share(v?))
    }

    /// Years a log line's own time may fall in: outside, the time is a sentinel (an unset clock's 1970,
    /// a `9999-12-31` "never") and would drag its neighbours with it on the timeline.
    const PLAUSIBLE_YEARS: std::ops::Range<i32> = 1990..2100;

    /// Drop an implausible time (counted, kept as field `implausible_ts`) and count times that go back.
    fn check_time(&mut self, ev: &mut Event) {
        use chrono::Datelike;
        let instant = match ev.raw_ts {
            Some(RawTime::Instant(t)) => t.naive_utc(),
            Some(RawTime::Local(t)) => t,
            _ => return,
        };
        if !Self::PLAUSIBLE_YEARS.contains(&instant.year()) {
            self.stats.implausible_times += 1;
            ev.fields.push((
                "implausible_ts".into(),
                instant.format("%Y-%m-%dT%H:%M:%S%.f").to_string(),
            ));
            ev.raw_ts = None;
            return;
        }
        if let Some(last) = self.last_instant {
            if instant + chrono::Duration::seconds(1) < last {
                self.stats.time_backwards += 1;
            }
        }
        self.last_instant = Some(instant);
    }

    fn finish_event(&mut self, mut ev: Event) -> Event {
        self.check_time(&mut ev);
        if self.fmt.unescape {
            // The record's own lines are the escaped text's lines.
            let decoded = super::unescape::unescape(&ev.message);
            if let std::borrow::Cow::Owned(text) = decoded {
                let mut lines = text
                    .split('\n')
                    .map(|l| l.trim_end_matches('\r').to_string());
                ev.message = lines.next().unwrap_or_default();
                let mut more: crate::model::ThinVec<String> = lines.collect();
                more.truncate(super::MAX_CONTINUATION);
                more.append(&mut ev.continuation);
                ev.continuation = more;
            }
        }
        // Trailing blank lines belong to the gap between records, not to the record.
        while ev.continuation.last().is_some_and(|l| l.trim().is_empty()) {
            ev.continuation.pop();
        }
        // A first line with no text of its own (`ERROR src/x.rs:12 ` then the text on the next line):
        // the first non-blank further line is the message, when it is text (not a `~~~~` banner).
        if ev.message.trim().is_empty() {
            if let Some(i) = ev.continuation.iter().position(|l| !l.trim().is_empty()) {
                if let Some(text) = ev
                    .continuation
                    .get(i)
                    .filter(|l| l.chars().any(char::is_alphanumeric))
                    .map(|l| l.trim().to_string())
                {
                    ev.message = text;
                    ev.continuation.drain(..=i);
                }
            }
        }
        if ev.level.is_none() {
            let text = ev.full_text();
            for (re, lvl) in &self.fmt.level_hints {
                if re.is_match(&text) {
                    ev.level = Some(*lvl);
                    break;
                }
            }
        }
        // Entities are extracted in `finish`, on every core, and only for the events kept.
        ev.target = self.share(ev.target.take());
        ev.location = self.share(ev.location.take());
        // Events are kept for the whole run: give back what the vectors reserved while growing.
        ev.fields.shrink_to_fit();
        ev.continuation.shrink_to_fit();
        ev
    }

    /// Close every open record and return the events, one stream per container in order of first
    /// appearance (a plain log is one stream with no container).
    pub fn finish(mut self) -> Vec<(Option<String>, Vec<Event>)> {
        let keys = std::mem::take(&mut self.order);
        for k in keys {
            self.flush(&k);
        }
        let mut out = self.out;
        let mut all: Vec<&mut [Event]> = out.iter_mut().map(|(_, v)| v.as_mut_slice()).collect();
        extract_entities(self.extract, &mut all);
        out
    }

    /// Take the events finished so far, as `(stream, events)`, without their entities (the caller
    /// extracts them with [`fill_entities`], on a thread of its choice): streams are numbered in
    /// order of first appearance, as [`SourceParser::finish`] returns them. A streaming reader drains
    /// as it goes and keeps no events; `finish` then returns only what came after.
    pub fn drain(&mut self) -> Vec<(usize, Vec<Event>)> {
        self.out
            .iter_mut()
            .enumerate()
            .filter(|(_, (_, v))| !v.is_empty())
            .map(|(k, (_, v))| (k, std::mem::take(v)))
            .collect()
    }

    /// Events finished and not yet drained.
    pub fn ready(&self) -> usize {
        self.out.iter().map(|(_, v)| v.len()).sum()
    }

    fn unparsed(&mut self, lineno: u64, text: &str) {
        self.stats.unparsed += 1;
        if self.stats.unparsed_samples.len() < UNPARSED_SAMPLES {
            let t: String = text.chars().take(200).collect();
            self.stats.unparsed_samples.push((lineno, t));
        }
    }

    /// Prepare a line on this thread (see [`LinePrep`]); [`SourceParser::apply`] takes it on.
    pub fn prepare(&mut self, raw: &str) -> Prepared {
        self.prep.prepare(raw)
    }

    /// Feed one physical line (1-based number).
    pub fn push(&mut self, lineno: u64, raw: &str) {
        let p = self.prep.prepare(raw);
        self.apply(lineno, p);
    }

    /// Feed one physical line (1-based number) that a [`LinePrep`] of this format prepared: lines must
    /// come in order, whoever prepared them.
    pub fn apply(&mut self, lineno: u64, p: Prepared) {
        if matches!(p, Prepared::Skipped) {
            if !self.in_gap {
                self.in_gap = true;
                for k in self.order.clone() {
                    self.flush(&k);
                }
            }
            return;
        }
        self.in_gap = false;
        let t = match p {
            Prepared::Skipped => return,
            Prepared::Ignored => {
                self.stats.meta += 1;
                return;
            }
            Prepared::Json { key, event } => {
                match event {
                    Ok(mut ev) => {
                        ev.line = lineno;
                        ev.end_line = lineno;
                        self.stats.events += 1;
                        let ev = self.finish_event(ev);
                        self.emit(&key, ev);
                    }
                    Err(line) => self.unparsed(lineno, &line),
                }
                return;
            }
            Prepared::Blank {
                key,
                closes,
                strip_level,
            } => {
                self.blank(lineno, key, closes, strip_level);
                return;
            }
            Prepared::Text(t) => t,
        };
        let pending_open = self.pending.get(&t.key).map(|p| !p.closed);
        let begin = match self.fmt.mode {
            Mode::Single => true,
            Mode::Start => match &t.started {
                Some((_, weak)) => !*weak || pending_open != Some(true),
                None => false,
            },
            Mode::End => pending_open != Some(true) || t.started.as_ref().is_some_and(|(_, w)| !*w),
        };
        if begin {
            self.flush(&t.key);
            let mut ev = match t.started {
                Some((ev, _)) => ev,
                None => Event {
                    message: trimmed(t.text.unwrap_or_default()),
                    ..Default::default()
                },
            };
            ev.line = lineno;
            ev.end_line = lineno;
            if let Some(ts) = t.prefix_ts {
                ev.raw_ts = Some(RawTime::Instant(ts));
            }
            if ev.level.is_none() {
                ev.level = t.strip_level;
            }
            let mut p = Pending {
                ev,
                closed: t.closes,
            };
            Self::close_on(self.fmt, &mut self.prep.shared, &mut p);
            if !self.order.contains(&t.key) {
                self.order.push(t.key.clone());
            }
            self.stats.events += 1;
            let close_now = self.fmt.mode == Mode::Single;
            self.pending.insert(t.key.clone(), p);
            if close_now {
                self.flush(&t.key);
            }
            return;
        }
        // Not a beginning: a line with no start or a weak one, so `prepare` kept its t.text.
        let line = t.text.unwrap_or_default();
        match self.pending.get_mut(&t.key) {
            Some(p) => {
                let line = trimmed(line);
                if p.ev.continuation.len() < MAX_CONTINUATION {
                    p.ev.continuation.push(line);
                } else {
                    // Past the cap the newest line replaces the last kept one, so end and trailer
                    // patterns still see the record's real last line.
                    self.stats.dropped_continuation += 1;
                    if let Some(last) = p.ev.continuation.last_mut() {
                        *last = line;
                    }
                }
                p.ev.end_line = lineno;
                if t.closes {
                    p.closed = true;
                    if p.ev.level.is_none() {
                        p.ev.level = t.strip_level;
                    }
                }
                self.stats.continuation += 1;
                Self::close_on(self.fmt, &mut self.prep.shared, p);
                if p.closed && self.fmt.mode == Mode::End {
                    self.flush(&t.key);
                }
            }
            None => self.unparsed(lineno, &line),
        }
    }

    /// A line with nothing left once its artefacts are cut: part of an open multi-line record, or a gap.
    fn blank(
        &mut self,
        lineno: u64,
        key: Option<String>,
        closes: bool,
        strip_level: Option<Level>,
    ) {
        match self.pending.get_mut(&key) {
            Some(p) if self.fmt.mode != Mode::Single && !p.closed => {
                if p.ev.continuation.len() < MAX_CONTINUATION {
                    p.ev.continuation.push(String::new());
                } else {
                    self.stats.dropped_continuation += 1;
                }
                p.ev.end_line = lineno;
                self.stats.continuation += 1;
            }
            _ => self.stats.blank += 1,
        }
        if closes {
            if let Some(p) = self.pending.get_mut(&key) {
                p.closed = true;
                if p.ev.level.is_none() {
                    p.ev.level = strip_level;
                }
            }
        }
    }

    /// Cut the trailer, then the end pattern, off the record's last line; either one closes it.
    fn close_on(fmt: &Format, shared: &mut crate::intern::Interner, p: &mut Pending) {
        for pat in [fmt.trailer.as_ref(), fmt.end.as_ref()]
            .into_iter()
            .flatten()
        {
            let ev = &mut p.ev;
            let last = match ev.continuation.last_mut() {
                Some(l) => l,
                None => &mut ev.message,
            };
            let Some(cut) = cut_trailer(pat, last) else {
                continue;
            };
            // A trailer alone on the last line leaves nothing of that line.
            if last.trim().is_empty() && !ev.continuation.is_empty() {
                ev.continuation.pop();
            }
            if ev.location.is_none() {
                ev.location = cut.location.map(Arc::from);
            }
            ev.fields
                .extend(cut.fields.into_iter().map(|(k, v)| (shared.get(&k), v)));
            p.closed = true;
        }
    }
}

/// The location groups of a pattern: `file` (or `url`), `srcline`, `col`.
#[derive(Default)]
struct LocationParts<'a> {
    file: Option<&'a str>,
    srcline: Option<&'a str>,
    col: Option<&'a str>,
}

impl<'a> LocationParts<'a> {
    /// Keep `v` when `name` is a location group.
    fn take(&mut self, name: &str, v: &'a str) -> bool {
        let slot = match name {
            "file" | "url" => &mut self.file,
            "srcline" => &mut self.srcline,
            "col" => &mut self.col,
            _ => return false,
        };
        if slot.is_none() {
            *slot = Some(v);
        }
        true
    }

    /// `file:line:col`, `file:line`, `file` or `:line`, written into `buf` (one buffer for every
    /// line: the shared copy is looked up by it, and most lines name a location seen before).
    fn location<'b>(&self, buf: &'b mut String) -> Option<&'b str> {
        buf.clear();
        match (self.file, self.srcline) {
            (None, None) => return None,
            (f, l) => {
                buf.push_str(f.unwrap_or(""));
                if let Some(l) = l {
                    buf.push(':');
                    buf.push_str(l);
                    if let Some(c) = self.col {
                        buf.push(':');
                        buf.push_str(c);
                    }
                }
            }
        }
        Some(buf)
    }
}

/// Fewest events worth a second thread for entity extraction.
const PARALLEL_MIN: usize = 16 * 1024;

/// Fill every event's entities. Extraction is a fifth of parsing and each record's is independent, so
/// a large source is cut into one piece per core: one big file no longer keeps the other core idle.
fn extract_entities(extract: &crate::defs::Extractors, streams: &mut [&mut [Event]]) {
    let total: usize = streams.iter().map(|s| s.len()).sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || total < PARALLEL_MIN {
        for s in streams.iter_mut() {
            fill_entities(extract, s, &mut Default::default());
        }
        return;
    }
    let piece = total.div_ceil(cores).max(1);
    std::thread::scope(|scope| {
        for s in streams.iter_mut() {
            for chunk in s.chunks_mut(piece) {
                // A clone per thread: a `Regex` serves one thread from its fast path and every other
                // thread through a locked pool (5 % of a 1 GB run went there).
                let own = extract.clone();
                scope.spawn(move || fill_entities(&own, chunk, &mut Default::default()));
            }
        }
    });
}

/// Entities of a run of events (see [`crate::entities::Extractors::apply_memo`]).
pub fn fill_entities(
    extract: &crate::defs::Extractors,
    evs: &mut [Event],
    memo: &mut crate::entities::Memo,
) {
    for ev in evs {
        extract.apply_memo(ev, memo);
    }
}

/// What a trailer (or end) pattern cut off a line: its location groups and its other groups as fields.
struct Cut {
    location: Option<String>,
    fields: Vec<(String, String)>,
}

/// Cut a trailer pattern off the end of `text`: location groups give a location, others become fields.
fn cut_trailer(re: &regex::Regex, text: &mut String) -> Option<Cut> {
    let caps = re.captures(text)?;
    let m = caps.get(0)?;
    let mut loc = LocationParts::default();
    let mut fields = Vec::new();
    for n in re.capture_names().flatten() {
        if let Some(v) = caps.name(n) {
            if !loc.take(n, v.as_str()) {
                fields.push((n.to_string(), v.as_str().to_string()));
            }
        }
    }
    let start = m.start();
    let location = loc.location(&mut String::new()).map(str::to_string);
    text.truncate(start);
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    Some(Cut { location, fields })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn lines_under(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                lines_under(&p, out);
            } else if let Ok(bytes) = std::fs::read(&p) {
                let text = String::from_utf8_lossy(&bytes);
                out.extend(
                    text.lines()
                        .take(5000)
                        .map(|l| crate::parse::ansi::strip_ansi(l).into_owned()),
                );
            }
        }
    }

    /// Every line of the samples (and of the real logs when they are there) and `extra`, each also
    /// as the parser sees it: collector prefixes (compose, docker -t, CI) peeled off.
    pub(crate) fn corpus_lines(reg: &Registry, extra: &[&str]) -> Vec<String> {
        let mut lines = Vec::new();
        lines_under(std::path::Path::new("samples"), &mut lines);
        lines_under(std::path::Path::new("../shared/real-logs"), &mut lines);
        lines.extend(extra.iter().map(|l| l.to_string()));
        let peeled: Vec<String> = lines
            .iter()
            .map(|l| crate::parse::prefix::strip_collectors(reg, l).0.to_string())
            .collect();
        lines.extend(peeled);
        lines
    }

    /// A format's `ignore` patterns joined in one alternation ignore exactly the lines the list does,
    /// on every sample line (and real-log line when they are there), peeled and not.
    #[test]
    fn the_ignore_union_ignores_what_the_list_ignores() {
        let reg = Registry::load(None).unwrap();
        let lines = corpus_lines(&reg, &["ok", "   ---- STDOUT: x", "> npm test"]);
        let mut ignored = 0;
        for fmt in reg.formats.iter().filter(|f| !f.ignore.is_empty()) {
            let any = fmt
                .ignore_any
                .as_ref()
                .expect("a union for a non-empty list");
            for line in &lines {
                let want = fmt.ignore.iter().any(|r| r.is_match(line));
                assert_eq!(any.is_match(line), want, "{}: {line:?}", fmt.name);
                ignored += usize::from(want);
            }
        }
        assert!(ignored > 0, "some lines are meta lines");
    }

    /// A start pattern's head (the pattern without its trailing message group) gives the same event
    /// as the whole pattern, on every line of the samples (and of the real logs when they are there),
    /// for every built-in format, also when the head's groups come from the memo of recent heads.
    #[test]
    fn start_heads_parse_like_their_whole_patterns() {
        let reg = Registry::load(None).unwrap();
        let lines = corpus_lines(&reg, &["  INFO citadel: a.rs:1: tail with \r inside\r"]);
        assert!(lines.len() > 1000);
        let (mut with_head, mut started, mut remembered) = (0, 0, 0);
        for fmt in &reg.formats {
            with_head += fmt.start.iter().filter(|s| s.head.is_some()).count();
            let mut fast = SourceParser::new(fmt, &reg);
            let mut whole = SourceParser::new(fmt, &reg);
            for l in whole.prep.locs.iter_mut() {
                l.1 = None;
            }
            // Each line again a few lines later: the second time its head's groups come from the
            // memo of heads seen lately.
            for (i, first) in lines.iter().enumerate() {
                for line in [first, &lines[i.saturating_sub(3)]] {
                    let a = fast
                        .prep
                        .try_start(line)
                        .map(|(e, w)| (format!("{e:?}"), w));
                    let b = whole
                        .prep
                        .try_start(line)
                        .map(|(e, w)| (format!("{e:?}"), w));
                    started += usize::from(a.is_some());
                    assert_eq!(a, b, "{}: {line:?}", fmt.name);
                }
            }
            remembered += fast
                .prep
                .heads
                .iter()
                .flatten()
                .map(Recent::len)
                .sum::<usize>();
        }
        assert!(with_head >= 10, "{with_head}");
        assert!(started > 1000, "{started}");
        assert!(remembered > 100, "{remembered} heads remembered");
    }

    #[test]
    fn only_heads_that_look_at_nothing_past_their_match_are_remembered() {
        assert!(head_is_closed(
            r"^\s*(?P<level>INFO|WARN) (?P<target>\w+): "
        ));
        for open in [
            r"^(?P<level>\w+)\b",
            r"^\w+\B",
            r"^a ?$",
            r"^(?m)a$",
            r"^a\z",
        ] {
            assert!(!head_is_closed(open), "{open}");
        }
    }

    #[test]
    fn events_past_the_cap_are_dropped_from_the_middle_and_counted() {
        let reg = Registry::load(None).unwrap();
        let fmt = reg.format("plain").unwrap();
        let mut p = SourceParser::new(fmt, &reg);
        p.max_events = 100;
        for i in 1..=10_000u64 {
            p.push(i, &format!("line {i}"));
        }
        let dropped = p.stats.dropped_events;
        let evs: Vec<Event> = p.finish().into_iter().flat_map(|(_, v)| v).collect();
        assert!(evs.len() < 100);
        assert_eq!(dropped + evs.len() as u64, 10_000);
        assert_eq!(evs[0].message, "line 1");
        assert_eq!(evs[49].message, "line 50");
        assert_eq!(evs.last().unwrap().message, "line 10000");
    }
}
