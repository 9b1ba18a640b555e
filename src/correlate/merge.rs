//! Merge: each source's positions never go back, so a k-way merge of the positions (ties by source,
//! then line) gives the timeline order. The events themselves are never held twice: the sources'
//! vectors are joined into the largest one (a large `realloc` remaps pages rather than copying) and
//! then permuted into order in place. Events are most of a run's memory; a merge that moved them into
//! a new vector doubled the peak.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use super::dates::ns_to_dt;
use super::placement::Placement;
use crate::model::{Axis, Event, TsQuality};

/// The merged events, and where each source's events went (`new_index[source][i]`).
pub struct Merged {
    /// Events of all sources in timeline order.
    pub events: Vec<Event>,
    /// Index in `events` of every source's event.
    pub new_index: Vec<Vec<usize>>,
}

/// Merge the placed sources; events get their position, its quality and (on a dated time axis) a time.
pub fn merge(per_source: Vec<Vec<Event>>, placed: Placement, axis: Axis, dated: bool) -> Merged {
    let total: usize = per_source.iter().map(|v| v.len()).sum();
    let mut new_index: Vec<Vec<usize>> = per_source.iter().map(|v| vec![0; v.len()]).collect();
    let Placement { positions, quality } = placed;
    // The order, from positions alone.
    let lens: Vec<usize> = per_source.iter().map(Vec::len).collect();
    for (k, (s, i)) in Order::new(&positions, lens).enumerate() {
        new_index[s][i] = k;
    }
    // Join the sources, largest first, stamping each event with its place; `target[j]` is where the
    // j-th joined event belongs.
    let mut order: Vec<usize> = (0..per_source.len()).collect();
    order.sort_by_key(|&s| std::cmp::Reverse(per_source[s].len()));
    let mut slots: Vec<Option<Vec<Event>>> = per_source.into_iter().map(Some).collect();
    let mut events: Vec<Event> = Vec::new();
    let mut target: Vec<usize> = Vec::with_capacity(total);
    for s in order {
        let Some(mut evs) = slots[s].take() else {
            continue;
        };
        for (i, ev) in evs.iter_mut().enumerate() {
            stamp(ev, &positions, &quality, (s, i), (axis, dated));
            target.push(new_index[s][i]);
        }
        if events.is_empty() {
            events = evs;
            events.reserve_exact(total - events.len());
        } else {
            events.append(&mut evs);
        }
    }
    permute(&mut events, &mut target);
    Merged { events, new_index }
}

/// Move `items[j]` to `target[j]` for every `j` (`target` a permutation of the indices; it ends as
/// the identity), following the permutation's cycles in place: every item is moved, none copied.
fn permute<T>(items: &mut [T], target: &mut [usize]) {
    for j in 0..items.len() {
        while target[j] != j {
            let t = target[j];
            items.swap(j, t);
            target.swap(j, t);
        }
    }
}

/// Give event `i` of source `s` its position, the position's quality and, on a dated time axis
/// (`axis_dated`), its time.
pub fn stamp(
    ev: &mut Event,
    positions: &[Vec<f64>],
    quality: &[Vec<TsQuality>],
    (s, i): (usize, usize),
    (axis, dated): (Axis, bool),
) {
    let q = quality
        .get(s)
        .and_then(|q| q.get(i))
        .copied()
        .unwrap_or(TsQuality::Order);
    stamp_at(ev, position(positions, s, i), q, (axis, dated));
}

/// Give an event position `x`, its quality `q` and, on a dated time axis, its time.
pub fn stamp_at(ev: &mut Event, x: f64, q: TsQuality, (axis, dated): (Axis, bool)) {
    ev.pos = x;
    ev.ts_quality = q;
    ev.ts = if axis == Axis::Time && dated {
        ns_to_dt(x)
    } else {
        None
    };
}

fn position(positions: &[Vec<f64>], s: usize, i: usize) -> f64 {
    positions
        .get(s)
        .and_then(|p| p.get(i))
        .copied()
        .unwrap_or(f64::MAX)
}

/// The timeline order as `(source, index)`, from positions alone: the smallest position of the
/// sources' next events, ties to the first source.
pub struct Order<'p> {
    positions: &'p [Vec<f64>],
    lens: Vec<usize>,
    next: Vec<usize>,
}

impl<'p> Order<'p> {
    /// The order of sources with `lens` events placed at `positions`.
    pub fn new(positions: &'p [Vec<f64>], lens: Vec<usize>) -> Self {
        let next = vec![0; lens.len()];
        Order {
            positions,
            lens,
            next,
        }
    }
}

impl Iterator for Order<'_> {
    type Item = (usize, usize);
    fn next(&mut self) -> Option<(usize, usize)> {
        let mut best: Option<(f64, usize)> = None;
        for (s, (&i, &len)) in self.next.iter().zip(&self.lens).enumerate() {
            if i < len {
                let x = position(self.positions, s, i);
                if best.is_none_or(|(bx, _)| x.total_cmp(&bx).is_lt()) {
                    best = Some((x, s));
                }
            }
        }
        let (_, s) = best?;
        let i = self.next[s];
        self.next[s] += 1;
        Some((s, i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TsQuality;

    fn ev(source: usize, line: u64) -> Event {
        Event {
            source,
            line,
            message: format!("s{source} l{line}"),
            ..Default::default()
        }
    }

    #[test]
    fn interleaves_by_position_ties_by_source_and_keeps_each_sources_order() {
        let a = vec![ev(0, 1), ev(0, 2), ev(0, 3)];
        let b = vec![ev(1, 1), ev(1, 2), ev(1, 3), ev(1, 4)];
        let c = vec![ev(2, 1)];
        let placed = Placement {
            positions: vec![vec![1.0, 5.0, 5.0], vec![0.0, 5.0, 6.0, 9.0], vec![5.0]],
            quality: vec![
                vec![TsQuality::default(); 3],
                vec![TsQuality::default(); 4],
                vec![TsQuality::default()],
            ],
        };
        let m = merge(vec![a, b, c], placed, Axis::Order, false);
        let got: Vec<&str> = m.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            got,
            ["s1 l1", "s0 l1", "s0 l2", "s0 l3", "s1 l2", "s2 l1", "s1 l3", "s1 l4"]
        );
        for (s, idx) in m.new_index.iter().enumerate() {
            for (i, &k) in idx.iter().enumerate() {
                assert_eq!(m.events[k].source, s);
                assert_eq!(m.events[k].line, i as u64 + 1);
            }
        }
        assert!(m.events.windows(2).all(|w| w[0].pos <= w[1].pos));
    }
}
