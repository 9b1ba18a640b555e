//! `diag history` (list, add, show) and `diag check --record`: the command-line side of the history.
//! Kept here rather than in `cli.rs` so the history's flags and commands live together.

use super::record::{self, Meta};
use super::{open, redact, summary, HistoryError, Mode, RunRecord, DEFAULT_DB};
use crate::cli::{report_problems, FailOn, Fatal, InputArgs};
use crate::rules::finding::{Analysis, Severity};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the history is.
#[derive(Debug, Args, Clone, Default)]
pub struct DbArg {
    /// History database: a SQLite file (created with its directory) or a postgres://USER:PASS@HOST/DB URL.
    #[arg(long, value_name = "FILE|URL", env = "DIAG_DB", hide_env_values = true, default_value = DEFAULT_DB)]
    pub db: String,
}

/// What identifies a recorded run.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Id of the run (e.g. the CI job's); generated from the time and process when not given.
    #[arg(long, value_name = "ID", env = "DIAG_RUN_ID")]
    pub run_id: Option<String>,
    /// A KEY=VALUE label kept with the run (repeatable), e.g. --label branch=main.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// When the run happened (RFC 3339 or Unix seconds); by default the time of its earliest evidence.
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
}

/// `diag check --record` and the flags that go with it.
#[derive(Debug, Args, Clone, Default)]
pub struct RecordArgs {
    /// Also record this run in the history (see `diag history`).
    #[arg(long)]
    pub record: bool,
    /// The run's id, labels and time.
    #[command(flatten)]
    pub run: RunArgs,
    /// The history database.
    #[command(flatten)]
    pub db: DbArg,
}

/// Output formats of the history commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum HistoryFormat {
    /// Markdown tables for people.
    #[default]
    Text,
    /// JSON (`diag.history/v1`).
    Json,
}

/// `diag history`: list runs, or a subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    /// add, list or show; without one, list.
    #[command(subcommand)]
    pub cmd: Option<HistoryCmd>,
    /// Listing options when no subcommand is given.
    #[command(flatten)]
    pub list: ListArgs,
}

/// `diag history` subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCmd {
    /// Record a run: a report of `diag check --format json`, or logs (checked now, as `diag check` would).
    #[command(
        after_help = "LOGS may be one REPORT.json written by `diag check --format json`; its findings' fingerprints are recorded as they are."
    )]
    Add(Box<AddArgs>),
    /// The last runs: run, time, verdict, root cause, counts by severity; then recurring root causes.
    List(ListArgs),
    /// One fingerprint across runs: first seen, last seen, how many runs and which.
    Show(ShowArgs),
}

/// `diag history [list]` arguments.
#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// How many runs, newest last.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub last: u32,
    /// Only runs with this KEY=VALUE label (repeatable: all must match), e.g. --label branch=main.
    #[arg(long, value_name = "KEY=VALUE")]
    pub label: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
    /// The history database.
    #[command(flatten)]
    pub db: DbArg,
}

/// `diag history show` arguments.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A finding's fingerprint or CID fingerprint (16 hex digits, or an unambiguous prefix of 4 or more).
    #[arg(value_name = "FINGERPRINT")]
    pub fingerprint: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
    /// The history database.
    #[command(flatten)]
    pub db: DbArg,
}

/// `diag history add` arguments.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// REPORT.json (from `diag check --format json`) or the run's logs, as for `diag check`.
    #[command(flatten)]
    pub input: InputArgs,
    /// The run's id, labels and time.
    #[command(flatten)]
    pub run: RunArgs,
    /// The verdict's threshold (a report's own `verdict` or `fail_on` wins).
    #[arg(long, value_enum, default_value = "high", env = "DIAG_FAIL_ON")]
    pub fail_on: FailOn,
    /// A directory of rule files that adds to or overrides the built-in ones (logs only).
    #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
    pub rules: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: HistoryFormat,
    /// The history database.
    #[command(flatten)]
    pub db: DbArg,
}

impl From<HistoryError> for Fatal {
    fn from(e: HistoryError) -> Fatal {
        Fatal::Usage(e.to_string())
    }
}

fn meta(run: &RunArgs, fail_on: Option<Severity>, origin: String) -> Result<Meta, Fatal> {
    let time = match &run.time {
        Some(t) => Some(record::parse_time(t).ok_or_else(|| {
            Fatal::Usage(format!(
                "--time {t:?}: give RFC 3339 (2025-12-30T01:43:45Z) or Unix seconds (1767145425)"
            ))
        })?),
        None => None,
    };
    Ok(Meta {
        run_id: run.run_id.clone(),
        labels: record::parse_labels(&run.label).map_err(Fatal::Usage)?,
        time,
        fail_on,
        origin,
    })
}

fn out_result(r: io::Result<()>) -> Result<(), Fatal> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// One line saying what was recorded.
fn recorded_line(db: &str, row: &summary::RunRow) -> String {
    let c = &row.counts;
    let root = row
        .root_cause
        .as_ref()
        .map(|r| format!(", root cause: {} ({})", r.title, r.fingerprint))
        .unwrap_or_default();
    crate::report::style::sanitize(&format!(
        "recorded run {} in {db}: {}{root}; {} critical, {} high, {} medium, {} low, {} info",
        row.run_id, row.verdict, c.critical, c.high, c.medium, c.low, c.info
    ))
}

/// Record the run `diag check --record` just checked; says so on stderr (stdout holds the report).
pub fn record_check(
    args: &RecordArgs,
    a: &Analysis,
    fail_on: Option<Severity>,
    logs: &[String],
) -> Result<(), Fatal> {
    let run = record::from_analysis(a, &meta(&args.run, fail_on, logs.join(" "))?);
    let row = open(&args.db.db, Mode::Write)?.add(&run)?;
    eprintln!("diag: {}", recorded_line(&redact(&args.db.db), &row));
    Ok(())
}

/// A single file that holds a `diag.report/v1` report, parsed; None for logs.
fn as_report(logs: &[String]) -> Option<(String, serde_json::Value)> {
    let [one] = logs else { return None };
    let path = Path::new(one);
    if one == "-" || !path.is_file() {
        return None;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| io::Read::read(&mut f, &mut head))
        .ok()?;
    if head
        .get(..n)
        .unwrap_or(&[])
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        != Some(&b'{')
    {
        return None;
    }
    // A JSON-lines log fails here at its second line, cheaply; it is then read as logs.
    let f = io::BufReader::new(std::fs::File::open(path).ok()?);
    let v: serde_json::Value = serde_json::from_reader(f).ok()?;
    record::is_report(&v).then(|| (one.clone(), v))
}

fn cmd_add(a: &AddArgs) -> Result<i32, Fatal> {
    let threshold = a.fail_on.threshold();
    let run: RunRecord = match as_report(&a.input.logs) {
        Some((path, v)) => {
            let (run, masked) = record::from_report(&v, &meta(&a.run, threshold, path.clone())?)?;
            if masked {
                eprintln!(
                    "diag: warning: {path} has findings without a \"fingerprint\" (written by an older diag); they are recorded by rule id and title with numbers masked, which will not match the fingerprints of newer reports"
                );
            }
            run
        }
        None => {
            let rules = crate::rules::load::load_rules(a.rules.as_deref())?;
            let loaded = a.input.load()?;
            if report_problems(&loaded.problems) {
                eprintln!("diag: error: not recorded: an input was refused, so the analysis is incomplete; fix the input and add again");
                return Ok(2);
            }
            let profile = crate::profile::Profile::builtin()?;
            let analysis = crate::rules::run_with(
                &rules,
                &crate::rules::Selection::default(),
                loaded.timeline,
                &profile,
            );
            let m = meta(&a.run, threshold, a.input.logs.join(" "))?;
            record::from_analysis(&analysis, &m)
        }
    };
    let row = open(&a.db.db, Mode::Write)?.add(&run)?;
    let db = redact(&a.db.db);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        HistoryFormat::Text => writeln!(out, "{}", recorded_line(&db, &row)),
        HistoryFormat::Json => {
            let v = summary::Recorded {
                schema: summary::SCHEMA,
                db: &db,
                recorded: &row,
            };
            serde_json::to_writer_pretty(&mut out, &v)
                .map_err(io::Error::from)
                .and_then(|_| writeln!(out))
        }
    };
    out_result(r.and_then(|_| out.flush()))?;
    Ok(0)
}

fn cmd_list(a: &ListArgs) -> Result<i32, Fatal> {
    let only = record::parse_labels(&a.label).map_err(Fatal::Usage)?;
    let mut store = open(&a.db.db, Mode::Read)?;
    let rows = store.last_runs(a.last as usize, &only)?;
    let total = store.count_runs(&only)?;
    let db = redact(&a.db.db);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        HistoryFormat::Text => summary::write_list_text(&mut out, &db, &only, &rows, total),
        HistoryFormat::Json => summary::write_list_json(&mut out, &db, &only, &rows, total),
    };
    out_result(r.and_then(|_| out.flush()))?;
    Ok(0)
}

fn cmd_show(a: &ShowArgs) -> Result<i32, Fatal> {
    let q = summary::normalize_query(&a.fingerprint)?;
    let mut store = open(&a.db.db, Mode::Read)?;
    let hits = store.hits(&q)?;
    let total = store.count_runs(&super::Labels::new())?;
    let h = summary::fingerprint_history(&q, &hits, total)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        HistoryFormat::Text => summary::write_show_text(&mut out, &h),
        HistoryFormat::Json => serde_json::to_writer_pretty(&mut out, &h)
            .map_err(io::Error::from)
            .and_then(|_| writeln!(out)),
    };
    out_result(r.and_then(|_| out.flush()))?;
    Ok(0)
}

/// Run `diag history ...`.
pub fn run(a: &HistoryArgs) -> Result<i32, Fatal> {
    match &a.cmd {
        None => cmd_list(&a.list),
        Some(HistoryCmd::List(l)) => cmd_list(l),
        Some(HistoryCmd::Add(x)) => cmd_add(x),
        Some(HistoryCmd::Show(s)) => cmd_show(s),
    }
}
