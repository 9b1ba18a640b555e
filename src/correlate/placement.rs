//! Placement: a position for every event of every source. The reference source sets the axis (its
//! clock, or its line order when no source has time); the others follow, most anchored first: a
//! source with a clock of its own keeps its spacing and gets an estimated offset (`offset`), a source
//! without one is laid between its anchors; what has no anchors runs on its own clock or alongside.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use super::dates::Instants;
use super::offset::{self, Observation};
use super::pairs::{Pair, Side};
use crate::model::{Axis, ClockOffset, Event, RawTime, SourceInfo, TsQuality};

/// A source's events as placement sees them: how many there are, and which carry a full instant.
/// The in-memory timeline gives its events; the streaming one a sketch of their times.
pub trait Timed {
    /// Number of events.
    fn count(&self) -> usize;
    /// Whether the `i`-th event carries a full instant (not a time of day).
    fn exact(&self, i: usize) -> bool;
}

impl Timed for Vec<Event> {
    fn count(&self) -> usize {
        self.len()
    }
    fn exact(&self, i: usize) -> bool {
        self.get(i)
            .is_some_and(|e| matches!(e.raw_ts, Some(RawTime::Instant(_))))
    }
}

/// Positions and their quality, per source and event (before the merge).
#[derive(Debug, Clone)]
pub struct Placement {
    /// Position of every event, per source.
    pub positions: Vec<Vec<f64>>,
    /// How each position is known.
    pub quality: Vec<Vec<TsQuality>>,
}

/// What the reference source is chosen by, per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReferenceRank {
    /// Events with a full instant.
    pub exact: usize,
    /// Events with any time.
    pub timed: usize,
    /// Anchor pairs it takes part in.
    pub anchors: usize,
    /// Whether its format is a service log (the service's clock is the one every tab talks to).
    pub service: bool,
    /// Events.
    pub events: usize,
}

/// The reference: the source with the most exact times; else most timed; else most anchored (service
/// logs first); the last of equals.
pub fn reference(ranks: &[ReferenceRank]) -> Option<usize> {
    (0..ranks.len()).max_by_key(|&s| ranks[s])
}

impl Side {
    /// Where a source placed by its partner lands: just before or after it when ordered, a tenth of a
    /// step after it when both record the same moment.
    pub fn shift(self, eps: f64) -> f64 {
        match self {
            Side::Before => -eps,
            Side::After => eps,
            Side::Same => eps / 10.0,
        }
    }
}

/// Places the sources one by one.
struct Placer<'a, T: Timed> {
    per_source: &'a [T],
    /// Each source's instants until it is placed: they become its positions.
    raw: Vec<Instants>,
    axis: Axis,
    /// Small step between events placed only by order.
    eps: f64,
    pos: Vec<Option<Vec<f64>>>,
    quality: Vec<Vec<TsQuality>>,
}

/// An anchor of an unplaced source to a placed one: (own index, partner's position, own side).
type Anchored = (usize, f64, Side);

impl<T: Timed> Placer<'_, T> {
    /// Positions of a source from its own times (plus `offset`); untimed events between timed ones
    /// interpolate.
    fn place_timed(&mut self, s: usize, offset: f64) -> Vec<f64> {
        let r = self.raw.get_mut(s).map(std::mem::take).unwrap_or_default();
        let evs = &self.per_source[s];
        for (i, q) in self.quality[s].iter_mut().enumerate() {
            *q = match (r.get(i), evs.exact(i)) {
                (Some(_), true) => TsQuality::Exact,
                (Some(_), _) => TsQuality::TimeOfDay,
                _ => TsQuality::Inferred,
            };
        }
        r.into_positions(evs.count(), offset, self.eps)
    }

    /// The anchors of unplaced source `s` whose partner is already placed.
    fn anchored(&self, s: usize, pairs: &[Pair]) -> Vec<Anchored> {
        let mut pts = Vec::new();
        for p in pairs {
            let Some((own, partner, side)) = p.seen_from(s) else {
                continue;
            };
            if let Some(op) = &self.pos[partner.source] {
                if let Some(&x) = op.get(partner.index) {
                    pts.push((own, x, side));
                }
            }
        }
        pts
    }

    /// The unplaced source with the most anchors to placed ones (the first of equals).
    fn most_anchored(&self, pairs: &[Pair]) -> Option<(usize, Vec<Anchored>)> {
        let mut best: Option<(usize, Vec<Anchored>)> = None;
        for s in 0..self.per_source.len() {
            if self.pos[s].is_some() {
                continue;
            }
            let pts = self.anchored(s, pairs);
            if !pts.is_empty() && best.as_ref().is_none_or(|b| pts.len() > b.1.len()) {
                best = Some((s, pts));
            }
        }
        best
    }

    /// A clock of its own: estimate its offset from the anchors and keep its spacing.
    fn place_own_clock(&mut self, s: usize, pts: &[Anchored], reference: &str) -> ClockOffset {
        let observations: Vec<Observation> = pts
            .iter()
            .filter_map(|(own, x, side)| {
                self.raw[s].get(*own).map(|t| Observation {
                    diff_ns: x - t,
                    side: *side,
                })
            })
            .collect();
        let e = offset::estimate(&observations);
        let p = self.place_timed(s, e.offset_ns);
        self.pos[s] = Some(p);
        ClockOffset {
            reference: reference.to_string(),
            seconds: e.seconds,
            zone_minutes: e.zone_minutes,
            skew_seconds: e.skew_seconds,
            anchors: e.anchors,
            spread_seconds: e.spread_seconds,
        }
    }

    /// No time of its own: lay the source between its anchors (those that agree with its order).
    /// Returns the anchors kept.
    fn place_between_anchors(&mut self, s: usize, pts: &[Anchored]) -> usize {
        // Its instants (none, or too few to place it by) are not read again: freed before its
        // positions are made (8 bytes an event).
        if let Some(r) = self.raw.get_mut(s) {
            *r = Instants::default();
        }
        let mut p: Vec<(usize, f64)> = pts
            .iter()
            .map(|(i, x, side)| (*i, x + side.shift(self.eps)))
            .collect();
        monotone(&mut p);
        // On a time axis every placed event has an inferred time; on an order axis only the
        // anchored ones have a known place, the rest keep their own order.
        let fill = if self.axis == Axis::Time {
            TsQuality::Inferred
        } else {
            TsQuality::Order
        };
        self.quality[s].iter_mut().for_each(|q| *q = fill);
        for (j, _) in &p {
            if let Some(q) = self.quality[s].get_mut(*j) {
                *q = TsQuality::Inferred;
            }
        }
        // On an order axis (processes that log no time), a source keeps its own pace beyond its first
        // and last anchor, one reference line per event, instead of piling up at the anchor. On a
        // time axis nothing says how fast a source without time went beyond its anchors; it stays
        // next to them (and its quality says its place is inferred).
        let len = self.per_source[s].count();
        let mut pos = interpolate(len, &p, self.eps);
        let pace = (self.axis == Axis::Order).then_some(1.0);
        if let (Some(pace), Some(&(fi, fx)), Some(&(li, lx))) = (pace, p.first(), p.last()) {
            for (i, x) in pos.iter_mut().enumerate() {
                if i < fi {
                    *x = fx - (fi - i) as f64 * pace;
                } else if i > li {
                    *x = lx + (i - li) as f64 * pace;
                }
            }
        }
        self.pos[s] = Some(pos);
        p.len()
    }
}

/// Place every source; `infos` get their placement and clock offsets.
pub fn place<T: Timed>(
    per_source: &[T],
    raw: Vec<Instants>,
    pairs: &[Pair],
    axis: Axis,
    reference: Option<usize>,
    infos: &mut [SourceInfo],
) -> Placement {
    let n = per_source.len();
    let timed: Vec<usize> = raw.iter().map(Instants::timed).collect();
    let (eps, step) = match axis {
        Axis::Time => (1e6, 1e6), // 1 ms
        Axis::Order => (1e-3, 1.0),
    };
    let mut pl = Placer {
        per_source,
        raw,
        axis,
        eps,
        pos: vec![None; n],
        quality: per_source
            .iter()
            .map(|evs| vec![TsQuality::Order; evs.count()])
            .collect(),
    };
    if let Some(r) = reference {
        if axis == Axis::Time {
            let p = pl.place_timed(r, 0.0);
            pl.pos[r] = Some(p);
            infos[r].placement = "reference clock".into();
        } else {
            pl.pos[r] = Some(
                (0..per_source[r].count())
                    .map(|i| i as f64 * step)
                    .collect(),
            );
            infos[r].placement = "reference order (no source has time)".into();
        }
    }
    let reference_label = reference
        .map(|r| infos[r].label.clone())
        .unwrap_or_default();
    // Place the others, most anchored to what is placed first, until nothing more can be placed.
    while let Some((s, pts)) = pl.most_anchored(pairs) {
        if timed[s] > 0 && axis == Axis::Time {
            let off = pl.place_own_clock(s, &pts, &reference_label);
            infos[s].placement =
                format!("own clock, offset estimated from {} anchors", off.anchors);
            infos[s].offset = Some(off);
        } else {
            let kept = pl.place_between_anchors(s, &pts);
            infos[s].placement = format!("no time of its own; placed by {kept} anchors");
        }
    }
    // Sources with nothing to hold on to: timed ones keep their clock, others run alongside the reference.
    let span = pl
        .pos
        .iter()
        .flatten()
        .flat_map(|v| v.iter().copied())
        .fold(None, |acc: Option<(f64, f64)>, x| match acc {
            None => Some((x, x)),
            Some((a, b)) => Some((a.min(x), b.max(x))),
        })
        .unwrap_or((0.0, 0.0));
    for s in 0..n {
        if pl.pos[s].is_some() {
            continue;
        }
        if timed[s] > 0 && axis == Axis::Time {
            let p = pl.place_timed(s, 0.0);
            pl.pos[s] = Some(p);
            infos[s].placement = "own clock, no shared anchors (offset unknown)".into();
        } else {
            if let Some(r) = pl.raw.get_mut(s) {
                *r = Instants::default();
            }
            let len = per_source[s].count().max(1) as f64;
            let width = (span.1 - span.0).max(step * len);
            pl.pos[s] = Some(
                (0..per_source[s].count())
                    .map(|i| span.0 + width * i as f64 / len)
                    .collect(),
            );
            infos[s].placement =
                "no time and no anchors: spread along the timeline by its own order".into();
        }
    }
    Placement {
        positions: pl.pos.into_iter().map(|p| p.unwrap_or_default()).collect(),
        quality: pl.quality,
    }
}

/// Keep the anchor points of one source that agree with its own order (longest increasing run).
pub fn monotone(points: &mut Vec<(usize, f64)>) {
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup_by(|a, b| a.0 == b.0);
    let n = points.len();
    if n < 2 {
        return;
    }
    // Longest non-decreasing subsequence on position, O(n log n) (patience sorting): a long capture
    // has thousands of anchors.
    // tails[k] = index of the smallest last position of a run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; n];
    for i in 0..n {
        let x = points[i].1;
        let k = tails.partition_point(|&t| points[t].1 <= x);
        if k > 0 {
            prev[i] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let Some(&last) = tails.last() else {
        return;
    };
    let mut keep = Vec::with_capacity(tails.len());
    let mut cur = last;
    loop {
        keep.push(points[cur]);
        if prev[cur] == usize::MAX {
            break;
        }
        cur = prev[cur];
    }
    keep.reverse();
    *points = keep;
}

/// Positions for `len` events from known points (index, position): linear between points, `eps`
/// steps before the first and after the last, never decreasing.
pub fn interpolate(len: usize, pts: &[(usize, f64)], eps: f64) -> Vec<f64> {
    let mut out = vec![0.0; len];
    if len == 0 {
        return out;
    }
    if pts.is_empty() {
        for (i, o) in out.iter_mut().enumerate() {
            *o = i as f64 * eps;
        }
        return out;
    }
    let (fi, fx) = pts[0];
    for (i, o) in out.iter_mut().enumerate().take(fi.min(len)) {
        *o = fx - (fi - i) as f64 * eps;
    }
    for w in pts.windows(2) {
        let ((a, xa), (b, xb)) = (w[0], w[1]);
        for (i, o) in out.iter_mut().enumerate().take(b.min(len)).skip(a) {
            *o = xa + (xb - xa) * (i - a) as f64 / (b - a) as f64;
        }
    }
    if let Some(&(li, lx)) = pts.last() {
        for (i, o) in out.iter_mut().enumerate().skip(li) {
            *o = lx + (i - li) as f64 * eps;
        }
    }
    for i in 1..len {
        if out[i] < out[i - 1] {
            out[i] = out[i - 1];
        }
    }
    out
}

/// [`interpolate`] with every timed event of `raw` (plus `offset`) as a point, without the list of
/// points: a timed source has a point per event, and at a gigabyte that list alone was 60 MB.
pub fn interpolate_timed(len: usize, raw: &Instants, offset: f64, eps: f64) -> Vec<f64> {
    raw.clone().into_positions(len, offset, eps)
}

/// [`interpolate_timed`] in the instants' own list: each untimed event is written only once the
/// next timed one is read, so the list becomes the positions without a second list beside it (at
/// 4 GB the two were 256 MB of the placement's peak).
pub(super) fn interpolate_in_place(out: &mut Vec<f64>, len: usize, offset: f64, eps: f64) {
    out.resize(len, f64::NAN);
    // The last point seen: (index, position).
    let mut last: Option<(usize, f64)> = None;
    for b in 0..len {
        let Some(xb) = out.get(b).filter(|x| !x.is_nan()).map(|x| x + offset) else {
            continue;
        };
        match last {
            // Before the first point: a step apart, back from it.
            None => {
                for (i, o) in out.iter_mut().enumerate().take(b) {
                    *o = xb - (b - i) as f64 * eps;
                }
            }
            Some((a, xa)) => {
                for (i, o) in out.iter_mut().enumerate().take(b).skip(a) {
                    *o = xa + (xb - xa) * (i - a) as f64 / (b - a) as f64;
                }
            }
        }
        last = Some((b, xb));
    }
    match last {
        Some((li, lx)) => {
            for (i, o) in out.iter_mut().enumerate().skip(li) {
                *o = lx + (i - li) as f64 * eps;
            }
        }
        None => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = i as f64 * eps;
            }
        }
    }
    for i in 1..len {
        if out[i] < out[i - 1] {
            out[i] = out[i - 1];
        }
    }
}
