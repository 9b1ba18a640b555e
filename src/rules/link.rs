//! Link findings into incidents: a finding is caused by the nearest earlier finding it is linked to
//! (they share a CID, share an evidence event, the earlier one brought down the whole process, or both
//! sit close together in one source); linked findings form an incident whose first cause is its root.

use super::engine::effective_pos;
use super::finding::{Finding, Incident};
use super::load::{Kind, Position, Rule, Scope};
use crate::model::{Axis, Timeline};
use std::collections::BTreeSet;

/// Two findings further apart than this (seconds, on a time axis) are not linked.
const LINK_WINDOW_S: f64 = 600.0;
/// Findings this close in one source are linked even without a shared CID (seconds / events).
const NEAR_S: f64 = 5.0;
const NEAR_EVENTS: usize = 20;

fn kind_rank(k: Kind) -> u8 {
    match k {
        Kind::Match => 0,
        Kind::Count => 1,
        Kind::Sequence => 2,
        Kind::Vanished => 0,
        Kind::Absence | Kind::Accounting => 3,
        Kind::Storm | Kind::Novel => 4,
    }
}

/// Set `caused_by` on findings and build incidents. Findings must already carry their ids.
pub fn link(findings: &mut [Finding], rules: &[Rule], tl: &Timeline) -> Vec<Incident> {
    let rule_of = |f: &Finding| rules.iter().find(|r| r.info.id == f.rule);
    let mut order: Vec<(f64, u8, usize)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (k, p) = rule_of(f)
                .map(|r| (r.kind, r.position))
                .unwrap_or((Kind::Match, Position::First));
            (effective_pos(p, f, tl), kind_rank(k), i)
        })
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let evidence: Vec<BTreeSet<usize>> = findings
        .iter()
        .map(|f| f.evidence.iter().map(|e| e.event).collect())
        .collect();
    let first_event = |i: usize| findings[i].evidence.first().map(|e| e.event);
    let linked = |a: usize, b: usize, pa: f64, pb: f64| -> bool {
        let takes_part = |i: usize| rule_of(&findings[i]).is_none_or(|r| r.link);
        if !takes_part(a) || !takes_part(b) {
            return false;
        }
        if tl.axis == Axis::Time && (pb - pa) / 1e9 > LINK_WINDOW_S {
            return false;
        }
        let (fa, fb) = (&findings[a], &findings[b]);
        if rule_of(fa).is_some_and(|r| r.scope == Scope::Process) {
            return true;
        }
        if fa.cids.iter().any(|c| fb.cids.contains(c)) {
            return true;
        }
        if !evidence[a].is_disjoint(&evidence[b]) {
            return true;
        }
        match (first_event(a), first_event(b)) {
            (Some(x), Some(y)) => {
                let (ex, ey) = (&tl.events[x], &tl.events[y]);
                ex.source == ey.source
                    && match tl.axis {
                        Axis::Time => (ey.pos - ex.pos).abs() / 1e9 <= NEAR_S,
                        Axis::Order => x.abs_diff(y) <= NEAR_EVENTS,
                    }
            }
            _ => false,
        }
    };
    let mut cause: Vec<Option<usize>> = vec![None; findings.len()];
    for (k, &(pb, _, b)) in order.iter().enumerate() {
        for &(pa, _, a) in order[..k].iter().rev() {
            // Ordered by position: everything further back is out of the window too.
            if tl.axis == Axis::Time && (pb - pa) / 1e9 > LINK_WINDOW_S {
                break;
            }
            if linked(a, b, pa, pb) {
                cause[b] = Some(a);
                break;
            }
        }
    }
    for (i, c) in cause.iter().enumerate() {
        findings[i].caused_by = c.map(|a| findings[a].id.clone());
    }
    // Components along cause links; the root is the member without a cause.
    let root_of = |mut i: usize| {
        let mut guard = 0;
        while let Some(c) = cause[i] {
            i = c;
            guard += 1;
            if guard > findings.len() {
                break;
            }
        }
        i
    };
    let mut incidents = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    for &(_, _, i) in &order {
        let r = root_of(i);
        if !roots.contains(&r) {
            roots.push(r);
        }
    }
    for r in roots {
        let members: Vec<usize> = order
            .iter()
            .map(|o| o.2)
            .filter(|&i| root_of(i) == r)
            .collect();
        if members.len() < 2 {
            continue;
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
            "Root cause: {} ({}). What followed, in order: {}.",
            root.title,
            root.rule,
            rest.join(" → ")
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
