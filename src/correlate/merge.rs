//! Merge: each source's positions never go back, so a k-way merge of the sources (ties by source, then
//! line) gives the timeline while moving each event once, without a second copy of them all.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use super::dates::ns_to_dt;
use super::placement::Placement;
use crate::model::{Axis, Event};

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
    let mut streams: Vec<std::iter::Peekable<std::iter::Enumerate<std::vec::IntoIter<Event>>>> =
        per_source
            .into_iter()
            .map(|v| v.into_iter().enumerate().peekable())
            .collect();
    let mut events = Vec::with_capacity(total);
    loop {
        let mut best: Option<(f64, usize)> = None;
        for (s, st) in streams.iter_mut().enumerate() {
            if let Some((i, _)) = st.peek() {
                let x = positions[s].get(*i).copied().unwrap_or(f64::MAX);
                if best.is_none_or(|(bx, _)| x.total_cmp(&bx).is_lt()) {
                    best = Some((x, s));
                }
            }
        }
        let Some((x, s)) = best else { break };
        let Some((i, mut ev)) = streams[s].next() else {
            break;
        };
        new_index[s][i] = events.len();
        ev.pos = x;
        ev.ts_quality = quality[s][i];
        ev.ts = if axis == Axis::Time && dated {
            ns_to_dt(x)
        } else {
            None
        };
        events.push(ev);
    }
    Merged { events, new_index }
}
