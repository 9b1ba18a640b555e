//! Pipeline: the one place where read, parse and correlate meet.
//!
//! Inputs are read and parsed in parallel (one worker per core, one input at a time each); each input's
//! format is detected from its first lines unless forced; interleaved compose services become sources of
//! their own; then everything is handed to `correlate`.

use crate::correlate;
use crate::defs::Registry;
use crate::model::Event;
use crate::model::{Detection, SourceInfo, Timeline};
use crate::parse::record::SKIP;
use crate::parse::{detect, SourceParser, DETECT_LINES};
use crate::source::{self, Input, InputError};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;

/// What loading produced besides the timeline: problems that were reported and skipped.
#[derive(Debug, Default)]
pub struct Problems {
    /// Inputs that could not be read at all (binary, unreadable): one message each.
    pub refused: Vec<String>,
    /// Inputs read with mended lines, inputs skipped on purpose (given twice, a symlink loop): one
    /// message each.
    pub warnings: Vec<String>,
    /// Inputs that could not be read to their end (a truncated or corrupt gz, a gz bomb, a read error,
    /// an unreadable folder): the evidence is partial. One message each, saying where reading stopped.
    pub incomplete: Vec<String>,
}

impl Problems {
    /// Take in what expanding the arguments left out: notes become warnings, unreadable folders make
    /// the evidence incomplete and go on the timeline, so every report lists them.
    pub fn add_skipped(&mut self, skipped: &source::Skipped, timeline: &mut Timeline) {
        self.warnings.extend(skipped.notes.iter().cloned());
        self.incomplete
            .extend(skipped.unreadable.iter().map(|u| u.to_string()));
        timeline.unread.clone_from(&skipped.unreadable);
    }

    /// Take in what reading and parsing one input went through: an early end, dropped events, odd
    /// times, mended lines.
    pub fn note(&mut self, inp: &Input, p: &ParsedInput, opts: &correlate::Options) {
        let problems = self;
        if let Some((info, _)) = p.sources.first() {
            let r = &info.read;
            if let Some(e) = &r.error {
                problems.incomplete.push(format!(
                    "{}: {e}; the {} lines ({} bytes) read before it are kept",
                    inp.display(),
                    r.lines,
                    r.bytes
                ));
            }
            // Parse counts are per input (its streams share them).
            let dropped = info.parse.dropped_events;
            if dropped > 0 {
                problems.incomplete.push(format!(
                    "{}: {dropped} events from the middle were not kept (more than {} in one stream); \
                     the first and the last are. --max-events raises the cap (about 0.6 KB per event)",
                    inp.display(),
                    if opts.max_events > 0 { opts.max_events } else { crate::parse::MAX_EVENTS }
                ));
            }
            if info.parse.implausible_times > 0 {
                problems.warnings.push(format!(
                    "{}: {} times fell outside 1990..2100 (an unset clock, a sentinel like 9999-12-31); \
                     they were set aside (field implausible_ts) and those events placed by order",
                    inp.display(),
                    info.parse.implausible_times
                ));
            }
            if info.parse.time_backwards > 0 {
                problems.warnings.push(format!(
                    "{}: {} records carry a time before the previous record's; they keep the file's order",
                    inp.display(),
                    info.parse.time_backwards
                ));
            }
            if r.invalid_utf8 > 0 {
                problems.warnings.push(format!(
                    "{}: {} lines held invalid UTF-8 and were read lossily",
                    inp.display(),
                    r.invalid_utf8
                ));
            }
            if info.parse.dropped_continuation > 0 {
                problems.warnings.push(format!(
                    "{}: {} lines of records longer than {} lines were counted but not kept",
                    inp.display(),
                    info.parse.dropped_continuation,
                    crate::parse::MAX_CONTINUATION
                ));
            }
            if r.truncated > 0 {
                problems.warnings.push(format!(
                    "{}: {} lines were longer than {} bytes and were cut",
                    inp.display(),
                    r.truncated,
                    source::MAX_LINE
                ));
            }
        }
    }
}

/// Errors that stop loading.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// `--format` named no known format.
    #[error("unknown format {0:?}; `diag formats list` shows the known ones")]
    UnknownFormat(String),
    /// No input could be read; the reasons, one per input.
    #[error("no input could be read: {}", .0.join("; "))]
    NothingRead(Vec<String>),
}

/// Parsed pieces of one input, before correlation.
pub struct ParsedInput {
    /// One entry per stream (container) of the input.
    pub sources: Vec<(SourceInfo, Vec<Event>)>,
}

/// Read and parse one input.
pub fn parse_input(
    reg: &Registry,
    input: &Input,
    forced: Option<&str>,
) -> Result<ParsedInput, InputError> {
    parse_input_counted(reg, input, forced, None, Caps::default())
}

/// Limits on how much of one input is read and kept.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caps {
    /// Most events kept per stream (`0`: [`crate::parse::MAX_EVENTS`]).
    pub max_events: usize,
    /// Stop after this many bytes of lines (`0`: read to the end).
    pub head_bytes: u64,
}

/// Read and parse one input, adding the bytes of the lines read to `progress` as it goes.
fn parse_input_counted(
    reg: &Registry,
    input: &Input,
    forced: Option<&str>,
    progress: Option<&AtomicU64>,
    caps: Caps,
) -> Result<ParsedInput, InputError> {
    let reader = source::open(input)?;
    let file_name = input.file_name();
    parse_reader_capped(
        reg,
        reader,
        &input.label,
        &input.display(),
        file_name,
        forced,
        progress,
        caps,
    )
}

/// Parse an in-memory text as one labelled source (rule tests, examples).
pub fn parse_str(reg: &Registry, label: &str, text: &str) -> Result<ParsedInput, InputError> {
    let reader = source::from_reader(
        Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        label,
    )?;
    parse_reader(reg, reader, label, label, None, None, None)
}

/// Lines between two updates of a progress counter.
const PROGRESS_EVERY: u64 = 4096;

/// Detect the format of a line stream and parse it.
pub fn parse_reader(
    reg: &Registry,
    reader: source::LineReader,
    label: &str,
    display: &str,
    file_name: Option<&str>,
    forced: Option<&str>,
    progress: Option<&AtomicU64>,
) -> Result<ParsedInput, InputError> {
    parse_reader_capped(
        reg,
        reader,
        label,
        display,
        file_name,
        forced,
        progress,
        Caps::default(),
    )
}

/// [`parse_reader`] within `caps`: at most so many events per stream, and only the head of the input
/// when `caps.head_bytes` says so.
#[allow(clippy::too_many_arguments)]
pub fn parse_reader_capped(
    reg: &Registry,
    reader: source::LineReader,
    label: &str,
    display: &str,
    file_name: Option<&str>,
    forced: Option<&str>,
    progress: Option<&AtomicU64>,
    caps: Caps,
) -> Result<ParsedInput, InputError> {
    let opened = Opened::new(reg, reader, file_name, forced, caps.head_bytes)?;
    let names = Names {
        label,
        display,
        file_name,
    };
    Ok(opened.parse(reg, names, progress, caps, None))
}

/// What an input is called: its label, its path as shown, its file name (formats date by it).
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    /// Label of its events.
    pub label: &'a str,
    /// Path as shown to people.
    pub display: &'a str,
    /// File name, when it has one.
    pub file_name: Option<&'a str>,
}

/// Where drained events go, as `(stream, events)`, when an input is parsed without keeping them;
/// `false` stops the reading (whoever wanted the events has gone).
pub type Sink<'s> = &'s mut (dyn FnMut(usize, Vec<Event>) -> bool + Send);

/// Events a streaming parse lets gather before it hands them on (a bound on what it holds; half
/// a thousand keeps the hand-over cost negligible).
const DRAIN_EVERY: usize = 512;

/// An input opened for parsing: its format settled from its first lines (or forced).
pub struct Opened<'r> {
    reader: source::LineReader,
    head: Vec<String>,
    /// How its format was chosen.
    pub detection: Detection,
    /// Its format.
    pub fmt: &'r crate::defs::Format,
    /// Lines of the input before the reader's first (a reader that starts mid-file).
    before: u64,
}

impl<'r> Opened<'r> {
    /// Read the first lines of `reader` (within `head_bytes`, `0` for no bound) and settle its format.
    pub fn new(
        reg: &'r Registry,
        mut reader: source::LineReader,
        file_name: Option<&str>,
        forced: Option<&str>,
        head_bytes: u64,
    ) -> Result<Opened<'r>, InputError> {
        let mut head = Vec::new();
        while head.len() < DETECT_LINES && (head_bytes == 0 || reader.stats.bytes < head_bytes) {
            match reader.next_line() {
                Some(l) => head.push(l),
                None => break,
            }
        }
        let detection = match forced {
            Some(name) => Detection {
                format: name.to_string(),
                matched: 0,
                considered: 0,
                confidence: 1.0,
                runner_up: None,
                forced: true,
            },
            None => detect(reg, &head, file_name),
        };
        // Detection only names registry formats (and `plain`, which is built in).
        let fmt = reg
            .format(&detection.format)
            .or_else(|| reg.format("plain"))
            .ok_or_else(|| InputError::Glob("the built-in `plain` format is missing".into()))?;
        Ok(Opened {
            reader,
            head,
            detection,
            fmt,
            before: 0,
        })
    }

    /// The same input read from line `before + 1` on (its reader was started there): lines are
    /// numbered as in the whole input.
    pub fn numbered_after(mut self, before: u64) -> Self {
        self.before = before;
        self
    }

    /// Parse the input. With a `sink`, finished events go there as they come (a few thousand at a
    /// time) and the sources come back without events, only counted.
    pub fn parse(
        self,
        reg: &Registry,
        names: Names,
        progress: Option<&AtomicU64>,
        caps: Caps,
        sink: Option<Sink>,
    ) -> ParsedInput {
        self.parse_lines(reg, names, progress, caps, None, sink)
    }

    /// [`Opened::parse`] of the lines `only` names: the others are passed over unread, and reading
    /// stops after the last one named.
    pub fn parse_only(
        self,
        reg: &Registry,
        names: Names,
        caps: Caps,
        only: &Only,
        sink: Sink,
    ) -> ParsedInput {
        self.parse_lines(reg, names, None, caps, Some(only), Some(sink))
    }

    fn parse_lines(
        self,
        reg: &Registry,
        names: Names,
        progress: Option<&AtomicU64>,
        caps: Caps,
        only: Option<&Only>,
        mut sink: Option<Sink>,
    ) -> ParsedInput {
        let Opened {
            mut reader,
            head,
            detection,
            fmt,
            before,
        } = self;
        let mut pending = 0u64;
        let mut count = |n: u64, line: u64| {
            pending += n + 1;
            if line.is_multiple_of(PROGRESS_EVERY) {
                if let Some(p) = progress {
                    p.fetch_add(pending, Ordering::Relaxed);
                }
                pending = 0;
            }
        };
        let mut parser = SourceParser::new(fmt, reg);
        if caps.max_events > 0 {
            parser.max_events = caps.max_events;
        }
        let mut wanted = only.map(Only::cursor);
        if let Some(o) = only {
            parser.number_streams(&o.streams);
        }
        let mut lineno = before;
        for l in &head {
            lineno += 1;
            count(l.len() as u64, lineno);
            match wanted.as_mut().map(|w| w.wants(lineno)) {
                None | Some(Some(true)) => parser.push(lineno, l),
                Some(_) => parser.push(lineno, SKIP),
            }
        }
        drop(head);
        let mut read_no = lineno;
        let stopped = AtomicBool::new(false);
        // Events handed to the sink, per stream.
        let mut drained: Vec<usize> = Vec::new();
        let (streams, stats) = std::thread::scope(|sc| {
            // With a sink, entities are extracted and the sink fed on a thread of their own: the
            // parse thread is a streaming read's critical path.
            let (tx, rx) = sync_channel::<Vec<(usize, Vec<Event>)>>(1);
            let consumer = sink.take().map(|sink| {
                let (stopped, extract) = (&stopped, &reg.entities);
                sc.spawn(move || {
                    // Its own copy of the regexes (see `par::queue`).
                    let own = extract.clone();
                    let mut memo = crate::entities::Memo::default();
                    let mut counts = Vec::new();
                    for batch in rx {
                        for (k, mut evs) in batch {
                            add_count(&mut counts, k, evs.len());
                            if stopped.load(Ordering::Relaxed) {
                                continue;
                            }
                            crate::parse::record::fill_entities(&own, &mut evs, &mut memo);
                            if !sink(k, evs) {
                                stopped.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    (sink, counts)
                })
            });
            let next = || {
                let within = caps.head_bytes == 0 || reader.stats.bytes < caps.head_bytes;
                if !within || stopped.load(Ordering::Relaxed) {
                    return None;
                }
                read_no += 1;
                match wanted.as_mut().map(|w| w.wants(read_no)) {
                    None | Some(Some(true)) => reader.next_line(),
                    // Past the last line wanted: the rest is not read.
                    Some(None) => None,
                    Some(Some(false)) => reader.skip_line().then(|| SKIP.to_string()),
                }
            };
            let streaming = consumer.is_some();
            let mut hand_on = |parser: &mut SourceParser| {
                if streaming && parser.ready() >= DRAIN_EVERY && !stopped.load(Ordering::Relaxed) {
                    // Only fails when the consumer has gone, and then `stopped` ends the reading.
                    let _ = tx.send(parser.drain());
                }
            };
            crate::parse::ahead::feed_draining(
                &mut parser,
                fmt,
                reg,
                lineno,
                next,
                &mut count,
                &mut hand_on,
            );
            drop(tx);
            count(0, 0);
            let stats = parser.stats.clone();
            // Interleaved compose services come out as streams of their own, in order of first
            // appearance.
            let mut streams = parser.finish();
            if streams.is_empty() {
                streams.push((None, Vec::new()));
            }
            if let Some(h) = consumer {
                let (sink, counts) = match h.join() {
                    Ok(done) => done,
                    Err(p) => std::panic::resume_unwind(p),
                };
                drained = counts;
                for (k, (_, evs)) in streams.iter_mut().enumerate() {
                    let evs = std::mem::take(evs);
                    add_count(&mut drained, k, evs.len());
                    if !stopped.load(Ordering::Relaxed) && !sink(k, evs) {
                        stopped.store(true, Ordering::Relaxed);
                    }
                }
            }
            (streams, stats)
        });
        let several = streams.len() > 1;
        let label = names.label;
        let sources = streams
            .into_iter()
            .enumerate()
            .map(|(k, (container, evs))| {
                let label = match (&container, several) {
                    (Some(c), true) => format!("{label}:{c}"),
                    _ => label.to_string(),
                };
                let info = SourceInfo {
                    label,
                    path: names.display.to_string(),
                    container,
                    detection: detection.clone(),
                    read: reader.stats.clone(),
                    parse: stats.clone(),
                    events: evs.len() + drained.get(k).copied().unwrap_or(0),
                    placement: String::new(),
                    offset: None,
                    owners: Vec::new(),
                    file_date: names.file_name.and_then(|n| fmt.file_date(n)),
                    role: fmt.role,
                };
                (info, evs)
            })
            .collect();
        ParsedInput { sources }
    }
}

/// The lines of an input that a second pass reads (the records it wants), and how the first pass
/// numbered the input's streams. The ranges are read once, in order, as the lines go by: each is
/// kept as LEB128 differences (from the end of the one before, and its length), a few bytes where a
/// pair of numbers took 16 (375 k ranges at 1 GB).
#[derive(Debug, Clone, Default)]
pub struct Only {
    /// Inclusive line ranges, sorted and disjoint, packed.
    ranges: Vec<u8>,
    /// The containers of the input's streams, in the first pass's order.
    streams: Vec<Option<String>>,
}

impl Only {
    /// The lines of these records (inclusive first and last lines, in any order; interleaved
    /// records may overlap), for an input whose streams are these containers.
    pub fn new(mut records: Vec<(u64, u64)>, streams: Vec<Option<String>>) -> Only {
        records.sort_unstable();
        Only::sorted(records, streams)
    }

    /// [`Only::new`] of records given in order of their first lines (each of several lists of
    /// them in that order: a k-way merge), without a list of them all.
    pub fn merged(
        lists: Vec<impl Iterator<Item = (u64, u64)>>,
        streams: Vec<Option<String>>,
    ) -> Only {
        let records = crate::kmerge::by_key(lists, |r| r.0).map(|(_, r)| r);
        Only::sorted(records, streams)
    }

    /// Records in order of their first lines, joined into ranges.
    fn sorted(records: impl IntoIterator<Item = (u64, u64)>, streams: Vec<Option<String>>) -> Only {
        let mut ranges = Vec::new();
        let mut end_before = 0u64;
        let mut open: Option<(u64, u64)> = None;
        let mut close = |(a, b): (u64, u64), ranges: &mut Vec<u8>| {
            crate::varint::put(ranges, a.wrapping_sub(end_before));
            crate::varint::put(ranges, b - a);
            end_before = b;
        };
        for (a, b) in records {
            match &mut open {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => {
                    if let Some(r) = open.take() {
                        close(r, &mut ranges);
                    }
                    open = Some((a, b.max(a)));
                }
            }
        }
        if let Some(r) = open {
            close(r, &mut ranges);
        }
        ranges.shrink_to_fit();
        Only { ranges, streams }
    }

    fn cursor(&self) -> Wanted<'_> {
        let mut w = Wanted {
            ranges: &self.ranges,
            at: 0,
            end_before: 0,
            range: None,
        };
        w.range = w.take();
        w
    }

    /// The ranges, unpacked.
    #[cfg(test)]
    fn ranges(&self) -> Vec<(u64, u64)> {
        let mut w = self.cursor();
        std::iter::from_fn(|| {
            let r = w.range?;
            w.range = w.take();
            Some(r)
        })
        .collect()
    }
}

/// Walks [`Only`]'s ranges as the lines go by.
struct Wanted<'o> {
    ranges: &'o [u8],
    at: usize,
    end_before: u64,
    /// The range in hand (`None` past the last).
    range: Option<(u64, u64)>,
}

impl Wanted<'_> {
    /// The next range.
    fn take(&mut self) -> Option<(u64, u64)> {
        let a = self
            .end_before
            .wrapping_add(crate::varint::take(self.ranges, &mut self.at)?);
        let b = a.checked_add(crate::varint::take(self.ranges, &mut self.at)?)?;
        self.end_before = b;
        Some((a, b))
    }

    /// Whether line `n` is wanted (lines asked in increasing order); `None` past the last range.
    fn wants(&mut self, n: u64) -> Option<bool> {
        while let Some((_, end)) = self.range {
            if n <= end {
                break;
            }
            self.range = self.take();
        }
        let (start, _) = self.range?;
        Some(n >= start)
    }
}

/// Add `n` to the `k`-th count, growing the counts as needed.
fn add_count(counts: &mut Vec<usize>, k: usize, n: usize) {
    if counts.len() <= k {
        counts.resize(k + 1, 0);
    }
    if let Some(c) = counts.get_mut(k) {
        *c += n;
    }
}

/// Read, parse and correlate all inputs.
pub fn load(
    reg: &Registry,
    inputs: &[Input],
    forced: Option<&str>,
    opts: &correlate::Options,
) -> Result<(Timeline, Problems), LoadError> {
    load_with_progress(reg, inputs, forced, opts, &AtomicU64::new(0))
}

/// [`load`], adding the bytes of the lines read to `progress` as it goes (for the TUI's progress bar).
pub fn load_with_progress(
    reg: &Registry,
    inputs: &[Input],
    forced: Option<&str>,
    opts: &correlate::Options,
    progress: &AtomicU64,
) -> Result<(Timeline, Problems), LoadError> {
    if let Some(f) = forced {
        if reg.format(f).is_none() {
            return Err(LoadError::UnknownFormat(f.to_string()));
        }
    }
    let caps = Caps {
        max_events: opts.max_events,
        head_bytes: opts.head_bytes,
    };
    // Each thread its own copy of the definitions (see `par::queue`).
    let results = crate::par::queue(
        inputs,
        || reg.clone(),
        |reg, input| parse_input_counted(reg, input, forced, Some(progress), caps),
    );
    let mut problems = Problems::default();
    let mut sources = Vec::new();
    for (inp, r) in inputs.iter().zip(results) {
        match r {
            Ok(p) => {
                problems.note(inp, &p, opts);
                sources.extend(p.sources);
            }
            Err(e) => problems.refused.push(e.to_string()),
        }
    }
    if sources.is_empty() {
        return Err(LoadError::NothingRead(problems.refused));
    }
    Ok((
        correlate::correlate(sources, &reg.anchors, &reg.entities, opts),
        problems,
    ))
}

/// Parse and correlate in-memory sources `(label, text)`: rule cases, profiles learned from text, tests.
pub fn timeline_from_texts(
    reg: &Registry,
    sources: &[(impl AsRef<str>, impl AsRef<str>)],
) -> Result<Timeline, InputError> {
    let mut parsed = Vec::new();
    for (label, text) in sources {
        parsed.extend(parse_str(reg, label.as_ref(), text.as_ref())?.sources);
    }
    Ok(correlate::correlate(
        parsed,
        &reg.anchors,
        &reg.entities,
        &correlate::Options::default(),
    ))
}

/// `timeline_from_texts` with the built-in definitions.
pub fn timeline_of(sources: &[(&str, &str)]) -> Result<Timeline, LoadError> {
    let reg = Registry::load(None).map_err(|e| LoadError::NothingRead(vec![e.to_string()]))?;
    timeline_from_texts(&reg, sources).map_err(|e| LoadError::NothingRead(vec![e.to_string()]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Events of `text` in format `format` per stream: all of them, or (with `only`) what a
    /// reading of those lines gives.
    fn streams_of(
        reg: &Registry,
        format: &str,
        text: &str,
        only: Option<&Only>,
    ) -> Vec<(Option<String>, Vec<Event>)> {
        let reader = source::from_reader(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            "t",
        )
        .unwrap();
        let opened = Opened::new(reg, reader, None, Some(format), 0).unwrap();
        let names = Names {
            label: "t",
            display: "t",
            file_name: None,
        };
        let caps = Caps {
            max_events: usize::MAX,
            head_bytes: 0,
        };
        let Some(only) = only else {
            return opened
                .parse(reg, names, None, caps, None)
                .sources
                .into_iter()
                .map(|(i, evs)| (i.container, evs))
                .collect();
        };
        let mut got: Vec<Vec<Event>> = Vec::new();
        let mut sink = |k: usize, evs: Vec<Event>| {
            if got.len() <= k {
                got.resize_with(k + 1, Vec::new);
            }
            got[k].extend(evs);
            true
        };
        let parsed = opened.parse_only(reg, names, caps, only, &mut sink);
        parsed
            .sources
            .into_iter()
            .map(|(i, _)| i.container)
            .zip(got.into_iter().chain(std::iter::repeat_with(Vec::new)))
            .collect()
    }

    /// The built-in definitions, loaded once for every case.
    fn registry() -> &'static Registry {
        static REG: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        REG.get_or_init(|| Registry::load(None).unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the lines and whichever records are chosen, reading only the chosen records'
        /// lines gives each of them exactly as reading everything does.
        #[test]
        fn a_reading_of_some_records_gives_them_as_a_full_reading_does(
            mcp in any::<bool>(),
            shapes in proptest::collection::vec((any::<u8>(), any::<u16>()), 1..40),
            chosen in proptest::collection::vec(any::<bool>(), 1..16),
        ) {
            let reg = registry();
            let format = if mcp { "playwright-mcp" } else { "citadel-tracing" };
            let text: String = shapes.iter().map(|&(s, n)| crate::fixtures::line(format, s, n) + "\n").collect();
            let all = streams_of(reg, format, &text, None);
            let mut records = Vec::new();
            let mut want: Vec<(usize, String)> = Vec::new();
            let mut k = 0;
            for (s, (_, evs)) in all.iter().enumerate() {
                for ev in evs {
                    if chosen[k % chosen.len()] {
                        records.push((ev.line, ev.end_line));
                        want.push((s, format!("{ev:?}")));
                    }
                    k += 1;
                }
            }
            let only = Only::new(records, all.iter().map(|(c, _)| c.clone()).collect());
            let some = streams_of(reg, format, &text, Some(&only));
            for (s, ev) in want {
                let line: u64 = ev.split("line: ").nth(1).and_then(|r| r.split(',').next()).and_then(|n| n.parse().ok()).unwrap();
                let got = some.get(s).and_then(|(_, evs)| evs.iter().find(|e| e.line == line));
                prop_assert_eq!(got.map(|e| format!("{e:?}")), Some(ev), "{}", text);
            }
        }
    }

    /// Records' line spans join into sorted, disjoint ranges (interleaved records overlap, adjacent
    /// ones touch), and the cursor says which lines are wanted and when none is left.
    #[test]
    fn wanted_lines_are_the_records_spans_joined() {
        let only = Only::new(
            vec![(9, 9), (1, 2), (3, 3), (5, 8), (6, 7), (12, 11)],
            vec![None],
        );
        assert_eq!(only.ranges(), vec![(1, 3), (5, 9), (12, 12)]);
        let mut w = only.cursor();
        let got: Vec<Option<bool>> = (1..=13).map(|n| w.wants(n)).collect();
        let t = Some(true);
        let f = Some(false);
        assert_eq!(got, vec![t, t, t, f, t, t, t, t, t, f, f, t, None]);
        assert_eq!(Only::new(Vec::new(), Vec::new()).cursor().wants(1), None);
        // Lists each in order of first lines, merged: the same ranges; line numbers past 2^32.
        let big = 1u64 << 40;
        let lists = vec![
            vec![(1, 2), (6, 7), (big, big + 3)],
            vec![(3, 3), (5, 8), (12, 11)],
            vec![(9, 9), (big + 4, big + 4)],
        ];
        let merged = Only::merged(
            lists.iter().map(|l| l.iter().copied()).collect(),
            vec![None],
        );
        assert_eq!(
            merged.ranges(),
            vec![(1, 3), (5, 9), (12, 12), (big, big + 4)]
        );
        let all: Vec<(u64, u64)> = lists.into_iter().flatten().collect();
        assert_eq!(Only::new(all, vec![None]).ranges(), merged.ranges());
    }
}
