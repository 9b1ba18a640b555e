//! Append: records that followed inputs gained, placed after what the timeline holds without
//! correlating everything again.
//!
//! A source keeps the placement the whole correlation gave it: a new record with a time is laid at
//! the source's last timed record's position plus the time between the two (so clock offsets,
//! dates and zones carry over, and a time of day rolls over midnight as in a whole reading); a record
//! without one comes after everything already on the timeline (it arrived later), in its source's
//! order. Anchors between new records are not searched (they only place sources, which are placed).

use super::cids::DirectoryBuilder;
use super::dates::{self, ns_to_dt};
use crate::entities::Extractors;
use crate::model::{Axis, Event, RawTime, SourceInfo, Timeline, TsQuality};
use chrono::{Datelike, NaiveDate};

/// Where the events of one new stream go.
#[derive(Debug)]
pub enum Target {
    /// A source the timeline has.
    Source(usize),
    /// A source it does not have yet (a compose service that started logging).
    New(Box<SourceInfo>),
}

/// Records some sources gained.
#[derive(Debug, Default)]
pub struct Addition {
    /// Per source, the first line read again: its events from that line on are replaced by the new
    /// ones (a record that was still open at the end of what was read comes again, whole).
    pub from_line: Vec<(usize, u64)>,
    /// The new records, in each stream's own order.
    pub streams: Vec<(Target, Vec<Event>)>,
    /// Sources named anew, with their compose service (an input that gained a second service
    /// names each source after its service).
    pub rename: Vec<(usize, String, Option<String>)>,
}

/// What the timeline knows of a source's end: its last position, and its last timed record.
#[derive(Debug, Clone, Copy, Default)]
struct End {
    pos: Option<f64>,
    timed: Option<(RawTime, f64, TsQuality)>,
}

/// Where the events a timeline held went when records were appended: to a new index, or gone (read
/// again, and replaced by the new records).
#[derive(Debug, Clone, Default)]
pub struct Moves {
    /// Events from this index on may have moved or gone...
    removed_from: usize,
    /// ...to these indices, once the records read again were dropped...
    kept: Vec<Option<usize>>,
    /// ...and those from this index on moved again, to these, when the new records were merged in.
    merged_from: usize,
    merged: Vec<usize>,
}

impl Moves {
    /// The new index of the event that was at `i`.
    pub fn get(&self, i: usize) -> Option<usize> {
        let j = if i < self.removed_from {
            i
        } else {
            self.kept.get(i - self.removed_from).copied().flatten()?
        };
        Some(if j < self.merged_from {
            j
        } else {
            self.merged.get(j - self.merged_from).copied().unwrap_or(j)
        })
    }
}

/// What [`append`] did.
#[derive(Debug, Default)]
pub struct Appended {
    /// The sources that gained records (new ones included).
    pub touched: Vec<usize>,
    /// Where the events held before went.
    pub moves: Moves,
}

/// Place the records of `add` on `tl` after what it holds, replacing the records read again; CIDs,
/// names and owners are settled again (only what the new records add, when the records read again
/// named nothing they do not name again).
pub fn append(
    tl: &mut Timeline,
    add: Addition,
    extract: &Extractors,
    aliases: &[(String, u64)],
) -> Appended {
    let (removed_from, kept, gone) = remove_reread(tl, &add.from_line);
    for (s, label, container) in add.rename {
        if let Some(info) = tl.sources.get_mut(s) {
            info.label = label;
            info.container = container;
        }
    }
    let targets: Vec<usize> = add
        .streams
        .iter()
        .filter_map(|(t, _)| match t {
            Target::Source(s) => Some(*s),
            Target::New(_) => None,
        })
        .collect();
    let ends = ends(tl, &targets);
    let last = tl
        .events
        .iter()
        .rev()
        .map(|e| e.pos)
        .find(|p| p.is_finite());
    let eps = match tl.axis {
        Axis::Time => 1.0,
        Axis::Order => 1e-3,
    };
    let mut after = last.unwrap_or(0.0);
    let mut new = Vec::new();
    let mut touched = Vec::new();
    for (target, mut evs) in add.streams {
        let s = match target {
            Target::Source(s) if s < tl.sources.len() => s,
            Target::Source(_) => continue,
            Target::New(mut info) => {
                // Counted below, with the other sources' new records.
                info.events = 0;
                tl.sources.push(*info);
                tl.sources.len() - 1
            }
        };
        if evs.is_empty() {
            continue;
        }
        touched.push(s);
        let end = ends.get(s).copied().unwrap_or_default();
        place(&mut evs, s, end, tl, &mut after, eps);
        new.append(&mut evs);
    }
    // Each stream's records are in its order already; a stable sort keeps it on equal positions.
    new.sort_by(|a, b| a.pos.total_cmp(&b.pos));
    for ev in &new {
        if let Some(info) = tl.sources.get_mut(ev.source) {
            info.events += 1;
        }
    }
    let named = DirectoryBuilder::of(new.iter());
    let (merged_from, merged) = merge_in(tl, new);
    let shape = std::mem::take(&mut tl.cids.shape);
    if gone.within(&named) {
        super::cids::extend_directory(&mut tl.cids, &named);
    } else {
        // A record read again named a CID or a name it does not name now (it was cut mid-number
        // while being written): settle the directory over everything, as a whole reading does.
        tl.cids = super::cids::directory(&tl.events, aliases);
    }
    tl.cids.shape = shape;
    // A source's owners settle early (a tab logs its user as it starts): only sources without
    // any yet are tallied again, which spares a regex over every record of every tab.
    super::cids::set_missing_owners(&mut tl.sources, &tl.events, &tl.cids, extract);
    touched.sort_unstable();
    touched.dedup();
    Appended {
        touched,
        moves: Moves {
            removed_from,
            kept,
            merged_from,
            merged,
        },
    }
}

/// Drop the events of each `(source, line)` from that line on, keeping anchors on the others; where
/// the events from the first one dropped on went, and what the dropped ones named.
fn remove_reread(
    tl: &mut Timeline,
    from_line: &[(usize, u64)],
) -> (usize, Vec<Option<usize>>, DirectoryBuilder) {
    let gone = |e: &Event| {
        from_line
            .iter()
            .any(|&(s, line)| e.source == s && e.line >= line)
    };
    // A source's records are in its order on the timeline: walking back, once each source has shown
    // a record before its line, no earlier record goes.
    let mut open: Vec<(usize, u64)> = from_line.to_vec();
    let mut first = None;
    for (i, e) in tl.events.iter().enumerate().rev() {
        if open.is_empty() {
            break;
        }
        if gone(e) {
            first = Some(i);
        } else {
            open.retain(|&(s, line)| !(e.source == s && e.line < line));
        }
    }
    let Some(first) = first else {
        return (tl.events.len(), Vec::new(), DirectoryBuilder::default());
    };
    let tail = tl.events.split_off(first);
    let named = DirectoryBuilder::of(tail.iter().filter(|e| gone(e)));
    // Old index → new index, for the part from the first event dropped on.
    let mut map = Vec::with_capacity(tail.len());
    for e in tail {
        if gone(&e) {
            map.push(None);
            if let Some(info) = tl.sources.get_mut(e.source) {
                info.events = info.events.saturating_sub(1);
            }
        } else {
            map.push(Some(tl.events.len()));
            tl.events.push(e);
        }
    }
    let moved = |i: usize| {
        if i < first {
            Some(i)
        } else {
            map.get(i - first).copied().flatten()
        }
    };
    tl.anchors = std::mem::take(&mut tl.anchors)
        .into_iter()
        .filter_map(|mut a| {
            a.a = moved(a.a)?;
            a.b = moved(a.b)?;
            Some(a)
        })
        .collect();
    (first, map, named)
}

/// The ends of the sources `of`, from one walk back over the timeline (it stops once each is known,
/// or at the start when one has no timed record).
fn ends(tl: &Timeline, of: &[usize]) -> Vec<End> {
    let mut ends = vec![End::default(); tl.sources.len()];
    let mut wanted = vec![false; tl.sources.len()];
    for &s in of {
        if let Some(w) = wanted.get_mut(s) {
            *w = true;
        }
    }
    let mut open = wanted.iter().filter(|&&w| w).count() * 2;
    for ev in tl.events.iter().rev() {
        if open == 0 {
            break;
        }
        if !wanted.get(ev.source).copied().unwrap_or(false) {
            continue;
        }
        let Some(end) = ends.get_mut(ev.source) else {
            continue;
        };
        if end.pos.is_none() {
            end.pos = Some(ev.pos);
            open -= 1;
        }
        if end.timed.is_none() {
            if let Some(raw) = ev.raw_ts.filter(|_| ev.pos.is_finite()) {
                end.timed = Some((raw, ev.pos, ev.ts_quality));
                open -= 1;
            }
        }
    }
    ends
}

/// Give the new records `evs` of source `s` their places: a timed one at its time's distance from
/// the source's last timed record, an untimed one after everything (`after`, moved on as records are
/// laid); never before the record before it in the source.
fn place(evs: &mut [Event], s: usize, end: End, tl: &Timeline, after: &mut f64, eps: f64) {
    // Times measured on one day (any: only differences are used), in the order the source wrote them,
    // with the last timed record first so that a midnight between them rolls over as it should.
    let timed = tl.axis == Axis::Time;
    let instants = end.timed.filter(|_| timed).map(|(raw, _, _)| {
        let day = ns_to_dt(end.timed.map_or(0.0, |t| t.1)).map_or_else(
            || NaiveDate::from_ymd_opt(2000, 1, 1),
            |t| NaiveDate::from_ymd_opt(t.year(), t.month(), t.day()),
        );
        let raws: Vec<Option<RawTime>> = std::iter::once(Some(raw))
            .chain(evs.iter().map(|e| e.raw_ts))
            .collect();
        dates::source_instants(raws.into_iter(), day, chrono::Offset::fix(&chrono::Utc))
    });
    let mut prev = end.pos.unwrap_or(f64::NEG_INFINITY);
    for (i, ev) in evs.iter_mut().enumerate() {
        ev.source = s;
        let at_time = match (&instants, end.timed) {
            (Some(inst), Some((_, base_pos, quality))) => inst
                .get(i + 1)
                .zip(inst.get(0))
                .map(|(t, t0)| (base_pos + (t - t0), quality)),
            _ => None,
        };
        let (pos, quality) = match at_time {
            Some((p, q)) => (p.max(prev), q),
            None => {
                *after = after.max(prev) + eps;
                (*after, TsQuality::Order)
            }
        };
        prev = pos;
        ev.pos = pos;
        ev.ts_quality = quality;
        ev.ts = if timed && tl.dated {
            ns_to_dt(pos)
        } else {
            None
        };
    }
}

/// Merge `new` (in timeline order) into the timeline's events, old ones first on equal positions,
/// moving anchors with the old events; where the old events from the first one moved on went.
fn merge_in(tl: &mut Timeline, new: Vec<Event>) -> (usize, Vec<usize>) {
    let Some(first) = new.first().map(|e| e.pos) else {
        return (tl.events.len(), Vec::new());
    };
    let cut = tl.events.partition_point(|e| e.pos <= first);
    let old = tl.events.split_off(cut);
    if old.is_empty() {
        tl.events.extend(new);
        return (cut, Vec::new());
    }
    let mut moved = Vec::with_capacity(old.len());
    let mut old = old.into_iter().peekable();
    let mut new = new.into_iter().peekable();
    loop {
        let take_old = match (old.peek(), new.peek()) {
            (Some(o), Some(n)) => o.pos <= n.pos,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_old { old.next() } else { new.next() };
        if let Some(ev) = next {
            if take_old {
                moved.push(tl.events.len());
            }
            tl.events.push(ev);
        }
    }
    for a in &mut tl.anchors {
        for i in [&mut a.a, &mut a.b] {
            if *i >= cut {
                if let Some(&to) = moved.get(*i - cut) {
                    *i = to;
                }
            }
        }
    }
    (cut, moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AnchorLink;

    fn ev(source: usize, line: u64, pos: f64) -> Event {
        Event {
            source,
            line,
            end_line: line,
            pos,
            message: format!("{source}:{line}"),
            ..Default::default()
        }
    }

    /// Two plain sources on an order axis, holding `events`.
    fn timeline(events: Vec<Event>) -> Timeline {
        let mut tl = crate::pipeline::timeline_of(&[("s0", "a\n"), ("s1", "b\n")]).unwrap();
        tl.axis = Axis::Order;
        for (k, info) in tl.sources.iter_mut().enumerate() {
            info.events = events.iter().filter(|e| e.source == k).count();
        }
        tl.events = events;
        tl
    }

    #[test]
    fn records_read_again_are_replaced_and_anchors_follow_the_others() {
        let mut tl = timeline(vec![
            ev(0, 1, 1.0),
            ev(1, 1, 2.0),
            ev(0, 2, 3.0),
            ev(1, 2, 4.0),
        ]);
        tl.anchors = vec![
            AnchorLink {
                name: "a".into(),
                a: 1,
                b: 3,
            },
            AnchorLink {
                name: "b".into(),
                a: 0,
                b: 2,
            },
        ];
        let add = Addition {
            from_line: vec![(0, 2)],
            streams: vec![(Target::Source(0), vec![ev(0, 2, 0.0), ev(0, 3, 0.0)])],
            rename: Vec::new(),
        };
        let done = append(
            &mut tl,
            add,
            &crate::defs::Registry::load(None).unwrap().entities,
            &[],
        );
        assert_eq!(done.touched, vec![0]);
        // 0:1 and 1:1 stay, 0:2 was read again, 1:2 moved before the new ones.
        let moved: Vec<Option<usize>> = (0..4).map(|i| done.moves.get(i)).collect();
        assert_eq!(moved, [Some(0), Some(1), None, Some(2)]);
        let order: Vec<&str> = tl.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(order, ["0:1", "1:1", "1:2", "0:2", "0:3"]);
        // The anchor on the record read again is gone; the other moved with its events.
        assert_eq!(tl.anchors.len(), 1);
        assert_eq!((tl.anchors[0].a, tl.anchors[0].b), (1, 2));
        assert_eq!(tl.sources[0].events, 3);
        assert!(tl.events.windows(2).all(|w| w[0].pos <= w[1].pos));
    }
}
