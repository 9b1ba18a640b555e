//! Theme: every style the views use, in one place. Only the 16 ANSI colours are used; without colour
//! (`NO_COLOR`) selection and focus fall back to reverse, bold and underline, and nothing else relies on
//! colour alone (levels and severities are also written out, marks are distinct symbols).
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use crate::model::Level;
use crate::rules::finding::Severity;
use ratatui::style::{Color, Modifier, Style};

/// Colours of source labels, in source order.
const SOURCES: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Blue,
    Color::Green,
    Color::LightCyan,
];

/// Styles, with or without colour.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Whether colours are used.
    pub color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// Plain text.
    pub fn text(&self) -> Style {
        Style::new()
    }

    /// Secondary text (times, notes, borders of unfocused panes).
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    /// A source label.
    pub fn source(&self, idx: usize) -> Style {
        self.fg(SOURCES[idx % SOURCES.len()])
    }

    /// A level tag.
    pub fn level(&self, level: Option<Level>) -> Style {
        match level {
            Some(Level::Error) => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Some(Level::Warn) => self.fg(Color::Yellow),
            Some(Level::Info) => self.fg(Color::Green),
            Some(Level::Debug) => self.fg(Color::Blue),
            Some(Level::Trace) => self.fg(Color::Magenta),
            None => self.dim(),
        }
    }

    /// A severity tag.
    pub fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Critical => self.fg(Color::LightRed).add_modifier(Modifier::BOLD),
            Severity::High => self.fg(Color::Red).add_modifier(Modifier::BOLD),
            Severity::Medium => self.fg(Color::Yellow),
            Severity::Low => self.fg(Color::Blue),
            Severity::Info => self.dim(),
        }
    }

    /// The cursor row of the focused pane.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// The cursor row of a pane without the focus.
    pub fn selected_unfocused(&self) -> Style {
        if self.color {
            Style::new().bg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED)
        }
    }

    /// Gutter mark of the selected finding's evidence.
    pub fn marked(&self) -> Style {
        self.fg(Color::LightMagenta).add_modifier(Modifier::BOLD)
    }

    /// CID names.
    pub fn name(&self) -> Style {
        self.fg(Color::LightBlue)
    }

    /// The `+N` fold marker.
    pub fn fold(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// A search hit inside text.
    pub fn hit(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD)
        }
    }

    /// Text matching a `:highlight` pattern.
    pub fn highlight(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::LightCyan)
        } else {
            Style::new().add_modifier(Modifier::ITALIC | Modifier::BOLD)
        }
    }

    /// A pane's title row.
    pub fn title(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
            (true, false) => Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            (false, _) => self.dim(),
        }
    }

    /// A section heading in the detail pane.
    pub fn heading(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The status line.
    pub fn bar(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Keys in the footer and the help screen.
    pub fn key(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Error text in the prompt.
    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Histogram bars of all events.
    pub fn bars(&self) -> Style {
        self.fg(Color::Cyan)
    }

    /// Histogram bars of errors.
    pub fn error_bars(&self) -> Style {
        self.fg(Color::Red)
    }

    /// The visible window on the overview axis.
    pub fn window(&self) -> Style {
        self.fg(Color::White).add_modifier(Modifier::BOLD)
    }
}
