//! Status line (counts, filters, search, follow, cursor time; or the prompt being typed) and the footer
//! of key hints, which comes from the same key table that handles the keys.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::super::command;
use super::super::keys::{self, Mode};
use super::super::query;
use super::super::state::{App, LoadState, PromptKind};
use super::super::text::{bytes, safe, safe_all};
use super::theme::Theme;
use crate::report::fields::time_column;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};

fn prompt_prefix(kind: PromptKind) -> &'static str {
    match kind {
        PromptKind::Search => "/",
        PromptKind::Filter => "filter: ",
        PromptKind::Command => ":",
    }
}

/// Where the terminal cursor goes while a prompt is open.
pub fn prompt_cursor(app: &App, area: Rect) -> Option<Position> {
    let p = app.prompt.as_ref()?;
    let w = Span::raw(format!("{}{}", prompt_prefix(p.kind), safe_all(&p.text))).width() as u16;
    Some(Position {
        x: (area.x + w).min(area.x + area.width.saturating_sub(1)),
        y: area.y,
    })
}

/// Render the status line.
pub fn render_status(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.height == 0 {
        return;
    }
    buf.set_style(area, theme.bar());
    if let Some(p) = &app.prompt {
        let mut spans = vec![
            Span::styled(prompt_prefix(p.kind), theme.bar()),
            Span::styled(safe_all(&p.text), theme.bar()),
            Span::styled("  ", theme.bar()),
        ];
        if let Some(e) = &p.error {
            spans.push(Span::styled(format!("✗ {}", safe(e, 200)), theme.error()));
        } else if p.kind == PromptKind::Filter {
            spans.push(Span::styled(
                query::preview(&p.text, app.timeline(), &app.events.filter),
                theme.bar(),
            ));
        } else if p.kind == PromptKind::Command {
            spans.push(Span::styled(
                safe(&command::hint(&p.text), 200),
                theme.bar(),
            ));
        } else if let Some(m) = &app.message {
            spans.push(Span::styled(safe(m, 200), theme.bar()));
        } else {
            spans.push(Span::styled("regex; lower case ignores case", theme.bar()));
        }
        buf.set_line(area.x, area.y, &Line::from(spans), area.width);
        return;
    }
    let tl = app.timeline();
    let mut left: Vec<String> = Vec::new();
    if let Some(m) = &app.message {
        left.push(safe(m, 300));
    }
    if !app.events.filter.is_empty() {
        left.push(format!(
            "filter {}",
            safe(&query::describe(&app.events.filter, tl), 200)
        ));
    }
    if let Some(re) = &app.events.search {
        // lnav's hit count: which hit the cursor is on, of how many (`-` between hits).
        let count = match app.hit_position() {
            Some((_, 0)) | None => "no hits".to_string(),
            Some((Some(k), n)) => format!("{k}/{n}"),
            Some((None, n)) => format!("-/{n}"),
        };
        left.push(format!(
            "/{}/ {count}",
            safe(re.as_str().trim_start_matches("(?i)"), 60)
        ));
    }
    if app.follow {
        left.push(
            if app.judging {
                "FOLLOW (rules…)"
            } else {
                "FOLLOW"
            }
            .into(),
        );
    }
    match &app.load {
        LoadState::Loading { bytes: b, total } if *total > 0 => left.push(format!(
            "loading {}%",
            (b.saturating_mul(100) / total).min(99)
        )),
        LoadState::Loading { bytes: b, .. } => left.push(format!("loading {}", bytes(*b))),
        LoadState::Failed(_) => left.push("load failed".into()),
        LoadState::Ready if app.events.filter.is_empty() => left.push(format!(
            "{} events · {} sources{}",
            app.total(),
            tl.sources.len(),
            if app.index().is_some() {
                " · indexed"
            } else {
                ""
            }
        )),
        LoadState::Ready => {}
    }
    match app.rest {
        Some((b, total)) if total > 0 => left.push(format!(
            "PREVIEW: reading the rest {}%",
            (b.saturating_mul(100) / total).min(99)
        )),
        Some((b, _)) => left.push(format!("PREVIEW: reading the rest, {}", bytes(b))),
        None => {}
    }
    if !app.problems.is_empty() {
        left.push(format!("{} warnings", app.problems.len()));
    }
    let right = app
        .current_event()
        .and_then(|i| app.row(i))
        .map(|ev| {
            format!(
                "{}{} ",
                time_column(tl, &ev).trim_end(),
                ev.ts_quality.mark()
            )
        })
        .unwrap_or_default();
    let text = format!(" {}", left.join(" │ "));
    buf.set_string(area.x, area.y, &text, theme.bar());
    let rw = Span::raw(right.as_str()).width() as u16;
    let lw = Span::raw(text.as_str()).width() as u16;
    if lw + rw < area.width {
        buf.set_string(area.x + area.width - rw, area.y, right, theme.bar());
    }
}

/// Render the footer of key hints for the mode in force.
pub fn render_footer(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.height == 0 {
        return;
    }
    let mode = app.mode();
    let mut hints: Vec<(&str, &str)> = keys::hints(mode).collect();
    let width = |h: &[(&str, &str)]| -> usize {
        h.iter()
            .map(|(k, d)| Span::raw(*k).width() + d.chars().count() + 3)
            .sum()
    };
    // Drop hints from the end, but keep the last two (help, quit) whatever the width.
    while hints.len() > 2 && width(&hints) > area.width as usize {
        hints.remove(hints.len() - 3);
    }
    let mut spans = Vec::new();
    for (k, h) in hints {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(k, theme.key()));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(h, theme.dim()));
        spans.push(Span::raw(" "));
    }
    if mode == Mode::Normal && app.load != LoadState::Ready && spans.is_empty() {
        spans.push(Span::raw(" q quit"));
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}
