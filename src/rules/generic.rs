//! Generic rules: failures no named rule knows, found by comparing a run with healthy behaviour.
//!
//! - `storm`: one template repeated far above its healthy rate in one source;
//! - `novel`: an error or warning template that no healthy profile has;
//! - `accounting`: acknowledged sends against receipts per sender and receiver;
//! - and, for named `match` rules that ask for it, severity by consequence: a connection dropped at
//!   teardown is not the same failure as one dropped while the other sessions went on.
//!
//! Events that a named rule's finding already explains are left to that rule: one failure, one finding.
// Indexing cannot panic here: indices are positions the engine itself took from the vectors it indexes (events, findings, groups).
#![allow(clippy::indexing_slicing)]

use super::engine::{make_finding, resolve_cid, Hit, Matched};
use super::expr::Value;
use super::finding::{Evidence, Finding, WindowBasis};
use super::load::{Kind, Rule};
use crate::model::Level;
use crate::model::Timeline;
use crate::profile::Profile;
use crate::templates::{Template, Templates};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What generic rules look at besides the timeline.
pub struct Ctx<'a> {
    /// The correlated timeline.
    pub tl: &'a Timeline,
    /// The template of every event.
    pub templates: &'a Templates,
    /// Healthy templates, rates and the benign list.
    pub profile: &'a Profile,
    /// Events that findings of named rules already account for.
    pub explained: &'a HashSet<usize>,
}

/// Run a generic rule (`storm`, `novel`); other kinds give nothing here.
pub fn evaluate(rule: &Rule, cx: &Ctx) -> Vec<Finding> {
    match rule.kind {
        Kind::Storm => eval_storm(rule, cx),
        Kind::Novel => eval_novel(rule, cx),
        _ => Vec::new(),
    }
}

/// Events of each watched template, per source, that no named finding explains.
fn unexplained_by_template(
    cx: &Ctx,
    watched: &dyn Fn(&Template) -> bool,
) -> BTreeMap<(usize, usize), Vec<usize>> {
    // Decided once per template, not once per event (the tests are regexes and profile lookups).
    let watching: Vec<bool> = cx.templates.list.iter().map(watched).collect();
    let mut out: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
    // Every event a template is known for: all of them, or, after a two-pass read, the held ones
    // (every record of a watched template is held, whole or thin).
    for (i, t) in cx.templates.of_event.indexed() {
        let t = t as usize;
        if !watching.get(t).copied().unwrap_or(false) || cx.explained.contains(&i) {
            continue;
        }
        let src = cx.tl[i].source;
        out.entry((t, src)).or_default().push(i);
    }
    out
}

fn source_label(tl: &Timeline, s: usize) -> String {
    tl.sources
        .get(s)
        .map(|x| x.label.clone())
        .unwrap_or_default()
}

fn hits_of(events: &[usize]) -> Vec<Hit> {
    events
        .iter()
        .map(|&e| Hit {
            event: e,
            caps: Default::default(),
            echo: false,
            pattern: 0,
        })
        .collect()
}

fn short(text: &str, n: usize) -> String {
    let mut s: String = text.chars().take(n).collect();
    if text.chars().count() > n {
        s.push('…');
    }
    s
}

/// A finding for the events of one template in one source. Its title template can use `count`,
/// `template` (id), `template_text`, `level`, `level_word` (upper case), `source`, `example` (the first
/// line, shortened), `site` (` at file:line` or nothing) and whatever the rule adds in `extra`.
fn template_finding(
    rule: &Rule,
    cx: &Ctx,
    t: usize,
    src: usize,
    events: &[usize],
    example_chars: usize,
    extra: Vec<(String, Value)>,
) -> Option<Finding> {
    let tp = &cx.templates.list[t];
    let example = events
        .first()
        .map(|&e| cx.tl[e].message.as_str())
        .unwrap_or("");
    let site = tp
        .site_line
        .as_deref()
        .map(|s| format!(" at {}", s.rsplit('/').next().unwrap_or(s)))
        .unwrap_or_default();
    let mut vals = vec![
        ("count".to_string(), Value::Int(events.len() as i128)),
        ("template".to_string(), Value::Str(tp.id.clone())),
        ("template_text".to_string(), Value::Str(tp.text.clone())),
        (
            "level".to_string(),
            Value::Str(tp.level.as_str().to_string()),
        ),
        (
            "level_word".to_string(),
            Value::Str(tp.level.as_str().to_uppercase()),
        ),
        ("source".to_string(), Value::Str(source_label(cx.tl, src))),
        (
            "example".to_string(),
            Value::Str(short(example, example_chars)),
        ),
        ("site".to_string(), Value::Str(site)),
    ];
    vals.extend(extra);
    let hs = hits_of(events);
    let refs: Vec<&Hit> = hs.iter().collect();
    let evidence = events
        .iter()
        .map(|&e| Evidence {
            event: e,
            role: "match".into(),
        })
        .collect();
    let mut f = make_finding(
        rule,
        cx.tl,
        &refs,
        evidence,
        vals,
        WindowBasis::None,
        events.len(),
        events,
    )?;
    // Values that only shape the title are not facts.
    f.facts.retain(|(k, _)| !TITLE_ONLY.contains(&k.as_str()));
    Some(f)
}

/// Values `template_finding` offers to titles only.
const TITLE_ONLY: [&str; 4] = ["level_word", "example", "site", "times"];

fn eval_storm(rule: &Rule, cx: &Ctx) -> Vec<Finding> {
    let watched = |tp: &Template| {
        tp.count >= rule.min_count
            && (rule.levels.contains(&tp.level)
                || (tp.level == Level::Info
                    && rule
                        .info_words
                        .as_ref()
                        .is_some_and(|w| w.is_match(&tp.text))))
    };
    let mut out = Vec::new();
    for ((t, src), events) in unexplained_by_template(cx, &watched) {
        let n = events.len();
        if n < rule.min_count {
            continue;
        }
        let tp = &cx.templates.list[t];
        if cx
            .profile
            .benign_for(&cx.tl[events[0]].message, n as u64)
            .is_some()
        {
            continue;
        }
        let healthy = cx.profile.entry(&tp.key).map(|e| e.max_per_source);
        if let Some(h) = healthy {
            if (n as f64) < rule.factor * h as f64 || n as u64 <= h {
                continue;
            }
        }
        let healthy_text = match healthy {
            Some(h) => format!("healthy runs: at most {h}"),
            None => "never in healthy runs".to_string(),
        };
        let extra = vec![
            (
                "healthy_max".to_string(),
                healthy.map_or(Value::Null, |h| Value::Int(h as i128)),
            ),
            ("healthy".to_string(), Value::Str(healthy_text)),
        ];
        out.extend(template_finding(rule, cx, t, src, &events, 90, extra));
    }
    merge_echoed_storms(out)
}

/// Two storms in one source with about the same count whose events interleave are one failure logged
/// twice (a node event and its "unhandled" warning): keep the more severe-looking one.
fn merge_echoed_storms(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by_key(|f| std::cmp::Reverse(f.count));
    let mut keep: Vec<Finding> = Vec::new();
    'next: for f in found {
        for k in &mut keep {
            let same_size = f.count * 10 >= k.count * 9;
            let near = match (k.evidence.first(), f.evidence.first()) {
                (Some(a), Some(b)) => a.event.abs_diff(b.event) <= 4,
                _ => false,
            };
            if same_size && near && k.fact("source") == f.fact("source") {
                let also = f.fact("template_text").unwrap_or_default().to_string();
                k.facts.push(("also_logged_as".into(), also));
                continue 'next;
            }
        }
        keep.push(f);
    }
    keep
}

fn eval_novel(rule: &Rule, cx: &Ctx) -> Vec<Finding> {
    let watched =
        |tp: &Template| rule.levels.contains(&tp.level) && cx.profile.entry(&tp.key).is_none();
    let mut out = Vec::new();
    for ((t, src), events) in unexplained_by_template(cx, &watched) {
        let n = events.len();
        if cx
            .profile
            .benign_for(&cx.tl[events[0]].message, n as u64)
            .is_some()
        {
            continue;
        }
        let times = if n > 1 {
            format!(" ({n}×)")
        } else {
            String::new()
        };
        let extra = vec![("times".to_string(), Value::Str(times))];
        out.extend(template_finding(rule, cx, t, src, &events, 100, extra));
    }
    out
}

/// Acknowledged sends against receipts, per (sender, receiver): "1040 sent A → B, 0 received".
pub fn eval_accounting(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    let (sent, recv) = (&m.triggers, &m.expect);
    let pair = |h: &Hit| sender_receiver(tl, h);
    // Per pair and pattern: distinct message ids (a send acknowledged twice is one send) or events.
    let s = tally(sent, &pair);
    let r = tally(recv, &pair);
    let count = |m: &BTreeMap<usize, (BTreeSet<String>, Vec<&Hit>)>| {
        m.values().map(|(ids, _)| ids.len()).max().unwrap_or(0)
    };
    // The logs cover a receiver when any event that is not a send names it.
    let send_events: HashSet<usize> = sent.iter().map(|h| h.event).collect();
    let mut seen: HashSet<u64> = HashSet::new();
    for (i, ev) in tl.indexed() {
        if send_events.contains(&i) {
            continue;
        }
        seen.extend(ev.cids.iter().filter_map(|c| tl.cids.resolve(c)));
    }
    // Events a sparse timeline does not hold are no sends (no pattern can match them).
    for s in 0..tl.sources.len() {
        seen.extend(tl.unheld_cids(s));
    }
    let mut out = Vec::new();
    for ((from, to), per) in &s {
        let n_sent = count(per);
        let n_recv = r.get(&(from.clone(), to.clone())).map(count).unwrap_or(0);
        if !accountable(rule, n_sent, to, &seen) {
            continue;
        }
        let hs: Vec<&Hit> = per
            .values()
            .max_by_key(|(ids, _)| ids.len())
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        let events: Vec<usize> = hs.iter().map(|h| h.event).collect();
        let evidence = hs
            .iter()
            .map(|h| Evidence {
                event: h.event,
                role: "sent".into(),
            })
            .collect();
        let extra = accounting_values(n_sent, n_recv, from, to);
        if let Some(f) = make_finding(
            rule,
            tl,
            &hs,
            evidence,
            extra,
            WindowBasis::None,
            n_sent,
            &events,
        ) {
            out.push(f);
        }
    }
    out
}

/// The (sender, receiver) of an accounting rule's hit, CIDs resolved.
pub(super) fn sender_receiver(tl: &Timeline, h: &Hit) -> Option<(String, String)> {
    let from = resolve_cid(tl, h.get("from")?);
    let to = resolve_cid(tl, h.get("to")?);
    Some((from, to))
}

/// What tells one send from another: its message id, else its event (a send acknowledged twice
/// is one send).
pub(super) fn message_id(h: &Hit) -> String {
    h.get("id")
        .map(String::from)
        .unwrap_or_else(|| format!("#{}", h.event))
}

/// Whether `n_sent` sends to `to` are enough to judge and the logs cover the receiver (some event
/// that is not a send names it, `seen`): only such a receiver can be said not to have received;
/// how much loss counts is the rule's `when`.
pub(super) fn accountable(rule: &Rule, n_sent: usize, to: &str, seen: &HashSet<u64>) -> bool {
    n_sent >= rule.min_count && to.parse::<u64>().is_ok_and(|c| seen.contains(&c))
}

/// An accounting finding's values besides its sends'.
pub(super) fn accounting_values(
    n_sent: usize,
    n_recv: usize,
    from: &str,
    to: &str,
) -> Vec<(String, Value)> {
    vec![
        ("sent".to_string(), Value::Int(n_sent as i128)),
        ("received".to_string(), Value::Int(n_recv as i128)),
        ("from".to_string(), Value::Str(from.to_string())),
        ("to".to_string(), Value::Str(to.to_string())),
        ("count".to_string(), Value::Int(n_sent as i128)),
    ]
}

/// Lines at the end of a log that show whether it ended with the others.
const TAIL_EVENTS: usize = 10;

/// Multi-process runs: a process whose log stops while the others go on. Another source logs the
/// drop of a connection (a trigger naming a CID); the source that also names that CID logs neither the
/// drop nor its own end (no expect event naming it) after that CID last appears there: that process
/// is the one that vanished (killed, crashed, or hung).
pub fn eval_vanished(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    if tl.sources.len() < 2 {
        return Vec::new();
    }
    let (drops, noticed) = (&m.triggers, &m.expect);
    let cids_of = |e: usize| -> BTreeSet<u64> {
        tl[e]
            .cids
            .iter()
            .filter_map(|c| tl.cids.resolve(c))
            .collect()
    };
    // Per source: the CIDs it names, and the CIDs it saw drop or end.
    let n = tl.sources.len();
    let mut names: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); n];
    for ev in &tl.events {
        names[ev.source].extend(ev.cids.iter().filter_map(|c| tl.cids.resolve(c)));
    }
    for (s, names) in names.iter_mut().enumerate() {
        names.extend(tl.unheld_cids(s));
    }
    let mut saw_end: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); n];
    for h in noticed.iter().chain(drops.iter()) {
        saw_end[tl[h.event].source].extend(cids_of(h.event));
    }
    // A process that logged a drop or its own end among its last lines went down with the others
    // (teardown), whatever CIDs those lines name.
    let mut tails: Vec<Vec<usize>> = vec![Vec::new(); n];
    // A sparse timeline holds the last events of every source.
    for (i, e) in tl.indexed().rev() {
        if let Some(t) = tails.get_mut(e.source) {
            if t.len() < TAIL_EVENTS {
                t.push(i);
            }
        }
    }
    let tail_end: Vec<bool> = tails
        .iter()
        .map(|tail| {
            noticed
                .iter()
                .chain(drops.iter())
                .any(|h| tail.contains(&h.event))
        })
        .collect();
    let mut out = Vec::new();
    for s in 0..n {
        if tail_end[s] {
            continue;
        }
        // Evidence: drops seen by other sources for CIDs this source names and never saw end.
        let mut ev: Vec<&Hit> = Vec::new();
        let mut gone: BTreeSet<u64> = BTreeSet::new();
        for h in drops {
            let src = tl[h.event].source;
            if src == s {
                continue;
            }
            let c: BTreeSet<u64> = cids_of(h.event)
                .into_iter()
                .filter(|c| {
                    names[s].contains(c) && !saw_end[s].contains(c) && names[src].contains(c)
                })
                .collect();
            if !c.is_empty() {
                gone.extend(c);
                ev.push(h);
            }
        }
        if ev.is_empty() {
            continue;
        }
        // The process's own last line comes first in the evidence: that is where it stopped.
        let last = tl
            .indexed()
            .rev()
            .find(|(_, e)| e.source == s)
            .map(|(i, _)| i);
        let mut evidence = Vec::new();
        let mut events = Vec::new();
        if let Some(l) = last {
            evidence.push(Evidence {
                event: l,
                role: "last-line".into(),
            });
            events.push(l);
        }
        for h in &ev {
            evidence.push(Evidence {
                event: h.event,
                role: "seen-by-others".into(),
            });
        }
        let witnesses: BTreeSet<String> = ev
            .iter()
            .map(|h| source_label(tl, tl[h.event].source))
            .collect();
        let extra = vec![
            ("source_label".to_string(), Value::Str(source_label(tl, s))),
            (
                "witnesses".to_string(),
                Value::Str(witnesses.into_iter().collect::<Vec<_>>().join(", ")),
            ),
            (
                "gone".to_string(),
                Value::Str(
                    gone.iter()
                        .map(|c| tl.cids.describe(*c))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            ),
            ("count".to_string(), Value::Int(ev.len() as i128)),
        ];
        if let Some(mut f) = make_finding(
            rule,
            tl,
            &ev,
            evidence,
            extra,
            WindowBasis::Order,
            ev.len(),
            &events,
        ) {
            f.cids = gone.into_iter().collect();
            out.push(f);
        }
    }
    out
}

type Tally<'h> = BTreeMap<(String, String), BTreeMap<usize, (BTreeSet<String>, Vec<&'h Hit>)>>;

fn tally<'h>(hs: &'h [Hit], pair: &dyn Fn(&Hit) -> Option<(String, String)>) -> Tally<'h> {
    let mut m: Tally = BTreeMap::new();
    for h in hs {
        let Some(p) = pair(h) else { continue };
        let e = m.entry(p).or_default().entry(h.pattern).or_default();
        let id = message_id(h);
        e.0.insert(id);
        e.1.push(h);
    }
    m
}

/// Where a failure sits in the run, for rules whose severity follows its consequences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing fails after it and every session of its sources ended: the run's own teardown.
    Teardown,
    /// Other sessions of its sources went on (how many): one peer vanished mid-run.
    MidRun(usize),
}

/// The phase of a finding of a rule that asks for it (`teardown_severity`, `midrun_severity`), given
/// every finding of the run: after it, in each source it was seen in, does anything fail (a warning
/// or error that is not benign, or another rule's finding), and do sessions it did not end go on?
pub fn phase(rule: &Rule, f: &Finding, all: &[Finding], cx: &Ctx) -> Option<Phase> {
    if rule.teardown_severity.is_none() && rule.midrun_severity.is_none() {
        return None;
    }
    let tl = cx.tl;
    let mine: HashSet<usize> = f.evidence.iter().map(|e| e.event).collect();
    // The last evidence line in each source of the finding.
    let mut last_in: BTreeMap<usize, usize> = BTreeMap::new();
    for &e in &mine {
        let l = last_in.entry(tl[e].source).or_insert(e);
        *l = (*l).max(e);
    }
    let failing_event = |i: usize, src: usize| {
        let ev = &tl[i];
        !mine.contains(&i)
            && !cx.explained.contains(&i)
            && matches!(ev.level, Some(Level::Warn | Level::Error))
            && {
                // Benign up to a count per source: the template's count in this source decides.
                let n = cx
                    .templates
                    .of(i)
                    .and_then(|t| t.per_source.iter().find(|(s, _)| *s == src))
                    .map_or(0, |(_, n)| *n as u64);
                cx.profile.benign_for(&ev.message, n).is_none()
            }
    };
    let failing_after = last_in.iter().any(|(&src, &last)| {
        // Warnings and errors are held in a sparse timeline.
        tl.indexed_from(last + 1)
            .any(|(i, ev)| ev.source == src && failing_event(i, src))
            || all.iter().any(|o| {
                o.rule != f.rule
                    && o.evidence
                        .first()
                        .is_some_and(|e| e.event > last && tl[e.event].source == src)
            })
    });
    let mut known: BTreeSet<u64> = BTreeSet::new();
    for ev in tl.events.iter().filter(|e| last_in.contains_key(&e.source)) {
        known.extend(ev.cids.iter().filter_map(|c| tl.cids.resolve(c)));
    }
    for &s in last_in.keys() {
        known.extend(tl.unheld_cids(s));
    }
    // Drops whose lines name no CID still ended a session each: they use up that many of the CIDs
    // the sources know besides the ones the finding names.
    let ended = f.cids.len().max(f.count);
    let survivors = known.iter().filter(|c| !f.cids.contains(c)).count();
    let survivors = survivors.saturating_sub(ended.saturating_sub(f.cids.len()));
    if survivors > 0 {
        Some(Phase::MidRun(survivors))
    } else if !failing_after {
        Some(Phase::Teardown)
    } else {
        None
    }
}

/// Set a finding's severity, title note and `phase` fact from its phase, as its rule says.
pub fn apply_phase(rule: &Rule, f: &mut Finding, phase: Phase) {
    match phase {
        Phase::MidRun(survivors) => {
            if let Some(s) = rule.midrun_severity {
                f.severity = s;
                if let Some(note) = &rule.midrun_note {
                    f.title = format!(
                        "{}: {}",
                        f.title,
                        note.replace("{survivors}", &survivors.to_string())
                    );
                }
                f.facts.push(("phase".into(), "mid-run".into()));
                f.facts.push(("survivors".into(), survivors.to_string()));
            }
        }
        Phase::Teardown => {
            if let Some(s) = rule.teardown_severity {
                f.severity = s;
                if let Some(note) = &rule.teardown_note {
                    f.title = format!("{}: {note}", f.title);
                }
                f.facts.push(("phase".into(), "teardown".into()));
            }
        }
    }
}
