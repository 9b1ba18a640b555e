//! Follow (`F`): what a growing log gains is appended to the timeline shown and the rules run again,
//! without reading the log again; the result is what reading the grown log whole gives.

use diag::follow::{Grown, Tail};
use diag::rules::finding::Analysis;
use diag::tui::loader::{self, Job};
use diag::tui::state::{App, Loaded};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicU64;

fn job(dir: &Path) -> Job {
    Job {
        registry: diag::defs::Registry::load(None).expect("formats"),
        inputs: diag::source::expand(&[dir.display().to_string()]).expect("inputs"),
        forced: None,
        options: Default::default(),
        rules: diag::rules::load::load_rules(None).expect("rules"),
        skipped: Default::default(),
        preview_bytes: 0,
        index_above: u64::MAX,
    }
}

/// What the findings say, with their evidence as (source label, line).
fn findings(a: &Analysis) -> Vec<String> {
    let tl = &a.timeline;
    let mut v: Vec<String> = a
        .findings
        .iter()
        .map(|f| {
            let ev: Vec<(String, u64)> = f
                .evidence
                .iter()
                .map(|e| {
                    let ev = &tl.events[e.event];
                    (tl.sources[ev.source].label.clone(), ev.line)
                })
                .collect();
            format!("{} {} {ev:?}", f.rule, f.title)
        })
        .collect();
    v.sort();
    v
}

/// Every finding's evidence as (rule, source label, line, message).
fn evidence(a: &Analysis) -> Vec<(String, String, u64, String)> {
    let tl = &a.timeline;
    a.findings
        .iter()
        .flat_map(|f| {
            f.evidence.iter().map(|e| {
                let ev = &tl.events[e.event];
                (
                    f.rule.clone(),
                    tl.sources[ev.source].label.clone(),
                    ev.line,
                    ev.message.clone(),
                )
            })
        })
        .collect()
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open");
    f.write_all(text.as_bytes()).expect("append");
}

/// Show the first part of `text` (cut at `cut`), then append the rest in two steps as a follow
/// does; the screen ends where a whole reading of the grown log would.
fn follow_in_steps(name: &str, text: &str, cut: usize) -> (App, Loaded) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    let (head, rest) = text.split_at(cut);
    std::fs::write(&path, head).expect("write");
    let job = job(dir.path());
    let loaded = loader::load(&job, &AtomicU64::new(0)).expect("load");
    let mut app = App::with(loaded, false, (120, 30));
    app.update(diag::tui::keys::Action::Bottom);
    let mut tail = Tail::new(&job.inputs, app.timeline());
    let mid = (rest.len() / 2..=rest.len())
        .find(|&i| rest.is_char_boundary(i))
        .expect("a boundary");
    let job = std::sync::Arc::new(job);
    for (step, part) in [&rest[..mid], &rest[mid..]].into_iter().enumerate() {
        append(&path, part);
        match tail.read(&job.registry, &app.timeline().sources) {
            // In one step, the rules on this thread.
            Grown::Appended(add, mut next) if step == 0 => {
                app.grow(|was| loader::appended(&job, was, add, false));
                next.settle(app.timeline());
                tail = next;
            }
            // As the TUI does it: placed at once, the rules on a thread of their own.
            Grown::Appended(add, mut next) => {
                let before = evidence(&app.analysis);
                app.grow(|was| loader::placed(&job, was, add, false));
                // The last run's findings stay on their records while the rules run again.
                let moved = evidence(&app.analysis);
                assert!(moved.iter().all(|e| before.contains(e)), "{name}");
                next.settle(app.timeline());
                tail = next;
                let judging = loader::Judging::start(job.clone(), app.analysis.clone());
                let started = std::time::Instant::now();
                let verdict = loop {
                    if let Some(v) = judging.poll() {
                        break v.expect("a verdict");
                    }
                    assert!(
                        started.elapsed().as_secs() < 60,
                        "no verdict within a minute"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(2));
                };
                app.grow(|was| loader::judged(was, verdict, false));
            }
            Grown::Nothing => assert!(part.is_empty()),
            Grown::Reload(why) => panic!("{name}: {why}"),
        }
    }
    assert!(matches!(
        tail.read(&job.registry, &app.timeline().sources),
        Grown::Nothing
    ));
    let whole = loader::load(&job, &AtomicU64::new(0)).expect("load");
    (app, whole)
}

#[test]
fn a_followed_fault_log_ends_with_the_findings_of_a_whole_reading() {
    let mut compared = 0;
    for dir in std::fs::read_dir("samples/faults").expect("faults") {
        let dir = dir.expect("entry").path();
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("fault")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        // One log per fault here: a follow of several inputs is the library's test.
        let [file] = files.as_slice() else { continue };
        let text = std::fs::read_to_string(file).expect("read");
        // The head: the first two fifths, cut at a line's end (a first reading's format settles
        // from its head, as the whole's does).
        let cut = text[..text.len() * 2 / 5].rfind('\n').map_or(0, |i| i + 1);
        let name = file.file_name().and_then(|n| n.to_str()).expect("name");
        let (app, whole) = follow_in_steps(name, &text, cut);
        assert_eq!(
            app.timeline().events.len(),
            whole.analysis.timeline.events.len(),
            "{}",
            dir.display()
        );
        assert_eq!(
            findings(&app.analysis),
            findings(&whole.analysis),
            "{}",
            dir.display()
        );
        // At the end before, at the (new) end after: the screen follows the log.
        assert_eq!(app.events.cursor + 1, app.events.rows.len());
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} fault logs followed");
}

#[test]
fn a_panic_appended_while_following_becomes_a_finding() {
    let site = "INFO citadel: citadel-internal-service/src/kernel/mod.rs:40:";
    let head = format!(
        "2026-12-06T10:00:00.000000Z {site} Server listening on 127.0.0.1:12345\n\
         2026-12-06T10:00:01.000000Z {site} Session started for cid=1234567890123456789\n"
    );
    let panic =
        "thread 'tokio-runtime-worker' panicked at citadel_proto/src/proto/session.rs:10:5:\n\
                 called `Option::unwrap()` on a `None` value\n\
                 note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
    let text = head.clone() + panic;
    let (app, whole) = follow_in_steps("internal-service.log", &text, head.len());
    let before: Vec<String> = findings(&app.analysis);
    assert!(
        before.iter().any(|f| f.contains("panic")),
        "no panic finding after the append: {before:?}"
    );
    assert_eq!(before, findings(&whole.analysis));
}
