//! The timeline pane's rows: the records the filters show, in timeline order. Without a filter
//! that is every record, and nothing is stored (a list of them took 8 bytes a record: 31 MB of a
//! gigabyte's 3.8 M records); with one, each kept record takes 4 bytes.

/// Record indices in timeline order (ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rows {
    /// Every record `0..n`.
    All(usize),
    /// The records kept, each under 2^32.
    Narrow(Vec<u32>),
    /// The records kept, when one is not.
    Wide(Vec<usize>),
}

impl Default for Rows {
    fn default() -> Rows {
        Rows::All(0)
    }
}

impl Rows {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::All(n) => *n,
            Rows::Narrow(v) => v.len(),
            Rows::Wide(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record of row `r`.
    pub fn get(&self, r: usize) -> Option<usize> {
        match self {
            Rows::All(n) => (r < *n).then_some(r),
            Rows::Narrow(v) => v.get(r).map(|&i| i as usize),
            Rows::Wide(v) => v.get(r).copied(),
        }
    }

    /// The records, in order.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            Rows::All(n) => Iter::All(0..*n),
            Rows::Narrow(v) => Iter::Narrow(v.iter()),
            Rows::Wide(v) => Iter::Wide(v.iter()),
        }
    }

    /// The row that shows record `i` (`Err`: where it would be).
    pub fn find(&self, i: usize) -> Result<usize, usize> {
        match self {
            Rows::All(n) if i < *n => Ok(i),
            Rows::All(n) => Err(*n),
            Rows::Narrow(v) => match u32::try_from(i) {
                Ok(x) => v.binary_search(&x),
                Err(_) => Err(v.len()),
            },
            Rows::Wide(v) => v.binary_search(&i),
        }
    }

    /// Whether record `i` is shown.
    pub fn contains(&self, i: usize) -> bool {
        self.find(i).is_ok()
    }

    /// The records of rows `from..to` (within the rows).
    pub fn between(&self, from: usize, to: usize) -> Vec<usize> {
        let to = to.min(self.len());
        let from = from.min(to);
        match self {
            Rows::All(_) => (from..to).collect(),
            Rows::Narrow(v) => v
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .map(|&i| i as usize)
                .collect(),
            Rows::Wide(v) => v.get(from..to).unwrap_or_default().to_vec(),
        }
    }

    /// The records, as a list.
    pub fn to_vec(&self) -> Vec<usize> {
        self.iter().collect()
    }
}

impl FromIterator<usize> for Rows {
    /// Ascending record indices, kept in 4 bytes each while they fit.
    fn from_iter<I: IntoIterator<Item = usize>>(items: I) -> Rows {
        let mut narrow: Vec<u32> = Vec::new();
        let mut items = items.into_iter();
        for i in items.by_ref() {
            match u32::try_from(i) {
                Ok(x) => narrow.push(x),
                Err(_) => {
                    let mut wide: Vec<usize> = narrow.iter().map(|&x| x as usize).collect();
                    wide.push(i);
                    wide.extend(items);
                    return Rows::Wide(wide);
                }
            }
        }
        narrow.shrink_to_fit();
        Rows::Narrow(narrow)
    }
}

impl PartialEq<Vec<usize>> for Rows {
    fn eq(&self, other: &Vec<usize>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter().copied())
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = usize;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The records of [`Rows`], in order.
#[derive(Debug, Clone)]
pub enum Iter<'a> {
    /// Every record.
    All(std::ops::Range<usize>),
    /// Kept records, narrow.
    Narrow(std::slice::Iter<'a, u32>),
    /// Kept records, wide.
    Wide(std::slice::Iter<'a, usize>),
}

impl Iterator for Iter<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        match self {
            Iter::All(r) => r.next(),
            Iter::Narrow(v) => v.next().map(|&i| i as usize),
            Iter::Wide(v) => v.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::All(r) => r.size_hint(),
            Iter::Narrow(v) => v.size_hint(),
            Iter::Wide(v) => v.size_hint(),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<usize> {
        match self {
            Iter::All(r) => r.next_back(),
            Iter::Narrow(v) => v.next_back().map(|&i| i as usize),
            Iter::Wide(v) => v.next_back().copied(),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The items of sorted `a` that sorted `b` holds too (`common`), or that it does not.
pub fn sorted_with(a: &Rows, b: &[usize], common: bool) -> Rows {
    let mut k = 0;
    a.iter()
        .filter(|&x| {
            while b.get(k).is_some_and(|&y| y < x) {
                k += 1;
            }
            (b.get(k) == Some(&x)) == common
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form answers alike: length, rows, finding a record, and the sorted merge.
    #[test]
    fn every_form_of_rows_answers_alike() {
        let all = Rows::All(6);
        let narrow: Rows = (0..6).collect();
        assert!(matches!(narrow, Rows::Narrow(_)));
        let wide = Rows::Wide((0..6).collect());
        for r in [&all, &narrow, &wide] {
            assert_eq!(r.len(), 6);
            assert_eq!(r.get(5), Some(5));
            assert_eq!(r.get(6), None);
            assert_eq!(r.find(3), Ok(3));
            assert_eq!(r.find(9), Err(6));
            assert!(r.contains(0) && !r.contains(7));
            assert_eq!(r.iter().next_back(), Some(5));
            assert_eq!(*r, vec![0, 1, 2, 3, 4, 5]);
            assert_eq!(sorted_with(r, &[1, 4, 9], true), vec![1, 4]);
            assert_eq!(sorted_with(r, &[1, 4, 9], false), vec![0, 2, 3, 5]);
        }
        let some: Rows = [2usize, 5, 8].into_iter().collect();
        assert_eq!(some.find(5), Ok(1));
        assert_eq!(some.find(6), Err(2));
        assert_eq!(some.get(2), Some(8));
    }

    /// A record past 2^32 widens the list, keeping those before it.
    #[test]
    fn a_record_past_32_bits_widens_the_list() {
        let big = u32::MAX as usize + 3;
        let rows: Rows = [1usize, 7, big, big + 1].into_iter().collect();
        assert!(matches!(rows, Rows::Wide(_)));
        assert_eq!(rows, vec![1, 7, big, big + 1]);
        assert_eq!(rows.find(big), Ok(2));
    }
}
