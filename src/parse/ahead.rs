//! Lines prepared ahead on a second core. Most of parsing depends on one line alone (escape codes,
//! collector prefixes, ignore, strip and start patterns: [`LinePrep`]); only the record state (which
//! line begins, continues or ends a record) needs the lines in order. So a long input is read in
//! batches, every other batch is prepared on a helper thread while this one prepares its own, and
//! both are applied in order: the same events as a serial parse, and one big file no longer leaves
//! the other core idle.

use super::record::{LinePrep, Prepared, SourceParser};
use crate::defs::{Format, Registry};
use std::sync::mpsc::sync_channel;

/// When a helper starts and how much goes to it at once.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Lines parsed on this thread alone before a helper is worth starting (small inputs, samples).
    serial: u64,
    /// Most lines in one batch.
    lines: usize,
    /// Most bytes in one batch: three batches are in flight, and a line may be `MAX_LINE` long.
    bytes: usize,
}

// A streaming read holds what is in flight between its threads whatever the input's size: small
// batches keep that a few MB (16 k serial lines and 2 k batches held 30 MB of events at 100 MB).
const SIZES: Sizes = Sizes {
    serial: 4 * 1024,
    lines: 1024,
    bytes: 4 << 20,
};

/// Feed `parser` (of format `fmt`) every line `next` gives, numbered after `lineno`; `seen` hears of
/// each line as it is read (its length and number), and `after` gets the parser after every batch of
/// lines applied (a streaming reader drains the finished events there). Returns the number of the
/// last line.
pub fn feed_draining(
    parser: &mut SourceParser,
    fmt: &Format,
    reg: &Registry,
    lineno: u64,
    next: impl FnMut() -> Option<String>,
    seen: impl FnMut(u64, u64),
    after: impl FnMut(&mut SourceParser),
) -> u64 {
    feed_sized(parser, fmt, reg, lineno, next, seen, after, SIZES)
}

#[allow(clippy::too_many_arguments)]
fn feed_sized(
    parser: &mut SourceParser,
    fmt: &Format,
    reg: &Registry,
    mut lineno: u64,
    mut next: impl FnMut() -> Option<String>,
    mut seen: impl FnMut(u64, u64),
    mut after: impl FnMut(&mut SourceParser),
    sizes: Sizes,
) -> u64 {
    while lineno < sizes.serial {
        let Some(l) = next() else { return lineno };
        lineno += 1;
        seen(l.len() as u64, lineno);
        parser.push(lineno, &l);
    }
    after(parser);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        while let Some(l) = next() {
            lineno += 1;
            seen(l.len() as u64, lineno);
            parser.push(lineno, &l);
            if lineno.is_multiple_of(sizes.lines as u64) {
                after(parser);
            }
        }
        return lineno;
    }
    let mut read_no = lineno;
    let mut read = || {
        let mut batch = Vec::with_capacity(sizes.lines);
        let mut bytes = 0;
        while batch.len() < sizes.lines && bytes < sizes.bytes {
            let Some(l) = next() else { break };
            read_no += 1;
            bytes += l.len();
            seen(l.len() as u64, read_no);
            batch.push(l);
        }
        batch
    };
    std::thread::scope(|s| {
        let (to_helper, helper_in) = sync_channel::<Vec<String>>(1);
        let (helper_out, from_helper) = sync_channel::<(Vec<Prepared>, Vec<String>)>(1);
        s.spawn(move || {
            // Its own copy of the definitions: a `Regex` shared between threads goes through a lock.
            let (reg, fmt) = (reg.clone(), fmt.clone());
            let mut prep = LinePrep::new(&fmt, &reg);
            for batch in helper_in {
                let done = batch.iter().map(|l| prep.prepare(l)).collect();
                // The lines go back to be freed where they were allocated: freeing another thread's
                // memory takes its allocator's lock, which that thread holds on every allocation.
                if helper_out.send((done, batch)).is_err() {
                    return;
                }
            }
        });
        // Whether a batch went to the helper (an empty one is not sent: the input has ended).
        let send = |batch: Vec<String>| !batch.is_empty() && to_helper.send(batch).is_ok();
        let mut sent = send(read());
        while sent {
            let mine: Vec<Prepared> = read().iter().map(|l| parser.prepare(l)).collect();
            // The helper only stops when its channel closes; a panic there ends the scope with it.
            let Ok((theirs, _lines)) = from_helper.recv() else {
                break;
            };
            sent = send(read());
            for p in theirs.into_iter().chain(mine) {
                lineno += 1;
                parser.apply(lineno, p);
            }
            after(parser);
        }
        drop(to_helper);
    });
    lineno
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;

    /// Every event field that parsing sets, as text.
    fn dump(streams: Vec<(Option<String>, Vec<Event>)>) -> Vec<String> {
        streams
            .into_iter()
            .flat_map(|(k, evs)| evs.into_iter().map(move |e| format!("{k:?} {e:?}")))
            .collect()
    }

    /// Parsing with a helper thread gives the same events and counts as a serial parse, for every
    /// built-in format, on the lines of the samples (and of the real logs when they are there), in
    /// small batches so that multi-line records, compose prefixes, blank and ignored lines are cut at
    /// many batch edges. (On a one-core machine both parses are serial.)
    #[test]
    fn a_helper_thread_parses_like_one_thread() {
        let reg = Registry::load(None).unwrap();
        let lines = super::super::record::tests::corpus_lines(&reg, &[]);
        assert!(lines.len() > 1000);
        let sizes = Sizes {
            serial: 50,
            lines: 37,
            bytes: 2048,
        };
        // Every sample line, then real-log lines up to a bound that keeps the test quick.
        let want = lines.len().min(8_000);
        let long: Vec<&String> = lines.iter().take(want).collect();
        for fmt in &reg.formats {
            let mut serial = SourceParser::new(fmt, &reg);
            for (i, l) in long.iter().enumerate() {
                serial.push(i as u64 + 1, l);
            }
            let serial_stats = format!("{:?}", serial.stats);
            let serial = dump(serial.finish());

            let mut ahead = SourceParser::new(fmt, &reg);
            let mut it = long.iter().map(|l| l.to_string());
            let mut seen = 0u64;
            let last = feed_sized(
                &mut ahead,
                fmt,
                &reg,
                0,
                || it.next(),
                |_, n| seen = n,
                |_| {},
                sizes,
            );
            assert_eq!(last, want as u64, "{}", fmt.name);
            assert_eq!(seen, want as u64, "{}", fmt.name);
            assert_eq!(format!("{:?}", ahead.stats), serial_stats, "{}", fmt.name);
            let ahead = dump(ahead.finish());
            assert_eq!(ahead.len(), serial.len(), "{}", fmt.name);
            for (a, b) in ahead.iter().zip(&serial) {
                assert_eq!(a, b, "{}", fmt.name);
            }
        }
    }
}
