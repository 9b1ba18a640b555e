//! ANSI escape sequences (colour, OSC titles) removed before anything else looks at a line.

use std::borrow::Cow;

/// Remove ANSI escape sequences (CSI, OSC and two-byte escapes).
///
/// Runs on every line of every input: the text between escapes is copied a run at a time (found with
/// `memchr`), not a character at a time. Every byte that ends a sequence is ASCII, so the scan may look
/// at bytes; where a sequence ends with "the next character", the whole character is skipped.
pub fn strip_ansi(s: &str) -> Cow<'_, str> {
    let b = s.as_bytes();
    let Some(first) = memchr::memchr(0x1b, b) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    // `from` is always at a character boundary: the start, or just after a whole sequence.
    let mut from = 0;
    let mut esc = Some(first);
    while let Some(at) = esc {
        out.push_str(s.get(from..at).unwrap_or_default());
        from = sequence_end(b, at);
        esc = memchr::memchr(0x1b, b.get(from..).unwrap_or_default()).map(|i| from + i);
    }
    out.push_str(s.get(from..).unwrap_or_default());
    Cow::Owned(out)
}

/// [`strip_ansi`] of valid UTF-8 bytes into a buffer the caller reuses (a search's sieve strips
/// every line it looks at without allocating).
pub fn strip_ansi_into(b: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut from = 0;
    let mut esc = memchr::memchr(0x1b, b);
    while let Some(at) = esc {
        out.extend_from_slice(b.get(from..at).unwrap_or_default());
        from = sequence_end(b, at);
        esc = memchr::memchr(0x1b, b.get(from..).unwrap_or_default()).map(|i| from + i);
    }
    out.extend_from_slice(b.get(from..).unwrap_or_default());
}

/// Where the escape sequence starting at `at` (an ESC) ends.
fn sequence_end(b: &[u8], at: usize) -> usize {
    let byte = |i: usize| b.get(i).copied();
    match byte(at + 1) {
        // CSI: parameters, then one final byte in @..~ (or the end of the line).
        Some(b'[') => (at + 2..b.len())
            .find(|&i| byte(i).is_some_and(|c| (b'@'..=b'~').contains(&c)))
            .map_or(b.len(), |i| i + 1),
        // OSC: until BEL, or ESC and the character after it (`ESC \`).
        Some(b']') => {
            let mut i = at + 2;
            while let Some(c) = byte(i) {
                match c {
                    0x07 => return i + 1,
                    0x1b => return char_end(b, i + 1),
                    _ => i += 1,
                }
            }
            b.len()
        }
        // Two-character escapes: ESC and the character after it.
        Some(_) => char_end(b, at + 1),
        None => b.len(),
    }
}

/// The end of the character starting at byte `i` (the end of `b` when `i` is past it).
fn char_end(b: &[u8], i: usize) -> usize {
    let len = match b.get(i) {
        None => return b.len(),
        Some(&c) if c < 0x80 => 1,
        Some(&c) if c >= 0xf0 => 4,
        Some(&c) if c >= 0xe0 => 3,
        Some(_) => 2,
    };
    (i + len).min(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The character-at-a-time definition the fast scan must equal.
    fn reference(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\x1b' {
                out.push(c);
                continue;
            }
            match chars.peek() {
                Some('[') => {
                    chars.next();
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    chars.next();
                    while let Some(d) = chars.next() {
                        if d == '\x07' {
                            break;
                        }
                        if d == '\x1b' {
                            chars.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            }
        }
        out
    }

    #[test]
    fn sequences_of_every_kind_are_removed() {
        let cases = [
            ("\x1b[32m INFO\x1b[0m x", " INFO x"),
            ("a\x1b]0;title\x07b", "ab"),
            ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
            ("a\x1b(Bb", "aBb"),
            ("a\x1bé b", "a b"),
            ("a\x1b]unterminated é", "a"),
            ("a\x1b[12;3", "a"),
            ("a\x1b[1;31merror", "aerror"),
            ("a\x1b", "a"),
            ("\x1b[0m", ""),
            ("no escapes é", "no escapes é"),
        ];
        for (input, want) in cases {
            assert_eq!(strip_ansi(input), want, "{input:?}");
            assert_eq!(reference(input), want, "{input:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// The run-at-a-time scan equals the character-at-a-time definition on any text built from
        /// what decides it (ESC, the introducers, final bytes, BEL, multi-byte characters).
        #[test]
        fn the_fast_scan_equals_the_definition(s in "[\x1b\\[\\]\x07\\\\@~0-9;mAaé€😀 ]{0,40}") {
            prop_assert_eq!(strip_ansi(&s).into_owned(), reference(&s));
            let mut buf = b"left over".to_vec();
            strip_ansi_into(s.as_bytes(), &mut buf);
            prop_assert_eq!(buf, reference(&s).into_bytes());
        }
    }
}
