//! Layout: where each pane goes for a terminal size. The state asks it how many rows a page has; the
//! views ask it where to draw; mouse events ask it which pane was hit. Narrow terminals (under 140
//! columns) stack the panes; wide ones put findings and detail in a column beside the timeline.

use super::keys::Pane;
use ratatui::layout::{Position, Rect};

/// Width from which findings and detail sit beside the timeline.
pub const WIDE: u16 = 140;
/// Rows of the overview strip.
pub const OVERVIEW_ROWS: u16 = 3;

/// What the layout depends on besides the size.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Whether the detail pane is shown.
    pub detail_open: bool,
    /// Which pane the detail describes (timeline row or finding).
    pub detail_from: Pane,
    /// Entries in the findings list.
    pub entries: usize,
}

/// Rectangles of every part; a hidden part has zero height. Pane rectangles include their title row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// Histogram strip.
    pub overview: Rect,
    /// Timeline pane.
    pub timeline: Rect,
    /// Findings pane.
    pub findings: Rect,
    /// Detail pane.
    pub detail: Rect,
    /// Sources summary (wide screens, where the detail pane would be when it is closed).
    pub sources: Rect,
    /// Status (or prompt) line.
    pub status: Rect,
    /// Key hints.
    pub footer: Rect,
}

fn take_top(r: &mut Rect, h: u16) -> Rect {
    let h = h.min(r.height);
    let out = Rect { height: h, ..*r };
    r.y += h;
    r.height -= h;
    out
}

fn take_bottom(r: &mut Rect, h: u16) -> Rect {
    let h = h.min(r.height);
    r.height -= h;
    Rect {
        y: r.y + r.height,
        height: h,
        ..*r
    }
}

/// Lay out a screen.
pub fn areas(screen: Rect, shape: Shape) -> Areas {
    let mut rest = screen;
    let mut a = Areas {
        footer: take_bottom(&mut rest, 1),
        status: take_bottom(&mut rest, 1),
        ..Areas::default()
    };
    if rest.height >= 14 {
        a.overview = take_top(&mut rest, OVERVIEW_ROWS);
    }
    let list = shape.entries.max(1) as u16 + 1;
    if screen.width >= WIDE {
        let side = (rest.width * 9 / 25).max(44).min(rest.width);
        let mut right = Rect {
            x: rest.x + rest.width - side,
            width: side,
            ..rest
        };
        a.timeline = Rect {
            width: rest.width - side,
            ..rest
        };
        let h = list.min(right.height * 2 / 5).max(2);
        a.findings = take_top(&mut right, h);
        if shape.detail_open {
            a.detail = right;
        } else {
            a.sources = right;
        }
        return a;
    }
    match (shape.detail_open, shape.detail_from) {
        (false, _) => {
            let h = list.min(6).min(rest.height / 3).max(2);
            a.findings = take_top(&mut rest, h);
            a.timeline = rest;
        }
        (true, Pane::Findings) => {
            let h = list.min(rest.height * 2 / 5).max(2);
            a.findings = take_top(&mut rest, h);
            a.detail = rest;
        }
        (true, _) => {
            let h = (rest.height * 2 / 5).max(2);
            a.timeline = take_top(&mut rest, h);
            a.detail = rest;
        }
    }
    a
}

impl Areas {
    /// The pane at a screen position.
    pub fn pane_at(&self, col: u16, row: u16) -> Option<Pane> {
        let p = Position { x: col, y: row };
        [
            (self.timeline, Pane::Timeline),
            (self.findings, Pane::Findings),
            (self.detail, Pane::Detail),
        ]
        .into_iter()
        .find(|(r, _)| r.contains(p))
        .map(|(_, pane)| pane)
    }

    /// The rectangle of a pane, title row included.
    pub fn rect(&self, pane: Pane) -> Rect {
        match pane {
            Pane::Timeline => self.timeline,
            Pane::Findings => self.findings,
            Pane::Detail => self.detail,
        }
    }

    /// Content rows of a pane (its height without the title row).
    pub fn rows(&self, pane: Pane) -> usize {
        self.rect(pane).height.saturating_sub(1) as usize
    }

    /// Whether a pane is on screen.
    pub fn shows(&self, pane: Pane) -> bool {
        self.rows(pane) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(detail_open: bool, detail_from: Pane) -> Shape {
        Shape {
            detail_open,
            detail_from,
            entries: 4,
        }
    }

    #[test]
    fn narrow_screens_stack_and_wide_ones_use_a_side_column() {
        let a = areas(Rect::new(0, 0, 80, 24), shape(false, Pane::Timeline));
        assert_eq!(a.overview.height, OVERVIEW_ROWS);
        assert_eq!((a.status.y, a.footer.y), (22, 23));
        assert_eq!(a.findings.width, 80);
        assert!(a.findings.y < a.timeline.y);
        assert_eq!(a.rows(Pane::Findings), 4);
        assert!(!a.shows(Pane::Detail));
        let d = areas(Rect::new(0, 0, 80, 24), shape(true, Pane::Timeline));
        assert!(d.shows(Pane::Detail) && d.shows(Pane::Timeline) && !d.shows(Pane::Findings));
        let w = areas(Rect::new(0, 0, 160, 48), shape(false, Pane::Timeline));
        assert_eq!(w.timeline.height, w.findings.height + w.sources.height);
        assert_eq!(w.timeline.width + w.findings.width, 160);
        assert_eq!(w.pane_at(150, 5), Some(Pane::Findings));
        assert_eq!(w.pane_at(10, 20), Some(Pane::Timeline));
        let tiny = areas(Rect::new(0, 0, 20, 5), shape(true, Pane::Findings));
        assert_eq!(tiny.overview.height, 0);
    }
}
