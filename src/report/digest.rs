//! What the Markdown and HTML reports tell beside the findings, derived from the analysis alone:
//! the accounts (names, CIDs, tabs), the trace of each lost message, the files the evidence points at,
//! the recommendations (the rules' fixes, deduplicated) and the verdict.

use crate::model::{Role, Timeline};
use crate::rules::finding::{Analysis, Finding, Severity};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One user of the run.
#[derive(Debug, Clone)]
pub struct Account {
    /// Full CID.
    pub cid: u64,
    /// Names bound to it (usernames), preferred first.
    pub names: Vec<String>,
    /// Labels of the sources (tabs) this user's client wrote.
    pub tabs: Vec<String>,
}

/// The users: named CIDs and tab owners, each with the tabs it owns.
pub fn accounts(tl: &Timeline) -> Vec<Account> {
    super::steps::users(tl)
        .into_iter()
        .map(|cid| Account {
            cid,
            names: tl.cids.names.get(&cid).cloned().unwrap_or_default(),
            tabs: tl
                .sources
                .iter()
                .filter(|s| s.owners.first() == Some(&cid))
                .map(|s| s.label.clone())
                .collect(),
        })
        .collect()
}

/// An address the run talked to, and which sources name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// What it is (`internal service (WebSocket)`, `server`).
    pub kind: &'static str,
    /// The address as logged.
    pub addr: String,
    /// Labels of the sources that name it.
    pub sources: Vec<String>,
}

static ENDPOINTS: LazyLock<Vec<(&'static str, Option<Regex>)>> = LazyLock::new(|| {
    [
        (
            "internal service (WebSocket)",
            r"Initializing WASM client with URL: (wss?://\S+)",
        ),
        ("server", r"Citadel server established on (\S+)"),
        (
            "server",
            r"About to connect to server (\S+?)(?: for user|$)",
        ),
    ]
    .into_iter()
    .map(|(k, re)| (k, Regex::new(re).ok()))
    .collect()
});

/// The addresses the tabs and services connected to (the WebSocket URL, the server's address).
pub fn endpoints(tl: &Timeline) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    for ev in &tl.events {
        for (kind, re) in ENDPOINTS.iter() {
            let Some(addr) = re
                .as_ref()
                .and_then(|re| re.captures(&ev.message))
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().trim_end_matches(['.', ',']).to_string())
            else {
                continue;
            };
            let label = tl
                .sources
                .get(ev.source)
                .map(|s| s.label.clone())
                .unwrap_or_default();
            match out.iter_mut().find(|e| e.kind == *kind && e.addr == addr) {
                Some(e) if !e.sources.contains(&label) => e.sources.push(label),
                Some(_) => {}
                None => out.push(Endpoint {
                    kind,
                    addr,
                    sources: vec![label],
                }),
            }
        }
    }
    out
}

/// Rules whose findings are a lost message (their evidence carries its id and both ends).
const MESSAGE_RULES: [&str; 2] = ["message-not-delivered", "message-loss"];

/// The path of one lost message through every source.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The finding that says it was lost.
    pub finding: String,
    /// The message id, when the logs carry one.
    pub msgid: Option<String>,
    /// Events in timeline order: those carrying the id, the finding's evidence, and the relay lines
    /// between the two ends in the same span.
    pub events: Vec<usize>,
    /// Events left out past the cap.
    pub more: usize,
}

/// How many events a trace shows.
const TRACE_CAP: usize = 40;

/// The traces of the messages the findings say were lost.
pub fn traces(a: &Analysis) -> Vec<Trace> {
    let tl = &a.timeline;
    a.findings
        .iter()
        .filter(|f| MESSAGE_RULES.contains(&f.rule.as_str()))
        .map(|f| trace_of(tl, f))
        .collect()
}

fn trace_of(tl: &Timeline, f: &Finding) -> Trace {
    let msgid = f
        .evidence
        .iter()
        .filter_map(|e| tl.events.get(e.event))
        .find_map(|ev| ev.uuids.first().cloned())
        .map(|u| u.to_ascii_lowercase());
    let prefix = msgid
        .as_deref()
        .map(|m| m.chars().take(8).collect::<String>());
    let carries = |i: usize| {
        let Some(ev) = tl.events.get(i) else {
            return false;
        };
        msgid.as_deref().is_some_and(|m| {
            ev.uuids.iter().any(|u| u.eq_ignore_ascii_case(m))
                || prefix
                    .as_deref()
                    .is_some_and(|p| ev.msgid_prefixes.iter().any(|x| x.eq_ignore_ascii_case(p)))
        })
    };
    let mut picked: Vec<usize> = (0..tl.events.len()).filter(|i| carries(*i)).collect();
    picked.extend(f.evidence.iter().map(|e| e.event));
    picked.sort_unstable();
    picked.dedup();
    // Relay lines (the server's `[P2P-MSG]`) carry both CIDs but no id: take those inside the span.
    if let (Some(first), Some(last)) = (picked.first().copied(), picked.last().copied()) {
        let both = |i: usize| {
            tl.events.get(i).is_some_and(|ev| {
                let cids: Vec<u64> = ev.cids.iter().filter_map(|c| tl.cids.resolve(c)).collect();
                f.cids.len() >= 2
                    && f.cids.iter().all(|c| cids.contains(c))
                    && ev.message.to_ascii_lowercase().contains("message")
            })
        };
        picked.extend((first..=last).filter(|i| both(*i)));
        picked.sort_unstable();
        picked.dedup();
    }
    let more = picked.len().saturating_sub(TRACE_CAP);
    picked.truncate(TRACE_CAP);
    Trace {
        finding: f.id.clone(),
        msgid,
        events: picked,
        more,
    }
}

/// A file and line the evidence points at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileRef {
    /// `path:line[:col]` as the log wrote it.
    pub location: String,
    /// `panic location` or `call site`.
    pub kind: &'static str,
    /// Whether a service (backend) log named it; otherwise a browser's UI code.
    pub service: bool,
    /// Findings whose evidence points here.
    pub findings: Vec<String>,
}

static PANIC_AT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"panicked at ([^\s:]+:\d+(?::\d+)?)").ok());

/// Panic locations and call sites of the findings' evidence, panics first.
pub fn files(a: &Analysis) -> Vec<FileRef> {
    let tl = &a.timeline;
    let mut map: BTreeMap<(u8, bool, String), Vec<String>> = BTreeMap::new();
    for f in &a.findings {
        for e in &f.evidence {
            let Some(ev) = tl.events.get(e.event) else {
                continue;
            };
            // Service code first (`false` sorts first), then the browser's.
            let ui = tl
                .sources
                .get(ev.source)
                .is_none_or(|s| s.role != Role::Service);
            if let Some(re) = PANIC_AT.as_ref() {
                for c in re.captures_iter(&ev.message) {
                    if let Some(m) = c.get(1) {
                        map.entry((0, ui, m.as_str().to_string()))
                            .or_default()
                            .push(f.id.clone());
                    }
                }
            }
            if let Some(loc) = &ev.location {
                map.entry((1, ui, loc.to_string()))
                    .or_default()
                    .push(f.id.clone());
            }
        }
    }
    map.into_iter()
        .map(|((k, ui, location), mut findings)| {
            findings.dedup();
            FileRef {
                location,
                kind: if k == 0 {
                    "panic location"
                } else {
                    "call site"
                },
                service: !ui,
                findings,
            }
        })
        .collect()
}

/// One recommendation: a rule's fix, once, with the findings that call for it.
#[derive(Debug, Clone)]
pub struct Recommendation {
    /// Rule id.
    pub rule: String,
    /// Rule title.
    pub title: String,
    /// Most severe finding of the rule.
    pub severity: Severity,
    /// The rule's remediation.
    pub fix: String,
    /// Findings of the rule.
    pub findings: Vec<String>,
}

/// The rules' fixes, one per rule: roots of incidents first, then by severity.
pub fn recommendations(a: &Analysis) -> Vec<Recommendation> {
    let mut order: Vec<&Finding> = Vec::new();
    for inc in &a.incidents {
        for id in &inc.findings {
            if let Some(f) = a.findings.iter().find(|f| &f.id == id) {
                order.push(f);
            }
        }
    }
    let mut rest: Vec<&Finding> = a
        .findings
        .iter()
        .filter(|f| !order.iter().any(|o| o.id == f.id))
        .collect();
    rest.sort_by_key(|f| std::cmp::Reverse(f.severity));
    order.extend(rest);
    let mut out: Vec<Recommendation> = Vec::new();
    for f in order {
        if let Some(r) = out.iter_mut().find(|r| r.rule == f.rule) {
            r.findings.push(f.id.clone());
            r.severity = r.severity.max(f.severity);
            continue;
        }
        let Some(info) = a.rules.iter().find(|r| r.id == f.rule) else {
            continue;
        };
        out.push(Recommendation {
            rule: f.rule.clone(),
            title: info.title.clone(),
            severity: f.severity,
            fix: info.remediation.trim().to_string(),
            findings: vec![f.id.clone()],
        });
    }
    out
}

/// Whether the run fails at a threshold (`None`: never).
pub fn failed(a: &Analysis, fail_on: Option<Severity>) -> bool {
    fail_on.is_some_and(|t| a.findings.iter().any(|f| f.severity >= t))
}

/// Indices of the service sources (the reference clocks, the backend).
pub fn services(tl: &Timeline) -> Vec<usize> {
    (0..tl.sources.len())
        .filter(|i| tl.sources.get(*i).is_some_and(|s| s.role == Role::Service))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::timeline_of;

    #[test]
    fn files_put_panic_locations_first_and_keep_call_sites() {
        let svc = "2025-12-30T01:00:00.000000Z ERROR citadel: /src/lib.rs:89: Panic occurred: panicked at /x/session.rs:2254:18:\n";
        let tl = timeline_of(&[("svc.log", svc)]).expect("timeline");
        let a = crate::rules::analyze(&tl, None).expect("rules");
        let f = files(&a);
        assert_eq!(
            f.first().map(|x| x.location.as_str()),
            Some("/x/session.rs:2254:18"),
            "{f:?}"
        );
        assert_eq!(f.first().map(|x| x.kind), Some("panic location"));
        assert!(
            f.iter()
                .any(|x| x.kind == "call site" && x.location.ends_with("lib.rs:89")),
            "{f:?}"
        );
    }
}
