//! Baselines of accepted findings (as detekt, PHPStan and clippy users know them): `--write-baseline`
//! records how many findings each [`Analysis::fingerprint`] had; `--baseline` suppresses up to that many
//! of each in a later run, so only new findings (a new fingerprint, or more of a known one) fail it.

use crate::rules::finding::Analysis;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Schema name of baseline files.
pub const SCHEMA: &str = "diag.baseline/v1";

/// A baseline file: accepted findings by fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Always `diag.baseline/v1`.
    pub schema: String,
    /// The diag version that wrote it.
    pub tool_version: String,
    /// One entry per fingerprint, sorted by fingerprint (stable diffs in version control).
    pub entries: Vec<Entry>,
}

/// Accepted findings of one fingerprint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// [`Analysis::fingerprint`] of the findings.
    pub fingerprint: String,
    /// How many findings with this fingerprint are accepted.
    pub count: usize,
    /// Their rule, for people reading the file.
    pub rule: String,
    /// The first one's title, for people reading the file.
    pub title: String,
}

/// What a baseline did to one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matched {
    /// The baseline file as given.
    pub path: String,
    /// Ids of this run's findings that the baseline accepts.
    pub suppressed: BTreeSet<String>,
    /// Accepted findings that did not occur this time (fixed, or not reached).
    pub absent: usize,
}

/// Why a baseline could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read or written.
    #[error("{path}: {err}; check the path (write a baseline with `diag check --write-baseline {path} LOGS`)")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        err: std::io::Error,
    },
    /// The file is not a baseline diag understands.
    #[error("{path} is not a diag baseline ({why}); write it again with `diag check --write-baseline {path} LOGS`")]
    Format {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

impl Baseline {
    /// The baseline that accepts every finding of `a`.
    pub fn of(a: &Analysis) -> Baseline {
        let mut by_fp: BTreeMap<String, Entry> = BTreeMap::new();
        for f in &a.findings {
            let fp = a.fingerprint(f);
            by_fp
                .entry(fp.clone())
                .or_insert_with(|| Entry {
                    fingerprint: fp,
                    count: 0,
                    rule: f.rule.clone(),
                    title: f.title.clone(),
                })
                .count += 1;
        }
        Baseline {
            schema: SCHEMA.into(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            entries: by_fp.into_values().collect(),
        }
    }

    /// Parse a baseline from its JSON text.
    pub fn parse(path: &str, text: &str) -> Result<Baseline, BaselineError> {
        let b: Baseline = serde_json::from_str(text).map_err(|e| BaselineError::Format {
            path: path.into(),
            why: e.to_string(),
        })?;
        if b.schema != SCHEMA {
            return Err(BaselineError::Format {
                path: path.into(),
                why: format!("schema {:?}, expected {SCHEMA:?}", b.schema),
            });
        }
        Ok(b)
    }

    /// Read a baseline file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| BaselineError::Io {
            path: p.clone(),
            err,
        })?;
        Baseline::parse(&p, &text)
    }

    /// Write the baseline as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let p = path.display().to_string();
        let mut text = serde_json::to_string_pretty(self).map_err(|e| BaselineError::Format {
            path: p.clone(),
            why: e.to_string(),
        })?;
        text.push('\n');
        std::fs::write(path, text).map_err(|err| BaselineError::Io { path: p, err })
    }

    /// Which findings of `a` this baseline accepts: per fingerprint, the first `count` in report order
    /// (most severe, then earliest); any beyond the recorded count are new.
    pub fn apply(&self, path: &str, a: &Analysis) -> Matched {
        let mut left: BTreeMap<&str, usize> = self
            .entries
            .iter()
            .map(|e| (e.fingerprint.as_str(), e.count))
            .collect();
        let mut suppressed = BTreeSet::new();
        for f in &a.findings {
            let fp = a.fingerprint(f);
            if let Some(n) = left.get_mut(fp.as_str()) {
                if *n > 0 {
                    *n -= 1;
                    suppressed.insert(f.id.clone());
                }
            }
        }
        Matched {
            path: path.into(),
            suppressed,
            absent: left.values().sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::timeline_of;

    const SEED: &str = include_str!("../../samples/seed/internal-service.log");

    fn analysis(text: &str) -> Analysis {
        let tl = timeline_of(&[("svc.log", text)]).expect("timeline");
        crate::rules::analyze(&tl, None).expect("rules")
    }

    #[test]
    fn a_baseline_accepts_its_own_run_and_counts_per_fingerprint() {
        let a = analysis(SEED);
        assert!(!a.findings.is_empty());
        let b = Baseline::of(&a);
        let total: usize = b.entries.iter().map(|e| e.count).sum();
        assert_eq!(total, a.findings.len());
        let m = b.apply("b.json", &a);
        assert_eq!(m.suppressed.len(), a.findings.len());
        assert_eq!(m.absent, 0);

        // One fewer accepted than found: exactly one finding is new.
        let mut fewer = b.clone();
        fewer.entries[0].count -= 1;
        let m = fewer.apply("b.json", &a);
        assert_eq!(m.suppressed.len(), a.findings.len() - 1);

        // Round trip through the file format.
        let text = serde_json::to_string(&b).unwrap();
        assert_eq!(Baseline::parse("b.json", &text).unwrap(), b);
    }

    #[test]
    fn a_file_that_is_not_a_baseline_is_refused_with_the_fix() {
        let e = Baseline::parse(
            "x.json",
            "{\"schema\": \"other\", \"tool_version\": \"1\", \"entries\": []}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("--write-baseline x.json"), "{e}");
        assert!(Baseline::parse("x.json", "not json").is_err());
    }
}
