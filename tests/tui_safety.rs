//! Log text cannot drive the terminal: control and escape sequences in a log line never reach the
//! screen buffer raw, in any pane.

#[path = "tui_support/mod.rs"]
mod support;

use diag::tui::keys::Action;
use diag::tui::state::{empty_analysis, App, Loaded};
use std::io::Write;

fn hostile_app(w: u16, h: u16) -> App {
    let mut f = tempfile::Builder::new()
        .suffix(".log")
        .tempfile()
        .expect("temp file");
    writeln!(f, "2025-12-30T01:00:00Z INFO first line").unwrap();
    writeln!(
        f,
        "2025-12-30T01:00:01Z ERROR title \x1b]0;pwned\x07 then clear \x1b[2J\x1b[H bell\x07 del\x7f c1\u{9b}31m rtl\u{202e}txet"
    )
    .unwrap();
    writeln!(f, "    at continuation \x1b[31mred\x1b[0m").unwrap();
    f.flush().unwrap();
    let path = f.path().to_str().expect("utf-8 temp path").to_string();
    let mut tl = support::timeline(&[&path]);
    // The parsers strip ANSI sequences themselves; put them back raw so the view's own guard is tested.
    let raw =
        "title \x1b]0;pwned\x07 then clear \x1b[2J\x1b[H bell\x07 c1\u{9b}31m rtl\u{202e}txet";
    let last = tl.events.len() - 1;
    tl.events[last].message = raw.into();
    tl.events[last].continuation = diag::model::thin_vec!["\x1b[31mred\x1b[0m".into()];
    tl.events[last].fields = diag::model::thin_vec![("k\x1b[2J".into(), "v\x07".into())];
    let loaded = Loaded {
        analysis: diag::rules::finding::Analysis {
            timeline: tl,
            ..empty_analysis()
        },
        rules_error: None,
        problems: vec!["x.log: \x1b[2J mended".into()],
        templates: None,
        preview: false,
        index: None,
    };
    App::with(loaded, true, (w, h))
}

fn assert_clean(a: &App) {
    let t = support::draw(a);
    let mut text = String::new();
    for c in t.backend().buffer().content.iter() {
        let sym = c.symbol();
        assert!(
            !sym.chars().any(|ch| ch.is_control() || ch == '\u{202e}'),
            "raw control character in cell {sym:?}"
        );
        text.push_str(sym);
    }
}

#[test]
fn escape_sequences_never_reach_the_buffer_raw() {
    for (w, h) in [(80, 24), (160, 48)] {
        let mut a = hostile_app(w, h);
        for r in 0..a.events.rows.len() {
            // Every row as the parsers left it, then the raw one.
            a.update(if r == 0 { Action::Top } else { Action::Down });
            assert_clean(&a);
        }
        a.update(Action::Bottom);
        let s = support::screen(&a);
        assert!(
            s.contains("\\x1b]0;pwned\\x07"),
            "the escape shows, inert\n{s}"
        );
        assert_clean(&a);
        a.update(Action::Enter);
        assert_clean(&a);
        a.update(Action::Search);
        support::type_text(&mut a, "\x1b[2J");
        assert_clean(&a);
        a.update(Action::Cancel);
        a.update(Action::Filter);
        support::type_text(&mut a, "text:\x07");
        assert_clean(&a);
        a.update(Action::Cancel);
        // The command line echoes what was typed in its hints and errors: made safe too.
        for line in ["hide-file \x1b[2J", "goto \x1b]0;x\x07", "\x1b[31mq"] {
            a.update(Action::Command);
            support::type_text(&mut a, line);
            assert_clean(&a);
            a.update(Action::Submit);
            assert_clean(&a);
            a.update(Action::Cancel);
            assert_clean(&a);
        }
        assert!(!a.quit);
        // The template under the cursor (a hostile line) names itself safely.
        a.update(Action::HideTemplate);
        assert_clean(&a);
    }
}
