//! Help screen: the key tables, as the keys are handled, plus the filter syntax and the marks.

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
        "While typing a search or filter",
        keys::PROMPT,
        theme,
        &mut out,
    );
    out.push(Line::styled("Filters (f)", theme.heading()));
    for l in [
        "  cid:bob  source:alice  level:warn  text:\"channel closed\"  (they combine)",
        "  a bare word is a level, else a CID or name, else a source, else text",
        "  cid:  with no value drops that part; an empty line drops them all",
        "",
    ] {
        out.push(Line::raw(l));
    }
    out.push(Line::styled("Marks", theme.heading()));
    for l in [
        "  ●  evidence of the selected finding     ◆  evidence of some finding",
        "  +N  record with N more lines (Enter shows them)   ⟨name⟩  CIDs it mentions",
        "  time marks:  (blank) exact   · time of day only   ~ inferred from anchors   ? order only",
        "  overview: events, errors, then ◆ findings and ━ the rows on screen",
        "  mouse: the wheel scrolls the pane under it; a click selects",
    ] {
        out.push(Line::raw(l));
    }
    out
}

/// Render the help screen over the others.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let w = area.width.saturating_sub(4).min(96);
    let h = area.height.saturating_sub(2);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + 1,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    let lines = lines(theme);
    let scroll = super::scroll_within(app.help.scroll, lines.len());
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
