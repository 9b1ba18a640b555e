//! Findings pane: incidents first (their chain in one line), then findings by severity. The selected
//! entry's evidence is marked in the timeline.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::super::keys::Pane;
use super::super::state::{App, Entry, LoadState};
use super::super::text::safe;
use super::theme::Theme;
use super::{content, title_row};
use crate::rules::finding::Severity;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Four-letter severity tag.
pub fn sev_tag(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED ",
        Severity::Low => "LOW ",
        Severity::Info => "INFO",
    }
}

/// Render the findings pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let focused = app.focus == Pane::Findings;
    let a = &app.analysis;
    let right = match (&app.load, a.incidents.len(), a.findings.len()) {
        (LoadState::Ready, 0, 0) => String::new(),
        (LoadState::Ready, 0, f) => format!("{f} findings"),
        (LoadState::Ready, i, f) => format!(
            "{i} incident{}, {f} findings",
            if i == 1 { "" } else { "s" }
        ),
        _ => String::new(),
    };
    title_row(
        area,
        buf,
        theme,
        focused,
        vec![Span::styled("Findings", theme.title(focused))],
        &right,
    );
    let body = content(area);
    if body.height == 0 {
        return;
    }
    if app.findings.entries.is_empty() {
        let msg = match (&app.load, &app.rules_error) {
            (LoadState::Ready, Some(e)) => format!("Rules did not run: {}", safe(e, 400)),
            (LoadState::Ready, None) => "No findings: no rule matched.".to_string(),
            _ => "Findings appear when loading is done.".to_string(),
        };
        buf.set_string(body.x + 1, body.y, msg, theme.dim());
        return;
    }
    let end = (app.findings.scroll + body.height as usize).min(app.findings.entries.len());
    for (k, s) in (app.findings.scroll..end).enumerate() {
        let mut line = entry_line(app, app.findings.entries[s], theme);
        let y = body.y + k as u16;
        if app.findings.selected == Some(s) {
            let st = if focused {
                theme.selected()
            } else {
                theme.selected_unfocused()
            };
            line = line.patch_style(st);
            buf.set_style(Rect::new(body.x, y, body.width, 1), st);
        }
        buf.set_line(body.x, y, &line, body.width);
    }
}

fn entry_line<'a>(app: &App, e: Entry, theme: Theme) -> Line<'a> {
    let a = &app.analysis;
    match e {
        Entry::Incident(i) => {
            let inc = &a.incidents[i];
            let sev = a
                .findings
                .iter()
                .find(|f| f.id == inc.root)
                .map(|f| f.severity)
                .unwrap_or(Severity::Info);
            Line::from(vec![
                Span::raw(" "),
                Span::styled(format!("{:<4}", safe(&inc.id, 8)), theme.heading()),
                Span::styled(sev_tag(sev), theme.severity(sev)),
                Span::raw(" "),
                Span::styled(safe(&inc.summary, 400), theme.text()),
            ])
        }
        Entry::Finding(f) => {
            let f = &a.findings[f];
            let mut spans = vec![
                Span::raw(" "),
                Span::styled(format!("{:<4}", safe(&f.id, 8)), theme.dim()),
                Span::styled(sev_tag(f.severity), theme.severity(f.severity)),
                Span::raw(" "),
                Span::styled(safe(&f.title, 400), theme.text()),
            ];
            if f.count > 1 {
                spans.push(Span::styled(format!("  ×{}", f.count), theme.dim()));
            }
            Line::from(spans)
        }
    }
}
