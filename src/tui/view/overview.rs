//! Overview strip: events and errors over the timeline's axis (time, or position when the logs carry no
//! time), with a mark where each finding starts and the window the timeline pane shows.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::super::state::App;
use super::super::text::pad;
use super::theme::Theme;
use crate::model::Axis;
use crate::rules::finding::Severity;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

const BARS: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Bar of a count relative to the largest (a non-zero count always shows).
fn bar(n: u32, max: u32) -> char {
    if n == 0 || max == 0 {
        return BARS[0];
    }
    let k = ((n as u64 * 8).div_ceil(max as u64)).clamp(1, 8) as usize;
    BARS[k]
}

/// Axis label of a position: a time of day, or `#N`.
fn axis_label(app: &App, pos: f64) -> String {
    let tl = app.timeline();
    match tl.axis {
        Axis::Time if pos.is_finite() => {
            let secs = (pos / 1e9).floor() as i64;
            chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| t.format("%H:%M:%S").to_string())
                .unwrap_or_default()
        }
        _ => format!("#{}", pos.max(0.0) as u64),
    }
}

/// Render the overview strip (three rows: events, errors, marks and window).
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.height < 3 || area.width < 20 {
        return;
    }
    let lw: u16 = 10;
    let w = (area.width - lw) as usize;
    let x0 = area.x + lw;
    let start = if app.total() == 0 {
        String::new()
    } else {
        axis_label(app, app.derived.hist.lo)
    };
    buf.set_string(area.x, area.y, pad(" events", lw as usize), theme.dim());
    buf.set_string(area.x, area.y + 1, pad(" errors", lw as usize), theme.dim());
    buf.set_string(
        area.x,
        area.y + 2,
        pad(&format!(" {start}"), lw as usize),
        theme.dim(),
    );
    let cols = app.derived.hist.columns(w);
    let max_e = cols.iter().map(|c| c.0).max().unwrap_or(0);
    let max_x = cols.iter().map(|c| c.1).max().unwrap_or(0);
    for (k, (e, x)) in cols.iter().enumerate() {
        let xk = x0 + k as u16;
        buf.set_string(xk, area.y, bar(*e, max_e).to_string(), theme.bars());
        buf.set_string(
            xk,
            area.y + 1,
            bar(*x, max_x).to_string(),
            theme.error_bars(),
        );
    }
    // The window the timeline shows, then the findings over it.
    let mut marks: Vec<Option<Severity>> = vec![None; w];
    for (pos, sev) in &app.derived.finding_marks {
        let c = app.derived.hist.column(*pos, w);
        if marks[c].is_none_or(|s| *sev > s) {
            marks[c] = Some(*sev);
        }
    }
    let (wa, wb) = window(app, w);
    for (k, mark) in marks.iter().enumerate() {
        let xk = x0 + k as u16;
        let (sym, st) = match *mark {
            Some(sev) => ("◆", theme.severity(sev)),
            None if (wa..=wb).contains(&k) => ("━", theme.window()),
            None => ("─", theme.dim()),
        };
        buf.set_string(xk, area.y + 2, sym, st);
    }
}

/// Columns of the first and last row the timeline pane shows.
fn window(app: &App, w: usize) -> (usize, usize) {
    if app.events.rows.is_empty() || w == 0 {
        return (usize::MAX, 0);
    }
    let rows = &app.events.rows;
    let (Some(first), Some(last)) = (
        rows.get(app.events.scroll.min(rows.len() - 1)),
        rows.get((app.events.scroll + app.page()).min(rows.len()) - 1),
    ) else {
        return (usize::MAX, 0);
    };
    let col = |i: usize| {
        app.place(i)
            .map(|(pos, _)| app.derived.hist.column(pos, w))
            .unwrap_or(0)
    };
    (col(first), col(last))
}
