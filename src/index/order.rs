//! The timeline order of an index: which source each row is. A source keeps its own order in the
//! timeline, so a row's index in its source is how many rows of that source come before it; those
//! counts are kept every so many rows. Two bytes a row, where `source << 32 | index` took eight
//! (3.8 M rows at 1 GB: 29 → 8 MB), and a row is found from its source and index by a binary
//! search of the counts, so a search needs no list of each source's rows (15 MB at 1 GB).

/// Rows between two kept counts with few sources; more sources space them out, so that the counts
/// stay under a byte a row.
const EVERY: usize = 64;

/// The timeline order: per row its source, and every [`Order::every`] rows, per source, the rows of
/// it before.
#[derive(Debug, Default)]
pub struct Order {
    source: Vec<u16>,
    /// `counts[c * sources + s]`: rows of source `s` before row `c * every`.
    counts: Vec<u32>,
    /// Per source, its rows so far (while the order is built), then in all.
    totals: Vec<u32>,
    every: usize,
}

/// Why rows cannot be put in an [`Order`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderError {
    /// A source past 2^16, or past the sources the order was made for.
    Source(usize),
    /// A source's rows not in the source's own order, or more than 2^32 of them.
    Disordered(usize),
}

impl Order {
    /// An empty order for `sources` sources and about `rows` rows.
    pub fn new(sources: usize, rows: usize) -> Order {
        let every = EVERY.max(sources.saturating_mul(8));
        Order {
            source: Vec::with_capacity(rows),
            counts: Vec::with_capacity((rows / every + 1) * sources),
            totals: vec![0; sources],
            every,
        }
    }

    /// Add the next row: record `index` of `source`, which must be that source's next.
    pub fn push(&mut self, source: usize, index: usize) -> Result<(), OrderError> {
        let s = u16::try_from(source).map_err(|_| OrderError::Source(source))?;
        let next = self.totals.get(source).ok_or(OrderError::Source(source))?;
        if u32::try_from(index).ok() != Some(*next) || *next == u32::MAX {
            return Err(OrderError::Disordered(source));
        }
        if self.source.len().is_multiple_of(self.every) {
            self.counts.extend_from_slice(&self.totals);
        }
        self.source.push(s);
        if let Some(t) = self.totals.get_mut(source) {
            *t += 1;
        }
        Ok(())
    }

    /// Give back the room the lists reserved.
    pub fn shrink_to_fit(&mut self) {
        self.source.shrink_to_fit();
        self.counts.shrink_to_fit();
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Bytes the order holds.
    pub fn heap_bytes(&self) -> usize {
        self.source.capacity() * 2 + self.counts.capacity() * 4 + self.totals.capacity() * 4
    }

    fn sources(&self) -> usize {
        self.totals.len()
    }

    /// Rows of source `s` before kept count `c`.
    fn count(&self, c: usize, s: usize) -> Option<u32> {
        self.counts.get(c * self.sources() + s).copied()
    }

    /// Row `i`: its source and its index in the source.
    pub fn get(&self, i: usize) -> Option<(usize, u32)> {
        let s = *self.source.get(i)?;
        let c = i / self.every;
        let before = self.source.get(c * self.every..i).unwrap_or_default();
        let here = before.iter().filter(|&&x| x == s).count() as u32;
        Some((usize::from(s), self.count(c, usize::from(s))? + here))
    }

    /// The row of record `k` of source `s`.
    pub fn find(&self, s: usize, k: u32) -> Option<usize> {
        if k >= *self.totals.get(s)? {
            return None;
        }
        let kept = self.source.len().div_ceil(self.every);
        // The last kept count with at most `k` rows of `s` before it.
        let (mut lo, mut hi) = (0, kept);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.count(mid, s).is_some_and(|n| n <= k) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let c = lo.checked_sub(1)?;
        let mut seen = self.count(c, s)?;
        let from = c * self.every;
        let s = u16::try_from(s).ok()?;
        for (j, &x) in self.source.get(from..)?.iter().enumerate() {
            if x == s {
                if seen == k {
                    return Some(from + j);
                }
                seen += 1;
            }
        }
        None
    }

    /// The rows of source `s`, in order.
    pub fn rows_of(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        let s = u16::try_from(s).ok();
        self.source
            .iter()
            .enumerate()
            .filter(move |&(_, &x)| Some(x) == s)
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Every row gives back its source and index, and is found from them, for few sources and
        /// for more than the counts' spacing assumes.
        #[test]
        fn rows_are_found_both_ways(
            picks in proptest::collection::vec(0usize..40, 0..3000),
            few in proptest::bool::ANY,
        ) {
            let sources = if few { 3 } else { 40 };
            let mut order = Order::new(sources, picks.len());
            let mut next = vec![0usize; sources];
            let mut want = Vec::new();
            for p in picks {
                let s = p % sources;
                order.push(s, next[s]).unwrap();
                want.push((s, next[s] as u32));
                next[s] += 1;
            }
            proptest::prop_assert_eq!(order.len(), want.len());
            for (i, &(s, k)) in want.iter().enumerate() {
                proptest::prop_assert_eq!(order.get(i), Some((s, k)));
                proptest::prop_assert_eq!(order.find(s, k), Some(i));
            }
            proptest::prop_assert_eq!(order.get(want.len()), None);
            for (s, &n) in next.iter().enumerate() {
                proptest::prop_assert_eq!(order.find(s, n as u32), None);
                let rows: Vec<usize> = order.rows_of(s).collect();
                proptest::prop_assert_eq!(rows.len(), n);
            }
        }
    }

    /// A source's records out of their own order, or a source it was not made for, are refused.
    #[test]
    fn rows_out_of_their_sources_order_are_refused() {
        let mut order = Order::new(2, 4);
        assert_eq!(order.push(0, 0), Ok(()));
        assert_eq!(order.push(0, 2), Err(OrderError::Disordered(0)));
        assert_eq!(order.push(2, 0), Err(OrderError::Source(2)));
        assert_eq!(order.push(1, 0), Ok(()));
        assert_eq!(order.get(1), Some((1, 0)));
    }
}
