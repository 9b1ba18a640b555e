//! Help screen: the key tables, as the keys are handled, the commands, the filter syntax and the marks.
//! It scrolls no further than its last line.
// Indexing cannot panic here: the command table is built in code and every entry has a name.
#![allow(clippy::indexing_slicing)]

use super::super::command::COMMANDS;
use super::super::keys::{self, Binding};
use super::super::state::App;
use super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

fn table<'a>(title: &str, rows: &[Binding], theme: Theme, out: &mut Vec<Line<'a>>) {
    out.push(Line::styled(title.to_string(), theme.heading()));
    for bd in rows {
        out.push(Line::from(vec![
            Span::styled(format!("  {:<10}", bd.label), theme.key()),
            Span::raw(bd.help),
        ]));
    }
    out.push(Line::raw(""));
}

/// The help text.
pub fn lines<'a>(theme: Theme) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    table("Keys", keys::NORMAL, theme, &mut out);
    table(
        "While typing a search, filter or command",
        keys::PROMPT,
        theme,
        &mut out,
    );
    out.push(Line::styled("Filters (f)", theme.heading()));
    for l in [
        "  cid:bob  source:alice  level:warn  text:\"channel closed\"  template:t1a2b3c4d  (they combine)",
        "  a leading - hides:  -cid:alice  -source:tab0  -level:debug  -text:\"ping\"  -template:…",
        "  a bare word is a level, else a CID or name, else a source, else text (-word hides it)",
        "  cid:  with no value drops that part (-cid: shows hidden CIDs again); an empty line drops all",
        "",
    ] {
        out.push(Line::raw(l));
    }
    out.push(Line::styled("Commands (:), as in lnav", theme.heading()));
    for c in COMMANDS {
        let mut names = c.names[0].to_string();
        if !c.args.is_empty() {
            names = format!("{names} {}", c.args);
        }
        let mut help = c.help.to_string();
        if c.names.len() > 1 {
            help = format!("{help} (also {})", c.names[1..].join(", "));
        }
        out.push(Line::from(vec![
            Span::styled(format!("  :{names}"), theme.key()),
            Span::raw(format!("  {help}")),
        ]));
    }
    out.push(Line::raw(""));
    out.push(Line::styled("Marks", theme.heading()));
    for l in [
        "  ●  evidence of the selected finding     ◆  evidence of some finding",
        "  ▸  a line you marked (m; u and U go through the marks)",
        "  +N  record with N more lines (Enter shows them)   ⟨name⟩  CIDs it mentions",
        "  time marks:  (blank) exact   · time of day only   ~ inferred from anchors   ? order only",
        "  overview: events, errors, then ◆ findings and ━ the rows on screen",
        "  mouse: the wheel scrolls the pane under it; a click selects",
    ] {
        out.push(Line::raw(l));
    }
    out
}

/// Where the help box goes on a screen.
fn frame(area: Rect) -> Rect {
    let w = area.width.saturating_sub(4).min(96);
    let h = area.height.saturating_sub(2);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    }
}

/// Rows the help text takes once wrapped to `width` (drawn off screen and measured, so the count is
/// the one the paragraph draws).
fn wrapped_rows(width: u16) -> usize {
    let lines = lines(Theme { color: false });
    let width = width.max(1);
    let tall = (lines.len() * 4).min(u16::MAX as usize) as u16;
    let area = Rect::new(0, 0, width, tall);
    let mut buf = Buffer::empty(area);
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(area, &mut buf);
    (0..tall)
        .rev()
        .find(|&y| (0..width).any(|x| buf[(x, y)].symbol() != " "))
        .map_or(0, |y| y as usize + 1)
}

/// The furthest the help scrolls on a screen of `size`: its last line at the bottom of the box.
pub fn max_scroll(size: (u16, u16)) -> usize {
    let r = frame(Rect::new(0, 0, size.0, size.1));
    let inner_h = r.height.saturating_sub(2) as usize;
    wrapped_rows(r.width.saturating_sub(2)).saturating_sub(inner_h)
}

/// Render the help screen over the others.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let r = frame(area);
    Clear.render(r, buf);
    let lines = lines(theme);
    let scroll = app.help.scroll.min(max_scroll((area.width, area.height))) as u16;
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .block(
            Block::bordered()
                .title(" diag help ")
                .title_bottom(" Esc closes · ↑↓ scroll "),
        )
        .render(r, buf);
}
