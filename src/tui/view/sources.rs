//! Sources panel (wide screens, while the detail pane is closed): each source with its format, events,
//! unparsed lines, how it was placed on the timeline and its clock offset; then what loading skipped.

use super::super::state::App;
use super::super::text::safe_all;
use super::theme::Theme;
use super::{content, title_row};
use crate::model::Axis;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Render the sources panel.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let tl = app.timeline();
    title_row(
        area,
        buf,
        theme,
        false,
        vec![Span::styled("Sources", theme.title(false))],
        "Enter shows a row",
    );
    let mut lines: Vec<Line> = Vec::new();
    for (i, s) in tl.sources.iter().enumerate() {
        lines.push(Line::from(vec![
            Span::styled(safe_all(&s.label), theme.source(i)),
            Span::styled(
                format!(
                    "  {} · {} events · {} unparsed",
                    safe_all(&s.detection.format),
                    s.events,
                    s.parse.unparsed
                ),
                theme.dim(),
            ),
        ]));
        let mut how = format!("  {}", safe_all(&s.placement));
        if let Some(o) = &s.offset {
            how.push_str(&format!(
                "; clock {:+.3} s vs {} ({} anchors)",
                o.seconds,
                safe_all(&o.reference),
                o.anchors
            ));
        }
        lines.push(Line::raw(how));
    }
    if !tl.sources.is_empty() {
        lines.push(Line::styled(
            match tl.axis {
                Axis::Time => format!(
                    "axis: time{}; {} anchor links",
                    if tl.dated { "" } else { " of day (no date)" },
                    tl.anchors.len()
                ),
                Axis::Order => format!(
                    "axis: order of the reference source (no times); {} anchor links",
                    tl.anchors.len()
                ),
            },
            theme.dim(),
        ));
    }
    for p in &app.problems {
        lines.push(Line::styled(format!("! {}", safe_all(p)), theme.error()));
    }
    let body = content(area);
    Paragraph::new(lines).wrap(Wrap { trim: false }).render(
        Rect {
            x: body.x + 1,
            width: body.width.saturating_sub(1),
            ..body
        },
        buf,
    );
}
