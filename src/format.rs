//! Format definitions: what a log format is, as data (`parsers/*.toml`), compiled once.
//!
//! A definition names the patterns that start (or end) a record, the parts of a line (level, target,
//! location, time, message), meta lines to skip, level words and hints, and samples that must parse as
//! stated: a definition whose sample does not parse is refused at load, naming file and sample.
//! `parsers/collectors.toml` holds the collector prefixes (docker, compose, CI runners, cargo test) that
//! are stripped before any format sees a line; `parsers/entities.toml` and `parsers/anchors.toml` are read
//! by `entities` and `correlate`.

use crate::event::Level;
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin.rs"));
}

/// Built-in rule files, embedded at compile time: (file name, contents).
pub fn builtin_rules() -> &'static [(&'static str, &'static str)] {
    builtin::RULES
}

/// Built-in parser files, embedded at compile time: (file name, contents).
pub fn builtin_parsers() -> &'static [(&'static str, &'static str)] {
    builtin::PARSERS
}

/// An error in a definition file, naming file, line and the fix.
#[derive(Debug, thiserror::Error)]
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

/// Compile a regex from a definition, pointing at its line on error.
pub fn compile(
    file: &str,
    text: &str,
    key: &str,
    nth: usize,
    pat: &str,
) -> Result<Regex, DefError> {
    Regex::new(pat).map_err(|e| DefError {
        file: file.to_string(),
        line: line_of_key(text, key, nth),
        message: format!("invalid regex in `{key}`: {e}"),
    })
}

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

    /// Whether a line is one of this format's signatures.
    pub fn detects(&self, line: &str) -> bool {
        if let Some(j) = &self.json {
            return crate::parse::json_matches(j, line);
        }
        self.detect.iter().any(|r| r.is_match(line))
    }
}

fn level_word(file: &str, text: &str, key: &str, w: &str) -> Result<Level, DefError> {
    Level::parse(w).ok_or_else(|| DefError {
        file: file.into(),
        line: line_of_key(text, key, 0).max(line_of(text, text.find(w).unwrap_or(0))),
        message: format!("unknown level {w:?}; use one of trace, debug, info, warn, error"),
    })
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
    let fmt = Format {
        name: def.name,
        title: def.title,
        description: def.description,
        origin: file.to_string(),
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
        detect: many("detect", &def.detect)?,
        file_name: def
            .file_name
            .as_deref()
            .map(|p| compile(file, text, "file_name", 0, p))
            .transpose()?,
        levels,
        level_hints,
        time_formats: def.time_formats,
    };
    // Samples are the definition's own test: each must parse as stated.
    for (i, s) in def.sample.iter().enumerate() {
        let line = line_of_key(text, "line", i);
        let ev = crate::parse::parse_sample(&fmt, &s.line).ok_or_else(|| {
            err(
                line,
                format!("sample {} does not parse as a record of this format", i + 1),
            )
        })?;
        let want_level = match &s.level {
            Some(w) => Some(level_word(file, text, "level", w)?),
            None => None,
        };
        if want_level.is_some() && ev.level != want_level {
            return Err(err(
                line,
                format!(
                    "sample {} parses with level {:?}, the sample says {:?}",
                    i + 1,
                    ev.level.map(|l| l.as_str()),
                    s.level
                ),
            ));
        }
        if let Some(m) = &s.message {
            if &ev.message != m {
                return Err(err(
                    line,
                    format!(
                        "sample {} parses with message {:?}, the sample says {m:?}",
                        i + 1,
                        ev.message
                    ),
                ));
            }
        }
        if let Some(t) = &s.target {
            if ev.target.as_deref() != Some(t.as_str()) {
                return Err(err(
                    line,
                    format!(
                        "sample {} parses with target {:?}, the sample says {t:?}",
                        i + 1,
                        ev.target
                    ),
                ));
            }
        }
    }
    Ok(fmt)
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

/// A collector prefix (docker, compose, CI runner, cargo test) stripped before formats see a line.
#[derive(Debug, Clone)]
pub struct Collector {
    /// Name.
    pub name: String,
    /// Anchored pattern; groups `ts` (RFC 3339) and `container` are kept.
    pub regex: Regex,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectorsDef {
    collector: Vec<CollectorDef>,
}
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectorDef {
    name: String,
    regex: String,
}

/// Every loaded definition: formats, collectors, entity extractors, anchors.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Formats, highest priority first.
    pub formats: Vec<Format>,
    /// Collector prefixes.
    pub collectors: Vec<Collector>,
    /// Shared entity extractors.
    pub entities: crate::entities::Extractors,
    /// Cross-source anchor definitions.
    pub anchors: Vec<crate::correlate::AnchorDef>,
}

impl Registry {
    /// The built-in definitions plus, when given, a user directory that adds or overrides (same `name`).
    pub fn load(extra: Option<&Path>) -> Result<Registry, DefError> {
        let mut files: Vec<(String, String)> = builtin_parsers()
            .iter()
            .map(|(n, t)| (format!("<builtin>/parsers/{n}"), t.to_string()))
            .collect();
        if let Some(dir) = extra {
            for (path, base, text) in read_toml_dir(dir, "parsers")? {
                // A user file with a built-in's file name replaces it outright.
                files.retain(|(f, _)| !f.ends_with(&format!("/parsers/{base}")));
                files.push((path, text));
            }
        }
        let mut formats: Vec<Format> = Vec::new();
        let mut collectors = Vec::new();
        let mut entities = None;
        let mut anchors = Vec::new();
        for (file, text) in &files {
            let base = file.rsplit('/').next().unwrap_or(file);
            match base {
                "collectors.toml" => {
                    let def: CollectorsDef =
                        toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
                    for (i, c) in def.collector.into_iter().enumerate() {
                        collectors.push(Collector {
                            regex: compile(file, text, "regex", i, &c.regex)?,
                            name: c.name,
                        });
                    }
                }
                "entities.toml" => entities = Some(crate::entities::Extractors::load(file, text)?),
                "anchors.toml" => anchors = crate::correlate::load_anchors(file, text)?,
                _ => {
                    let f = load_format(file, text)?;
                    formats.retain(|g| g.name != f.name);
                    formats.push(f);
                }
            }
        }
        formats.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.name.cmp(&b.name)));
        Ok(Registry {
            formats,
            collectors,
            entities: entities.unwrap_or_default(),
            anchors,
        })
    }

    /// A format by name.
    pub fn format(&self, name: &str) -> Option<&Format> {
        self.formats.iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        let r = Registry::load(None).unwrap();
        assert!(r.format("citadel-tracing").is_some());
        assert!(!r.collectors.is_empty());
    }

    #[test]
    fn bad_regex_names_file_and_line() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[start]]\nregex = '(unclosed'\n";
        let e = load_format("x.toml", text).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with("x.toml:4: invalid regex"), "{e}");
    }

    #[test]
    fn unknown_key_names_line() {
        let text = "name = \"x\"\ntitle = \"X\"\nstrat = []\n";
        let e = load_format("x.toml", text).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("strat"), "{e}");
    }

    #[test]
    fn failing_sample_is_refused() {
        let text = "name = \"x\"\ntitle = \"X\"\n[[start]]\nregex = '^(?P<level>INFO) (?P<message>.*)$'\n[[sample]]\nline = \"INFO hello\"\nmessage = \"bye\"\n";
        let e = load_format("x.toml", text).unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("bye"), "{e}");
    }
}
