//! Format definitions: what a log format is, as data (`parsers/*.toml`), compiled once.
//!
//! A definition names the patterns that start (or end) a record, the parts of a line (level, target,
//! location, time, message), meta lines to skip, level words and hints, and samples that must parse as
//! stated. The samples are kept here with their lines; the parser checks them when the registry loads
//! (`parse::samples`), so a definition whose sample does not parse is refused, naming file and sample.

use super::text::{compile, line_of, line_of_key, toml_error, DefError};
use crate::model::{Level, Role};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartDef {
    regex: String,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    weak: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HintDef {
    regex: String,
    level: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SampleDef {
    line: String,
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    target: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct JsonDef {
    #[serde(default)]
    require: Vec<String>,
    #[serde(default)]
    ts: Vec<String>,
    #[serde(default)]
    level: Vec<String>,
    #[serde(default)]
    message: Vec<String>,
    #[serde(default)]
    target: Vec<String>,
    #[serde(default)]
    location: Vec<String>,
    #[serde(default)]
    srcline: Vec<String>,
    #[serde(default)]
    fields: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatDef {
    name: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_kind")]
    kind: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    priority: i32,
    #[serde(default = "yes")]
    collectors: bool,
    #[serde(default = "default_mode")]
    mode: String,
    #[serde(default)]
    start: Vec<StartDef>,
    #[serde(default)]
    end: Option<String>,
    #[serde(default)]
    trailer: Option<String>,
    #[serde(default)]
    strip: Vec<String>,
    #[serde(default)]
    ignore: Vec<String>,
    #[serde(default)]
    detect: Vec<String>,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    levels: BTreeMap<String, String>,
    #[serde(default)]
    level_hint: Vec<HintDef>,
    #[serde(default)]
    time_formats: Vec<String>,
    #[serde(default)]
    unescape: bool,
    #[serde(default)]
    json: Option<JsonDef>,
    #[serde(default)]
    sample: Vec<SampleDef>,
}

fn default_kind() -> String {
    "lines".into()
}
fn default_mode() -> String {
    "start".into()
}
fn yes() -> bool {
    true
}

/// How records are cut from lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A line matching a start pattern opens a record; other lines continue it.
    Start,
    /// A record runs until a line matching `end` closes it.
    End,
    /// Every line is a record.
    Single,
}

/// A start pattern.
#[derive(Debug, Clone)]
pub struct StartPat {
    /// The pattern; named groups `ts`, `level`, `target`, `message`, location groups `file` (or `url`),
    /// `srcline`, `col`; others become fields. An empty `message` takes the record's next line.
    pub regex: Regex,
    /// Level when the pattern implies one.
    pub level: Option<Level>,
    /// A weak start only opens a record when the current one is closed (or there is none).
    pub weak: bool,
    /// `regex` without its trailing `(?P<message>.*)$`, when it ends so (most formats): the message is
    /// then the rest of the line after the head's match, and capture groups are resolved over the head
    /// alone instead of the whole line.
    pub head: Option<Regex>,
}

/// One regex matching where any of `pats` matches: each in a group of its own, so that its flags and
/// anchors stay its own.
fn union(pats: &[String]) -> Option<Regex> {
    if pats.is_empty() {
        return None;
    }
    let joined: Vec<String> = pats.iter().map(|p| format!("(?:{p})")).collect();
    super::text::definition_regex(&joined.join("|")).ok()
}

/// The trailing message group most start patterns end with.
const MESSAGE_TAIL: &str = "(?P<message>.*)$";

/// `pat` without [`MESSAGE_TAIL`], when that is a plain suffix: not escaped, and the part before it has
/// no top-level `|` (in `a|b(?P<message>.*)$` the tail belongs to `b` alone).
fn head_of(pat: &str) -> Option<&str> {
    let head = pat.strip_suffix(MESSAGE_TAIL)?;
    let (mut depth, mut class, mut escaped) = (0i32, false, false);
    for c in head.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => depth += 1,
            ')' if !class => depth -= 1,
            '|' if !class && depth == 0 => return None,
            _ => {}
        }
    }
    (depth == 0 && !class && !escaped).then_some(head)
}

/// JSON field paths (dotted; `a[].b` maps over an array and joins; `a|b` tries both, each alternative
/// being a path from the step where the first `|` stands).
#[derive(Debug, Clone, Default)]
pub struct JsonPaths {
    /// Paths that must all exist for a line to be this format.
    pub require: Vec<String>,
    /// Candidate paths of the timestamp.
    pub ts: Vec<String>,
    /// Candidate paths of the level.
    pub level: Vec<String>,
    /// Candidate paths of the message.
    pub message: Vec<String>,
    /// Candidate paths of the target.
    pub target: Vec<String>,
    /// Candidate paths of the location.
    pub location: Vec<String>,
    /// Candidate paths of the source line, appended to the location (`file.rs` + `12`).
    pub srcline: Vec<String>,
    /// Objects whose members become fields.
    pub fields: Vec<String>,
}

/// A compiled format.
#[derive(Debug, Clone)]
pub struct Format {
    /// Short name (`citadel-tracing`, `playwright-mcp`).
    pub name: String,
    /// Human title.
    pub title: String,
    /// What it is.
    pub description: String,
    /// Where it was defined (`<builtin>/x.toml` or a path).
    pub origin: String,
    /// What writes this format (`role = "service"`: a server's log, the preferred reference clock).
    pub role: Role,
    /// Higher wins ties and claims a line first during detection.
    pub priority: i32,
    /// Whether collector prefixes are stripped first.
    pub collectors: bool,
    /// How records are cut.
    pub mode: Mode,
    /// JSON lines instead of text.
    pub json: Option<JsonPaths>,
    /// Start patterns, tried in order (for JSON formats: the first that fits a message's first line
    /// refines the event with its groups).
    pub start: Vec<StartPat>,
    /// Record end pattern (mode `End`), cut off like the trailer.
    pub end: Option<Regex>,
    /// Stripped from a record's last line and closes it; location groups (`file`/`url`, `srcline`,
    /// `col`) give the location when the start did not, other groups become fields (`@ url:line`).
    pub trailer: Option<Regex>,
    /// Removed from any line (copy artefacts); a match also closes the record, and its `level` group
    /// (if any) gives the record a level when it has none.
    pub strip: Vec<Regex>,
    /// Meta lines (headers, harness output): counted, never events.
    pub ignore: Vec<Regex>,
    /// The `ignore` patterns as one alternation, tested once per line instead of one regex each
    /// (`None` when there are none, or when the union would pass the regex size limit).
    pub ignore_any: Option<Regex>,
    /// Detection signatures.
    pub detect: Vec<Regex>,
    /// A file name pattern that marks this format; groups `epoch_ms` or `y`/`m`/`d` date the file.
    pub file_name: Option<Regex>,
    /// Level words → levels.
    pub levels: BTreeMap<String, Level>,
    /// When no level was captured, the first hint that matches the record text gives it.
    pub level_hints: Vec<(Regex, Level)>,
    /// Accepted time formats for the `ts` group / JSON path.
    pub time_formats: Vec<String>,
    /// Messages hold backslash escapes (`\n`, `\"`, `\uXXXX`) of the format's quoting: they are
    /// decoded, and text after a decoded newline continues the record.
    pub unescape: bool,
    /// The definition's own test lines, checked by the parser at load.
    pub samples: Vec<Sample>,
}

/// A sample line of a definition and what it must parse to.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Line of the definition file where the sample stands.
    pub def_line: usize,
    /// The log line.
    pub line: String,
    /// Expected level word, as written.
    pub level: Option<String>,
    /// Line to point at when the level word is unknown.
    pub level_line: usize,
    /// Expected message.
    pub message: Option<String>,
    /// Expected target.
    pub target: Option<String>,
}

impl Sample {
    /// The expected level, or an error naming the file and line when the word is unknown.
    pub fn expected_level(&self, file: &str) -> Result<Option<Level>, DefError> {
        match &self.level {
            Some(w) => Level::parse(w)
                .map(Some)
                .ok_or_else(|| unknown_level(file, self.level_line, w)),
            None => Ok(None),
        }
    }
}

fn unknown_level(file: &str, line: usize, w: &str) -> DefError {
    DefError {
        file: file.into(),
        line,
        message: format!("unknown level {w:?}; use one of trace, debug, info, warn, error"),
    }
}

fn level_line(text: &str, key: &str, w: &str) -> usize {
    line_of_key(text, key, 0).max(line_of(text, text.find(w).unwrap_or(0)))
}

impl Format {
    /// Normalise a level word through this format's map, then the common words.
    pub fn level_of(&self, word: &str) -> Option<Level> {
        let w = word.trim();
        self.levels
            .get(w)
            .copied()
            .or_else(|| self.levels.get(&w.to_ascii_uppercase()).copied())
            .or_else(|| Level::parse(w))
    }

    /// The date a file name gives (a DevTools save instant, a Firefox export date), if any.
    pub fn file_date(&self, name: &str) -> Option<chrono::NaiveDate> {
        let c = self.file_name.as_ref()?.captures(name)?;
        if let Some(ms) = c
            .name("epoch_ms")
            .and_then(|m| m.as_str().parse::<i64>().ok())
        {
            return chrono::DateTime::from_timestamp_millis(ms).map(|t| t.date_naive());
        }
        let num = |k: &str| c.name(k).and_then(|m| m.as_str().parse::<u32>().ok());
        chrono::NaiveDate::from_ymd_opt(num("y")? as i32, num("m")?, num("d")?)
    }
}

fn level_word(file: &str, text: &str, key: &str, w: &str) -> Result<Level, DefError> {
    Level::parse(w).ok_or_else(|| unknown_level(file, level_line(text, key, w), w))
}

const KNOWN_TIME_FORMATS: &[&str] = &[
    "rfc3339",
    "epoch_ms",
    "epoch_s",
    "time_of_day",
    "chrome_debug",
];

/// Load one format definition from TOML text.
pub fn load_format(file: &str, text: &str) -> Result<Format, DefError> {
    let def: FormatDef = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
    let err = |line: usize, message: String| DefError {
        file: file.into(),
        line,
        message,
    };
    let mode = match def.mode.as_str() {
        "start" => Mode::Start,
        "end" => Mode::End,
        "single" => Mode::Single,
        other => {
            return Err(err(
                line_of_key(text, "mode", 0),
                format!("unknown mode {other:?}; use \"start\", \"end\" or \"single\""),
            ))
        }
    };
    let role = match def.role.as_deref() {
        None | Some("other") => Role::Other,
        Some("service") => Role::Service,
        Some(other) => {
            return Err(err(
                line_of_key(text, "role", 0),
                format!("unknown role {other:?}; use \"service\" or \"other\""),
            ))
        }
    };
    let json = match (def.kind.as_str(), def.json) {
        ("lines", _) => None,
        ("json", Some(j)) => Some(JsonPaths {
            require: j.require,
            ts: j.ts,
            level: j.level,
            message: j.message,
            target: j.target,
            location: j.location,
            srcline: j.srcline,
            fields: j.fields,
        }),
        ("json", None) => {
            return Err(err(
                line_of_key(text, "kind", 0),
                "kind = \"json\" needs a [json] table with at least `message` paths".into(),
            ))
        }
        (other, _) => {
            return Err(err(
                line_of_key(text, "kind", 0),
                format!("unknown kind {other:?}; use \"lines\" or \"json\""),
            ))
        }
    };
    let mut start = Vec::new();
    for (i, s) in def.start.iter().enumerate() {
        let level = match &s.level {
            Some(w) => Some(level_word(file, text, "level", w)?),
            None => None,
        };
        start.push(StartPat {
            regex: compile(file, text, "regex", i, &s.regex)?,
            level,
            weak: s.weak,
            head: head_of(&s.regex).and_then(|h| super::text::definition_regex(h).ok()),
        });
    }
    if json.is_none() && start.is_empty() && mode != Mode::Single {
        return Err(err(
            1,
            "a line format needs at least one [[start]] pattern (or mode = \"single\")".into(),
        ));
    }
    if mode == Mode::End && def.end.is_none() {
        return Err(err(
            line_of_key(text, "mode", 0),
            "mode = \"end\" needs an `end` pattern".into(),
        ));
    }
    let many = |key: &str, pats: &[String]| -> Result<Vec<Regex>, DefError> {
        pats.iter()
            .map(|p| compile(file, text, key, 0, p))
            .collect()
    };
    let mut levels = BTreeMap::new();
    for (k, v) in &def.levels {
        levels.insert(k.clone(), level_word(file, text, k, v)?);
    }
    let mut level_hints = Vec::new();
    for (i, h) in def.level_hint.iter().enumerate() {
        level_hints.push((
            compile(file, text, "regex", def.start.len() + i, &h.regex)?,
            level_word(file, text, "level", &h.level)?,
        ));
    }
    for tf in &def.time_formats {
        if !KNOWN_TIME_FORMATS.contains(&tf.as_str()) && !tf.contains('%') {
            return Err(err(
                line_of_key(text, "time_formats", 0),
                format!(
                    "unknown time format {tf:?}; use one of {} or a chrono strftime pattern",
                    KNOWN_TIME_FORMATS.join(", ")
                ),
            ));
        }
    }
    Ok(Format {
        name: def.name,
        title: def.title,
        description: def.description,
        origin: file.to_string(),
        role,
        priority: def.priority,
        collectors: def.collectors,
        mode,
        json,
        start,
        end: def
            .end
            .as_deref()
            .map(|p| compile(file, text, "end", 0, p))
            .transpose()?,
        trailer: def
            .trailer
            .as_deref()
            .map(|p| compile(file, text, "trailer", 0, p))
            .transpose()?,
        strip: many("strip", &def.strip)?,
        ignore: many("ignore", &def.ignore)?,
        ignore_any: union(&def.ignore),
        detect: many("detect", &def.detect)?,
        file_name: def
            .file_name
            .as_deref()
            .map(|p| compile(file, text, "file_name", 0, p))
            .transpose()?,
        levels,
        level_hints,
        time_formats: def.time_formats,
        unescape: def.unescape,
        samples: def
            .sample
            .into_iter()
            .enumerate()
            .map(|(i, s)| Sample {
                def_line: line_of_key(text, "line", i),
                level_line: s
                    .level
                    .as_deref()
                    .map_or(1, |w| level_line(text, "level", w)),
                line: s.line,
                level: s.level,
                message: s.message,
                target: s.target,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::head_of;

    #[test]
    fn a_head_is_taken_only_when_the_tail_belongs_to_the_whole_pattern() {
        assert_eq!(
            head_of(r"^(?P<level>\w+) (?P<message>.*)$"),
            Some(r"^(?P<level>\w+) ")
        );
        assert_eq!(
            head_of(r"^a|b(?P<message>.*)$"),
            None,
            "top-level alternation"
        );
        assert_eq!(
            head_of(r"^(?:a|b) [|(](?P<message>.*)$"),
            Some(r"^(?:a|b) [|(]"),
            "alternation in a group, | and ( in a class"
        );
        assert_eq!(head_of(r"^x\(?P<message>.*)$"), None, "escaped parenthesis");
        assert_eq!(head_of(r"^(?P<message>a|.*)$"), None, "no plain tail");
    }
}
