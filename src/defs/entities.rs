//! `parsers/entities.toml`: the shared extractors (CIDs, truncated CIDs, UUIDs, message-id prefixes,
//! users, name bindings, fields, owner lines), compiled. `entities` applies them to events.

use super::text::{compile, line_of_key, toml_error, DefError};
use crate::model::CidShape;
use regex::Regex;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Pat {
    regex: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Def {
    #[serde(default)]
    cid: Vec<Pat>,
    #[serde(default)]
    cid_prefix: Vec<Pat>,
    #[serde(default)]
    cid_lost: Vec<Pat>,
    #[serde(default)]
    uuid: Vec<Pat>,
    #[serde(default)]
    msgid_prefix: Vec<Pat>,
    #[serde(default)]
    user: Vec<Pat>,
    #[serde(default)]
    alias: Vec<Pat>,
    #[serde(default)]
    field: Vec<Pat>,
    #[serde(default)]
    owner: Vec<Pat>,
    #[serde(default)]
    cids: CidsDef,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CidsDef {
    #[serde(default)]
    full_min_digits: usize,
    #[serde(default)]
    captures: Vec<String>,
}

/// Compiled extractors; each pattern's group `v` (or `name`/`cid`, `k`/`v`) is what it extracts.
#[derive(Debug, Clone, Default)]
pub struct Extractors {
    pub(crate) cid: Vec<Regex>,
    pub(crate) cid_prefix: Vec<Regex>,
    pub(crate) cid_lost: Vec<Regex>,
    pub(crate) uuid: Vec<Regex>,
    pub(crate) msgid_prefix: Vec<Regex>,
    pub(crate) user: Vec<Regex>,
    pub(crate) alias: Vec<Regex>,
    pub(crate) field: Vec<Regex>,
    pub(crate) owner: Vec<Regex>,
    /// Every owner pattern in one set: an owner line is rare, and every event of every tab is tested.
    pub(crate) owner_any: Option<regex::RegexSet>,
    /// Every extracting pattern (`cid` to `field`, in [`Extractors::extracting`] order) in one set:
    /// one scan of a record says which few can match, where trying each was a scan apiece.
    pub(crate) any: Option<regex::RegexSet>,
    /// What full and truncated CIDs look like (`[cids]`).
    pub cid_shape: CidShape,
}

impl Extractors {
    /// The extractors correlation needs (CIDs, truncated and lost CIDs, UUIDs, name bindings, owner
    /// lines), without those only outputs use (message ids, usernames, `key=value` fields): a
    /// streaming reader's first pass gathers no more.
    pub fn for_correlation(&self) -> Extractors {
        let mut x = self.clone();
        x.msgid_prefix.clear();
        x.user.clear();
        x.field.clear();
        x.any = x.set();
        x
    }

    /// The extractors that fill an event's CIDs (full, truncated and lost), and nothing else: what the
    /// second pass of a two-pass check needs of an event it drops or cuts to a part (the events it
    /// holds whole get every extractor after).
    pub fn for_cids(&self) -> Extractors {
        let mut x = self.for_correlation();
        x.uuid.clear();
        x.alias.clear();
        x.any = x.set();
        x
    }

    /// The `key=value` field extractors alone: what a two-pass `check` adds to the events it holds
    /// whole when a rule's expression reads fields (they have their CIDs from pass 2's parse; UUIDs,
    /// message ids, usernames and name bindings serve correlation, which pass 1 did, and the
    /// timeline and Markdown outputs, which hold every event).
    pub fn fields_only(&self) -> Extractors {
        let mut x = self.clone();
        x.cid.clear();
        x.cid_prefix.clear();
        x.cid_lost.clear();
        x.uuid.clear();
        x.msgid_prefix.clear();
        x.user.clear();
        x.alias.clear();
        x.any = x.set();
        x
    }

    /// The extracting lists in the order the set numbers their patterns.
    pub(crate) fn extracting(&self) -> [&[Regex]; 8] {
        [
            &self.cid,
            &self.cid_prefix,
            &self.cid_lost,
            &self.uuid,
            &self.msgid_prefix,
            &self.user,
            &self.alias,
            &self.field,
        ]
    }

    /// One set over every extracting pattern. A set that cannot be built (over the size limit) only
    /// costs speed: each pattern is tried alone.
    fn set(&self) -> Option<regex::RegexSet> {
        let pats: Vec<&str> = self
            .extracting()
            .iter()
            .flat_map(|l| l.iter().map(Regex::as_str))
            .collect();
        (!pats.is_empty())
            .then(|| regex::RegexSet::new(pats).ok())
            .flatten()
    }

    /// Load from TOML text; every regex must name the groups its kind needs.
    pub fn load(file: &str, text: &str) -> Result<Extractors, DefError> {
        let def: Def = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
        let mut nth = 0;
        let mut comp = |pats: &[Pat], groups: &[&str]| -> Result<Vec<Regex>, DefError> {
            let mut out = Vec::new();
            for p in pats {
                let r = compile(file, text, "regex", nth, &p.regex)?;
                for g in groups {
                    if !r.capture_names().flatten().any(|n| n == *g) {
                        return Err(DefError {
                            file: file.into(),
                            line: line_of_key(text, "regex", nth),
                            message: format!("this extractor needs a named group (?P<{g}>...)"),
                        });
                    }
                }
                nth += 1;
                out.push(r);
            }
            Ok(out)
        };
        let owner = comp(&def.owner, &[])?;
        // A set that cannot be built (over the size limit) only costs speed: each pattern is tried.
        let owner_any = (!owner.is_empty())
            .then(|| regex::RegexSet::new(owner.iter().map(Regex::as_str)).ok())
            .flatten();
        let mut x = Extractors {
            cid: comp(&def.cid, &["v"])?,
            cid_prefix: comp(&def.cid_prefix, &["v"])?,
            cid_lost: comp(&def.cid_lost, &[])?,
            uuid: comp(&def.uuid, &["v"])?,
            msgid_prefix: comp(&def.msgid_prefix, &["v"])?,
            user: comp(&def.user, &["v"])?,
            alias: comp(&def.alias, &["name", "cid"])?,
            field: comp(&def.field, &["k", "v"])?,
            owner,
            owner_any,
            any: None,
            cid_shape: CidShape {
                full_min_digits: def.cids.full_min_digits,
                captures: def.cids.captures,
            },
        };
        x.any = x.set();
        Ok(x)
    }
}
