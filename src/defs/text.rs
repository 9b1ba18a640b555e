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
/// Should the rewritten pattern not compile where the written one does (it cannot, but a pattern
/// refused for the rewrite's sake would be a rule lost), the written one is used.
pub fn definition_regex(pat: &str) -> Result<Regex, regex::Error> {
    match ascii_digits(pat) {
        std::borrow::Cow::Borrowed(p) => Regex::new(p),
        std::borrow::Cow::Owned(p) => Regex::new(&p).or_else(|_| Regex::new(pat)),
    }
}

/// `pat` with every `\d` (and `\D`) meaning ASCII digits, `[[:digit:]]` written in its place (found by
/// parsing, so escapes, brackets and comments are told apart), as in ids, times and counts
/// of a log line. Unicode's `\d` (every script's digits) compiles to an automaton of some tens of
/// kilobytes per use: across the built-in definitions about half the memory and time of startup
/// (20 MB, 50 ms), for digits no log line here writes (and `u64` parsing of a CID refuses anyway).
/// A pattern that does not parse is returned as it is, for the regex crate to report.
pub fn ascii_digits(pat: &str) -> std::borrow::Cow<'_, str> {
    use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem};
    if !pat.contains("\\d") && !pat.contains("\\D") {
        return pat.into();
    }
    let Ok(tree) = ast::parse::Parser::new().parse(pat) else {
        return pat.into();
    };
    /// Where each digit class is written: (span, negated, inside brackets).
    struct Digits(Vec<(ast::Span, bool, bool)>);
    impl ast::Visitor for Digits {
        type Output = Vec<(ast::Span, bool, bool)>;
        type Err = std::convert::Infallible;
        fn finish(self) -> Result<Self::Output, Self::Err> {
            Ok(self.0)
        }
        fn visit_pre(&mut self, node: &Ast) -> Result<(), Self::Err> {
            if let Ast::ClassPerl(p) = node {
                if p.kind == ClassPerlKind::Digit {
                    self.0.push((p.span, p.negated, false));
                }
            }
            Ok(())
        }
        fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
            if let ClassSetItem::Perl(p) = item {
                if p.kind == ClassPerlKind::Digit {
                    self.0.push((p.span, p.negated, true));
                }
            }
            Ok(())
        }
    }
    let Ok(mut found) = ast::visit(&tree, Digits(Vec::new()));
    if found.is_empty() {
        return pat.into();
    }
    // The text as written around each class (whitespace and comments of `(?x)` included: an AST
    // printed back loses them, and `\d+ ?` would come back lazy).
    found.sort_by_key(|(span, _, _)| span.start.offset);
    let mut out = String::with_capacity(pat.len() + 12 * found.len());
    let mut from = 0;
    for (span, negated, inside) in found {
        let (a, b) = (span.start.offset, span.end.offset);
        let Some(before) = pat.get(from..a).filter(|_| a >= from && b > a) else {
            return pat.into();
        };
        out.push_str(before);
        out.push_str(match (negated, inside) {
            (false, false) => "[[:digit:]]",
            (true, false) => "[[:^digit:]]",
            (false, true) => "[:digit:]",
            (true, true) => "[:^digit:]",
        });
        from = b;
    }
    out.push_str(pat.get(from..).unwrap_or_default());
    out.into()
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
    use proptest::prelude::*;

    /// Patterns made of the pieces that decide the rewrite: digit classes in and out of brackets,
    /// negated, under flags, in groups, alternations and repetitions.
    fn pattern() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just(r"\d".to_string()),
            Just(r"\D".to_string()),
            Just(r"[\d.]".to_string()),
            Just(r"[^\d]".to_string()),
            Just(r"[a-c\d]".to_string()),
            Just(r"[[\d]--[5]]".to_string()),
            Just(r"(?-u:\d)".to_string()),
            Just(r"\w".to_string()),
            Just(r"\b".to_string()),
            "[a-c0-9 .:-]",
        ];
        let piece = (
            atom,
            prop_oneof![Just(""), Just("+"), Just("?"), Just("{2,3}"), Just("*?")],
        )
            .prop_map(|(a, r)| format!("{a}{r}"));
        proptest::collection::vec(piece, 1..6).prop_flat_map(|ps| {
            (
                Just(ps.concat()),
                prop_oneof![Just(""), Just("(?i)"), Just("(?x)")],
                prop_oneof![Just(0), Just(1), Just(2)],
            )
                .prop_map(|(body, flags, wrap)| match wrap {
                    0 => format!("{flags}{body}"),
                    1 => format!("{flags}(?P<g>{body})|z"),
                    _ => format!("{flags}^(?:{body})$"),
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]
        /// The rewritten pattern compiles whenever the written one does, and finds the same matches
        /// and groups on ASCII text.
        #[test]
        fn the_rewrite_matches_as_the_written_pattern_on_ascii(
            pat in pattern(),
            texts in proptest::collection::vec("[a-c0-9 .:_-]{0,12}", 1..6),
        ) {
            let Ok(written) = Regex::new(&pat) else { return Ok(()) };
            let rewritten = Regex::new(&ascii_digits(&pat));
            prop_assert!(rewritten.is_ok(), "{} -> {}", pat, ascii_digits(&pat));
            let rewritten = rewritten.unwrap();
            for t in &texts {
                let groups = |r: &Regex| {
                    r.captures_iter(t)
                        .map(|c| c.iter().map(|m| m.map(|m| m.range())).collect::<Vec<_>>())
                        .collect::<Vec<_>>()
                };
                prop_assert_eq!(groups(&rewritten), groups(&written), "{} on {:?}", pat, t);
            }
        }
    }

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
            // Verbose mode keeps its spaces and comments: `+ ?` is not `+?`.
            (
                r"(?x) \d+ ?[\d.]? # a \d here",
                r"(?x) [[:digit:]]+ ?[[:digit:].]? # a \d here",
            ),
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
