//! Where lines begin: the byte offset of every [`EVERY`]-th line of a file, so that a record can be
//! read again from near its first line instead of from the top of a gigabyte.

use std::io::{self, Read};

/// Lines between two remembered offsets: a record is read again after passing over at most this
/// many lines (about 80 KB of a service log), and a 1 GB file keeps 13 k offsets.
pub const EVERY: u64 = 256;

/// The byte offsets of lines `1`, `1 + EVERY`, `1 + 2 × EVERY`, ... of one file.
#[derive(Debug, Clone, Default)]
pub struct Checkpoints {
    starts: Vec<u64>,
}

impl Checkpoints {
    /// Find the line starts of everything `r` holds, a line being what ends at `\n` (as
    /// [`crate::source::LineReader`] counts them, however long).
    pub fn scan(mut r: impl Read) -> io::Result<Checkpoints> {
        let mut starts = vec![0u64];
        let mut buf = vec![0u8; 256 * 1024];
        let (mut offset, mut ended) = (0u64, 0u64);
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            for i in memchr::memchr_iter(b'\n', buf.get(..n).unwrap_or_default()) {
                ended += 1;
                if ended.is_multiple_of(EVERY) {
                    starts.push(offset + i as u64 + 1);
                }
            }
            offset += n as u64;
        }
        starts.shrink_to_fit();
        Ok(Checkpoints { starts })
    }

    /// The remembered line at or before line `line` (1-based): how many lines come before it, and
    /// the byte offset where it begins.
    pub fn before(&self, line: u64) -> (u64, u64) {
        let k = usize::try_from(line.saturating_sub(1) / EVERY).unwrap_or(usize::MAX);
        let k = k.min(self.starts.len().saturating_sub(1));
        (k as u64 * EVERY, self.starts.get(k).copied().unwrap_or(0))
    }
}

impl Checkpoints {
    /// The file cut at remembered line starts into pieces of about `size` bytes: each piece's lines
    /// before it and its first byte (the first piece starts at the top).
    pub fn pieces(&self, size: u64) -> Vec<(u64, u64)> {
        let mut out = vec![(0u64, 0u64)];
        let mut last = 0u64;
        for (k, &at) in self.starts.iter().enumerate() {
            if at >= last.saturating_add(size.max(1)) {
                out.push((k as u64 * EVERY, at));
                last = at;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line's remembered start is at or before it, within `EVERY` lines, and begins a line.
    #[test]
    fn each_line_is_found_from_the_nearest_start_before_it() {
        let text: String = (1..=1000)
            .map(|i| format!("line {i} {}\n", "x".repeat(i % 7)))
            .collect();
        let cp = Checkpoints::scan(text.as_bytes()).unwrap();
        for line in [1u64, 2, 255, 256, 257, 258, 513, 999, 1000, 5000] {
            let (before, at) = cp.before(line);
            assert!(before < line.max(1));
            assert!(line.min(1000) - before <= EVERY || line > 1000);
            let rest = &text[at as usize..];
            let first = rest.lines().next().unwrap();
            assert_eq!(first, text.lines().nth(before as usize).unwrap());
        }
        assert_eq!(Checkpoints::scan(&b""[..]).unwrap().before(3), (0, 0));
        // Pieces begin at line starts, in order, the first at the top.
        let pieces = cp.pieces(2000);
        assert!(pieces.len() > 3);
        assert_eq!(pieces[0], (0, 0));
        for w in pieces.windows(2) {
            assert!(w[0].1 < w[1].1 && w[0].0 < w[1].0);
            assert_eq!(text[..w[1].1 as usize].matches('\n').count() as u64, w[1].0);
        }
        assert_eq!(cp.pieces(u64::MAX), vec![(0, 0)]);
    }
}
