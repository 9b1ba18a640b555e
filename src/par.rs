//! A slice cut into one piece per core, each piece worked on its own thread, results in piece order.

/// `f(offset, piece)` for consecutive pieces of `items`, one per core, in order; one piece (this
/// thread) when `items` is shorter than `min` or there is one core. A piece whose thread failed to run
/// is done here, so every piece has its result.
pub fn pieces<T: Sync, R: Send>(
    items: &[T],
    min: usize,
    f: impl Fn(usize, &[T]) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || items.len() < min {
        return vec![f(0, items)];
    }
    let per = items.len().div_ceil(cores).max(1);
    let f = &f;
    let parts: Vec<Option<R>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(per)
            .enumerate()
            .map(|(k, c)| s.spawn(move || f(k * per, c)))
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    parts
        .into_iter()
        .zip(items.chunks(per).enumerate())
        .map(|(part, (k, c))| part.unwrap_or_else(|| f(k * per, c)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pieces_cover_the_slice_in_order_with_their_offsets() {
        let items: Vec<u32> = (0..1000).collect();
        let parts = super::pieces(&items, 10, |at, p| (at, p.to_vec()));
        let mut joined = Vec::new();
        for (at, p) in parts {
            assert_eq!(at, joined.len());
            joined.extend(p);
        }
        assert_eq!(joined, items);
        assert_eq!(
            super::pieces(&items, 5000, |at, p| (at, p.len())),
            [(0, 1000)]
        );
    }
}
