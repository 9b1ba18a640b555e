//! `:write-to FILE` / `:append-to FILE` (as in lnav): the rows the filters show, one record per line
//! as the timeline shows it (time and mark, source, level, message), with every further line of a
//! record indented below it. The text is written as the logs had it: a file, not a terminal.

use crate::model::{Event, Timeline};
use crate::report::fields::{level_caps, source_label, time_column};
use std::borrow::Cow;
use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Rows read per piece of an export (an index reads them again; held records are borrowed).
const PIECE: usize = 4096;

/// How the records of rows are read: `records(rows)` gives them in that order.
pub type Records<'a> = &'a dyn Fn(&[usize]) -> Vec<(usize, Cow<'a, Event>)>;

/// Write the events `rows` of a timeline, each read by `records`.
pub fn write_rows(
    out: &mut dyn Write,
    tl: &Timeline,
    rows: &crate::tui::state::Rows,
    records: Records,
) -> io::Result<()> {
    let width = tl
        .sources
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(6);
    for from in (0..rows.len()).step_by(PIECE) {
        for (_, ev) in records(&rows.between(from, from + PIECE)) {
            write_one(out, tl, &ev, width)?;
        }
    }
    Ok(())
}

fn write_one(out: &mut dyn Write, tl: &Timeline, ev: &Event, width: usize) -> io::Result<()> {
    let label = source_label(tl, ev);
    let level = level_caps(ev, "-");
    writeln!(
        out,
        "{}{} {label:<width$} {level:<5} {}",
        time_column(tl, ev),
        ev.ts_quality.mark(),
        ev.message
    )?;
    for c in &ev.continuation {
        writeln!(out, "    {c}")?;
    }
    Ok(())
}

/// The path as typed, with a leading `~/` taken as the home directory.
pub fn expand(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Write (or append) rows to a file; the error says which file and why.
pub fn to_file(
    path: &Path,
    append: bool,
    tl: &Timeline,
    rows: &crate::tui::state::Rows,
    records: Records,
) -> Result<(), String> {
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}; choose another path", path.display()))?;
    let mut out = BufWriter::new(file);
    write_rows(&mut out, tl, rows, records)
        .and_then(|_| out.flush())
        .map_err(|e| format!("writing {} failed: {e}", path.display()))
}
