//! `diag check --format sarif`: SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, VS Code's SARIF
//! viewer). Each rule is a SARIF rule (level, why and fix as help); each finding a result located at
//! its key evidence line, with the other evidence and the causal chain as related locations and a code
//! flow, and `partialFingerprints` from [`Analysis::fingerprint`] so a UI tracks it across runs.
// Indexing cannot panic here: it writes into JSON objects this module built with `json!`.
#![allow(clippy::indexing_slicing)]

use super::run::Run;
use super::CheckWriter;
use crate::model::Timeline;
use crate::rules::finding::{Analysis, Finding, Severity};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The SARIF writer.
#[derive(Debug, Clone, Default)]
pub struct Sarif {
    /// Threshold, run metadata and baseline of this run.
    pub run: Run,
}

impl CheckWriter for Sarif {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_sarif(out, a, &self.run)
    }
}

/// SARIF's level for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// A path as a valid URI reference: relative paths percent-encoded, absolute ones as `file:` URIs,
/// standard input as `stdin`.
pub fn uri_of(path: &str) -> String {
    if path.is_empty() || path == "-" || path == "<stdin>" {
        return "stdin".into();
    }
    let p = path.replace('\\', "/");
    let bytes = p.as_bytes();
    // A Windows drive (C:/...) is absolute too.
    let drive = matches!(bytes, [d, b':', b'/', ..] if d.is_ascii_alphabetic());
    if drive {
        let (d, rest) = p.split_at(2);
        return format!("file:///{d}{}", encode(rest));
    }
    if p.starts_with('/') {
        return format!("file://{}", encode(&p));
    }
    encode(p.trim_start_matches("./"))
}

/// Percent-encode everything but unreserved characters and `/` (RFC 3986).
fn encode(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Artifacts (sources) and the index of each source in them.
fn artifacts(tl: &Timeline) -> Vec<Value> {
    tl.sources
        .iter()
        .map(|s| {
            let uri = uri_of(&s.path);
            let mut a = json!({
                "location": {"uri": uri},
                "description": {"text": format!("{} ({})", s.label, s.detection.format)},
                "roles": ["analysisTarget"],
            });
            if uri == "stdin" {
                a["description"] = json!({"text": format!("standard input, read as {} ({})", s.label, s.detection.format)});
            }
            a
        })
        .collect()
}

/// The location of one event, or None when the index is out of range.
fn location(
    tl: &Timeline,
    event: usize,
    message: Option<String>,
    id: Option<usize>,
) -> Option<Value> {
    let ev = tl.event(event)?;
    let src = tl.sources.get(ev.source)?;
    let start = ev.line.max(1);
    let mut loc = json!({"physicalLocation": {
        "artifactLocation": {"uri": uri_of(&src.path), "index": ev.source},
        "region": {
            "startLine": start,
            "endLine": ev.end_line.max(start),
            "snippet": {"text": ev.message},
        }
    }});
    if let Some(m) = message {
        loc["message"] = json!({ "text": m });
    }
    if let Some(i) = id {
        loc["id"] = json!(i);
    }
    Some(loc)
}

/// The finding's causes, root first (stops on a cycle).
fn chain<'a>(a: &'a Analysis, f: &'a Finding) -> Vec<&'a Finding> {
    let mut out: Vec<&Finding> = Vec::new();
    let mut cur = f.caused_by.as_deref();
    while let Some(id) = cur {
        let Some(c) = a.findings.iter().find(|x| x.id == id) else {
            break;
        };
        if out.iter().any(|x| x.id == c.id) || c.id == f.id {
            break;
        }
        out.push(c);
        cur = c.caused_by.as_deref();
    }
    out.reverse();
    out
}

fn rule_json(r: &crate::rules::finding::RuleInfo) -> Value {
    json!({
        "id": r.id,
        "name": r.title,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.description.trim()},
        "help": {
            "text": format!("Why: {}\n\nFix: {}", r.description.trim(), r.remediation.trim()),
            "markdown": format!("**Why.** {}\n\n**Fix.** {}", r.description.trim(), r.remediation.trim()),
        },
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {"severity": r.severity.as_str(), "tags": ["diag", r.severity.as_str()]},
    })
}

fn result_json(a: &Analysis, f: &Finding, rule_index: Option<usize>, run: &Run) -> Value {
    let tl = &a.timeline;
    let key = f.evidence.first();
    let locations: Vec<Value> = key
        .and_then(|e| location(tl, e.event, Some(format!("{}: {}", e.role, f.title)), None))
        .into_iter()
        .collect();
    let mut related: Vec<Value> = Vec::new();
    for e in f.evidence.iter().skip(1) {
        let id = related.len() + 1;
        if let Some(l) = location(
            tl,
            e.event,
            Some(format!("evidence ({})", e.role)),
            Some(id),
        ) {
            related.push(l);
        }
    }
    let causes = chain(a, f);
    let mut flow: Vec<Value> = Vec::new();
    for c in &causes {
        let msg = format!(
            "{} {} [{}]: {}",
            if flow.is_empty() { "root" } else { "then" },
            c.id,
            c.rule,
            c.title
        );
        if let Some(e) = c.evidence.first() {
            let id = related.len() + 1;
            if let Some(l) = location(
                tl,
                e.event,
                Some(format!("cause {} [{}]: {}", c.id, c.rule, c.title)),
                Some(id),
            ) {
                related.push(l);
            }
            if let Some(l) = location(tl, e.event, Some(msg), None) {
                flow.push(json!({"location": l}));
            }
        }
    }
    let mut props = Map::new();
    props.insert("id".into(), json!(f.id));
    props.insert("severity".into(), json!(f.severity.as_str()));
    props.insert(
        "cids".into(),
        json!(f.cids.iter().map(u64::to_string).collect::<Vec<_>>()),
    );
    props.insert("caused_by".into(), json!(f.caused_by));
    props.insert("causes".into(), json!(f.causes));
    props.insert("count".into(), json!(f.count));
    props.insert(
        "facts".into(),
        json!(f.facts.iter().cloned().collect::<BTreeMap<_, _>>()),
    );
    if let Some(i) = a.incidents.iter().find(|i| i.findings.contains(&f.id)) {
        props.insert("incident".into(), json!(i.id));
    }
    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": f.title},
        "locations": locations,
        "partialFingerprints": {
            "diagFingerprint/v1": a.fingerprint(f),
            "diagCidFingerprint/v1": a.cid_fingerprint(f),
        },
        "properties": props,
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    if !flow.is_empty() {
        if let Some(l) = locations_first(&r) {
            flow.push(json!({"location": l}));
        }
        r["codeFlows"] = json!([{
            "message": {"text": format!("how {} came about, root cause first", f.id)},
            "threadFlows": [{"locations": flow}],
        }]);
    }
    if let Some(b) = &run.baseline {
        let suppressed = run.is_suppressed(f);
        r["baselineState"] = json!(if suppressed { "unchanged" } else { "new" });
        if suppressed {
            r["suppressions"] = json!([{
                "kind": "external",
                "status": "accepted",
                "justification": format!("accepted in the baseline {}", b.path),
            }]);
        }
    }
    r
}

fn locations_first(r: &Value) -> Option<Value> {
    r.get("locations")?.as_array()?.first().cloned()
}

/// SARIF 2.1.0 with one result per finding.
pub fn write_sarif(out: &mut dyn Write, a: &Analysis, run: &Run) -> io::Result<()> {
    let tl = &a.timeline;
    let rules: Vec<Value> = a.rules.iter().map(rule_json).collect();
    let results: Vec<Value> = a
        .findings
        .iter()
        .map(|f| {
            let idx = a.rules.iter().position(|r| r.id == f.rule);
            result_json(a, f, idx, run)
        })
        .collect();
    let mut sarif_run = json!({
        "tool": {"driver": {
            "name": "diag",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "artifacts": artifacts(tl),
        "invocations": [invocation(tl)],
        "results": results,
        "properties": {
            "verdict": run.verdict(a),
            "fail_on": run.fail_on.map(Severity::as_str),
            "labels": run.labels,
        },
    });
    if let Some(id) = &run.run_id {
        sarif_run["automationDetails"] = json!({"id": format!("diag/{id}")});
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [sarif_run],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// The run's invocation: unsuccessful, with one notification per source, when an input could not be
/// read to its end (the findings then rest on partial evidence).
fn invocation(tl: &Timeline) -> serde_json::Value {
    let incomplete = super::wire::incomplete(tl);
    let notes: Vec<serde_json::Value> = incomplete
        .iter()
        .map(|i| {
            json!({
                "level": "error",
                "message": {"text": format!(
                    "{} could not be read to its end (stopped after line {}): {}",
                    i.path, i.stopped_after_line, i.error
                )},
            })
        })
        .collect();
    json!({
        "executionSuccessful": incomplete.is_empty(),
        "toolExecutionNotifications": notes,
    })
}

#[cfg(test)]
mod tests {
    use super::uri_of;

    #[test]
    fn uris_are_percent_encoded_and_stdin_is_named() {
        assert_eq!(uri_of("samples/seed/a b.log"), "samples/seed/a%20b.log");
        assert_eq!(uri_of("./x#1.log"), "x%231.log");
        assert_eq!(uri_of("/tmp/ü.log"), "file:///tmp/%C3%BC.log");
        assert_eq!(uri_of("C:\\logs\\a.log"), "file:///C:/logs/a.log");
        assert_eq!(uri_of("<stdin>"), "stdin");
        assert_eq!(uri_of("a:b.log"), "a%3Ab.log");
    }
}
