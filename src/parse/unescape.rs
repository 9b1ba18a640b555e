//! Backslash escapes a format's quoting leaves in its messages (chromedriver writes console strings as
//! JSON, test code prints them through Python's repr or Java's toString): `\n`, `\t`, `\"`, `\uXXXX`.

use std::borrow::Cow;

/// Decode backslash escapes. A run of backslashes before an escape letter counts as one escape, since
/// each layer of quoting (JSON inside a Python repr) doubles the backslash: `\\n` is a newline too.
/// Anything that is not an escape is kept as written.
pub fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i..).unwrap_or_default();
        let run = after.bytes().take_while(|b| *b == b'\\').count();
        let tail = after.get(run..).unwrap_or_default();
        let mut chars = tail.chars();
        let (decoded, used) = match chars.next() {
            Some('n') => (Some('\n'), 1),
            Some('t') => (Some('\t'), 1),
            Some('r') => (Some('\r'), 1),
            Some(c @ ('"' | '\'' | '/')) => (Some(c), 1),
            Some('u') => {
                let hex = tail.get(1..5).unwrap_or_default();
                match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    Some(c) if hex.len() == 4 => (Some(c), 5),
                    _ => (None, 0),
                }
            }
            _ => (None, 0),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = tail.get(used..).unwrap_or_default();
            }
            None => {
                // Not an escape: an escaped backslash pair reads as one backslash, a lone one stays.
                out.push('\\');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_and_two_layers() {
        assert_eq!(unescape(r#""a\nb \"q\" \u00e9""#), "\"a\nb \"q\" é\"");
        assert_eq!(unescape(r"a\\nb\\ttab"), "a\nb\ttab");
        assert_eq!(unescape("plain"), "plain");
    }

    #[test]
    fn what_is_not_an_escape_stays() {
        assert_eq!(unescape(r"C:\\Users\x"), r"C:\Users\x");
        assert_eq!(unescape(r"end\"), r"end\");
        assert_eq!(unescape(r"\u12"), r"\u12");
        assert_eq!(unescape(r"\ud800x"), r"\ud800x");
    }
}
