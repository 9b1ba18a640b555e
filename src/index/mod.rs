//! Index: the timeline of inputs too big to hold, as one compact row per record (its place, source,
//! lines, level and CIDs: 24 bytes) and the record itself read again from its file when it is shown
//! (lnav's model). A gigabyte of log is 3.8 M rows, 92 MB, where the events themselves take two and
//! a half times the bytes.
//!
//! Pass 1 of the two-pass read ([`crate::stream`]) notes every record's row as it goes by
//! ([`Gather`]); [`Index::build`] puts them in timeline order once the sources are placed.
//! [`Index::event`] reads a record again: from the nearest remembered line start ([`lines`]),
//! parsed as pass 1 parsed it, stamped with its place.

pub mod lines;
pub mod order;
pub mod sieve;

use crate::correlate::merge::stamp_at;
use crate::defs::Registry;
use crate::hash::Map;
use crate::model::{Axis, CidRef, Event, Level, RawTime, ThinVec, Timeline, TsQuality};
use crate::pipeline::{Caps, Names, Only, Opened};
use chrono::{NaiveTime, Timelike};
use lines::Checkpoints;
use order::Order;
use regex::Regex;
use std::io::{Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Mutex;

/// One record of a source: its first line, and (once placed) its position, with its CID list,
/// level and quality packed in a tag; 16 bytes. The lines after the first of the few records that
/// have some are listed beside ([`Stream::more`]).
#[derive(Debug, Clone, Copy)]
struct Local {
    pos: f64,
    line: u32,
    /// `combo << 5 | level << 2 | quality`.
    tag: u32,
}

/// CID lists a tag can name.
const MAX_COMBOS: usize = 1 << 27;

fn tag(combo: u32, level: u8, quality: u8) -> u32 {
    combo << 5 | u32::from(level & 7) << 2 | u32::from(quality & 3)
}

impl Local {
    fn combo(&self) -> u32 {
        self.tag >> 5
    }
    fn level(&self) -> u8 {
        ((self.tag >> 2) & 7) as u8
    }
    fn quality(&self) -> u8 {
        (self.tag & 3) as u8
    }
}

/// The records of one source, in its order, and the times of day of those that carry one (kept
/// only while the timeline has no date to give them a time of their own).
#[derive(Debug, Default)]
struct Stream {
    rows: Vec<Local>,
    /// `(index in the source, lines after the first)` of the records of more than one line, sorted.
    more: Vec<(u32, u32)>,
    /// `(index in the source, nanoseconds into the day)`, sorted.
    tods: Vec<(u32, u64)>,
}

impl Stream {
    /// Lines after the first of record `k`.
    fn more_of(&self, k: u32) -> u32 {
        self.more
            .binary_search_by_key(&k, |&(i, _)| i)
            .ok()
            .and_then(|j| self.more.get(j))
            .map_or(0, |&(_, m)| m)
    }
}

/// Pass 1's notes of one input: per stream its records, and the lists of CIDs they name (a few
/// hundred distinct lists name the millions of records).
#[derive(Debug, Default)]
pub struct Gather {
    streams: Vec<Stream>,
    /// Distinct CID lists; list 0 is the empty one.
    combos: Vec<Box<[CidRef]>>,
    seen: Map<Box<[CidRef]>, u32>,
    /// More distinct CID lists than a tag names, more records than an index numbers, or a line
    /// number past 32 bits.
    overflow: bool,
}

fn level_code(l: Option<Level>) -> u8 {
    match l {
        None => 0,
        Some(Level::Trace) => 1,
        Some(Level::Debug) => 2,
        Some(Level::Info) => 3,
        Some(Level::Warn) => 4,
        Some(Level::Error) => 5,
    }
}

fn level_of(code: u8) -> Option<Level> {
    Some(match code {
        1 => Level::Trace,
        2 => Level::Debug,
        3 => Level::Info,
        4 => Level::Warn,
        5 => Level::Error,
        _ => return None,
    })
}

impl Gather {
    /// Note record `ev` of stream `k` (records of a stream come in their order).
    pub fn add(&mut self, k: usize, ev: &Event) {
        self.cover(k + 1);
        if self.combos.is_empty() {
            self.combos.push(Box::default());
        }
        let combo = if ev.cids.is_empty() {
            0
        } else if let Some(&c) = self.seen.get(ev.cids.as_slice()) {
            c
        } else if self.combos.len() >= MAX_COMBOS {
            self.overflow = true;
            0
        } else {
            let c = u32::try_from(self.combos.len()).unwrap_or(0);
            let list: Box<[CidRef]> = ev.cids.iter().cloned().collect();
            self.combos.push(list.clone());
            self.seen.insert(list, c);
            c
        };
        let Some(s) = self.streams.get_mut(k) else {
            return;
        };
        let Ok(at) = u32::try_from(s.rows.len()) else {
            self.overflow = true;
            return;
        };
        if let Some(RawTime::TimeOfDay(t)) = ev.raw_ts {
            let ns = u64::from(t.num_seconds_from_midnight()) * 1_000_000_000
                + u64::from(t.nanosecond());
            s.tods.push((at, ns));
        }
        let Ok(line) = u32::try_from(ev.line) else {
            self.overflow = true;
            return;
        };
        let more = u32::try_from(ev.end_line.saturating_sub(ev.line)).unwrap_or(u32::MAX);
        if more > 0 {
            s.more.push((at, more));
        }
        s.rows.push(Local {
            pos: 0.0,
            line,
            tag: tag(combo, level_code(ev.level), 0),
        });
    }

    /// Make room for `streams` streams (a stream without records gets an empty list, so that
    /// the lists line up with the sources).
    pub fn cover(&mut self, streams: usize) {
        if self.streams.len() < streams {
            self.streams.resize_with(streams, Stream::default);
        }
    }

    /// Records noted so far.
    pub fn len(&self) -> usize {
        self.streams.iter().map(|s| s.rows.len()).sum()
    }

    /// Whether nothing was noted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One record of the timeline, without its text, as [`Index`] reads it from its source's list.
#[derive(Debug, Clone, Copy)]
struct Row {
    line: u64,
    pos: f64,
    more: u32,
    combo: u32,
    source: u16,
    level: u8,
    quality: u8,
    /// Its index in its source.
    local: u32,
}

/// Whether the file at `path` can be read from the middle: a plain file, not gzip.
pub fn seekable(path: &std::path::Path) -> bool {
    let mut magic = Vec::with_capacity(2);
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, 2), &mut magic))
        .is_ok_and(|_| !magic.starts_with(&crate::source::GZIP_MAGIC))
}

/// One input file the index reads records from again.
#[derive(Debug)]
struct FileIn {
    path: PathBuf,
    display: String,
    label: String,
    file_name: Option<String>,
    format: String,
    /// Its first source.
    base: usize,
    /// The containers of its streams, in pass 1's order.
    streams: Vec<Option<String>>,
    lines: Checkpoints,
    /// Its length and first bytes when it was indexed: a file shorter now, or beginning otherwise,
    /// was rewritten, and its records are not where the rows say.
    len: u64,
    head: Vec<u8>,
}

/// First bytes of a file compared to tell a rewritten file from one that grew.
const HEAD: usize = 256;

/// A file's length and first bytes.
fn stamp(file: &mut std::fs::File) -> std::io::Result<(u64, Vec<u8>)> {
    let len = file.metadata()?.len();
    let mut head = Vec::with_capacity(HEAD);
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut *file, HEAD as u64), &mut head)?;
    Ok((len, head))
}

/// Records read again lately, by timeline index: the screen's rows and the detail pane ask for the
/// same ones frame after frame.
#[derive(Debug, Default)]
struct Cache {
    events: Map<usize, Event>,
}

/// The matches of the last few searches and text filters, by pattern: a filter change recounts
/// the search's hits, and `n` after a filter needs them again.
#[derive(Debug, Default)]
struct Found {
    by_pattern: Vec<(String, std::sync::Arc<[u32]>)>,
}

/// Patterns whose matches are remembered.
const FOUND: usize = 4;

/// Most records kept read: a few screens' worth.
const CACHED: usize = 4096;

/// Records a search reads again at a time (what it holds at once).
const SIEVED_PIECE: usize = 8192;

/// A piece of a file: the lines before it, its first byte and its end.
type Piece = (u64, u64, u64);

/// Bytes of a file one thread of a search sieves: pieces of a big file keep every core busy.
const SIEVE_PIECE_BYTES: u64 = 32 << 20;

/// The timeline as rows, records read again when asked for.
#[derive(Debug)]
pub struct Index {
    /// Per source, its records (their times of day only when the timeline has no date).
    sources: Vec<Stream>,
    /// The timeline order: per row, its source (and so its index in the source).
    order: Order,
    /// The CID lists rows name, resolved, in order of mention (list 0 is empty).
    combos: Vec<Box<[u64]>>,
    files: Vec<FileIn>,
    /// Per source, its file.
    file_of: Vec<usize>,
    axis: Axis,
    dated: bool,
    reg: Registry,
    /// The definitions a scan of the text reads with: no entities but CIDs.
    light: Registry,
    cache: Mutex<Cache>,
    found: Mutex<Found>,
}

/// Why an index cannot be built for these inputs (the caller then holds the events).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// An input is not a plain file that can be read from the middle.
    #[error("{0} is compressed or not a file; its records cannot be read again from the middle")]
    NotSeekable(String),
    /// More records than an index numbers.
    #[error("{0} records are more than an index numbers")]
    TooManyRecords(usize),
    /// More sources than a row can name.
    #[error("{0} sources are more than an index names")]
    TooManySources(usize),
    /// The timeline order does not keep a source's records in their own order (an internal error).
    #[error("the timeline order cannot be indexed ({0}); the records are held instead")]
    Order(String),
    /// Reading a file failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// A file the index reads again, as the plan read it.
#[derive(Debug, Clone)]
pub struct Reread {
    /// Its path.
    pub path: PathBuf,
    /// How it is shown.
    pub display: String,
    /// Its label.
    pub label: String,
    /// Its file name.
    pub file_name: Option<String>,
    /// The format pass 1 settled.
    pub format: String,
    /// Its first source.
    pub base: usize,
}

impl Index {
    /// Put pass 1's notes (`gathered`, one per input of `files`) in the order `placed` gives
    /// (`(source, index in the source, position, quality)` for every record of `tl`).
    pub fn build(
        reg: &Registry,
        tl: &Timeline,
        files: Vec<Reread>,
        gathered: Vec<Gather>,
        placed: impl Iterator<Item = (usize, usize, f64, TsQuality)>,
        total: usize,
    ) -> Result<Index, IndexError> {
        if tl.sources.len() > usize::from(u16::MAX) {
            return Err(IndexError::TooManySources(tl.sources.len()));
        }
        // Rows are numbered in 32 bits where they are listed (searches, sources' rows).
        if u32::try_from(total).is_err() {
            return Err(IndexError::TooManyRecords(total));
        }
        let mut ins = Vec::with_capacity(files.len());
        let mut file_of = vec![0usize; tl.sources.len()];
        for (j, f) in files.iter().enumerate() {
            let end = files.get(j + 1).map_or(tl.sources.len(), |n| n.base);
            let mut file =
                std::fs::File::open(&f.path).map_err(|e| IndexError::Io(f.display.clone(), e))?;
            let (len, head) = stamp(&mut file).map_err(|e| IndexError::Io(f.display.clone(), e))?;
            if head.starts_with(&crate::source::GZIP_MAGIC) {
                return Err(IndexError::NotSeekable(f.display.clone()));
            }
            file.seek(SeekFrom::Start(0))
                .map_err(|e| IndexError::Io(f.display.clone(), e))?;
            let lines = Checkpoints::scan(std::io::BufReader::new(file))
                .map_err(|e| IndexError::Io(f.display.clone(), e))?;
            for s in file_of.iter_mut().take(end).skip(f.base) {
                *s = j;
            }
            ins.push(FileIn {
                path: f.path.clone(),
                display: f.display.clone(),
                label: f.label.clone(),
                file_name: f.file_name.clone(),
                format: f.format.clone(),
                base: f.base,
                streams: tl
                    .sources
                    .get(f.base..end)
                    .unwrap_or_default()
                    .iter()
                    .map(|s| s.container.clone())
                    .collect(),
                lines,
                len,
                head,
            });
        }
        // Every input's CID lists, resolved, in one list; per input, where its lists went.
        let mut combos: Vec<Box<[u64]>> = vec![Box::default()];
        let mut seen: Map<Box<[u64]>, u32> = Map::default();
        let mut sources: Vec<Stream> = Vec::with_capacity(tl.sources.len());
        for g in gathered {
            if g.overflow {
                return Err(IndexError::TooManyRecords(total));
            }
            let remap: Vec<u32> = g
                .combos
                .iter()
                .map(|refs| {
                    // In order of mention (`c` in the TUI takes the first), each once.
                    let mut ids: Vec<u64> = Vec::with_capacity(refs.len());
                    for id in refs.iter().filter_map(|r| tl.cids.resolve(r)) {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    if ids.is_empty() {
                        return 0;
                    }
                    let ids: Box<[u64]> = ids.into();
                    if let Some(&c) = seen.get(&ids) {
                        return c;
                    }
                    let c = u32::try_from(combos.len()).unwrap_or(0);
                    combos.push(ids.clone());
                    seen.insert(ids, c);
                    c
                })
                .collect();
            for mut st in g.streams {
                for l in &mut st.rows {
                    let combo = remap.get(l.combo() as usize).copied().unwrap_or(0);
                    l.tag = tag(combo, l.level(), 0);
                }
                sources.push(st);
            }
        }
        sources.resize_with(tl.sources.len(), Stream::default);
        let undated = !(tl.axis == Axis::Time && tl.dated);
        // Each record's place set where it is; the order names it: no second list of rows.
        let mut order = Order::new(sources.len(), total);
        for (s, i, pos, q) in placed {
            let Some(l) = sources.get_mut(s).and_then(|st| st.rows.get_mut(i)) else {
                continue;
            };
            l.pos = pos;
            l.tag = (l.tag & !3) | u32::from(q.code());
            order
                .push(s, i)
                .map_err(|e| IndexError::Order(format!("{e:?}")))?;
        }
        for st in &mut sources {
            st.rows.shrink_to_fit();
            st.more.shrink_to_fit();
            if undated {
                st.tods.shrink_to_fit();
            } else {
                st.tods = Vec::new();
            }
        }
        order.shrink_to_fit();
        Ok(Index {
            sources,
            order,
            combos,
            files: ins,
            file_of,
            axis: tl.axis,
            dated: tl.dated,
            reg: reg.clone(),
            light: {
                let mut light = reg.clone();
                light.entities = reg.entities.for_cids();
                light
            },
            cache: Mutex::default(),
            found: Mutex::default(),
        })
    }

    /// Records in the timeline.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the timeline has no record.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Bytes the rows and their lists hold (for the status line and the benchmark).
    pub fn heap_bytes(&self) -> usize {
        self.order.heap_bytes()
            + self
                .sources
                .iter()
                .map(|s| {
                    s.rows.capacity() * std::mem::size_of::<Local>()
                        + s.tods.capacity() * 16
                        + s.more.capacity() * 8
                })
                .sum::<usize>()
            + self.combos.iter().map(|c| c.len() * 8 + 16).sum::<usize>()
    }

    /// Row `i` of the timeline.
    fn row(&self, i: usize) -> Option<Row> {
        let (s, k) = self.order.get(i)?;
        let st = self.sources.get(s)?;
        let l = st.rows.get(k as usize)?;
        Some(Row {
            line: u64::from(l.line),
            pos: l.pos,
            more: st.more_of(k),
            combo: l.combo(),
            source: u16::try_from(s).unwrap_or(u16::MAX),
            level: l.level(),
            quality: l.quality(),
            local: k,
        })
    }

    /// Record `i`'s position on the axis and its level.
    pub fn place(&self, i: usize) -> Option<(f64, Option<Level>)> {
        self.row(i).map(|r| (r.pos, level_of(r.level)))
    }

    /// Record `i` as its row knows it: source, lines, level, place and CIDs, without its text
    /// (what filters, the overview and jumps read).
    pub fn skeleton(&self, i: usize) -> Option<Event> {
        let r = self.row(i)?;
        let mut ev = Event {
            source: usize::from(r.source),
            line: r.line,
            end_line: r.line.saturating_add(u64::from(r.more)),
            level: level_of(r.level),
            ..Event::default()
        };
        let tods = self
            .sources
            .get(usize::from(r.source))
            .map_or(&[][..], |s| s.tods.as_slice());
        if let Ok(k) = tods.binary_search_by_key(&r.local, |&(k, _)| k) {
            let t = tods.get(k).map_or(0, |&(_, t)| t);
            let secs = u32::try_from(t / 1_000_000_000).unwrap_or(0);
            let nanos = u32::try_from(t % 1_000_000_000).unwrap_or(0);
            ev.raw_ts =
                NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).map(RawTime::TimeOfDay);
        }
        if let Some(ids) = self.combos.get(r.combo as usize) {
            ev.cids = ids.iter().map(|&c| CidRef::Full(c)).collect::<ThinVec<_>>();
        }
        stamp_at(
            &mut ev,
            r.pos,
            TsQuality::from_code(r.quality),
            (self.axis, self.dated),
        );
        Some(ev)
    }

    /// Record `i` read again from its file, whole; when that fails (the file went away or was
    /// rewritten), its row with a message that says why.
    pub fn event(&self, i: usize) -> Option<Event> {
        if let Some(ev) = self.cached(i) {
            return Some(ev);
        }
        self.events(&[i]).into_iter().next().map(|(_, ev)| ev)
    }

    /// Records `wanted` read again, in the order asked (one read of each file for all of them).
    pub fn events(&self, wanted: &[usize]) -> Vec<(usize, Event)> {
        let mut out: Vec<(usize, Event)> = Vec::with_capacity(wanted.len());
        let mut missing: Vec<usize> = Vec::new();
        for &i in wanted {
            match self.cached(i) {
                Some(ev) => out.push((i, ev)),
                None if i < self.order.len() => missing.push(i),
                None => {}
            }
        }
        if missing.is_empty() {
            return out;
        }
        let mut by_file: Vec<Vec<usize>> = vec![Vec::new(); self.files.len()];
        for &i in &missing {
            let Some(r) = self.row(i) else { continue };
            let f = self
                .file_of
                .get(usize::from(r.source))
                .copied()
                .unwrap_or(0);
            if let Some(v) = by_file.get_mut(f) {
                v.push(i);
            }
        }
        let mut read: Map<usize, Event> = Map::default();
        for (f, idx) in by_file.iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let Some(file) = self.files.get(f) else {
                continue;
            };
            let got = self.read_again(file, idx);
            for (i, ev) in idx.iter().zip(got) {
                read.insert(*i, ev);
            }
        }
        // A screen's worth is remembered; a bigger batch (an export) is not.
        if let (true, Ok(mut cache)) = (read.len() <= CACHED, self.cache.lock()) {
            if cache.events.len() + read.len() > CACHED {
                cache.events.clear();
            }
            for (i, ev) in &read {
                cache.events.insert(*i, ev.clone());
            }
        }
        out.extend(read);
        let rank: Map<usize, usize> = wanted.iter().enumerate().map(|(k, &i)| (i, k)).collect();
        out.sort_by_key(|(i, _)| rank.get(i).copied().unwrap_or(usize::MAX));
        out
    }

    fn cached(&self, i: usize) -> Option<Event> {
        self.cache.lock().ok()?.events.get(&i).cloned()
    }

    /// Rows `idx` (all of file `f`) read again, in the same order; a row that cannot be read comes
    /// back as its skeleton with the reason as its message.
    fn read_again(&self, f: &FileIn, idx: &[usize]) -> Vec<Event> {
        let wanted: Vec<(usize, Row)> = idx
            .iter()
            .filter_map(|&i| self.row(i).map(|r| (i, r)))
            .collect();
        let ranges: Vec<(u64, u64)> = wanted
            .iter()
            .map(|(_, r)| (r.line, r.line.saturating_add(u64::from(r.more))))
            .collect();
        let mut found: Map<(usize, u64), Event> = Map::default();
        let result = self.parse_ranges(&self.reg, f, ranges, &mut |k, evs| {
            for ev in evs {
                found.insert((f.base + k, ev.line), ev);
            }
            true
        });
        wanted
            .iter()
            .map(|&(i, r)| {
                let fresh = found.remove(&(usize::from(r.source), r.line));
                match (fresh, &result) {
                    (Some(mut ev), _) => {
                        ev.source = usize::from(r.source);
                        stamp_at(
                            &mut ev,
                            r.pos,
                            TsQuality::from_code(r.quality),
                            (self.axis, self.dated),
                        );
                        ev
                    }
                    (None, res) => {
                        let why = match res {
                            Err(e) => e.clone(),
                            Ok(()) => format!("no record begins on line {} any more", r.line),
                        };
                        let mut ev = self.skeleton(i).unwrap_or_default();
                        ev.message = format!(
                            "[diag: this record could not be read again from {}: {why}; if the file was rewritten, reload with `R`]",
                            f.display
                        );
                        ev
                    }
                }
            })
            .collect()
    }

    /// Parse the records on lines `ranges` of file `f` again, handing `sink` each stream's events.
    fn parse_ranges(
        &self,
        reg: &Registry,
        f: &FileIn,
        ranges: Vec<(u64, u64)>,
        sink: crate::pipeline::Sink,
    ) -> Result<(), String> {
        let first = ranges.iter().map(|r| r.0).min().unwrap_or(1);
        let (before, offset) = f.lines.before(first);
        let mut file = std::fs::File::open(&f.path).map_err(|e| e.to_string())?;
        let (len, head) = stamp(&mut file).map_err(|e| e.to_string())?;
        if len < f.len || head != f.head {
            return Err("it was rewritten since it was read".into());
        }
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| e.to_string())?;
        let reader =
            crate::source::from_reader(Box::new(file), &f.display).map_err(|e| e.to_string())?;
        let opened = Opened::new(reg, reader, f.file_name.as_deref(), Some(&f.format), 0)
            .map_err(|e| e.to_string())?
            .numbered_after(before);
        let names = Names {
            label: &f.label,
            display: &f.display,
            file_name: f.file_name.as_deref(),
        };
        let caps = Caps {
            max_events: usize::MAX,
            head_bytes: 0,
        };
        let only = Only::new(ranges, f.streams.clone());
        opened.parse_only(reg, names, caps, &only, sink);
        Ok(())
    }

    /// The rows, in timeline order, whose records `keep` says yes to, each record read again (every
    /// file read once, on a thread each).
    pub fn scan(&self, keep: &(dyn Fn(&Event) -> bool + Sync)) -> Vec<usize> {
        let mut hits: Vec<usize> = std::thread::scope(|sc| {
            let handles: Vec<_> = self
                .files
                .iter()
                .map(|f| sc.spawn(move || self.scan_file(f, keep)))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        crate::memory::trim();
        hits.sort_unstable();
        hits
    }

    /// The rows whose record's text (message or a further line) `re` matches, in timeline order:
    /// what a search or a text filter over the whole timeline needs. Lines that cannot hold a match
    /// ([`sieve::Sieve`]) are passed over unparsed where the format allows; the rest are read again.
    pub fn matching(&self, re: &Regex) -> Vec<usize> {
        let known = self.found.lock().ok().and_then(|f| {
            f.by_pattern
                .iter()
                .find(|(p, _)| p == re.as_str())
                .map(|(_, hits)| hits.clone())
        });
        if let Some(hits) = known {
            return hits.iter().map(|&i| i as usize).collect();
        }
        let hits = self.match_all(re);
        if let Ok(mut f) = self.found.lock() {
            if f.by_pattern.len() >= FOUND {
                f.by_pattern.remove(0);
            }
            let packed: std::sync::Arc<[u32]> = hits
                .iter()
                .map(|&i| u32::try_from(i).unwrap_or(u32::MAX))
                .collect();
            f.by_pattern.push((re.as_str().to_string(), packed));
        }
        hits
    }

    fn match_all(&self, re: &Regex) -> Vec<usize> {
        let keep =
            |ev: &Event| re.is_match(&ev.message) || ev.continuation.iter().any(|l| re.is_match(l));
        let sieve = sieve::Sieve::new(re);
        // Sievable files in pieces (a big file keeps every core busy), the others whole.
        let mut work: Vec<(&FileIn, Option<Piece>)> = Vec::new();
        for f in &self.files {
            if sieve.is_none() || !self.sievable(f) {
                work.push((f, None));
                continue;
            }
            let pieces = f.lines.pieces(SIEVE_PIECE_BYTES);
            for (k, &(before, from)) in pieces.iter().enumerate() {
                let to = pieces.get(k + 1).map_or(u64::MAX, |p| p.1);
                work.push((f, Some((before, from, to))));
            }
        }
        let found = crate::par::queue(
            &work,
            || (),
            |(), &(f, piece)| match (sieve.as_ref(), piece) {
                (Some(sv), Some(piece)) => self.sieve_piece(f, piece, sv, &keep),
                _ => self.scan_file(f, &keep),
            },
        );
        // The threads' read buffers, freed in arenas the allocator keeps: given back.
        crate::memory::trim();
        let mut hits: Vec<usize> = found.into_iter().flatten().collect();
        // A record on both sides of a piece's edge was read twice.
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    /// Whether the records of file `f` hold their lines' own text (no JSON, no unescaping), so
    /// that a line without a literal cannot give a record a match.
    fn sievable(&self, f: &FileIn) -> bool {
        self.reg
            .format(&f.format)
            .is_some_and(|fmt| fmt.json.is_none() && !fmt.unescape)
    }

    /// [`Index::scan`] of one file: every record parsed again.
    fn scan_file(&self, f: &FileIn, keep: &(dyn Fn(&Event) -> bool + Sync)) -> Vec<usize> {
        let mut hits = Vec::new();
        // Each stream's rows in the timeline, in the order its records are read.
        let mut rows: Vec<_> = (0..f.streams.len())
            .map(|k| self.order.rows_of(f.base + k))
            .collect();
        let all = vec![(1, u64::MAX)];
        let _ = self.parse_ranges(&self.light, f, all, &mut |k, evs| {
            let Some(rows) = rows.get_mut(k) else {
                return true;
            };
            for ev in evs {
                if let Some(i) = rows.next() {
                    if keep(&ev) {
                        hits.push(i);
                    }
                }
            }
            true
        });
        hits
    }

    /// [`Index::matching`] of one piece of a sievable file (`(lines before it, first byte, end
    /// byte)`): the lines `sv` passes are mapped to their records, which are read again (a batch
    /// at a time) and matched.
    fn sieve_piece(
        &self,
        f: &FileIn,
        (before, from, to): Piece,
        sv: &sieve::Sieve,
        keep: &(dyn Fn(&Event) -> bool + Sync),
    ) -> Vec<usize> {
        // Per source of the file: its number and its records.
        let none = Stream::default();
        let sources: Vec<(usize, &Stream)> = (f.base..f.base + f.streams.len())
            .map(|s| (s, self.sources.get(s).unwrap_or(&none)))
            .collect();
        let mut hits = Vec::new();
        let mut pending: Vec<usize> = Vec::new();
        let flush = |pending: &mut Vec<usize>, hits: &mut Vec<usize>| {
            pending.sort_unstable();
            pending.dedup();
            for (i, ev) in pending.iter().zip(self.read_again(f, pending)) {
                if keep(&ev) {
                    hits.push(*i);
                }
            }
            pending.clear();
        };
        let opened = std::fs::File::open(&f.path).and_then(|mut file| {
            file.seek(SeekFrom::Start(from))?;
            Ok(file)
        });
        // Unreadable now: every record says so when shown; a search finds none of them.
        let Ok(file) = opened else { return hits };
        let mut reader =
            std::io::BufReader::with_capacity(1 << 18, std::io::Read::take(file, to - from));
        let (mut line, mut buf) = (Vec::new(), Vec::new());
        let mut no = before;
        loop {
            line.clear();
            match std::io::BufRead::read_until(&mut reader, b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            no += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            if !sv.passes(text, &mut buf) {
                continue;
            }
            for &(s, stream) in &sources {
                let locals = stream.rows.as_slice();
                // The record of this source whose lines hold line `no`, if any.
                let k = locals.partition_point(|l| u64::from(l.line) <= no);
                let Some((k, l)) = k.checked_sub(1).and_then(|k| Some((k, locals.get(k)?))) else {
                    continue;
                };
                let more = u32::try_from(k).map_or(0, |k| stream.more_of(k));
                if u64::from(l.line).saturating_add(u64::from(more)) >= no {
                    if let Some(i) = u32::try_from(k).ok().and_then(|k| self.order.find(s, k)) {
                        pending.push(i);
                    }
                }
            }
            if pending.len() >= SIEVED_PIECE {
                flush(&mut pending, &mut hits);
            }
        }
        flush(&mut pending, &mut hits);
        hits
    }
}
