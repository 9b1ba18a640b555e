//! `diag check --format json`: the `diag.report/v1` report, pretty-printed.

use super::wire::build;
use super::CheckWriter;
use crate::rules::finding::Analysis;
use std::io::{self, Write};

/// The JSON report writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl CheckWriter for Json {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_json(out, a)
    }
}

/// Write the JSON report.
pub fn write_json(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(a))?;
    out.write_all(b"\n")
}
