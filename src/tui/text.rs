//! Text that is safe to draw: log text is untrusted, so control characters, escape sequences and
//! bidirectional overrides are made visible and inert before any widget sees them.

/// Make untrusted text drawable: C0 controls become their Unicode control pictures (`ESC` → `␛`, so
/// an escape sequence shows as `␛[2J` and does nothing), C1 controls and bidi overrides become `�`,
/// tabs become a space, emoji presentation selectors are dropped. At most `max` characters are kept
/// (rows never format more than they can show).
pub fn safe(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    for c in s.chars().take(max) {
        out.push(match c {
            '\t' => ' ',
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
            '\u{7f}' => '\u{2421}',
            c if c.is_control() => '\u{FFFD}',
            // Bidirectional embeddings, overrides and isolates can reorder what follows them.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' => {
                '\u{FFFD}'
            }
            // Emoji presentation makes terminals draw `⚠️` two cells wide where width tables say one,
            // which shifts the rest of the row; the plain symbol is drawn one wide everywhere.
            '\u{FE0F}' => continue,
            c => c,
        });
    }
    out
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
    format!("{v:.1} {}", UNITS[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_become_visible_and_inert() {
        let s = safe_all("a\x1b]0;title\x07b\x1b[2J\u{9b}c\u{202e}d\te");
        assert_eq!(s, "a␛]0;title␇b␛[2J\u{fffd}c\u{fffd}d e");
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
