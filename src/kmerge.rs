//! A k-way merge: lists each in one order, read as one list in that order, without gathering them.

/// The items of `lists`, each list in ascending order of `key`, in ascending order of `key`, each
/// with the number of its list; of equal keys, the first list's item comes first.
pub fn by_key<T, K: Ord>(
    lists: Vec<impl Iterator<Item = T>>,
    key: impl Fn(&T) -> K,
) -> impl Iterator<Item = (usize, T)> {
    let mut lists: Vec<_> = lists.into_iter().map(Iterator::peekable).collect();
    std::iter::from_fn(move || {
        let (_, k) = (lists.iter_mut().enumerate())
            .filter_map(|(k, l)| Some((key(l.peek()?), k)))
            .min()?;
        Some((k, lists.get_mut(k)?.next()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sorted lists merge into the sorted whole, ties in list order, empty lists and all.
    #[test]
    fn sorted_lists_merge_in_order_ties_to_the_first() {
        let lists = vec![vec![1, 4, 4, 9], vec![], vec![2, 4, 10], vec![0]];
        let got: Vec<(usize, i32)> =
            by_key(lists.into_iter().map(Vec::into_iter).collect(), |x| *x).collect();
        assert_eq!(
            got,
            vec![
                (3, 0),
                (0, 1),
                (2, 2),
                (0, 4),
                (0, 4),
                (2, 4),
                (0, 9),
                (2, 10)
            ]
        );
        let none: Vec<std::vec::IntoIter<i32>> = Vec::new();
        assert_eq!(by_key(none, |x| *x).count(), 0);
    }
}
