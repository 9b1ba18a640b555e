//! Query: what the user types after `/` (a search) and `f` (a filter), turned into a regex or into
//! changes to the TUI's [`Filters`].
//!
//! A filter line is terms separated by spaces: `cid:bob`, `source:alice`, `level:warn` (also
//! `level>=warn`), `text:"channel closed"`, `template:t1a2b3c4d`. A bare term is read as a level word,
//! then a CID (number, prefix or name), then a source label, then text. `key:` with no value drops that
//! part. A leading `-` hides instead (`-cid:alice`, `-text:"ping"`, `-level:debug`, `-debug`); `-key:`
//! with no value shows again what that kind of term hid.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::filterset::Filters;
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

/// One change to the filters. Keep parts replace what was kept (`None` drops the part); hide parts
/// add to what is hidden (`None` drops that kind of hiding).
#[derive(Debug, Clone)]
pub enum Change {
    /// Keep only events that mention this CID.
    Cid(Option<u64>),
    /// Keep only sources whose label contains this.
    Source(Option<String>),
    /// Keep only events at or above this level.
    Level(Option<Level>),
    /// Keep only events whose text matches (replaces the text patterns kept).
    Text(Option<Regex>),
    /// Keep only events of this template.
    Template(Option<String>),
    /// Hide events that mention this CID.
    HideCid(Option<u64>),
    /// Hide sources whose label contains this.
    HideSource(Option<String>),
    /// Hide events at this level.
    HideLevel(Option<Level>),
    /// Hide events whose text matches.
    HideText(Option<Regex>),
    /// Hide events of this template.
    HideTemplate(Option<String>),
}

fn add_or_clear<T: PartialEq>(list: &mut Vec<T>, v: Option<T>) {
    match v {
        Some(v) if !list.contains(&v) => list.push(v),
        Some(_) => {}
        None => list.clear(),
    }
}

impl Change {
    /// Apply to the filters.
    pub fn apply(self, f: &mut Filters) {
        match self {
            Change::Cid(c) => f.cid = c,
            Change::Source(s) => f.source = s,
            Change::Level(l) => f.min_level = l,
            Change::Text(r) => f.text = r.into_iter().collect(),
            Change::Template(t) => f.template = t,
            Change::HideCid(c) => add_or_clear(&mut f.hide.cids, c),
            Change::HideSource(s) => add_or_clear(&mut f.hide.sources, s),
            Change::HideLevel(l) => add_or_clear(&mut f.hide.levels, l),
            Change::HideText(Some(r)) => {
                if !f.hide.text.iter().any(|h| h.as_str() == r.as_str()) {
                    f.hide.text.push(r);
                }
            }
            Change::HideText(None) => f.hide.text.clear(),
            Change::HideTemplate(t) => add_or_clear(&mut f.hide.templates, t),
        }
    }
}

/// Names that are close to `word`: those it begins, else the most similar one (a relative cut-off, so
/// a short word is not "close" to everything).
pub fn nearest<'a>(word: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let names: Vec<&str> = names.into_iter().collect();
    let w = word.to_ascii_lowercase();
    if w.is_empty() {
        return Vec::new();
    }
    let starts: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with(&w))
        .collect();
    if !starts.is_empty() {
        return starts;
    }
    names
        .iter()
        .map(|n| (strsim::normalized_damerau_levenshtein(&w, n), *n))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| vec![n])
        .unwrap_or_default()
}

/// `did you mean a or b?`, or nothing.
pub fn did_you_mean(close: &[&str], prefix: &str) -> String {
    match close {
        [] => String::new(),
        [one] => format!("; did you mean {prefix}{one}?"),
        many => format!(
            "; did you mean {}?",
            many.iter()
                .map(|n| format!("{prefix}{n}"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

/// The longest text all `names` that begin with `typed` share (a name and a `sep` when only one does);
/// `None` when that adds nothing.
pub fn complete_word(typed: &str, names: &[&str], sep: &str) -> Option<String> {
    let hits: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.starts_with(typed))
        .collect();
    let out = match hits.as_slice() {
        [] => return None,
        [one] => format!("{one}{sep}"),
        [first, rest @ ..] => {
            let mut common = first.to_string();
            for n in rest {
                while !n.starts_with(common.as_str()) {
                    common.pop();
                }
            }
            common
        }
    };
    (out.len() > typed.len()).then_some(out)
}

/// Tab in the filter prompt: complete the key of the last term (`lev` → `level:`, `-so` → `-source:`).
pub fn complete_filter(text: &str) -> Option<String> {
    let start = text.rfind(' ').map_or(0, |k| k + 1);
    let (head, last) = text.split_at(start);
    let (minus, word) = match last.strip_prefix('-') {
        Some(w) => ("-", w),
        None => ("", last),
    };
    if word.is_empty() || word.contains([':', '=', '"']) {
        return None;
    }
    let keys = ["cid:", "source:", "level:", "text:", "template:"];
    complete_word(word, &keys, "").map(|w| format!("{head}{minus}{w}"))
}

/// Whether a word is a template id as the detail pane shows it (`t` and 8 hex digits).
pub fn is_template_id(v: &str) -> bool {
    v.len() == 9
        && v.starts_with('t')
        && v[1..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
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

/// A level from a word (`warn`, `warning`, `errors`, …).
pub fn level_word(w: &str) -> Option<Level> {
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

const KEYS: [&str; 10] = [
    "cid", "name", "peer", "source", "src", "level", "lvl", "text", "grep", "template",
];

/// One term: what it keeps (or hides, when `hide`).
fn term(key: &str, value: &str, hide: bool, tl: &Timeline) -> Result<Change, String> {
    let key = key.to_ascii_lowercase();
    let some = !value.is_empty();
    Ok(match key.as_str() {
        "cid" | "name" | "peer" => {
            let c = if some {
                Some(cid_of(tl, value).ok_or_else(|| {
                    format!("no CID or name like {value:?} in these logs")
                })?)
            } else {
                None
            };
            if hide {
                Change::HideCid(c)
            } else {
                Change::Cid(c)
            }
        }
        "source" | "src" => {
            let s = some.then(|| source_of(tl, value).unwrap_or_else(|| value.to_string()));
            if hide {
                Change::HideSource(s)
            } else {
                Change::Source(s)
            }
        }
        "level" | "lvl" => {
            let l = if some {
                Some(level_word(value).ok_or_else(|| {
                    format!("{value:?} is not a level; use error, warn, info, debug or trace")
                })?)
            } else {
                None
            };
            if hide {
                Change::HideLevel(l)
            } else {
                Change::Level(l)
            }
        }
        "text" | "grep" => {
            let r = if some { Some(pattern(value)?) } else { None };
            if hide {
                Change::HideText(r)
            } else {
                Change::Text(r)
            }
        }
        "template" => {
            if some && !is_template_id(value) {
                return Err(format!(
                    "{value:?} is not a template id; the detail pane shows one (t and 8 hex digits)"
                ));
            }
            let t = some.then(|| value.to_string());
            if hide {
                Change::HideTemplate(t)
            } else {
                Change::Template(t)
            }
        }
        "" => match (
            level_word(value),
            cid_of(tl, value),
            source_of(tl, value),
            hide,
        ) {
            (Some(l), _, _, false) => Change::Level(Some(l)),
            (Some(l), _, _, true) => Change::HideLevel(Some(l)),
            (None, Some(c), _, false) => Change::Cid(Some(c)),
            (None, Some(c), _, true) => Change::HideCid(Some(c)),
            (None, None, Some(s), false) => Change::Source(Some(s)),
            (None, None, Some(s), true) => Change::HideSource(Some(s)),
            (None, None, None, _) => term("text", value, hide, tl)?,
        },
        other => {
            return Err(format!(
                "unknown filter {other:?}{}; use cid:, source:, level:, text: or template: (- before one hides)",
                did_you_mean(&nearest(other, KEYS), "")
            ))
        }
    })
}

/// Read a filter line into changes, or say what is wrong with it.
pub fn parse_filter(text: &str, tl: &Timeline) -> Result<Vec<Change>, String> {
    let mut out = Vec::new();
    for w in words(text) {
        let (hide, w) = match w.strip_prefix('-') {
            Some(rest) if !rest.is_empty() => (true, rest.to_string()),
            _ => (false, w),
        };
        let (key, value) = if let Some(v) = w.strip_prefix("level>=").filter(|_| !hide) {
            ("level", v)
        } else if let Some((k, v)) = w.split_once([':', '=']) {
            (k, v)
        } else {
            ("", w.as_str())
        };
        out.push(term(key, value, hide, tl)?);
    }
    Ok(out)
}

fn regex_text(re: &Regex) -> String {
    format!("/{}/", re.as_str().trim_start_matches("(?i)"))
}

/// Filters in few words for the status line: CIDs by name when they have one; `-` marks what is hidden.
pub fn describe(f: &Filters, tl: &Timeline) -> String {
    let cid = |c: u64| match tl.cids.name(c) {
        Some(n) => n.to_string(),
        None => c.to_string(),
    };
    let mut parts = Vec::new();
    if let Some(c) = f.cid {
        parts.push(format!("cid={}", cid(c)));
    }
    if let Some(s) = &f.source {
        parts.push(format!("source={s}"));
    }
    if let Some(l) = f.min_level {
        parts.push(format!("level>={l}"));
    }
    if !f.text.is_empty() {
        let any: Vec<String> = f.text.iter().map(regex_text).collect();
        parts.push(format!("text={}", any.join("|")));
    }
    if let Some(t) = &f.template {
        parts.push(format!("template={t}"));
    }
    let h = &f.hide;
    parts.extend(h.cids.iter().map(|&c| format!("-cid={}", cid(c))));
    parts.extend(h.sources.iter().map(|s| format!("-source={s}")));
    parts.extend(h.levels.iter().map(|l| format!("-level={l}")));
    parts.extend(h.text.iter().map(|r| format!("-text={}", regex_text(r))));
    parts.extend(h.templates.iter().map(|t| format!("-template={t}")));
    if let Some(t) = f.from {
        parts.push(format!("from={t}"));
    }
    if let Some(t) = f.until {
        parts.push(format!("until={t}"));
    }
    parts.join(" ")
}

/// What a filter line would do, for the prompt's preview.
pub fn preview(text: &str, tl: &Timeline, current: &Filters) -> String {
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

    #[test]
    fn tab_completes_keys_and_names() {
        assert_eq!(
            complete_filter("level:warn -so").as_deref(),
            Some("level:warn -source:")
        );
        assert_eq!(complete_filter("t").as_deref(), Some("te"));
        assert_eq!(complete_filter("tem").as_deref(), Some("template:"));
        assert_eq!(complete_filter("text:x"), None);
        assert_eq!(
            complete_word("q", &["quit", "goto"], " ").as_deref(),
            Some("quit ")
        );
        assert_eq!(
            complete_word("fil", &["filter-in", "filter-out"], " ").as_deref(),
            Some("filter-")
        );
        assert_eq!(complete_word("x", &["quit"], " "), None);
    }

    #[test]
    fn near_names_by_prefix_or_similarity() {
        let names = ["filter-in", "filter-out", "goto", "quit"];
        assert_eq!(nearest("filter", names), vec!["filter-in", "filter-out"]);
        assert_eq!(nearest("fliter-out", names), vec!["filter-out"]);
        assert_eq!(nearest("qiut", names), vec!["quit"]);
        assert!(
            nearest("cnt", names).is_empty(),
            "a short word is not close to everything"
        );
        assert_eq!(did_you_mean(&["goto"], ":"), "; did you mean :goto?");
        assert!(
            is_template_id("t0a1b2c3d") && !is_template_id("t0A1B2C3D") && !is_template_id("tx")
        );
    }
}
