//! Histogram: events and errors per slice of the timeline's axis (time, or position when there is no
//! time), counted once per filter change into fixed bins so that drawing the overview strip never walks
//! the events.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use crate::model::Level;

/// Bins counted per filter change; the strip merges them into as many columns as it has.
pub const BINS: usize = 2048;

/// Counts per bin over `[lo, hi]` of the axis.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Axis position of the first bin's start.
    pub lo: f64,
    /// Axis position of the last bin's end.
    pub hi: f64,
    /// Events per bin.
    pub events: Vec<u32>,
    /// Error-level events per bin.
    pub errors: Vec<u32>,
}

/// Axis span of a timeline's `n` events (they are in axis order), `at` giving each one's position.
fn span(n: usize, at: &dyn Fn(usize) -> Option<(f64, Option<Level>)>) -> (f64, f64) {
    let pos = |i: usize| at(i).map(|(p, _)| p).filter(|p| p.is_finite());
    let first = (0..n).find_map(pos);
    let last = (0..n).rev().find_map(pos);
    match (first, last) {
        (Some(a), Some(b)) if b >= a => (a, b),
        _ => (0.0, 0.0),
    }
}

impl Histogram {
    /// Count the events at `rows` (indices of the `n` events of a timeline) over the axis of all of
    /// them, `at` giving an event's position and level.
    pub fn build(
        n: usize,
        rows: &crate::tui::state::Rows,
        at: &dyn Fn(usize) -> Option<(f64, Option<Level>)>,
    ) -> Histogram {
        let (lo, hi) = span(n, at);
        let mut h = Histogram {
            lo,
            hi,
            events: vec![0; BINS],
            errors: vec![0; BINS],
        };
        for i in rows {
            let Some((pos, level)) = at(i) else { continue };
            let b = h.bin(pos);
            h.events[b] = h.events[b].saturating_add(1);
            if level == Some(Level::Error) {
                h.errors[b] = h.errors[b].saturating_add(1);
            }
        }
        h
    }

    /// Bin of an axis position (clamped to the ends).
    pub fn bin(&self, pos: f64) -> usize {
        if self.hi <= self.lo || !pos.is_finite() {
            return 0;
        }
        let f = (pos - self.lo) / (self.hi - self.lo);
        ((f * BINS as f64) as usize).min(BINS - 1)
    }

    /// Column (of `width`) of an axis position.
    pub fn column(&self, pos: f64, width: usize) -> usize {
        if width == 0 {
            return 0;
        }
        (self.bin(pos) * width / BINS).min(width - 1)
    }

    /// (events, errors) per column when the bins are merged into `width` columns.
    pub fn columns(&self, width: usize) -> Vec<(u32, u32)> {
        let mut out = vec![(0u32, 0u32); width];
        if width == 0 || self.events.len() != BINS {
            return out;
        }
        for b in 0..BINS {
            let c = (b * width / BINS).min(width - 1);
            out[c].0 = out[c].0.saturating_add(self.events[b]);
            out[c].1 = out[c].1.saturating_add(self.errors[b]);
        }
        out
    }
}
