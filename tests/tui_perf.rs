//! Measurements of the TUI on a large input (not a test of speed: nothing here asserts a time).
//!
//! ```text
//! cargo run --release --manifest-path benches/gen/Cargo.toml -- --size 300M --out /tmp/diag-big
//! DIAG_TUI_PERF=/tmp/diag-big cargo test --release --test tui_perf -- --ignored --nocapture
//! ```
//!
//! `DIAG_TUI_PERF_RULES=0` leaves the rules out (the timeline alone); `DIAG_TUI_PERF_INDEX=never`
//! holds the records where the TUI would index them (`always`: indexes them however small).
//!
//! Prints load time (read, parse, correlate, rules), peak memory, the cost of a filter change and of
//! one redraw while scrolling, of a counted search, `n`, `:filter-out` and `t`/`T`, on a `TestBackend`
//! of 160x48.

use diag::defs::Registry;
use diag::tui::keys::Action;
use diag::tui::loader::{self, Job};
use diag::tui::state::App;
use diag::tui::view;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

/// Resident memory now and the peak so far, after a step.
fn memory() {
    println!(
        "  (resident {:.0} MB, peak {:.0} MB)",
        status_mb("VmRSS:"),
        status_mb("VmHWM:")
    );
}

/// A memory figure of `/proc/self/status`, in MB.
fn status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The folder of logs `DIAG_TUI_PERF` names; `None` (and how to set it) when unset.
fn perf_dir() -> Option<String> {
    let dir = std::env::var("DIAG_TUI_PERF").ok();
    if dir.is_none() {
        println!("set DIAG_TUI_PERF to a directory of logs (see the module doc)");
    }
    dir
}

#[test]
#[ignore = "a measurement; run with DIAG_TUI_PERF=DIR and --ignored --nocapture"]
fn measure_large_input() {
    let Some(dir) = perf_dir() else { return };
    let job = Job {
        registry: Registry::load(None).expect("formats"),
        inputs: diag::source::expand(std::slice::from_ref(&dir)).expect("inputs"),
        forced: None,
        options: Default::default(),
        // DIAG_TUI_PERF_RULES=0 measures the timeline alone.
        rules: if std::env::var("DIAG_TUI_PERF_RULES").as_deref() == Ok("0") {
            Vec::new()
        } else {
            diag::rules::load::load_rules(None).expect("rules")
        },
        skipped: Default::default(),
        preview_bytes: loader::PREVIEW_BYTES,
        // As the TUI decides; DIAG_TUI_PERF_INDEX=never holds the records, =always indexes them.
        index_above: match std::env::var("DIAG_TUI_PERF_INDEX").as_deref() {
            Ok("never") => u64::MAX,
            Ok("always") => 0,
            _ => loader::INDEX_ABOVE,
        },
    };
    let bytes: u64 = job.input_bytes();
    println!(
        "records {}",
        if job.wants_index() { "indexed" } else { "held" }
    );
    let rss0 = peak_rss_mb();
    // The first screen: the preview (the head of each input) loaded, installed and drawn.
    let t = Instant::now();
    let preview = loader::load_preview(&job, &AtomicU64::new(0)).expect("preview");
    let preview_events = preview.analysis.timeline.events.len();
    let app = App::with(preview, true, (160, 48));
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    term.draw(|f| view::draw(f, &app)).expect("draw");
    println!(
        "first screen (preview of {} MB per input, {preview_events} events): {:.0} ms",
        loader::PREVIEW_BYTES >> 20,
        t.elapsed().as_secs_f64() * 1e3
    );
    drop((app, term));
    let t = Instant::now();
    let progress = AtomicU64::new(0);
    let loaded = loader::load(&job, &progress).expect("load");
    let load_s = t.elapsed().as_secs_f64();
    let events = loaded
        .index
        .as_ref()
        .map_or(loaded.analysis.timeline.events.len(), |ix| ix.len());
    if let Some(ix) = &loaded.index {
        println!("index rows and CID lists: {} MB", ix.heap_bytes() >> 20);
    }
    let findings = loaded.analysis.findings.len();
    let rss1 = peak_rss_mb();
    println!(
        "load: {:.1} MB, {events} events, {findings} findings in {load_s:.2} s ({:.0} MB/s); peak RSS {rss1:.0} MB (before {rss0:.0} MB), {:.0} bytes/event",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / load_s,
        (rss1 - rss0) * 1024.0 * 1024.0 / events.max(1) as f64
    );

    let t = Instant::now();
    let mut app = App::with(loaded, true, (160, 48));
    println!(
        "install (index, histogram, anchors): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    let mut term = Terminal::new(TestBackend::new(160, 48)).expect("terminal");

    let frames = 2000;
    let t = Instant::now();
    for k in 0..frames {
        app.update(if k % 10 == 0 {
            Action::PageDown
        } else {
            Action::Down
        });
        term.draw(|f| view::draw(f, &app)).expect("draw");
    }
    let per = t.elapsed().as_secs_f64() * 1e3 / frames as f64;
    println!("scroll + redraw at 160x48: {per:.3} ms per frame ({frames} frames)");
    memory();

    app.update(Action::Bottom);
    let t = Instant::now();
    for _ in 0..200 {
        app.update(Action::PageUp);
        term.draw(|f| view::draw(f, &app)).expect("draw");
    }
    println!(
        "page up + redraw near the end: {:.3} ms per frame",
        t.elapsed().as_secs_f64() * 1e3 / 200.0
    );
    memory();

    let t = Instant::now();
    app.update(Action::Filter);
    for c in "level:error".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    println!(
        "filter level:error: {} of {events} rows in {:.0} ms",
        app.events.rows.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    let t = Instant::now();
    app.update(Action::ClearFilters);
    println!("drop filters: {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    memory();
    let t = Instant::now();
    app.update(Action::Root);
    term.draw(|f| view::draw(f, &app)).expect("draw");
    println!(
        "r (root) + redraw: {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    let t = Instant::now();
    app.update(Action::Search);
    for c in "no such text anywhere".chars() {
        app.update(Action::Input(c));
    }
    println!(
        "incremental search, no hit (worst case, {} keystrokes): {:.0} ms per keystroke",
        21,
        t.elapsed().as_secs_f64() * 1e3 / 21.0
    );
    memory();
    app.update(Action::Cancel);

    // What lnav users do: a search counted over everything, n, :filter-out, t and T.
    let t = Instant::now();
    app.update(Action::Search);
    for c in "error".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    println!(
        "search /error/ + Enter (counts every hit): {} hits in {:.0} ms",
        app.events.hits.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    let t = Instant::now();
    for _ in 0..100 {
        app.update(Action::SearchNext);
    }
    println!(
        "n: {:.3} ms per hit",
        t.elapsed().as_secs_f64() * 1e3 / 100.0
    );
    memory();
    let t = Instant::now();
    app.update(Action::Command);
    for c in "filter-out error".chars() {
        app.update(Action::Input(c));
    }
    app.update(Action::Submit);
    println!(
        ":filter-out error: {} rows in {:.0} ms (hits recounted)",
        app.events.rows.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    app.update(Action::ClearFilters);
    app.update(Action::Top);
    let t = Instant::now();
    app.update(Action::OnlyTemplate);
    println!(
        "t (first: computes every template): {} rows in {:.0} ms",
        app.events.rows.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    let t = Instant::now();
    app.update(Action::HideTemplate);
    println!(
        "T (templates known): {} rows in {:.0} ms",
        app.events.rows.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    memory();
    println!("peak RSS at the end: {:.0} MB", peak_rss_mb());
}

/// Following a large input that grows: a look at what it gained against reading it all again.
/// The inputs are copied to a temporary folder; the largest then gains its own last megabyte again
/// (lines a little before the end: the new records merge into the timeline's tail).
#[test]
#[ignore = "a measurement; run with DIAG_TUI_PERF=DIR and --ignored --nocapture"]
fn measure_follow_on_a_large_input() {
    use diag::follow::{Grown, Tail};
    let Some(dir) = perf_dir() else { return };
    let copy = tempfile::tempdir().expect("tempdir");
    let mut largest: Option<(u64, std::path::PathBuf)> = None;
    for e in std::fs::read_dir(&dir).expect("the folder") {
        let p = e.expect("entry").path();
        if !p.is_file() {
            continue;
        }
        let to = copy.path().join(p.file_name().expect("a name"));
        let n = std::fs::copy(&p, &to).expect("copy");
        if largest.as_ref().is_none_or(|(m, _)| n > *m) {
            largest = Some((n, to));
        }
    }
    let Some((_, big)) = largest else { return };
    let job = std::sync::Arc::new(Job {
        registry: Registry::load(None).expect("formats"),
        inputs: diag::source::expand(&[copy.path().display().to_string()]).expect("inputs"),
        forced: None,
        options: Default::default(),
        rules: diag::rules::load::load_rules(None).expect("rules"),
        skipped: Default::default(),
        preview_bytes: 0,
        index_above: u64::MAX,
    });
    let loaded = loader::load(&job, &AtomicU64::new(0)).expect("load");
    let mut app = App::with(loaded, true, (160, 48));
    app.update(Action::Bottom);
    let tail = Tail::new(&job.inputs, app.timeline());
    let text = std::fs::read(&big).expect("read");
    let from = text.len().saturating_sub(1 << 20);
    let from = from
        + text[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    let gained = text[from..].to_vec();
    drop(text);
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&big)
        .expect("open")
        .write_all(&gained)
        .expect("append");
    let t = Instant::now();
    let Grown::Appended(add, _) = tail.read(&job.registry, &app.timeline().sources) else {
        panic!("the input grew");
    };
    let read_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    app.grow(|was| loader::placed(&job, was, add, false));
    let placed_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let verdict = diag::rules::judge(&job.rules, &Default::default(), &app.analysis.timeline);
    let judge_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    app.grow(|was| loader::judged(was, verdict, false));
    let judged_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let whole = loader::load(&job, &AtomicU64::new(0)).expect("load");
    let reload_s = t.elapsed().as_secs_f64();
    println!(
        "follow, {} KB gained on {} events: read {read_ms:.0} ms (own thread), placed and shown \
         {placed_ms:.0} ms (UI thread), rules {judge_ms:.0} ms (own thread), verdict shown \
         {judged_ms:.0} ms (UI thread); reading everything again {reload_s:.2} s",
        gained.len() >> 10,
        app.timeline().events.len(),
    );
    assert_eq!(
        app.timeline().events.len(),
        whole.analysis.timeline.events.len()
    );
}
