//! Parse: cut one source's lines into records with its format definition, and make events of them.
//!
//! Per line: strip ANSI, strip collector prefixes (keeping their timestamp and container), skip meta
//! lines, then start, continue or end a record as the format's mode says. Records become `Event`s with
//! the shared entity extractors. Every line is accounted for: an event's first line, a continuation, a
//! meta line, a blank line, or an unparsed line (counted, first few kept for `formats detect`).

use crate::entities::Extractors;
use crate::event::{Event, Level, RawTime};
use crate::format::{Format, JsonPaths, Mode, Registry};
use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeZone, Utc};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// Remove ANSI escape sequences (CSI, OSC and two-byte escapes).
pub fn strip_ansi(s: &str) -> Cow<'_, str> {
    if !s.contains('\x1b') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                // CSI: parameters then one final byte in @..~
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            Some(']') => {
                chars.next();
                // OSC: until BEL or ESC \
                while let Some(d) = chars.next() {
                    if d == '\x07' {
                        break;
                    }
                    if d == '\x1b' {
                        chars.next();
                        break;
                    }
                }
            }
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    Cow::Owned(out)
}

/// Counts of what became of every line of one source.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ParseStats {
    /// Records made.
    pub events: u64,
    /// Lines attached to a record after its first.
    pub continuation: u64,
    /// Meta lines (headers, test-harness lines) skipped on purpose.
    pub meta: u64,
    /// Blank lines between records.
    pub blank: u64,
    /// Lines that fit nothing.
    pub unparsed: u64,
    /// Continuation lines not kept because a record passed `MAX_CONTINUATION` lines (still counted).
    pub dropped_continuation: u64,
    /// The first unparsed lines: (line number, text).
    #[serde(skip)]
    pub unparsed_samples: Vec<(u64, String)>,
}

const UNPARSED_SAMPLES: usize = 5;

/// Most continuation lines kept per record: a runaway record (an unterminated dump, a huge `{:#?}`)
/// must not hold a whole file in memory.
pub const MAX_CONTINUATION: usize = 2000;

struct Pending {
    ev: Event,
    closed: bool,
}

/// Incremental parser of one source; events come out in source order, tagged with their container.
pub struct SourceParser<'a> {
    fmt: &'a Format,
    reg: &'a Registry,
    extract: &'a Extractors,
    // One open record per container: interleaved compose streams keep their own multi-line state.
    pending: HashMap<Option<String>, Pending>,
    order: Vec<Option<String>>,
    /// What became of the lines so far.
    pub stats: ParseStats,
    // Finished events per container, in order of each container's first event.
    out: Vec<(Option<String>, Vec<Event>)>,
}

/// What a collector prefix told about a line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Prefix {
    /// Collector timestamp.
    pub ts: Option<DateTime<Utc>>,
    /// Compose service (`internal-service-1`).
    pub container: Option<String>,
}

/// Strip collector prefixes from a line (ANSI already removed).
pub fn strip_collectors<'l>(reg: &Registry, mut line: &'l str) -> (&'l str, Prefix) {
    let mut p = Prefix::default();
    // Prefixes nest (a CI runner's time, then compose's service, then docker's time): peel until none fits.
    for _ in 0..4 {
        let mut hit = false;
        for c in &reg.collectors {
            if let Some(caps) = c.regex.captures(line) {
                let Some(m) = caps.get(0) else { continue };
                if m.start() != 0 || m.end() == 0 {
                    continue;
                }
                if let Some(ts) = caps.name("ts") {
                    if p.ts.is_none() || c.name != "github-actions" {
                        if let Ok(t) = DateTime::parse_from_rfc3339(ts.as_str()) {
                            p.ts = Some(t.with_timezone(&Utc));
                        }
                    }
                }
                if let Some(ct) = caps.name("container") {
                    p.container = Some(ct.as_str().to_string());
                }
                line = &line[m.end()..];
                hit = true;
                break;
            }
        }
        if !hit {
            break;
        }
    }
    (line, p)
}

/// Parse a time string with the format's accepted time formats.
pub fn parse_time(formats: &[String], s: &str) -> Option<RawTime> {
    let s = s.trim();
    for f in formats {
        let t = match f.as_str() {
            "rfc3339" => DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| RawTime::Instant(t.with_timezone(&Utc))),
            "epoch_ms" => s.parse::<f64>().ok().and_then(|ms| epoch(ms / 1000.0)),
            "epoch_s" => s.parse::<f64>().ok().and_then(epoch),
            "time_of_day" => NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                .ok()
                .map(RawTime::TimeOfDay),
            "chrome_debug" => chrome_debug_time(s),
            pat => {
                if pat.contains("%z") || pat.contains("%:z") {
                    DateTime::parse_from_str(s, pat)
                        .ok()
                        .map(|t| RawTime::Instant(t.with_timezone(&Utc)))
                } else {
                    NaiveDateTime::parse_from_str(s, pat)
                        .ok()
                        .map(RawTime::Local)
                }
            }
        };
        if t.is_some() {
            return t;
        }
    }
    None
}

fn epoch(secs: f64) -> Option<RawTime> {
    if !secs.is_finite() || !(0.0..1e11).contains(&secs) {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round() as u32;
    Utc.timestamp_opt(whole as i64, nanos.min(999_999_999))
        .single()
        .map(RawTime::Instant)
}

/// `MMDD/HHMMSS[.ffffff]` of chrome_debug.log: month and day, no year, local time.
fn chrome_debug_time(s: &str) -> Option<RawTime> {
    let (md, t) = s.split_once('/')?;
    if md.len() != 4 || t.len() < 6 {
        return None;
    }
    let month: u32 = md.get(..2)?.parse().ok()?;
    let day: u32 = md.get(2..)?.parse().ok()?;
    let (hms, frac) = match t.split_once('.') {
        Some((a, b)) => (a, b),
        None => (t, ""),
    };
    let h: u32 = hms.get(..2)?.parse().ok()?;
    let m: u32 = hms.get(2..4)?.parse().ok()?;
    let sec: u32 = hms.get(4..6)?.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        let n: u32 = digits.parse().ok()?;
        n * 10u32.pow(9 - digits.len() as u32)
    };
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(RawTime::MonthDay(month, day, time))
}

/// Walk a JSON path: `a.b`; `a[].b` joins array members with spaces; `x|y` tries alternatives, and
/// from the step where the first `|` stands, each alternative is a path of its own
/// (`a.value|preview.properties[].value|description`).
pub fn json_path<'v>(v: &'v Value, path: &str) -> Option<Cow<'v, str>> {
    fn scalar(v: &Value) -> Option<Cow<'_, str>> {
        match v {
            Value::String(s) => Some(Cow::Borrowed(s.as_str())),
            Value::Number(n) => Some(Cow::Owned(n.to_string())),
            Value::Bool(b) => Some(Cow::Owned(b.to_string())),
            Value::Null => None,
            other => Some(Cow::Owned(other.to_string())),
        }
    }
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    if head.contains('|') {
        return path.split('|').find_map(|alt| json_path(v, alt));
    }
    if let Some(arr_key) = head.strip_suffix("[]") {
        let arr = v.get(arr_key)?.as_array()?;
        let parts: Vec<String> = arr
            .iter()
            .filter_map(|item| match rest {
                Some(r) => json_path(item, r).map(|c| c.into_owned()),
                None => scalar(item).map(|c| c.into_owned()),
            })
            .collect();
        return if parts.is_empty() {
            None
        } else {
            Some(Cow::Owned(parts.join(" ")))
        };
    }
    match rest {
        Some(r) => json_path(v.get(head)?, r),
        None => v.get(head).and_then(scalar),
    }
}

/// Whether a line is a JSON object with the format's required paths.
pub fn json_matches(j: &JsonPaths, line: &str) -> bool {
    let t = line.trim_start();
    if !t.starts_with('{') {
        return false;
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v) => j.require.iter().all(|p| json_path(&v, p).is_some()),
        Err(_) => false,
    }
}

/// Parse one line as a record of `fmt` (used to check a definition's samples).
pub fn parse_sample(fmt: &Format, line: &str) -> Option<Event> {
    let reg = Registry {
        formats: vec![],
        collectors: vec![],
        entities: Extractors::default(),
        anchors: vec![],
    };
    let mut p = SourceParser::new(fmt, &reg);
    p.push(1, line);
    let out: Vec<(Option<String>, Event)> = p
        .finish()
        .into_iter()
        .flat_map(|(k, v)| v.into_iter().map(move |e| (k.clone(), e)))
        .collect();
    out.into_iter().next().map(|(_, e)| e)
}

impl<'a> SourceParser<'a> {
    /// A parser for one source in format `fmt`.
    pub fn new(fmt: &'a Format, reg: &'a Registry) -> Self {
        SourceParser {
            fmt,
            reg,
            extract: &reg.entities,
            pending: HashMap::new(),
            order: Vec::new(),
            stats: ParseStats::default(),
            out: Vec::new(),
        }
    }

    fn flush(&mut self, key: &Option<String>) {
        if let Some(p) = self.pending.remove(key) {
            let ev = self.finish_event(p.ev);
            self.emit(key, ev);
        }
    }

    fn emit(&mut self, key: &Option<String>, ev: Event) {
        match self.out.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => v.push(ev),
            None => self.out.push((key.clone(), vec![ev])),
        }
    }

    fn finish_event(&self, mut ev: Event) -> Event {
        // Trailing blank lines belong to the gap between records, not to the record.
        while ev.continuation.last().is_some_and(|l| l.trim().is_empty()) {
            ev.continuation.pop();
        }
        // A first line with no text of its own (`ERROR src/x.rs:12 ` then the text on the next line):
        // the first non-blank further line is the message, when it is text (not a `~~~~` banner).
        if ev.message.trim().is_empty() {
            if let Some(i) = ev.continuation.iter().position(|l| !l.trim().is_empty()) {
                if ev.continuation[i].chars().any(char::is_alphanumeric) {
                    ev.message = ev.continuation[i].trim().to_string();
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
        self.extract.apply(&mut ev);
        // Events are kept for the whole run: give back what the vectors reserved while growing.
        ev.fields.shrink_to_fit();
        ev.cids.shrink_to_fit();
        ev.uuids.shrink_to_fit();
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
        self.out
    }

    fn unparsed(&mut self, lineno: u64, text: &str) {
        self.stats.unparsed += 1;
        if self.stats.unparsed_samples.len() < UNPARSED_SAMPLES {
            let t: String = text.chars().take(200).collect();
            self.stats.unparsed_samples.push((lineno, t));
        }
    }

    /// Feed one physical line (1-based number).
    pub fn push(&mut self, lineno: u64, raw: &str) {
        let clean = strip_ansi(raw);
        let (line, prefix) = if self.fmt.collectors {
            strip_collectors(self.reg, &clean)
        } else {
            (clean.as_ref(), Prefix::default())
        };
        let Prefix {
            ts: prefix_ts,
            container: key,
        } = prefix;
        if self.fmt.ignore.iter().any(|r| r.is_match(line)) {
            self.stats.meta += 1;
            return;
        }
        // `fmt` outlives `self`'s borrow: no need to copy the JSON paths for every line.
        let fmt = self.fmt;
        if let Some(j) = &fmt.json {
            self.push_json(lineno, line, j, key);
            return;
        }
        // Copy artefacts are cut off; they also mark the end of a record, and a `level` group in the
        // artefact gives the record its level (DevTools' "Understand this error").
        let mut closes = false;
        let mut strip_level = None;
        let mut stripped: Cow<'_, str> = Cow::Borrowed(line);
        for r in &self.fmt.strip {
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
            return;
        }
        let started = self.try_start(line);
        let pending_open = self.pending.get(&key).map(|p| !p.closed);
        let begin = match self.fmt.mode {
            Mode::Single => true,
            Mode::Start => match &started {
                Some((_, weak)) => !*weak || pending_open != Some(true),
                None => false,
            },
            Mode::End => pending_open != Some(true) || started.as_ref().is_some_and(|(_, w)| !*w),
        };
        if begin {
            self.flush(&key);
            let mut ev = match started {
                Some((ev, _)) => ev,
                None => Event {
                    message: line.trim_end().to_string(),
                    ..Default::default()
                },
            };
            ev.line = lineno;
            ev.end_line = lineno;
            if let Some(ts) = prefix_ts {
                ev.raw_ts = Some(RawTime::Instant(ts));
            }
            if ev.level.is_none() {
                ev.level = strip_level;
            }
            let mut p = Pending { ev, closed: closes };
            Self::close_on(self.fmt, &mut p);
            if !self.order.contains(&key) {
                self.order.push(key.clone());
            }
            self.stats.events += 1;
            let close_now = self.fmt.mode == Mode::Single;
            self.pending.insert(key.clone(), p);
            if close_now {
                self.flush(&key);
            }
            return;
        }
        match self.pending.get_mut(&key) {
            Some(p) => {
                if p.ev.continuation.len() < MAX_CONTINUATION {
                    p.ev.continuation.push(line.trim_end().to_string());
                } else {
                    // Past the cap the newest line replaces the last kept one, so end and trailer
                    // patterns still see the record's real last line.
                    self.stats.dropped_continuation += 1;
                    if let Some(last) = p.ev.continuation.last_mut() {
                        *last = line.trim_end().to_string();
                    }
                }
                p.ev.end_line = lineno;
                if closes {
                    p.closed = true;
                    if p.ev.level.is_none() {
                        p.ev.level = strip_level;
                    }
                }
                self.stats.continuation += 1;
                Self::close_on(self.fmt, p);
                if p.closed && self.fmt.mode == Mode::End {
                    self.flush(&key);
                }
            }
            None => self.unparsed(lineno, line),
        }
    }

    /// Cut the trailer, then the end pattern, off the record's last line; either one closes it.
    fn close_on(fmt: &Format, p: &mut Pending) {
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
                ev.location = cut.location;
            }
            ev.fields.extend(cut.fields);
            p.closed = true;
        }
    }

    fn try_start(&self, line: &str) -> Option<(Event, bool)> {
        for sp in &self.fmt.start {
            let Some(caps) = sp.regex.captures(line) else {
                continue;
            };
            let mut ev = Event {
                level: sp.level,
                ..Default::default()
            };
            let mut message = None;
            let mut loc = LocationParts::default();
            for name in sp.regex.capture_names().flatten() {
                let Some(m) = caps.name(name) else { continue };
                let v = m.as_str();
                match name {
                    "ts" => ev.raw_ts = parse_time(&self.fmt.time_formats, v),
                    "level" => {
                        if let Some(l) = self.fmt.level_of(v) {
                            ev.level = Some(l);
                        }
                    }
                    "target" => ev.target = Some(v.to_string()),
                    "message" => message = Some(v.trim_end().to_string()),
                    other => {
                        if !loc.take(other, v) {
                            ev.fields.push((other.to_string(), v.to_string()))
                        }
                    }
                }
            }
            ev.location = loc.location();
            ev.message = message.unwrap_or_else(|| line.trim_end().to_string());
            return Some((ev, sp.weak));
        }
        None
    }

    fn push_json(&mut self, lineno: u64, line: &str, j: &JsonPaths, key: Option<String>) {
        let t = line.trim();
        if t.is_empty() {
            self.stats.blank += 1;
            return;
        }
        let v: Value = match serde_json::from_str(t) {
            Ok(v) => v,
            Err(_) => return self.unparsed(lineno, line),
        };
        if !j.require.iter().all(|p| json_path(&v, p).is_some()) {
            return self.unparsed(lineno, line);
        }
        let first = |paths: &[String]| paths.iter().find_map(|p| json_path(&v, p));
        let mut ev = Event {
            line: lineno,
            end_line: lineno,
            ..Default::default()
        };
        let msg = first(&j.message)
            .map(|c| c.into_owned())
            .unwrap_or_default();
        let mut lines = msg.lines();
        ev.message = lines.next().unwrap_or("").to_string();
        ev.continuation = lines.map(|l| l.to_string()).collect();
        ev.level = first(&j.level).and_then(|l| self.fmt.level_of(&l));
        ev.target = first(&j.target).map(|c| c.into_owned());
        ev.location = first(&j.location).map(|c| match first(&j.srcline) {
            Some(l) => format!("{c}:{l}"),
            None => c.into_owned(),
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
                    ev.fields.push((k.clone(), s));
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
        self.stats.events += 1;
        let ev = self.finish_event(ev);
        self.emit(&key, ev);
    }
}

/// The location groups of a pattern: `file` (or `url`), `srcline`, `col`.
#[derive(Default)]
struct LocationParts {
    file: Option<String>,
    srcline: Option<String>,
    col: Option<String>,
}

impl LocationParts {
    /// Keep `v` when `name` is a location group.
    fn take(&mut self, name: &str, v: &str) -> bool {
        let slot = match name {
            "file" | "url" => &mut self.file,
            "srcline" => &mut self.srcline,
            "col" => &mut self.col,
            _ => return false,
        };
        if slot.is_none() {
            *slot = Some(v.to_string());
        }
        true
    }

    /// `file:line:col`, `file:line`, `file` or `:line`.
    fn location(self) -> Option<String> {
        let mut s = match (self.file, &self.srcline) {
            (Some(f), Some(l)) => format!("{f}:{l}"),
            (Some(f), None) => return Some(f),
            (None, Some(l)) => format!(":{l}"),
            (None, None) => return None,
        };
        if let Some(c) = self.col {
            s.push(':');
            s.push_str(&c);
        }
        Some(s)
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
    text.truncate(start);
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    Some(Cut {
        location: loc.location(),
        fields,
    })
}

/// Which format a source is in, and how sure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Detection {
    /// Chosen format.
    pub format: String,
    /// Lines that carried the chosen format's signature.
    pub matched: usize,
    /// Non-blank lines looked at.
    pub considered: usize,
    /// matched / considered.
    pub confidence: f64,
    /// The next best format and its count.
    pub runner_up: Option<(String, usize)>,
    /// Whether the format was forced with `--format`.
    pub forced: bool,
}

/// Lines looked at to detect a format.
pub const DETECT_LINES: usize = 200;

/// Detect the format of a source from its first lines (and its file name).
pub fn detect(reg: &Registry, lines: &[String], file_name: Option<&str>) -> Detection {
    let mut counts: Vec<usize> = vec![0; reg.formats.len()];
    let mut considered = 0;
    for raw in lines.iter().take(DETECT_LINES) {
        let clean = strip_ansi(raw);
        let (line, _) = strip_collectors(reg, &clean);
        if line.trim().is_empty() {
            continue;
        }
        considered += 1;
        // Specific formats claim a line before generic ones (formats are sorted by priority).
        if let Some(i) = reg.formats.iter().position(|f| f.detects(line)) {
            counts[i] += 1;
        }
    }
    if let Some(name) = file_name {
        for (i, f) in reg.formats.iter().enumerate() {
            if f.file_name.as_ref().is_some_and(|r| r.is_match(name)) && counts[i] > 0 {
                counts[i] += considered / 2 + 1;
            }
        }
    }
    let mut ranked: Vec<(usize, usize)> = counts.iter().copied().enumerate().collect();
    // Stable sort keeps priority order among equal counts.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    let (best, n) = ranked[0];
    let runner_up = ranked
        .get(1)
        .filter(|r| r.1 > 0)
        .map(|r| (reg.formats[r.0].name.clone(), r.1));
    if n == 0 {
        return Detection {
            format: "plain".into(),
            matched: 0,
            considered,
            confidence: 0.0,
            runner_up: None,
            forced: false,
        };
    }
    Detection {
        format: reg.formats[best].name.clone(),
        matched: n.min(considered),
        considered,
        confidence: if considered == 0 {
            0.0
        } else {
            (n.min(considered)) as f64 / considered as f64
        },
        runner_up,
        forced: false,
    }
}

/// Convenience for tests and small inputs: parse a whole text in a named format.
pub fn parse_text(reg: &Registry, format: &str, text: &str) -> Option<(Vec<Event>, ParseStats)> {
    let fmt = reg.format(format)?;
    let mut p = SourceParser::new(fmt, reg);
    for (i, l) in text.lines().enumerate() {
        p.push(i as u64 + 1, l);
    }
    let stats = p.stats.clone();
    Some((p.finish().into_iter().flat_map(|(_, v)| v).collect(), stats))
}

/// Level of an event for filters (`None` counts as info).
pub fn level_or_info(ev: &Event) -> Level {
    ev.level.unwrap_or(Level::Info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runaway_record_keeps_bounded_lines_and_its_last_line() {
        let reg = Registry::load(None).unwrap();
        let mut text = String::from("ERROR citadel: a.rs:1: start of a huge dump\n");
        for i in 0..(MAX_CONTINUATION + 500) {
            text.push_str(&format!("    frame {i}\n"));
        }
        text.push_str(" INFO citadel: a.rs:2: next\n");
        let (evs, st) = parse_text(&reg, "citadel-tracing", &text).unwrap();
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].continuation.len(), MAX_CONTINUATION);
        assert_eq!(
            evs[0].continuation.last().unwrap(),
            &format!("    frame {}", MAX_CONTINUATION + 499)
        );
        assert_eq!(st.dropped_continuation, 500);
        assert_eq!(st.continuation, (MAX_CONTINUATION + 500) as u64);
    }

    #[test]
    fn ansi_is_stripped() {
        let s = "\x1b[32m INFO\x1b[0m \x1b[2mcitadel\x1b[0m\x1b[2m:\x1b[0m hi \x1b]0;title\x07x";
        assert_eq!(strip_ansi(s), " INFO citadel: hi x");
    }

    #[test]
    fn times() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(
            parse_time(&f(&["rfc3339"]), "2026-02-21T02:54:38.8089978Z"),
            Some(RawTime::Instant(_))
        ));
        assert!(matches!(
            parse_time(&f(&["epoch_ms"]), "1.6225670530905408e+12"),
            Some(RawTime::Instant(_))
        ));
        assert!(matches!(
            parse_time(&f(&["time_of_day"]), "21:44:04.768"),
            Some(RawTime::TimeOfDay(_))
        ));
        assert!(matches!(
            parse_time(&f(&["chrome_debug"]), "1017/153703.620972"),
            Some(RawTime::MonthDay(10, 17, _))
        ));
        assert_eq!(parse_time(&f(&["chrome_debug"]), "9999/999999"), None);
    }

    #[test]
    fn json_paths() {
        let v: Value = serde_json::from_str(
            r#"{"params":{"args":[{"type":"string","value":"a"},{"type":"object","description":"Object"}],"timestamp":1.5e12}}"#,
        )
        .unwrap();
        assert_eq!(
            json_path(&v, "params.args[].value|description").unwrap(),
            "a Object"
        );
        assert_eq!(
            json_path(&v, "params.timestamp").unwrap(),
            "1500000000000.0"
        );
        assert!(json_path(&v, "params.nope").is_none());
        let v: Value = serde_json::from_str(
            r#"{"args":[{"value":"a"},{"preview":{"properties":[{"value":"1n"},{"value":"x"}]},"description":"Object"},{"description":"Object"}]}"#,
        )
        .unwrap();
        assert_eq!(
            json_path(&v, "args[].value|preview.properties[].value|description").unwrap(),
            "a 1n x Object"
        );
    }
}
