//! The healthy profile: which templates green runs log, and how often, as data.
//!
//! `diag profile LOGS... -o FILE` learns one from green runs; a built-in profile (learned from the
//! healthy samples and healthy captures of the real service) is embedded; `--profile FILE` adds more.
//! Known-benign templates (noise every real run has) live in `profiles/benign.toml`, each with its why.
//! Generic rules compare a run against both: a template far above its healthy rate is a storm, an
//! error template no profile has is new.

use crate::defs::{line_of_key, toml_error, DefError};
use crate::model::Level;
use crate::model::Timeline;
use crate::templates::Templates;
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

/// Schema name written in profile files.
pub const SCHEMA: &str = "diag.profile/v1";

static BUILTIN_PROFILE: &str = include_str!("../profiles/builtin.toml");
static BUILTIN_BENIGN: &str = include_str!("../profiles/benign.toml");

/// What green runs showed of one template.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The template key (`level|site|masked message`).
    pub key: String,
    /// How many sources of the green runs had it.
    pub seen_in: u64,
    /// Most events of it in one source.
    pub max_per_source: u64,
    /// Events of it in all sources.
    pub total: u64,
}

/// A known-benign template: noise that healthy runs have, with why.
#[derive(Debug, Clone)]
pub struct Benign {
    /// Matched against the event's message.
    pub regex: Regex,
    /// One line of why it is harmless.
    pub why: String,
    /// Benign only up to this many per source (teardown noise repeated ten times is a symptom).
    pub max_per_source: Option<u64>,
}

/// Templates and rates of healthy behaviour, plus the benign list.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// Sources the profile was learned from.
    pub sources: u64,
    /// Entries by template key.
    pub entries: BTreeMap<String, Entry>,
    /// Known-benign templates.
    pub benign: Vec<Benign>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    schema: String,
    sources: u64,
    #[serde(default)]
    template: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BenignDef {
    regex: String,
    why: String,
    #[serde(default)]
    max_per_source: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BenignFile {
    #[serde(default)]
    benign: Vec<BenignDef>,
}

impl Profile {
    /// The built-in profile and benign list.
    pub fn builtin() -> Result<Profile, DefError> {
        // Parsed once per process: every run (and every rule case) starts from it.
        static BUILTIN: OnceLock<Result<Profile, DefError>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut p = Profile::parse("<builtin>/profiles/builtin.toml", BUILTIN_PROFILE)?;
                p.benign = parse_benign("<builtin>/profiles/benign.toml", BUILTIN_BENIGN)?;
                Ok(p)
            })
            .clone()
    }

    /// Learn a profile from a timeline: every template of every source, with its count.
    pub fn learn(tl: &Timeline) -> Profile {
        let templates = Templates::build(tl);
        let mut p = Profile {
            sources: tl.sources.len() as u64,
            ..Default::default()
        };
        for t in &templates.list {
            let max = t
                .per_source
                .iter()
                .map(|(_, n)| *n as u64)
                .max()
                .unwrap_or(0);
            p.entries.insert(
                t.key.clone(),
                Entry {
                    key: t.key.clone(),
                    seen_in: t.per_source.len() as u64,
                    max_per_source: max,
                    total: t.count as u64,
                },
            );
        }
        p
    }

    /// Add another profile's sources and templates (rates: the larger maximum wins).
    pub fn merge(&mut self, other: Profile) {
        self.sources += other.sources;
        for (k, e) in other.entries {
            match self.entries.get_mut(&k) {
                Some(mine) => {
                    mine.seen_in += e.seen_in;
                    mine.total += e.total;
                    mine.max_per_source = mine.max_per_source.max(e.max_per_source);
                }
                None => {
                    self.entries.insert(k, e);
                }
            }
        }
        self.benign.extend(other.benign);
    }

    /// Parse a profile file.
    pub fn parse(file: &str, text: &str) -> Result<Profile, DefError> {
        let f: ProfileFile = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
        if f.schema != SCHEMA {
            return Err(DefError {
                file: file.to_string(),
                line: line_of_key(text, "schema", 0),
                message: format!(
                    "schema {:?} is not {SCHEMA:?}; write profiles with `diag profile LOGS... -o FILE`",
                    f.schema
                ),
            });
        }
        Ok(Profile {
            sources: f.sources,
            entries: f.template.into_iter().map(|e| (e.key.clone(), e)).collect(),
            benign: Vec::new(),
        })
    }

    /// Read a profile file from disk.
    pub fn read(path: &Path) -> Result<Profile, DefError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| DefError {
            file: name.clone(),
            line: 0,
            message: format!(
                "cannot read the profile: {e}; write one with `diag profile LOGS... -o FILE`"
            ),
        })?;
        Profile::parse(&name, &text)
    }

    /// The profile as TOML, templates sorted by key.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let f = ProfileFile {
            schema: SCHEMA.to_string(),
            sources: self.sources,
            template: self.entries.values().cloned().collect(),
        };
        let body = toml::to_string(&f)?;
        Ok(format!("# A healthy profile for diag: templates of green runs and their most events per source.\n# Written by `diag profile`; read with `--profile FILE`.\n{body}"))
    }

    /// What the profile knows of a template key.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// The benign entry that covers a message at this count per source, if any.
    pub fn benign_for(&self, message: &str, per_source: u64) -> Option<&Benign> {
        self.benign
            .iter()
            .find(|b| b.regex.is_match(message) && b.max_per_source.is_none_or(|m| per_source <= m))
    }
}

/// How a template differs between green runs and a red one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only the red run has it.
    New,
    /// Only the green runs have it: a step that never happened.
    Gone,
    /// Both have it, at a very different rate per source.
    Rate,
}

/// One row of a green/red comparison.
#[derive(Debug, Clone, Serialize)]
pub struct DiffRow {
    /// What changed.
    pub change: Change,
    /// Template key.
    pub key: String,
    /// Most events per source in the green runs.
    pub green: u64,
    /// Most events per source in the red run.
    pub red: u64,
}

impl DiffRow {
    /// The template's level, from its key.
    pub fn level(&self) -> Level {
        self.key
            .split('|')
            .next()
            .and_then(Level::parse)
            .unwrap_or(Level::Info)
    }
}

/// Compare green runs with a red one: new templates, gone ones, and rates that changed by `factor`
/// or more (with at least `min` events on the larger side); errors first, then by size.
pub fn diff(green: &Profile, red: &Profile, factor: f64, min: u64) -> Vec<DiffRow> {
    let mut rows = Vec::new();
    for (k, r) in &red.entries {
        match green.entries.get(k) {
            None => rows.push(DiffRow {
                change: Change::New,
                key: k.clone(),
                green: 0,
                red: r.max_per_source,
            }),
            Some(g) => {
                let (a, b) = (g.max_per_source as f64, r.max_per_source as f64);
                let big = g.max_per_source.max(r.max_per_source);
                if big >= min && (b >= a * factor || a >= b * factor) {
                    rows.push(DiffRow {
                        change: Change::Rate,
                        key: k.clone(),
                        green: g.max_per_source,
                        red: r.max_per_source,
                    });
                }
            }
        }
    }
    for (k, g) in &green.entries {
        if !red.entries.contains_key(k) {
            rows.push(DiffRow {
                change: Change::Gone,
                key: k.clone(),
                green: g.max_per_source,
                red: 0,
            });
        }
    }
    rows.sort_by(|a, b| {
        b.level()
            .cmp(&a.level())
            .then(a.change.cmp(&b.change))
            .then(b.red.max(b.green).cmp(&a.red.max(a.green)))
            .then(a.key.cmp(&b.key))
    });
    rows
}

/// Parse a benign list.
pub fn parse_benign(file: &str, text: &str) -> Result<Vec<Benign>, DefError> {
    let f: BenignFile = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
    let mut out = Vec::new();
    for (i, d) in f.benign.into_iter().enumerate() {
        let regex = crate::defs::text::definition_regex(&d.regex).map_err(|e| DefError {
            file: file.to_string(),
            line: line_of_key(text, "regex", i),
            message: format!("invalid regex in [[benign]]: {e}"),
        })?;
        if d.why.trim().is_empty() {
            return Err(DefError {
                file: file.to_string(),
                line: line_of_key(text, "why", i),
                message: "every [[benign]] entry says in one line why it is harmless".into(),
            });
        }
        out.push(Benign {
            regex,
            why: d.why,
            max_per_source: d.max_per_source,
        });
    }
    Ok(out)
}

/// Whether a level is one that generic rules watch by default.
pub fn is_problem_level(l: Level) -> bool {
    matches!(l, Level::Warn | Level::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_loads_and_round_trips() {
        let p = Profile::builtin().unwrap();
        assert!(p.sources > 0 && !p.entries.is_empty());
        assert!(!p.benign.is_empty());
        let again = Profile::parse("x", &p.to_toml().unwrap()).unwrap();
        assert_eq!(again.entries, p.entries);
    }

    #[test]
    fn learn_counts_per_source_and_merge_keeps_the_larger_rate() {
        let text = "WARN citadel: a.rs:3: retry 1\nWARN citadel: a.rs:3: retry 2\n";
        let tl =
            crate::pipeline::timeline_of(&[("a", text), ("b", "WARN citadel: a.rs:3: retry 9\n")])
                .unwrap();
        let p = Profile::learn(&tl);
        let e = p.entries.values().next().unwrap();
        assert_eq!((e.seen_in, e.max_per_source, e.total), (2, 2, 3));
        let mut m = p.clone();
        m.merge(p);
        assert_eq!(m.sources, 4);
        assert_eq!(m.entries.values().next().unwrap().max_per_source, 2);
    }

    #[test]
    fn bad_files_say_where() {
        let e = Profile::parse("p.toml", "schema = \"other\"\nsources = 1\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse_benign("b.toml", "[[benign]]\nregex = '('\nwhy = 'x'\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_benign("b.toml", "[[benign]]\nregex = 'x'\nwhy = ''\n").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn benign_has_a_ceiling() {
        let b = parse_benign(
            "b",
            "[[benign]]\nregex = 'Queue handler'\nwhy = 'teardown'\nmax_per_source = 2\n",
        )
        .unwrap();
        let p = Profile {
            benign: b,
            ..Default::default()
        };
        assert!(p
            .benign_for("error=Queue handler signalled shutdown", 2)
            .is_some());
        assert!(p
            .benign_for("error=Queue handler signalled shutdown", 10)
            .is_none());
    }
}
