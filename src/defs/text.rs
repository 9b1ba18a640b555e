//! Definition-file plumbing shared by every loader: `DefError` (file, line, fix), line numbers of TOML
//! keys, regexes compiled with their line, and reading a user's directory of `*.toml` files.

use regex::Regex;
use std::path::Path;

/// An error in a definition file, naming file, line and the fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct DefError {
    /// File name.
    pub file: String,
    /// 1-based line of the problem (1 when unknown).
    pub line: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// Line of a byte offset in `text` (1-based).
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Line on which `key = ` (or `[key]`) first appears after `from`, for pointing at a value.
pub fn line_of_key(text: &str, key: &str, nth: usize) -> usize {
    let mut seen = 0;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            if seen == nth {
                return i + 1;
            }
            seen += 1;
        }
    }
    1
}

/// Turn a TOML deserialisation error into a `DefError` with a line.
pub fn toml_error(file: &str, text: &str, e: toml::de::Error) -> DefError {
    let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
    DefError {
        file: file.to_string(),
        line,
        message: e.message().trim().to_string(),
    }
}

/// What to do about a regex error: a pattern past the size limit needs to be made smaller.
pub fn regex_hint(e: &regex::Error) -> &'static str {
    match e {
        regex::Error::CompiledTooBig(_) => {
            "; make the pattern smaller (bound or drop nested counted repeats like `(\\w{100}){100}`, split it in several patterns)"
        }
        _ => "",
    }
}

/// Compile a regex from a definition, pointing at its line on error.
pub fn compile(
    file: &str,
    text: &str,
    key: &str,
    nth: usize,
    pat: &str,
) -> Result<Regex, DefError> {
    definition_regex(pat).map_err(|e| DefError {
        file: file.to_string(),
        line: line_of_key(text, key, nth),
        message: format!("invalid regex in `{key}`: {e}{}", regex_hint(&e)),
    })
}

/// Compile a definition's regex (a format's, an extractor's, a rule's), with `\d` as ASCII digits.
pub fn definition_regex(pat: &str) -> Result<Regex, regex::Error> {
    Regex::new(&ascii_digits(pat))
}

/// `pat` with every `\d` (and `\D`) meaning ASCII digits, `[[:digit:]]`, as in ids, times and counts
/// of a log line. Unicode's `\d` (every script's digits) compiles to an automaton of some tens of
/// kilobytes per use: across the built-in definitions about half the memory and time of startup
/// (20 MB, 50 ms), for digits no log line here writes (and `u64` parsing of a CID refuses anyway).
/// A pattern that does not parse is returned as it is, for the regex crate to report.
pub fn ascii_digits(pat: &str) -> std::borrow::Cow<'_, str> {
    use regex_syntax::ast::{self, Ast};
    if !pat.contains("\\d") && !pat.contains("\\D") {
        return pat.into();
    }
    let Ok(mut tree) = ast::parse::Parser::new().parse(pat) else {
        return pat.into();
    };
    fn digits(span: ast::Span, negated: bool) -> ast::ClassSetItem {
        ast::ClassSetItem::Ascii(ast::ClassAscii {
            span,
            kind: ast::ClassAsciiKind::Digit,
            negated,
        })
    }
    fn in_set(set: &mut ast::ClassSet) -> bool {
        match set {
            ast::ClassSet::Item(item) => in_item(item),
            ast::ClassSet::BinaryOp(op) => in_set(&mut op.lhs) | in_set(&mut op.rhs),
        }
    }
    fn in_item(item: &mut ast::ClassSetItem) -> bool {
        match item {
            ast::ClassSetItem::Perl(p) if p.kind == ast::ClassPerlKind::Digit => {
                *item = digits(p.span, p.negated);
                true
            }
            ast::ClassSetItem::Bracketed(b) => in_set(&mut b.kind),
            ast::ClassSetItem::Union(u) => u.items.iter_mut().fold(false, |c, i| in_item(i) | c),
            _ => false,
        }
    }
    fn walk(node: &mut Ast) -> bool {
        match node {
            Ast::ClassPerl(p) if p.kind == ast::ClassPerlKind::Digit => {
                let (span, negated) = (p.span, p.negated);
                *node = Ast::class_bracketed(ast::ClassBracketed {
                    span,
                    negated: false,
                    kind: ast::ClassSet::Item(digits(span, negated)),
                });
                true
            }
            Ast::ClassBracketed(b) => in_set(&mut b.kind),
            Ast::Repetition(r) => walk(&mut r.ast),
            Ast::Group(g) => walk(&mut g.ast),
            Ast::Alternation(a) => a.asts.iter_mut().fold(false, |c, x| walk(x) | c),
            Ast::Concat(c) => c.asts.iter_mut().fold(false, |ch, x| walk(x) | ch),
            _ => false,
        }
    }
    if !walk(&mut tree) {
        return pat.into();
    }
    let mut out = String::with_capacity(pat.len() + 16);
    match ast::print::Printer::new().print(&tree, &mut out) {
        Ok(()) => out.into(),
        Err(_) => pat.into(),
    }
}

/// The `*.toml` files of a user directory, sorted: (path, file name, text). `what` names the directory
/// in errors (`parsers`, `rules`).
pub fn read_toml_dir(dir: &Path, what: &str) -> Result<Vec<(String, String, String)>, DefError> {
    let rd = std::fs::read_dir(dir).map_err(|e| DefError {
        file: dir.display().to_string(),
        line: 1,
        message: format!("cannot read the {what} directory: {e}; check the path"),
    })?;
    let mut paths: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let text = std::fs::read_to_string(&p).map_err(|e| DefError {
            file: p.display().to_string(),
            line: 1,
            message: format!("cannot read: {e}"),
        })?;
        let base = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        out.push((p.display().to_string(), base, text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_digit_class_becomes_ascii() {
        let cases = [
            (r"v\d+", r"v[[:digit:]]+"),
            (r"\D", r"[[:^digit:]]"),
            (r"[\d.]+", r"[[:digit:].]+"),
            (r"[^\d]", r"[^[:digit:]]"),
            (r"[a[\d-]]", r"[a[[:digit:]-]]"),
            (r"(?i)x(?P<n>\d{2,3})|y", r"(?i)x(?P<n>[[:digit:]]{2,3})|y"),
            (r"(?-u:\d)", r"(?-u:[[:digit:]])"),
            (r"[\w&&\d]", r"[\w&&[:digit:]]"),
        ];
        for (pat, want) in cases {
            assert_eq!(ascii_digits(pat), want, "{pat}");
            assert!(definition_regex(pat).is_ok(), "{pat}");
        }
        // Nothing to change, or nothing that parses: the pattern as it is (the regex crate reports).
        assert!(matches!(
            ascii_digits(r"\w+ \s"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(matches!(
            ascii_digits(r"\\d"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(ascii_digits(r"(\d"), r"(\d");
        assert!(definition_regex(r"(\d").is_err());
        let r = definition_regex(r"^\d+$").unwrap();
        assert!(r.is_match("2025") && !r.is_match("٢٠٢٥"));
    }

    /// Every regex of the built-in definitions finds, on every sample and real-log line, the same
    /// matches and groups with ASCII digits as with Unicode's: the lines are ASCII where it matters.
    #[test]
    fn built_in_patterns_match_the_same_with_ascii_digits() {
        fn strings(v: &toml::Value, out: &mut Vec<String>) {
            match v {
                toml::Value::String(s) if s.contains(r"\d") || s.contains(r"\D") => {
                    out.push(s.clone())
                }
                toml::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
                toml::Value::Table(t) => t.values().for_each(|x| strings(x, out)),
                _ => {}
            }
        }
        let mut pats = Vec::new();
        for (_, text) in crate::defs::builtin_parsers()
            .iter()
            .chain(crate::defs::builtin_rules())
        {
            let table: toml::Table = toml::from_str(text).unwrap();
            strings(&toml::Value::Table(table), &mut pats);
        }
        let pairs: Vec<(Regex, Regex)> = pats
            .iter()
            .filter_map(|p| Some((Regex::new(p).ok()?, definition_regex(p).unwrap())))
            .collect();
        assert!(pairs.len() > 100, "{} patterns with digits", pairs.len());
        let reg = crate::defs::Registry::load(None).unwrap();
        let lines = crate::parse::record::tests::corpus_lines(&reg, &[]);
        let mut matched = 0;
        for l in &lines {
            for (uni, ascii) in &pairs {
                let groups = |r: &Regex| {
                    r.captures_iter(l)
                        .map(|c| c.iter().map(|m| m.map(|m| m.range())).collect::<Vec<_>>())
                        .collect::<Vec<_>>()
                };
                let want = groups(uni);
                assert_eq!(groups(ascii), want, "{} on {l:?}", uni.as_str());
                matched += want.len();
            }
        }
        assert!(matched > 1000, "{matched} matches compared");
    }
}
