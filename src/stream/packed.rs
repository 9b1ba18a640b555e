//! The records pass 2 reads of a stream, packed: a few bytes a record where a [`Want`] takes 32.
//!
//! Before settling, a service log marks most of its records (any line naming a CID may be an absence
//! rule's follow-up): 2.3 M marks at 1 GB, 74 MB as `Want`s, the largest part of pass 1's memory;
//! after settling, pass 2 reads 700 k of them. Marks are written in source order and read in the
//! same order, so each is kept as LEB128 varints of its differences from the mark before (index,
//! first line) and of its extent and note: usually one byte each.

use super::Want;
use crate::varint::{put, take, unzigzag, zigzag};

/// A note on a marked record that packs into a number and back.
pub trait Note: Sized {
    /// The note as a number.
    fn pack(&self) -> u64;
    /// The note a number packs; `None` for a number no note packs to.
    fn unpack(v: u64) -> Option<Self>;
}

/// Marked records of one stream, in the order they were pushed (source order), packed.
#[derive(Debug, Default)]
pub struct Packed {
    bytes: Vec<u8>,
    len: usize,
    /// The index and first line of the last mark pushed (differences are taken from them).
    last: (u64, u64),
}

impl Packed {
    /// Add the next mark.
    pub fn push<T: Note>(&mut self, w: &Want<T>) {
        let index = w.index as u64;
        put(
            &mut self.bytes,
            zigzag(index.wrapping_sub(self.last.0) as i64),
        );
        put(
            &mut self.bytes,
            zigzag(w.line.wrapping_sub(self.last.1) as i64),
        );
        put(&mut self.bytes, w.end_line().saturating_sub(w.line));
        put(&mut self.bytes, w.what.pack());
        self.last = (index, w.line);
        self.len += 1;
    }

    /// Give back the room the bytes were given beyond their length.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// Marks pushed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the marks take.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// The marks, in the order pushed; the bytes are freed when the iterator is.
    pub fn into_wants<T: Note>(self) -> impl Iterator<Item = Want<T>> {
        let mut at = 0usize;
        let mut last = (0u64, 0u64);
        let bytes = self.bytes;
        std::iter::from_fn(move || decode(&bytes, &mut at, &mut last))
    }

    /// The marks, in the order pushed.
    pub fn iter<T: Note>(&self) -> impl Iterator<Item = Want<T>> + '_ {
        let mut at = 0usize;
        let mut last = (0u64, 0u64);
        std::iter::from_fn(move || decode(&self.bytes, &mut at, &mut last))
    }
}

impl<T: Note> FromIterator<Want<T>> for Packed {
    fn from_iter<I: IntoIterator<Item = Want<T>>>(wants: I) -> Packed {
        let mut p = Packed::default();
        for w in wants {
            p.push(&w);
        }
        p.shrink_to_fit();
        p
    }
}

impl Note for usize {
    fn pack(&self) -> u64 {
        *self as u64
    }

    fn unpack(v: u64) -> Option<usize> {
        usize::try_from(v).ok()
    }
}

/// The mark at `*at`, after the one at `last` (index, first line); moves both on.
fn decode<T: Note>(bytes: &[u8], at: &mut usize, last: &mut (u64, u64)) -> Option<Want<T>> {
    let di = unzigzag(take(bytes, at)?);
    let dl = unzigzag(take(bytes, at)?);
    let more = take(bytes, at)?;
    let what = T::unpack(take(bytes, at)?)?;
    let index = last.0.wrapping_add(di as u64);
    let line = last.1.wrapping_add(dl as u64);
    *last = (index, line);
    Some(Want::new(
        usize::try_from(index).ok()?,
        line,
        line.saturating_add(more),
        what,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl Note for u64 {
        fn pack(&self) -> u64 {
            *self
        }
        fn unpack(v: u64) -> Option<u64> {
            Some(v)
        }
    }

    proptest! {
        /// Whatever is pushed comes back, in order: indices and lines in any order and size,
        /// extents up to `u32::MAX` lines, any note.
        #[test]
        fn marks_come_back_as_pushed(
            marks in proptest::collection::vec(
                (any::<u32>().prop_map(|i| i as usize), any::<u64>(), any::<u32>(), any::<u64>()),
                0..200,
            ),
        ) {
            let wants: Vec<Want<u64>> = marks
                .iter()
                .map(|&(i, line, more, note)| {
                    Want::new(i, line, line.saturating_add(u64::from(more)), note)
                })
                .collect();
            let mut packed = Packed::default();
            for w in &wants {
                packed.push(w);
            }
            prop_assert_eq!(packed.len(), wants.len());
            let back: Vec<Want<u64>> = packed.into_wants().collect();
            let key = |w: &Want<u64>| (w.index, w.line, w.end_line(), w.what);
            prop_assert_eq!(
                back.iter().map(key).collect::<Vec<_>>(),
                wants.iter().map(key).collect::<Vec<_>>()
            );
        }
    }

    /// A service log's marks (consecutive records, one line each, a small note) take four bytes.
    #[test]
    fn consecutive_one_line_marks_take_four_bytes_each() {
        let mut packed = Packed::default();
        for i in 0..1000u64 {
            packed.push(&Want::new(i as usize, 3 * i + 1, 3 * i + 1, 5u64));
        }
        assert_eq!(packed.bytes(), 4000);
    }
}
