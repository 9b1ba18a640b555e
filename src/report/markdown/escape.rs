//! Escaping for GitHub-flavoured Markdown: log text becomes plain text in paragraphs, headings, table
//! cells and code, whatever characters it holds.

use crate::report::style::sanitize;
use std::io::{self, Write};

/// Escape text for a Markdown paragraph, list item or heading: no markup, no HTML, no line breaks.
pub fn inline(s: &str) -> String {
    let s = sanitize(&s.replace(['\n', '\r'], " "));
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            // A leading list or block marker would start a block inside ours.
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // `1. text` at the start of a line is an ordered list: escape its dot.
    if let Some(p) = out.find(['.', ')']) {
        if p > 0 && out[..p].bytes().all(|b| b.is_ascii_digit()) {
            out.insert(p, '\\');
        }
    }
    out
}

/// Escape text for a table cell (inline escaping covers `|`).
pub fn cell(s: &str) -> String {
    inline(s)
}

/// A code span that holds any text: a fence of more backticks than the text's longest run.
pub fn code(s: &str) -> String {
    let s = sanitize(s).replace(['\n', '\r'], " ");
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code span inside a table cell: there a `|` ends the cell even inside a code span, and GFM takes `\|`.
pub fn code_cell(s: &str) -> String {
    code(s).replace('|', "\\|")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// A fenced code block whose fence no line of the text can close.
pub fn block(out: &mut dyn Write, lines: &[String]) -> io::Result<()> {
    let longest = lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{fence}text")?;
    for l in lines {
        writeln!(out, "{}", sanitize(l))?;
    }
    writeln!(out, "{fence}")?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_cannot_make_markup() {
        assert_eq!(inline("a|b"), "a\\|b");
        assert_eq!(inline("<script>"), "\\<script\\>");
        assert_eq!(inline("# x"), "\\# x");
        assert_eq!(inline("1. x"), "1\\. x");
        assert_eq!(inline("- x"), "\\- x");
        assert_eq!(inline("a\nb"), "a b");
        assert_eq!(inline("&lt;"), "&amp;lt;");
    }

    #[test]
    fn code_spans_outlast_their_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b"), "`a|b`");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
    }

    #[test]
    fn blocks_outlast_their_fences() {
        let mut v = Vec::new();
        block(&mut v, &["```".into(), "x".into()]).unwrap();
        let s = String::from_utf8(v).unwrap();
        assert!(s.starts_with("````text\n"), "{s}");
        assert!(s.ends_with("\n````\n\n"), "{s}");
    }
}
