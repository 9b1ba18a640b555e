//! Link findings into incidents by a causal model, not by adjacency.
//!
//! Each rule file says which kinds of failure can cause its findings (`caused_by`, most likely first).
//! A finding's cause is a finding of such a kind that precedes it (by time, or by order within one
//! source) and is related to it: they share a CID or an evidence event, the cause brought down a whole
//! process (`scope = "process"`), or both sit close together in one source. Kinds reached only through
//! other kinds (a panic's cause, when the panic rule is disabled) count too, after the direct ones, so
//! disabling a rule in the middle keeps the chain connected. Where two findings lie in different
//! sources that share no clock, their order is unknown: only a direct cause that shares a CID or an
//! evidence event links them (what other processes saw of a process that vanished). A finding is never
//! caused by one of its own kind (a sibling symptom). Incidents are trees: a root without a cause and
//! everything that follows from it.
// Indexing cannot panic here: indices are positions the engine itself took from the vectors it indexes (events, findings, groups).
#![allow(clippy::indexing_slicing)]

use super::engine::effective_pos;
use super::finding::{Finding, Incident};
use super::load::{Kind, Position, Rule, Scope};
use crate::model::{Axis, Timeline, TsQuality};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Two findings further apart than this (seconds, on a time axis) are not linked.
const LINK_WINDOW_S: f64 = 600.0;
/// Findings this close in one source are related even without a shared CID (seconds / events).
const NEAR_S: f64 = 5.0;
const NEAR_EVENTS: usize = 20;

fn kind_rank(k: Kind) -> u8 {
    match k {
        Kind::Match | Kind::Vanished => 0,
        Kind::Count => 1,
        Kind::Sequence => 2,
        Kind::Absence | Kind::Accounting => 3,
        Kind::Storm | Kind::Novel => 4,
    }
}

/// Kinds that can cause a rule's findings, nearest first: the declared ones in their order, then,
/// through kinds that did not run (disabled), the ones those declare, and so on (breadth first).
/// A kind that ran and found nothing is not passed through: it shows that the failure in the middle
/// of such a chain did not happen. `None` when the rule declares nothing: any kind.
fn upstream(rule: &str, rules: &[Rule], ran: &BTreeSet<&str>) -> Option<Vec<String>> {
    let start = rules.iter().find(|r| r.info.id == rule)?;
    if start.caused_by.is_empty() && !start.caused_by_declared {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut queue: VecDeque<&str> = start.caused_by.iter().map(String::as_str).collect();
    while let Some(id) = queue.pop_front() {
        if id == rule || out.iter().any(|o| o == id) {
            continue;
        }
        out.push(id.to_string());
        if ran.contains(id) {
            continue;
        }
        if let Some(r) = rules.iter().find(|r| r.info.id == id) {
            queue.extend(r.caused_by.iter().map(String::as_str));
        }
    }
    Some(out)
}

/// Set `caused_by` and `causes` on findings and build incidents. Findings must already carry their
/// ids; `rules` are all loaded rules (disabled ones too: their `caused_by` keeps chains connected),
/// `ran` the ids of those that ran.
pub fn link(
    findings: &mut [Finding],
    rules: &[Rule],
    ran: &BTreeSet<&str>,
    tl: &Timeline,
) -> Vec<Incident> {
    let rule_of = |f: &Finding| rules.iter().find(|r| r.info.id == f.rule);
    let n = findings.len();
    // Where a finding sits as an effect (an absence is certain only at the end of the logs) and
    // where it began as a cause (its first evidence).
    let pos: Vec<f64> = findings
        .iter()
        .map(|f| {
            let p = rule_of(f).map(|r| r.position).unwrap_or(Position::First);
            effective_pos(p, f, tl)
        })
        .collect();
    let began: Vec<f64> = findings
        .iter()
        .map(|f| effective_pos(Position::First, f, tl))
        .collect();
    let rank: Vec<u8> = findings
        .iter()
        .map(|f| rule_of(f).map(|r| kind_rank(r.kind)).unwrap_or(0))
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        pos[a]
            .total_cmp(&pos[b])
            .then(rank[a].cmp(&rank[b]))
            .then(a.cmp(&b))
    });
    let evidence: Vec<BTreeSet<usize>> = findings
        .iter()
        .map(|f| f.evidence.iter().map(|e| e.event).collect())
        .collect();
    let first_event = |i: usize| findings[i].evidence.first().map(|e| e.event);
    let takes_part = |i: usize| rule_of(&findings[i]).is_none_or(|r| r.link);
    // Whether the order of two findings is known: on a time axis when both are placed by time, and
    // always within one source.
    let comparable = |a: usize, b: usize| -> bool {
        let (Some(x), Some(y)) = (first_event(a), first_event(b)) else {
            return false;
        };
        let (ex, ey) = (&tl[x], &tl[y]);
        ex.source == ey.source
            || (tl.axis == Axis::Time
                && ex.ts_quality != TsQuality::Order
                && ey.ts_quality != TsQuality::Order)
    };
    let strongly_related = |a: usize, b: usize| -> bool {
        let (fa, fb) = (&findings[a], &findings[b]);
        fa.cids.iter().any(|c| fb.cids.contains(c)) || !evidence[a].is_disjoint(&evidence[b])
    };
    // Whether `a` left evidence in `b`'s source before `b` began there: what one process saw of
    // another's failure orders the two even when their clocks are unknown.
    let witnessed_before = |a: usize, b: usize| -> bool {
        let Some(y) = first_event(b) else {
            return false;
        };
        let src = tl[y].source;
        evidence[a].iter().any(|&e| e <= y && tl[e].source == src)
    };
    // Whether a finding is a fact about the whole run, certain only at its end (something never
    // happened): a failure its rule declares as a cause, in any process of the run, explains it even
    // when the two processes share no clock and no identifier (a service that was never asked to
    // connect because the other one could not).
    let judged_at_end = |b: usize| -> bool {
        rule_of(&findings[b])
            .is_some_and(|r| r.kind == Kind::Absence || r.position == Position::End)
    };
    let related = |a: usize, b: usize| -> bool {
        if strongly_related(a, b) {
            return true;
        }
        if rule_of(&findings[a]).is_some_and(|r| r.scope == Scope::Process) {
            return true;
        }
        // One source is one process (a service, a tab): a declared cause in the same process is
        // related to what follows it there.
        match (first_event(a), first_event(b)) {
            (Some(x), Some(y)) => tl[x].source == tl[y].source,
            _ => false,
        }
    };
    // Rules that declare no causes keep the old adjacency: close together in one source.
    let near = |a: usize, b: usize| -> bool {
        match (first_event(a), first_event(b)) {
            (Some(x), Some(y)) => {
                let (ex, ey) = (&tl[x], &tl[y]);
                ex.source == ey.source
                    && match tl.axis {
                        Axis::Time => (ey.pos - ex.pos).abs() / 1e9 <= NEAR_S,
                        Axis::Order => x.abs_diff(y) <= NEAR_EVENTS,
                    }
            }
            _ => false,
        }
    };
    let mut ups: HashMap<String, Option<Vec<String>>> = HashMap::new();
    let mut cause: Vec<Option<usize>> = vec![None; n];
    for &b in &order {
        if !takes_part(b) {
            continue;
        }
        let up = ups
            .entry(findings[b].rule.clone())
            .or_insert_with(|| upstream(&findings[b].rule, rules, ran))
            .clone();
        // (priority of the cause's kind, how far back it is): the smallest wins.
        let mut best: Option<((usize, usize, f64), usize)> = None;
        for a in 0..n {
            if a == b || !takes_part(a) || findings[a].rule == findings[b].rule {
                continue;
            }
            let (priority, direct) = match &up {
                Some(list) => match list.iter().position(|k| *k == findings[a].rule) {
                    Some(i) => {
                        let direct = rule_of(&findings[b])
                            .is_some_and(|r| r.caused_by.contains(&findings[a].rule));
                        (i, direct)
                    }
                    None => continue,
                },
                None => (0, true),
            };
            let back = pos[b] - began[a];
            if comparable(a, b) {
                if back < 0.0 || (back == 0.0 && rank[a] > rank[b]) {
                    continue;
                }
                if tl.axis == Axis::Time && back / 1e9 > LINK_WINDOW_S {
                    continue;
                }
                // A kind reached only through others needs no direct relation: the missing link
                // between them is what relates them.
                let ok = match &up {
                    Some(_) => !direct || related(a, b),
                    None => {
                        strongly_related(a, b)
                            || rule_of(&findings[a]).is_some_and(|r| r.scope == Scope::Process)
                            || near(a, b)
                    }
                };
                if !ok {
                    continue;
                }
            } else if !(direct
                && (strongly_related(a, b) || witnessed_before(a, b) || judged_at_end(b)))
            {
                continue;
            }
            // A cause found only because the effect is a fact about the whole run comes last.
            let by_run = usize::from(
                !comparable(a, b) && !strongly_related(a, b) && !witnessed_before(a, b),
            );
            let score = (by_run, priority, back.abs());
            if best.is_none_or(|(s, _)| {
                (score.0, score.1) < (s.0, s.1)
                    || ((score.0, score.1) == (s.0, s.1) && score.2 < s.2)
            }) {
                best = Some((score, a));
            }
        }
        if let Some((_, a)) = best {
            // Never close a loop: a cause may not be one of b's own consequences.
            let mut up_a = Some(a);
            let mut guard = 0;
            while let Some(x) = up_a {
                if x == b || guard > n {
                    break;
                }
                up_a = cause[x];
                guard += 1;
            }
            if up_a != Some(b) {
                cause[b] = Some(a);
            }
        }
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &i in &order {
        if let Some(c) = cause[i] {
            children[c].push(i);
        }
    }
    for i in 0..n {
        findings[i].caused_by = cause[i].map(|a| findings[a].id.clone());
        findings[i].causes = children[i]
            .iter()
            .map(|&c| findings[c].id.clone())
            .collect();
    }
    let mut incidents = Vec::new();
    for &r in order.iter().filter(|&&i| cause[i].is_none()) {
        if children[r].is_empty() {
            continue;
        }
        // The tree in pre-order: root, then each consequence followed by its own.
        let mut members = Vec::new();
        let mut stack = vec![r];
        while let Some(i) = stack.pop() {
            members.push(i);
            stack.extend(children[i].iter().rev());
        }
        let mut cids = BTreeSet::new();
        for &m in &members {
            cids.extend(findings[m].cids.iter().copied());
        }
        let root = &findings[r];
        let rest: Vec<String> = members
            .iter()
            .skip(1)
            .map(|&m| format!("{} ({})", findings[m].title, findings[m].rule))
            .collect();
        let summary = format!(
            "Root cause: {} ({}). What followed from it: {}.",
            root.title,
            root.rule,
            rest.join("; ")
        );
        incidents.push(Incident {
            id: String::new(),
            root: root.id.clone(),
            findings: members.iter().map(|&m| findings[m].id.clone()).collect(),
            cids: cids.into_iter().collect(),
            summary,
        });
    }
    let sev = |inc: &Incident| {
        findings
            .iter()
            .find(|f| f.id == inc.root)
            .map(|f| f.severity)
    };
    incidents.sort_by_key(|i| std::cmp::Reverse(sev(i)));
    for (i, inc) in incidents.iter_mut().enumerate() {
        inc.id = format!("I{}", i + 1);
    }
    incidents
}
