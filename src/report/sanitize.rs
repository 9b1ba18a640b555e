//! Terminal-safe text: log text is untrusted (crashed programs, hostile web pages), and every text output
//! (check, timeline, templates, the TUI) passes it through [`terminal_safe`] before it reaches a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a character must not reach a terminal as it is.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        // Bidirectional embeddings, overrides, isolates and marks can reorder what follows them.
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
        // Line and paragraph separators break lines on some terminals.
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Make untrusted text safe to print: every C0 control, DEL, C1 control (`U+0080`–`U+009F`, the 8-bit
/// forms of CSI, OSC, DCS, APC, PM, SOS, ST), bidi override and line separator is written as a visible
/// escape (`\x1b`, `\u{9b}`, `\n`), so no escape sequence of any kind (CSI, OSC, DCS, APC/PM, C1) can
/// act: its introducer is text, and what followed it is plain printable text. A tab becomes a space.
/// Text without such characters is returned as it is, without copying.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\t' || is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\t' => out.push(' '),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && is_unsafe(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_raw_controls(s: &str) -> bool {
        !s.chars().any(|c| c.is_control() || is_unsafe(c))
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(
            terminal_safe("INFO all good é ✓"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn seven_bit_sequences_of_every_kind_are_visible_and_inert() {
        let cases = [
            ("\x1b[2J", "\\x1b[2J"),                                // CSI
            ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),             // OSC ended by BEL
            ("\x1b]8;;http://x\x1b\\", "\\x1b]8;;http://x\\x1b\\"), // OSC 8 ended by ST
            ("\x1bPq#0\x1b\\", "\\x1bPq#0\\x1b\\"),                 // DCS
            ("\x1b_app\x1b\\", "\\x1b_app\\x1b\\"),                 // APC
            ("\x1b^pm\x1b\\", "\\x1b^pm\\x1b\\"),                   // PM
            ("\x1bXsos\x1b\\", "\\x1bXsos\\x1b\\"),                 // SOS
            ("a\x08\x7fb", "a\\x08\\x7fb"),                         // backspace, DEL
        ];
        for (raw, shown) in cases {
            let s = terminal_safe(raw);
            assert_eq!(s, shown, "{raw:?}");
            assert!(no_raw_controls(&s));
        }
    }

    #[test]
    fn eight_bit_c1_forms_and_bidi_are_visible_and_inert() {
        let s = terminal_safe(
            "a\u{9b}31mred\u{9d}0;t\u{9c}\u{90}q\u{9c}\u{9f}x\u{9e}y\u{85}z\u{202e}txt",
        );
        assert_eq!(
            s,
            "a\\u{9b}31mred\\u{9d}0;t\\u{9c}\\u{90}q\\u{9c}\\u{9f}x\\u{9e}y\\u{85}z\\u{202e}txt"
        );
        assert!(no_raw_controls(&s));
    }

    #[test]
    fn newlines_and_tabs() {
        assert_eq!(terminal_safe("a\tb\r\nc"), "a b\\r\\nc");
    }
}
