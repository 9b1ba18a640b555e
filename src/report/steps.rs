//! The test-results table of the reports: the steps of a P2P messaging test (registration, connection,
//! peer registration, peer connection, message sent, message received) per user or pair of users, each
//! PASS, FAIL or NOT TESTED from the events and findings. The steps are data (`steps.toml`).
// Indexing cannot panic here: row pairs are taken below the length of the rows.
#![allow(clippy::indexing_slicing)]

use crate::model::{Event, Timeline};
use crate::rules::finding::Analysis;
use regex::Regex;
use serde::Deserialize;

const STEPS: &str = include_str!("steps.toml");

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The logs show it done.
    Pass,
    /// The logs show it failed, or a finding says so.
    Fail,
    /// The logs show neither.
    NotTested,
}

impl Status {
    /// As the table writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotTested => "NOT TESTED",
        }
    }
}

/// One row of the test-results table.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// The step with its users filled in (`Message alice → bob (send)`).
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// Why: the event or finding that settles it.
    pub note: String,
    /// The event that settles it, when one does.
    pub event: Option<usize>,
    /// The finding that failed it, when one did.
    pub finding: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StepFile {
    step: Vec<StepDef>,
}

#[derive(Debug, Deserialize)]
struct StepDef {
    name: String,
    per: String,
    #[serde(default)]
    directed: bool,
    #[serde(default)]
    failed_by: Vec<String>,
    #[serde(default)]
    pass: Vec<String>,
    #[serde(default)]
    fail: Vec<String>,
}

struct Step {
    def: StepDef,
    pass: Vec<Regex>,
    fail: Vec<Regex>,
}

/// The events a step's patterns match, with the parties each names: found once per step, then
/// filtered per row (scanning every event once per row and pattern would not scale).
struct Hits {
    pass: Vec<(usize, Parties)>,
    fail: Vec<(usize, Parties)>,
}

/// Who a matched line speaks of: (from or user, to).
type Parties = (Option<u64>, Option<u64>);

fn hits(tl: &Timeline, known: &[u64], step: &Step) -> Hits {
    let set = |res: &[Regex]| regex::RegexSet::new(res.iter().map(|r| r.as_str())).ok();
    let scan = |res: &[Regex]| {
        let Some(set) = set(res) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, ev) in tl.events.iter().enumerate() {
            for k in set.matches(&ev.message).iter() {
                if let Some(g) = res.get(k).and_then(|re| parties(tl, known, re, ev)) {
                    out.push((i, g));
                }
            }
        }
        out
    };
    Hits {
        pass: scan(&step.pass),
        fail: scan(&step.fail),
    }
}

fn load() -> Vec<Step> {
    // The table is compiled in and tested below; a broken entry is dropped, not a panic.
    let Ok(file) = toml::from_str::<StepFile>(STEPS) else {
        return Vec::new();
    };
    file.step
        .into_iter()
        .map(|def| Step {
            pass: def.pass.iter().filter_map(|p| Regex::new(p).ok()).collect(),
            fail: def.fail.iter().filter_map(|p| Regex::new(p).ok()).collect(),
            def,
        })
        .collect()
}

/// Resolve a CID as a line wrote it: full, or a truncated prefix of exactly one known CID.
fn resolve(tl: &Timeline, known: &[u64], digits: &str) -> Option<u64> {
    let digits = digits.trim_end_matches('.');
    if let Ok(v) = digits.parse::<u64>() {
        // A CID the logs know, or a number long enough to be a full one (entities.toml says how long).
        let full = tl.cids.shape.full_min_digits > 0 && tl.cids.shape.is_full_digits(digits);
        if known.contains(&v) || full {
            return Some(v);
        }
    }
    let mut hits = known.iter().filter(|c| c.to_string().starts_with(digits));
    match (hits.next(), hits.next()) {
        (Some(c), None) => Some(*c),
        _ => None,
    }
}

/// Up to this many users every pair gets its rows (NOT TESTED says a direction was never tried);
/// beyond, only the pairs the logs show doing something.
pub const ALL_PAIRS: usize = 4;

/// Unnamed CIDs stand in for users up to this many (a test has a few clients; a server log, many).
const UNNAMED_USERS: usize = 6;

/// The users a report speaks of: named CIDs and tab owners, in CID order; without any, the full CIDs
/// the logs mention, when they are few.
pub fn users(tl: &Timeline) -> Vec<u64> {
    let named = named_users(tl);
    if !named.is_empty() {
        return named;
    }
    let all: Vec<u64> = tl.cids.names.keys().copied().collect();
    if all.len() <= UNNAMED_USERS {
        all
    } else {
        Vec::new()
    }
}

fn named_users(tl: &Timeline) -> Vec<u64> {
    let mut v: Vec<u64> = tl
        .cids
        .names
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(c, _)| *c)
        .chain(tl.sources.iter().flat_map(|s| s.owners.first().copied()))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A user's short name: the first name bound to the CID, or the CID.
pub fn user_name(tl: &Timeline, cid: u64) -> String {
    tl.cids
        .name(cid)
        .map(str::to_string)
        .unwrap_or_else(|| cid.to_string())
}

/// Who a match speaks of: (from or user, to).
fn parties(
    tl: &Timeline,
    known: &[u64],
    re: &Regex,
    ev: &Event,
) -> Option<(Option<u64>, Option<u64>)> {
    let caps = re.captures(&ev.message)?;
    let get = |n: &str| caps.name(n).and_then(|m| resolve(tl, known, m.as_str()));
    let owner = tl
        .sources
        .get(ev.source)
        .and_then(|s| s.owners.first().copied());
    let by_name = caps.name("user").and_then(|m| tl.cids.lookup(m.as_str()));
    let first = get("cid").or(get("from")).or(by_name);
    let to = get("to");
    // A tab logs its own user's side: its owner stands in for a party the line leaves out.
    let first = match (first, to) {
        (Some(f), _) => Some(f),
        (None, Some(t)) if owner != Some(t) => owner,
        (None, None) => owner,
        _ => None,
    };
    let to = match to {
        Some(t) => Some(t),
        None if caps.name("from").is_some() && owner != first => owner,
        None => None,
    };
    Some((first, to))
}

static FROM_TO: std::sync::LazyLock<Option<Regex>> = std::sync::LazyLock::new(|| {
    Regex::new(r"from (\d{6,}|[0-9]+\.\.\.) to (?:peer )?(?:Some\()?(\d{6,}|[0-9]+\.\.\.)").ok()
});

/// Which way a finding about a message went: `from A to B` in its evidence, else the owner of the tab
/// that sent it towards the finding's other CID.
fn direction(
    tl: &Timeline,
    known: &[u64],
    f: &crate::rules::finding::Finding,
) -> Option<(u64, u64)> {
    let evs = || f.evidence.iter().filter_map(|e| tl.events.get(e.event));
    if let Some(re) = FROM_TO.as_ref() {
        for ev in evs() {
            if let Some(c) = re.captures(&ev.message) {
                let a = c.get(1).and_then(|m| resolve(tl, known, m.as_str()));
                let b = c.get(2).and_then(|m| resolve(tl, known, m.as_str()));
                if let (Some(a), Some(b)) = (a, b) {
                    return Some((a, b));
                }
            }
        }
    }
    let owner = evs().find_map(|ev| {
        tl.sources
            .get(ev.source)
            .and_then(|s| s.owners.first().copied())
    })?;
    let other = f.cids.iter().copied().find(|c| *c != owner)?;
    Some((owner, other))
}

/// Whether a match is about this row.
fn fits(row: (u64, Option<u64>), got: (Option<u64>, Option<u64>), directed: bool) -> bool {
    match row {
        (u, None) => got.0 == Some(u),
        (a, Some(b)) => match got {
            (Some(x), Some(y)) => (x == a && y == b) || (!directed && x == b && y == a),
            // A failure that names no party counts for every pair.
            (None, None) => true,
            _ => false,
        },
    }
}

fn place(tl: &Timeline, i: usize) -> String {
    let Some(ev) = tl.events.get(i) else {
        return String::new();
    };
    let label = super::fields::source_label(tl, ev);
    format!("{label}:{}", ev.line)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// `; root cause F2 (rule)` when the finding is not its incident's root.
fn root_note(a: &Analysis, id: &str) -> String {
    a.incidents
        .iter()
        .find(|i| i.findings.iter().any(|f| f == id) && i.root != id)
        .and_then(|i| a.findings.iter().find(|f| f.id == i.root))
        .map(|r| format!("; root cause {} ({})", r.id, r.rule))
        .unwrap_or_default()
}

/// Evaluate every step for every user or pair of users.
pub fn results(a: &Analysis) -> Vec<StepResult> {
    let tl = &a.timeline;
    let users = users(tl);
    let mut known: Vec<u64> = tl.cids.names.keys().copied().collect();
    known.extend(users.iter().copied());
    known.sort_unstable();
    known.dedup();
    let mut out = Vec::new();
    let mut directed: Vec<((u64, Option<u64>), StepResult)> = Vec::new();
    for step in load() {
        let rows: Vec<(u64, Option<u64>)> = match step.def.per.as_str() {
            "user" => users.iter().map(|u| (*u, None)).collect(),
            _ => {
                let mut v = Vec::new();
                for (i, a) in users.iter().enumerate() {
                    for b in users.iter().skip(i + 1) {
                        v.push((*a, Some(*b)));
                        if step.def.directed {
                            v.push((*b, Some(*a)));
                        }
                    }
                }
                v
            }
        };
        let found = hits(&a.timeline, &known, &step);
        let pairs = step.def.per != "user";
        for row in rows {
            let r = evaluate(a, &step, &found, &known, row);
            if step.def.directed {
                directed.push((row, r));
            } else if !pairs || users.len() <= ALL_PAIRS || r.status != Status::NotTested {
                out.push(r);
            }
        }
    }
    // With many users, only the pairs the logs show doing something (both directions of them).
    if users.len() > ALL_PAIRS {
        let unordered =
            |k: &(u64, Option<u64>)| (k.0.min(k.1.unwrap_or(0)), k.0.max(k.1.unwrap_or(0)));
        let active: Vec<(u64, u64)> = directed
            .iter()
            .filter(|(_, r)| r.status != Status::NotTested)
            .map(|(k, _)| unordered(k))
            .collect();
        directed.retain(|(k, _)| active.contains(&unordered(k)));
    }
    // Each direction's steps together (send, then receive), directions in the order users appear.
    let mut keys: Vec<(u64, Option<u64>)> = Vec::new();
    for (k, _) in &directed {
        if !keys.contains(k) {
            keys.push(*k);
        }
    }
    for k in keys {
        out.extend(
            directed
                .iter()
                .filter(|(r, _)| *r == k)
                .map(|(_, s)| s.clone()),
        );
    }
    merge_untested_messages(&mut out);
    out
}

fn evaluate(
    a: &Analysis,
    step: &Step,
    found: &Hits,
    known: &[u64],
    row: (u64, Option<u64>),
) -> StepResult {
    let tl = &a.timeline;
    let name = step
        .def
        .name
        .replace("{user}", &user_name(tl, row.0))
        .replace("{from}", &user_name(tl, row.0))
        .replace("{to}", &row.1.map(|b| user_name(tl, b)).unwrap_or_default());
    let directed = step.def.directed;
    let first_pass = found
        .pass
        .iter()
        .find(|(_, g)| fits(row, *g, directed))
        .map(|(i, _)| *i);
    let mut fails: Vec<usize> = found
        .fail
        .iter()
        .filter(|(_, g)| fits(row, *g, directed))
        .map(|(i, _)| *i)
        .collect();
    fails.dedup();
    let wanted: Vec<u64> = std::iter::once(row.0).chain(row.1).collect();
    let failed_by = a.findings.iter().find(|f| {
        step.def.failed_by.contains(&f.rule)
            && wanted.iter().all(|c| f.cids.contains(c))
            && (!step.def.directed
                || row.1.is_none()
                || direction(tl, known, f).is_none_or(|d| Some(d) == row.1.map(|b| (row.0, b))))
    });
    if let Some(f) = failed_by {
        return StepResult {
            name,
            status: Status::Fail,
            note: format!(
                "{} ({}, {}){}",
                clip(&f.title, 200),
                f.id,
                f.rule,
                root_note(a, &f.id)
            ),
            event: f.evidence.first().map(|e| e.event),
            finding: Some(f.id.clone()),
        };
    }
    match (first_pass, fails.first()) {
        (Some(p), _) => {
            let mut note = format!(
                "{}: {}",
                place(tl, p),
                clip(
                    &tl.events
                        .get(p)
                        .map(|e| e.message.clone())
                        .unwrap_or_default(),
                    120
                )
            );
            let later = fails.iter().filter(|f| **f > p).count();
            if later > 0 {
                note.push_str(&format!("; failed {later}× later"));
            }
            StepResult {
                name,
                status: Status::Pass,
                note,
                event: Some(p),
                finding: None,
            }
        }
        (None, Some(f)) => StepResult {
            name,
            status: Status::Fail,
            note: format!(
                "{}: {}",
                place(tl, *f),
                clip(
                    &tl.events
                        .get(*f)
                        .map(|e| e.message.clone())
                        .unwrap_or_default(),
                    120
                )
            ),
            event: Some(*f),
            finding: None,
        },
        (None, None) => StepResult {
            name,
            status: Status::NotTested,
            note: "not in these logs".into(),
            event: None,
            finding: None,
        },
    }
}

/// A direction in which no message was sent is one NOT TESTED row, not two; a step nobody saw before a
/// passed later step says what that implies.
fn merge_untested_messages(rows: &mut Vec<StepResult>) {
    let mut i = 0;
    while i + 1 < rows.len() {
        let (a, b) = (&rows[i], &rows[i + 1]);
        if a.name.ends_with(" (send)")
            && b.name.ends_with(" (receive)")
            && a.status == Status::NotTested
            && b.status == Status::NotTested
            && a.name.trim_end_matches(" (send)") == b.name.trim_end_matches(" (receive)")
        {
            rows[i].name = a.name.trim_end_matches(" (send)").to_string();
            rows[i].note = "no message was sent this way".into();
            rows.remove(i + 1);
        }
        i += 1;
    }
    let passed: Vec<(usize, String)> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == Status::Pass)
        .map(|(i, r)| (i, r.name.clone()))
        .collect();
    // `Step (alice)` → `(alice)`: a later step of the same users implies this one.
    let who = |n: &str| {
        n.rfind(" (")
            .map(|p| n[p..].to_string())
            .unwrap_or_default()
    };
    for (i, r) in rows.iter_mut().enumerate() {
        if r.status == Status::NotTested && !r.name.starts_with("Message") {
            let mine = who(&r.name);
            if let Some((_, later)) = passed.iter().find(|(j, n)| *j > i && who(n) == mine) {
                r.note = format!("not in these logs; done before them, since {later} passed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::timeline_of;

    #[test]
    fn the_step_table_compiles() {
        let steps = load();
        assert_eq!(steps.len(), 6);
        for s in &steps {
            assert_eq!(s.pass.len(), s.def.pass.len(), "{}", s.def.name);
            assert_eq!(s.fail.len(), s.def.fail.len(), "{}", s.def.name);
        }
    }

    fn results_of(sources: &[(&str, &str)]) -> Vec<StepResult> {
        let tl = timeline_of(sources).expect("timeline");
        let a = crate::rules::analyze(&tl, None).expect("rules");
        results(&a)
    }

    #[test]
    fn with_many_users_only_active_pairs_get_rows() {
        let mut svc = String::new();
        for (i, name) in ["ann", "ben", "cat", "dan", "eve", "fay"]
            .iter()
            .enumerate()
        {
            svc.push_str(&format!(
                "2025-12-30T01:00:0{i}.000000Z  INFO citadel: a.rs:1: GetSessions: Session 100000000000000000{} for user {name} associated with connection x\n",
                i + 1
            ));
        }
        svc.push_str("2025-12-30T01:00:09.000000Z  INFO citadel: a.rs:1: [P2P-MSG] sink.send() SUCCEEDED for message from 1000000000000000001 to 1000000000000000003\n");
        let rows = results_of(&[("svc.log", &svc)]);
        let messages: Vec<&str> = rows
            .iter()
            .filter(|r| r.name.starts_with("Message"))
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "Message ann → cat (send)",
                "Message ann → cat (receive)",
                "Message cat → ann"
            ],
            "{rows:?}"
        );
        assert!(rows.iter().all(|r| !r.name.starts_with("P2P")), "{rows:?}");
        assert_eq!(
            rows.iter()
                .filter(|r| r.name.starts_with("Connection"))
                .count(),
            6
        );
    }

    #[test]
    fn a_receipt_on_the_other_side_passes_and_an_echo_does_not() {
        let svc = "2025-12-30T01:00:00.000000Z  INFO citadel: a.rs:1: [Connect] SUCCESS: cid=1111111111111111111\n\
2025-12-30T01:00:01.000000Z  INFO citadel: a.rs:1: GetSessions: Session 1111111111111111111 for user ann associated with connection x\n\
2025-12-30T01:00:01.000000Z  INFO citadel: a.rs:1: GetSessions: Session 2222222222222222222 for user ben associated with connection y\n\
2025-12-30T01:00:02.000000Z  INFO citadel: a.rs:1: [P2P-MSG] sink.send() SUCCEEDED for message from 1111111111111111111 to 2222222222222222222\n\
2025-12-30T01:00:03.000000Z  INFO citadel: a.rs:1: [P2P-RECV] Received P2P message! cid=2222222222222222222, peer_cid=1111111111111111111\n";
        let rows = results_of(&[("svc.log", svc)]);
        let get = |n: &str| {
            rows.iter()
                .find(|r| r.name == n)
                .unwrap_or_else(|| panic!("{n} in {rows:?}"))
        };
        assert_eq!(get("Connection to the server (ann)").status, Status::Pass);
        assert_eq!(
            get("Connection to the server (ben)").status,
            Status::NotTested
        );
        assert_eq!(get("Message ann → ben (send)").status, Status::Pass);
        assert_eq!(get("Message ann → ben (receive)").status, Status::Pass);
        let back = get("Message ben → ann");
        assert_eq!(back.status, Status::NotTested);
        assert!(back.note.contains("no message"), "{back:?}");
    }
}
