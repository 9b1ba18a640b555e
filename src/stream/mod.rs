//! The timeline in two passes over the inputs, for logs too big to hold: memory follows what
//! placement needs, not the size of the input.
//!
//! Pass 1 reads every input as [`pipeline::load`] does but keeps no event: of each only its raw time
//! (placement needs every one), and what correlation gathers across events (anchor occurrences, the
//! first mention of each UUID per source, CIDs and names, owner lines). `correlate` then places every
//! source exactly as it places a loaded timeline, and each source's positions are packed for pass 2
//! ([`placed`]). Pass 2 reads the inputs again, one thread each, and hands their events on one at a
//! time in timeline order, stamped as the loaded timeline stamps them.
//! Only files can be read twice: stdin, and more inputs than a thread each can serve, are loaded.

use crate::correlate::cids::{DirectoryBuilder, OwnerTally};
use crate::correlate::merge::stamp_at;
use crate::correlate::pairs::{self, At, Scanner};
use crate::correlate::placement::Timed;
use crate::correlate::{self, dates};
use crate::defs::Registry;
use crate::model::{Event, RawTime, SourceInfo, Timeline};
use crate::pipeline::{Caps, LoadError, Names, Opened, ParsedInput, Problems};
use crate::source::{self, Input};
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{sync_channel, Receiver};

pub mod packed;
pub mod placed;
mod times;
pub use packed::{Note, Packed};
pub use placed::{Placed, PlacedOrder, Spots, Step};
use times::Times;

/// Most inputs read in two passes: pass 2 reads them all at once, a thread and an open file each.
pub const MAX_INPUTS: usize = 64;

/// Whether these inputs can be read twice: files only (stdin cannot), and not too many of them.
pub fn can_stream(inputs: &[Input]) -> bool {
    !inputs.is_empty() && inputs.len() <= MAX_INPUTS && inputs.iter().all(|i| i.path.is_some())
}

/// After the instants are taken: which events carry a full instant, one bit each.
struct Exact {
    /// Bit `i % 64` of word `i / 64`: event `i` carries a full instant (a bit where a `bool` took
    /// a byte: at 4 GB 17 MB held while the sources are placed, at the peak of the run).
    bits: Vec<u64>,
    len: usize,
}

impl FromIterator<bool> for Exact {
    fn from_iter<I: IntoIterator<Item = bool>>(it: I) -> Exact {
        let mut e = Exact {
            bits: Vec::new(),
            len: 0,
        };
        for b in it {
            if e.len.is_multiple_of(64) {
                e.bits.push(0);
            }
            if let (true, Some(w)) = (b, e.bits.last_mut()) {
                *w |= 1 << (e.len % 64);
            }
            e.len += 1;
        }
        e
    }
}

impl Timed for Exact {
    fn count(&self) -> usize {
        self.len
    }
    fn exact(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }
}

/// What pass 1 keeps of one input.
struct Sketch {
    parsed: ParsedInput,
    /// Per stream.
    times: Vec<Times>,
    earliest: Option<DateTime<Utc>>,
    scanner: Scanner,
    dir: DirectoryBuilder,
    owners: OwnerTally,
    /// Per stream, what a two-pass `check` marked.
    marks: Vec<crate::lean::StreamMarks>,
    /// The index's rows, when asked for.
    gather: Option<crate::index::Gather>,
}

/// The timeline placed without its events: what pass 2 needs to put them in order.
pub struct Plan {
    /// Sources, CIDs, anchors, axis: a timeline whose `events` pass 2 hands on one at a time.
    pub timeline: Timeline,
    /// What was skipped or mended while reading.
    pub problems: Problems,
    /// Per source, its events' positions and their quality (let go once pass 2's records are
    /// placed: [`Plan::place_wants`]).
    positions: Vec<Placed>,
    /// Per source, its events.
    counts: Vec<usize>,
    /// Per source, where the records pass 2 reads go, once placed.
    spots: Option<Vec<Spots>>,
    /// Every input that was read, in order.
    inputs: Vec<ReadInput>,
    /// Per source, what a two-pass `check` marked in pass 1 (`None` when nothing was marked).
    pub(crate) marks: Option<Vec<crate::lean::StreamMarks>>,
    /// Per input, the index's rows pass 1 noted (`None` unless asked for).
    gathered: Option<Vec<crate::index::Gather>>,
}

impl Plan {
    /// The index of the timeline from the rows [`plan_marked`] noted (taken: a second call
    /// gives `None`); `reg` reads the records again.
    pub fn index(
        &mut self,
        reg: &Registry,
    ) -> Option<Result<crate::index::Index, crate::index::IndexError>> {
        let gathered = self.gathered.take()?;
        let files = self
            .inputs
            .iter()
            .map(|r| {
                let path = r.input.path.clone().unwrap_or_default();
                crate::index::Reread {
                    path,
                    display: r.input.display(),
                    label: r.input.label.clone(),
                    file_name: r.input.file_name().map(str::to_string),
                    format: r.format.clone(),
                    base: r.base,
                }
            })
            .collect();
        let order = self
            .placed_order()
            .map(|s| (s.source, s.index, s.pos, s.quality));
        Some(crate::index::Index::build(
            reg,
            &self.timeline,
            files,
            gathered,
            order,
            self.events(),
        ))
    }

    /// Events pass 1 read: what pass 2 hands on.
    pub fn events(&self) -> usize {
        self.counts.iter().sum()
    }

    /// Events of the largest stream.
    pub fn largest_stream(&self) -> usize {
        self.counts.iter().copied().max().unwrap_or(0)
    }

    /// Every event as (source, index in the source), in timeline order.
    pub fn order(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.placed_order().map(|st| (st.source, st.index))
    }

    /// Every event with its position and quality, in timeline order (none once the positions
    /// are let go).
    pub fn placed_order(&self) -> PlacedOrder<'_> {
        PlacedOrder::new(&self.positions)
    }

    /// Place the records `wants` names (per source, in source order) with one walk of the order,
    /// for pass 2, and let go of every event's position: pass 2 then holds a few bytes per record
    /// it reads, not per event (13 MB at 1 GB), and walks only those.
    pub fn place_wants<T: Note>(&mut self, wants: &[Packed]) {
        self.spots = Some(self.spots_of::<T>(wants));
        self.positions = Vec::new();
    }

    /// Where the records `wants` names go.
    fn spots_of<T: Note>(&self, wants: &[Packed]) -> Vec<Spots> {
        let indices = wants
            .iter()
            .map(|w| w.iter::<T>().map(|w| w.index))
            .collect();
        placed::spots(&self.positions, indices)
    }

    /// Bytes the positions and the placed records hold (for `DIAG_MEMTRACE`).
    pub fn placed_bytes(&self) -> (usize, usize) {
        let spots = self.spots.iter().flatten().map(Spots::heap_bytes).sum();
        (self.positions.iter().map(Placed::heap_bytes).sum(), spots)
    }
}

/// An input pass 1 read, as pass 2 reads it again.
struct ReadInput {
    input: Input,
    /// Its first source's number.
    base: usize,
    /// The format pass 1 settled (pass 2 forces it).
    format: String,
    /// Bytes pass 1 read (pass 2 reads no further).
    bytes: u64,
}

/// Open `input` and settle its format (forced, or detected from its first lines within `head_bytes`).
fn open<'r>(
    reg: &'r Registry,
    input: &Input,
    forced: Option<&str>,
    head_bytes: u64,
) -> Result<Opened<'r>, source::InputError> {
    let reader = source::open(input)?;
    Opened::new(reg, reader, input.file_name(), forced, head_bytes)
}

/// Event batches (five hundred events or so each) waiting for pass 1's marker. Every batch in
/// flight between the threads of a read is memory that does not shrink with the input: at 100 MB
/// they were a third of the peak, and one is enough to keep the marker busy.
const MARK_IN_FLIGHT: usize = 1;

/// Pass 1 of one input.
fn sketch(
    reg: &Registry,
    input: &Input,
    forced: Option<&str>,
    progress: &AtomicU64,
    keep: Option<&crate::lean::Keep>,
    index: bool,
) -> Result<Sketch, source::InputError> {
    let file_name = input.file_name();
    let mut gather = index.then(crate::index::Gather::default);
    let opened = open(reg, input, forced, 0)?;
    let role = opened.fmt.role;
    let mut times: Vec<Times> = Vec::new();
    let mut earliest: Option<DateTime<Utc>> = None;
    let mut scanner = Scanner::new(&reg.anchors);
    let mut dir = DirectoryBuilder::default();
    let mut owners = OwnerTally::default();
    // Marking (templates, what the rules read) runs on a thread of its own, after the events'
    // correlation data is taken: it is as much work again, and this thread is the read's
    // critical path.
    let (parsed, marks) = std::thread::scope(|sc| {
        let (to_marker, batches) = sync_channel::<(usize, Vec<Event>)>(MARK_IN_FLIGHT);
        let marking = keep.map(|keep| {
            let mut marker = crate::lean::Marker::new(keep);
            sc.spawn(move || {
                for (k, evs) in batches {
                    for ev in &evs {
                        marker.add(k, ev);
                    }
                }
                marker
            })
        });
        let to_marker = marking.is_some().then_some(to_marker);
        let mut sink = |k: usize, mut evs: Vec<Event>| {
            if times.len() <= k {
                times.resize_with(k + 1, Times::default);
            }
            let Some(t) = times.get_mut(k) else {
                return true;
            };
            for ev in &mut evs {
                ev.source = k;
                let i = t.len();
                if let Some(RawTime::Instant(x)) = ev.raw_ts {
                    earliest = Some(earliest.map_or(x, |e| e.min(x)));
                }
                t.push(ev.raw_ts);
                scanner.event(
                    At {
                        source: k,
                        index: i,
                    },
                    ev,
                );
                dir.add(k, i, ev);
                owners.add(ev, role, &reg.entities);
                if let Some(g) = gather.as_mut() {
                    g.add(k, ev);
                }
            }
            // The marker only stops when its channel closes; a panic there ends the scope with it.
            if let Some(tx) = &to_marker {
                let _ = tx.send((k, evs));
            }
            true
        };
        let names = Names {
            label: &input.label,
            display: &input.display(),
            file_name,
        };
        let caps = Caps {
            max_events: usize::MAX,
            head_bytes: 0,
        };
        let parsed = opened.parse(reg, names, Some(progress), caps, Some(&mut sink));
        // The marker ends when the channel closes.
        drop(to_marker);
        let marks = match marking.map(|h| h.join()) {
            Some(Ok(m)) => m.finish(parsed.sources.len()),
            Some(Err(p)) => std::panic::resume_unwind(p),
            None => Vec::new(),
        };
        (parsed, marks)
    });
    times.resize_with(parsed.sources.len(), Times::default);
    for t in &mut times {
        t.shrink_to_fit();
    }
    Ok(Sketch {
        parsed,
        times,
        earliest,
        scanner,
        dir,
        owners,
        marks,
        gather,
    })
}

/// The definitions pass 1 reads with: what correlation needs, without what only outputs use
/// (message ids, usernames, fields; levels from text unless `levels`: a marking pass 1 keys
/// templates, whose level is part of the key). Its own copy (see `par::queue`).
fn for_correlation(reg: &Registry, levels: bool) -> Registry {
    let mut light = reg.clone();
    light.entities = reg.entities.for_correlation();
    if !levels {
        for f in &mut light.formats {
            f.level_hints.clear();
        }
    }
    light
}

/// Pass 1 over every input, and the placement of every source.
pub fn plan(
    reg: &Registry,
    inputs: &[Input],
    forced: Option<&str>,
    opts: &correlate::Options,
    progress: &AtomicU64,
) -> Result<Plan, LoadError> {
    plan_marked(reg, inputs, forced, opts, progress, None, false)
}

/// [`plan`], marking on the way what the rules of `keep` can read of each event and every event's
/// template (see [`crate::lean`]), so that pass 2 reads only those records; with `index`, noting
/// every record's row for an [`crate::index::Index`] too (see [`Plan::index`]).
pub fn plan_marked(
    reg: &Registry,
    inputs: &[Input],
    forced: Option<&str>,
    opts: &correlate::Options,
    progress: &AtomicU64,
    keep: Option<&crate::lean::Keep>,
    index: bool,
) -> Result<Plan, LoadError> {
    if let Some(f) = forced {
        if reg.format(f).is_none() {
            return Err(LoadError::UnknownFormat(f.to_string()));
        }
    }
    crate::memory::at("pass1-start");
    let results = crate::par::queue(
        inputs,
        || (for_correlation(reg, keep.is_some() || index), keep.cloned()),
        |(reg, keep), input| sketch(reg, input, forced, progress, keep.as_ref(), index),
    );
    let mut gathered = index.then(Vec::new);
    let mut marks = keep.map(|_| Vec::new());
    let mut problems = Problems::default();
    let mut infos: Vec<SourceInfo> = Vec::new();
    let mut times: Vec<Times> = Vec::new();
    let mut earliest: Option<DateTime<Utc>> = None;
    let mut scanner = Scanner::new(&reg.anchors);
    let mut dir = DirectoryBuilder::default();
    let mut owners = OwnerTally::default();
    let mut read = Vec::new();
    for (inp, r) in inputs.iter().zip(results) {
        let sk = match r {
            Ok(sk) => sk,
            Err(e) => {
                problems.refused.push(e.to_string());
                continue;
            }
        };
        problems.note(inp, &sk.parsed, opts);
        let base = infos.len();
        let format = sk
            .parsed
            .sources
            .first()
            .map(|(i, _)| i.detection.format.clone())
            .unwrap_or_default();
        let bytes = sk.parsed.sources.first().map_or(0, |(i, _)| i.read.bytes);
        read.push(ReadInput {
            input: inp.clone(),
            base,
            format,
            bytes,
        });
        if let Some(m) = marks.as_mut() {
            m.extend(sk.marks);
        }
        if let (Some(all), Some(mut g)) = (gathered.as_mut(), sk.gather) {
            g.cover(sk.parsed.sources.len());
            all.push(g);
        }
        infos.extend(sk.parsed.sources.into_iter().map(|(i, _)| i));
        times.extend(sk.times);
        earliest = match (earliest, sk.earliest) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        scanner.absorb(sk.scanner, base);
        dir.absorb(sk.dir, base);
        owners.absorb(sk.owners, base);
    }
    // Pass 1's threads freed their parse buffers in arenas of their own, which glibc keeps: give
    // those pages back before placement and pass 2 allocate (40 MB at 1 GB).
    crate::memory::trim();
    crate::memory::at("pass1-read");
    if infos.is_empty() {
        return Err(LoadError::NothingRead(problems.refused));
    }
    // Pairs first: the occurrences they come from are freed before the instants are made.
    let ordered = pairs::ordered(&reg.anchors);
    let scanned = scanner.finish();
    crate::memory::note(|| {
        let [occ, entries, steps, uuids] = scanned.sizes();
        format!("anchors: {occ} occurrences ({entries} list entries, {steps} bytes of runs), {uuids} UUIDs")
    });
    let pairs = pairs::pairs_from(&ordered, scanned, infos.len());
    let dating = dates::settle(earliest, &infos, opts);
    let mut raw = Vec::with_capacity(times.len());
    let mut exact = Vec::with_capacity(times.len());
    for t in times {
        raw.push(dates::source_instants(
            t.iter(),
            dating.work_date,
            dating.tz,
        ));
        exact.push(t.exact().collect::<Exact>());
    }
    crate::memory::at("placing");
    let (axis, placed) = correlate::place_all(&exact, raw, &pairs, &mut infos);
    crate::memory::at("placed");
    drop(exact);
    // Packed one source at a time, each source's lists freed as it is packed, before the ranks
    // below are taken from the packed order: taken from every position at once, their lists came
    // on top of the positions (at 4 GB 10 MB at the peak of the run).
    let positions: Vec<Placed> = placed
        .positions
        .into_iter()
        .zip(
            placed
                .quality
                .into_iter()
                .chain(std::iter::repeat_with(Vec::new)),
        )
        .map(|(p, q)| Placed::new(&p, &q))
        .collect();
    crate::memory::at("packed");
    // The timeline index of the events the directory and the anchor links name.
    let wanted = dir.name_events().chain(
        pairs
            .iter()
            .flat_map(|p| [p.first(), p.second()])
            .map(|a| (a.source, a.index)),
    );
    let order = PlacedOrder::new(&positions).map(|st| (st.source, st.index));
    let rank = Ranks::new(order, wanted);
    let at = |s: usize, i: usize| rank.get(s, i);
    let mut cids = dir.finish(&opts.aliases, at);
    cids.shape = reg.entities.cid_shape.clone();
    owners.settle(&mut infos, &cids, &reg.entities);
    let names = pairs::link_names(&reg.anchors);
    let anchors = pairs
        .iter()
        .filter_map(|p| {
            let (a, b) = (p.first(), p.second());
            Some(crate::model::AnchorLink {
                name: names.get(usize::from(p.def))?.clone(),
                a: at(a.source, a.index),
                b: at(b.source, b.index),
            })
        })
        .collect();
    Ok(Plan {
        timeline: Timeline {
            sources: infos,
            events: Vec::new(),
            cids,
            anchors,
            axis,
            dated: dating.dated,
            unread: Vec::new(),
            sparse: None,
        },
        problems,
        counts: positions.iter().map(Placed::len).collect(),
        positions,
        spots: None,
        inputs: read,
        marks,
        gathered,
    })
}

/// The timeline index of chosen events (anchor ends, name bindings: one or two per anchor pair, a
/// million at 4 GB), kept per source as sorted lists beside their ranks: hash maps of them took
/// 100 MB at 4 GB, at the peak of the run.
struct Ranks {
    /// Per source: the chosen events' indexes in the source, sorted, and each one's rank.
    per: Vec<(Vec<usize>, Vec<usize>)>,
}

impl Ranks {
    /// The ranks of `wanted` `(source, index)` events in the timeline order `order`.
    fn new(
        order: impl Iterator<Item = (usize, usize)>,
        wanted: impl Iterator<Item = (usize, usize)>,
    ) -> Ranks {
        let mut per: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
        for (s, i) in wanted {
            if per.len() <= s {
                per.resize_with(s + 1, Default::default);
            }
            if let Some((idx, _)) = per.get_mut(s) {
                idx.push(i);
            }
        }
        let mut left = 0;
        for (idx, ranks) in &mut per {
            idx.sort_unstable();
            idx.dedup();
            idx.shrink_to_fit();
            *ranks = vec![usize::MAX; idx.len()];
            left += idx.len();
        }
        if left > 0 {
            // Each source's events come in its own order, as its chosen indexes are sorted: one
            // cursor per source.
            let mut next = vec![0usize; per.len()];
            for (k, (s, i)) in order.enumerate() {
                let (Some((idx, ranks)), Some(n)) = (per.get_mut(s), next.get_mut(s)) else {
                    continue;
                };
                if idx.get(*n) == Some(&i) {
                    if let Some(r) = ranks.get_mut(*n) {
                        *r = k;
                    }
                    *n += 1;
                    left -= 1;
                    if left == 0 {
                        break;
                    }
                }
            }
        }
        Ranks { per }
    }

    /// The rank of event `i` of source `s`; `usize::MAX` when it was not chosen or not placed.
    fn get(&self, s: usize, i: usize) -> usize {
        self.per
            .get(s)
            .and_then(|(idx, ranks)| ranks.get(idx.binary_search(&i).ok()?))
            .copied()
            .unwrap_or(usize::MAX)
    }
}

/// The source that stream `k` of input `j` (whose first source is `base`) feeds; `None` for a stream
/// pass 1 did not see (the input was rewritten between the passes), which must not spill into the
/// next input's sources.
fn route(input_of: &[usize], j: usize, base: usize, k: usize) -> Option<usize> {
    let s = base + k;
    (input_of.get(s) == Some(&j)).then_some(s)
}

/// Batches of drained events in flight per input (each a few thousand events).
const IN_FLIGHT: usize = 1;

/// What a pass-2 reader sends: events of one of its streams, or why it could not read.
type Batch = Result<(usize, Vec<Event>), String>;

/// An error of pass 2: an input that could be read in pass 1 cannot be now.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    /// The input went away or changed between the passes.
    #[error("{0} could not be read again for the second pass ({1}); if it is being written, copy it first, or pass --stream never")]
    Reread(String, String),
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The pass-2 readers, a thread and an open file per input (reading all lines, or only the lines
/// of [`crate::pipeline::Only`] per input), and per source the events they sent and are not yet
/// handed on.
struct Readers<'p> {
    plan: &'p Plan,
    feeds: Vec<Receiver<Batch>>,
    queues: Vec<VecDeque<Event>>,
    ended: Vec<bool>,
    /// The input each source comes from.
    input_of: Vec<usize>,
    /// Events of streams pass 1 did not see.
    stray: u64,
}

impl<'p> Readers<'p> {
    /// Start a reader per input of `plan` in `scope`, each with its own copy of `reg`; with `only`,
    /// reader `j` reads the lines of `only[j]` alone.
    fn start<'scope>(
        scope: &'scope std::thread::Scope<'scope, '_>,
        reg: &'scope Registry,
        plan: &'p Plan,
        only: Option<&'scope [crate::pipeline::Only]>,
    ) -> Readers<'p>
    where
        'p: 'scope,
    {
        let n = plan.counts.len();
        let mut feeds = Vec::with_capacity(plan.inputs.len());
        for (
            j,
            ReadInput {
                input,
                format,
                bytes,
                ..
            },
        ) in plan.inputs.iter().enumerate()
        {
            let (tx, rx) = sync_channel(IN_FLIGHT);
            feeds.push(rx);
            let only = only.and_then(|o| o.get(j));
            scope.spawn(move || {
                // Its own copy of the definitions (see `par::queue`).
                let reg = reg.clone();
                // No more than pass 1 read: a file still being written gives the same lines.
                let caps = Caps {
                    max_events: usize::MAX,
                    head_bytes: (*bytes).max(1),
                };
                let opened = match open(&reg, input, Some(format), caps.head_bytes) {
                    Ok(o) => o,
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return;
                    }
                };
                // A closed channel (the output ended) stops the reading.
                let mut sink = |k: usize, evs: Vec<Event>| tx.send(Ok((k, evs))).is_ok();
                let names = Names {
                    label: &input.label,
                    display: &input.display(),
                    file_name: input.file_name(),
                };
                match only {
                    Some(o) => opened.parse_only(&reg, names, caps, o, &mut sink),
                    None => opened.parse(&reg, names, None, caps, Some(&mut sink)),
                };
            });
        }
        let mut input_of = vec![0usize; n];
        for (j, r) in plan.inputs.iter().enumerate() {
            for s in input_of.iter_mut().take(input_end(plan, j)).skip(r.base) {
                *s = j;
            }
        }
        Readers {
            plan,
            feeds,
            queues: (0..n).map(|_| VecDeque::new()).collect(),
            ended: vec![false; plan.inputs.len()],
            input_of,
            stray: 0,
        }
    }

    /// The input source `s` comes from, as shown.
    fn name(&self, s: usize) -> String {
        let j = self.input_of.get(s).copied().unwrap_or(0);
        self.plan
            .inputs
            .get(j)
            .map(|r| r.input.display())
            .unwrap_or_default()
    }

    /// The next event of source `s` its reader sent; `None` once its input has ended.
    fn next(&mut self, s: usize) -> Result<Option<Event>, PassError> {
        let j = self.input_of.get(s).copied().unwrap_or(0);
        let base = self.plan.inputs.get(j).map_or(0, |r| r.base);
        loop {
            if let Some(ev) = self.queues.get_mut(s).and_then(VecDeque::pop_front) {
                return Ok(Some(ev));
            }
            if self.ended.get(j).is_none_or(|e| *e) {
                return Ok(None);
            }
            match self.feeds.get(j).map(Receiver::recv) {
                Some(Ok(Ok((k, evs)))) => {
                    match route(&self.input_of, j, base, k).and_then(|s| self.queues.get_mut(s)) {
                        Some(q) => q.extend(evs),
                        None => self.stray += evs.len() as u64,
                    }
                }
                Some(Ok(Err(e))) => return Err(PassError::Reread(self.name(s), e)),
                _ => {
                    if let Some(e) = self.ended.get_mut(j) {
                        *e = true;
                    }
                }
            }
        }
    }

    /// An event read again, stamped as the loaded timeline stamps it at its step of the order.
    fn stamp(&self, ev: &mut Event, step: &Step) {
        ev.source = step.source;
        let tl = &self.plan.timeline;
        stamp_at(ev, step.pos, step.quality, (tl.axis, tl.dated));
    }
}

/// The end (exclusive) of input `j`'s sources.
fn input_end(plan: &Plan, j: usize) -> usize {
    plan.inputs
        .get(j + 1)
        .map_or(plan.counts.len(), |next| next.base)
}

/// Pass 2: read the inputs again and hand `each` every event in timeline order, with the plan's
/// timeline (whose `events` stay empty) for context. Returns the number of events that were not in
/// pass 1 (an input that grew between the passes; they are left out).
pub fn replay(
    reg: &Registry,
    plan: &Plan,
    mut each: impl FnMut(&Timeline, Event) -> std::io::Result<()>,
) -> Result<u64, PassError> {
    std::thread::scope(|scope| -> Result<u64, PassError> {
        let mut readers = Readers::start(scope, reg, plan, None);
        for step in plan.placed_order() {
            let s = step.source;
            let Some(mut ev) = readers.next(s)? else {
                return Err(PassError::Reread(
                    readers.name(s),
                    "it holds fewer records than in the first pass".into(),
                ));
            };
            readers.stamp(&mut ev, &step);
            each(&plan.timeline, ev)?;
        }
        // Whatever the inputs still hold came after pass 1 read them.
        let mut extra = readers.stray + readers.queues.iter().map(|q| q.len() as u64).sum::<u64>();
        for (feed, done) in readers.feeds.iter().zip(&readers.ended) {
            if !done {
                extra += feed
                    .iter()
                    .map(|r| r.map_or(0, |(_, evs)| evs.len() as u64))
                    .sum::<u64>();
            }
        }
        Ok(extra)
    })
}

/// A record pass 2 reads: its index in its source, its first and last lines, and what the caller
/// noted of it: 32 bytes with a small note. Pass 2 takes those it reads as a list; pass 1 marks
/// most of a service log's records (most name a CID) and keeps them packed
/// (`lean::packed`, about 4 bytes each).
#[derive(Debug, Clone)]
pub struct Want<T> {
    /// First physical line of the record.
    pub line: u64,
    /// Index of the event in its source.
    pub index: usize,
    /// Lines after the first (a record of more than `u32::MAX` lines is read that far).
    more: u32,
    /// What the caller noted.
    pub what: T,
}

impl<T> Want<T> {
    /// Record `index` of its source, on lines `line..=end_line`, and the caller's note.
    pub fn new(index: usize, line: u64, end_line: u64, what: T) -> Want<T> {
        let more = u32::try_from(end_line.saturating_sub(line)).unwrap_or(u32::MAX);
        Want {
            line,
            index,
            more,
            what,
        }
    }

    /// Last physical line of the record.
    pub fn end_line(&self) -> u64 {
        self.line.saturating_add(u64::from(self.more))
    }
}

/// Pass 2 over the records `wants` names (per source, packed in source order): read the inputs again,
/// passing over every other line unread, and hand `each` those events in timeline order, each with
/// its index in the whole timeline and its want. Returns the number of events of streams pass 1
/// did not see (an input rewritten between the passes; left out).
pub fn replay_only<T: Note>(
    reg: &Registry,
    plan: &Plan,
    wants: &[Packed],
    mut each: impl FnMut(usize, Event, &Want<T>) -> std::io::Result<()>,
) -> Result<u64, PassError> {
    let tl = &plan.timeline;
    let owned;
    let spots: &[Spots] = match &plan.spots {
        Some(s) => s,
        None => {
            owned = plan.spots_of::<T>(wants);
            &owned
        }
    };
    let only: Vec<crate::pipeline::Only> = (0..plan.inputs.len())
        .map(|j| {
            let sources = plan.inputs.get(j).map_or(0, |r| r.base)..input_end(plan, j);
            // Each source's records come in the order of their lines.
            let records = wants
                .get(sources.clone())
                .unwrap_or_default()
                .iter()
                .map(|p| p.iter::<T>().map(|w| (w.line, w.end_line())))
                .collect();
            let streams = tl
                .sources
                .get(sources)
                .unwrap_or_default()
                .iter()
                .map(|i| i.container.clone())
                .collect();
            crate::pipeline::Only::merged(records, streams)
        })
        .collect();
    std::thread::scope(|scope| -> Result<u64, PassError> {
        let mut readers = Readers::start(scope, reg, plan, Some(&only));
        let mut next: Vec<_> = wants.iter().map(|w| w.iter::<T>()).collect();
        // The sources' records, each next the one that comes first in the timeline.
        let spots = crate::kmerge::by_key(spots.iter().map(Spots::iter).collect(), |s| s.0);
        for (s, (k, pos, quality)) in spots {
            let Some(want) = next.get_mut(s).and_then(Iterator::next) else {
                break;
            };
            let step = placed::Step {
                source: s,
                index: want.index,
                pos,
                quality,
            };
            // The stream's next event that begins on the wanted line: the pieces before it (lines
            // of records not wanted, cut off by the lines passed over) are let go.
            let mut ev = loop {
                let Some(ev) = readers.next(s)? else {
                    return Err(PassError::Reread(
                        readers.name(s),
                        "it holds fewer records than in the first pass".into(),
                    ));
                };
                match ev.line.cmp(&want.line) {
                    std::cmp::Ordering::Less => continue,
                    std::cmp::Ordering::Equal => break ev,
                    std::cmp::Ordering::Greater => {
                        return Err(PassError::Reread(
                            readers.name(s),
                            format!("no record begins on line {} any more", want.line),
                        ))
                    }
                }
            };
            readers.stamp(&mut ev, &step);
            each(k, ev, &want)?;
        }
        // Readers stop after the last line wanted; one still sending stops when its channel
        // closes, as the readers are dropped here.
        Ok(readers.stray)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline;
    use std::path::{Path, PathBuf};

    /// Which events carry a full instant, one bit each, read back as given (across words, at the
    /// ends, and for none at all).
    #[test]
    fn exact_bits_read_back_as_given() {
        for n in [0usize, 1, 63, 64, 65, 200] {
            let want: Vec<bool> = (0..n).map(|i| i % 3 == 0 || i == n - 1).collect();
            let e: Exact = want.iter().copied().collect();
            assert_eq!(e.count(), n);
            let got: Vec<bool> = (0..n).map(|i| e.exact(i)).collect();
            assert_eq!(got, want, "{n}");
            assert!(!e.exact(n) && !e.exact(n + 64));
            assert!(e.bits.len() <= n.div_ceil(64));
        }
    }

    /// Each source's wants, packed.
    fn packed<T: Note + Clone>(wants: &[Vec<Want<T>>]) -> Vec<Packed> {
        wants
            .iter()
            .map(|list| list.iter().cloned().collect())
            .collect()
    }

    fn samples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
    }

    proptest::proptest! {
        /// Ranks are the indexes the whole timeline order gives the chosen events, chosen twice or
        /// out of order too; events not chosen, or past a source's end, have none.
        #[test]
        fn ranks_are_the_timeline_order_of_the_chosen(
            positions in proptest::collection::vec(
                proptest::collection::vec(0u8..20, 0..30), 1..5),
            picks in proptest::collection::vec((0usize..6, 0usize..35), 0..40),
        ) {
            let positions: Vec<Vec<f64>> = positions
                .iter()
                .map(|p| {
                    // Each source in its own order, as placement gives it.
                    let mut p: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
                    p.sort_by(f64::total_cmp);
                    p
                })
                .collect();
            let lens: Vec<usize> = positions.iter().map(Vec::len).collect();
            let all: Vec<(usize, usize)> =
                crate::correlate::merge::Order::new(&positions, lens.clone()).collect();
            let order = crate::correlate::merge::Order::new(&positions, lens);
            let ranks = Ranks::new(order, picks.iter().copied());
            for (k, &(s, i)) in all.iter().enumerate() {
                let want = if picks.contains(&(s, i)) { k } else { usize::MAX };
                proptest::prop_assert_eq!(ranks.get(s, i), want, "{:?}", (s, i));
            }
            for &(s, i) in &picks {
                if !all.contains(&(s, i)) {
                    proptest::prop_assert_eq!(ranks.get(s, i), usize::MAX);
                }
            }
        }
    }

    /// Every input set the samples hold: each folder (seed, healthy, every fault) and each file of
    /// `samples/formats`; the real logs too when they are there.
    fn input_sets() -> Vec<PathBuf> {
        let mut sets = vec![samples().join("seed"), samples().join("healthy")];
        for dir in ["faults", "formats"] {
            let mut more: Vec<PathBuf> = std::fs::read_dir(samples().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| !p.ends_with("README.md") && !p.ends_with("expected.json"))
                .collect();
            more.sort();
            sets.extend(more);
        }
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-logs");
        if let Ok(rd) = std::fs::read_dir(real) {
            let mut more: Vec<PathBuf> = rd
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "log"))
                .collect();
            more.sort();
            sets.extend(more);
        }
        sets
    }

    /// Pass 1 over one path, with the built-in definitions and default options.
    fn planned(path: &Path) -> (Registry, Plan) {
        let reg = Registry::load(None).unwrap();
        let opts = correlate::Options::default();
        let inputs = source::expand_all(&[path.display().to_string()])
            .unwrap()
            .inputs;
        let plan = plan(&reg, &inputs, None, &opts, &AtomicU64::new(0)).unwrap();
        (reg, plan)
    }

    fn replayed(reg: &Registry, plan: &Plan) -> Vec<Event> {
        let mut evs = Vec::new();
        let extra = replay(reg, plan, |_, ev| {
            evs.push(ev);
            Ok(())
        })
        .unwrap();
        assert_eq!(extra, 0);
        evs
    }

    /// The differential test: on every input set, the two passes give the timeline loading gives:
    /// the same events in the same order with the same positions, times and entities, the same
    /// sources (placement, offsets, owners, counts), CID directory and anchor links.
    #[test]
    fn two_passes_give_the_loaded_timeline() {
        let reg = Registry::load(None).unwrap();
        let opts = correlate::Options::default();
        let sets = input_sets();
        assert!(sets.len() > 30, "{} input sets", sets.len());
        let mut events = 0;
        for set in sets {
            let arg = set.display().to_string();
            let inputs = source::expand_all(std::slice::from_ref(&arg))
                .unwrap()
                .inputs;
            assert!(can_stream(&inputs), "{arg}");
            let (tl, _) = pipeline::load(&reg, &inputs, None, &opts).unwrap();
            let plan = plan(&reg, &inputs, None, &opts, &AtomicU64::new(0)).unwrap();
            let got = replayed(&reg, &plan);
            let p = &plan.timeline;
            assert_eq!(
                format!("{:?}", p.sources),
                format!("{:?}", tl.sources),
                "{arg}"
            );
            assert_eq!(format!("{:?}", p.cids), format!("{:?}", tl.cids), "{arg}");
            assert_eq!(
                format!("{:?}", p.anchors),
                format!("{:?}", tl.anchors),
                "{arg}"
            );
            assert_eq!((p.axis, p.dated), (tl.axis, tl.dated), "{arg}");
            assert_eq!(got.len(), tl.events.len(), "{arg}");
            for (a, b) in got.iter().zip(&tl.events) {
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{arg}");
            }
            events += got.len();
        }
        assert!(events > 1000, "{events} events compared");
    }

    /// A second pass over some records only (every line of the others passed over unread) gives
    /// those records exactly as the whole reading gives them, at the same timeline index, whichever
    /// records are chosen: every input set, interleaved compose services and multi-line records
    /// among them, and several choices (every k-th from several offsets, every record, one in a
    /// thousand, first and last).
    #[test]
    fn reading_some_records_gives_them_as_the_whole_reading_does() {
        let mut compared = 0;
        for set in input_sets() {
            let (reg, plan) = planned(&set);
            let all = replayed(&reg, &plan);
            // Each event's (source, index in its source), in timeline order.
            let mut seen = vec![0usize; plan.positions.len()];
            let place: Vec<(usize, usize)> = all
                .iter()
                .map(|ev| {
                    let i = seen[ev.source];
                    seen[ev.source] += 1;
                    (ev.source, i)
                })
                .collect();
            let n = all.len();
            let choices: Vec<Box<dyn Fn(usize) -> bool>> = vec![
                Box::new(|_| true),
                Box::new(|k| k % 2 == 0),
                Box::new(|k| k % 3 == 1),
                Box::new(|k| k % 7 == 3 || k % 11 == 0),
                Box::new(|k| k % 1000 == 999),
                Box::new(move |k| k == 0 || k + 1 == n),
            ];
            for (c, chosen) in choices.iter().enumerate() {
                let mut wants: Vec<Vec<Want<usize>>> = vec![Vec::new(); plan.positions.len()];
                for (k, ev) in all.iter().enumerate().filter(|(k, _)| chosen(*k)) {
                    let (s, i) = place[k];
                    wants[s].push(Want::new(i, ev.line, ev.end_line, k));
                }
                let mut got = 0;
                replay_only(&reg, &plan, &packed(&wants), |k, ev, want: &Want<usize>| {
                    assert_eq!(k, want.what, "{set:?} choice {c}");
                    assert_eq!(
                        format!("{ev:?}"),
                        format!("{:?}", all[k]),
                        "{set:?} choice {c}"
                    );
                    got += 1;
                    Ok(())
                })
                .unwrap();
                assert_eq!(
                    got,
                    wants.iter().map(Vec::len).sum::<usize>(),
                    "{set:?} {c}"
                );
                compared += got;
            }
        }
        assert!(compared > 5000, "{compared} records compared");
    }

    /// Reading some records only, where the lines passed over decide what the others are: a
    /// record still open when lines are passed over (a compose service's, whose next record's
    /// continuation lines then come inside another service's wanted record; a record of a format
    /// with an end line, before a weak start that only begins a record after a closed one). Every
    /// record whose message says WANT is read, and must come out as the whole reading gives it.
    #[test]
    fn records_open_across_lines_passed_over_are_closed_there() {
        let dir = tempfile::tempdir().unwrap();
        let compose = "client-1  |  ERROR citadel: src/b.rs:1: WANT first client record\n\
                       client-1  |  INFO citadel: src/b.rs:2: second client record\n\
                       server-1  |  INFO citadel: src/a.rs:3: WANT server record\n\
                       client-1  |    continued second one\n\
                       server-1  |    server continued\n\
                       client-1  |    continued second two\n\
                       server-1  |  INFO citadel: src/a.rs:4: next server\n";
        let mcp = "[LOG] WANT open record without end\n\
                   [LOG] closed record @ http://x/a.js:1\n\
                   TypeError: WANT boom\n    at f (http://x/a.js:2)\n\
                   [LOG] after @ http://x/a.js:3\n";
        for (name, text) in [("compose.log", compose), ("mcp.log", mcp)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let (reg, plan) = planned(&path);
            let all = replayed(&reg, &plan);
            let mut seen = vec![0usize; plan.positions.len()];
            let mut wants: Vec<Vec<Want<usize>>> = vec![Vec::new(); plan.positions.len()];
            for (k, ev) in all.iter().enumerate() {
                let i = seen[ev.source];
                seen[ev.source] += 1;
                if ev.message.contains("WANT") {
                    wants[ev.source].push(Want::new(i, ev.line, ev.end_line, k));
                }
            }
            let mut got = Vec::new();
            replay_only(&reg, &plan, &packed(&wants), |k, ev, want: &Want<usize>| {
                assert_eq!(k, want.what);
                got.push(format!("{ev:?}"));
                Ok(())
            })
            .unwrap();
            let want: Vec<String> = all
                .iter()
                .filter(|e| e.message.contains("WANT"))
                .map(|e| format!("{e:?}"))
                .collect();
            assert_eq!(want.len(), 2, "{name}");
            assert_eq!(got, want, "{name}");
        }
    }

    /// A record the first pass saw that the second cannot find (the input was rewritten in
    /// between) ends the second pass with an error that names the input, not with other lines.
    #[test]
    fn a_record_gone_before_the_second_pass_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let seed = std::fs::read_to_string(samples().join("seed/internal-service.log")).unwrap();
        std::fs::write(&path, &seed).unwrap();
        let (reg, plan) = planned(&path);
        let all = replayed(&reg, &plan);
        let last = all.len() - 1;
        let wants = vec![vec![Want::new(
            last,
            all[last].line,
            all[last].end_line,
            0usize,
        )]];
        let half: String = seed
            .lines()
            .take(seed.lines().count() / 2)
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&path, half).unwrap();
        let err =
            replay_only(&reg, &plan, &packed(&wants), |_, _, _: &Want<usize>| Ok(())).unwrap_err();
        assert!(err.to_string().contains("svc.log"), "{err}");
    }

    /// Options that change placement and names are honoured by both passes alike.
    #[test]
    fn dates_zones_and_aliases_hold_in_two_passes() {
        let reg = Registry::load(None).unwrap();
        let opts = correlate::Options {
            date: chrono::NaiveDate::from_ymd_opt(2025, 12, 30),
            tz: chrono::FixedOffset::east_opt(3600),
            aliases: vec![("carol".into(), 7)],
            ..Default::default()
        };
        let arg = samples().join("seed").display().to_string();
        let inputs = source::expand_all(&[arg]).unwrap().inputs;
        let (tl, _) = pipeline::load(&reg, &inputs, None, &opts).unwrap();
        let plan = plan(&reg, &inputs, None, &opts, &AtomicU64::new(0)).unwrap();
        assert_eq!(
            format!("{:?}", plan.timeline.cids),
            format!("{:?}", tl.cids)
        );
        assert!(plan.timeline.cids.lookup("carol").is_some());
        let got = replayed(&reg, &plan);
        assert_eq!(format!("{got:?}"), format!("{:?}", tl.events));
    }

    /// Pass 2 reads no more than pass 1 did: lines written in between are counted and left out.
    #[test]
    fn an_input_that_grows_between_the_passes_keeps_the_first_pass_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let seed = std::fs::read_to_string(samples().join("seed/internal-service.log")).unwrap();
        std::fs::write(&path, &seed).unwrap();
        let (reg, plan) = planned(&path);
        let before = replayed(&reg, &plan).len();
        assert_eq!(before, plan.timeline.sources[0].events);
        let mut grown = seed.clone();
        grown.push_str(&seed);
        std::fs::write(&path, grown).unwrap();
        let mut n = 0;
        let extra = replay(&reg, &plan, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, before);
        assert_eq!(extra, 0, "pass 2 stops where pass 1 stopped");
    }

    /// An input rewritten between the passes with a compose service pass 1 did not see: that
    /// stream's events are counted and left out, never handed to the next input's sources.
    #[test]
    fn a_stream_new_in_the_second_pass_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let compose =
            std::fs::read_to_string(samples().join("formats/citadel-compose.log")).unwrap();
        let server: Vec<&str> = compose
            .lines()
            .filter(|l| l.starts_with("server-1"))
            .collect();
        // The same records from a second service: a stream of its own.
        let tab: Vec<String> = server
            .iter()
            .map(|l| l.replacen("server-1", "server-2", 1))
            .collect();
        assert!(server.len() > 5);
        let path = dir.path().join("a-compose.log");
        let padded: String = server
            .iter()
            .map(|l| format!("{l} {}\n", "x".repeat(80)))
            .collect();
        std::fs::write(&path, &padded).unwrap();
        let other = dir.path().join("b-svc.log");
        std::fs::copy(samples().join("seed/internal-service.log"), &other).unwrap();
        let (reg, plan) = planned(dir.path());
        assert_eq!(
            plan.timeline.sources.len(),
            2,
            "one stream per file in pass 1"
        );
        let of_b = |evs: &[Event]| -> Vec<String> {
            evs.iter()
                .filter(|e| e.source == 1)
                .map(|e| e.message.clone())
                .collect()
        };
        let before = of_b(&replayed(&reg, &plan));
        let mut rewritten: String = server.iter().map(|l| format!("{l}\n")).collect();
        rewritten.extend(tab.iter().map(|l| format!("{l}\n")));
        std::fs::write(&path, rewritten).unwrap();
        let mut after = Vec::new();
        let extra = replay(&reg, &plan, |_, ev| {
            after.push(ev);
            Ok(())
        })
        .unwrap();
        assert!(extra > 0, "the new stream's events are counted");
        assert_eq!(of_b(&after), before, "the next input's events are its own");
    }

    /// Streams route to their own input's sources only.
    #[test]
    fn a_stream_routes_to_its_own_input_only() {
        // Input 0 has sources 0 and 1, input 1 has source 2.
        let input_of = [0, 0, 1];
        assert_eq!(route(&input_of, 0, 0, 0), Some(0));
        assert_eq!(route(&input_of, 0, 0, 1), Some(1));
        assert_eq!(route(&input_of, 0, 0, 2), None, "not input 1's source");
        assert_eq!(route(&input_of, 1, 2, 0), Some(2));
        assert_eq!(route(&input_of, 1, 2, 1), None, "past the last source");
    }

    /// An input gone before pass 2 is an error that names it, not a panic or a short timeline.
    #[test]
    fn an_input_gone_before_the_second_pass_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        std::fs::copy(samples().join("seed/internal-service.log"), &path).unwrap();
        let (reg, plan) = planned(&path);
        std::fs::write(&path, "").unwrap();
        let err = replay(&reg, &plan, |_, _| Ok(())).unwrap_err();
        assert!(matches!(err, PassError::Reread(..)), "{err}");
        assert!(err.to_string().contains("svc.log"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let err = replay(&reg, &plan, |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("svc.log"), "{err}");
    }

    /// A writer that stops (a closed pipe) ends pass 2 with its error, without reading on.
    #[test]
    fn a_failing_writer_ends_the_second_pass() {
        let (reg, plan) = planned(&samples().join("seed"));
        let mut n = 0;
        let err = replay(&reg, &plan, |_, _| {
            n += 1;
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        })
        .unwrap_err();
        assert!(matches!(err, PassError::Io(_)));
        assert_eq!(n, 1);
    }

    /// Stdin cannot be read twice; nor can more inputs than a thread each.
    #[test]
    fn only_files_are_streamed() {
        let file = |n: usize| Input {
            label: format!("f{n}"),
            path: Some(PathBuf::from(format!("f{n}.log"))),
            labelled: false,
            spooled: false,
        };
        assert!(can_stream(&[file(0), file(1)]));
        let stdin = Input {
            label: "stdin".into(),
            path: None,
            labelled: false,
            spooled: false,
        };
        assert!(!can_stream(&[file(0), stdin]));
        assert!(!can_stream(&[]));
        let many: Vec<Input> = (0..=MAX_INPUTS).map(file).collect();
        assert!(!can_stream(&many));
    }
}
