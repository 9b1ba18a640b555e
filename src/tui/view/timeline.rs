//! Timeline pane: one row per record of every source in timeline order: evidence mark, time (or
//! position) with its quality mark, source label in the source's colour, level, `+N` for folded
//! continuation lines, CID names, message with search hits. Only the rows on screen are formatted.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::super::keys::Pane;
use super::super::state::{App, LoadState};
use super::super::text::{bytes, fit, pad, safe};
use super::theme::Theme;
use super::{content, title_row};
use crate::model::{CidRef, Event, Level};
use crate::report::fields::time_column;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use regex::Regex;

/// Width below which levels are one letter and labels are cut shorter.
const NARROW: u16 = 100;

/// Render the timeline pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let focused = app.focus == Pane::Timeline;
    let mut left = vec![Span::styled("Timeline", theme.title(focused))];
    if app.load == LoadState::Ready && !app.events.rows.is_empty() {
        left.push(Span::styled(
            format!("  {}/{}", app.events.cursor + 1, app.events.rows.len()),
            theme.title(focused),
        ));
    }
    let right = if app.events.filter.is_empty() {
        String::new()
    } else {
        format!("{} of {} events", app.events.rows.len(), app.total())
    };
    title_row(area, buf, theme, focused, left, &right);
    let body = content(area);
    match &app.load {
        LoadState::Loading { bytes: b, total } => {
            return loading(*b, *total, body, buf, theme);
        }
        LoadState::Failed(why) => {
            let lines = vec![
                Line::styled("Loading failed", theme.error()),
                Line::raw(safe(why, 2000)),
                Line::raw(""),
                Line::raw("q quits"),
            ];
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .render(body, buf);
            return;
        }
        LoadState::Ready => {}
    }
    if app.events.rows.is_empty() {
        let msg = if app.total() == 0 {
            "No events in these inputs."
        } else {
            "No events pass the filters; x drops them."
        };
        buf.set_string(body.x + 1, body.y, msg, theme.dim());
        return;
    }
    let narrow = area.width < NARROW;
    let end = (app.events.scroll + body.height as usize).min(app.events.rows.len());
    if app.index().is_some() {
        // The screen's records read again in one go (each file once); each row then finds its own.
        let _ = app.records(&app.events.rows.between(app.events.scroll, end));
    }
    for (k, r) in (app.events.scroll..end).enumerate() {
        let Some(i) = app.events.rows.get(r) else {
            break;
        };
        let mut line = row(app, theme, i, body.width as usize, narrow);
        if r == app.events.cursor {
            line = line.patch_style(if focused {
                theme.selected()
            } else {
                theme.selected_unfocused()
            });
        }
        let y = body.y + k as u16;
        if r == app.events.cursor {
            // The whole row shows the cursor, not just its text.
            buf.set_style(Rect::new(body.x, y, body.width, 1), line.style);
        }
        buf.set_line(body.x, y, &line, body.width);
    }
}

fn loading(b: u64, total: u64, body: Rect, buf: &mut Buffer, theme: Theme) {
    let text = match b.saturating_mul(100).checked_div(total) {
        Some(_) if b >= total => {
            "Loading… read everything; correlating and running the rules".to_string()
        }
        Some(pct) => format!(
            "Loading… {}%  ({} of {})",
            pct.min(99),
            bytes(b),
            bytes(total)
        ),
        None => format!("Loading… {} read", bytes(b)),
    };
    buf.set_string(body.x + 1, body.y, text, theme.text());
    if total > 0 && body.height > 2 && body.width > 4 {
        let w = body.width as usize - 2;
        let done = ((b.min(total) as f64 / total as f64) * w as f64) as usize;
        let bar = format!("{}{}", "█".repeat(done), "░".repeat(w - done.min(w)));
        buf.set_string(body.x + 1, body.y + 2, bar, theme.bars());
    }
    if body.height > 4 {
        buf.set_string(
            body.x + 1,
            body.y + 4,
            "Keys work meanwhile: ? help, q quit.",
            theme.dim(),
        );
    }
}

/// Short level tag: one letter on narrow screens, five on wide ones.
fn level_tag(level: Option<Level>, narrow: bool) -> &'static str {
    match (level, narrow) {
        (Some(Level::Error), true) => "E",
        (Some(Level::Warn), true) => "W",
        (Some(Level::Info), true) => "I",
        (Some(Level::Debug), true) => "D",
        (Some(Level::Trace), true) => "T",
        (None, true) => "·",
        (Some(Level::Error), false) => "ERROR",
        (Some(Level::Warn), false) => "WARN ",
        (Some(Level::Info), false) => "INFO ",
        (Some(Level::Debug), false) => "DEBUG",
        (Some(Level::Trace), false) => "TRACE",
        (None, false) => "-    ",
    }
}

/// Names of the CIDs a record mentions (not already written in its message).
pub fn cid_names(app: &App, ev: &Event) -> Vec<String> {
    let dir = &app.timeline().cids;
    let mut out: Vec<String> = Vec::new();
    for c in &ev.cids {
        let name = match c {
            CidRef::Lost => Some("CID lost".to_string()),
            c => dir
                .resolve(c)
                .and_then(|v| dir.name(v))
                .map(|n| n.to_string()),
        };
        if let Some(n) = name {
            if !out.contains(&n) && !ev.message.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// Spans of `text` with what each pattern matches in its style; a later pattern wins where two match
/// (the search is last, so its hits keep their colour inside a highlight).
pub fn with_hits<'a>(
    text: String,
    layers: &[(&Regex, ratatui::style::Style)],
    base: ratatui::style::Style,
) -> Vec<Span<'a>> {
    if layers.is_empty() || text.is_empty() {
        return vec![Span::styled(text, base)];
    }
    // Which layer colours each byte (matches start and end on char boundaries).
    let mut by_byte: Vec<Option<usize>> = vec![None; text.len()];
    for (k, (re, _)) in layers.iter().enumerate() {
        for m in re.find_iter(&text) {
            by_byte[m.start()..m.end()].fill(Some(k));
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
        if i == text.len() || by_byte[i] != by_byte[start] {
            let style = by_byte[start].map_or(base, |k| layers[k].1);
            out.push(Span::styled(text[start..i].to_string(), style));
            start = i;
        }
    }
    out
}

/// One timeline row.
pub fn row<'a>(app: &App, theme: Theme, i: usize, width: usize, narrow: bool) -> Line<'a> {
    let tl = app.timeline();
    let Some(ev) = app.record(i) else {
        return Line::raw("");
    };
    let ev = &*ev;
    let (gutter, gstyle) = if app.findings.marked.binary_search(&i).is_ok() {
        ("●", theme.marked())
    } else if app.events.marks.binary_search(&i).is_ok() {
        ("▸", theme.key())
    } else if app.derived.evidence.binary_search(&i).is_ok() {
        ("◆", theme.dim())
    } else {
        (" ", theme.text())
    };
    let label = crate::report::fields::source_label(tl, ev);
    let lw = if narrow {
        app.derived.label_width.min(12)
    } else {
        app.derived.label_width
    };
    let mut spans = vec![
        Span::styled(gutter, gstyle),
        Span::styled(time_column(tl, ev), theme.text()),
        Span::styled(ev.ts_quality.mark().to_string(), theme.dim()),
        Span::raw(" "),
        Span::styled(pad(&safe(label, 64), lw), theme.source(ev.source)),
        Span::raw(" "),
        Span::styled(level_tag(ev.level, narrow), theme.level(ev.level)),
        Span::raw(" "),
    ];
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let mut room = width.saturating_sub(used);
    if !ev.continuation.is_empty() && room > 4 {
        let fold = format!("+{} ", ev.continuation.len());
        room = room.saturating_sub(fold.chars().count());
        spans.push(Span::styled(fold, theme.fold()));
    }
    let names = cid_names(app, ev);
    if !names.is_empty() && room > 24 {
        let max = if narrow { 12 } else { 24 };
        let shown: Vec<String> = names
            .iter()
            .take(2)
            .map(|n| fit(&safe(n, 64), max))
            .collect();
        let tag = format!("⟨{}⟩ ", shown.join(","));
        room = room.saturating_sub(tag.chars().count());
        spans.push(Span::styled(tag, theme.name()));
    }
    // `:highlight` patterns first, the search last: its hits keep their colour inside a highlight.
    let hl = theme.highlight();
    let mut layers: Vec<(&Regex, ratatui::style::Style)> =
        app.events.highlights.iter().map(|re| (re, hl)).collect();
    if let Some(re) = &app.events.search {
        layers.push((re, theme.hit()));
    }
    spans.extend(with_hits(safe(&ev.message, room), &layers, theme.text()));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    #[test]
    fn later_patterns_win_and_text_stays_whole() {
        let (hl, hit) = (Style::new().bg(Color::Cyan), Style::new().bg(Color::Yellow));
        let a = Regex::new("leader election").unwrap();
        let b = Regex::new("election").unwrap();
        let empty = Regex::new("x*").unwrap();
        let spans = with_hits(
            "a leader election, é".into(),
            &[(&a, hl), (&b, hit), (&empty, hit)],
            Style::new(),
        );
        let parts: Vec<(&str, Style)> = spans
            .iter()
            .map(|s| (s.content.as_ref(), s.style))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("a ", Style::new()),
                ("leader ", hl),
                ("election", hit),
                (", é", Style::new())
            ]
        );
        assert_eq!(with_hits(String::new(), &[(&a, hl)], Style::new()).len(), 1);
    }
}
