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
    json::Json, junit::Junit, ndjson::Ndjson, sarif::Sarif, style::Style, text::Text, CheckWriter,
    TimelineWriter,
};
use crate::rules::{finding::Severity, load::load_rules, selftest, Selection};
use crate::source::{self, InputError};
use chrono::{FixedOffset, NaiveDate};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

/// diag: find what went wrong in a Citadel P2P messenger run, from its service log and console dumps.
#[derive(Debug, Parser)]
#[command(name = "diag", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without one, the TUI on a terminal and `check` otherwise.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Inputs when no subcommand is given.
    #[command(flatten)]
    pub input: InputArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find what failed first and what followed from it; exit 1 when something at or above --fail-on is found.
    Check(CheckArgs),
    /// Print all sources on one timeline, in the order things happened.
    Timeline(TimelineArgs),
    /// Browse the timeline, findings and incidents interactively.
    Tui(TuiArgs),
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
    /// Inspect the log formats diag knows.
    Formats {
        /// What to do with formats.
        #[command(subcommand)]
        cmd: FormatsCmd,
    },
}

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
    /// Most events kept per log stream (memory is about 0.7 KB per event); past it, events from the
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
    /// Only events whose text matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TimelineFormat,
}

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
        })
    }

    /// Expand, read, parse and correlate.
    pub fn load(&self) -> Result<Loaded, Fatal> {
        if self.logs.is_empty() {
            return Err(Fatal::Usage("no LOGS given; pass files, directories, globs or - for stdin (try `diag timeline samples/seed`)".into()));
        }
        let registry = Registry::load(self.parsers.as_deref())?;
        let expansion = source::expand_all(&self.logs)?;
        let opts = self.options()?;
        let (timeline, mut problems) = pipeline::load(
            &registry,
            &expansion.inputs,
            self.input_format.as_deref(),
            &opts,
        )?;
        problems.warnings.extend(expansion.skipped.notes);
        problems.incomplete.extend(expansion.skipped.unreadable);
        if self.allow_partial {
            // Accepted: still said, but no longer an error.
            let partial = std::mem::take(&mut problems.incomplete);
            problems.warnings.extend(
                partial
                    .into_iter()
                    .map(|m| format!("{m} (accepted with --allow-partial)")),
            );
        }
        Ok(Loaded {
            timeline,
            problems,
            registry,
        })
    }
}

/// Print what was skipped or mended to stderr; true when an input was refused or could not be read to
/// its end (unless `--allow-partial` accepted that): the run then exits 2.
pub fn report_problems(p: &Problems) -> bool {
    // Paths and read errors can hold control characters too.
    use crate::report::sanitize::terminal_safe;
    for w in &p.warnings {
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

fn cmd_timeline(a: &TimelineArgs) -> Result<i32, Fatal> {
    let loaded = a.input.load()?;
    let tl = &loaded.timeline;
    let mut filter = Filter {
        min_level: a.level.map(Level::from),
        source: a.source.clone(),
        ..Default::default()
    };
    if let Some(c) = &a.cid {
        let q = c.trim_end_matches('.').trim_end_matches('…');
        filter.cid = Some(tl.cids.lookup(q).ok_or_else(|| {
            Fatal::Usage(format!(
                "--cid {c:?}: no CID or name like that in these logs"
            ))
        })?);
    }
    if let Some(g) = &a.grep {
        filter.grep = Some(regex::Regex::new(g).map_err(|e| Fatal::Usage(format!("--grep: {e}")))?);
    }
    let refused = report_problems(&loaded.problems);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let style = Style::detect(io::stdout().is_terminal());
    let writer: &dyn TimelineWriter = match a.format {
        TimelineFormat::Text => &Text {
            style,
            fail_on: None,
        },
        TimelineFormat::Ndjson => &Ndjson,
    };
    if a.format == TimelineFormat::Ndjson {
        // The text output says it under the events; NDJSON keeps stdout for events only.
        let levelless = filter.hidden_without_level(tl);
        if levelless > 0 {
            eprintln!("diag: note: --level hid {levelless} events that carry no level (they count as info)");
        }
    }
    let r = writer.write_timeline(&mut out, tl, &filter);
    match r.and_then(|_| out.flush()) {
        Ok(()) => {}
        Err(e) if is_broken_pipe(&e) => return Ok(0),
        Err(e) => return Err(e.into()),
    }
    // The process ends right after: freeing millions of events one by one would only add seconds.
    std::mem::forget(loaded);
    Ok(if refused { 2 } else { 0 })
}

fn cmd_check(a: &CheckArgs) -> Result<i32, Fatal> {
    let rules = load_rules(a.rules.as_deref())?;
    for id in a.disable.iter().chain(&a.only) {
        if !rules.iter().any(|r| &r.info.id == id) {
            return Err(Fatal::Usage(format!(
                "no rule with id {id:?}; `diag rules list` shows them"
            )));
        }
    }
    let loaded = a.input.load()?;
    let refused = report_problems(&loaded.problems);
    let sel = Selection {
        disable: a.disable.clone(),
        only: a.only.clone(),
    };
    let profile = load_profile(&a.profile)?;
    let analysis = crate::rules::run_with(&rules, &sel, loaded.timeline, &profile);
    let threshold = a.fail_on.threshold();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let style = Style::detect(io::stdout().is_terminal());
    let writer: &dyn CheckWriter = match a.format {
        CheckFormat::Text => &Text {
            style,
            fail_on: threshold,
        },
        CheckFormat::Json => &Json,
        CheckFormat::Junit => &Junit { fail_on: threshold },
        CheckFormat::Sarif => &Sarif,
    };
    let r = writer.write_check(&mut out, &analysis);
    match r.and_then(|_| out.flush()) {
        Ok(()) => {}
        Err(e) if is_broken_pipe(&e) => {}
        Err(e) => return Err(e.into()),
    }
    if refused {
        return Ok(2);
    }
    let failed = threshold.is_some_and(|t| analysis.findings.iter().any(|f| f.severity >= t));
    // The process ends right after: freeing millions of events one by one would only add seconds.
    std::mem::forget(analysis);
    Ok(if failed { 1 } else { 0 })
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

fn cmd_templates(a: &TemplatesArgs) -> Result<i32, Fatal> {
    let loaded = a.input.load()?;
    let refused = report_problems(&loaded.problems);
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
            Style::detect(io::stdout().is_terminal()),
        ),
        ListFormat::Json => crate::report::templates::write_json(&mut out, tl, &t),
    };
    write_out(r.and_then(|_| out.flush()))?;
    Ok(if refused { 2 } else { 0 })
}

fn cmd_profile(a: &ProfileArgs) -> Result<i32, Fatal> {
    let loaded = a.input.load()?;
    let refused = report_problems(&loaded.problems);
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
            eprintln!(
                "diag: profile of {} templates from {} sources written to {}",
                p.entries.len(),
                p.sources,
                path.display()
            );
        }
        None => write_out(io::stdout().write_all(text.as_bytes()))?,
    }
    Ok(if refused { 2 } else { 0 })
}

fn cmd_diff(a: &DiffArgs) -> Result<i32, Fatal> {
    let side = |logs: &[String]| -> Result<(crate::profile::Profile, bool), Fatal> {
        let input = InputArgs {
            logs: logs.to_vec(),
            ..Default::default()
        };
        let loaded = input.load()?;
        let refused = report_problems(&loaded.problems);
        Ok((crate::profile::Profile::learn(&loaded.timeline), refused))
    };
    let (green, r1) = side(&a.green)?;
    let (red, r2) = side(&a.against)?;
    let rows = crate::profile::diff(&green, &red, a.factor, 5);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let r = match a.format {
        ListFormat::Text => crate::report::templates::write_diff_text(
            &mut out,
            &rows,
            Style::detect(io::stdout().is_terminal()),
        ),
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
            for r in load_rules(rules.as_deref())? {
                writeln!(
                    out,
                    "{:<24} {:<8} {:<8} {}  [{}]",
                    r.info.id,
                    r.info.severity,
                    r.kind.as_str(),
                    r.info.title,
                    r.origin
                )?;
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
                        Ok(n) => format!("{n} findings {:?}", r.titles),
                        Err(e) => format!("error: {e}"),
                    };
                    writeln!(
                        out,
                        "FAILED  {} / {} ({}): expected {} findings, got {got}",
                        r.rule, r.case, r.origin, r.expected
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
            for f in &reg.formats {
                writeln!(
                    out,
                    "{:<22} {:>5}  {}  [{}]",
                    f.name, f.priority, f.title, f.origin
                )?;
            }
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
                            "{}: {} (confidence {:.0}%, {} of {} lines look like it{})",
                            inp.display(),
                            d.format,
                            d.confidence * 100.0,
                            d.matched,
                            d.considered,
                            d.runner_up
                                .as_ref()
                                .map(|(n, c)| format!("; next best {n} with {c}"))
                                .unwrap_or_default()
                        )?;
                        let ps = &info.parse;
                        let events: usize = p.sources.iter().map(|(i, _)| i.events).sum();
                        writeln!(
                            out,
                            "  {} lines: {} events, {} continuation, {} meta, {} blank, {} unparsed",
                            info.read.lines, events, ps.continuation, ps.meta, ps.blank, ps.unparsed
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

/// `diag tui`: settle inputs, rules and options here (errors print before the screen changes), then
/// hand them to the TUI, which loads in the background.
fn cmd_tui(a: &TuiArgs) -> Result<i32, Fatal> {
    if a.input.logs.is_empty() {
        return Err(Fatal::Usage(
            "no LOGS given; pass files, directories, globs or - for stdin (try `diag tui samples/seed`)"
                .into(),
        ));
    }
    let job = crate::tui::loader::Job {
        registry: Registry::load(a.input.parsers.as_deref())?,
        inputs: source::expand(&a.input.logs)?,
        forced: a.input.input_format.clone(),
        options: a.input.options()?,
        rules: load_rules(a.rules.as_deref())?,
    };
    crate::tui::run(job).map_err(Fatal::Terminal)?;
    Ok(0)
}

/// Run the command line; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let r = match &cli.command {
        Some(Command::Check(a)) => cmd_check(a),
        Some(Command::Timeline(a)) => cmd_timeline(a),
        Some(Command::Tui(a)) => cmd_tui(a),
        // On a terminal the bare form is the TUI.
        None if io::stdout().is_terminal() => cmd_tui(&TuiArgs {
            input: cli.input.clone(),
            rules: None,
        }),
        Some(Command::Rules { cmd }) => cmd_rules(cmd),
        Some(Command::Templates(a)) => cmd_templates(a),
        Some(Command::Profile(a)) => cmd_profile(a),
        Some(Command::Diff(a)) => cmd_diff(a),
        Some(Command::Formats { cmd }) => cmd_formats(cmd),
        // Off a terminal (CI, pipes) the bare form is a check with the default threshold.
        None => cmd_check(&CheckArgs {
            input: cli.input.clone(),
            fail_on: FailOn::High,
            format: CheckFormat::Text,
            rules: None,
            disable: vec![],
            only: vec![],
            profile: vec![],
        }),
    };
    match r {
        Ok(c) => c,
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
