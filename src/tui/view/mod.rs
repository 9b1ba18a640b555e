//! Views: pure functions from [`App`] to a frame. Nothing here changes state; every string from the
//! logs goes through [`super::text::safe`] before it reaches a widget, and only the rows on screen are
//! formatted.

pub mod detail;
pub mod findings;
pub mod help;
pub mod overview;
pub mod sources;
pub mod status;
pub mod theme;
pub mod timeline;

use super::keys::Pane;
use super::layout;
use super::state::App;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;
use theme::Theme;

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    render(app, area, buf);
    if let Some(pos) = status::prompt_cursor(app, layout::areas(area, app.shape()).status) {
        frame.set_cursor_position(pos);
    }
}

/// Render the whole screen into a buffer.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = Theme { color: app.color };
    let a = layout::areas(area, app.shape());
    overview::render(app, a.overview, buf, theme);
    if a.shows(Pane::Findings) {
        findings::render(app, a.findings, buf, theme);
    }
    if a.shows(Pane::Timeline) {
        timeline::render(app, a.timeline, buf, theme);
    }
    if a.shows(Pane::Detail) {
        detail::render(app, a.detail, buf, theme);
    }
    if a.sources.height > 1 {
        sources::render(app, a.sources, buf, theme);
    }
    status::render_status(app, a.status, buf, theme);
    status::render_footer(app, a.footer, buf, theme);
    if app.help.open {
        help::render(app, area, buf, theme);
    }
}

/// Draw a pane's title row: `─ Title ─── right ─`, in the focus style when focused.
pub(crate) fn title_row(
    area: Rect,
    buf: &mut Buffer,
    theme: Theme,
    focused: bool,
    left: Vec<Span<'_>>,
    right: &str,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let style = theme.title(focused);
    let rule = if focused { "━" } else { "─" };
    buf.set_string(area.x, area.y, rule.repeat(area.width as usize), style);
    let mut spans = vec![Span::styled(format!("{rule} "), style)];
    spans.extend(left);
    spans.push(Span::styled(" ", style));
    let line = Line::from(spans);
    let lw = line.width() as u16;
    buf.set_line(area.x, area.y, &line, area.width);
    if !right.is_empty() {
        let text = format!(" {right} {rule}");
        let w = Span::raw(text.as_str()).width() as u16;
        if lw + w < area.width {
            buf.set_string(area.x + area.width - w, area.y, text, style);
        }
    }
}

/// A scroll offset kept within `len` lines, as a Paragraph wants it.
pub(crate) fn scroll_within(scroll: usize, len: usize) -> u16 {
    scroll.min(len.saturating_sub(1)).min(u16::MAX as usize) as u16
}

/// The content rectangle of a pane (below its title row).
pub(crate) fn content(area: Rect) -> Rect {
    Rect {
        y: area.y + 1.min(area.height),
        height: area.height.saturating_sub(1),
        ..area
    }
}
