//! Which events each rule pattern can match, found in one pass over the timeline.
//!
//! Every pattern's regex is reduced to literals that any match must start (or end) with, as ripgrep
//! does; one Aho-Corasick automaton over all of them scans each event's text once, and a pattern's
//! regex then runs only on the events holding one of its literals. Without this every rule ran a
//! `RegexSet` over every event: a third of `diag check`'s time on large inputs.

use super::load::{Pattern, Rule};
use crate::model::{Event, Timeline};
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use crate::defs::literals::required_literals;

/// Candidate events per pattern regex, for the patterns that have required literals.
#[derive(Debug, Default)]
pub struct Prefilter {
    /// Regex source → sorted event indices whose text holds one of its literals.
    candidates: HashMap<String, Vec<u32>>,
}

/// One Aho-Corasick automaton over the literals of a rule set, and which regexes own each literal.
#[derive(Debug)]
struct Automaton {
    /// The regexes with literals, sorted; the cache key.
    regexes: Vec<String>,
    /// Per literal (the automaton's pattern index), the regexes (indices into `regexes`) needing it.
    owners: Vec<Vec<usize>>,
    ac: AhoCorasick,
}

impl Automaton {
    /// The automaton for `rules`, built once per distinct rule set: the TUI's reloads, `rules test`
    /// and repeated runs in one process reuse it (building it costs more than scanning a small log).
    fn for_rules(rules: &[&Rule]) -> Option<Arc<Automaton>> {
        static LAST: Mutex<Option<Arc<Automaton>>> = Mutex::new(None);
        let mut regexes: Vec<(&str, &[Vec<u8>])> = rules
            .iter()
            .flat_map(|r| r.all_patterns())
            .filter_map(|p| Some((p.regex.as_str(), p.literals.as_deref()?)))
            .collect();
        regexes.sort_unstable_by_key(|(re, _)| *re);
        regexes.dedup_by_key(|(re, _)| *re);
        let mut last = LAST.lock().ok();
        if let Some(a) = last.as_ref().and_then(|l| l.as_ref()) {
            if a.regexes.len() == regexes.len()
                && a.regexes.iter().zip(&regexes).all(|(x, (y, _))| x == y)
            {
                return Some(Arc::clone(a));
            }
        }
        let (literals, owners) = literal_owners(regexes.iter().map(|(_, lits)| *lits));
        let ac = AhoCorasick::new(&literals).ok()?;
        let a = Arc::new(Automaton {
            regexes: regexes.iter().map(|(re, _)| re.to_string()).collect(),
            owners,
            ac,
        });
        if let Some(l) = last.as_mut() {
            **l = Some(Arc::clone(&a));
        }
        Some(a)
    }
}

/// The distinct literals of a list of regexes (each given by the literals one of which its matches
/// hold), and per literal the regexes (by position in the list) that need it.
pub(super) fn literal_owners<'a>(
    regexes: impl IntoIterator<Item = &'a [Vec<u8>]>,
) -> (Vec<&'a [u8]>, Vec<Vec<usize>>) {
    let mut literals: Vec<&[u8]> = Vec::new();
    let mut owners: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    for (r, lits) in regexes.into_iter().enumerate() {
        for l in lits {
            let li = *index.entry(l.as_slice()).or_insert_with(|| {
                literals.push(l.as_slice());
                owners.push(Vec::new());
                literals.len() - 1
            });
            if let Some(o) = owners.get_mut(li) {
                o.push(r);
            }
        }
    }
    (literals, owners)
}

impl Prefilter {
    /// Scan the timeline once for the literals of every pattern of `rules`.
    pub fn build(tl: &Timeline, rules: &[&Rule]) -> Prefilter {
        Self::build_with(tl, rules, PARALLEL_MIN)
    }

    /// [`Prefilter::build`], splitting the scan from `parallel_min` events on.
    fn build_with(tl: &Timeline, rules: &[&Rule], parallel_min: usize) -> Prefilter {
        let Some(auto) = Automaton::for_rules(rules) else {
            return Prefilter::default();
        };
        // One scan over every event's text: split between the cores, each piece's lists in event
        // order, joined in piece order (so each list stays sorted).
        let events = tl.events.get(..u32::MAX as usize).unwrap_or(&tl.events);
        let parts = crate::par::pieces(events, parallel_min, |at, piece| scan(&auto, at, piece));
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); auto.regexes.len()];
        for part in parts {
            for (all, mut some) in lists.iter_mut().zip(part) {
                all.append(&mut some);
            }
        }
        // Positions among the held events, as indices of the whole timeline.
        if let Some(sp) = &tl.sparse {
            for list in &mut lists {
                for k in list.iter_mut() {
                    *k = sp
                        .at
                        .get(*k as usize)
                        .and_then(|&i| u32::try_from(i).ok())
                        .unwrap_or(u32::MAX);
                }
                list.retain(|&k| k != u32::MAX);
            }
        }
        Prefilter {
            candidates: auto.regexes.iter().cloned().zip(lists).collect(),
        }
    }

    /// Per pattern of a list, the sorted events worth trying; `None` for a pattern with no required
    /// literal (every event must be tried).
    pub fn candidates<'a>(&'a self, pats: &[Pattern]) -> Vec<Option<&'a [u32]>> {
        pats.iter()
            .map(|p| self.candidates.get(p.regex.as_str()).map(Vec::as_slice))
            .collect()
    }
}

/// Whether an event can be a candidate of any pattern of a rule set, decided one event at a time:
/// what a two-pass `check` keeps of it (`crate::lean`). It keeps the whole event wherever
/// [`Prefilter::build`] would list it for some pattern. A clone compiles nothing again and has its
/// own regex caches: one per thread.
#[derive(Clone)]
pub struct Mentions {
    auto: Option<Arc<Automaton>>,
    /// The automaton's regexes, compiled (by index into its `regexes`): a literal only says where
    /// to try one.
    owned: Vec<Option<regex::Regex>>,
    /// Patterns without required literals, tried on every event.
    open: Vec<Open>,
    /// The triggers of the rules whose follow-ups are `open` follow-up patterns, each with the bits
    /// (by `open` pattern) of those follow-ups: an event a trigger matches arms them.
    arming: Vec<(regex::Regex, Bits)>,
}

/// A pattern without required literals.
#[derive(Clone)]
struct Open {
    re: regex::Regex,
    /// No condition (which could read more of the event than its match).
    plain: bool,
    /// Only an `absence` rule's follow-up, without keys, after triggers that have literals: the rule
    /// asks only whether some line of a source matches after each trigger (see [`Need::Part`]).
    follow_up: bool,
}

/// Follow-up patterns, one bit each (see [`Need::Part`]): pass 1 notes them on every record that
/// names a CID, so they are kept small.
pub type Bits = u32;

/// Most patterns without literals whose matches [`Need::Part`] can tell apart (one bit each).
const MAX_OPEN: usize = Bits::BITS as usize;

/// What rules can read of an event, by [`Mentions::need`].
#[derive(Debug, PartialEq, Eq)]
pub enum Need {
    /// Nothing: no pattern can match it.
    Nothing,
    /// All of it.
    Whole,
    /// Only this part of its message, which the patterns without literals match exactly as they
    /// match the whole (a CID shape that only asks "was a session named here").
    Part {
        /// The part.
        text: String,
        /// When every pattern that matched is only a follow-up (see `Open::follow_up`): which
        /// ones (bits by pattern). Such a match is read only as the first of its source after a
        /// trigger of its rule ([`Mentions::arms`]): of the matches of a source between two
        /// triggers, the first answers for all.
        follow_up: Option<Bits>,
    },
}

impl Mentions {
    /// The test for `rules`; `None` when a pattern matches empty text (it would match an event whose
    /// text was dropped, so every event must be kept).
    pub fn for_rules(rules: &[&Rule]) -> Option<Mentions> {
        let pats = || rules.iter().flat_map(|r| r.all_patterns());
        if pats().any(|p| p.regex.is_match("")) {
            return None;
        }
        // Where each regex is used: a follow-up only when every use is one.
        let only_follow_up = |re: &str| {
            rules.iter().all(|r| {
                let used = |ps: &[Pattern]| ps.iter().any(|p| p.regex.as_str() == re);
                let elsewhere = used(&r.patterns)
                    || used(&r.success)
                    || used(&r.triggers)
                    || used(&r.consequences);
                !elsewhere
                    && (!used(&r.expect)
                        || (r.kind == super::load::Kind::Absence
                            && r.key.is_empty()
                            && r.triggers.iter().all(|t| t.literals.is_some())))
            })
        };
        let mut open: Vec<Open> = pats()
            .filter(|p| p.literals.is_none())
            .map(|p| Open {
                re: p.regex.clone(),
                plain: p.condition.is_none(),
                follow_up: false,
            })
            .collect();
        open.sort_unstable_by(|a, b| a.re.as_str().cmp(b.re.as_str()).then(a.plain.cmp(&b.plain)));
        // The same regex with and without a condition: the one with keeps events whole.
        open.dedup_by(|later, first| later.re.as_str() == first.re.as_str());
        let few = open.len() <= MAX_OPEN;
        for o in &mut open {
            o.follow_up = few && o.plain && only_follow_up(o.re.as_str());
        }
        let mut arming: Vec<(regex::Regex, Bits)> = Vec::new();
        for (bit, o) in open.iter().enumerate().filter(|(_, o)| o.follow_up) {
            let b = Bits::from(1u8).checked_shl(bit as u32).unwrap_or(0);
            let expects = |r: &&&Rule| r.expect.iter().any(|p| p.regex.as_str() == o.re.as_str());
            for t in rules.iter().filter(expects).flat_map(|r| &r.triggers) {
                match arming
                    .iter_mut()
                    .find(|(re, _)| re.as_str() == t.regex.as_str())
                {
                    Some((_, bits)) => *bits |= b,
                    None => arming.push((t.regex.clone(), b)),
                }
            }
        }
        let auto = Automaton::for_rules(rules);
        let owned = auto.as_ref().map_or_else(Vec::new, |a| {
            a.regexes
                .iter()
                .map(|src| {
                    pats()
                        .find(|p| p.regex.as_str() == src)
                        .map(|p| p.regex.clone())
                })
                .collect()
        });
        Some(Mentions {
            auto,
            owned,
            open,
            arming,
        })
    }

    /// The follow-up patterns (bits, as in [`Need::Part`]) whose rules have a trigger that may match
    /// this event: tried on its message and on its whole record, as a trigger may be either.
    pub fn arms(&self, ev: &Event) -> Bits {
        let mut full = None;
        let mut bits = 0;
        for (re, b) in &self.arming {
            if bits & b == *b {
                continue;
            }
            let hit = re.is_match(&ev.message)
                || (!ev.continuation.is_empty()
                    && re.is_match(full.get_or_insert_with(|| ev.full_text())));
            if hit {
                bits |= b;
            }
        }
        bits
    }

    /// What some pattern could read of this event.
    pub fn need(&self, ev: &Event) -> Need {
        let full;
        let hay: &str = if ev.continuation.is_empty() {
            &ev.message
        } else {
            full = ev.full_text();
            &full
        };
        if let Some(a) = &self.auto {
            // A literal names the regexes worth trying; the event is read only if one matches (the
            // message or the whole record, as a pattern may try either).
            for m in a.ac.find_overlapping_iter(hay) {
                for &r in a.owners.get(m.pattern().as_usize()).into_iter().flatten() {
                    let tried = |re: &regex::Regex| {
                        re.is_match(&ev.message)
                            || (!ev.continuation.is_empty() && re.is_match(hay))
                    };
                    match self.owned.get(r) {
                        Some(Some(re)) if !tried(re) => {}
                        _ => return Need::Whole,
                    }
                }
            }
        }
        // The span of the message that every match of a pattern without literals lies in.
        let mut span: Option<(usize, usize)> = None;
        let mut follow_up: Option<Bits> = Some(0);
        for (bit, o) in self.open.iter().enumerate() {
            let (re, plain) = (&o.re, o.plain);
            let Some(m) = re.find(&ev.message) else {
                // A pattern may try the whole record (multi-line) and match only its later lines.
                if !ev.continuation.is_empty() && re.is_match(hay) {
                    return Need::Whole;
                }
                continue;
            };
            if !plain || !ev.continuation.is_empty() {
                return Need::Whole;
            }
            span = Some(span.map_or((m.start(), m.end()), |(s, e)| {
                (s.min(m.start()), e.max(m.end()))
            }));
            follow_up = match follow_up {
                Some(bits) if o.follow_up => {
                    Some(bits | Bits::from(1u8).checked_shl(bit as u32).unwrap_or(0))
                }
                _ => None,
            };
        }
        let Some((s, e)) = span else {
            return Need::Nothing;
        };
        let Some(part) = ev.message.get(s..e) else {
            return Need::Whole;
        };
        // The part must give every such pattern the same answer and the same captures as the whole
        // message; where it does not (a boundary the cut removed), the event stays whole.
        let same = self.open.iter().all(|Open { re, .. }| {
            match (re.captures(&ev.message), re.captures(part)) {
                (None, None) => true,
                (Some(a), Some(b)) => a
                    .iter()
                    .zip(b.iter())
                    .all(|(x, y)| x.map(|m| m.as_str()) == y.map(|m| m.as_str())),
                _ => false,
            }
        });
        if same {
            Need::Part {
                text: part.to_string(),
                follow_up,
            }
        } else {
            Need::Whole
        }
    }
}

/// Fewest events worth a second thread for the prefilter's scan.
const PARALLEL_MIN: usize = 32 * 1024;

/// Per regex of `auto`, the events of `piece` (the first at index `at`) whose text holds one of its
/// literals, in order.
fn scan(auto: &Automaton, at: usize, piece: &[Event]) -> Vec<Vec<u32>> {
    let (ac, owners) = (&auto.ac, &auto.owners);
    let mut lists: Vec<Vec<u32>> = vec![Vec::new(); auto.regexes.len()];
    let mut text = String::new();
    for (i, ev) in piece.iter().enumerate() {
        let Ok(i) = u32::try_from(at + i) else { break };
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
    lists
}

/// The distinct literals of every pattern of `rules` (sorted, lossy UTF-8), one per line as `rg -F -f`
/// reads them, and the (rule, regex) pairs that have none.
///
/// A literal that spans lines (`FAILED\n` of a multi-line record's pattern) is given as its longest
/// line: written whole, its line break would make an empty pattern that matches every line, and the
/// search it stands for would do nothing. A literal that is only line breaks narrows nothing: its
/// pattern is listed with those that have none.
pub fn literal_report(rules: &[Rule]) -> (Vec<String>, Vec<(String, String)>) {
    let mut lits: Vec<String> = Vec::new();
    let mut open: Vec<(String, String)> = Vec::new();
    for r in rules {
        for p in r.all_patterns() {
            let lines: Option<Vec<String>> = p
                .literals
                .as_ref()
                .and_then(|l| l.iter().map(|b| longest_line(b)).collect());
            match lines {
                Some(l) => lits.extend(l),
                None => open.push((r.info.id.clone(), p.text.clone())),
            }
        }
    }
    lits.sort_unstable();
    lits.dedup();
    open.sort_unstable();
    open.dedup();
    (lits, open)
}

/// The longest line of a literal (lossy UTF-8); `None` when it has no text between line breaks.
fn longest_line(lit: &[u8]) -> Option<String> {
    lit.split(|&b| b == b'\n' || b == b'\r')
        .filter(|l| !l.is_empty())
        .max_by_key(|l| l.len())
        .map(|l| String::from_utf8_lossy(l).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Event {
        Event {
            message: message.to_string(),
            level: Some(crate::model::Level::Info),
            ..Default::default()
        }
    }

    /// A `match` rule with these pattern regexes (its test cases are not run here).
    fn rules_of(regexes: &[&str]) -> Vec<Rule> {
        let pats: String = regexes
            .iter()
            .map(|re| format!("[[pattern]]\nregex = '{re}'\n"))
            .collect();
        let text = format!(
            "id = \"r\"\ntitle = \"t\"\nseverity = \"low\"\nkind = \"match\"\n\
             description = \"d\"\nremediation = \"r\"\n{pats}\
             [[test]]\nname = \"a\"\nexpect = 1\nlog = \"x\"\n\
             [[test]]\nname = \"b\"\nexpect = 0\nlog = \"y\"\n"
        );
        vec![crate::rules::load::load_rule("r.toml", &text).expect("rule")]
    }

    #[test]
    fn mentions_say_what_a_pattern_can_read_of_an_event() {
        let rules = rules_of(&[
            r"Session \d+ is already",
            r"(?:^|[^\d])\d{15,20}(?:[^\d]|$)",
        ]);
        let refs: Vec<&Rule> = rules.iter().collect();
        let m = Mentions::for_rules(&refs).unwrap();
        // The literal and its regex match: all of it.
        assert_eq!(
            m.need(&event("Session 42 is already connected")),
            Need::Whole
        );
        // The literal alone names a regex that does not match; the CID shape reads only its part.
        assert_eq!(
            m.need(&event(
                "GetSessions: Session 2575839661623456362 for user u"
            )),
            Need::Part {
                text: " 2575839661623456362 ".to_string(),
                follow_up: None
            }
        );
        assert_eq!(
            m.need(&event("GetSessions: Session 42 for user u")),
            Need::Nothing
        );
        assert_eq!(m.need(&event("nothing here")), Need::Nothing);
        // A record's later lines are tried too (a multi-line pattern reads them).
        let mut ev = event("first line");
        ev.continuation.push("Session 42 is already there".into());
        assert_eq!(m.need(&ev), Need::Whole);
    }

    #[test]
    fn a_part_that_would_match_otherwise_keeps_the_event_whole() {
        // `\B` needs a word character before the digits: cut out, the part no longer matches.
        let rules = rules_of(&[r"\B\d{3}\b"]);
        let refs: Vec<&Rule> = rules.iter().collect();
        let m = Mentions::for_rules(&refs).unwrap();
        assert_eq!(m.need(&event("code ab123 seen")), Need::Whole);
        assert_eq!(m.need(&event("code 12 seen")), Need::Nothing);
        // A pattern that matches an empty line would match every stub: no test is possible.
        let rules = rules_of(&[r"^x*$"]);
        let refs: Vec<&Rule> = rules.iter().collect();
        assert!(Mentions::for_rules(&refs).is_none());
    }

    #[test]
    fn literals_are_reported_one_line_each() {
        assert_eq!(longest_line(b"FAILED\n"), Some("FAILED".to_string()));
        assert_eq!(longest_line(b"ab\r\nlonger"), Some("longer".to_string()));
        assert_eq!(longest_line(b"\n"), None);
        // The built-in rules: no reported literal is empty or spans lines (an empty line in an
        // `rg -F -f` file matches every line).
        let rules = crate::rules::load::load_rules(None).expect("built-in rules");
        let (lits, _) = literal_report(&rules);
        assert!(!lits.is_empty());
        assert!(lits
            .iter()
            .all(|l| !l.is_empty() && !l.contains(['\n', '\r'])));
        assert!(lits.iter().any(|l| l == "FAILED"));
    }

    /// The prefilter changes no hit: on the seed and on a multi-process fault, every pattern list of
    /// every built-in rule gives the same hits (event, pattern, captures) with it as without it.
    #[test]
    fn prefiltered_hits_equal_full_scan_hits() {
        use crate::rules::engine::hits_in;
        let (seed, multi) = (crate::fixtures::SEED, crate::fixtures::MULTI_PEER_KILLED);
        let rules = crate::rules::load::load_rules(None).expect("rules");
        let mut prefiltered_lists = 0;
        for sources in [&seed[..], &multi[..]] {
            let tl = crate::pipeline::timeline_of(sources).expect("timeline");
            let refs: Vec<&Rule> = rules.iter().collect();
            let pf = Prefilter::build(&tl, &refs);
            // The scan split between threads gives the same lists as one scan.
            let split = Prefilter::build_with(&tl, &refs, 1);
            assert_eq!(split.candidates, pf.candidates);
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
                    if !list.is_empty() && pf.candidates(list).iter().all(Option::is_some) {
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

    #[test]
    fn a_list_mixing_literal_and_open_patterns_equals_the_full_scan() {
        use crate::rules::engine::hits_in;
        let rule = r#"
id = "mixed"
title = "mixed"
severity = "low"
kind = "match"
description = "w"
remediation = "f"
caused_by = []
[[pattern]]
regex = '(?:^|[^\d])(?P<n>\d{15,20})(?:[^\d]|$)'
[[pattern]]
regex = 'connection refused by (?P<who>\w+)'
[[test]]
name = "hit"
expect = 1
log = "connection refused by x"
[[test]]
name = "miss"
expect = 0
log = "fine"
"#;
        let r = crate::rules::load::load_rule("mixed.toml", rule).expect("rule");
        assert!(r.patterns.first().is_some_and(|p| p.literals.is_none()));
        assert!(r.patterns.get(1).is_some_and(|p| p.literals.is_some()));
        let log = "2025-01-01T00:00:00Z INFO a: connection refused by server\n                   2025-01-01T00:00:01Z INFO a: nothing here\n                   2025-01-01T00:00:02Z INFO a: client 123456789012345678 joined\n                   2025-01-01T00:00:03Z INFO a: connection refused by 123456789012345678\n";
        let tl = crate::pipeline::timeline_of(&[("svc", log)]).expect("timeline");
        let pf = Prefilter::build(&tl, &[&r]);
        let key = |h: &crate::rules::engine::Hit| (h.event, h.pattern, format!("{:?}", h.caps));
        let with: Vec<_> = hits_in(&tl, &r.patterns, Some(&pf))
            .iter()
            .map(key)
            .collect();
        let without: Vec<_> = hits_in(&tl, &r.patterns, None).iter().map(key).collect();
        assert_eq!(with, without);
        assert_eq!(with.len(), 3, "{with:?}");
    }
}
