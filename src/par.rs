//! Work on every core, results in input order: a slice cut into one piece per core ([`pieces`]), or
//! items of very different cost taken one at a time by whichever thread is free ([`queue`]).

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

/// `f(state, item)` for every item, on up to one thread per core (never more threads than items),
/// each thread taking the next item when it is free: for items of very different cost (files, rules).
/// Each thread makes its `state` once with `init` (its own copy of compiled regexes: a `Regex` used
/// from a thread other than its first goes through a locked pool). Results come in item order; an
/// item whose thread failed is done here.
pub fn queue<T: Sync, S, R: Send>(
    items: &[T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&S, &T) -> R + Sync,
) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 {
        let state = init();
        return items.iter().map(|it| f(&state, it)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (init, f, next) = (&init, &f, &next);
    let done: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(move || {
                    let state = init();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(it) = items.get(i) else { break };
                        out.push((i, f(&state, it)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok())
            .flatten()
            .collect()
    });
    let mut slots: Vec<Option<R>> = items.iter().map(|_| None).collect();
    for (i, r) in done {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(r);
        }
    }
    let mut state = None;
    slots
        .into_iter()
        .zip(items)
        .map(|(r, it)| r.unwrap_or_else(|| f(state.get_or_insert_with(init), it)))
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

    #[test]
    fn the_queue_answers_every_item_in_order_with_one_state_per_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let items: Vec<u64> = (0..200).collect();
        let inits = AtomicUsize::new(0);
        let out = super::queue(
            &items,
            || inits.fetch_add(1, Ordering::Relaxed),
            |_, &x| {
                // Uneven cost, so the threads interleave.
                if x % 7 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                x * 2
            },
        );
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert!(inits.load(Ordering::Relaxed) <= cores.max(1));
        assert!(super::queue(&[] as &[u8], || (), |_, _| 0u8).is_empty());
    }
}
