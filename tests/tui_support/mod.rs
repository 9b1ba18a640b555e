//! Shared fixtures of the TUI tests: the seed timeline with hand-made findings (stable whatever the
//! rules say), and rendering into a `TestBackend`.
#![allow(dead_code)]

use diag::correlate;
use diag::defs::Registry;
use diag::model::Timeline;
use diag::pipeline;
use diag::rules::finding::{
    Analysis, Evidence, Finding, Incident, RuleInfo, Severity, WindowBasis,
};
use diag::source;
use diag::tui::keys::Action;
use diag::tui::state::{App, Loaded};
use diag::tui::view;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// Bob's CID in the seed.
pub const BOB: u64 = 4926344781773734389;

/// Load logs into a timeline with the built-in formats.
pub fn timeline(paths: &[&str]) -> Timeline {
    let reg = Registry::load(None).expect("built-in formats");
    let args: Vec<String> = paths.iter().map(|s| s.to_string()).collect();
    let inputs = source::expand(&args).expect("inputs");
    let (tl, _) =
        pipeline::load(&reg, &inputs, None, &correlate::Options::default()).expect("load");
    tl
}

/// Index of the first event whose text contains `needle`.
pub fn find(tl: &Timeline, needle: &str) -> usize {
    find_all(tl, needle)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no event contains {needle:?}"))
}

/// Indices of all events whose text contains `needle`.
pub fn find_all(tl: &Timeline, needle: &str) -> Vec<usize> {
    tl.events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.full_text().contains(needle))
        .map(|(i, _)| i)
        .collect()
}

fn ev(event: usize, role: &str) -> Evidence {
    Evidence {
        event,
        role: role.into(),
    }
}

fn finding(
    id: &str,
    rule: &str,
    severity: Severity,
    title: &str,
    evidence: Vec<Evidence>,
    caused_by: Option<&str>,
) -> Finding {
    Finding {
        id: id.into(),
        rule: rule.into(),
        severity,
        title: title.into(),
        cids: vec![BOB],
        count: evidence.len(),
        evidence,
        facts: vec![("gap".into(), "9".into())],
        window_basis: WindowBasis::Time,
        caused_by: caused_by.map(String::from),
        causes: Vec::new(),
    }
}

fn rule(id: &str, title: &str, severity: Severity) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        title: title.into(),
        severity,
        description: format!("What {id} detects.\nA second line of description."),
        remediation: format!("What to do about {id}."),
    }
}

/// The seed logs with four hand-made findings linked into one incident.
pub fn seed() -> Loaded {
    let tl = timeline(&["samples/seed"]);
    let gap = find_all(&tl, "Attempted to get ratchet");
    let panic = find(&tl, "panicked at");
    let ws = find_all(&tl, "WebSocket communication task ended");
    let retry = find_all(&tl, "P2PAutoConnect: Connect failed");
    let findings = vec![
        finding(
            "F1",
            "ratchet-gap",
            Severity::Critical,
            "ratchet v9 requested for bob, only v0 held (gap 9)",
            gap.iter().map(|&i| ev(i, "trigger")).collect(),
            None,
        ),
        finding(
            "F2",
            "agent-panic",
            Severity::Critical,
            "panic at session.rs:2254:18",
            vec![ev(panic, "panic")],
            Some("F1"),
        ),
        finding(
            "F3",
            "websocket-lost",
            Severity::High,
            "WebSocket ended in both tabs and never came back",
            ws.iter().map(|&i| ev(i, "lost")).collect(),
            Some("F2"),
        ),
        finding(
            "F4",
            "retry-storm",
            Severity::Medium,
            "6 connect attempts to alice, none succeeded",
            retry.iter().map(|&i| ev(i, "attempt")).collect(),
            Some("F3"),
        ),
    ];
    let incidents = vec![Incident {
        id: "I1".into(),
        root: "F1".into(),
        findings: vec!["F1".into(), "F2".into(), "F3".into(), "F4".into()],
        cids: vec![BOB],
        summary: "ratchet gap → panic → WebSocket lost → retry storm".into(),
    }];
    let rules = vec![
        rule("ratchet-gap", "Ratchet version gap", Severity::Critical),
        rule("agent-panic", "Agent panic", Severity::Critical),
        rule("websocket-lost", "WebSocket lost", Severity::High),
        rule("retry-storm", "Retry storm", Severity::Medium),
    ];
    Loaded {
        analysis: Analysis {
            timeline: tl,
            findings,
            incidents,
            rules,
            templates: None,
        },
        rules_error: None,
        problems: Vec::new(),
        templates: None,
        preview: false,
        index: None,
    }
}

/// An app on the seed, in colour or not.
pub fn app(w: u16, h: u16) -> App {
    App::with(seed(), true, (w, h))
}

/// Apply actions in order.
pub fn replay(app: &mut App, actions: &[Action]) {
    for a in actions {
        app.update(*a);
    }
}

/// Type text into an open prompt.
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Input(c));
    }
}

/// Draw the app into a test terminal of its size.
pub fn draw(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test terminal");
    t.draw(|f| view::draw(f, app)).expect("draw");
    t
}

/// The screen as text, one quoted line per row.
pub fn screen(app: &App) -> String {
    draw(app).backend().to_string()
}
