//! `parsers/collectors.toml`: the collector prefixes (docker, compose, CI runners, cargo test) stripped
//! before any format sees a line.

use super::text::{compile, toml_error, DefError};
use regex::Regex;
use serde::Deserialize;

/// A collector prefix (docker, compose, CI runner, cargo test) stripped before formats see a line.
#[derive(Debug, Clone)]
pub struct Collector {
    /// Name.
    pub name: String,
    /// Anchored pattern; groups `ts` (RFC 3339) and `container` are kept.
    pub regex: Regex,
    /// Whether a time this prefix gives yields to one an outer prefix already gave (an outer CI
    /// runner's time over a container's own). By default the innermost time wins.
    pub outer_time_wins: bool,
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
    #[serde(default)]
    outer_time_wins: bool,
}

/// Load `collectors.toml`.
pub fn load_collectors(file: &str, text: &str) -> Result<Vec<Collector>, DefError> {
    let def: CollectorsDef = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
    let mut collectors = Vec::new();
    for (i, c) in def.collector.into_iter().enumerate() {
        collectors.push(Collector {
            regex: compile(file, text, "regex", i, &c.regex)?,
            name: c.name,
            outer_time_wins: c.outer_time_wins,
        });
    }
    Ok(collectors)
}
