//! The causal model end to end: incidents are trees whose links the rule files declare (`caused_by`),
//! the seed's chain reads as an engineer would write it, disabling a rule in the middle keeps the
//! chain, and a multi-process run gives one incident rooted in the process that ended.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn check(args: &[&str], inputs: &[PathBuf]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_diag"))
        .arg("check")
        .args(["--format", "json", "--fail-on", "none"])
        .args(args)
        .args(inputs)
        .output()
        .expect("run diag");
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{inputs:?}: {e}: {}", String::from_utf8_lossy(&o.stderr)))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn findings(r: &Value) -> Vec<Value> {
    r["findings"].as_array().cloned().unwrap_or_default()
}

fn by_id<'a>(f: &'a [Value], id: &str) -> &'a Value {
    f.iter().find(|x| x["id"] == id).expect("finding by id")
}

fn cause_rule(f: &[Value], x: &Value) -> Option<String> {
    x["caused_by"]
        .as_str()
        .map(|c| by_id(f, c)["rule"].as_str().unwrap_or("").to_string())
}

/// Every kind a rule may be caused by, through any chain of declared causes.
fn declared_closure() -> BTreeMap<String, BTreeSet<String>> {
    let rules = diag::rules::load::load_rules(None).expect("built-in rules");
    let direct: BTreeMap<String, Vec<String>> = rules
        .iter()
        .map(|r| (r.info.id.clone(), r.caused_by.clone()))
        .collect();
    direct
        .keys()
        .map(|id| {
            let mut seen = BTreeSet::new();
            let mut todo = direct[id].clone();
            while let Some(c) = todo.pop() {
                if seen.insert(c.clone()) {
                    todo.extend(direct.get(&c).cloned().unwrap_or_default());
                }
            }
            (id.clone(), seen)
        })
        .collect()
}

#[test]
fn every_rule_declares_what_can_cause_it() {
    let rules = diag::rules::load::load_rules(None).expect("built-in rules");
    let silent: Vec<&str> = rules
        .iter()
        .filter(|r| !r.caused_by_declared)
        .map(|r| r.info.id.as_str())
        .collect();
    assert!(silent.is_empty(), "rules without caused_by: {silent:?}");
}

#[test]
fn the_seed_chain_is_a_tree_an_engineer_would_draw() {
    let r = check(&[], &[root().join("samples/seed")]);
    let f = findings(&r);
    let of = |rule: &str| -> Vec<&Value> { f.iter().filter(|x| x["rule"] == rule).collect() };
    let gap = of("ratchet-version-gap")[0];
    assert!(gap["caused_by"].is_null(), "the ratchet gap is the root");
    assert_eq!(
        cause_rule(&f, of("panic")[0]).as_deref(),
        Some("ratchet-version-gap")
    );
    let sockets = of("websocket-lost");
    assert_eq!(sockets.len(), 2);
    for s in &sockets {
        assert_eq!(
            cause_rule(&f, s).as_deref(),
            Some("panic"),
            "{}",
            s["title"]
        );
    }
    for rule in ["channel-closed-cascade", "request-timeout", "retry-storm"] {
        for x in of(rule) {
            assert_eq!(
                cause_rule(&f, x).as_deref(),
                Some("websocket-lost"),
                "{}",
                x["title"]
            );
        }
    }
    assert_eq!(
        cause_rule(&f, of("message-not-delivered")[0]).as_deref(),
        Some("panic"),
        "the lost message hangs off the panic that killed the relay"
    );
    // No finding is caused by one of its own kind; `causes` mirrors `caused_by`.
    for x in &f {
        if let Some(c) = x["caused_by"].as_str() {
            let cause = by_id(&f, c);
            assert_ne!(
                cause["rule"], x["rule"],
                "{} caused by a sibling",
                x["title"]
            );
            assert!(cause["causes"]
                .as_array()
                .is_some_and(|l| l.contains(&x["id"])));
        }
    }
    let inc = &r["incidents"][0];
    assert_eq!(inc["root"], gap["id"]);
}

#[test]
fn disabling_a_rule_in_the_middle_keeps_the_chain() {
    let r = check(&["--disable", "panic"], &[root().join("samples/seed")]);
    let f = findings(&r);
    let gap = f
        .iter()
        .find(|x| x["rule"] == "ratchet-version-gap")
        .expect("gap");
    let inc = r["incidents"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["root"] == gap["id"]))
        .expect("an incident rooted in the gap");
    let members: Vec<&str> = inc["findings"]
        .as_array()
        .map(|l| l.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    for x in f.iter().filter(|x| x["rule"] == "websocket-lost") {
        assert!(
            members.contains(&x["id"].as_str().unwrap_or("")),
            "{}",
            x["title"]
        );
        assert_eq!(cause_rule(&f, x).as_deref(), Some("ratchet-version-gap"));
    }
}

#[test]
fn every_link_on_every_sample_is_declared() {
    let closure = declared_closure();
    let mut inputs: Vec<Vec<PathBuf>> = vec![
        vec![root().join("samples/seed")],
        vec![root().join("samples/healthy")],
    ];
    for dir in ["samples/faults", "samples/formats"] {
        let mut ps: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .expect("samples")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() || p.extension().is_some_and(|x| x != "md"))
            .collect();
        ps.sort();
        inputs.extend(ps.into_iter().map(|p| vec![p]));
    }
    let mut links = BTreeSet::new();
    for inp in &inputs {
        let r = check(&[], inp);
        let f = findings(&r);
        for x in &f {
            let rule = x["rule"].as_str().unwrap_or("").to_string();
            if let Some(c) = cause_rule(&f, x) {
                assert!(
                    closure.get(&rule).is_some_and(|s| s.contains(&c)),
                    "{inp:?}: {rule} caused by {c}, which its rule file does not declare"
                );
                links.insert((c, rule));
            }
        }
    }
    // The links an engineer expects are among them.
    for (c, e) in [
        ("ratchet-version-gap", "panic"),
        ("panic", "websocket-lost"),
        ("websocket-lost", "channel-closed-cascade"),
        ("websocket-lost", "request-timeout"),
        ("websocket-lost", "retry-storm"),
        ("panic", "message-not-delivered"),
        ("process-vanished", "error-storm"),
        ("process-vanished", "peer-connection-dropped"),
        ("peer-connection-dropped", "error-storm"),
        ("session-ended", "registration-failed"),
        ("registration-failed", "panic"),
        ("panic", "test-failed"),
        ("message-loss", "panic"),
        ("error-storm", "request-failed"),
    ] {
        assert!(
            links.contains(&(c.to_string(), e.to_string())),
            "no {c} → {e} link on any sample: {links:?}"
        );
    }
}

#[test]
fn a_multi_process_run_is_one_incident_rooted_in_the_process_that_ended() {
    for (sample, gone) in [
        (
            "samples/faults/multi-server-killed-three-clients",
            "citadel-server",
        ),
        ("samples/faults/multi-peer-killed-mid-transfer", "service-b"),
    ] {
        let r = check(&[], &[root().join(sample)]);
        let f = findings(&r);
        let incs = r["incidents"].as_array().cloned().unwrap_or_default();
        assert_eq!(incs.len(), 1, "{sample}: {incs:?}");
        let root_f = by_id(&f, incs[0]["root"].as_str().unwrap_or(""));
        assert_eq!(root_f["rule"], "process-vanished", "{sample}");
        assert!(
            root_f["title"].as_str().unwrap_or("").starts_with(gone),
            "{sample}: {}",
            root_f["title"]
        );
        let mut sources = BTreeSet::new();
        for id in incs[0]["findings"].as_array().cloned().unwrap_or_default() {
            for e in by_id(&f, id.as_str().unwrap_or(""))["evidence"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                sources.insert(e["source"].as_str().unwrap_or("").to_string());
            }
        }
        assert!(sources.len() >= 3, "{sample}: evidence spans {sources:?}");
    }
}

#[test]
fn titles_never_show_a_question_mark_for_a_missing_value() {
    for s in [
        "samples/seed",
        "samples/faults/rekey-storm",
        "samples/formats/citadel-nextest.log",
        "samples/formats/citadel-nocolor.log",
    ] {
        let r = check(&[], &[Path::new(env!("CARGO_MANIFEST_DIR")).join(s)]);
        for x in findings(&r) {
            let t = x["title"].as_str().unwrap_or("");
            assert!(
                !t.contains("?)")
                    && !t.contains("v?")
                    && !t.contains(" ? ")
                    && !t.contains("unknown"),
                "{s}: {t}"
            );
        }
    }
}

/// A chain passes through a kind only when that kind did not run: a kind that ran and found nothing
/// shows the failure in the middle did not happen, so an early refused request is not blamed for
/// errors logged at teardown, hundreds of lines later, in the same process.
#[test]
fn chains_pass_only_through_rules_that_did_not_run() {
    let dir = std::env::temp_dir().join(format!("diag-causes-ran-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let svc = dir.join("svc-x.log");
    let mut log = String::from(
        " INFO citadel: citadel-internal-service/src/kernel/requests/register.rs:29: About to connect to server 10.1.2.3:4000 for user u.one\n \
         INFO citadel: citadel-internal-service/src/kernel/responses/mod.rs:18: NODE EVENT RECEIVED WITH MESSAGE: InternalServerError(InternalServerError { ticket_opt: Some(Ticket(77)), message: \"Upload refused: quota exceeded\", cid_opt: Some(8123456789012345678) })\n",
    );
    for i in 0..300 {
        log.push_str(&format!(
            " INFO citadel: citadel-internal-service/src/kernel/responses/mod.rs:18: NODE EVENT RECEIVED WITH MESSAGE: ChannelMessage {i}\n"
        ));
    }
    log.push_str(
        "ERROR citadel: /usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/citadel_proto-0.13.0/src/proto/session.rs:942: error=socket torn down mid-frame\n",
    );
    std::fs::write(&svc, log).expect("write log");
    let rule_of_cause = |r: &Value| -> Option<String> {
        let f = findings(r);
        let novel = f.iter().find(|x| x["rule"] == "new-error-template")?;
        cause_rule(&f, novel)
    };
    let ran = check(&[], std::slice::from_ref(&svc));
    let f = findings(&ran);
    assert!(f.iter().any(|x| x["rule"] == "request-failed"), "{ran:#}");
    assert!(
        f.iter().any(|x| x["rule"] == "new-error-template"),
        "{ran:#}"
    );
    assert_eq!(rule_of_cause(&ran), None, "{ran:#}");
    // With panic disabled nothing shows whether a panic came between: request → panic → new error holds.
    let disabled = check(&["--disable", "panic"], std::slice::from_ref(&svc));
    assert_eq!(
        rule_of_cause(&disabled).as_deref(),
        Some("request-failed"),
        "{disabled:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
