//! Snapshots of the main TUI screens at 80x24 and 160x48, drawn on ratatui's `TestBackend`:
//! the first screen, after jumping to a finding, with a CID filter, the help screen, and with the
//! detail pane open (on a record and on a finding).
//!
//! The findings are hand-made (`tui_support`), so rule changes do not move these screens; parser or
//! correlation changes to `samples/seed` do: review them with `cargo insta review`.

#[path = "tui_support/mod.rs"]
mod support;

use diag::tui::keys::Action;
use support::{app, replay, screen, type_text};

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// Snapshot both sizes after `actions`, then `typed` text, then `after`.
fn snap(name: &str, actions: &[Action], typed: &str, after: &[Action]) {
    for (w, h) in SIZES {
        let mut a = app(w, h);
        replay(&mut a, actions);
        type_text(&mut a, typed);
        replay(&mut a, after);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen(&a));
    }
}

#[test]
fn first_screen() {
    snap("first", &[], "", &[]);
}

#[test]
fn after_jumping_to_a_finding() {
    snap("finding", &[Action::NextFinding], "", &[]);
}

#[test]
fn root_cause() {
    snap("root", &[Action::Root], "", &[]);
}

#[test]
fn with_a_cid_filter() {
    snap(
        "cid_filter",
        &[Action::Filter],
        "cid:bob",
        &[Action::Submit],
    );
}

#[test]
fn filter_prompt_preview() {
    snap("filter_prompt", &[Action::Filter], "bob level:warn", &[]);
}

#[test]
fn help_screen() {
    snap("help", &[Action::Help], "", &[]);
}

#[test]
fn detail_of_a_record() {
    snap("detail_record", &[Action::Root, Action::Enter], "", &[]);
}

#[test]
fn detail_of_a_finding() {
    // Tab to the findings; the first Down selects the incident, the second its first finding.
    snap(
        "detail_finding",
        &[Action::NextPane, Action::Down, Action::Down, Action::Enter],
        "",
        &[],
    );
}

#[test]
fn detail_of_an_incident() {
    snap(
        "detail_incident",
        &[Action::NextPane, Action::Enter],
        "",
        &[],
    );
}
