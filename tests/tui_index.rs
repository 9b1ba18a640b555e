//! The TUI over an index (records read again from their files when shown, `diag tui --index`)
//! shows what it shows over held records: the same screens after the same keys (moving, the
//! detail pane, findings, level, CID, text and template filters, searches, jumps, marks and the
//! export), but for the status line's "indexed".

mod tui_support;

use diag::tui::keys::{Action, Pane};
use diag::tui::loader::{self, Job};
use diag::tui::state::App;
use std::path::Path;
use std::sync::atomic::AtomicU64;
use tui_support::{replay, screen, type_text};

fn job(dir: &str, index_above: u64) -> Job {
    Job {
        registry: diag::defs::Registry::load(None).expect("formats"),
        inputs: diag::source::expand(&[dir.to_string()]).expect("inputs"),
        forced: None,
        options: Default::default(),
        rules: diag::rules::load::load_rules(None).expect("rules"),
        skipped: Default::default(),
        preview_bytes: 0,
        index_above,
    }
}

/// The held and the indexed app of the same inputs.
fn both(dir: &str) -> (App, App) {
    let held = loader::load_with(&job(dir, u64::MAX), &AtomicU64::new(0), false).expect("held");
    let indexed = loader::load_with(&job(dir, 0), &AtomicU64::new(0), false).expect("indexed");
    assert!(held.index.is_none());
    assert!(indexed.index.is_some(), "{dir}: not indexed");
    (
        App::with(held, false, (140, 42)),
        App::with(indexed, false, (140, 42)),
    )
}

/// The screen without the status line's mark of an index (and the padding it took).
fn shown(app: &App) -> String {
    screen(app)
        .replace(" · indexed", "")
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn same_after(held: &mut App, indexed: &mut App, what: &str, keys: &[Action], text: &str) {
    for app in [&mut *held, &mut *indexed] {
        replay(app, keys);
        if !text.is_empty() {
            type_text(app, text);
            app.update(Action::Submit);
        }
    }
    assert_eq!(
        (
            held.events.rows.len(),
            held.events.cursor,
            held.events.hits.len()
        ),
        (
            indexed.events.rows.len(),
            indexed.events.cursor,
            indexed.events.hits.len()
        ),
        "{what}: rows, cursor, hits"
    );
    assert_eq!(shown(held), shown(indexed), "{what}: screen");
}

fn walk(dir: &str) {
    let (mut h, mut x) = both(dir);
    assert_eq!(h.total(), x.total(), "{dir}: records");
    assert!(screen(&x).contains("indexed"));
    let mut step = |what: &str, keys: &[Action], text: &str| {
        same_after(&mut h, &mut x, &format!("{dir}: {what}"), keys, text)
    };
    step("first screen", &[], "");
    step(
        "down a page",
        &[Action::PageDown, Action::Down, Action::Down],
        "",
    );
    step("detail", &[Action::Enter], "");
    step("back", &[Action::Back], "");
    step("bottom", &[Action::Bottom], "");
    step(
        "next error",
        &[Action::Top, Action::NextError, Action::NextError],
        "",
    );
    step("findings", &[Action::NextFinding, Action::Enter], "");
    step(
        "back to the timeline",
        &[Action::Back, Action::NextPane],
        "",
    );
    step("search", &[Action::Search], "(?i)connect|closed|ratchet");
    step("search next", &[Action::SearchNext, Action::SearchNext], "");
    step("level filter", &[Action::Filter], "level>=warn");
    step("clear", &[Action::ClearFilters], "");
    step(
        "text filter",
        &[Action::Filter],
        "text:\"session|peer\" -text:disconnect",
    );
    step(
        "cid on the cursor",
        &[Action::ClearFilters, Action::Down, Action::FocusCid],
        "",
    );
    step(
        "template only",
        &[Action::ClearFilters, Action::Down, Action::OnlyTemplate],
        "",
    );
    step(
        "template hidden",
        &[Action::ClearFilters, Action::Down, Action::HideTemplate],
        "",
    );
    step(
        "marks",
        &[
            Action::ClearFilters,
            Action::ToggleMark,
            Action::Down,
            Action::Down,
            Action::ToggleMark,
            Action::NextMark,
        ],
        "",
    );
    step(
        "incremental search",
        &[Action::Top, Action::Search],
        "error",
    );
    step("goto a line", &[Action::Command], "goto 60%");
    step(
        "detail pane scrolled",
        &[Action::Scroll(Pane::Detail, 3)],
        "",
    );
}

#[test]
fn an_indexed_timeline_shows_what_a_held_one_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    walk(&root.join("seed").display().to_string());
    let mut faults: Vec<_> = std::fs::read_dir(root.join("faults"))
        .expect("faults")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    faults.sort();
    for f in &faults {
        walk(&f.display().to_string());
    }
}

/// `:write-to` writes the same file from an index as from held records.
#[test]
fn an_export_from_an_index_is_the_same_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/seed");
    let (mut h, mut x) = both(&dir.display().to_string());
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = |name: &str| tmp.path().join(name).display().to_string();
    for (app, name) in [(&mut h, "held.txt"), (&mut x, "indexed.txt")] {
        app.update(Action::Command);
        type_text(app, &format!("write-to {}", out(name)));
        app.update(Action::Submit);
    }
    let a = std::fs::read_to_string(out("held.txt")).expect("held export");
    let b = std::fs::read_to_string(out("indexed.txt")).expect("indexed export");
    assert!(a.lines().count() > 100);
    assert_eq!(a, b);
}

/// An empty file is indexed (no rows), not refused.
#[test]
fn an_empty_file_is_indexed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let empty = tmp.path().join("empty.log");
    std::fs::write(&empty, "").expect("write");
    let j = job(&empty.display().to_string(), 0);
    assert!(j.wants_index());
    let loaded = loader::load_with(&j, &AtomicU64::new(0), false).expect("load");
    let ix = loaded.index.as_ref().expect("indexed");
    assert_eq!(ix.len(), 0);
    let app = App::with(loaded, false, (100, 20));
    assert!(screen(&app).contains("No events in these inputs."));
}

/// Gzip cannot be read from the middle: such inputs are held whatever their size.
#[test]
fn gzip_inputs_are_held() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/seed/internal-service.log"),
    )
    .expect("seed");
    let gz = tmp.path().join("svc.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &text).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
    let j = job(&gz.display().to_string(), 0);
    assert!(!j.wants_index());
    let loaded = loader::load_with(&j, &AtomicU64::new(0), false).expect("load");
    assert!(loaded.index.is_none());
    assert!(!loaded.analysis.timeline.events.is_empty());
}
