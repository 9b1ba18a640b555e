//! Report: what people, CI and dashboards read. Each output format is one module behind one of two small
//! traits: [`CheckWriter`] for the result of `diag check` (text, JSON, JUnit, SARIF, GitHub workflow
//! commands, NDJSON findings) and [`TimelineWriter`] for `diag timeline` (text, NDJSON). The
//! `diag.report/v1` wire types live apart in [`wire`]; [`run`] holds what the command line settled about
//! a check (threshold, run metadata, baseline) so every format states the same verdict; [`baseline`]
//! reads, writes and applies baselines. None of them reaches back into parsing or rules: they only read
//! what the engine produced.

pub mod baseline;
pub mod digest;
pub mod fields;
pub mod findings_ndjson;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod ndjson;
pub mod run;
pub mod sanitize;
pub mod sarif;
pub mod steps;
pub mod style;
pub mod templates;
pub mod text;
pub mod wire;

use crate::filter::Filter;
use crate::model::Timeline;
use crate::rules::finding::Analysis;
use std::io::{self, Write};

/// Writes the result of a check (findings, incidents, sources) in one output format.
pub trait CheckWriter {
    /// Write one analysis.
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()>;
}

/// Writes a timeline, filtered, in one output format.
pub trait TimelineWriter {
    /// Write the events `filter` keeps.
    fn write_timeline(&self, out: &mut dyn Write, tl: &Timeline, filter: &Filter)
        -> io::Result<()>;
}
