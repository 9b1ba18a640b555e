//! Follow: read only what growing inputs gained since they were read (`tail -f`), parse it in the
//! format already settled, and hand it to [`correlate::append`] to be placed after what the
//! timeline holds, instead of reading everything again.
//!
//! Each input's last records may still be open (a panic's backtrace, a console object printed over
//! several lines): reading starts again at the first line of the input's last record, and the
//! records from there on are replaced. A file that shrank or whose start changed (rotated,
//! truncated) and a gzip input cannot be appended to: [`Grown::Reload`] says to read it all again.

use crate::correlate::append::{Addition, Target};
use crate::defs::Registry;
use crate::model::{SourceInfo, Timeline};
use crate::pipeline;
use crate::source::{self, Input};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

/// Most bytes read again before the end of what was read, to reopen the records still open there;
/// a record longer than this is taken as closed, and a whole reading follows when even the input's
/// last record starts further back.
const REREAD_MAX: u64 = 8 << 20;

/// What has been read of one input.
#[derive(Debug, Clone)]
struct Place {
    input: Input,
    path: PathBuf,
    /// Bytes read (the next reading starts before this: see [`REREAD_MAX`]).
    bytes: u64,
    /// Lines read.
    lines: u64,
    /// Its first bytes (up to [`HEAD`]): a file whose start changed was replaced, not appended to.
    head: Vec<u8>,
    /// The format its reading settled.
    format: String,
    /// Its sources on the timeline, with the first line of each one's last record (`0`: none).
    sources: Vec<(usize, u64)>,
}

/// Where each followed input was read to.
#[derive(Debug, Clone, Default)]
pub struct Tail {
    /// `None`: the input cannot be appended to (not a plain file, or it gave no source).
    places: Vec<Option<Place>>,
    /// The files that cannot be appended to (gzip, unreadable to the end), with their sizes: a
    /// change is read again whole.
    fixed: Vec<(PathBuf, Option<u64>)>,
}

/// What a look at the inputs found.
#[derive(Debug)]
pub enum Grown {
    /// Nothing new.
    Nothing,
    /// New records, and where the inputs are read to once they are placed.
    Appended(Addition, Tail),
    /// Appending cannot follow this change: read everything again (why).
    Reload(String),
}

impl Tail {
    /// Where a whole reading of `inputs` into `tl` left each input.
    pub fn new(inputs: &[Input], tl: &Timeline) -> Tail {
        let last = last_lines(tl, usize::MAX);
        let places: Vec<Option<Place>> = inputs
            .iter()
            .map(|input| {
                let path = input.path.clone()?;
                let display = input.display();
                let sources: Vec<(usize, u64)> = tl
                    .sources
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.path == display)
                    .map(|(k, _)| (k, last.get(k).copied().unwrap_or(0)))
                    .collect();
                let first = tl.sources.get(sources.first()?.0)?;
                if first.read.gzip || first.read.error.is_some() {
                    return None;
                }
                let head = head_of(&mut File::open(&path).ok()?, first.read.bytes).ok()?;
                Some(Place {
                    input: input.clone(),
                    head,
                    path,
                    bytes: first.read.bytes,
                    lines: first.read.lines,
                    format: first.detection.format.clone(),
                    sources,
                })
            })
            .collect();
        let fixed = inputs
            .iter()
            .zip(&places)
            .filter(|(_, p)| p.is_none())
            .filter_map(|(i, _)| i.path.clone())
            .map(|p| {
                let len = std::fs::metadata(&p).ok().map(|m| m.len());
                (p, len)
            })
            .collect();
        Tail { places, fixed }
    }

    /// Whether some input can be appended to.
    pub fn any(&self) -> bool {
        self.places.iter().any(Option::is_some)
    }

    /// Read what the inputs gained since they were read, for a timeline with these `sources` (the
    /// one this tail was taken of, or last appended to).
    pub fn read(&self, reg: &Registry, sources: &[SourceInfo]) -> Grown {
        for (p, len) in &self.fixed {
            if std::fs::metadata(p).ok().map(|m| m.len()) != *len {
                return Grown::Reload(format!(
                    "{} changed and cannot be appended to (compressed, or not read to its end)",
                    p.display()
                ));
            }
        }
        let mut add = Addition::default();
        let mut next = self.clone();
        let mut grew = false;
        for place in next.places.iter_mut() {
            let Some(place) = place else { continue };
            match read_input(reg, place, sources, &mut add) {
                Ok(g) => grew |= g,
                Err(why) => return Grown::Reload(why),
            }
        }
        if grew {
            Grown::Appended(add, next)
        } else {
            Grown::Nothing
        }
    }

    /// Note the sources that an appending added to `tl` (compose services new in an input).
    pub fn settle(&mut self, tl: &Timeline) {
        for place in self.places.iter_mut().flatten() {
            let display = place.input.display();
            for (k, s) in tl.sources.iter().enumerate() {
                if s.path == display && !place.sources.iter().any(|&(j, _)| j == k) {
                    place.sources.push((k, 0));
                }
            }
        }
        let last = last_lines(tl, REREAD_SCAN);
        for place in self.places.iter_mut().flatten() {
            for (k, line) in &mut place.sources {
                if let Some(&l) = last.get(*k).filter(|&&l| l > 0) {
                    *line = l;
                }
            }
        }
    }
}

/// Per source, the first line of its last record among the timeline's last `within` events (`0`:
/// none there).
fn last_lines(tl: &Timeline, within: usize) -> Vec<u64> {
    let mut last = vec![0u64; tl.sources.len()];
    for ev in tl.events.iter().rev().take(within) {
        if let Some(l) = last.get_mut(ev.source) {
            *l = (*l).max(ev.line);
        }
    }
    last
}

/// Events looked at from the end for each source's last record after an appending (the sources
/// that gained none keep the line they had).
const REREAD_SCAN: usize = 1 << 16;

/// Read what one input gained into `add`, moving `place` on; whether it gained anything.
fn read_input(
    reg: &Registry,
    place: &mut Place,
    sources: &[SourceInfo],
    add: &mut Addition,
) -> Result<bool, String> {
    let shown = place.input.display();
    let len = std::fs::metadata(&place.path)
        .map_err(|e| format!("{shown}: {e}"))?
        .len();
    if len < place.bytes {
        return Err(format!(
            "{shown} shrank ({} bytes, {} read): rotated or truncated",
            len, place.bytes
        ));
    }
    if len == place.bytes {
        return Ok(false);
    }
    let mut file = File::open(&place.path).map_err(|e| format!("{shown}: {e}"))?;
    if head_of(&mut file, place.head.len() as u64).ok().as_ref() != Some(&place.head) {
        return Err(format!("{shown} was replaced (its first bytes changed)"));
    }
    // Start again at the earliest last record of its sources that lies within reach, else at the
    // input's last record.
    let mut starts: Vec<u64> = place
        .sources
        .iter()
        .map(|&(_, l)| l)
        .filter(|&l| l > 0)
        .collect();
    starts.sort_unstable();
    let candidates = [starts.first().copied(), starts.last().copied()];
    let mut from = None;
    for line in candidates.into_iter().flatten() {
        if let Some(at) = line_start(&mut file, place.bytes, place.lines, line)? {
            from = Some((line, at));
            break;
        }
    }
    let (from_line, from_byte) = match from {
        Some(f) => f,
        // No record yet: everything read so far, when that is within reach.
        None if starts.is_empty() && place.bytes <= REREAD_MAX => (1, 0),
        None => {
            return Err(format!(
                "{shown}: its last record starts more than {} MB before the end",
                REREAD_MAX >> 20
            ))
        }
    };
    file.seek(SeekFrom::Start(from_byte))
        .map_err(|e| format!("{shown}: {e}"))?;
    let reader = source::from_reader(Box::new(file.take(len - from_byte)), &shown)
        .map_err(|e| e.to_string())?;
    let parsed = pipeline::parse_reader(
        reg,
        reader,
        &place.input.label,
        &shown,
        place.input.file_name(),
        Some(&place.format),
        None,
    )
    .map_err(|e| e.to_string())?;
    let shift = from_line - 1;
    let mut read = None;
    // The input's streams after this reading (a source it had, or a new one) and their services:
    // they are named as a whole reading names them.
    let mut streams: Vec<(Option<usize>, Option<String>)> = place
        .sources
        .iter()
        .map(|&(k, _)| (Some(k), sources.get(k).and_then(|s| s.container.clone())))
        .collect();
    let mut adopted = Vec::new();
    let mut new = Vec::new();
    for (info, mut evs) in parsed.sources {
        for ev in &mut evs {
            ev.line += shift;
            ev.end_line += shift;
        }
        read.get_or_insert_with(|| info.read.clone());
        match target_of(place, sources, &info, &adopted) {
            Some((k, adopt)) => {
                if adopt {
                    adopted.push(k);
                    if let Some(s) = streams.iter_mut().find(|(j, _)| *j == Some(k)) {
                        s.1 = info.container.clone();
                    }
                }
                add.streams.push((Target::Source(k), evs));
            }
            None if evs.is_empty() => {}
            None => {
                streams.push((None, info.container.clone()));
                new.push((info, evs));
            }
        }
    }
    // A service's source is named after it when the input interleaves several streams.
    let several = streams.len() > 1;
    let label = &place.input.label;
    let name = |c: &Option<String>| match c {
        Some(c) if several => format!("{label}:{c}"),
        _ => label.clone(),
    };
    for (k, c) in &streams {
        if let Some(k) = k {
            add.rename.push((*k, name(c), c.clone()));
        }
    }
    for (mut info, evs) in new {
        info.label = name(&info.container);
        add.streams.push((Target::New(Box::new(info)), evs));
    }
    for &(s, _) in &place.sources {
        add.from_line.push((s, from_line));
    }
    if let Some(r) = read {
        place.bytes = from_byte + r.bytes;
        place.lines = shift + r.lines;
    }
    if (place.head.len() as u64) < HEAD {
        let mut file = File::open(&place.path).map_err(|e| format!("{shown}: {e}"))?;
        place.head = head_of(&mut file, place.bytes).map_err(|e| format!("{shown}: {e}"))?;
    }
    Ok(true)
}

/// Bytes of a file's start compared to tell a file appended to from one replaced.
const HEAD: u64 = 256;

/// The first bytes of a file, as many as were read of it, up to [`HEAD`].
fn head_of(file: &mut File, read: u64) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.take(read.min(HEAD)).read_to_end(&mut head)?;
    Ok(head)
}

/// The source of the input a parsed stream goes to: the one of its compose service, or one that
/// has no record and no service yet (the input was empty or held no record), which it adopts
/// (`true`); `None`: a new source.
fn target_of(
    place: &Place,
    sources: &[SourceInfo],
    info: &SourceInfo,
    adopted: &[usize],
) -> Option<(usize, bool)> {
    let of = |k: usize| sources.get(k);
    let same = place
        .sources
        .iter()
        .map(|&(k, _)| k)
        .find(|&k| of(k).is_some_and(|s| s.container == info.container));
    same.map(|k| (k, false)).or_else(|| {
        place
            .sources
            .iter()
            .find(|&&(k, last)| {
                last == 0 && !adopted.contains(&k) && of(k).is_some_and(|s| s.container.is_none())
            })
            .map(|&(k, _)| (k, true))
    })
}

/// The byte where line `line` (1-based) of a file starts, found by walking back from `bytes` (the
/// end of line `lines`); `None` when it lies more than [`REREAD_MAX`] back.
fn line_start(file: &mut File, bytes: u64, lines: u64, line: u64) -> Result<Option<u64>, String> {
    if line <= 1 {
        return Ok((bytes <= REREAD_MAX).then_some(0));
    }
    if line > lines {
        return Ok(Some(bytes));
    }
    let low = bytes.saturating_sub(REREAD_MAX);
    let mut end = bytes;
    let mut buf = vec![0u8; 64 << 10];
    // The line ends to pass over, walking back: those of lines `line - 1` ..= `lines`, less the
    // last one's when it has none (the read stopped at a line without an end).
    let mut last_ended = None;
    let mut left = lines - line + 1;
    while end > low {
        let start = end.saturating_sub(buf.len() as u64).max(low);
        let n = (end - start) as usize;
        let chunk = buf.get_mut(..n).ok_or("buffer")?;
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(chunk))
            .map_err(|e| format!("reading back: {e}"))?;
        if last_ended.is_none() {
            let ended = chunk.last() == Some(&b'\n');
            last_ended = Some(ended);
            if ended {
                left += 1;
            }
        }
        for i in memchr::memrchr_iter(b'\n', chunk) {
            left -= 1;
            if left == 0 {
                return Ok(Some(start + i as u64 + 1));
            }
        }
        end = start;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate;
    use crate::model::{Event, TsQuality};
    use std::io::Write;

    /// The events `tl` holds of the sources an input gave, for tests.
    fn of_input<'t>(tl: &'t Timeline, display: &str) -> Vec<&'t Event> {
        tl.events
            .iter()
            .filter(|e| tl.sources.get(e.source).is_some_and(|s| s.path == display))
            .collect()
    }

    #[test]
    fn line_starts_are_found_walking_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "one\ntwo\nthree\n").unwrap();
        let mut f = File::open(&p).unwrap();
        assert_eq!(line_start(&mut f, 14, 3, 1).unwrap(), Some(0));
        assert_eq!(line_start(&mut f, 14, 3, 2).unwrap(), Some(4));
        assert_eq!(line_start(&mut f, 14, 3, 3).unwrap(), Some(8));
        assert_eq!(line_start(&mut f, 14, 3, 4).unwrap(), Some(14));
        // A last line without its end.
        std::fs::write(&p, "one\ntwo\nthr").unwrap();
        let mut f = File::open(&p).unwrap();
        assert_eq!(line_start(&mut f, 11, 3, 3).unwrap(), Some(8));
        assert_eq!(line_start(&mut f, 11, 3, 2).unwrap(), Some(4));
    }

    /// Per source label: (line, end line, level, message, continuation) of every event.
    fn records(tl: &Timeline) -> Vec<(String, u64, u64, String, Vec<String>)> {
        let mut v: Vec<_> = tl
            .events
            .iter()
            .map(|e| {
                (
                    tl.sources[e.source].label.clone(),
                    e.line,
                    e.end_line,
                    e.message.clone(),
                    e.continuation.iter().map(|c| c.to_string()).collect(),
                )
            })
            .collect();
        v.sort();
        v
    }

    /// Load `path` whole, then grow it by each of `parts` in turn and append: the records equal a
    /// whole reading of the grown file's, in timeline order.
    fn grow_and_compare(name: &str, head: &str, parts: &[&str]) {
        grow_and_compare_as(name, None, head, parts);
    }

    /// [`grow_and_compare`] with the format `forced`, when one is.
    fn grow_and_compare_as(name: &str, forced: Option<&str>, head: &str, parts: &[&str]) {
        let reg = Registry::load(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, head).unwrap();
        let inputs = source::expand(&[p.display().to_string()]).unwrap();
        let opts = correlate::Options::default();
        let (mut tl, _) = pipeline::load(&reg, &inputs, forced, &opts).unwrap();
        let mut tail = Tail::new(&inputs, &tl);
        assert!(tail.any());
        for part in parts {
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            f.write_all(part.as_bytes()).unwrap();
            drop(f);
            match tail.read(&reg, &tl.sources) {
                Grown::Appended(add, next) => {
                    correlate::append::append(&mut tl, add, &reg.entities, &[]);
                    tail = next;
                    tail.settle(&tl);
                }
                Grown::Nothing => assert!(part.is_empty()),
                Grown::Reload(why) => panic!("{why}"),
            }
            let (whole, _) = pipeline::load(&reg, &inputs, forced, &opts).unwrap();
            assert_eq!(records(&tl), records(&whole), "after {part:?}");
            // CIDs, names and counts settled as a whole reading settles them.
            assert_eq!(tl.cids.names, whole.cids.names, "after {part:?}");
            assert_eq!(tl.cids.prefixes, whole.cids.prefixes, "after {part:?}");
            for (k, info) in tl.sources.iter().enumerate() {
                let n = tl.events.iter().filter(|e| e.source == k).count();
                assert_eq!(info.events, n, "{}", info.label);
            }
            assert!(tl.events.windows(2).all(|w| w[0].pos <= w[1].pos));
            let order = |t: &Timeline| -> Vec<(u64, String)> {
                t.events
                    .iter()
                    .map(|e| (e.line, e.message.clone()))
                    .collect()
            };
            if whole.sources.len() == 1 {
                assert_eq!(order(&tl), order(&whole));
                // A record with a time of its own lands where a whole reading puts it.
                for (a, b) in tl.events.iter().zip(&whole.events) {
                    if matches!(b.ts_quality, TsQuality::Exact | TsQuality::TimeOfDay) {
                        assert_eq!((a.line, a.pos, a.ts), (b.line, b.pos, b.ts), "{name}");
                    }
                }
            }
            assert_eq!(
                of_input(&tl, &inputs[0].display()).len(),
                whole.events.len()
            );
        }
        assert!(matches!(tail.read(&reg, &tl.sources), Grown::Nothing));
    }

    #[test]
    fn every_sample_grown_in_pieces_reads_as_a_whole_reading() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
        let mut files: Vec<std::path::PathBuf> = ["formats", "seed"]
            .iter()
            .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log" || x == "jsonl"))
            .collect();
        files.sort();
        let reg = Registry::load(None).unwrap();
        let mut compared = 0;
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = f.file_name().unwrap().to_str().unwrap();
            // Cut at a third (a line's middle, mostly), at a half, and near the end.
            let cuts = [text.len() / 3, text.len() / 2, text.len() * 5 / 6];
            let mut pieces: Vec<&str> = Vec::new();
            let mut at = 0;
            for c in cuts {
                let c = (c.max(at)..=text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap();
                pieces.push(&text[at..c]);
                at = c;
            }
            pieces.push(&text[at..]);
            // The head alone must settle the format the whole file has, or the two differ anyway.
            let detect = |t: &str| {
                let lines: Vec<String> = t.lines().take(200).map(String::from).collect();
                crate::parse::detect::detect(&reg, &lines, Some(name)).format
            };
            if detect(pieces[0]) != detect(&text) {
                continue;
            }
            grow_and_compare(name, pieces[0], &pieces[1..]);
            compared += 1;
        }
        assert!(compared >= 10, "only {compared} samples compared");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Whatever the lines (records of two compose services with continuation lines and
        /// blanks, or console records that stay open) and wherever the file is cut, mid-line
        /// included, following it in pieces ends with a whole reading's records.
        #[test]
        fn a_log_followed_in_pieces_cut_anywhere_reads_as_a_whole_reading(
            mcp in proptest::prelude::any::<bool>(),
            shapes in proptest::collection::vec(
                (proptest::prelude::any::<u8>(), proptest::prelude::any::<u16>()),
                1..40,
            ),
            cuts in proptest::collection::vec(0.0f64..1.0, 1..4),
        ) {
            let format = if mcp { "playwright-mcp" } else { "citadel-tracing" };
            let text: String = shapes
                .iter()
                .map(|&(s, n)| crate::fixtures::line(format, s, n) + "\n")
                .collect();
            let mut at: Vec<usize> = cuts
                .iter()
                .map(|c| (c * text.len() as f64) as usize)
                .collect();
            at.sort_unstable();
            let mut pieces = Vec::new();
            let mut from = 0;
            for c in at.into_iter().chain([text.len()]) {
                pieces.push(&text[from..c]);
                from = c;
            }
            grow_and_compare_as("follow.log", Some(format), pieces[0], &pieces[1..]);
        }
    }

    const SITE: &str = "INFO citadel: citadel-internal-service/src/kernel/mod.rs:40:";

    #[test]
    fn a_service_log_grown_in_steps_reads_as_a_whole_reading() {
        let head = format!(
            "2026-12-06T10:00:00.000000Z {SITE} Server listening on 127.0.0.1:12345\n\
             2026-12-06T10:00:01.000000Z {SITE} Session started for cid=1234567890123456789\n"
        );
        let panic = "thread 'tokio-runtime-worker' panicked at src/lib.rs:10:5:\n\
                     attempted to get ratchet v3\n\
                     stack backtrace:\n";
        let more = "   0: rust_begin_unwind\n   1: core::panicking::panic_fmt\n";
        let after = format!("2026-12-06T10:00:03.000000Z {SITE} Connection closed\n");
        grow_and_compare(
            "internal-service.log",
            &head,
            &[
                "",
                // A record open at the end of one reading, continued in the next.
                panic,
                more,
                &after,
                // A line without its end yet, ended later.
                "2026-12-06T10:00:04.000000Z INFO cit",
                &format!("adel: x.rs:1: done\n2026-12-06T10:00:05.000000Z {SITE} bye\n"),
                // A CID cut mid-number while it was written: the cut one must not stay known.
                &format!(
                    "2026-12-06T10:00:06.000000Z {SITE} Session started for cid=98765432109876543"
                ),
                "21\n",
            ],
        );
    }

    #[test]
    fn a_compose_log_gains_a_service_it_did_not_have() {
        let line = |svc: &str, t: u32, m: &str| {
            format!("{svc}-1  | 2026-12-06T10:00:{t:02}.000000Z {SITE} {m}\n")
        };
        let head = line("internal-service", 0, "Server listening")
            + &line("internal-service", 1, "Session started");
        let second =
            line("web", 2, "page served") + &line("internal-service", 3, "Connection closed");
        grow_and_compare(
            "compose.log",
            &head,
            &[&second, &line("web", 4, "page gone")],
        );
    }

    #[test]
    fn a_file_that_shrank_is_read_again_whole() {
        let reg = Registry::load(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, "line one\nline two\n").unwrap();
        let inputs = source::expand(&[p.display().to_string()]).unwrap();
        let (tl, _) = pipeline::load(&reg, &inputs, None, &Default::default()).unwrap();
        let tail = Tail::new(&inputs, &tl);
        std::fs::write(&p, "new\n").unwrap();
        assert!(
            matches!(tail.read(&reg, &tl.sources), Grown::Reload(why) if why.contains("shrank"))
        );
    }
}
