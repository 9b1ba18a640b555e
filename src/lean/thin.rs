//! Records held thin ([`super::Thinning`]: past the first of their template and source, without
//! their text), kept compactly while pass 2 reads and made events once it has ended. As events they
//! took 176 bytes each through pass 2 (220 k at 1 GB, 880 k at 4 GB), at the peak of the run, next to
//! the readers and the online judges; here they take 88, and become events a block at a time once
//! those are gone, each block freed as it is made, so the two never add up.

use crate::correlate::merge::stamp_at;
use crate::hash::Map;
use crate::model::{Axis, CidRef, Event, Level, RawTime, ThinVec, Timeline, TsQuality};
use std::sync::Arc;

/// Records a block holds: each block is freed once made events.
const BLOCK: usize = 4096;

/// Blocks made events between two returns of their memory (about 11 MB).
const TRIM_EVERY: usize = 32;

/// A record held thin: what [`super::strip`] leaves of an event, its time given by its place.
#[derive(Debug)]
struct Thin {
    at: usize,
    line: u64,
    pos: f64,
    raw_ts: Option<RawTime>,
    cids: ThinVec<CidRef>,
    /// The part of its message a pattern without literals reads (mostly none).
    message: Box<str>,
    source: u32,
    /// Lines after the first.
    more: u32,
    /// Numbers in [`ThinRecords::names`], 0 for none.
    target: u32,
    location: u32,
    quality: TsQuality,
    level: Option<Level>,
}

/// The records held thin, in timeline order, with the few targets and locations they name.
#[derive(Debug, Default)]
pub struct ThinRecords {
    blocks: Vec<Vec<Thin>>,
    /// Targets and locations, each once; number `n` is `names[n - 1]`.
    names: Vec<Arc<str>>,
    numbers: Map<Arc<str>, u32>,
    len: usize,
}

impl ThinRecords {
    /// Hold event `ev`, at index `at` of the whole timeline (after those held so far), thin: only
    /// `part` of its message, none of its further lines, fields or ids. An event past what a thin
    /// record numbers (a source past 2^32, a record of more than 2^32 lines: no input comes near)
    /// is given back, with its part, to be held stripped as it is.
    pub fn push(&mut self, at: usize, ev: Event, part: String) -> Result<(), Box<(Event, String)>> {
        let (Ok(source), Some(more)) = (
            u32::try_from(ev.source),
            ev.end_line
                .checked_sub(ev.line)
                .and_then(|m| u32::try_from(m).ok()),
        ) else {
            return Err(Box::new((ev, part)));
        };
        let target = self.number(ev.target.as_ref());
        let location = self.number(ev.location.as_ref());
        self.put(Thin {
            at,
            line: ev.line,
            pos: ev.pos,
            raw_ts: ev.raw_ts,
            cids: ev.cids,
            message: part.into_boxed_str(),
            source,
            more,
            target,
            location,
            quality: ev.ts_quality,
            level: ev.level,
        });
        Ok(())
    }

    fn put(&mut self, thin: Thin) {
        match self.blocks.last_mut() {
            Some(b) if b.len() < BLOCK => b.push(thin),
            _ => {
                let mut b = Vec::with_capacity(BLOCK);
                b.push(thin);
                self.blocks.push(b);
            }
        }
        self.len += 1;
    }

    fn number(&mut self, name: Option<&Arc<str>>) -> u32 {
        let Some(name) = name else { return 0 };
        if let Some(&n) = self.numbers.get(name) {
            return n;
        }
        let n = u32::try_from(self.names.len() + 1).unwrap_or(0);
        if n != 0 {
            self.names.push(Arc::clone(name));
            self.numbers.insert(Arc::clone(name), n);
        }
        n
    }

    /// Records held thin.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The timeline index of every record held thin, in order.
    pub fn ats(&self) -> impl Iterator<Item = usize> + '_ {
        self.blocks.iter().flatten().map(|t| t.at)
    }

    /// The source and CIDs of every record held thin, in order.
    pub fn cids(&self) -> impl Iterator<Item = (usize, &[CidRef])> + '_ {
        self.blocks
            .iter()
            .flatten()
            .map(|t| (t.source as usize, t.cids.as_slice()))
    }

    /// Put these records, those at the timeline indices `keep` keeps, among the events of the
    /// sparse timeline `tl` as events in their places; a record it holds already (whole, as an
    /// online finding's evidence) stays as it is. A timeline that is not sparse holds every event
    /// already, and is left as it is.
    pub fn join(self, tl: &mut Timeline, keep: impl Fn(usize) -> bool) {
        let axis = (tl.axis, tl.dated);
        let Some(sparse) = tl.sparse.as_mut() else {
            return;
        };
        let at = std::mem::take(&mut sparse.at);
        let whole = std::mem::take(&mut tl.events);
        let (at, events) = self.into_events_where(at, whole, axis, keep);
        sparse.at = at;
        tl.events = events;
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.blocks.iter().map(Vec::capacity).sum::<usize>() * std::mem::size_of::<Thin>()
            + self
                .blocks
                .iter()
                .flatten()
                .map(|t| t.message.len())
                .sum::<usize>()
    }

    /// The events held whole (`at`, `whole`: timeline indices and events, in order) and these,
    /// as one list in timeline order, each thin record an event stamped at its place on `axis`
    /// (as pass 2 stamped it), unless an event is held whole at its index. Made a block at a time,
    /// each block freed once made.
    pub fn into_events(
        self,
        at: Vec<usize>,
        whole: Vec<Event>,
        axis: (Axis, bool),
    ) -> (Vec<usize>, Vec<Event>) {
        self.into_events_where(at, whole, axis, |_| true)
    }

    /// [`Self::into_events`] of the records at the timeline indices `keep` keeps alone.
    pub fn into_events_where(
        self,
        at: Vec<usize>,
        whole: Vec<Event>,
        axis: (Axis, bool),
        keep: impl Fn(usize) -> bool,
    ) -> (Vec<usize>, Vec<Event>) {
        if self.len == 0 {
            return (at, whole);
        }
        let n = whole.len() + self.ats().filter(|&i| keep(i)).count();
        let (mut out_at, mut out) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut whole = at.into_iter().zip(whole).peekable();
        let names = self.names;
        let name = |n: u32| {
            n.checked_sub(1)
                .and_then(|k| names.get(k as usize))
                .map(Arc::clone)
        };
        for (b, block) in self.blocks.into_iter().enumerate() {
            // The blocks freed so far go back to the system: the events grow in a list of their
            // own, which cannot reuse them.
            if b % TRIM_EVERY == TRIM_EVERY - 1 {
                crate::memory::trim();
            }
            for t in block.into_iter().filter(|t| keep(t.at)) {
                while let Some((i, ev)) = whole.next_if(|(i, _)| *i < t.at) {
                    out_at.push(i);
                    out.push(ev);
                }
                // Held whole already (an online finding's evidence): it stays as it is.
                if whole.peek().is_some_and(|(i, _)| *i == t.at) {
                    continue;
                }
                let mut ev = Event {
                    source: t.source as usize,
                    line: t.line,
                    end_line: t.line.saturating_add(u64::from(t.more)),
                    raw_ts: t.raw_ts,
                    level: t.level,
                    target: name(t.target),
                    location: name(t.location),
                    message: t.message.into_string(),
                    cids: t.cids,
                    ..Event::default()
                };
                stamp_at(&mut ev, t.pos, t.quality, axis);
                out_at.push(t.at);
                out.push(ev);
            }
        }
        for (i, ev) in whole {
            out_at.push(i);
            out.push(ev);
        }
        (out_at, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawTime;

    /// An event with every field set, at index `i`.
    fn event(i: usize) -> Event {
        let t = chrono::NaiveTime::from_hms_opt(10, 0, (i % 60) as u32).unwrap();
        let mut ev = Event {
            source: i % 3,
            line: 10 * i as u64 + 1,
            end_line: 10 * i as u64 + 1 + (i % 4) as u64,
            raw_ts: Some(RawTime::TimeOfDay(t)),
            level: [None, Some(Level::Warn), Some(Level::Error)][i % 3],
            target: (!i.is_multiple_of(5)).then(|| Arc::from(format!("target{}", i % 4).as_str())),
            location: i
                .is_multiple_of(2)
                .then(|| Arc::from(format!("src/a.rs:{}", i % 7).as_str())),
            message: format!("message {i}"),
            ..Event::default()
        };
        ev.continuation.push(format!("more {i}"));
        ev.fields.push((Arc::from("k"), format!("{i}")));
        ev.cids.push(CidRef::Full(1000 + i as u64));
        ev.uuids
            .push(format!("{i:08x}-0000-4000-8000-000000000000"));
        ev.users.push(Arc::from("alice"));
        ev.names.push((Arc::from("alice"), 1000));
        ev.msgid_prefixes.push("97d21b6a".into());
        let q = [TsQuality::Exact, TsQuality::Inferred, TsQuality::Order][i % 3];
        stamp_at(&mut ev, 1.78e18 + i as f64 * 1e6, q, AXIS);
        ev
    }

    const AXIS: (Axis, bool) = (Axis::Time, true);

    /// Records held thin come back as the events stripping them gave (their part of the message,
    /// their place, level, lines, time, target, location and CIDs), in timeline order among those
    /// held whole, over several blocks.
    #[test]
    fn thin_records_come_back_as_stripped_events() {
        let n = BLOCK * 2 + 77;
        let mut thin = ThinRecords::default();
        let (mut at, mut whole, mut want) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..n {
            let ev = event(i);
            if i % 9 == 4 {
                at.push(i);
                whole.push(ev.clone());
                want.push(ev);
                continue;
            }
            let part = if i % 2 == 0 {
                String::new()
            } else {
                format!("{i}")
            };
            let mut stripped = ev.clone();
            super::super::strip(&mut stripped, part.clone());
            want.push(stripped);
            assert!(thin.push(i, ev, part).is_ok());
        }
        assert_eq!(thin.len(), n - n.div_ceil(9));
        // Half an event's size.
        assert!(std::mem::size_of::<Thin>() <= std::mem::size_of::<Event>() / 2);
        let (got_at, got) = thin.into_events(at, whole, AXIS);
        assert_eq!(got_at, (0..n).collect::<Vec<_>>());
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(format!("{g:?}"), format!("{w:?}"));
        }
    }

    /// Joined to a sparse timeline, the records kept take their places among the held events,
    /// those left out and those it holds already do not, and the rest of the timeline is as it was.
    #[test]
    fn thin_records_join_a_sparse_timeline_where_kept() {
        let n = BLOCK + 50;
        let mut thin = ThinRecords::default();
        let (mut at, mut whole) = (Vec::new(), Vec::new());
        for i in 0..n {
            if i % 10 == 0 {
                at.push(i);
                whole.push(event(i));
            }
            // Every tenth is also held whole: it stays whole.
            if i % 10 != 3 {
                assert!(thin.push(i, event(i), String::new()).is_ok());
            }
        }
        assert!(!thin.is_empty());
        let mut tl = Timeline {
            sources: Vec::new(),
            events: whole,
            cids: Default::default(),
            anchors: Vec::new(),
            axis: AXIS.0,
            dated: AXIS.1,
            unread: Vec::new(),
            sparse: Some(Box::new(crate::model::Sparse {
                at,
                total: n,
                cids: Vec::new(),
            })),
        };
        let left_out = |i: usize| i % 4 == 1;
        thin.join(&mut tl, |i| !left_out(i));
        let want: Vec<usize> = (0..n)
            .filter(|i| i % 10 == 0 || (i % 10 != 3 && !left_out(*i)))
            .collect();
        let got: Vec<usize> = tl.indexed().map(|(i, _)| i).collect();
        assert_eq!(got, want);
        for (i, ev) in tl.indexed() {
            assert_eq!(ev.line, event(i).line, "{i}");
            // Held whole: its message; joined thin: none.
            assert_eq!(ev.message.is_empty(), i % 10 != 0, "{i}");
        }
        // A timeline that holds every event is left as it is.
        let mut full = tl.clone();
        full.sparse = None;
        let before = full.events.len();
        let mut more = ThinRecords::default();
        assert!(more.push(n + 1, event(n + 1), String::new()).is_ok());
        more.join(&mut full, |_| true);
        assert_eq!(full.events.len(), before);
    }

    /// A record of more lines than a thin record numbers is given back whole, to be held stripped.
    #[test]
    fn a_record_past_what_thin_numbers_is_given_back() {
        let mut thin = ThinRecords::default();
        let mut ev = event(1);
        ev.end_line = ev.line + u64::from(u32::MAX) + 1;
        let back = thin.push(1, ev.clone(), "part".into()).unwrap_err();
        assert_eq!(format!("{:?}", back.0), format!("{ev:?}"));
        assert_eq!(back.1, "part");
        assert_eq!(thin.len(), 0);
    }
}
