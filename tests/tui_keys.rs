//! Key handling and filtering of the TUI, by replaying actions on the state (no terminal).

#[path = "tui_support/mod.rs"]
mod support;

use diag::model::Level;
use diag::tui::keys::{self, Action, Key, Mode, Pane};
use diag::tui::state::{App, Entry, LoadState};
use ratatui::style::{Color, Modifier};
use support::{app, draw, find, replay, screen, seed, type_text, BOB};

fn event_text(a: &App) -> String {
    a.current_event()
        .map(|i| a.timeline().events[i].full_text())
        .unwrap_or_default()
}

fn filter(a: &mut App, text: &str) {
    a.update(Action::Filter);
    type_text(a, text);
    a.update(Action::Submit);
}

#[test]
fn filters_combine_and_show_in_the_status_line() {
    let mut a = app(80, 24);
    let all = a.events.rows.len();
    filter(&mut a, "cid:bob");
    assert_eq!(a.events.filter.cid, Some(BOB));
    let bob = a.events.rows.len();
    assert!(bob > 0 && bob < all, "{bob} of {all}");
    filter(&mut a, "level:error");
    assert!(a.events.rows.len() < bob);
    let tl = a.timeline();
    for i in &a.events.rows {
        let ev = &tl.events[i];
        assert_eq!(ev.level, Some(Level::Error));
        assert!(ev.cids.iter().any(|c| tl.cids.resolve(c) == Some(BOB)));
    }
    let s = screen(&a);
    assert!(s.contains("cid=bob_1767144257"), "{s}");
    assert!(s.contains("level>=error"), "{s}");
    a.update(Action::ClearFilters);
    assert_eq!(a.events.rows.len(), all);
    assert!(a.events.filter.is_empty());
}

#[test]
fn bare_filter_words_are_levels_cids_sources_or_text() {
    let mut a = app(80, 24);
    filter(&mut a, "warn");
    assert_eq!(a.events.filter.min_level, Some(Level::Warn));
    filter(&mut a, "alice");
    assert_eq!(a.events.filter.cid, Some(2140228971562830034));
    filter(&mut a, "bob-tab1");
    assert_eq!(a.events.filter.source.as_deref(), Some("bob-tab1"));
    filter(&mut a, "\"channel closed\" cid: level:");
    assert_eq!(a.events.filter.text.len(), 1);
    assert_eq!(a.events.filter.cid, None);
    assert_eq!(a.events.filter.min_level, None);
    assert!(!a.events.rows.is_empty());
    for i in &a.events.rows {
        assert!(a.timeline().events[i]
            .full_text()
            .contains("channel closed"));
    }
    // An empty filter line drops everything.
    filter(&mut a, "");
    assert!(a.events.filter.is_empty());
}

#[test]
fn a_bad_filter_keeps_the_prompt_open_and_says_why() {
    let mut a = app(80, 24);
    a.update(Action::Filter);
    type_text(&mut a, "level:loud");
    a.update(Action::Submit);
    assert_eq!(a.mode(), Mode::Prompt);
    let err = a
        .prompt
        .as_ref()
        .and_then(|p| p.error.clone())
        .unwrap_or_default();
    assert!(err.contains("not a level"), "{err}");
    a.update(Action::Cancel);
    assert_eq!(a.mode(), Mode::Normal);
    assert!(a.events.filter.is_empty());
}

#[test]
fn search_moves_as_you_type_and_n_wraps() {
    let mut a = app(80, 24);
    a.update(Action::Search);
    type_text(&mut a, "ratchet v8");
    assert!(event_text(&a).contains("ratchet v8"), "incremental search");
    a.update(Action::Submit);
    assert!(a.events.search.is_some());
    let here = a.events.cursor;
    a.update(Action::SearchNext);
    assert_eq!(a.events.cursor, here, "the only hit: n wraps to itself");
    assert_eq!(a.message.as_deref(), Some("search wrapped around"));
    // A cancelled search goes back where it started.
    a.update(Action::Top);
    a.update(Action::Search);
    type_text(&mut a, "panicked");
    assert_ne!(a.events.cursor, 0);
    a.update(Action::Cancel);
    assert_eq!(a.events.cursor, 0);
    // N goes backwards.
    a.update(Action::Search);
    type_text(&mut a, "websocket communication task ended");
    a.update(Action::Submit);
    let first = a.events.cursor;
    a.update(Action::SearchNext);
    assert!(a.events.cursor > first);
    a.update(Action::SearchPrev);
    assert_eq!(a.events.cursor, first);
}

#[test]
fn c_focuses_each_cid_of_the_line_then_none() {
    let mut a = app(80, 24);
    let tl = a.timeline();
    let i = find(tl, "Sending reliable P2P message from");
    let row = a.events.rows.iter().position(|r| r == i).unwrap();
    a.update(Action::Down);
    for _ in 1..row {
        a.update(Action::Down);
    }
    assert_eq!(a.current_event(), Some(i));
    a.update(Action::FocusCid);
    let first = a.events.filter.cid.expect("a CID");
    assert_eq!(a.current_event(), Some(i), "the cursor stays on the line");
    a.update(Action::FocusCid);
    let second = a.events.filter.cid.expect("the other CID");
    assert_ne!(first, second);
    a.update(Action::FocusCid);
    assert_eq!(a.events.filter.cid, None);
}

#[test]
fn next_finding_jumps_and_marks_every_evidence_row() {
    let mut a = app(80, 24);
    a.update(Action::NextFinding);
    assert_eq!(a.findings.selected, Some(0));
    assert_eq!(a.findings.entries[0], Entry::Incident(0));
    let an = &a.analysis;
    let mut all: Vec<usize> = an
        .findings
        .iter()
        .flat_map(|f| f.evidence.iter().map(|e| e.event))
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        a.findings.marked, all,
        "an incident marks the evidence of all its findings"
    );
    assert!(
        event_text(&a).contains("ratchet v9"),
        "jumps to the root's trigger"
    );
    a.update(Action::NextFinding);
    a.update(Action::NextFinding);
    assert_eq!(a.findings.selected, Some(2));
    let f = match a.findings.entries[2] {
        Entry::Finding(f) => f,
        e => panic!("{e:?}"),
    };
    let ev: Vec<usize> = a.analysis.findings[f]
        .evidence
        .iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(a.findings.marked, ev);
    assert_eq!(a.current_event(), Some(ev[0]));
    let s = screen(&a);
    assert!(s.contains('●'), "marked rows show in the gutter\n{s}");
    a.update(Action::PrevFinding);
    assert_eq!(a.findings.selected, Some(1));
    a.update(Action::Back);
    assert_eq!(a.findings.selected, None);
    assert!(a.findings.marked.is_empty());
}

#[test]
fn r_goes_to_the_root_cause_in_one_key() {
    let mut a = app(80, 24);
    a.update(Action::Root);
    let s = a.findings.selected.expect("a selection");
    assert_eq!(a.findings.entries[s], Entry::Finding(0));
    assert!(event_text(&a).contains("Attempted to get ratchet v9"));
    assert!(a
        .message
        .as_deref()
        .unwrap_or("")
        .contains("root cause of I1"));
    // Without incidents, `caused_by` leads from any finding to the root.
    let mut l = seed();
    l.analysis.incidents.clear();
    let mut a = App::with(l, true, (80, 24));
    let f4 = a
        .findings
        .entries
        .iter()
        .position(|e| *e == Entry::Finding(3))
        .unwrap();
    a.update(Action::NextPane);
    for _ in 0..=f4 {
        a.update(Action::Down);
    }
    assert_eq!(a.findings.selected, Some(f4));
    a.update(Action::Root);
    assert_eq!(
        a.findings.entries[a.findings.selected.unwrap()],
        Entry::Finding(0)
    );
}

#[test]
fn paging_keeps_the_cursor_on_screen() {
    let mut a = app(80, 24);
    let page = a.page();
    a.update(Action::PageDown);
    assert_eq!(a.events.cursor, page);
    assert!(a.events.cursor >= a.events.scroll && a.events.cursor < a.events.scroll + page);
    a.update(Action::Bottom);
    assert_eq!(a.events.cursor, a.events.rows.len() - 1);
    assert_eq!(a.events.scroll, a.events.rows.len() - page);
    a.update(Action::PageUp);
    assert_eq!(a.events.cursor, a.events.rows.len() - 1 - page);
    a.update(Action::Top);
    assert_eq!((a.events.cursor, a.events.scroll), (0, 0));
    a.update(Action::Up);
    assert_eq!(a.events.cursor, 0);
}

#[test]
fn tab_enter_and_esc_move_between_panes() {
    let mut a = app(80, 24);
    a.update(Action::NextPane);
    assert_eq!(a.focus, Pane::Findings);
    a.update(Action::Enter);
    assert!(a.detail.open);
    assert_eq!(a.detail.from, Pane::Findings);
    a.update(Action::NextPane);
    assert_eq!(a.focus, Pane::Detail);
    a.update(Action::Down);
    assert_eq!(a.detail.scroll, 1, "j scrolls the detail pane");
    a.update(Action::NextPane);
    assert_eq!(a.focus, Pane::Timeline);
    assert_eq!(
        a.detail.from,
        Pane::Timeline,
        "the detail follows the focused pane"
    );
    a.update(Action::Back);
    assert!(!a.detail.open);
    a.update(Action::PrevPane);
    assert_eq!(a.focus, Pane::Findings);
}

#[test]
fn the_mouse_scrolls_and_clicks() {
    let mut a = app(80, 24);
    a.update(Action::Scroll(Pane::Timeline, 3));
    assert_eq!(a.events.scroll, 3);
    assert_eq!(a.events.cursor, 3, "the cursor stays on screen");
    a.update(Action::Click(Pane::Timeline, 2));
    assert_eq!(a.events.cursor, 5);
    a.update(Action::Click(Pane::Findings, 1));
    assert_eq!(a.focus, Pane::Findings);
    assert_eq!(a.findings.selected, Some(1));
    let r = a.areas.rect(Pane::Timeline);
    assert_eq!(a.areas.pane_at(r.x + 3, r.y + 2), Some(Pane::Timeline));
}

#[test]
fn help_takes_the_keys_until_closed() {
    let mut a = app(80, 24);
    a.update(Action::Help);
    assert_eq!(a.mode(), Mode::Help);
    a.update(Action::Quit);
    assert!(!a.quit && !a.help.open, "q closes the help first");
    a.update(Action::Help);
    a.update(Action::Interrupt);
    assert!(a.quit, "Ctrl-C quits from anywhere");
    let mut a = app(80, 24);
    a.update(Action::Filter);
    assert_eq!(
        keys::action(a.mode(), Key::Char('q')),
        Some(Action::Input('q'))
    );
    a.update(Action::Input('q'));
    assert!(!a.quit);
    a.update(Action::Interrupt);
    assert!(a.quit);
}

#[test]
fn e_jumps_between_errors() {
    let mut a = app(80, 24);
    a.update(Action::NextError);
    let first = a.events.cursor;
    assert_eq!(
        a.timeline().events[a.events.rows.get(first).unwrap()].level,
        Some(Level::Error)
    );
    a.update(Action::NextError);
    assert!(a.events.cursor > first);
    a.update(Action::PrevError);
    assert_eq!(a.events.cursor, first);
}

#[test]
fn follow_needs_files() {
    let mut a = app(80, 24);
    a.update(Action::Follow);
    assert!(a.follow);
    assert!(screen(&a).contains("FOLLOW"));
    a.update(Action::Follow);
    assert!(!a.follow);
    a.can_follow = false;
    a.update(Action::Follow);
    assert!(!a.follow);
    assert!(a
        .message
        .as_deref()
        .unwrap_or("")
        .contains("standard input"));
}

#[test]
fn a_reload_keeps_the_cursor_on_its_record_or_at_the_end() {
    let mut a = app(80, 24);
    replay(&mut a, &[Action::Root]);
    let before = event_text(&a);
    let line = a.timeline().events[a.current_event().unwrap()].line;
    a.install(seed());
    assert_eq!(event_text(&a), before);
    assert_eq!(a.timeline().events[a.current_event().unwrap()].line, line);
    // At the end, a grown file keeps the cursor at the (new) end.
    a.update(Action::Bottom);
    let mut grown = seed();
    let mut extra = grown.analysis.timeline.events.last().unwrap().clone();
    extra.line += 1;
    extra.message = "a new line".into();
    extra.continuation.clear();
    grown.analysis.timeline.events.push(extra);
    a.install(grown);
    assert_eq!(a.events.cursor, a.events.rows.len() - 1);
    assert_eq!(event_text(&a), "a new line");
}

#[test]
fn keys_answer_while_loading_and_progress_shows() {
    let mut a = App::new(true, (80, 24));
    a.progress(5_000_000, 10_000_000);
    let s = screen(&a);
    assert!(s.contains("Loading… 50%"), "{s}");
    a.update(Action::Down);
    a.update(Action::NextFinding);
    a.update(Action::Help);
    assert!(screen(&a).contains("diag help"));
    a.update(Action::Help);
    a.failed("cannot read x.log".into());
    assert!(matches!(a.load, LoadState::Failed(_)));
    assert!(screen(&a).contains("cannot read x.log"));
}

#[test]
fn one_key_table_feeds_footer_and_help() {
    let a = app(80, 24);
    let s = screen(&a);
    let footer = s.lines().last().unwrap_or("");
    for (k, h) in keys::hints(Mode::Normal) {
        if k == "?" || k == "q" {
            assert!(footer.contains(&format!("{k} {h}")), "{footer}");
        }
    }
    let tall = app(120, 80);
    let mut t = tall.clone();
    t.update(Action::Help);
    let s = screen(&t);
    for bd in keys::NORMAL.iter().chain(keys::PROMPT) {
        assert!(s.contains(bd.help), "help lacks {:?}", bd.help);
    }
}

#[test]
fn no_color_uses_no_colour_and_reverse_for_the_cursor() {
    let mut a = app(80, 24);
    a.color = false;
    a.update(Action::Root);
    let t = draw(&a);
    let buf = t.backend().buffer();
    for c in buf.content.iter() {
        assert_eq!(c.fg, Color::Reset, "{c:?}");
        assert_eq!(c.bg, Color::Reset, "{c:?}");
    }
    let y = a.areas.rect(Pane::Timeline).y + 1 + (a.events.cursor - a.events.scroll) as u16;
    let cell = &buf[(5, y)];
    assert!(cell.modifier.contains(Modifier::REVERSED), "{cell:?}");
}
