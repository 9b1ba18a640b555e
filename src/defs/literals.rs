//! Literals a regex's every match must hold: what a prefilter searches for (one Aho-Corasick pass)
//! before any regex runs. Rules' patterns use it, and so do the anchors correlation scans for.

use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};

/// Shortest literal worth searching for: shorter ones match nearly every line.
const MIN_LITERAL: usize = 3;
/// More alternatives than this (case variants of a long word) cost more than the regex saves.
const MAX_LITERALS: usize = 64;

/// Literals one of which every match of `re` holds; `None` when there is no short list of useful ones.
pub fn required_literals(re: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(re).ok()?;
    required(&hir)
}

/// Literals one of which every match of `hir` holds: what it starts or ends with, else what one part
/// of a concatenation must hold (the longest such), else, for an alternation, the union over branches.
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        if let Some(l) = useful(&Extractor::new().kind(kind).extract(hir)) {
            return Some(l);
        }
    }
    match hir.kind() {
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(required)
            .max_by_key(|l| l.iter().map(Vec::len).min().unwrap_or(0)),
        HirKind::Alternation(branches) => {
            let mut all: Vec<Vec<u8>> = Vec::new();
            for b in branches {
                all.extend(required(b)?);
            }
            all.sort_unstable();
            all.dedup();
            (all.len() <= MAX_LITERALS).then_some(all)
        }
        _ => None,
    }
}

/// The literals of a finite sequence, when there are few enough and each is long enough.
fn useful(seq: &Seq) -> Option<Vec<Vec<u8>>> {
    let lits = seq.literals()?;
    (!lits.is_empty()
        && lits.len() <= MAX_LITERALS
        && lits.iter().all(|l| l.as_bytes().len() >= MIN_LITERAL))
    .then(|| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_plain_alternations_and_their_absence() {
        let l = required_literals(r"Panic occurred|panicked at (?P<loc>\S+)").expect("literals");
        assert!(l.contains(&b"Panic occurred".to_vec()));
        assert!(l.contains(&b"panicked at ".to_vec()));
        // A match may start anywhere in a number: no literal is required.
        assert_eq!(required_literals(r"(?:^|[^\d])\d{15,20}(?:[^\d]|$)"), None);
        // Ends with a literal: the suffix serves.
        let s = required_literals(r"\d+ attempts failed").expect("suffix");
        assert!(s.iter().all(|x| x.ends_with(b"attempts failed")));
        // Too short to be worth it.
        assert_eq!(required_literals(r"ab|cd"), None);
        // Inside: a part of a concatenation every match must hold.
        let inner = required_literals(r"(?:^|\s)panicked at (?P<loc>\S+):\d+").expect("inner");
        assert_eq!(inner, vec![b"panicked at ".to_vec()]);
        let alt = required_literals(r"\w+ (?:timed out|deadline passed)").expect("alternation");
        assert_eq!(alt.len(), 2);
    }
}
