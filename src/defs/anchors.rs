//! `parsers/anchors.toml`: events two sources both log (the same request or connection UUID, a send and
//! the server's handling of it, a panic before the disconnects), which `correlate` pairs to align them.

use super::text::{compile, line_of_key, toml_error, DefError};
use regex::Regex;
use serde::Deserialize;

/// How the two sides of an anchor relate in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Both record the same moment (to within the latency of a local WebSocket).
    Same,
    /// The `first` side happens just before the `second` side.
    Before,
}

/// An anchor definition from `parsers/anchors.toml`.
#[derive(Debug, Clone)]
pub struct AnchorDef {
    /// Name shown with every link it makes.
    pub name: String,
    /// Pattern of the earlier (or same-time) side; `None` for `shared-uuid` anchors.
    pub first: Option<Regex>,
    /// Pattern of the later side.
    pub second: Option<Regex>,
    /// Capture groups that must be equal on both sides.
    pub key: Vec<String>,
    /// Time relation.
    pub relation: Relation,
    /// Pair every UUID seen in two sources instead of patterns.
    pub shared_uuid: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnchorsFile {
    anchor: Vec<AnchorToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnchorToml {
    name: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    first: Option<String>,
    #[serde(default)]
    second: Option<String>,
    #[serde(default)]
    key: Vec<String>,
    #[serde(default)]
    relation: Option<String>,
}

/// Load `anchors.toml`.
pub fn load_anchors(file: &str, text: &str) -> Result<Vec<AnchorDef>, DefError> {
    let def: AnchorsFile = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
    let mut out = Vec::new();
    let (mut nf, mut ns) = (0, 0);
    for (i, a) in def.anchor.into_iter().enumerate() {
        let err = |key: &str, message: String| DefError {
            file: file.into(),
            line: line_of_key(text, key, i),
            message,
        };
        let relation = match a.relation.as_deref() {
            None | Some("same") => Relation::Same,
            Some("before") => Relation::Before,
            Some(o) => {
                return Err(err(
                    "relation",
                    format!("unknown relation {o:?}; use \"same\" or \"before\""),
                ))
            }
        };
        let shared_uuid = match a.kind.as_deref() {
            None | Some("pattern") => false,
            Some("shared-uuid") => true,
            Some(o) => {
                return Err(err(
                    "kind",
                    format!("unknown anchor kind {o:?}; use \"pattern\" or \"shared-uuid\""),
                ))
            }
        };
        let pat =
            |key: &str, p: Option<String>, n: &mut usize| -> Result<Option<Regex>, DefError> {
                match p {
                    Some(p) => {
                        let r = compile(file, text, key, *n, &p)?;
                        *n += 1;
                        Ok(Some(r))
                    }
                    None => Ok(None),
                }
            };
        let first = pat("first", a.first, &mut nf)?;
        let second = pat("second", a.second, &mut ns)?;
        if !shared_uuid && (first.is_none() || second.is_none()) {
            return Err(err(
                "name",
                format!(
                    "anchor {:?} needs both `first` and `second` patterns",
                    a.name
                ),
            ));
        }
        for k in &a.key {
            for r in [&first, &second].into_iter().flatten() {
                if !r.capture_names().flatten().any(|n| n == k) {
                    return Err(err(
                        "key",
                        format!("key group {k:?} is not a named group of {:?}", r.as_str()),
                    ));
                }
            }
        }
        out.push(AnchorDef {
            name: a.name,
            first,
            second,
            key: a.key,
            relation,
            shared_uuid,
        });
    }
    Ok(out)
}
