//! Sieve: which lines of a file may hold a search's match, found at memchr speed over the raw
//! bytes before any record is parsed (ripgrep's literal prefilter). A line passes when it holds one
//! of the literals every match must hold, or when its raw text may differ from the record's text in
//! a way that could hide one: an escape sequence (stripped, then looked at again), a byte outside
//! ASCII when the literals or the case folding reach past ASCII. Only formats whose records' text
//! is the lines' own text (no JSON, no unescaping) are sieved; the others are parsed whole.

use aho_corasick::AhoCorasick;
use regex::Regex;

/// The literals of one search and how to look for them.
#[derive(Debug)]
pub struct Sieve {
    ac: AhoCorasick,
    /// Some literal holds a byte outside ASCII: a line with such a byte may match without holding
    /// a literal as its bytes are written (a character read lossily).
    wide: bool,
    /// Case is folded by Unicode's rules, where `ſ` is an `s` and the Kelvin sign a `k`: a line
    /// with one of those may match without holding an ASCII literal in any ASCII case.
    folded: bool,
}

/// The characters outside ASCII that fold to an ASCII letter (`ſ`, the Kelvin sign).
const FOLD_TO_ASCII: [&str; 2] = ["\u{17f}", "\u{212a}"];

impl Sieve {
    /// The sieve of `re`; `None` when its matches need no literal worth looking for (then every
    /// record is read).
    pub fn new(re: &Regex) -> Option<Sieve> {
        let src = re.as_str();
        // The TUI's smart case writes `(?i)` in front of what was typed: look for the literals
        // of the rest, in either case, instead of every case variant of each.
        let (folded, rest) = match src.strip_prefix("(?i)") {
            Some(rest) => (true, rest),
            None => (false, src),
        };
        let literals = crate::defs::literals::required_literals(rest)?;
        let ac = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(folded)
            .build(&literals)
            .ok()?;
        let wide = literals.iter().flatten().any(|b| !b.is_ascii());
        Some(Sieve { ac, wide, folded })
    }

    /// Whether `line` (raw bytes, without its line end) may hold a match; `buf` is room the caller
    /// reuses for the line without its escape sequences.
    pub fn passes(&self, line: &[u8], buf: &mut Vec<u8>) -> bool {
        let ascii = line.is_ascii();
        if !ascii {
            if self.wide {
                return true;
            }
            // Read lossily, the record's text is not these bytes.
            if std::str::from_utf8(line).is_err() {
                return true;
            }
            if self.folded
                && FOLD_TO_ASCII
                    .iter()
                    .any(|c| memchr::memmem::find(line, c.as_bytes()).is_some())
            {
                return true;
            }
        }
        if memchr::memchr(0x1b, line).is_none() {
            return self.ac.is_match(line);
        }
        crate::parse::ansi::strip_ansi_into(line, buf);
        self.ac.is_match(buf.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_that_may_match_pass_and_others_do_not() {
        let b = &mut Vec::new();
        let s = Sieve::new(&Regex::new("(?i)channel closed").unwrap()).unwrap();
        assert!(s.passes(b"2026 ERROR Channel Closed by peer", b));
        assert!(
            s.passes(b"x \x1b[31mchannel\x1b[0m closed", b),
            "colour inside the words"
        );
        assert!(
            s.passes("chann\u{e9}l clo\u{17f}ed".as_bytes(), b),
            "ſ folds to s"
        );
        assert!(
            !s.passes("caf\u{e9} channel open".as_bytes(), b),
            "other non-ASCII"
        );
        assert!(!s.passes(b"channel open", b));
        assert!(
            s.passes(b"channel \xff open", b),
            "read lossily: not these bytes"
        );
        let exact = Sieve::new(&Regex::new("Ratchet v[0-9]+").unwrap()).unwrap();
        assert!(!exact.passes(b"ratchet v8", b), "case kept");
        assert!(
            !exact.passes("Ratchét".as_bytes(), b),
            "ASCII literal, no folding"
        );
        assert!(exact.passes(b"a Ratchet v9", b));
        assert!(
            Sieve::new(&Regex::new(r"\d+").unwrap()).is_none(),
            "no literal"
        );
    }
}
