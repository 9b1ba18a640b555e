//! Each source's placed positions and their quality, packed for pass 2, and the timeline order they
//! give.
//!
//! Pass 2 needs every event's position (the merge compares them; the stamp writes them), which as
//! `f64` and a quality byte took 9 bytes an event: 35 MB of a 1 GB run's peak. Positions are read
//! only in source order, and next to each other they differ little (timed events by microseconds,
//! untimed ones by a line), so each is kept as the difference from the one before: of its bit
//! pattern (an `f64`'s bits order as its value does for positive numbers), or of its value when both
//! are whole numbers (a line axis), in a LEB128 varint. Qualities change seldom: they are kept as
//! runs. A timed service log takes about 3 bytes an event.

use crate::model::TsQuality;
use crate::varint::{put, take, unzigzag, zigzag};

/// How a position is written after the one before it.
const SAME: u64 = 0;
const WHOLE_STEP: u64 = 1;
const BITS_STEP: u64 = 2;
const RAW: u64 = 3;

/// Largest whole number an `f64` holds exactly, with every smaller one.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// One source's positions and qualities, packed.
#[derive(Debug, Default)]
pub struct Placed {
    bytes: Vec<u8>,
    /// Where each run of one quality starts (the first at 0), in order.
    runs: Vec<(usize, TsQuality)>,
    len: usize,
}

impl Placed {
    /// Pack a source's positions and their qualities (an event without one is of `Order`).
    pub fn new(positions: &[f64], quality: &[TsQuality]) -> Placed {
        let mut p = Placed {
            bytes: Vec::with_capacity(positions.len() * 3),
            runs: Vec::new(),
            len: positions.len(),
        };
        let mut prev = 0.0f64;
        for (i, &x) in positions.iter().enumerate() {
            p.put_step(prev, x);
            prev = x;
            let q = quality.get(i).copied().unwrap_or(TsQuality::Order);
            if p.runs.last().is_none_or(|&(_, last)| last != q) {
                p.runs.push((i, q));
            }
        }
        p.bytes.shrink_to_fit();
        p.runs.shrink_to_fit();
        p
    }

    fn put_step(&mut self, prev: f64, x: f64) {
        let (a, b) = (prev.to_bits(), x.to_bits());
        if a == b {
            return put(&mut self.bytes, SAME);
        }
        // Whole numbers a step apart (a line axis): their difference, when it gives `x` back bit
        // for bit (not for -0.0).
        let whole = |v: f64| v.fract() == 0.0 && v.abs() < EXACT_INT;
        if whole(prev) && whole(x) {
            let d = x as i64 - prev as i64;
            if ((prev as i64 + d) as f64).to_bits() == b {
                let z = zigzag(d);
                if z < 1 << 62 {
                    return put(&mut self.bytes, (z << 2) | WHOLE_STEP);
                }
            }
        }
        let z = zigzag(b.wrapping_sub(a) as i64);
        if z < 1 << 62 {
            return put(&mut self.bytes, (z << 2) | BITS_STEP);
        }
        put(&mut self.bytes, RAW);
        self.bytes.extend_from_slice(&b.to_le_bytes());
    }

    /// Events of the source.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the source has no event.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the positions take.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.runs.capacity() * 16
    }

    /// Positions and qualities in source order.
    pub fn iter(&self) -> Cursor<'_> {
        Cursor {
            placed: self,
            at: 0,
            i: 0,
            prev: 0.0,
            run: 0,
        }
    }
}

/// Reads a [`Placed`] in source order.
#[derive(Debug, Clone)]
pub struct Cursor<'p> {
    placed: &'p Placed,
    /// Next byte.
    at: usize,
    /// Next event.
    i: usize,
    prev: f64,
    /// The quality run of the last event read.
    run: usize,
}

impl Iterator for Cursor<'_> {
    type Item = (f64, TsQuality);

    fn next(&mut self) -> Option<(f64, TsQuality)> {
        if self.i >= self.placed.len {
            return None;
        }
        let bytes = &self.placed.bytes;
        let v = take(bytes, &mut self.at)?;
        let x = match v & 3 {
            SAME => self.prev,
            WHOLE_STEP => (self.prev as i64).wrapping_add(unzigzag(v >> 2)) as f64,
            BITS_STEP => f64::from_bits(self.prev.to_bits().wrapping_add(unzigzag(v >> 2) as u64)),
            _ => {
                let raw = bytes.get(self.at..self.at + 8)?;
                self.at += 8;
                f64::from_bits(u64::from_le_bytes(raw.try_into().ok()?))
            }
        };
        let runs = &self.placed.runs;
        while runs
            .get(self.run + 1)
            .is_some_and(|&(start, _)| start <= self.i)
        {
            self.run += 1;
        }
        let q = runs.get(self.run).map_or(TsQuality::Order, |&(_, q)| q);
        self.prev = x;
        self.i += 1;
        Some((x, q))
    }
}

/// One event of the timeline order: its source, index there, position and quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Source.
    pub source: usize,
    /// Index of the event in its source.
    pub index: usize,
    /// Position on the shared axis.
    pub pos: f64,
    /// How the position is known.
    pub quality: TsQuality,
}

/// The timeline order of packed sources: the smallest position of the sources' next events, ties
/// to the first source (as [`crate::correlate::merge::Order`] gives it from unpacked positions).
pub struct PlacedOrder<'p> {
    cursors: Vec<Cursor<'p>>,
    /// Each source's next event: index, position, quality.
    heads: Vec<Option<(usize, f64, TsQuality)>>,
}

impl<'p> PlacedOrder<'p> {
    /// The order of these sources.
    pub fn new(sources: &'p [Placed]) -> PlacedOrder<'p> {
        let mut cursors: Vec<Cursor<'p>> = sources.iter().map(Placed::iter).collect();
        let heads = cursors
            .iter_mut()
            .map(|c| c.next().map(|(x, q)| (0, x, q)))
            .collect();
        PlacedOrder { cursors, heads }
    }
}

impl Iterator for PlacedOrder<'_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let mut best: Option<(f64, usize)> = None;
        for (s, head) in self.heads.iter().enumerate() {
            if let Some((_, x, _)) = head {
                if best.is_none_or(|(bx, _)| x.total_cmp(&bx).is_lt()) {
                    best = Some((*x, s));
                }
            }
        }
        let (_, s) = best?;
        let (index, pos, quality) = self.heads.get(s).copied().flatten()?;
        let next = self.cursors.get_mut(s).and_then(Iterator::next);
        if let Some(h) = self.heads.get_mut(s) {
            *h = next.map(|(x, q)| (index + 1, x, q));
        }
        Some(Step {
            source: s,
            index,
            pos,
            quality,
        })
    }
}

/// Where the records pass 2 reads of one source go: each one's index in the whole timeline (as
/// LEB128 differences, in source order) and its position and quality. Pass 2 then needs neither
/// every event's position nor a walk of the whole order: 13 MB at 1 GB held through pass 2, and a
/// step per event, where a few bytes per record read remain.
#[derive(Debug, Default)]
pub struct Spots {
    at: Vec<u8>,
    placed: Placed,
}

impl Spots {
    /// Records placed.
    pub fn len(&self) -> usize {
        self.placed.len()
    }

    /// Whether none was.
    pub fn is_empty(&self) -> bool {
        self.placed.is_empty()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.at.capacity() + self.placed.heap_bytes()
    }

    /// Each record's timeline index, position and quality, in source order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, f64, TsQuality)> + '_ {
        // Each index is written as its difference from the one before, the first from 0.
        let (mut at, mut k) = (0, 0u64);
        self.placed.iter().map_while(move |(x, q)| {
            k = k.checked_add(take(&self.at, &mut at)?)?;
            Some((usize::try_from(k).ok()?, x, q))
        })
    }
}

/// The spots of the records `wanted` names per source (indexes in the source, ascending), from
/// one walk of the timeline order of `sources`.
pub fn spots(sources: &[Placed], mut wanted: Vec<impl Iterator<Item = usize>>) -> Vec<Spots> {
    let n = sources.len();
    let mut ks: Vec<Vec<u8>> = vec![Vec::new(); n];
    let mut last: Vec<u64> = vec![0; n];
    let mut xs: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut qs: Vec<Vec<TsQuality>> = vec![Vec::new(); n];
    let mut next: Vec<Option<usize>> = wanted.iter_mut().map(Iterator::next).collect();
    let mut left = next.iter().filter(|w| w.is_some()).count();
    for (k, step) in PlacedOrder::new(sources).enumerate() {
        if left == 0 {
            break;
        }
        let s = step.source;
        if next.get(s).copied().flatten() != Some(step.index) {
            continue;
        }
        let k = k as u64;
        if let (Some(b), Some(l), Some(x), Some(q)) =
            (ks.get_mut(s), last.get_mut(s), xs.get_mut(s), qs.get_mut(s))
        {
            put(b, k - *l);
            *l = k;
            x.push(step.pos);
            q.push(step.quality);
        }
        if let (Some(w), Some(n)) = (wanted.get_mut(s), next.get_mut(s)) {
            *n = w.next();
            if n.is_none() {
                left -= 1;
            }
        }
    }
    ks.into_iter()
        .zip(xs.into_iter().zip(qs))
        .map(|(mut at, (x, q))| {
            at.shrink_to_fit();
            Spots {
                at,
                placed: Placed::new(&x, &q),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::merge::Order;
    use proptest::prelude::*;

    fn quality() -> impl Strategy<Value = TsQuality> {
        prop_oneof![
            Just(TsQuality::Exact),
            Just(TsQuality::TimeOfDay),
            Just(TsQuality::Inferred),
            Just(TsQuality::Order),
        ]
    }

    /// Any position: times in ns, lines, fractions, and the odd ones (negative zero, infinities,
    /// NaN, the extremes).
    fn position() -> impl Strategy<Value = f64> {
        prop_oneof![
            (1.7e18f64..1.8e18).prop_map(|x| x.round()),
            (0u32..5_000_000).prop_map(f64::from),
            -1e6f64..1e6,
            prop::sample::select(vec![
                -0.0,
                0.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
                f64::MAX,
                f64::MIN,
                f64::MIN_POSITIVE,
                EXACT_INT,
                -EXACT_INT,
            ]),
        ]
    }

    proptest! {
        /// Every position comes back bit for bit with its quality, in order.
        #[test]
        fn positions_come_back_bit_for_bit(
            xs in prop::collection::vec((position(), quality()), 0..300),
            short in 0usize..3,
        ) {
            let positions: Vec<f64> = xs.iter().map(|p| p.0).collect();
            // A quality list shorter than the positions: the rest are of `Order`.
            let quality: Vec<TsQuality> =
                xs.iter().map(|p| p.1).take(xs.len().saturating_sub(short)).collect();
            let placed = Placed::new(&positions, &quality);
            prop_assert_eq!(placed.len(), positions.len());
            let back: Vec<(u64, TsQuality)> = placed.iter().map(|(x, q)| (x.to_bits(), q)).collect();
            let want: Vec<(u64, TsQuality)> = positions
                .iter()
                .enumerate()
                .map(|(i, x)| (x.to_bits(), quality.get(i).copied().unwrap_or(TsQuality::Order)))
                .collect();
            prop_assert_eq!(back, want);
        }

        /// The packed order is the unpacked order, ties and all.
        #[test]
        fn the_packed_order_is_the_merge_order(
            sources in prop::collection::vec(
                prop::collection::vec((0u8..20).prop_map(f64::from), 0..40),
                0..5,
            ),
        ) {
            let sorted: Vec<Vec<f64>> = sources
                .into_iter()
                .map(|mut v| {
                    v.sort_by(f64::total_cmp);
                    v
                })
                .collect();
            let lens = sorted.iter().map(Vec::len).collect();
            let want: Vec<(usize, usize)> = Order::new(&sorted, lens).collect();
            let placed: Vec<Placed> = sorted.iter().map(|v| Placed::new(v, &[])).collect();
            let got: Vec<Step> = PlacedOrder::new(&placed).collect();
            prop_assert_eq!(
                got.iter().map(|s| (s.source, s.index)).collect::<Vec<_>>(),
                want.clone()
            );
            for (step, (s, i)) in got.iter().zip(&want) {
                prop_assert_eq!(step.pos.to_bits(), sorted[*s][*i].to_bits());
            }
        }
    }

    proptest! {
        /// The spots of chosen records are their timeline indices, positions and qualities in the
        /// whole order.
        #[test]
        fn spots_are_the_chosen_steps_of_the_order(
            sources in prop::collection::vec(
                prop::collection::vec(((0u8..20).prop_map(f64::from), any::<bool>()), 0..60),
                0..5,
            ),
        ) {
            let sorted: Vec<Vec<(f64, bool)>> = sources
                .into_iter()
                .map(|mut v| {
                    v.sort_by(|a, b| a.0.total_cmp(&b.0));
                    v
                })
                .collect();
            let placed: Vec<Placed> = sorted
                .iter()
                .map(|v| Placed::new(&v.iter().map(|p| p.0).collect::<Vec<_>>(), &[]))
                .collect();
            let chosen: Vec<Vec<usize>> = sorted
                .iter()
                .map(|v| (0..v.len()).filter(|&i| v[i].1).collect())
                .collect();
            let got = spots(&placed, chosen.iter().map(|c| c.iter().copied()).collect());
            let order: Vec<Step> = PlacedOrder::new(&placed).collect();
            for (s, c) in chosen.iter().enumerate() {
                let want: Vec<(usize, u64, TsQuality)> = order
                    .iter()
                    .enumerate()
                    .filter(|(_, st)| st.source == s && c.contains(&st.index))
                    .map(|(k, st)| (k, st.pos.to_bits(), st.quality))
                    .collect();
                let back: Vec<(usize, u64, TsQuality)> =
                    got[s].iter().map(|(k, x, q)| (k, x.to_bits(), q)).collect();
                prop_assert_eq!(got[s].len(), want.len());
                prop_assert_eq!(back, want);
            }
        }
    }

    /// A timed source a millisecond a step at today's dates takes 3 bytes an event, a line axis 1.
    #[test]
    fn near_positions_take_a_few_bytes() {
        let timed: Vec<f64> = (0..1000).map(|i| 1.78e18 + f64::from(i) * 1e6).collect();
        let placed = Placed::new(&timed, &[TsQuality::Exact; 1000]);
        assert!(placed.bytes() <= 3 * 1000 + 8, "{}", placed.bytes());
        assert_eq!(placed.runs.len(), 1);
        let lines: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(Placed::new(&lines, &[]).bytes(), 1000);
    }
}
