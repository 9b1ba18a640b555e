//! What lnav users reach for, on the TUI state and its `TestBackend` screen: `w`/`W`, the search hit
//! count, naming the finding `]`/`[` select, a help pane that stops at its end, exclude filters, the
//! `:` command line, and filtering by template (`t`/`T`).

#[path = "tui_support/mod.rs"]
mod support;

use diag::model::Level;
use diag::templates::id_of_event;
use diag::tui::keys::{self, Action, Key, Mode};
use diag::tui::state::App;
use diag::tui::view::help;
use support::{app, find, find_all, screen, type_text, BOB};

/// Press keys as the terminal would deliver them (through the key tables).
fn press(a: &mut App, keys_typed: &str) {
    for c in keys_typed.chars() {
        if let Some(act) = keys::action(a.mode(), Key::Char(c)) {
            a.update(act);
        }
    }
}

fn enter(a: &mut App) {
    a.update(keys::action(a.mode(), Key::Enter).expect("Enter is bound"));
}

/// `:` + a command + Enter.
fn command(a: &mut App, line: &str) {
    press(a, ":");
    assert_eq!(a.mode(), Mode::Prompt);
    type_text(a, line);
    enter(a);
}

fn filter(a: &mut App, line: &str) {
    press(a, "f");
    type_text(a, line);
    enter(a);
}

fn status(a: &App) -> String {
    let s = screen(a);
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len() - 2].trim_matches('"').to_string()
}

fn prompt_error(a: &App) -> String {
    a.prompt
        .as_ref()
        .and_then(|p| p.error.clone())
        .unwrap_or_default()
}

fn texts(a: &App) -> Vec<String> {
    a.events
        .rows
        .iter()
        .map(|i| a.timeline().events[i].full_text())
        .collect()
}

fn mentions_bob(a: &App, i: usize) -> bool {
    let tl = a.timeline();
    tl.events[i]
        .cids
        .iter()
        .any(|c| tl.cids.resolve(c) == Some(BOB))
}

#[test]
fn w_and_shift_w_step_through_warnings_and_worse() {
    let mut a = app(80, 24);
    let level = |a: &App| a.timeline().events[a.current_event().unwrap()].level;
    let tl = a.timeline();
    let first_warn = a
        .events
        .rows
        .iter()
        .skip(1)
        .position(|i| tl.events[i].level >= Some(Level::Warn))
        .expect("the seed has warnings")
        + 1;
    press(&mut a, "w");
    assert_eq!(a.events.cursor, first_warn);
    let mut seen = vec![level(&a)];
    for _ in 0..40 {
        let before = a.events.cursor;
        press(&mut a, "w");
        assert!(a.events.cursor > before);
        assert!(level(&a) >= Some(Level::Warn), "{:?}", level(&a));
        seen.push(level(&a));
    }
    assert!(seen.contains(&Some(Level::Warn)) && seen.contains(&Some(Level::Error)));
    let here = a.events.cursor;
    press(&mut a, "W");
    assert!(a.events.cursor < here && level(&a) >= Some(Level::Warn));
    press(&mut a, "G");
    press(&mut a, "w");
    assert!(status(&a).contains("no more warnings or errors that way"));
}

#[test]
fn search_shows_which_hit_of_how_many_and_follows_n() {
    let mut a = app(160, 24);
    let all = find_all(a.timeline(), "WebSocket communication task ended");
    assert!(all.len() >= 2);
    press(&mut a, "/");
    type_text(&mut a, "websocket communication task ended");
    enter(&mut a);
    let n = all.len();
    assert!(status(&a).contains(&format!("1/{n}")), "{}", status(&a));
    press(&mut a, "n");
    assert!(status(&a).contains(&format!("2/{n}")), "{}", status(&a));
    assert_eq!(a.current_event(), Some(all[1]));
    press(&mut a, "N");
    assert!(status(&a).contains(&format!("1/{n}")));
    press(&mut a, "N");
    assert_eq!(
        a.current_event(),
        Some(all[n - 1]),
        "N wraps to the last hit"
    );
    assert!(status(&a).contains(&format!("{n}/{n}")));
    // Between hits the count says so; a filter recounts.
    press(&mut a, "g");
    assert!(status(&a).contains(&format!("-/{n}")), "{}", status(&a));
    filter(&mut a, "source:alice");
    let alice = a.events.hits.len();
    assert!(alice < n && alice > 0, "{alice} of {n}");
    assert!(status(&a).contains(&format!("/{alice}")), "{}", status(&a));
    press(&mut a, "/");
    type_text(&mut a, "nothing like this anywhere");
    enter(&mut a);
    assert!(status(&a).contains("no hits"), "{}", status(&a));
}

#[test]
fn brackets_name_the_finding_they_select() {
    let mut a = app(120, 30);
    press(&mut a, "]");
    let s = status(&a);
    assert!(s.contains("1/5 I1: ratchet gap → panic"), "{s}");
    press(&mut a, "]");
    let s = status(&a);
    assert!(
        s.contains("2/5 F1 critical: ratchet v9 requested for bob"),
        "{s}"
    );
    press(&mut a, "]]");
    assert!(status(&a).contains("4/5 F3 high: WebSocket ended"));
    press(&mut a, "[");
    assert!(status(&a).contains("3/5 F2 critical: panic at session.rs"));
    // Hidden evidence is still said, after the name.
    filter(&mut a, "source:alice");
    press(&mut a, "[");
    let s = status(&a);
    assert!(
        s.contains("2/5 F1") && s.contains("hidden by the filters"),
        "{s}"
    );
}

#[test]
fn the_help_pane_stops_at_its_last_line() {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = app(w, h);
        press(&mut a, "?");
        let max = help::max_scroll(a.size);
        assert!(max > 0, "the help is longer than {h} rows");
        for _ in 0..max + 50 {
            press(&mut a, "j");
        }
        assert_eq!(a.help.scroll, max);
        let s = screen(&a);
        assert!(s.contains("a click selects"), "the last line shows\n{s}");
        press(&mut a, "k");
        assert_eq!(a.help.scroll, max - 1, "one key up moves at once");
        press(&mut a, "g");
        assert_eq!(a.help.scroll, 0);
        press(&mut a, "G");
        assert_eq!(a.help.scroll, max);
        press(&mut a, " ");
        assert_eq!(a.help.scroll, max);
        // The help lists the commands and the hiding syntax.
        press(&mut a, "g");
        let mut all = String::new();
        for _ in 0..=max {
            all.push_str(&screen(&a));
            press(&mut a, "j");
        }
        for needle in [
            ":filter-in REGEX",
            ":filter-out REGEX",
            ":goto",
            "-cid:alice",
        ] {
            assert!(all.contains(needle), "help lacks {needle}");
        }
    }
}

#[test]
fn minus_hides_cids_text_levels_sources_and_minus_key_colon_shows_them_again() {
    let mut a = app(160, 30);
    let all = a.events.rows.len();
    filter(&mut a, "-cid:bob");
    assert!(a.events.rows.len() < all);
    assert!(a.events.rows.iter().all(|i| !mentions_bob(&a, i)));
    assert!(status(&a).contains("-cid=bob_1767144257"), "{}", status(&a));
    filter(&mut a, "-text:\"channel closed\" -level:debug");
    assert!(texts(&a).iter().all(|t| !t.contains("channel closed")));
    let tl = a.timeline();
    assert!(a
        .events
        .rows
        .iter()
        .all(|i| tl.events[i].level != Some(Level::Debug)));
    let s = status(&a);
    assert!(
        s.contains("-text=/channel closed/") && s.contains("-level=debug"),
        "{s}"
    );
    filter(&mut a, "-source:alice");
    let tl = a.timeline();
    assert!(a
        .events
        .rows
        .iter()
        .all(|i| !tl.sources[tl.events[i].source].label.contains("alice")));
    // A bare word after - is read as f reads it: a level here.
    filter(&mut a, "-info");
    let tl = a.timeline();
    assert!(a
        .events
        .rows
        .iter()
        .all(|i| tl.events[i].level.unwrap_or(Level::Info) != Level::Info));
    // Hiding and keeping combine; -key: shows that kind again.
    filter(&mut a, "-cid: -source: -level: -text:");
    assert!(a.events.filter.hide.is_empty());
    assert_eq!(a.events.rows.len(), all);
    filter(&mut a, "level:warn -text:websocket");
    assert!(!a.events.rows.is_empty());
    assert!(texts(&a)
        .iter()
        .all(|t| !t.to_lowercase().contains("websocket")));
    press(&mut a, "x");
    assert!(a.events.filter.is_empty());
    // A mistake keeps the prompt open and names the nearest key.
    press(&mut a, "f");
    type_text(&mut a, "-levl:debug");
    enter(&mut a);
    assert!(
        prompt_error(&a).contains("did you mean level?"),
        "{}",
        prompt_error(&a)
    );
}

#[test]
fn filter_in_and_out_as_lnav_has_them() {
    let mut a = app(160, 30);
    command(&mut a, "filter-in panicked");
    assert_eq!(a.mode(), Mode::Normal);
    assert!(!a.events.rows.is_empty());
    assert!(texts(&a).iter().all(|t| t.contains("panicked")));
    // A second filter-in adds lines (any pattern keeps a line).
    let panics = a.events.rows.len();
    command(&mut a, "filter-in ratchet v9");
    assert!(a.events.rows.len() > panics);
    assert!(texts(&a)
        .iter()
        .all(|t| t.contains("panicked") || t.contains("ratchet v9")));
    command(&mut a, "filter-out Attempted");
    assert!(texts(&a).iter().all(|t| !t.contains("Attempted")));
    let s = status(&a);
    assert!(
        s.contains("text=/panicked/|/ratchet v9/") && s.contains("-text=/Attempted/"),
        "{s}"
    );
    command(&mut a, "delete-filter Attempted");
    assert!(a.events.filter.hide.text.is_empty());
    command(&mut a, "delete-filter nothing such");
    assert!(status(&a).contains("no filter-in or filter-out /nothing such/"));
    command(&mut a, "clear-filter");
    assert!(a.events.filter.is_empty());
    assert!(status(&a).contains("all filters dropped"));
}

#[test]
fn colon_commands_set_levels_hide_files_go_places_and_quit() {
    let mut a = app(160, 30);
    let all = a.events.rows.len();
    command(&mut a, "set-min-log-level warning");
    assert_eq!(a.events.filter.min_level, Some(Level::Warn));
    command(&mut a, "filter level: -level:");
    assert_eq!(a.events.filter.min_level, None);
    command(&mut a, "hide-file alice");
    let tl = a.timeline();
    assert!(a
        .events
        .rows
        .iter()
        .all(|i| !tl.sources[tl.events[i].source].label.contains("alice")));
    command(&mut a, "hide-file nobody");
    assert!(status(&a).contains("no source named like \"nobody\""));
    command(&mut a, "show-file alice");
    assert_eq!(a.events.rows.len(), all);
    // `-source:alice` keeps the label it resolved to; show-file finds it by either name.
    filter(&mut a, "-source:alice -source:bob");
    assert_eq!(a.events.filter.hide.sources, vec!["alice-tab0", "bob-tab1"]);
    command(&mut a, "show-file alice");
    assert_eq!(a.events.filter.hide.sources, vec!["bob-tab1"]);
    command(&mut a, "show-file");
    assert_eq!(a.events.rows.len(), all);

    command(&mut a, "goto 10");
    assert_eq!(a.events.cursor, 9, "rows count from 1 as the title does");
    assert!(screen(&a).contains(&format!("Timeline  10/{all}")));
    command(&mut a, "goto 50%");
    assert_eq!(a.events.cursor, all / 2);
    command(&mut a, "goto 100000");
    assert_eq!(a.events.cursor, all - 1);
    let panic = find(a.timeline(), "panicked at");
    let ev = a.timeline().events[panic].clone();
    let (label, line) = (a.timeline().sources[ev.source].label.clone(), ev.line);
    command(&mut a, &format!("goto {label}:{line}"));
    assert_eq!(a.current_event(), Some(panic));
    let at = diag::report::fields::time_column(a.timeline(), &ev);
    command(&mut a, "goto 1");
    command(&mut a, &format!("goto {}", at.trim()));
    let got = a.current_event().unwrap();
    assert!(got <= panic, "the first row at or after the panic's time");
    assert!(diag::report::fields::time_column(a.timeline(), &a.timeline().events[got]) >= at);
    command(&mut a, "goto f3");
    assert!(status(&a).contains("F3 high"), "{}", status(&a));
    command(&mut a, "goto F9");
    assert!(status(&a).contains("no finding or incident F9"));

    command(&mut a, "help");
    assert!(a.help.open);
    press(&mut a, "q");
    command(&mut a, "q");
    assert!(a.quit);
}

#[test]
fn the_command_line_hints_and_refuses_with_the_nearest_command() {
    let mut a = app(120, 30);
    press(&mut a, ":");
    assert!(
        status(&a).contains("Tab completes, :help lists them"),
        "{}",
        status(&a)
    );
    type_text(&mut a, "filt");
    let s = status(&a);
    assert!(s.starts_with(":filt"), "{s}");
    assert!(s.contains("filter-in · filter-out"), "{s}");
    type_text(&mut a, "er-out");
    assert!(status(&a).contains("filter-out REGEX"), "{}", status(&a));
    a.update(Action::EraseAll);
    type_text(&mut a, "fliter-in x");
    enter(&mut a);
    assert_eq!(a.mode(), Mode::Prompt, "a mistake keeps the line to fix");
    let e = prompt_error(&a);
    assert!(
        e.contains("unknown command :fliter-in; did you mean :filter-in?"),
        "{e}"
    );
    assert!(status(&a).contains("did you mean :filter-in?"));
    a.update(Action::EraseAll);
    type_text(&mut a, "goto");
    enter(&mut a);
    assert!(prompt_error(&a).contains("goto needs where to go"));
    a.update(Action::EraseAll);
    type_text(&mut a, "filter-in (");
    enter(&mut a);
    assert!(!prompt_error(&a).is_empty());
    a.update(Action::Cancel);
    assert_eq!(a.mode(), Mode::Normal);
    assert!(a.events.filter.is_empty() && !a.quit);
}

#[test]
fn t_keeps_and_shift_t_hides_the_template_under_the_cursor() {
    let mut a = app(160, 40);
    let tl = a.timeline();
    let i = find(tl, "Failed to send message to WebSocket channel");
    let id = id_of_event(&tl.events[i]);
    let same: Vec<usize> = (0..tl.events.len())
        .filter(|&k| id_of_event(&tl.events[k]) == id)
        .collect();
    assert!(same.len() >= 2);
    let all = a.events.rows.len();
    let at = format!(
        "goto {}:{}",
        tl.sources[tl.events[i].source].label, tl.events[i].line
    );
    command(&mut a, &at);
    assert_eq!(a.current_event(), Some(i));
    // The detail pane names the template.
    enter(&mut a);
    let s = screen(&a);
    assert!(s.contains("── Template ──") && s.contains(&id), "{s}");
    enter(&mut a);
    press(&mut a, "t");
    assert_eq!(a.events.rows, same);
    assert_eq!(a.current_event(), Some(i), "the cursor stays on its line");
    assert!(
        status(&a).contains(&format!("only template {id}")),
        "{}",
        status(&a)
    );
    assert!(status(&a).contains(&format!("{} lines", same.len())));
    press(&mut a, "t");
    assert_eq!(a.events.rows.len(), all, "t again drops it");
    press(&mut a, "T");
    assert_eq!(a.events.rows.len(), all - same.len());
    assert!(a.events.rows.iter().all(|r| !same.contains(&r)));
    assert!(
        status(&a).contains(&format!("-template={id}")),
        "{}",
        status(&a)
    );
    // The same by typing, as the detail pane shows the id.
    press(&mut a, "x");
    filter(&mut a, &format!("template:{id}"));
    assert_eq!(a.events.rows, same);
    filter(&mut a, &format!("template: -template:{id}"));
    assert_eq!(a.events.rows.len(), all - same.len());
    // A reload keeps a template filter (ids are stable).
    a.install(support::seed());
    assert_eq!(a.events.rows.len(), all - same.len());
    press(&mut a, "f");
    type_text(&mut a, "template:nope");
    enter(&mut a);
    assert!(prompt_error(&a).contains("not a template id"));
}

#[test]
fn write_to_and_append_to_save_the_rows_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("panics.log");
    let mut a = app(160, 30);
    command(&mut a, "filter-in panicked|ratchet v9");
    let rows = a.events.rows.len();
    let continued: usize = a
        .events
        .rows
        .iter()
        .map(|i| a.timeline().events[i].continuation.len())
        .sum();
    command(&mut a, &format!("write-to {}", out.display()));
    assert!(
        status(&a).contains(&format!("wrote {rows} rows to")),
        "{}",
        status(&a)
    );
    let text = std::fs::read_to_string(&out).expect("written");
    assert_eq!(text.lines().count(), rows + continued);
    let heads: Vec<&str> = text.lines().filter(|l| !l.starts_with("    ")).collect();
    assert_eq!(heads.len(), rows);
    assert!(heads
        .iter()
        .all(|l| l.contains("panicked") || l.contains("ratchet v9")));
    assert!(heads.iter().any(|l| l.contains("internal-service")));
    command(&mut a, &format!("append-to {}", out.display()));
    let again = std::fs::read_to_string(&out).expect("appended");
    assert_eq!(again.lines().count(), 2 * (rows + continued));
    command(&mut a, &format!("write-to {}", out.display()));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        text,
        "write-to replaces"
    );
    // A path that cannot be written says so and keeps everything else as it was.
    let bad = dir.path().join("no/such/dir/x.log");
    command(&mut a, &format!("write-to {}", bad.display()));
    assert!(status(&a).contains("cannot write"), "{}", status(&a));
    assert_eq!(a.events.rows.len(), rows);
}

#[test]
fn tab_completes_command_names_and_filter_keys() {
    let mut a = app(120, 30);
    press(&mut a, ":");
    type_text(&mut a, "filter-o");
    a.update(keys::action(a.mode(), Key::Tab).expect("Tab is bound in a prompt"));
    assert_eq!(a.prompt.as_ref().unwrap().text, "filter-out ");
    type_text(&mut a, "Ping");
    enter(&mut a);
    assert_eq!(a.events.filter.hide.text.len(), 1);
    press(&mut a, "f");
    type_text(&mut a, "-lev");
    a.update(Action::Complete);
    type_text(&mut a, "debug");
    assert_eq!(a.prompt.as_ref().unwrap().text, "-level:debug");
    enter(&mut a);
    assert_eq!(a.events.filter.hide.levels, vec![Level::Debug]);
    // Nothing to complete: the line stays as typed.
    press(&mut a, "/");
    type_text(&mut a, "abc");
    a.update(Action::Complete);
    assert_eq!(a.prompt.as_ref().unwrap().text, "abc");
}

#[test]
fn up_and_down_recall_what_was_typed_at_each_prompt() {
    let mut a = app(120, 30);
    command(&mut a, "filter-out Ping");
    command(&mut a, "goto 5");
    filter(&mut a, "level:warn");
    let up = || keys::action(Mode::Prompt, Key::Up).expect("↑ is bound in a prompt");
    let down = || keys::action(Mode::Prompt, Key::Down).expect("↓ is bound in a prompt");
    press(&mut a, ":");
    a.update(up());
    assert_eq!(a.prompt.as_ref().unwrap().text, "goto 5");
    a.update(up());
    assert_eq!(a.prompt.as_ref().unwrap().text, "filter-out Ping");
    a.update(up());
    assert_eq!(
        a.prompt.as_ref().unwrap().text,
        "filter-out Ping",
        "stops at the oldest"
    );
    a.update(down());
    assert_eq!(a.prompt.as_ref().unwrap().text, "goto 5");
    a.update(down());
    assert_eq!(
        a.prompt.as_ref().unwrap().text,
        "",
        "past the newest: an empty line"
    );
    a.update(Action::Cancel);
    // Each prompt has its own history.
    press(&mut a, "f");
    a.update(up());
    assert_eq!(a.prompt.as_ref().unwrap().text, "level:warn");
    a.update(Action::Cancel);
    press(&mut a, "/");
    a.update(up());
    assert_eq!(a.prompt.as_ref().unwrap().text, "", "no search typed yet");
}

#[test]
fn m_marks_lines_u_goes_through_them_and_write_to_takes_them() {
    let mut a = app(120, 30);
    command(&mut a, "goto 5");
    press(&mut a, "m");
    let first = a.current_event().unwrap();
    assert!(status(&a).contains("marked (1 in all"), "{}", status(&a));
    command(&mut a, "goto 40");
    press(&mut a, "m");
    let second = a.current_event().unwrap();
    assert_eq!(a.events.marks, vec![first, second]);
    let s = screen(&a);
    assert!(s.contains('▸'), "a marked line shows in the gutter\n{s}");
    press(&mut a, "g");
    press(&mut a, "u");
    assert_eq!(a.current_event(), Some(first));
    press(&mut a, "u");
    assert_eq!(a.current_event(), Some(second));
    press(&mut a, "u");
    assert!(status(&a).contains("no more marked lines that way"));
    press(&mut a, "U");
    assert_eq!(a.current_event(), Some(first));
    // :write-to takes the marked lines, as in lnav.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("marked.log");
    command(&mut a, &format!("write-to {}", out.display()));
    assert!(status(&a).contains("wrote 2 marked rows"), "{}", status(&a));
    let text = std::fs::read_to_string(&out).unwrap();
    let heads = text.lines().filter(|l| !l.starts_with("    ")).count();
    assert_eq!(heads, 2);
    // A reload keeps the marks on their lines; m again unmarks; C drops them all.
    a.install(support::seed());
    assert_eq!(a.events.marks, vec![first, second]);
    press(&mut a, "m");
    assert_eq!(a.events.marks, vec![second]);
    press(&mut a, "C");
    assert!(a.events.marks.is_empty());
    press(&mut a, "u");
    assert!(status(&a).contains("no marks yet"));
}

#[test]
fn hide_lines_before_and_after_a_time_of_day() {
    use diag::tui::filterset::time_of_day;
    let mut a = app(160, 30);
    let all = a.events.rows.len();
    let tl = a.timeline();
    let panic = find(tl, "panicked at");
    let at = time_of_day(&tl.events[panic]).expect("the panic has a time");
    let minute = at.format("%H:%M").to_string();
    command(&mut a, &format!("hide-lines-before {minute}"));
    let shown = a.events.rows.len();
    assert!(shown < all && shown > 0, "{shown} of {all}");
    let tl = a.timeline();
    let start = time_of_day(&tl.events[a.events.rows.get(0).unwrap()]);
    assert!(a
        .events
        .rows
        .iter()
        .filter_map(|i| time_of_day(&tl.events[i]))
        .all(|t| t.format("%H:%M").to_string() >= minute));
    assert!(start.is_some());
    assert!(
        status(&a).contains(&format!("from={minute}:00")),
        "{}",
        status(&a)
    );
    command(&mut a, &format!("hide-lines-after {at}"));
    assert!(a.events.rows.len() < shown);
    assert!(a.events.rows.contains(panic), "a line at the limit stays");
    let tl = a.timeline();
    assert!(a
        .events
        .rows
        .iter()
        .filter_map(|i| time_of_day(&tl.events[i]))
        .all(|t| t <= at));
    command(&mut a, "show-lines-before-and-after");
    assert_eq!(a.events.rows.len(), all);
    press(&mut a, ":");
    type_text(&mut a, "hide-lines-after noon");
    enter(&mut a);
    assert!(prompt_error(&a).contains("not a time of day"));
}

#[test]
fn what_expansion_skipped_is_shown_with_the_load_problems() {
    use diag::tui::loader::{self, Job};
    let seed = "samples/seed".to_string();
    let expansion = diag::source::expand_all(&[seed.clone(), seed]).expect("inputs");
    let job = Job {
        registry: diag::defs::Registry::load(None).expect("formats"),
        inputs: expansion.inputs,
        forced: None,
        options: Default::default(),
        rules: Vec::new(),
        skipped: expansion.skipped,
        preview_bytes: 0,
        index_above: u64::MAX,
    };
    let progress = std::sync::atomic::AtomicU64::new(0);
    let loaded = loader::load(&job, &progress).expect("load");
    assert!(
        loaded
            .problems
            .iter()
            .any(|p| p.contains("given more than once; read once")),
        "{:?}",
        loaded.problems
    );
    let a = App::with(loaded, true, (120, 30));
    assert!(status(&a).contains("warnings"), "{}", status(&a));
}

/// lnav shows a big file at once and indexes the rest behind it: the first load of a big input shows
/// the head of each input (without rules, which would judge part of a log), then the whole, keeping
/// the cursor's record.
#[test]
fn a_big_input_shows_a_preview_first_and_then_the_whole() {
    use diag::tui::loader::{Job, Loader};
    let job_with = |preview_bytes: u64| Job {
        registry: diag::defs::Registry::load(None).expect("formats"),
        inputs: diag::source::expand(&["samples/seed".to_string()]).expect("inputs"),
        forced: None,
        options: Default::default(),
        rules: diag::rules::load::load_rules(None).expect("rules"),
        skipped: Default::default(),
        preview_bytes,
        index_above: u64::MAX,
    };
    let job = std::sync::Arc::new(job_with(4096));
    assert!(job.wants_preview());
    let mut loader = Loader::start(job.clone());
    let next = |loader: &mut Loader| {
        let started = std::time::Instant::now();
        loop {
            if let Some(r) = loader.poll() {
                return r.expect("load");
            }
            assert!(started.elapsed().as_secs() < 60, "no load within a minute");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let preview = next(&mut loader);
    assert!(preview.preview);
    assert!(
        preview.analysis.findings.is_empty(),
        "no rules on a preview"
    );
    let why = preview.rules_error.clone().unwrap_or_default();
    assert!(why.contains("preview of the first"), "{why}");
    assert!(!loader.done(), "the whole is still to come");
    let whole = next(&mut loader);
    assert!(loader.done());
    assert!(loader.poll().is_none());
    assert!(!whole.preview);
    assert!(
        whole.analysis.timeline.events.len() > preview.analysis.timeline.events.len(),
        "{} vs {}",
        whole.analysis.timeline.events.len(),
        preview.analysis.timeline.events.len()
    );
    assert!(
        !whole.analysis.findings.is_empty(),
        "the rules ran on the whole"
    );
    let mut a = App::with(preview, true, (120, 30));
    assert!(
        status(&a).contains("PREVIEW: reading the rest"),
        "{}",
        status(&a)
    );
    press(&mut a, "jjj");
    let at = a.current_event().map(|i| {
        let ev = &a.timeline().events[i];
        (ev.source, ev.line)
    });
    let label = |a: &App, s: usize| a.timeline().sources[s].label.clone();
    let at = at.map(|(s, l)| (label(&a, s), l));
    a.install(whole);
    assert!(!status(&a).contains("PREVIEW"), "{}", status(&a));
    let now = a.current_event().map(|i| {
        let ev = &a.timeline().events[i];
        (label(&a, ev.source), ev.line)
    });
    assert_eq!(now, at, "the cursor stays on its record");
    // Inputs smaller than the preview have none, and neither has a job that asks for none.
    assert!(!job_with(1 << 20).wants_preview());
    assert!(!job_with(0).wants_preview());
}

#[test]
fn a_reload_under_a_template_filter_brings_its_templates() {
    use diag::tui::loader::{self, Job};
    let job = Job {
        registry: diag::defs::Registry::load(None).expect("formats"),
        inputs: diag::source::expand(&["samples/seed".to_string()]).expect("inputs"),
        forced: None,
        options: Default::default(),
        rules: Vec::new(),
        skipped: Default::default(),
        preview_bytes: 0,
        index_above: u64::MAX,
    };
    let progress = std::sync::atomic::AtomicU64::new(0);
    let plain = loader::load(&job, &progress).expect("load");
    // The rule engine computed every event's template: they come with every load, so the first `t`
    // masks nothing again (10 s at 1 GB), and they are the ones a fresh build gives.
    let pt = plain.templates.as_ref().expect("the engine's templates");
    let fresh = diag::templates::Templates::build(&plain.analysis.timeline);
    assert_eq!(pt.of_event, fresh.of_event);
    assert_eq!(pt.list.len(), fresh.list.len());
    let with = loader::load_with(&job, &progress, true).expect("load");
    let t = with.templates.as_ref().expect("templates");
    assert_eq!(t.of_event.len(), with.analysis.timeline.events.len());
    let mut a = App::with(plain, true, (120, 30));
    press(&mut a, "T");
    let hidden = a.events.filter.hide.templates.clone();
    let rows = a.events.rows.clone();
    assert_eq!(hidden.len(), 1);
    // The reload installs the templates it brought; the filter holds on the same rows.
    a.install(with);
    assert!(a.templates.is_some());
    assert_eq!(a.events.filter.hide.templates, hidden);
    assert_eq!(a.events.rows, rows);
}

/// The style of the first cell where `needle` starts on screen.
fn style_at(a: &App, needle: &str) -> Option<ratatui::style::Style> {
    let t = support::draw(a);
    let buf = t.backend().buffer();
    let w = buf.area.width;
    for y in 0..buf.area.height {
        let row: Vec<&str> = (0..w).map(|x| buf[(x, y)].symbol()).collect();
        let line = row.concat();
        if let Some(k) = line.find(needle) {
            // Cells are one symbol each: count the symbols before the byte offset.
            let x = line[..k].chars().count() as u16;
            return Some(buf[(x, y)].style());
        }
    }
    None
}

#[test]
fn highlight_colours_matches_in_every_row() {
    use ratatui::style::{Color, Modifier};
    // The cursor (row 1) is not on the line looked at: its own style would cover the colours.
    let mut a = app(160, 40);
    command(&mut a, "highlight Leader election");
    let st = style_at(&a, "Leader election").expect("on screen");
    assert_eq!(st.bg, Some(Color::LightCyan), "{st:?}");
    // The search keeps its own colour where both match.
    press(&mut a, "/");
    type_text(&mut a, "Leader");
    enter(&mut a);
    assert_eq!(style_at(&a, "Leader").unwrap().bg, Some(Color::Yellow));
    assert_eq!(
        style_at(&a, " election").unwrap().bg,
        Some(Color::LightCyan)
    );
    a.update(Action::Back);
    // Without colour the highlight is italic and bold.
    a.color = false;
    let st = style_at(&a, "Leader election").unwrap();
    assert!(st.add_modifier.contains(Modifier::ITALIC), "{st:?}");
    a.color = true;
    command(&mut a, "clear-highlight Leader election");
    assert!(status(&a).contains("1 highlights dropped"));
    assert_ne!(
        style_at(&a, "Leader election").unwrap().bg,
        Some(Color::LightCyan)
    );
    command(&mut a, "highlight x");
    command(&mut a, "highlight y");
    command(&mut a, "clear-highlight");
    assert!(a.events.highlights.is_empty());
}
