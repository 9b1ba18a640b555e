//! Text that is safe to draw: log text is untrusted, so control characters, escape sequences and
//! bidirectional overrides are made visible and inert before any widget sees them.

/// Make untrusted text drawable: the one terminal guard of every text output
/// ([`crate::report::sanitize::terminal_safe`]) turns controls, escape sequences of every kind and bidi
/// overrides into visible, inert escapes (`\x1b[2J`); emoji presentation selectors are dropped. At most
/// `max` characters of the input are looked at (rows never format more than they can show).
pub fn safe(s: &str, max: usize) -> String {
    let head: std::borrow::Cow<'_, str> = match s.char_indices().nth(max) {
        Some((cut, _)) => std::borrow::Cow::Borrowed(&s[..cut]),
        None => std::borrow::Cow::Borrowed(s),
    };
    // Emoji presentation makes terminals draw `⚠️` two cells wide where width tables say one,
    // which shifts the rest of the row; the plain symbol is drawn one wide everywhere.
    crate::report::sanitize::terminal_safe(&head).replace('\u{FE0F}', "")
}

/// [`safe`] without a length limit.
pub fn safe_all(s: &str) -> String {
    safe(s, usize::MAX)
}

/// Cut text to `width` characters, ending with `…` when something was cut.
pub fn fit(s: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// Pad (or cut) text to exactly `width` characters.
pub fn pad(s: &str, width: usize) -> String {
    let f = fit(s, width);
    let n = f.chars().count();
    format!("{f}{}", " ".repeat(width.saturating_sub(n)))
}

/// A byte count for people: `812 B`, `12.3 MB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1000.0;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS.get(u).unwrap_or(&"TB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible_and_inert() {
        let s = safe_all("a\x1b]0;title\x07b\x1b[2J\u{9b}c\u{202e}d\te\u{26a0}\u{fe0f}");
        assert_eq!(
            s,
            "a\\x1b]0;title\\x07b\\x1b[2J\\u{9b}c\\u{202e}d e\u{26a0}"
        );
        assert!(!s.chars().any(|c| c.is_control()));
    }

    #[test]
    fn fitting() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(safe("abcdef", 3), "abc");
        assert_eq!(bytes(12_345_678), "12.3 MB");
    }
}
