//! The index (`diag::index`): every record read again from its file, at its row, is the event the
//! held timeline has at that index (text, lines, level, entities, place), and its row alone (the
//! skeleton) agrees with it, on every sample, every real log and multi-process run when present,
//! and a generated corpus with compose services interleaved.

#[path = "../benches/common/mod.rs"]
mod common;

use diag::defs::Registry;
use diag::model::{Event, Timeline};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

fn sets() -> (Vec<(String, Vec<String>)>, tempfile::TempDir) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sets: Vec<(String, Vec<String>)> = Vec::new();
    let samples = root.join("samples");
    let mut dirs: Vec<PathBuf> = vec![samples.join("seed"), samples.join("healthy")];
    let mut faults: Vec<PathBuf> = std::fs::read_dir(samples.join("faults"))
        .expect("samples/faults")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    faults.sort();
    dirs.extend(faults);
    for d in dirs {
        sets.push((d.display().to_string(), vec![d.display().to_string()]));
    }
    // Alone, a console dump has times of day and no date: its rows keep their times of day.
    let console = samples.join("seed/bob-tab1.devtools.log");
    sets.push(("console alone".into(), vec![console.display().to_string()]));
    let real = root.join("../shared/real-logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&real)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    logs.retain(|p| p.extension().is_some_and(|e| e == "log"));
    logs.sort();
    let mut runs: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for p in &logs {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        sets.push((name.clone(), vec![p.display().to_string()]));
        if let Some((run, _)) = name.split_once("__") {
            runs.entry(run.to_string())
                .or_default()
                .push(p.display().to_string());
        }
    }
    sets.extend(runs.into_iter().filter(|(_, f)| f.len() > 1));
    let tmp = tempfile::tempdir().expect("tempdir");
    let c = common::Corpus::generate(2_000_000, 11);
    for (name, text) in c.files() {
        std::fs::write(tmp.path().join(name), text).expect("write");
    }
    sets.push(("generated".into(), vec![tmp.path().display().to_string()]));
    (sets, tmp)
}

/// What a record is, as compared: everything but the strings shared between events by pointer.
fn essence(ev: &Event) -> String {
    format!(
        "{} {}-{} {:?} {:?} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        ev.source,
        ev.line,
        ev.end_line,
        ev.raw_ts,
        ev.ts,
        ev.ts_quality,
        ev.pos,
        ev.level,
        ev.target.as_deref(),
        ev.location.as_deref(),
        ev.message,
        ev.continuation,
        ev.fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect::<Vec<_>>(),
        ev.cids,
        ev.uuids,
        ev.msgid_prefixes,
        ev.names
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<Vec<_>>(),
    )
}

fn held(reg: &Registry, args: &[String]) -> Timeline {
    let inputs = diag::source::expand(args).expect("inputs");
    let opts = diag::correlate::Options::default();
    diag::pipeline::load(reg, &inputs, None, &opts)
        .expect("load")
        .0
}

fn indexed(reg: &Registry, args: &[String]) -> diag::index::Index {
    let inputs = diag::source::expand(args).expect("inputs");
    let opts = diag::correlate::Options::default();
    let mut plan =
        diag::stream::plan_marked(reg, &inputs, None, &opts, &AtomicU64::new(0), None, true)
            .expect("plan");
    plan.index(reg).expect("asked for").expect("index")
}

#[test]
fn every_record_read_again_is_the_held_event() {
    let reg = Registry::load(None).expect("definitions");
    let (sets, _tmp) = sets();
    let mut records = 0;
    let re = regex::Regex::new("(?i)error|closed").expect("regex");
    let searches: Vec<regex::Regex> = [
        "(?i)error",
        "(?i)channel closed",
        "(?i)connection",
        "Ratchet|ratchet",
        "(?i)session.rs:\\d+",
        "\"type\"",
        "(?i)k",
        "\\d{5}",
        "CID: \\d+",
        "(?i)peer connect",
    ]
    .iter()
    .map(|p| regex::Regex::new(p).expect("search"))
    .collect();
    let mut searched = 0;
    let mut undated = 0;
    for (what, args) in &sets {
        let tl = held(&reg, args);
        let ix = indexed(&reg, args);
        assert_eq!(ix.len(), tl.events.len(), "{what}: records");
        // Read back in pieces as the screen asks (and once all at once), out of order too.
        let all: Vec<usize> = (0..ix.len()).rev().collect();
        for chunk in all.chunks(977) {
            for (i, ev) in ix.events(chunk) {
                let want = &tl.events[i];
                assert_eq!(essence(&ev), essence(want), "{what}: record {i}");
                let sk = ix.skeleton(i).expect("row");
                assert_eq!(
                    (
                        sk.source,
                        sk.line,
                        sk.end_line,
                        sk.level,
                        sk.pos,
                        sk.ts,
                        sk.ts_quality
                    ),
                    (
                        ev.source,
                        ev.line,
                        ev.end_line,
                        ev.level,
                        ev.pos,
                        ev.ts,
                        ev.ts_quality
                    ),
                    "{what}: row {i}"
                );
                // In order of mention, each once.
                let mut resolved: Vec<u64> = Vec::new();
                for c in ev.cids.iter().filter_map(|c| tl.cids.resolve(c)) {
                    if !resolved.contains(&c) {
                        resolved.push(c);
                    }
                }
                assert_eq!(
                    sk.full_cids().collect::<Vec<_>>(),
                    resolved,
                    "{what}: CIDs {i}"
                );
                if sk.ts.is_none() {
                    undated += usize::from(sk.raw_ts.is_some());
                    assert_eq!(
                        diag::tui::filterset::time_of_day(&sk),
                        diag::tui::filterset::time_of_day(&ev),
                        "{what}: time of day {i}"
                    );
                }
                records += 1;
            }
        }
        // A scan reads every record once: a pattern finds the rows the held events match.
        let hits = ix.scan(&|ev: &Event| re.is_match(&ev.message));
        let want: Vec<usize> = tl
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| re.is_match(&e.message))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hits, want, "{what}: scan");
        // A search reads only the records whose lines may match, and finds what the held events
        // match: smart case, case kept, words split by colour, quotes, no literal at all.
        for re in &searches {
            let want: Vec<usize> = tl
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    re.is_match(&e.message) || e.continuation.iter().any(|l| re.is_match(l))
                })
                .map(|(i, _)| i)
                .collect();
            assert_eq!(ix.matching(re), want, "{what}: /{}/", re.as_str());
            // Asked again (a filter change recounts a search's hits): remembered, the same.
            assert_eq!(ix.matching(re), want, "{what}: /{}/ again", re.as_str());
            searched += want.len();
        }
    }
    assert!(records > 15_000, "{records} records compared");
    assert!(searched > 5_000, "{searched} hits compared");
    assert!(undated > 100, "{undated} times of day compared");
}

/// A file rewritten after it was indexed: its records say they could not be read again, instead of
/// showing another record's text; nothing panics.
#[test]
fn a_rewritten_file_is_said_not_a_wrong_record() {
    let reg = Registry::load(None).expect("definitions");
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("svc.log");
    let lines: String = (0..600)
        .map(|i| {
            format!(
                "2026-03-01T10:00:{:02}.{:06}Z  INFO citadel: message number {i}\n",
                i % 60,
                i
            )
        })
        .collect();
    std::fs::write(&path, &lines).expect("write");
    let ix = indexed(&reg, &[path.display().to_string()]);
    assert_eq!(ix.len(), 600);
    assert!(ix
        .event(599)
        .unwrap()
        .message
        .contains("message number 599"));
    // Grown: the records indexed are where they were.
    let mut grown = lines.clone();
    grown.push_str("2026-03-01T10:09:00.000000Z  INFO citadel: one more\n");
    std::fs::write(&path, &grown).expect("grow");
    let ev = ix.event(598).expect("row");
    assert!(ev.message.contains("message number 598"), "{}", ev.message);
    // Rewritten with as many bytes: not the records the rows name any more.
    std::fs::write(&path, lines.replace("message number", "rewritten text")).expect("rewrite");
    let ev = ix.event(200).expect("row");
    assert!(
        ev.message.contains("rewritten since it was read"),
        "{}",
        ev.message
    );
    std::fs::write(&path, "short\n").expect("rewrite");
    let ev = ix.event(300).expect("row");
    assert!(
        ev.message.contains("could not be read again"),
        "{}",
        ev.message
    );
    std::fs::remove_file(&path).expect("remove");
    let ev = ix.event(400).expect("row");
    assert!(
        ev.message.contains("could not be read again"),
        "{}",
        ev.message
    );
    assert!(ix.event(600).is_none());
}

/// A measurement and a check on a big corpus (`DIAG_INDEX_DIR`): the search's sieve against a
/// scan of every record.
#[test]
#[ignore = "run with DIAG_INDEX_DIR=DIR --ignored --nocapture"]
fn sieve_equals_scan_on_a_big_corpus() {
    let Ok(dir) = std::env::var("DIAG_INDEX_DIR") else {
        return;
    };
    let reg = Registry::load(None).expect("definitions");
    let ix = indexed(&reg, &[dir]);
    let re = regex::Regex::new("(?i)error").expect("regex");
    let t = std::time::Instant::now();
    let sieved = ix.matching(&re);
    println!("sieved: {} in {:?}", sieved.len(), t.elapsed());
    let t = std::time::Instant::now();
    let scanned = ix.scan(&|ev: &Event| {
        re.is_match(&ev.message) || ev.continuation.iter().any(|l| re.is_match(l))
    });
    println!("scanned: {} in {:?}", scanned.len(), t.elapsed());
    let extra: Vec<usize> = sieved
        .iter()
        .filter(|i| scanned.binary_search(i).is_err())
        .copied()
        .collect();
    let missed: Vec<usize> = scanned
        .iter()
        .filter(|i| sieved.binary_search(i).is_err())
        .copied()
        .collect();
    for &i in extra.iter().chain(&missed).take(8) {
        let ev = ix.event(i).expect("row");
        println!(
            "{i}: {:?} {}-{} {:?} {:?}",
            ev.source, ev.line, ev.end_line, ev.message, ev.continuation
        );
    }
    assert_eq!((extra.len(), missed.len()), (0, 0));
    assert_eq!(sieved, scanned);
}
