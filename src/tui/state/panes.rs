//! The state of each pane: what it shows and where it stands. Each pane owns its cursor and scroll;
//! `App` moves between them.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::window;
use crate::tui::filterset::Filters;
use crate::tui::keys::{Action, Pane};
use regex::Regex;

/// A line of the findings list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `Analysis::incidents[i]`.
    Incident(usize),
    /// `Analysis::findings[i]`.
    Finding(usize),
}

/// The timeline pane: the filtered index of events, the cursor in it, filters and search.
#[derive(Debug, Clone, Default)]
pub struct EventsPane {
    /// Filtered index: event indices in timeline order.
    pub rows: super::Rows,
    /// Cursor, as an index into `rows`.
    pub cursor: usize,
    /// First row shown.
    pub scroll: usize,
    /// Filters in force.
    pub filter: Filters,
    /// Search in force.
    pub search: Option<Regex>,
    /// Events among `rows` that the search hits, in order (for `3/17` and `n`/`N`).
    pub hits: Vec<usize>,
    /// Events the user marked (`m`), in order; filters do not drop them.
    pub marks: Vec<usize>,
    /// Patterns `:highlight` colours in every row.
    pub highlights: Vec<Regex>,
}

impl EventsPane {
    /// Event index under the cursor.
    pub fn current(&self) -> Option<usize> {
        self.rows.get(self.cursor)
    }

    /// Scroll so that the cursor is on a page of `page` rows.
    pub fn keep_cursor_visible(&mut self, page: usize) {
        self.scroll = window::keep_visible(self.scroll, Some(self.cursor), page, self.rows.len());
    }

    /// Move the cursor by `delta` rows, within the list.
    pub fn move_cursor(&mut self, delta: isize, page: usize) {
        let last = self.rows.len().saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last.max(0)) as usize;
        self.keep_cursor_visible(page);
    }

    /// Scroll by `delta` rows; the cursor stays on the page.
    pub fn scroll_by(&mut self, delta: isize, page: usize) {
        self.scroll = window::scroll_by(self.scroll, delta, page, self.rows.len());
        self.cursor = self
            .cursor
            .clamp(self.scroll, (self.scroll + page - 1).max(self.scroll))
            .min(self.rows.len().saturating_sub(1));
    }

    /// Put the cursor on an event (or the next one the filters show), a third of a page from the top
    /// when `center`; false when the filters hide the event itself.
    pub fn jump_to_event(&mut self, ev: usize, center: bool, page: usize) -> bool {
        if self.rows.is_empty() {
            return false;
        }
        let r = match self.rows.find(ev) {
            Ok(r) | Err(r) => r.min(self.rows.len() - 1),
        };
        self.cursor = r;
        if center {
            self.scroll = r.saturating_sub(page / 3);
        }
        self.keep_cursor_visible(page);
        self.rows.get(r) == Some(ev)
    }
}

/// The findings pane: incidents, then findings by severity; the selection and its marked evidence.
#[derive(Debug, Clone, Default)]
pub struct FindingsPane {
    /// Findings list: incidents, then findings by severity.
    pub entries: Vec<Entry>,
    /// Selected entry.
    pub selected: Option<usize>,
    /// First entry shown.
    pub scroll: usize,
    /// Evidence events of the selected entry, sorted.
    pub marked: Vec<usize>,
}

impl FindingsPane {
    /// Scroll so that the selection is on a page of `page` entries.
    pub fn keep_selection_visible(&mut self, page: usize) {
        self.scroll = window::keep_visible(self.scroll, self.selected, page, self.entries.len());
    }

    /// Scroll by `delta` entries.
    pub fn scroll_by(&mut self, delta: isize, page: usize) {
        self.scroll = window::scroll_by(self.scroll, delta, page, self.entries.len());
    }

    /// The entry `delta` away from the selection (the last one going up from no selection).
    pub fn step_target(&self, delta: isize) -> usize {
        let last = self.entries.len().saturating_sub(1) as isize;
        match self.selected {
            Some(s) => (s as isize + delta).clamp(0, last.max(0)) as usize,
            None if delta < 0 => last.max(0) as usize,
            None => 0,
        }
    }
}

/// The detail pane: whether it is open, what it describes, how far it is scrolled.
#[derive(Debug, Clone, Copy)]
pub struct DetailPane {
    /// Whether the detail pane is shown.
    pub open: bool,
    /// Which pane the detail describes.
    pub from: Pane,
    /// First line of the detail shown.
    pub scroll: usize,
}

impl Default for DetailPane {
    fn default() -> Self {
        DetailPane {
            open: false,
            from: Pane::Timeline,
            scroll: 0,
        }
    }
}

impl DetailPane {
    /// Scroll by `delta` lines (the view keeps the last page in the text).
    pub fn scroll_by(&mut self, delta: isize) {
        self.scroll = (self.scroll as isize + delta).max(0) as usize;
    }
}

/// The help screen.
#[derive(Debug, Clone, Copy, Default)]
pub struct HelpPane {
    /// Whether the help screen is open.
    pub open: bool,
    /// First help line shown.
    pub scroll: usize,
}

impl HelpPane {
    /// Apply an action while the help screen is open; it scrolls no further than `max`.
    pub fn update(&mut self, a: Action, max: usize) {
        // The screen may have grown since the last key.
        self.scroll = self.scroll.min(max);
        match a {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = (self.scroll + 1).min(max),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(10),
            Action::PageDown => self.scroll = (self.scroll + 10).min(max),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = max,
            Action::Help | Action::Back | Action::Quit => self.open = false,
            _ => {}
        }
    }
}
