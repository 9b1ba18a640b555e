//! Terminal styling for text reports: colour only on a terminal, never with `NO_COLOR`.

use crate::model::Level;

/// Whether to colour, settled once from the terminal and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI colour.
    pub color: bool,
}

/// Colours for source labels, in order.
const PALETTE: [&str; 6] = ["36", "35", "33", "34", "32", "96"];

impl Style {
    /// Colour on a terminal unless NO_COLOR is set (to anything non-empty).
    pub fn detect(is_tty: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: is_tty && !no_color,
        }
    }

    /// Wrap text in an SGR code.
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A source label in its colour.
    pub fn source(&self, idx: usize, text: &str) -> String {
        self.paint(PALETTE.get(idx % PALETTE.len()).unwrap_or(&"0"), text)
    }

    /// A level word in its colour.
    pub fn level(&self, level: Option<Level>, text: &str) -> String {
        let code = match level {
            Some(Level::Error) => "1;31",
            Some(Level::Warn) => "33",
            Some(Level::Info) => "32",
            Some(Level::Debug) => "34",
            Some(Level::Trace) => "35",
            None => "2",
        };
        self.paint(code, text)
    }

    /// Dimmed text.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Bold text.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// Make log text safe for a terminal (see [`super::sanitize::terminal_safe`]): controls and escape
/// sequences stay visible as inert escapes.
pub fn sanitize(s: &str) -> String {
    super::sanitize::terminal_safe(s).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_neutralised() {
        assert_eq!(
            sanitize("a\x1b]0;pwned\x07b\x1b[2J"),
            "a\\x1b]0;pwned\\x07b\\x1b[2J"
        );
    }

    #[test]
    fn no_color_off_a_terminal() {
        assert!(!Style::detect(false).color);
        assert_eq!(Style { color: false }.paint("31", "x"), "x");
    }
}
