//! The timeline `diag check` needs, read in two passes: a sparse timeline that holds only the events
//! some rule can read, each at its index in the whole timeline.
//!
//! Pass 1 is [`stream::plan`]. Pass 2 ([`stream::replay`]) hands every event on in timeline order;
//! its template is computed then (templates count every event). What a rule can read of an event:
//! - a match of one of its patterns: a literal of the pattern found and its regex matching
//!   ([`Mentions`]), held whole;
//! - a warning or an error (severity by phase tests whether a later one is benign), or a template a
//!   generic rule watches (its level, or an INFO template whose text names a failure): held whole;
//! - the last events of each source (`process-vanished` ends its evidence with a source's last
//!   line): held whole;
//! - a match of a pattern without literals (a CID shape): held with only the part of its message
//!   the pattern matches; when the pattern is only an `absence` rule's follow-up, only the first
//!   such match of a source after each trigger of its rule (see [`Need::Part`]).
//!
//! Of the events not held, rules read only the CIDs (`process-vanished`, accounting and severity by
//! phase ask which CIDs a source names): those are kept per source ([`crate::model::Sparse`]).
//! Every index is the one the held timeline gives, so windows, echo merging and causal links decide
//! as they do there; `tests/differential.rs` holds the two to the same reports byte for byte.

use crate::model::{Event, Level, Timeline};
use crate::rules::load::{Kind, Rule};
use crate::rules::prefilter::{Mentions, Need};
use crate::stream::{self, PassError, Plan};
use crate::templates::{self, Template, Templates};
use std::collections::VecDeque;

/// How many times `--max-events` a stream may have here. A held timeline costs about 0.6 KB per
/// event; this one about 0.2 KB per event read on a service log (a quarter of the events held), but
/// up to the same 0.6 KB on a log whose every line a rule reads.
pub const CAP_FACTOR: f64 = 1.5;

/// Last events of each source kept whole: at least `process-vanished`'s tail.
const TAIL: usize = 16;

/// Which events a rule set can read.
pub struct Keep {
    mentions: Mentions,
    /// Generic rules' watched levels, and the words that make an INFO template watched.
    generic: Vec<(Vec<Level>, Option<regex::Regex>)>,
}

impl Keep {
    /// The test for these rules; `None` when every event must be held (a pattern matches empty
    /// text, so it could match what was dropped).
    pub fn for_rules(rules: &[&Rule]) -> Option<Keep> {
        let generic = rules
            .iter()
            .filter(|r| matches!(r.kind, Kind::Storm | Kind::Novel))
            .map(|r| (r.levels.clone(), r.info_words.clone()))
            .collect();
        Some(Keep {
            mentions: Mentions::for_rules(rules)?,
            generic,
        })
    }

    /// Whether a generic rule or severity by phase reads the events of this template.
    fn template(&self, tp: &Template) -> bool {
        matches!(tp.level, Level::Warn | Level::Error)
            || self.generic.iter().any(|(levels, words)| {
                levels.contains(&tp.level)
                    || (tp.level == Level::Info
                        && words.as_ref().is_some_and(|w| w.is_match(&tp.text)))
            })
    }
}

/// A timeline for `check`, its templates, and what pass 2 saw.
pub struct Lean {
    /// A sparse timeline: the events a rule can read, each at its index in the whole timeline.
    pub timeline: Timeline,
    /// The template of every event, held or not.
    pub templates: Templates,
    /// Events the inputs gained after pass 1 read them (left out).
    pub extra: u64,
}

/// Keep only the part of an event a pattern without literals reads (and its CIDs, its place).
fn strip(ev: &mut Event, part: String) {
    ev.message = part;
    ev.continuation = Default::default();
    ev.fields = Default::default();
    ev.uuids = Default::default();
    ev.msgid_prefixes = Default::default();
    ev.users = Default::default();
    ev.names = Default::default();
}

/// An event waiting in its source's tail: its index in the whole timeline, and the event.
type Held = (usize, Event);

/// The events of pass 2 as they arrive: templates a block at a time, then held or dropped.
struct Filler<'k> {
    keep: &'k Keep,
    cids: &'k crate::model::CidDirectory,
    /// Every extractor: pass 2 parses with the CID ones alone (all a dropped event leaves), and an
    /// event held whole gets the rest here.
    extract: &'k crate::defs::Extractors,
    shared: crate::intern::Interner,
    builder: templates::Builder,
    block: Vec<Event>,
    /// Events seen so far (the next one's index in the whole timeline).
    seen: usize,
    /// Held events and their indices in the whole timeline, in the order they were decided
    /// (sorted at the end: an event waits in its source's tail until later ones push it out). Two
    /// lists, not one of pairs: the timeline takes the events as they are, without a copy.
    at: Vec<usize>,
    held: Vec<Event>,
    /// Per source, the CIDs that dropped events named.
    unheld: Vec<std::collections::BTreeSet<u64>>,
    /// Per template (index into the builder's list): whether its events are kept.
    watched: Vec<bool>,
    /// Per source, the last events not kept for their own sake, newest last, with the part a
    /// pattern reads of each: held cut to that part, or dropped, when they leave.
    tails: Vec<VecDeque<(Held, Option<String>)>>,
    /// Per follow-up pattern (bit), the events seen so far that a trigger of its rule may match;
    /// per (source, follow-up pattern), that count when its last match was held.
    armed: [u64; 64],
    firsts: std::collections::HashMap<(usize, u32), u64>,
}

impl Filler<'_> {
    fn push(&mut self, ev: Event) {
        self.block.push(ev);
        if self.block.len() >= self.builder.block() {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.builder.add(&self.block);
        let tpl = self.builder.templates();
        for tp in tpl.list.iter().skip(self.watched.len()) {
            self.watched.push(self.keep.template(tp));
        }
        let block = std::mem::take(&mut self.block);
        let first = self.seen;
        let watched: Vec<bool> = (first..first + block.len())
            .map(|i| {
                tpl.of_event
                    .get(i)
                    .and_then(|&t| self.watched.get(t as usize))
                    .copied()
                    .unwrap_or(true)
            })
            .collect();
        for (ev, by_template) in block.into_iter().zip(watched) {
            let i = self.seen;
            self.seen += 1;
            let need = if by_template {
                Need::Whole
            } else {
                self.keep.mentions.need(&ev)
            };
            let source = ev.source;
            let part = match need {
                Need::Whole => {
                    let bits = self.keep.mentions.arms(&ev);
                    if bits != 0 {
                        for (bit, n) in self.armed.iter_mut().enumerate() {
                            if bits & (1u64 << bit) != 0 {
                                *n += 1;
                            }
                        }
                    }
                    self.hold(i, ev);
                    continue;
                }
                Need::Part {
                    text,
                    follow_up: None,
                } => Some(text),
                Need::Part {
                    text,
                    follow_up: Some(bits),
                } => self.first_since_trigger(source, bits).then_some(text),
                Need::Nothing => None,
            };
            if self.tails.len() <= source {
                self.tails.resize_with(source + 1, VecDeque::new);
            }
            let left = self.tails.get_mut(source).and_then(|tail| {
                tail.push_back(((i, ev), part));
                if tail.len() > TAIL {
                    tail.pop_front()
                } else {
                    None
                }
            });
            if let Some(((j, ev), part)) = left {
                self.leave(j, ev, part);
            }
        }
    }

    /// Hold an event whole, with every entity and field the extractors find in it.
    fn hold(&mut self, i: usize, mut ev: Event) {
        self.extract.apply_shared(&mut ev, &mut self.shared);
        self.at.push(i);
        self.held.push(ev);
    }

    /// Whether a follow-up match (of the patterns in `bits`) is the first of its source since the
    /// last trigger of its rule, for one of those patterns: only such a one can answer a trigger
    /// (the rule asks whether some follow-up comes after the trigger, within its window, and the
    /// first of each source after it is the nearest there).
    fn first_since_trigger(&mut self, source: usize, bits: u64) -> bool {
        let mut first = false;
        for (bit, &armed) in self.armed.iter().enumerate() {
            if bits & (1u64 << bit) == 0 {
                continue;
            }
            let at = self.firsts.entry((source, bit as u32)).or_insert(u64::MAX);
            if *at != armed {
                *at = armed;
                first = true;
            }
        }
        first
    }

    /// An event leaves its source's tail: held cut to the part a pattern reads, or dropped (its
    /// CIDs noted for its source).
    fn leave(&mut self, i: usize, mut ev: Event, part: Option<String>) {
        match part {
            Some(p) => {
                strip(&mut ev, p);
                self.at.push(i);
                self.held.push(ev);
            }
            None => {
                if self.unheld.len() <= ev.source {
                    self.unheld.resize_with(ev.source + 1, Default::default);
                }
                if let Some(set) = self.unheld.get_mut(ev.source) {
                    set.extend(ev.cids.iter().filter_map(|c| self.cids.resolve(c)));
                }
            }
        }
    }
}

/// Put `events` in the order of their indices `at` (distinct), moving each event once in place: a
/// sorted copy would hold every held event twice at the peak.
fn sort_together(at: &mut [usize], events: &mut [Event]) {
    if at.is_sorted() {
        return;
    }
    let mut order: Vec<usize> = (0..at.len()).collect();
    order.sort_unstable_by_key(|&k| at.get(k).copied().unwrap_or(usize::MAX));
    // Where each event goes: its rank among the indices.
    let mut target = vec![0; order.len()];
    for (rank, &k) in order.iter().enumerate() {
        if let Some(t) = target.get_mut(k) {
            *t = rank;
        }
    }
    crate::correlate::merge::permute(events, &mut target);
    at.sort_unstable();
}

/// Pass 2 over the plan's inputs: a sparse timeline of the events a rule of `keep` can read, each
/// placed as the whole timeline places it.
pub fn fill(reg: &crate::defs::Registry, plan: Plan, keep: &Keep) -> Result<Lean, PassError> {
    let mut f = Filler {
        keep,
        cids: &plan.timeline.cids,
        extract: &reg.entities,
        shared: Default::default(),
        builder: templates::Builder::new(plan.events()),
        block: Vec::new(),
        seen: 0,
        at: Vec::new(),
        held: Vec::new(),
        unheld: Vec::new(),
        watched: Vec::new(),
        tails: Vec::new(),
        armed: [0; 64],
        firsts: Default::default(),
    };
    let mut light = reg.clone();
    light.entities = reg.entities.for_cids();
    let extra = stream::replay(&light, &plan, |_, ev| {
        f.push(ev);
        Ok(())
    })?;
    f.flush();
    // The last events of each source stay whole.
    for tail in std::mem::take(&mut f.tails) {
        for ((i, ev), _) in tail {
            f.hold(i, ev);
        }
    }
    // Decided out of order only by the tails' wait: nearly sorted already.
    sort_together(&mut f.at, &mut f.held);
    let (at, events) = (f.at, f.held);
    let seen = f.seen;
    let templates = f.builder.finish();
    let cids = f
        .unheld
        .into_iter()
        .map(|set| set.into_iter().collect())
        .collect();
    let mut timeline = plan.timeline;
    timeline.events = events;
    timeline.sparse = Some(Box::new(crate::model::Sparse {
        at,
        total: seen,
        cids,
    }));
    Ok(Lean {
        timeline,
        templates,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Registry;
    use crate::rules::{self, Selection};
    use std::sync::atomic::AtomicU64;

    /// Sorting in place by cycles gives what a sort of the pairs gives, whatever the permutation.
    #[test]
    fn sort_together_orders_events_by_their_index() {
        let cases: Vec<Vec<usize>> = vec![
            vec![],
            vec![5],
            vec![1, 2, 3],
            vec![3, 1, 2],
            vec![9, 0, 7, 3, 5, 1, 8, 2],
            (0..50).rev().collect(),
            (0..40).map(|i| (i * 17) % 41).collect(),
        ];
        for at in cases {
            let mut events: Vec<Event> = at
                .iter()
                .map(|i| Event {
                    message: format!("e{i}"),
                    ..Default::default()
                })
                .collect();
            let mut sorted = at.clone();
            sort_together(&mut sorted, &mut events);
            let mut want = at.clone();
            want.sort_unstable();
            assert_eq!(sorted, want);
            let msgs: Vec<String> = events.iter().map(|e| e.message.clone()).collect();
            let want: Vec<String> = want.iter().map(|i| format!("e{i}")).collect();
            assert_eq!(msgs, want, "{at:?}");
        }
    }

    const SITE: &str = " INFO citadel: citadel-internal-service/src/kernel/mod.rs:40:";

    /// Findings (rule, title, evidence) of a held and of a two-pass analysis of these files, and the
    /// two-pass timeline.
    fn both(files: &[(&str, String)]) -> (Vec<String>, Vec<String>, Timeline) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let reg = Registry::load(None).unwrap();
        let opts = crate::correlate::Options::default();
        let inputs = crate::source::expand_all(&[dir.path().display().to_string()])
            .unwrap()
            .inputs;
        let all = rules::load::load_rules(None).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        let profile = crate::profile::Profile::builtin().unwrap_or_default();
        let sel = Selection::default();
        let summary = |a: &rules::finding::Analysis| -> Vec<String> {
            a.findings
                .iter()
                .map(|f| {
                    let ev: Vec<usize> = f.evidence.iter().map(|e| e.event).collect();
                    format!("{} {} {ev:?}", f.rule, f.title)
                })
                .collect()
        };
        let (tl, _) = crate::pipeline::load(&reg, &inputs, None, &opts).unwrap();
        let held = summary(&rules::run_with(&all, &sel, tl, &profile));
        let plan = stream::plan(&reg, &inputs, None, &opts, &AtomicU64::new(0)).unwrap();
        let keep = Keep::for_rules(&active).unwrap();
        let lean = fill(&reg, plan, &keep).unwrap();
        let tl = lean.timeline.clone();
        let found = rules::run_prepared(&all, &sel, lean.timeline, lean.templates, &profile).0;
        (held, summary(&found), tl)
    }

    /// `n` lines no rule reads.
    fn filler(n: usize) -> String {
        (0..n)
            .map(|i| format!("{SITE} Heartbeat tick {i} handled\n"))
            .collect()
    }

    #[test]
    fn events_no_rule_reads_are_dropped_and_the_findings_stay() {
        // A panic (a rule's literal), a warning, a CID named only in passing, and filler lines.
        let log = format!(
            "{}{SITE} Peer 2575839661623456362 keep-alive ok\n{} WARN citadel: a/b.rs:9: Slow disk\n\
             {}ERROR citadel: a/c.rs:3: Panic occurred: panicked at a/c.rs:3:1:\n{}",
            filler(30),
            filler(30),
            filler(30),
            filler(30)
        );
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert!(held.iter().any(|f| f.starts_with("panic ")), "{held:?}");
        assert_eq!(held, lean);
        let by_text = |t: &str| tl.events.iter().find(|e| e.message.contains(t));
        assert!(
            by_text("Panic occurred").is_some(),
            "a rule's line is whole"
        );
        assert!(by_text("Slow disk").is_some(), "a warning is whole");
        // The CID line keeps the part the CID-shaped pattern reads, and its CID.
        let cid = tl
            .events
            .iter()
            .find(|e| e.message.trim() == "2575839661623456362")
            .expect("the CID line's part");
        assert_eq!(cid.cids.len(), 1);
        // Filler is not held, but the last lines of the source are, whole; every held event
        // keeps its index in the whole timeline.
        let dropped = tl.len() - tl.events.len();
        assert!(dropped >= 100, "{dropped} dropped");
        assert_eq!(tl.len(), 123);
        let (i, last) = tl.indexed().next_back().unwrap();
        assert_eq!(i, 122);
        assert!(last.message.contains("Heartbeat tick 29"));
        assert!(tl.event(40).is_none());
        // Walking from an index skips to the first held event at or after it.
        for from in 0..=tl.len() {
            let walked: Vec<usize> = tl.indexed_from(from).map(|(i, _)| i).collect();
            let filtered: Vec<usize> = tl
                .indexed()
                .map(|(i, _)| i)
                .filter(|&i| i >= from)
                .collect();
            assert_eq!(walked, filtered, "from {from}");
        }
        assert!(tl
            .event(30)
            .is_some_and(|e| e.message.contains("2575839661623456362")));
        assert!(tl
            .events
            .iter()
            .rev()
            .take(TAIL)
            .all(|e| e.message.contains("Heartbeat")));
    }

    #[test]
    fn a_cid_named_in_passing_still_answers_an_absence_rule() {
        // `milestone-not-reached` asks whether any line after the node started names a session's
        // CID; here only a line no other rule reads does, far from the end.
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Peer 2575839661623456362 keep-alive ok\n{}",
            filler(5),
            filler(40)
        );
        let (held, lean, tl) = both(&[("service.log", log.clone())]);
        assert!(
            !held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
        assert!(tl
            .event(6)
            .is_some_and(|e| e.message.contains("2575839661623456362")));
        // Without the CID line the rule fires: the line above is what answers it.
        let without = log.replace(
            " Peer 2575839661623456362 keep-alive ok",
            " Peer keep-alive ok",
        );
        let (held, lean, _) = both(&[("service.log", without)]);
        assert!(
            held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
    }

    #[test]
    fn of_cids_named_in_passing_the_first_after_each_trigger_is_held() {
        // Two nodes start; each is followed by many lines naming a CID. Only the first after each
        // start can answer `milestone-not-reached`; the others are not held, and the findings are
        // the same.
        let cid_lines = |n: usize| -> String {
            (0..n)
                .map(|i| format!("{SITE} Peer 25758396616234{i:05} keep-alive ok\n"))
                .collect()
        };
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Citadel client established\n{}{}",
            cid_lines(50),
            cid_lines(50),
            filler(20)
        );
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert_eq!(held, lean);
        assert!(!held.iter().any(|f| f.starts_with("milestone-not-reached")));
        let named: Vec<usize> = tl
            .indexed()
            .filter(|(_, e)| e.message.contains("2575839661623"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(named, vec![1, 52], "the first CID line after each start");
        // Where the second start has no CID line after it, the rule fires on it, held or not.
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Citadel client established\n{}",
            cid_lines(50),
            filler(20)
        );
        let (held, lean, _) = both(&[("service.log", log)]);
        assert!(
            held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
        // Lines held whole for another reason (warnings, a rule's own line) between the starts do
        // not make the next CID line one to hold: only a trigger of the rule does.
        let warn = " WARN citadel: citadel-internal-service/src/kernel/mod.rs:41:";
        let noisy: String = (0..5)
            .map(|k| {
                format!(
                    "{warn} Slow disk {k}\n{SITE} WebSocket connected successfully\n{}",
                    cid_lines(10)
                )
            })
            .collect();
        let log = format!(
            "{SITE} Citadel client established\n{}{SITE} Citadel client established\n{noisy}{}",
            cid_lines(5),
            filler(20)
        );
        let (held, lean, tl) = both(&[("service.log", log)]);
        assert_eq!(held, lean);
        let named: Vec<usize> = tl
            .indexed()
            .filter(|(_, e)| e.message.contains("2575839661623"))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            named,
            vec![1, 9],
            "the first CID line after each start, no other"
        );
    }

    #[test]
    fn a_rule_that_matches_an_empty_line_keeps_every_event() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("anything.toml"),
            "id = \"anything\"\ntitle = \"t\"\nseverity = \"low\"\nkind = \"match\"\n\
             description = \"d\"\nremediation = \"r\"\n[[pattern]]\nregex = '^x*$'\n\
             [[test]]\nname = \"x\"\nexpect = 1\nlog = \"xx\"\n\
             [[test]]\nname = \"y\"\nexpect = 0\nlog = \"yy\"\n",
        )
        .unwrap();
        let all = rules::load::load_rules(Some(dir.path())).unwrap();
        let active: Vec<&Rule> = all.iter().collect();
        assert!(Keep::for_rules(&active).is_none());
        let builtin = rules::load::load_rules(None).unwrap();
        let active: Vec<&Rule> = builtin.iter().collect();
        assert!(Keep::for_rules(&active).is_some());
    }
}
