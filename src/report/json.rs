//! `diag check --format json`: the `diag.report/v1` report, pretty-printed.

use super::run::Run;
use super::wire::build_run;
use super::CheckWriter;
use crate::rules::finding::Analysis;
use std::io::{self, Write};

/// The JSON report writer.
#[derive(Debug, Clone, Default)]
pub struct Json {
    /// Threshold, run metadata and baseline of this run.
    pub run: Run,
}

impl CheckWriter for Json {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_json(out, a, &self.run)
    }
}

/// Write the JSON report.
pub fn write_json(out: &mut dyn Write, a: &Analysis, run: &Run) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build_run(a, run))?;
    out.write_all(b"\n")
}
