//! The command line: clap definitions hold what the user typed; `Config` settles it once (colour,
//! registries, correlation options) and the commands run on it. Exit codes: 0 clean, 1 findings at or
//! above the threshold, 2 usage or input error. A closed pipe (`diag ... | head`) ends quietly.

use crate::correlate;
use crate::defs::{DefError, Registry};
use crate::filter::Filter;
use crate::model::Level;
use crate::model::Timeline;
use crate::pipeline::{self, LoadError, Problems};
use crate::report::{
    baseline::Baseline, findings_ndjson::FindingsNdjson, github::Github, json::Json, junit::Junit,
    ndjson::Ndjson, run::plural, run::Run, sarif::Sarif, style::Style, text::Text, CheckWriter,
};
use crate::rules::{finding::Severity, load::load_rules, selftest, Selection};
use crate::source::{self, InputError};
use crate::suggest::nearest;
use chrono::{FixedOffset, NaiveDate};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// diag: find what went wrong in a Citadel P2P messenger run, from its service log and console dumps.
#[derive(Debug, Parser)]
#[command(
    name = "diag",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// What to do; without one, the TUI on a terminal and `check` otherwise.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Inputs when no subcommand is given.
    #[command(flatten)]
    pub input: InputArgs,
    /// Colour: auto (a terminal, unless NO_COLOR is set or TERM=dumb; CLICOLOR_FORCE forces it), always, never.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: ColorWhen,
    /// No report on stdout and no warnings or progress on stderr: the exit code is the verdict.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The exit codes, as `--help` lists them.
const EXIT_CODES: &str =
    "Exit codes: 0 no new finding at or above --fail-on; 1 at least one; 2 usage or input error.";

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour on a terminal, unless NO_COLOR is set or TERM=dumb; CLICOLOR_FORCE forces it.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorWhen {
    fn anstream(self) -> anstream::ColorChoice {
        match self {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        }
    }
}

/// Whether output to stdout is coloured, settled by anstream from `--color`, NO_COLOR,
/// CLICOLOR_FORCE, TERM and whether stdout is a terminal.
fn stdout_style() -> Style {
    Style {
        color: anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never,
    }
}

/// Whether output to stderr is coloured (the timeline's footer).
fn stderr_style() -> Style {
    Style {
        color: anstream::AutoStream::choice(&io::stderr()) != anstream::ColorChoice::Never,
    }
}

/// `diag -q check ...` as `diag check -q ...`: with LOGS allowed without a subcommand, clap would take
/// a flag before the subcommand as the bare form's and the subcommand as a path.
fn globals_after_subcommand(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    use clap::CommandFactory;
    let mut lead = 1;
    while let Some(a) = args.get(lead).and_then(|a| a.to_str()) {
        lead += match a {
            "-q" | "--quiet" => 1,
            "--color" => 2,
            _ if a.starts_with("--color=") => 1,
            _ => break,
        };
    }
    let Some(word) = args.get(lead).and_then(|a| a.to_str()) else {
        return args;
    };
    if lead == 1 || Cli::command().find_subcommand(word).is_none() {
        return args;
    }
    let mut out: Vec<std::ffi::OsString> = Vec::with_capacity(args.len());
    out.extend(args.iter().take(1).cloned());
    out.extend(args.iter().skip(lead).take(1).cloned());
    out.extend(args.iter().take(lead).skip(1).cloned());
    out.extend(args.iter().skip(lead + 1).cloned());
    out
}

/// `--color WHEN` read before clap parses, so clap's own help and errors follow it too.
fn prescan_color(args: &[std::ffi::OsString]) -> Option<ColorWhen> {
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    let mut found = None;
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let v = if a == "--color" {
            it.next()
        } else {
            a.strip_prefix("--color=")
        };
        if let Some(v) = v {
            found = ColorWhen::from_str(v, true).ok().or(found);
        }
    }
    found
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find what failed first and what followed from it; exit 1 when something at or above --fail-on is found.
    Check(CheckArgs),
    /// Print all sources on one timeline, in the order things happened.
    #[command(after_help = TIMELINE_HELP)]
    Timeline(TimelineArgs),
    /// Browse the timeline, findings and incidents interactively.
    Tui(TuiArgs),
    /// Write the run's report: Markdown (the hand-written test report's sections) or one self-contained HTML timeline.
    Report(ReportArgs),
    /// List the rules, or run the cases every rule file carries.
    Rules {
        /// What to do with rules.
        #[command(subcommand)]
        cmd: RulesCmd,
    },
    /// List the templates (kinds of lines) of the logs: level, count, first and last place, sources, an example.
    Templates(TemplatesArgs),
    /// Learn a healthy profile (templates and their rates) from green runs, for `--profile`.
    Profile(ProfileArgs),
    /// Put green runs beside a red one: new templates, gone ones (steps that never happened), changed rates.
    Diff(DiffArgs),
    /// The history of runs: list them, add one, follow a finding's fingerprint across them.
    History(crate::history::cmd::HistoryArgs),
    /// Inspect the log formats diag knows.
    Formats {
        /// What to do with formats.
        #[command(subcommand)]
        cmd: FormatsCmd,
    },
    /// Print a shell completion script, e.g. `diag completions bash > ~/.local/share/bash-completion/completions/diag`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `diag man > ~/.local/share/man/man1/diag.1`.
    Man,
}

/// What the timeline's marks mean, under `diag timeline --help`.
const TIMELINE_HELP: &str = "The mark after the time says how sure it is: none, the line's own date and time; `·` time of day only (the date from --date or another source); `~` no time of its own, placed between anchors; `?` no time at all, kept in file order. Events go to stdout; the summary of sources goes to stderr.";

/// `diag rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCmd {
    /// List the rules: id, severity, kind, title.
    List {
        /// A directory of rule files that adds to or overrides the built-in ones.
        #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
        rules: Option<PathBuf>,
    },
    /// Run every rule's own cases (logs that must and must not trigger it); exit 1 on a failure.
    Test {
        /// A directory of rule files that adds to or overrides the built-in ones.
        #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
        rules: Option<PathBuf>,
        /// A directory of format definitions that adds to or overrides the built-in ones.
        #[arg(long, value_name = "DIR", env = "DIAG_PARSERS")]
        parsers: Option<PathBuf>,
    },
    /// Print the literals the prefilter searches for (one per line), and the patterns it cannot
    /// narrow (every event is tried for them) on stderr: what `rg -F -f` needs to do the same pass.
    Literals {
        /// A directory of rule files that adds to or overrides the built-in ones.
        #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
        rules: Option<PathBuf>,
    },
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A report for people.
    Text,
    /// The `diag.report/v1` JSON contract.
    Json,
    /// JUnit XML: one test case per rule (CI test views).
    Junit,
    /// SARIF 2.1.0 (code-scanning UIs).
    Sarif,
    /// GitHub Actions workflow commands: an error annotation per failing finding.
    Github,
    /// One JSON object per finding with the run's metadata, then a run line (for log shippers).
    Ndjson,
    /// The Markdown report of `diag report`.
    Markdown,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One self-contained HTML file: swimlanes, findings, the incident tree, filters.
    Html,
}

/// `diag report` arguments.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Write the report here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The overall result is FAIL when a finding at or above this severity is found.
    #[arg(long, value_enum, default_value = "high", env = "DIAG_FAIL_ON")]
    pub fail_on: FailOn,
    /// A directory of rule files that adds to or overrides the built-in ones.
    #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
    pub rules: Option<PathBuf>,
    /// A healthy profile (from `diag profile`) added to the built-in one (repeatable).
    #[arg(long, value_name = "FILE")]
    pub profile: Vec<PathBuf>,
    /// The history database whose last runs the Markdown report lists (when it exists).
    #[command(flatten)]
    pub db: crate::history::cmd::DbArg,
}

/// `--fail-on` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Fail on critical findings.
    Critical,
    /// Fail on high and above.
    High,
    /// Fail on medium and above.
    Medium,
    /// Fail on low and above.
    Low,
    /// Fail on any finding.
    Info,
    /// Never fail because of findings.
    None,
}

impl FailOn {
    /// The threshold, or None for `none`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::None => None,
        }
    }
}

/// `diag check` arguments.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Exit 1 when a finding at or above this severity is found.
    #[arg(long, value_enum, default_value = "high", env = "DIAG_FAIL_ON")]
    pub fail_on: FailOn,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// A directory of rule files that adds to or overrides the built-in ones.
    #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
    pub rules: Option<PathBuf>,
    /// Skip a rule by id (repeatable).
    #[arg(long, value_name = "ID")]
    pub disable: Vec<String>,
    /// Run only these rules (repeatable).
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
    /// A healthy profile (from `diag profile`) added to the built-in one (repeatable).
    #[arg(long, value_name = "FILE")]
    pub profile: Vec<PathBuf>,
    /// Accept the findings recorded in this baseline: they are reported as suppressed and only new
    /// ones fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings (by fingerprint and count) in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// List findings the baseline accepts in the text report too.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Read the inputs twice instead of holding every line: only the lines a rule can read are
    /// held, the findings are the same. `auto` does it for inputs of 32 MiB or more
    /// together; standard input is copied to a private file in $TMPDIR first (removed at the
    /// end); `--format markdown` and `--record` hold the inputs whole.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub stream: StreamArg,
    /// The run's id and labels (in every report), `--record` and the history it writes to.
    #[command(flatten)]
    pub record: crate::history::cmd::RecordArgs,
}

/// Output formats of `templates` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// For people.
    Text,
    /// JSON.
    Json,
}

/// `diag templates` arguments.
#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Only templates at or above this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub level: Option<LevelArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// `diag profile` arguments.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Inputs: logs of green runs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Write the profile here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `diag diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Logs of green runs.
    #[arg(value_name = "GREEN", required = true)]
    pub green: Vec<String>,
    /// Logs of the red run.
    #[arg(long, value_name = "RED", num_args = 1.., required = true)]
    pub against: Vec<String>,
    /// A rate changed when it grew or shrank by this factor.
    #[arg(long, default_value_t = 4.0)]
    pub factor: f64,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

/// `diag tui` arguments.
#[derive(Debug, Args, Clone)]
pub struct TuiArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// A directory of rule files that adds to or overrides the built-in ones.
    #[arg(long, value_name = "DIR", env = "DIAG_RULES")]
    pub rules: Option<PathBuf>,
    /// Index the records instead of holding them: a compact row each, the record read again from
    /// its file when shown (a tenth of the memory). `auto` does it for files of 128 MiB or more
    /// together; gzip and stdin are always held; following then reads everything again.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub index: StreamArg,
}

/// `diag formats` subcommands.
#[derive(Debug, Subcommand)]
pub enum FormatsCmd {
    /// List known formats.
    List {
        /// A directory of format definitions that adds to or overrides the built-in ones.
        #[arg(long, value_name = "DIR", env = "DIAG_PARSERS")]
        parsers: Option<PathBuf>,
    },
    /// Say which format each file is in, how sure, and which lines could not be parsed.
    Detect {
        /// Files to look at.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// A directory of format definitions that adds to or overrides the built-in ones.
        #[arg(long, value_name = "DIR", env = "DIAG_PARSERS")]
        parsers: Option<PathBuf>,
    },
}

/// Inputs and the facts that settle their times and names.
#[derive(Debug, Args, Clone, Default)]
pub struct InputArgs {
    /// Log files, directories, globs, .gz files or `-` (stdin); `label=path` names a source.
    #[arg(value_name = "LOGS")]
    pub logs: Vec<String>,
    /// A directory of format definitions that adds to or overrides the built-in ones.
    #[arg(long, value_name = "DIR", env = "DIAG_PARSERS")]
    pub parsers: Option<PathBuf>,
    /// Force the input format instead of detecting it (see `diag formats list`).
    #[arg(long, value_name = "NAME")]
    pub input_format: Option<String>,
    /// Date (YYYY-MM-DD) for sources that only carry a time of day.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Zone of local times in browser dumps, e.g. +01:00 (by default estimated from anchors).
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub tz: Option<String>,
    /// Name a CID: NAME=CID (repeatable).
    #[arg(long, value_name = "NAME=CID")]
    pub alias: Vec<String>,
    /// Accept inputs that could not be read to their end (a truncated .gz, an unreadable folder):
    /// without it such a run exits 2, whatever it found.
    #[arg(long)]
    pub allow_partial: bool,
    /// Most events kept per log stream (memory is about 0.6 KB per event); past it, events from the
    /// middle are dropped and counted, and the input is incomplete.
    #[arg(long, value_name = "N", env = "DIAG_MAX_EVENTS", default_value_t = crate::parse::MAX_EVENTS)]
    pub max_events: usize,
}

/// Output formats of `timeline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    /// For people.
    Text,
    /// One JSON object per event.
    Ndjson,
}

/// Level names accepted by `--level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// trace and up
    Trace,
    /// debug and up
    Debug,
    /// info and up
    Info,
    /// warn and up
    Warn,
    /// error only
    Error,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Trace => Level::Trace,
            LevelArg::Debug => Level::Debug,
            LevelArg::Info => Level::Info,
            LevelArg::Warn => Level::Warn,
            LevelArg::Error => Level::Error,
        }
    }
}

/// `diag timeline` arguments.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Inputs.
    #[command(flatten)]
    pub input: InputArgs,
    /// Only events that mention this CID (full, truncated prefix, or a name).
    #[arg(long, value_name = "CID|NAME")]
    pub cid: Option<String>,
    /// Only events of sources whose label contains this.
    #[arg(long, value_name = "LABEL")]
    pub source: Option<String>,
    /// Only events at or above this level.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub level: Option<LevelArg>,
    /// Only events whose text matches this regex; smart case: all lower case matches either case,
    /// any capital letter makes it case-sensitive.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TimelineFormat,
    /// Read the inputs twice instead of holding them: memory stays small whatever their size, at
    /// the cost of a second read. `auto` does it for inputs of 256 MiB or more together; standard
    /// input is copied to a private file in $TMPDIR first (removed at the end).
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub stream: StreamArg,
}

/// When `diag timeline` and `diag check` read their inputs in two passes (see `--stream`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StreamArg {
    /// For files large enough together (`check`: 32 MiB, `timeline`: 256 MiB, `tui --index`: 128 MiB).
    Auto,
    /// Whenever the inputs are files (stdin is read once and held).
    Always,
    /// Never: hold every event.
    Never,
}

impl StreamArg {
    /// Whether inputs of this many bytes are read in two passes, `auto` from `min` bytes.
    fn wanted(self, bytes: u64, min: u64) -> bool {
        match self {
            StreamArg::Never => false,
            StreamArg::Always => true,
            StreamArg::Auto => bytes >= min,
        }
    }
}

/// Inputs at least this large (all together) are read in two passes by `timeline --stream auto`:
/// below it, holding the events costs less than reading everything twice.
const TIMELINE_STREAM_MIN_BYTES: u64 = 256 << 20;

/// The same for `check`, whose second pass reads only the records a rule can read: from about
/// 32 MiB it takes no longer than holding every event, in half the memory or less.
const CHECK_STREAM_MIN_BYTES: u64 = 32 << 20;

/// An error that ends the run: the library's typed errors, plus what the command line itself refuses.
/// `run` turns each into its message and exit code, in one place.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    /// A flag's value or a combination of flags the command line refuses.
    #[error("{0}")]
    Usage(String),
    /// A malformed format or rule definition (file, line and fix).
    #[error(transparent)]
    Def(#[from] DefError),
    /// An input that cannot be read, or LOGS that expand to nothing.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Loading stopped (an unknown forced format, nothing readable).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Writing the output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A baseline file could not be read or written.
    #[error(transparent)]
    Baseline(#[from] crate::report::baseline::BaselineError),
    /// An input could not be read again for the second pass of a streamed timeline.
    #[error("{0}")]
    Reread(String),
    /// The terminal could not be set up or restored for the TUI.
    #[error("terminal: {0}")]
    Terminal(io::Error),
}

impl Fatal {
    /// Exit code: every error that ends a run is a usage or input error.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

/// Settled inputs: registry, expanded inputs, correlation options.
pub struct Loaded {
    /// The timeline.
    pub timeline: Timeline,
    /// What was skipped or mended.
    pub problems: Problems,
    /// Definitions used.
    pub registry: Registry,
    /// Bytes of the inputs on disk.
    pub bytes: u64,
}

fn parse_tz(s: &str) -> Result<FixedOffset, Fatal> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return FixedOffset::east_opt(0).ok_or_else(|| Fatal::Usage("bad zone".into()));
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => {
            return Err(Fatal::Usage(format!(
                "--tz {s:?}: give an offset like +01:00, -05:30 or UTC"
            )))
        }
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let (h, m): (i32, i32) = match (h.parse(), m.parse()) {
        (Ok(h), Ok(m)) if h <= 14 && m < 60 => (h, m),
        _ => {
            return Err(Fatal::Usage(format!(
                "--tz {s:?}: give an offset like +01:00, -05:30 or UTC"
            )))
        }
    };
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
        .ok_or_else(|| Fatal::Usage(format!("--tz {s:?} is out of range")))
}

impl InputArgs {
    /// Correlation options from the flags.
    pub fn options(&self) -> Result<correlate::Options, Fatal> {
        let date =
            match &self.date {
                Some(d) => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    Fatal::Usage(format!("--date {d:?}: give a date like 2025-12-30"))
                })?),
                None => None,
            };
        let tz = self.tz.as_deref().map(parse_tz).transpose()?;
        let mut aliases = Vec::new();
        for a in &self.alias {
            let (n, c) = a.split_once('=').ok_or_else(|| {
                Fatal::Usage(format!(
                    "--alias {a:?}: give NAME=CID, e.g. alice=2140228971562830034"
                ))
            })?;
            let cid: u64 = c.trim().parse().map_err(|_| {
                Fatal::Usage(format!("--alias {a:?}: the CID must be a full decimal u64"))
            })?;
            aliases.push((n.trim().to_string(), cid));
        }
        Ok(correlate::Options {
            date,
            tz,
            aliases,
            max_events: self.max_events,
            head_bytes: 0,
        })
    }

    /// Expand, read, parse and correlate.
    pub fn load(&self) -> Result<Loaded, Fatal> {
        self.load_shown(false)
    }

    /// [`InputArgs::load`], with a progress bar on stderr when `progress` is allowed and the inputs
    /// are large.
    pub fn load_shown(&self, progress: bool) -> Result<Loaded, Fatal> {
        self.load_settled(self.settle()?, progress)
    }

    /// [`InputArgs::load_shown`] of inputs settled already.
    fn load_settled(&self, st: Settled, progress: bool) -> Result<Loaded, Fatal> {
        let inputs = &st.expansion.inputs;
        let forced = self.input_format.as_deref();
        let (mut timeline, mut problems) = with_bar(progress, st.bytes, inputs.len(), |c| {
            pipeline::load_with_progress(&st.registry, inputs, forced, &st.opts, c)
        })?;
        self.settle_problems(&mut problems, &st.expansion.skipped, &mut timeline);
        Ok(Loaded {
            timeline,
            problems,
            registry: st.registry,
            bytes: st.bytes,
        })
    }

    /// Pass 1 of a two-pass read (see [`crate::stream`]), with what expanding the arguments skipped.
    /// With `keep`, pass 1 also marks what those rules read of each event (see [`crate::lean`]).
    fn plan(
        &self,
        st: &Settled,
        g: Globals,
        keep: Option<&crate::lean::Keep>,
    ) -> Result<crate::stream::Plan, Fatal> {
        let inputs = &st.expansion.inputs;
        let forced = self.input_format.as_deref();
        let mut plan = with_bar(g.progress, st.bytes, inputs.len(), |c| {
            crate::stream::plan_marked(&st.registry, inputs, forced, &st.opts, c, keep, false)
        })?;
        self.settle_problems(
            &mut plan.problems,
            &st.expansion.skipped,
            &mut plan.timeline,
        );
        Ok(plan)
    }

    /// What the flags settle before any input is read: definitions, inputs, options.
    pub fn settle(&self) -> Result<Settled, Fatal> {
        if self.logs.is_empty() {
            return Err(Fatal::Usage("no LOGS given; pass files, directories, globs or - for stdin (try `diag timeline samples/seed`)".into()));
        }
        let registry = Registry::load(self.parsers.as_deref())?;
        if let Some(f) = &self.input_format {
            if registry.format(f).is_none() {
                let names: Vec<&str> = registry.formats.iter().map(|f| f.name.as_str()).collect();
                let hint = nearest(f, &names)
                    .map(|n| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                return Err(Fatal::Usage(format!(
                    "--input-format {f:?}: no such format; {hint}`diag formats list` shows them"
                )));
            }
        }
        let expansion = source::expand_all(&self.logs)?;
        let opts = self.options()?;
        let bytes = input_bytes(&expansion.inputs);
        Ok(Settled {
            registry,
            expansion,
            opts,
            bytes,
        })
    }

    /// Add what expanding the arguments skipped; `--allow-partial` turns incomplete inputs into
    /// warnings.
    fn settle_problems(
        &self,
        problems: &mut Problems,
        skipped: &source::Skipped,
        timeline: &mut Timeline,
    ) {
        problems.add_skipped(skipped, timeline);
        if self.allow_partial {
            // Accepted: still said, but no longer an error.
            let partial = std::mem::take(&mut problems.incomplete);
            problems.warnings.extend(
                partial
                    .into_iter()
                    .map(|m| format!("{m} (accepted with --allow-partial)")),
            );
        }
    }
}

/// What the input flags settle before reading.
pub struct Settled {
    /// Definitions.
    pub registry: Registry,
    /// The inputs, and what expanding the arguments skipped.
    pub expansion: source::Expansion,
    /// Correlation options.
    pub opts: correlate::Options,
    /// Bytes of the inputs on disk.
    pub bytes: u64,
}

/// Inputs at least this large (all together) get a progress bar on a terminal.
const PROGRESS_MIN_BYTES: u64 = 32 << 20;

/// Whether progress may be drawn at all: stderr is a terminal, not `--quiet`, not in CI.
fn progress_allowed(stderr_tty: bool, quiet: bool, ci: bool) -> bool {
    stderr_tty && !quiet && !ci
}

/// Bytes on disk of the inputs (stdin counts as nothing).
fn input_bytes(inputs: &[source::Input]) -> u64 {
    inputs
        .iter()
        .filter_map(|i| i.path.as_ref())
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

/// Run `work` (which adds the bytes it reads to its counter), with a byte progress bar on stderr
/// when `progress` is allowed and the inputs are large; the bar is cleared when done.
fn with_bar<T: Send>(
    progress: bool,
    bytes: u64,
    inputs: usize,
    work: impl FnOnce(&AtomicU64) -> Result<T, LoadError> + Send,
) -> Result<T, Fatal> {
    let counter = AtomicU64::new(0);
    if !progress || bytes < PROGRESS_MIN_BYTES {
        return Ok(work(&counter)?);
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(bytes),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(st) = indicatif::ProgressStyle::with_template(
        // Narrow enough for an 80-column terminal: a wrapped bar redraws as a scroll of copies.
        "{msg:12} [{bar:24}] {bytes}/{total_bytes} eta {eta}",
    ) {
        bar.set_style(st.progress_chars("=> "));
    }
    bar.set_message(format!("reading {}", plural(inputs, "input")));
    let r = std::thread::scope(|sc| {
        let h = sc.spawn(|| work(&counter));
        while !h.is_finished() {
            let pos = counter.load(Ordering::Relaxed);
            if pos >= bytes {
                bar.set_message("correlating");
            }
            bar.set_length(bytes.max(pos));
            bar.set_position(pos);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        h.join()
    });
    bar.finish_and_clear();
    match r {
        Ok(r) => Ok(r?),
        Err(_) => Err(Fatal::Usage(
            "loading stopped on an internal error; please report it with the inputs".into(),
        )),
    }
}

/// A spinner on stderr while the rules run, when progress is shown.
fn spinner(show: bool, msg: String) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let sp =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    sp.set_message(msg);
    sp.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(sp)
}

/// A `--grep` regex with smart case: all lower case matches either case, a capital makes it exact.
pub fn smart_case(text: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(text)
        .case_insensitive(!text.chars().any(char::is_uppercase))
        .size_limit(1 << 24)
        .build()
}

/// `--label key=value` pairs, sorted by key.
fn parse_labels(labels: &[String]) -> Result<BTreeMap<String, String>, Fatal> {
    let mut m = BTreeMap::new();
    for l in labels {
        match l.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                m.insert(k.trim().to_string(), v.to_string());
            }
            _ => {
                return Err(Fatal::Usage(format!(
                    "--label {l:?}: give KEY=VALUE, e.g. --label branch=main"
                )))
            }
        }
    }
    Ok(m)
}

/// What every command shares from the global flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Globals {
    /// `-q`: no report, no warnings, no progress.
    pub quiet: bool,
    /// Progress may be drawn (stderr is a terminal, not quiet, not CI); inputs must still be large.
    pub progress: bool,
}

/// Print what was skipped or mended to stderr; true when an input was refused or could not be read to
/// its end (unless `--allow-partial` accepted that): the run then exits 2.
pub fn report_problems(p: &Problems) -> bool {
    report_problems_if(p, false)
}

/// [`report_problems`]; `quiet` keeps the warnings back (errors are always printed).
pub fn report_problems_if(p: &Problems, quiet: bool) -> bool {
    // Paths and read errors can hold control characters too.
    use crate::report::sanitize::terminal_safe;
    for w in p.warnings.iter().filter(|_| !quiet) {
        eprintln!("diag: warning: {}", terminal_safe(w));
    }
    for r in &p.refused {
        eprintln!("diag: error: {}", terminal_safe(r));
    }
    for r in &p.incomplete {
        eprintln!("diag: error: incomplete input: {}", terminal_safe(r));
    }
    if !p.incomplete.is_empty() {
        eprintln!(
            "diag: error: {} input(s) could not be read to the end, so the result rests on partial \
             evidence (exit 2); fix the input, or pass --allow-partial to accept it",
            p.incomplete.len()
        );
    }
    !p.refused.is_empty() || !p.incomplete.is_empty()
}

fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

fn cmd_timeline(a: &TimelineArgs, g: Globals) -> Result<i32, Fatal> {
    let mut st = a.input.settle()?;
    // As `check` does (see `load_for_check`): standard input is read from a private copy.
    let _copy = if a.stream != StreamArg::Never {
        copy_stdin(&mut st, g.quiet)?
    } else {
        None
    };
    let inputs = &st.expansion.inputs;
    let wanted = a.stream.wanted(st.bytes, TIMELINE_STREAM_MIN_BYTES);
    if wanted && crate::stream::can_stream(inputs) {
        return timeline_streamed(a, g, st);
    }
    if a.stream == StreamArg::Always && !g.quiet {
        eprintln!(
            "diag: note: --stream always reads files only, at most {} of them; these inputs are held whole",
            crate::stream::MAX_INPUTS
        );
    }
    let forced = a.input.input_format.as_deref();
    let (mut timeline, mut problems) = with_bar(g.progress, st.bytes, inputs.len(), |c| {
        pipeline::load_with_progress(&st.registry, inputs, forced, &st.opts, c)
    })?;
    a.input
        .settle_problems(&mut problems, &st.expansion.skipped, &mut timeline);
    let tl = &timeline;
    let filter = timeline_filter(a, tl)?;
    let refused = report_problems_if(&problems, g.quiet);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        TimelineFormat::Text => {
            crate::report::text::write_timeline_events(&mut out, tl, &filter, stdout_style())
                .map(Some)
        }
        TimelineFormat::Ndjson => {
            crate::report::TimelineWriter::write_timeline(&Ndjson, &mut out, tl, &filter)
                .map(|_| None)
        }
    };
    let levelless = match a.format {
        TimelineFormat::Ndjson => filter.hidden_without_level(tl),
        TimelineFormat::Text => 0,
    };
    let shown = match r.and_then(|s| out.flush().map(|_| s)) {
        Ok(s) => s,
        Err(e) if is_broken_pipe(&e) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    timeline_end(g, tl, &filter, shown, levelless);
    // The process ends right after: freeing millions of events one by one would only add seconds.
    std::mem::forget(timeline);
    Ok(if refused { 2 } else { 0 })
}

/// `diag timeline` in two passes (see [`crate::stream`]): the same output, without holding the events.
fn timeline_streamed(a: &TimelineArgs, g: Globals, st: Settled) -> Result<i32, Fatal> {
    let plan = a.input.plan(&st, g, None)?;
    let filter = timeline_filter(a, &plan.timeline)?;
    let refused = report_problems_if(&plan.problems, g.quiet);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut lines = crate::report::text::EventLines::new(&plan.timeline, stdout_style());
    let mut levelless = 0usize;
    let r = crate::stream::replay(&st.registry, &plan, |tl, ev| match a.format {
        TimelineFormat::Text => lines.event(&mut out, tl, &filter, &ev),
        TimelineFormat::Ndjson if filter.matches(tl, &ev) => {
            crate::report::ndjson::write_event(&mut out, tl, &ev)
        }
        TimelineFormat::Ndjson => {
            levelless += usize::from(filter.hid_without_level(tl, &ev));
            Ok(())
        }
    });
    let r = r.and_then(|extra| Ok(out.flush().map(|_| extra)?));
    let extra = match r {
        Ok(extra) => extra,
        Err(crate::stream::PassError::Io(e)) if is_broken_pipe(&e) => return Ok(0),
        Err(crate::stream::PassError::Io(e)) => return Err(e.into()),
        Err(e) => return Err(Fatal::Reread(e.to_string())),
    };
    if extra > 0 && !g.quiet {
        eprintln!(
            "diag: warning: {extra} events were written to the inputs after the first pass read them; they are left out"
        );
    }
    let shown = (a.format == TimelineFormat::Text).then_some(lines.shown);
    timeline_end(g, &plan.timeline, &filter, shown, levelless);
    Ok(if refused { 2 } else { 0 })
}

/// The `--cid`, `--source`, `--level` and `--grep` filter of `diag timeline`.
fn timeline_filter(a: &TimelineArgs, tl: &Timeline) -> Result<Filter, Fatal> {
    let mut filter = Filter {
        min_level: a.level.map(Level::from),
        source: a.source.clone(),
        ..Default::default()
    };
    if let Some(c) = &a.cid {
        let q = c.trim_end_matches('.').trim_end_matches('…');
        filter.cid = Some(tl.cids.lookup(q).ok_or_else(|| {
            let names: Vec<&str> = tl
                .cids
                .names
                .values()
                .flatten()
                .map(|n| n.as_str())
                .collect();
            let hint = nearest(q, &names)
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            Fatal::Usage(format!(
                "--cid {c:?}: no CID or name like that in these logs{hint}"
            ))
        })?);
    }
    if let Some(g) = &a.grep {
        filter.grep = Some(smart_case(g).map_err(|e| Fatal::Usage(format!("--grep: {e}")))?);
    }
    Ok(filter)
}

/// After the events: NDJSON's note of level-less events hidden (stdout keeps events only), or the
/// text footer, on stderr: `diag timeline ... > file` keeps only events.
fn timeline_end(
    g: Globals,
    tl: &Timeline,
    filter: &Filter,
    shown: Option<crate::report::text::Shown>,
    levelless: usize,
) {
    if g.quiet {
        return;
    }
    if levelless > 0 {
        eprintln!(
            "diag: note: --level hid {levelless} events that carry no level (they count as info)"
        );
    }
    if let Some(shown) = shown {
        let mut err = io::stderr().lock();
        let _ = writeln!(err);
        let _ = crate::report::text::write_timeline_footer(
            &mut err,
            tl,
            filter,
            &shown,
            stderr_style(),
        );
    }
}

fn cmd_check(a: &CheckArgs, g: Globals) -> Result<i32, Fatal> {
    let started = std::time::Instant::now();
    let rules = load_rules(a.rules.as_deref())?;
    for id in a.disable.iter().chain(&a.only) {
        if !rules.iter().any(|r| &r.info.id == id) {
            let ids: Vec<&str> = rules.iter().map(|r| r.info.id.as_str()).collect();
            let hint = nearest(id, &ids)
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(Fatal::Usage(format!(
                "no rule with id {id:?}; {hint}`diag rules list` shows them"
            )));
        }
    }
    let labels = parse_labels(&a.record.run.label)?;
    // Read the baseline before the logs: a wrong path fails fast.
    let baseline = a.baseline.as_deref().map(Baseline::read).transpose()?;
    let sel = Selection {
        disable: a.disable.clone(),
        only: a.only.clone(),
    };
    let profile = load_profile(&a.profile)?;
    let (loaded, prepared) = load_for_check(a, g, &rules, &sel)?;
    let refused = report_problems_if(&loaded.problems, g.quiet);
    let sp = spinner(
        g.progress && loaded.bytes >= PROGRESS_MIN_BYTES,
        format!("running {}", plural(rules.len(), "rule")),
    );
    // Pass 2's readers, their queues and the marks are gone; the readers' arenas keep the pages:
    // give them back before the rules allocate on this thread.
    crate::memory::trim();
    crate::memory::at("loaded");
    let (analysis, times) = match prepared {
        Some(p) => crate::rules::run_prepared(&rules, &sel, loaded.timeline, p, &profile),
        None => crate::rules::run_timed(&rules, &sel, loaded.timeline, &profile),
    };
    crate::memory::at("judged");
    if let Some(sp) = sp {
        sp.finish_and_clear();
    }
    let mut run = Run {
        fail_on: a.fail_on.threshold(),
        run_id: a.record.run.run_id.clone(),
        labels,
        baseline: None,
        show_suppressed: a.show_suppressed,
        elapsed_s: started.elapsed().as_secs_f64(),
        rule_times: times.into_iter().collect(),
    };
    if let (Some(b), Some(path)) = (&baseline, &a.baseline) {
        run.baseline = Some(b.apply(&path.display().to_string(), &analysis));
    }
    if let Some(path) = &a.write_baseline {
        let b = Baseline::of(&analysis);
        b.write(path)?;
        if !g.quiet {
            eprintln!(
                "diag: baseline of {} ({}) written to {}",
                plural(analysis.findings.len(), "finding"),
                plural(b.entries.len(), "fingerprint"),
                path.display()
            );
        }
    }
    if !g.quiet {
        let writer: Box<dyn CheckWriter> = match a.format {
            CheckFormat::Text => Box::new(Text {
                style: stdout_style(),
                run: run.clone(),
            }),
            CheckFormat::Json => Box::new(Json { run: run.clone() }),
            CheckFormat::Junit => Box::new(Junit { run: run.clone() }),
            CheckFormat::Sarif => Box::new(Sarif { run: run.clone() }),
            CheckFormat::Github => Box::new(Github { run: run.clone() }),
            CheckFormat::Ndjson => Box::new(FindingsNdjson { run: run.clone() }),
            CheckFormat::Markdown => Box::new(crate::report::markdown::Markdown {
                fail_on: run.fail_on,
                causes: crate::report::markdown::causes_of(&rules),
                history: history_rows(&a.record.db.db),
            }),
        };
        let stdout = io::stdout();
        let mut out = io::BufWriter::new(stdout.lock());
        let r = writer.write_check(&mut out, &analysis);
        match r.and_then(|_| out.flush()) {
            Ok(()) => {}
            Err(e) if is_broken_pipe(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if a.record.record {
        if refused {
            eprintln!(
                "diag: error: not recorded: an input was refused, so the analysis is incomplete"
            );
        } else {
            crate::history::cmd::record_check(&a.record, &analysis, run.fail_on, &a.input.logs)?;
        }
    }
    if refused {
        return Ok(2);
    }
    let failed = run.verdict(&analysis) == crate::report::run::Verdict::Fail;
    // The process ends right after: freeing millions of events one by one would only add seconds.
    std::mem::forget(analysis);
    Ok(if failed { 1 } else { 0 })
}

/// Copy standard input, when it is one of the inputs, to a private temporary file that stands
/// for it (shown as standard input), so that it can be read twice.
/// When no private file can be made there (a read-only `$TMPDIR`), standard input is read once and
/// held, as `--stream never` reads it, and a note says why.
fn copy_stdin(st: &mut Settled, quiet: bool) -> Result<Option<source::Copied>, Fatal> {
    let Some(stdin) = st.expansion.inputs.iter_mut().find(|i| i.path.is_none()) else {
        return Ok(None);
    };
    let dir = std::env::temp_dir();
    let empty = match source::Copied::start(&dir) {
        Ok(e) => e,
        Err(e) => {
            if !quiet {
                eprintln!(
                    "diag: note: cannot make a private copy of standard input in {} ({e}); it is \
                     read once and held (set TMPDIR to a writable folder to read it in two passes)",
                    dir.display()
                );
            }
            return Ok(None);
        }
    };
    let copy = empty.fill(io::stdin().lock()).map_err(|e| {
        Fatal::Io(io::Error::new(
            e.kind(),
            format!(
                "cannot copy standard input to a temporary file ({e}): a full disk? Set TMPDIR \
                 to a folder with room, or pass --stream never to read it once and hold it"
            ),
        ))
    })?;
    *stdin = copy.input_for(stdin);
    st.bytes += copy.bytes;
    Ok(Some(copy))
}

/// The inputs of `check`: held whole, or read in two passes into a sparse timeline of the events a
/// rule can read (see [`crate::lean`]), with the templates computed and the absence rules judged on
/// the way.
fn load_for_check(
    a: &CheckArgs,
    g: Globals,
    rules: &[crate::rules::load::Rule],
    sel: &Selection,
) -> Result<(Loaded, Option<crate::rules::Prepared>), Fatal> {
    let mut st = a.input.settle()?;
    let held_only = a.format == CheckFormat::Markdown || a.record.record;
    // Standard input is copied to a private file first (removed when this returns), to be read
    // in two passes like a file when it is large: the copy costs a write of its bytes, holding it
    // would cost memory in proportion.
    let _copy = if a.stream != StreamArg::Never && !held_only {
        copy_stdin(&mut st, g.quiet)?
    } else {
        None
    };
    let inputs = &st.expansion.inputs;
    let wanted = a.stream.wanted(st.bytes, CHECK_STREAM_MIN_BYTES);
    let active: Vec<&crate::rules::load::Rule> =
        rules.iter().filter(|r| sel.allows(&r.info.id)).collect();
    let keep = (wanted && !held_only && crate::stream::can_stream(inputs))
        .then(|| crate::lean::Keep::for_rules(&active))
        .flatten();
    let Some(keep) = keep else {
        if a.stream == StreamArg::Always && !g.quiet {
            eprintln!(
                "diag: note: --stream always reads files only (at most {}), without --record or \
                 --format markdown, and with rules whose patterns cannot match an empty line; \
                 these inputs are held whole",
                crate::stream::MAX_INPUTS
            );
        }
        return Ok((a.input.load_settled(st, g.progress)?, None));
    };
    let mut plan = a.input.plan(&st, g, Some(&keep))?;
    // Events held in two passes cost less, but a log whose every line a rule reads costs as much:
    // a stream beyond the cap is held (and capped) as it would be without two passes.
    let cap = (st.opts.max_events as f64 * crate::lean::CAP_FACTOR) as usize;
    if plan.largest_stream() > cap {
        if !g.quiet {
            eprintln!(
                "diag: note: a stream of {} events is more than two passes hold ({:.1} × --max-events); \
                 reading the inputs held instead",
                plan.largest_stream(),
                crate::lean::CAP_FACTOR
            );
        }
        return Ok((a.input.load_settled(st, g.progress)?, None));
    }
    let problems = std::mem::take(&mut plan.problems);
    let lean =
        crate::lean::fill(&st.registry, plan, &keep, crate::lean::Numbered::Held).map_err(|e| {
            match e {
                crate::stream::PassError::Io(e) => Fatal::Io(e),
                e => Fatal::Reread(e.to_string()),
            }
        })?;
    if lean.extra > 0 && !g.quiet {
        eprintln!(
            "diag: warning: {} events were written to the inputs after the first pass read them; they are left out",
            lean.extra
        );
    }
    let loaded = Loaded {
        timeline: lean.timeline,
        problems,
        registry: st.registry,
        bytes: st.bytes,
    };
    let prepared = crate::rules::Prepared {
        templates: lean.templates,
        online: lean.online,
        late: lean.late,
    };
    Ok((loaded, Some(prepared)))
}

/// `diag report`: analyse like `check`, then write the Markdown or HTML report (exit 0 once written).
/// Runs of the history database for the Markdown report's "Test History Summary", newest last; none
/// when there is no database there (the section then says how to give one).
fn history_rows(db: &str) -> Vec<crate::report::markdown::HistoryRow> {
    const LAST: usize = 10;
    let local = !db.starts_with("postgres://") && !db.starts_with("postgresql://");
    if local && !std::path::Path::new(db).is_file() {
        return Vec::new();
    }
    match crate::history::last_runs(db, LAST) {
        Ok(rows) => rows
            .into_iter()
            .map(|r| crate::report::markdown::HistoryRow {
                run_id: r.run_id,
                time: r.time,
                verdict: r.verdict,
                root_cause: r.root_cause.map(|c| c.title).unwrap_or_default(),
                counts: crate::report::wire::Summary {
                    critical: r.counts.critical as usize,
                    high: r.counts.high as usize,
                    medium: r.counts.medium as usize,
                    low: r.counts.low as usize,
                    info: r.counts.info as usize,
                },
            })
            .collect(),
        Err(e) => {
            eprintln!("diag: warning: the report lists no history: {e}");
            Vec::new()
        }
    }
}

fn cmd_report(a: &ReportArgs) -> Result<i32, Fatal> {
    let rules = load_rules(a.rules.as_deref())?;
    let loaded = a.input.load()?;
    let refused = report_problems(&loaded.problems);
    let profile = load_profile(&a.profile)?;
    let analysis = crate::rules::run_with(&rules, &Selection::default(), loaded.timeline, &profile);
    let threshold = a.fail_on.threshold();
    let write = |out: &mut dyn Write| -> io::Result<()> {
        match a.format {
            ReportFormat::Markdown => crate::report::markdown::write_markdown(
                out,
                &analysis,
                &crate::report::markdown::Markdown {
                    fail_on: threshold,
                    causes: crate::report::markdown::causes_of(&rules),
                    history: history_rows(&a.db.db),
                },
            ),
            ReportFormat::Html => crate::report::html::write_html(
                out,
                &analysis,
                &crate::report::html::Html {
                    fail_on: threshold,
                    ..Default::default()
                },
            ),
        }
    };
    match &a.output {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| {
                Fatal::Usage(format!(
                    "cannot write {}: {e}; check the directory exists and is writable",
                    path.display()
                ))
            })?;
            let mut out = io::BufWriter::new(file);
            write(&mut out).and_then(|_| out.flush())?;
            eprintln!("diag: report written to {}", path.display());
        }
        None => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            write_out(write(&mut out).and_then(|_| out.flush()))?;
        }
    }
    Ok(if refused { 2 } else { 0 })
}

/// The built-in profile plus the files given with `--profile`.
fn load_profile(files: &[PathBuf]) -> Result<crate::profile::Profile, Fatal> {
    let mut p = crate::profile::Profile::builtin()?;
    for f in files {
        p.merge(crate::profile::Profile::read(f)?);
    }
    Ok(p)
}

fn write_out(r: io::Result<()>) -> Result<(), Fatal> {
    match r {
        Ok(()) => Ok(()),
        Err(e) if is_broken_pipe(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn cmd_templates(a: &TemplatesArgs, g: Globals) -> Result<i32, Fatal> {
    let loaded = a.input.load_shown(g.progress)?;
    let refused = report_problems_if(&loaded.problems, g.quiet);
    let tl = &loaded.timeline;
    let t = crate::templates::Templates::build(tl);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        ListFormat::Text => crate::report::templates::write_text(
            &mut out,
            tl,
            &t,
            a.level.map(Level::from),
            stdout_style(),
        ),
        ListFormat::Json => crate::report::templates::write_json(&mut out, tl, &t),
    };
    write_out(r.and_then(|_| out.flush()))?;
    Ok(if refused { 2 } else { 0 })
}

fn cmd_profile(a: &ProfileArgs, g: Globals) -> Result<i32, Fatal> {
    let loaded = a.input.load_shown(g.progress)?;
    let refused = report_problems_if(&loaded.problems, g.quiet);
    let p = crate::profile::Profile::learn(&loaded.timeline);
    let text = p
        .to_toml()
        .map_err(|e| Fatal::Usage(format!("cannot write the profile as TOML: {e}")))?;
    match &a.output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| {
                Fatal::Usage(format!(
                    "cannot write {}: {e}; check the directory exists and is writable",
                    path.display()
                ))
            })?;
            if !g.quiet {
                eprintln!(
                    "diag: profile of {} from {} written to {}",
                    plural(p.entries.len(), "template"),
                    plural(p.sources as usize, "source"),
                    path.display()
                );
            }
        }
        None => write_out(io::stdout().write_all(text.as_bytes()))?,
    }
    Ok(if refused { 2 } else { 0 })
}

fn cmd_diff(a: &DiffArgs, g: Globals) -> Result<i32, Fatal> {
    let side = |logs: &[String]| -> Result<(crate::profile::Profile, bool), Fatal> {
        let input = InputArgs {
            logs: logs.to_vec(),
            ..Default::default()
        };
        let loaded = input.load_shown(g.progress)?;
        let refused = report_problems_if(&loaded.problems, g.quiet);
        Ok((crate::profile::Profile::learn(&loaded.timeline), refused))
    };
    let (green, r1) = side(&a.green)?;
    let (red, r2) = side(&a.against)?;
    let rows = crate::profile::diff(&green, &red, a.factor, 5);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        ListFormat::Text => {
            crate::report::templates::write_diff_text(&mut out, &rows, stdout_style())
        }
        ListFormat::Json => crate::report::templates::write_diff_json(&mut out, &rows),
    };
    write_out(r.and_then(|_| out.flush()))?;
    Ok(if r1 || r2 { 2 } else { 0 })
}

fn cmd_rules(cmd: &RulesCmd) -> Result<i32, Fatal> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cmd {
        RulesCmd::List { rules } => {
            let rules = load_rules(rules.as_deref())?;
            let rows: Vec<[String; 5]> = rules
                .iter()
                .map(|r| {
                    [
                        r.info.id.clone(),
                        r.info.severity.as_str().to_string(),
                        r.kind.as_str().to_string(),
                        r.info.title.clone(),
                        format!("[{}]", r.origin),
                    ]
                })
                .collect();
            write_table(&mut out, ["ID", "SEVERITY", "KIND", "TITLE", "FILE"], &rows)?;
            Ok(0)
        }
        RulesCmd::Literals { rules } => {
            let rules = load_rules(rules.as_deref())?;
            let (literals, open) = crate::rules::prefilter::literal_report(&rules);
            for l in literals {
                writeln!(out, "{l}")?;
            }
            for (rule, re) in open {
                eprintln!("diag: {rule}: no required literal in `{re}` (tried on every event)");
            }
            Ok(0)
        }
        RulesCmd::Test { rules, parsers } => {
            let reg = Registry::load(parsers.as_deref())?;
            let rules = load_rules(rules.as_deref())?;
            let results = selftest::run_all(&reg, &rules);
            let mut failed = 0;
            for r in &results {
                if r.passed() {
                    writeln!(out, "ok      {} / {}", r.rule, r.case)?;
                } else {
                    failed += 1;
                    let got = match &r.got {
                        Ok(n) => format!("{} {:?}", plural(*n, "finding"), r.titles),
                        Err(e) => format!("error: {e}"),
                    };
                    writeln!(
                        out,
                        "FAILED  {} / {} ({}): expected {}, got {got}",
                        r.rule,
                        r.case,
                        r.origin,
                        plural(r.expected, "finding")
                    )?;
                }
            }
            writeln!(out, "{} passed, {} failed", results.len() - failed, failed)?;
            Ok(if failed > 0 { 1 } else { 0 })
        }
    }
}

fn cmd_formats(cmd: &FormatsCmd) -> Result<i32, Fatal> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cmd {
        FormatsCmd::List { parsers } => {
            let reg = Registry::load(parsers.as_deref())?;
            let rows: Vec<[String; 4]> = reg
                .formats
                .iter()
                .map(|f| {
                    [
                        f.name.clone(),
                        f.priority.to_string(),
                        f.title.clone(),
                        format!("[{}]", f.origin),
                    ]
                })
                .collect();
            write_table(&mut out, ["NAME", "PRIORITY", "TITLE", "FILE"], &rows)?;
            Ok(0)
        }
        FormatsCmd::Detect { files, parsers } => {
            let reg = Registry::load(parsers.as_deref())?;
            let inputs = source::expand(files)?;
            let mut code = 0;
            for inp in &inputs {
                match pipeline::parse_input(&reg, inp, None) {
                    Ok(p) => {
                        let Some((info, _)) = p.sources.first() else {
                            continue;
                        };
                        let d = &info.detection;
                        writeln!(
                            out,
                            "{}: {} (confidence {:.0}%, {} of {} look like it{})",
                            inp.display(),
                            d.format,
                            d.confidence * 100.0,
                            d.matched,
                            plural(d.considered, "line"),
                            d.runner_up
                                .as_ref()
                                .map(|(n, c)| format!("; next best {n} with {c}"))
                                .unwrap_or_default()
                        )?;
                        let ps = &info.parse;
                        let events: usize = p.sources.iter().map(|(i, _)| i.events).sum();
                        writeln!(
                            out,
                            "  {}: {}, {} continuation, {} meta, {} blank, {} unparsed",
                            plural(
                                usize::try_from(info.read.lines).unwrap_or(usize::MAX),
                                "line"
                            ),
                            plural(events, "event"),
                            ps.continuation,
                            ps.meta,
                            ps.blank,
                            ps.unparsed
                        )?;
                        for (n, t) in &ps.unparsed_samples {
                            writeln!(
                                out,
                                "  unparsed line {n}: {}",
                                crate::report::style::sanitize(t)
                            )?;
                        }
                        if let Some(e) = &info.read.error {
                            writeln!(out, "  read error: {e}")?;
                        }
                    }
                    Err(e) => {
                        eprintln!("diag: error: {e}");
                        code = 2;
                    }
                }
            }
            Ok(code)
        }
    }
}

/// A table with a header, columns as wide as their widest cell (the last one unpadded).
fn write_table<const N: usize>(
    out: &mut dyn Write,
    header: [&str; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let mut widths = header.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == N {
                l.push_str(c);
            } else {
                l.push_str(&format!(
                    "{c:<w$}  ",
                    w = widths.get(i).copied().unwrap_or(0)
                ));
            }
        }
        l.trim_end().to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for r in rows {
        writeln!(out, "{}", line(r.iter().map(|c| c.as_str()).collect()))?;
    }
    Ok(())
}

/// "`chek` is no file and no subcommand; did you mean `check`?" for a first word that is neither.
fn subcommand_hint(word: &str) -> Option<String> {
    use clap::CommandFactory;
    let looks_like_path = word == "-" || word.contains(['/', '\\', '*', '?', '[', '=', '.']);
    if looks_like_path || Path::new(word).exists() {
        return None;
    }
    let cmd = Cli::command();
    let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
    nearest(word, &names).map(|n| {
        format!("`{word}` is neither a file nor a subcommand; did you mean `{n}`? (`diag {n} --help` shows how to use it)")
    })
}

/// `diag tui`: settle inputs, rules and options here (errors print before the screen changes), then
/// hand them to the TUI, which loads in the background.
fn cmd_tui(a: &TuiArgs) -> Result<i32, Fatal> {
    if a.input.logs.is_empty() {
        return Err(Fatal::Usage(
            "no LOGS given; pass files, directories, globs or - for stdin (try `diag tui samples/seed`)"
                .into(),
        ));
    }
    let expansion = source::expand_all(&a.input.logs)?;
    let job = crate::tui::loader::Job {
        registry: Registry::load(a.input.parsers.as_deref())?,
        inputs: expansion.inputs,
        skipped: expansion.skipped,
        forced: a.input.input_format.clone(),
        options: a.input.options()?,
        rules: load_rules(a.rules.as_deref())?,
        preview_bytes: crate::tui::loader::PREVIEW_BYTES,
        index_above: match a.index {
            StreamArg::Auto => crate::tui::loader::INDEX_ABOVE,
            StreamArg::Always => 0,
            StreamArg::Never => u64::MAX,
        },
    };
    crate::tui::run(job).map_err(Fatal::Terminal)?;
    Ok(0)
}

/// Run the command line; returns the exit code.
pub fn run() -> i32 {
    use clap::CommandFactory;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Settle colour before clap prints anything (help, usage errors).
    if let Some(c) = prescan_color(&args) {
        c.anstream().write_global();
    }
    let args = globals_after_subcommand(args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    cli.color.anstream().write_global();
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let g = Globals {
        quiet: cli.quiet,
        progress: progress_allowed(io::stderr().is_terminal(), cli.quiet, ci),
    };
    if cli.command.is_none() {
        if let Some(hint) = cli.input.logs.first().and_then(|w| subcommand_hint(w)) {
            eprintln!("diag: error: {hint}");
            return 2;
        }
    }
    let r = match &cli.command {
        Some(Command::Check(a)) => cmd_check(a, g),
        Some(Command::Timeline(a)) => cmd_timeline(a, g),
        Some(Command::Tui(a)) => cmd_tui(a),
        Some(Command::Report(a)) => cmd_report(a),
        // On a terminal the bare form is the TUI.
        None if io::stdout().is_terminal() => cmd_tui(&TuiArgs {
            input: cli.input.clone(),
            rules: None,
            index: StreamArg::Auto,
        }),
        Some(Command::Rules { cmd }) => cmd_rules(cmd),
        Some(Command::Templates(a)) => cmd_templates(a, g),
        Some(Command::Profile(a)) => cmd_profile(a, g),
        Some(Command::Diff(a)) => cmd_diff(a, g),
        Some(Command::Formats { cmd }) => cmd_formats(cmd),
        Some(Command::Completions { shell }) => {
            let mut out = io::stdout().lock();
            clap_complete::generate(*shell, &mut Cli::command(), "diag", &mut out);
            write_out(out.flush()).map(|_| 0)
        }
        Some(Command::Man) => {
            let mut out = io::stdout().lock();
            write_out(clap_mangen::Man::new(Cli::command()).render(&mut out)).map(|_| 0)
        }
        Some(Command::History(a)) => crate::history::cmd::run(a),
        // Off a terminal (CI, pipes) the bare form is a check with the default threshold.
        None => cmd_check(
            &CheckArgs {
                input: cli.input.clone(),
                fail_on: FailOn::High,
                format: CheckFormat::Text,
                rules: None,
                disable: vec![],
                only: vec![],
                profile: vec![],
                baseline: None,
                write_baseline: None,
                show_suppressed: false,
                stream: StreamArg::Auto,
                record: Default::default(),
            },
            g,
        ),
    };
    match r {
        Ok(c) => c,
        // `diag rules list | head`: the reader had enough.
        Err(Fatal::Io(e)) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!(
                "diag: error: {}",
                crate::report::sanitize::terminal_safe(&e.to_string())
            );
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tz_offsets() {
        assert_eq!(parse_tz("+01:00").unwrap().local_minus_utc(), 3600);
        assert_eq!(parse_tz("-05:30").unwrap().local_minus_utc(), -19800);
        assert_eq!(parse_tz("UTC").unwrap().local_minus_utc(), 0);
        assert!(parse_tz("01:00").is_err());
    }

    fn os(v: &[&str]) -> Vec<std::ffi::OsString> {
        v.iter().map(std::ffi::OsString::from).collect()
    }

    #[test]
    fn global_flags_before_a_subcommand_move_after_it() {
        let moved = globals_after_subcommand(os(&["diag", "-q", "--color", "never", "check", "x"]));
        assert_eq!(moved, os(&["diag", "check", "-q", "--color", "never", "x"]));
        let c = Cli::try_parse_from(&moved).unwrap();
        assert!(c.quiet && c.color == ColorWhen::Never);
        // The bare form keeps its flags where they are.
        let same = os(&["diag", "-q", "samples/seed"]);
        assert_eq!(globals_after_subcommand(same.clone()), same);
        let same = os(&["diag", "check", "--color=always", "x"]);
        assert_eq!(globals_after_subcommand(same.clone()), same);
    }

    #[test]
    fn color_is_read_before_parsing_the_last_one_winning() {
        assert_eq!(
            prescan_color(&os(&["diag", "--color", "always"])),
            Some(ColorWhen::Always)
        );
        assert_eq!(
            prescan_color(&os(&["diag", "--color=never", "x", "--color=auto"])),
            Some(ColorWhen::Auto)
        );
        assert_eq!(prescan_color(&os(&["diag", "--", "--color=never"])), None);
        assert_eq!(prescan_color(&os(&["diag", "--color", "bogus"])), None);
    }

    #[test]
    fn progress_only_on_a_terminal_and_never_quiet_or_in_ci() {
        assert!(progress_allowed(true, false, false));
        assert!(!progress_allowed(false, false, false));
        assert!(!progress_allowed(true, true, false));
        assert!(!progress_allowed(true, false, true));
    }

    #[test]
    fn a_typo_of_a_subcommand_is_named_but_paths_are_left_alone() {
        assert!(subcommand_hint("chek")
            .unwrap()
            .contains("did you mean `check`?"));
        assert!(subcommand_hint("timelin").unwrap().contains("`timeline`"));
        assert_eq!(subcommand_hint("samples/chek"), None);
        assert_eq!(subcommand_hint("chek.log"), None);
        assert_eq!(subcommand_hint("-"), None);
        assert_eq!(subcommand_hint("zzzqqq"), None);
    }

    #[test]
    fn labels_and_smart_case() {
        let l = parse_labels(&["b=2".into(), "a=x=y".into()]).unwrap();
        assert_eq!(l.get("a").map(String::as_str), Some("x=y"));
        assert!(parse_labels(&["novalue".into()]).is_err());
        assert!(parse_labels(&["=v".into()]).is_err());
        assert!(smart_case("websocket").unwrap().is_match("WebSocket lost"));
        assert!(!smart_case("Websocket").unwrap().is_match("WebSocket lost"));
    }

    #[test]
    fn cli_parses() {
        let c = Cli::try_parse_from([
            "diag", "timeline", "a.log", "--cid", "alice", "--format", "ndjson",
        ])
        .unwrap();
        assert!(matches!(c.command, Some(Command::Timeline(_))));
        let c = Cli::try_parse_from(["diag", "a.log", "b.log"]).unwrap();
        assert_eq!(c.input.logs.len(), 2);
    }
}
