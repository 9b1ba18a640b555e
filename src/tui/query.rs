//! Query: what the user types after `/` (a search) and `f` (a filter), turned into a regex or into
//! changes to the shared [`Filter`].
//!
//! A filter line is terms separated by spaces: `cid:bob`, `source:alice`, `level:warn` (also
//! `level>=warn`), `text:"channel closed"`. A bare term is read as a level word, then a CID (number,
//! prefix or name), then a source label, then text. `key:` with no value drops that part.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use crate::filter::Filter;
use crate::model::Level;
use crate::model::Timeline;
use regex::Regex;

/// A regex from what the user typed; all lower case means case does not matter.
pub fn pattern(text: &str) -> Result<Regex, String> {
    let smart = if text.chars().any(|c| c.is_uppercase()) {
        text.to_string()
    } else {
        format!("(?i){text}")
    };
    regex::RegexBuilder::new(&smart)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(s) => s.lines().last().unwrap_or("bad regex").trim().to_string(),
            other => other.to_string(),
        })
}

/// One change to a filter.
#[derive(Debug, Clone)]
pub enum Change {
    /// Keep only events that mention this CID; `None` drops the CID part.
    Cid(Option<u64>),
    /// Keep only sources whose label contains this.
    Source(Option<String>),
    /// Keep only events at or above this level.
    Level(Option<Level>),
    /// Keep only events whose text matches.
    Text(Option<Regex>),
}

impl Change {
    /// Apply to a filter.
    pub fn apply(self, f: &mut Filter) {
        match self {
            Change::Cid(c) => f.cid = c,
            Change::Source(s) => f.source = s,
            Change::Level(l) => f.min_level = l,
            Change::Text(r) => f.grep = r,
        }
    }
}

fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn level_word(w: &str) -> Option<Level> {
    match w.to_ascii_lowercase().as_str() {
        "error" | "err" | "errors" => Some(Level::Error),
        "warn" | "warning" | "warnings" => Some(Level::Warn),
        "info" => Some(Level::Info),
        "debug" => Some(Level::Debug),
        "trace" => Some(Level::Trace),
        _ => None,
    }
}

fn cid_of(tl: &Timeline, v: &str) -> Option<u64> {
    let q = v.trim_end_matches('.').trim_end_matches('…');
    if q.is_empty() {
        return None;
    }
    if q.chars().all(|c| c.is_ascii_digit()) {
        // A number must be a known CID or the prefix of exactly one.
        let hits: Vec<u64> = tl
            .cids
            .names
            .keys()
            .copied()
            .filter(|c| c.to_string().starts_with(q))
            .collect();
        return (hits.len() == 1).then(|| hits[0]);
    }
    tl.cids.lookup(q)
}

fn source_of(tl: &Timeline, v: &str) -> Option<String> {
    let lv = v.to_ascii_lowercase();
    let hits: Vec<&str> = tl
        .sources
        .iter()
        .map(|s| s.label.as_str())
        .filter(|l| l.to_ascii_lowercase().contains(&lv))
        .collect();
    match hits.as_slice() {
        [] => None,
        // One label: keep its own spelling (the filter compares case-sensitively).
        [one] => Some(one.to_string()),
        _ => Some(v.to_string()),
    }
}

/// Read a filter line into changes, or say what is wrong with it.
pub fn parse_filter(text: &str, tl: &Timeline) -> Result<Vec<Change>, String> {
    let mut out = Vec::new();
    for w in words(text) {
        let (key, value) = if let Some(v) = w.strip_prefix("level>=") {
            ("level", v)
        } else if let Some((k, v)) = w.split_once([':', '=']) {
            (k, v)
        } else {
            ("", w.as_str())
        };
        let change = match key.to_ascii_lowercase().as_str() {
            "cid" | "name" | "peer" => {
                if value.is_empty() {
                    Change::Cid(None)
                } else {
                    Change::Cid(Some(cid_of(tl, value).ok_or_else(|| {
                        format!("no CID or name like {value:?} in these logs")
                    })?))
                }
            }
            "source" | "src" => Change::Source(
                (!value.is_empty())
                    .then(|| source_of(tl, value).unwrap_or_else(|| value.to_string())),
            ),
            "level" | "lvl" => {
                if value.is_empty() {
                    Change::Level(None)
                } else {
                    Change::Level(Some(level_word(value).ok_or_else(|| {
                        format!("{value:?} is not a level; use error, warn, info, debug or trace")
                    })?))
                }
            }
            "text" | "grep" => {
                if value.is_empty() {
                    Change::Text(None)
                } else {
                    Change::Text(Some(pattern(value)?))
                }
            }
            "" => {
                if let Some(l) = level_word(value) {
                    Change::Level(Some(l))
                } else if let Some(c) = cid_of(tl, value) {
                    Change::Cid(Some(c))
                } else if let Some(s) = source_of(tl, value) {
                    Change::Source(Some(s))
                } else {
                    Change::Text(Some(pattern(value)?))
                }
            }
            other => {
                return Err(format!(
                    "unknown filter {other:?}; use cid:, source:, level: or text:"
                ))
            }
        };
        out.push(change);
    }
    Ok(out)
}

/// A filter in few words for the status line: CIDs by name when they have one.
pub fn describe(f: &Filter, tl: &Timeline) -> String {
    let mut parts = Vec::new();
    if let Some(c) = f.cid {
        parts.push(match tl.cids.name(c) {
            Some(n) => format!("cid={n}"),
            None => format!("cid={c}"),
        });
    }
    if let Some(s) = &f.source {
        parts.push(format!("source={s}"));
    }
    if let Some(l) = f.min_level {
        parts.push(format!("level>={l}"));
    }
    if let Some(g) = &f.grep {
        parts.push(format!("text=/{}/", g.as_str().trim_start_matches("(?i)")));
    }
    parts.join(" ")
}

/// What a filter line would do, for the prompt's preview.
pub fn preview(text: &str, tl: &Timeline, current: &Filter) -> String {
    if text.trim().is_empty() {
        return "Enter drops all filters".to_string();
    }
    match parse_filter(text, tl) {
        Ok(changes) => {
            let mut f = current.clone();
            for c in changes {
                c.apply(&mut f);
            }
            let d = describe(&f, tl);
            if d.is_empty() {
                "→ no filter".to_string()
            } else {
                format!("→ {d}")
            }
        }
        Err(e) => format!("✗ {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_ignore_case_unless_upper_case_is_typed() {
        assert!(pattern("panic").unwrap().is_match("Panic occurred"));
        assert!(!pattern("Panic").unwrap().is_match("panic"));
        assert!(pattern("(").is_err());
    }

    #[test]
    fn quoted_words_stay_together() {
        assert_eq!(words(r#"a "b c" d"#), vec!["a", "b c", "d"]);
        assert_eq!(words("text:\"x y\""), vec!["text:x y"]);
    }
}
