//! Which events each rule pattern can match, found in one pass over the timeline.
//!
//! Every pattern's regex is reduced to literals that any match must start (or end) with, as ripgrep
//! does; one Aho-Corasick automaton over all of them scans each event's text once, and a pattern's
//! regex then runs only on the events holding one of its literals. Without this every rule ran a
//! `RegexSet` over every event: a third of `diag check`'s time on large inputs.

use super::load::{Pattern, Rule};
use crate::model::Timeline;
use aho_corasick::AhoCorasick;
use regex_syntax::hir::literal::{ExtractKind, Extractor, Seq};
use regex_syntax::hir::{Hir, HirKind};
use std::collections::HashMap;

/// Shortest literal worth searching for: shorter ones match nearly every line.
const MIN_LITERAL: usize = 3;
/// More alternatives than this (case variants of a long word) cost more than the regex saves.
const MAX_LITERALS: usize = 64;

/// Candidate events per pattern regex, for the patterns that have required literals.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// Regex source → sorted event indices whose text holds one of its literals.
    candidates: HashMap<String, Vec<u32>>,
}

impl Prefilter {
    /// Scan the timeline once for the literals of every pattern of `rules`.
    pub fn build(tl: &Timeline, rules: &[Rule]) -> Prefilter {
        let mut regexes: Vec<&str> = rules
            .iter()
            .flat_map(|r| {
                r.patterns
                    .iter()
                    .chain(&r.success)
                    .chain(&r.triggers)
                    .chain(&r.consequences)
                    .chain(&r.expect)
            })
            .map(|p| p.regex.as_str())
            .collect();
        regexes.sort_unstable();
        regexes.dedup();
        // literal → the regexes (by index into `with_literals`) that require it
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut with_literals: Vec<&str> = Vec::new();
        for re in regexes {
            let Some(lits) = required_literals(re) else {
                continue;
            };
            let r = with_literals.len();
            with_literals.push(re);
            for l in lits {
                let li = *index.entry(l.clone()).or_insert_with(|| {
                    literals.push(l);
                    owners.push(Vec::new());
                    literals.len() - 1
                });
                if let Some(o) = owners.get_mut(li) {
                    o.push(r);
                }
            }
        }
        let Ok(ac) = AhoCorasick::new(&literals) else {
            return Prefilter::default();
        };
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); with_literals.len()];
        let mut text = String::new();
        for (i, ev) in tl.events.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            let hay: &str = if ev.continuation.is_empty() {
                &ev.message
            } else {
                text.clear();
                text.push_str(&ev.message);
                for c in &ev.continuation {
                    text.push('\n');
                    text.push_str(c);
                }
                &text
            };
            for m in ac.find_overlapping_iter(hay) {
                for &r in owners.get(m.pattern().as_usize()).into_iter().flatten() {
                    if let Some(list) = lists.get_mut(r) {
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
            }
        }
        Prefilter {
            candidates: with_literals
                .into_iter()
                .map(str::to_string)
                .zip(lists)
                .collect(),
        }
    }

    /// (event, pattern index) pairs worth trying for a pattern list, by event then pattern; `None`
    /// when some pattern has no required literal (every event must be tried).
    pub fn candidates(&self, pats: &[Pattern]) -> Option<Vec<(u32, usize)>> {
        let mut out: Vec<(u32, usize)> = Vec::new();
        for (pi, p) in pats.iter().enumerate() {
            let list = self.candidates.get(p.regex.as_str())?;
            out.extend(list.iter().map(|&e| (e, pi)));
        }
        out.sort_unstable();
        Some(out)
    }
}

/// The distinct literals of every pattern of `rules` (sorted, lossy UTF-8), and the (rule, regex)
/// pairs that have none.
pub fn literal_report(rules: &[Rule]) -> (Vec<String>, Vec<(String, String)>) {
    let mut lits: Vec<String> = Vec::new();
    let mut open: Vec<(String, String)> = Vec::new();
    for r in rules {
        for p in r
            .patterns
            .iter()
            .chain(&r.success)
            .chain(&r.triggers)
            .chain(&r.consequences)
            .chain(&r.expect)
        {
            match required_literals(p.regex.as_str()) {
                Some(l) => lits.extend(l.iter().map(|b| String::from_utf8_lossy(b).into_owned())),
                None => open.push((r.info.id.clone(), p.regex.as_str().to_string())),
            }
        }
    }
    lits.sort_unstable();
    lits.dedup();
    open.sort_unstable();
    open.dedup();
    (lits, open)
}

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

    /// The prefilter changes no hit: on the seed and on a multi-process fault, every pattern list of
    /// every built-in rule gives the same hits (event, pattern, captures) with it as without it.
    #[test]
    fn prefiltered_hits_equal_full_scan_hits() {
        use crate::rules::engine::hits_in;
        let seed = [
            (
                "internal-service.log",
                include_str!("../../samples/seed/internal-service.log"),
            ),
            (
                "alice-tab0.playwright.log",
                include_str!("../../samples/seed/alice-tab0.playwright.log"),
            ),
            (
                "bob-tab1.devtools.log",
                include_str!("../../samples/seed/bob-tab1.devtools.log"),
            ),
        ];
        let multi = [
            (
                "citadel-server.log",
                include_str!(
                    "../../samples/faults/multi-peer-killed-mid-transfer/citadel-server.log"
                ),
            ),
            (
                "service-a.log",
                include_str!("../../samples/faults/multi-peer-killed-mid-transfer/service-a.log"),
            ),
            (
                "service-b.log",
                include_str!("../../samples/faults/multi-peer-killed-mid-transfer/service-b.log"),
            ),
        ];
        let rules = crate::rules::load::load_rules(None).expect("rules");
        let mut prefiltered_lists = 0;
        for sources in [&seed[..], &multi[..]] {
            let tl = crate::pipeline::timeline_of(sources).expect("timeline");
            let pf = Prefilter::build(&tl, &rules);
            for r in &rules {
                for list in [
                    &r.patterns,
                    &r.success,
                    &r.triggers,
                    &r.consequences,
                    &r.expect,
                ] {
                    let key = |h: &crate::rules::engine::Hit| {
                        (h.event, h.pattern, format!("{:?}", h.caps))
                    };
                    let with: Vec<_> = hits_in(&tl, list, Some(&pf)).iter().map(key).collect();
                    let without: Vec<_> = hits_in(&tl, list, None).iter().map(key).collect();
                    assert_eq!(with, without, "rule {}", r.info.id);
                    if !list.is_empty() && pf.candidates(list).is_some() {
                        prefiltered_lists += 1;
                    }
                }
            }
        }
        assert!(
            prefiltered_lists > 20,
            "only {prefiltered_lists} lists prefiltered"
        );
    }
}
