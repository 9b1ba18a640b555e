//! The timeline `diag check` needs, read in two passes: every event keeps its place, but only the
//! events some rule can read keep their text.
//!
//! Pass 1 is [`stream::plan`]. Pass 2 ([`stream::replay`]) hands every event on in timeline order;
//! its template is computed then (templates are counts over every event), and an event that no rule
//! can read is kept as a stub: its source, lines, times, level, call site and CIDs (which
//! `process-vanished`, accounting and severity by phase read of every event), without its message,
//! continuation lines and other entities. What a rule can read of an event:
//! - a literal of one of its patterns, or a match of a pattern without literals ([`Mentions`]);
//! - a warning or an error (severity by phase tests whether a later one is benign), or a template a
//!   generic rule watches (its level, or an INFO template whose text names a failure);
//! - the last events of each source (`process-vanished` ends its evidence with a source's last line).
//!
//! Of an event that only a pattern without literals matches (a CID shape), the part of its message
//! that pattern matches is kept.
//!
//! Every index stays what the held timeline gives, so windows, echo merging and causal links decide
//! as they do on a held timeline; `tests/differential.rs` holds the two to the same findings.

use crate::model::{Event, Level, Timeline};
use crate::rules::load::{Kind, Rule};
use crate::rules::prefilter::{Mentions, Need};
use crate::stream::{self, PassError, Plan};
use crate::templates::{self, Template, Templates};
use std::collections::VecDeque;

/// How many times `--max-events` a stream may hold here: a stub costs about 0.4 KB with its share
/// of the events kept whole, where a held event costs about 0.6 KB.
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
    /// The test for these rules; `None` when every event must be kept whole (a pattern matches
    /// empty text, so it would match a stub).
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
    /// Every event in timeline order; those no rule reads are stubs.
    pub timeline: Timeline,
    /// The template of every event.
    pub templates: Templates,
    /// Events kept whole.
    pub kept: usize,
    /// Events the inputs gained after pass 1 read them (left out).
    pub extra: u64,
}

/// Drop what no rule reads of an event: its text (but the part a pattern without literals reads) and
/// the entities other than CIDs.
fn strip(ev: &mut Event, part: Option<String>) {
    ev.message = part.unwrap_or_default();
    ev.continuation = Default::default();
    ev.fields = Default::default();
    ev.uuids = Default::default();
    ev.msgid_prefixes = Default::default();
    ev.users = Default::default();
    ev.names = Default::default();
}

/// The events of pass 2 as they arrive: templates a block at a time, then kept or stubbed.
struct Filler<'k> {
    keep: &'k Keep,
    builder: templates::Builder,
    block: Vec<Event>,
    events: Vec<Event>,
    /// Per template (index into the builder's list): whether its events are kept.
    watched: Vec<bool>,
    /// Per source, the events not kept for their own sake, newest last: stubbed when they leave.
    tails: Vec<VecDeque<(usize, Option<String>)>>,
    kept: usize,
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
        for ev in self.block.drain(..) {
            let i = self.events.len();
            let by_template = tpl
                .of_event
                .get(i)
                .and_then(|&t| self.watched.get(t as usize))
                .copied()
                .unwrap_or(true);
            let need = if by_template {
                Need::Whole
            } else {
                self.keep.mentions.need(&ev)
            };
            if need == Need::Whole {
                self.kept += 1;
            } else {
                let part = match need {
                    Need::Part(p) => Some(p),
                    _ => None,
                };
                if self.tails.len() <= ev.source {
                    self.tails.resize_with(ev.source + 1, VecDeque::new);
                }
                if let Some(tail) = self.tails.get_mut(ev.source) {
                    tail.push_back((i, part));
                    if tail.len() > TAIL {
                        if let Some((j, part)) = tail.pop_front() {
                            if let Some(old) = self.events.get_mut(j) {
                                strip(old, part);
                            }
                        }
                    }
                }
            }
            self.events.push(ev);
        }
    }
}

/// Pass 2 over the plan's inputs: the timeline with every event placed and stubbed where no rule of
/// `keep` reads it.
pub fn fill(reg: &crate::defs::Registry, plan: Plan, keep: &Keep) -> Result<Lean, PassError> {
    let mut f = Filler {
        keep,
        builder: templates::Builder::new(plan.events()),
        block: Vec::new(),
        events: Vec::with_capacity(plan.events()),
        watched: Vec::new(),
        tails: Vec::new(),
        kept: 0,
    };
    let extra = stream::replay(reg, &plan, |_, ev| {
        f.push(ev);
        Ok(())
    })?;
    f.flush();
    // The last events of each source stay whole.
    f.kept += f.tails.iter().map(VecDeque::len).sum::<usize>();
    let mut timeline = plan.timeline;
    timeline.events = f.events;
    Ok(Lean {
        timeline,
        templates: f.builder.finish(),
        kept: f.kept,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Registry;
    use crate::rules::{self, Selection};
    use std::sync::atomic::AtomicU64;

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
    fn events_no_rule_reads_are_stubs_and_the_findings_stay() {
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
        // Filler is a stub, but the last lines of the source are whole.
        let stubs = tl.events.iter().filter(|e| e.message.is_empty()).count();
        assert!(stubs >= 100, "{stubs} stubs");
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
        let (held, lean, _) = both(&[("service.log", log.clone())]);
        assert!(
            !held.iter().any(|f| f.starts_with("milestone-not-reached")),
            "{held:?}"
        );
        assert_eq!(held, lean);
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
