//! The `:` command line: lnav's commands that make sense here (`filter-in`, `filter-out`, `goto`,
//! `set-min-log-level`, `hide-file`, `q`, …) read into [`Command`]s. One table ([`COMMANDS`]) drives
//! parsing, the help screen and the "did you mean" of an unknown name.
// Indexing cannot panic here: the command table is built in code and every entry has a name.
#![allow(clippy::indexing_slicing)]

use super::query;
use crate::model::Level;
use chrono::NaiveTime;
use regex::Regex;

/// A command as typed, checked but not yet applied.
#[derive(Debug, Clone)]
pub enum Command {
    /// Keep lines matching this (lnav: any `filter-in` keeps a line).
    FilterIn(Regex),
    /// Hide lines matching this.
    FilterOut(Regex),
    /// Drop the `filter-in` or `filter-out` with this pattern (as typed).
    DeleteFilter(String),
    /// Drop every filter.
    ClearFilters,
    /// A filter line as `f` reads it.
    Filter(String),
    /// Hide lines below this level.
    MinLevel(Level),
    /// Hide the sources whose label contains this.
    HideFile(String),
    /// Show again a source hidden by `hide-file` (none named: all of them).
    ShowFile(Option<String>),
    /// Colour what matches in every row.
    Highlight(Regex),
    /// Drop one highlight (as typed) or all of them.
    ClearHighlight(Option<String>),
    /// Move the cursor.
    Goto(Target),
    /// Hide lines before (or after) a time of day.
    HideLines {
        /// `hide-lines-before` rather than `hide-lines-after`.
        before: bool,
        /// The time of day.
        at: NaiveTime,
    },
    /// Drop both time limits.
    ShowAllLines,
    /// Write the rows shown to a file (`append`: after what it holds).
    WriteTo {
        /// Where.
        path: String,
        /// `:append-to` rather than `:write-to`.
        append: bool,
    },
    /// Open the help screen.
    Help,
    /// Quit.
    Quit,
}

/// Where `goto` goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A row of the timeline, counted from 1 as its title counts.
    Row(usize),
    /// A share of the timeline, 0 to 100.
    Percent(f64),
    /// The first row at or after this time of day.
    Time(NaiveTime),
    /// A line of a source (label contains the name).
    Line(String, u64),
    /// A finding or incident by id (`F3`, `I1`).
    Finding(String),
}

/// One command of the table.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Its name, then other names it answers to.
    pub names: &'static [&'static str],
    /// What follows the name.
    pub args: &'static str,
    /// One line for the help screen.
    pub help: &'static str,
}

const fn c(names: &'static [&'static str], args: &'static str, help: &'static str) -> Spec {
    Spec { names, args, help }
}

/// Every command, in the order the help screen lists them.
#[rustfmt::skip]
pub const COMMANDS: &[Spec] = &[
    c(&["filter-in"], "REGEX", "show only lines that match (several filter-in: any of them)"),
    c(&["filter-out"], "REGEX", "hide lines that match"),
    c(&["delete-filter"], "REGEX", "drop the filter-in or filter-out with this pattern"),
    c(&["clear-filter", "clear-filters", "reset-filters"], "", "drop all filters (as x)"),
    c(&["filter"], "TERMS", "apply a filter line as f does: cid:bob -source:tab1 level:warn"),
    c(&["set-min-log-level"], "LEVEL", "hide lines below error, warn, info, debug or trace"),
    c(&["hide-file"], "NAME", "hide the sources whose label contains NAME"),
    c(&["show-file"], "[NAME]", "show hidden sources again (all when no NAME)"),
    c(&["highlight"], "REGEX", "colour what matches in every row (the search keeps its own colour)"),
    c(&["clear-highlight"], "[REGEX]", "drop a highlight (all when no REGEX)"),
    c(&["hide-lines-before"], "HH:MM[:SS]", "hide lines before a time of day"),
    c(&["hide-lines-after"], "HH:MM[:SS]", "hide lines after a time of day"),
    c(&["show-lines-before-and-after"], "", "drop both time limits"),
    c(&["goto"], "ROW|N%|TIME|SOURCE:LINE|F3", "jump to a row, share, time of day, line or finding"),
    c(&["write-to"], "FILE", "write the marked rows (else all shown) to FILE, replacing it"),
    c(&["append-to"], "FILE", "append the marked rows (else all shown) to FILE"),
    c(&["help"], "", "this help"),
    c(&["quit", "q", "q!", "quit!", "exit"], "", "quit"),
];

/// The spec of a command name.
pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|s| s.names.contains(&name))
}

fn all_names() -> impl Iterator<Item = &'static str> {
    COMMANDS.iter().flat_map(|s| s.names.iter().copied())
}

/// What the command line shows while typing: the usage of the command typed, or those it begins.
pub fn hint(text: &str) -> String {
    let name = text.split_whitespace().next().unwrap_or("");
    if name.is_empty() {
        return "a command: filter-in, filter-out, goto, clear-filter, q … (Tab completes, :help lists them)".into();
    }
    if let Some(s) = spec(name) {
        return if s.args.is_empty() {
            format!("{} — {}", s.names[0], s.help)
        } else {
            format!("{} {} — {}", s.names[0], s.args, s.help)
        };
    }
    let close: Vec<&str> = COMMANDS
        .iter()
        .map(|s| s.names[0])
        .filter(|n| n.starts_with(name))
        .collect();
    match close.as_slice() {
        [] => unknown(name),
        [one] => hint(one),
        many => many.join(" · "),
    }
}

/// Tab on the command line: complete the command's name.
pub fn complete(text: &str) -> Option<String> {
    if text.contains(char::is_whitespace) {
        return None;
    }
    let names: Vec<&str> = COMMANDS.iter().map(|s| s.names[0]).collect();
    query::complete_word(text, &names, " ")
}

fn unknown(name: &str) -> String {
    format!(
        "unknown command :{name}{}",
        query::did_you_mean(&query::nearest(name, all_names()), ":")
    )
}

fn time_of_day(v: &str) -> Option<NaiveTime> {
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(v, f).ok())
}

fn target(v: &str) -> Result<Target, String> {
    if let Ok(n) = v.parse::<usize>() {
        return Ok(Target::Row(n));
    }
    if let Some(p) = v.strip_suffix('%') {
        return match p.parse::<f64>() {
            Ok(p) if (0.0..=100.0).contains(&p) => Ok(Target::Percent(p)),
            _ => Err(format!("{v:?} is not a share; use 0% to 100%")),
        };
    }
    if let Some(t) = time_of_day(v) {
        return Ok(Target::Time(t));
    }
    if let Some((name, line)) = v.rsplit_once(':') {
        if let Ok(l) = line.parse::<u64>() {
            if !name.is_empty() {
                return Ok(Target::Line(name.to_string(), l));
            }
        }
    }
    let id = v.to_ascii_uppercase();
    if id.len() > 1
        && (id.starts_with('F') || id.starts_with('I'))
        && id[1..].chars().all(|c| c.is_ascii_digit())
    {
        return Ok(Target::Finding(id));
    }
    Err(format!(
        "cannot go to {v:?}; use a row (120), a share (50%), a time (12:34:56), a source line \
         (bob-tab1:40) or a finding (F3)"
    ))
}

/// Read a command line (without its `:`).
pub fn parse(text: &str) -> Result<Command, String> {
    let text = text.trim();
    let (name, rest) = match text.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (text, ""),
    };
    let Some(s) = spec(name) else {
        return Err(if name.is_empty() {
            "type a command, e.g. filter-out ping".into()
        } else {
            unknown(name)
        });
    };
    let needs = |what: &str| -> Result<(), String> {
        if rest.is_empty() {
            Err(format!(
                "{} needs {what}: :{} {}",
                s.names[0], s.names[0], s.args
            ))
        } else {
            Ok(())
        }
    };
    let no_args = || -> Result<(), String> {
        if rest.is_empty() {
            Ok(())
        } else {
            Err(format!("{} takes nothing after it", s.names[0]))
        }
    };
    Ok(match s.names[0] {
        "filter-in" => {
            needs("a pattern")?;
            Command::FilterIn(query::pattern(rest)?)
        }
        "filter-out" => {
            needs("a pattern")?;
            Command::FilterOut(query::pattern(rest)?)
        }
        "delete-filter" => {
            needs("the pattern of a filter")?;
            Command::DeleteFilter(rest.to_string())
        }
        "clear-filter" => {
            no_args()?;
            Command::ClearFilters
        }
        "filter" => Command::Filter(rest.to_string()),
        "set-min-log-level" => {
            needs("a level")?;
            Command::MinLevel(query::level_word(rest).ok_or_else(|| {
                format!("{rest:?} is not a level; use error, warn, info, debug or trace")
            })?)
        }
        "hide-file" => {
            needs("a source name")?;
            Command::HideFile(rest.to_string())
        }
        "show-file" => Command::ShowFile((!rest.is_empty()).then(|| rest.to_string())),
        "highlight" => {
            needs("a pattern")?;
            Command::Highlight(query::pattern(rest)?)
        }
        "clear-highlight" => Command::ClearHighlight((!rest.is_empty()).then(|| rest.to_string())),
        "hide-lines-before" | "hide-lines-after" => {
            needs("a time of day")?;
            Command::HideLines {
                before: s.names[0] == "hide-lines-before",
                at: time_of_day(rest).ok_or_else(|| {
                    format!("{rest:?} is not a time of day; use HH:MM or HH:MM:SS")
                })?,
            }
        }
        "show-lines-before-and-after" => {
            no_args()?;
            Command::ShowAllLines
        }
        "goto" => {
            needs("where to go")?;
            Command::Goto(target(rest)?)
        }
        "write-to" | "append-to" => {
            needs("a file")?;
            Command::WriteTo {
                path: rest.to_string(),
                append: s.names[0] == "append-to",
            }
        }
        "help" => {
            no_args()?;
            Command::Help
        }
        _ => {
            no_args()?;
            Command::Quit
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_read_their_arguments() {
        assert!(
            matches!(parse("filter-in panic"), Ok(Command::FilterIn(r)) if r.is_match("PANIC"))
        );
        assert!(
            matches!(parse("filter-out  Ping "), Ok(Command::FilterOut(r)) if r.as_str() == "Ping")
        );
        assert!(matches!(parse("q"), Ok(Command::Quit)));
        assert!(matches!(parse("clear-filters"), Ok(Command::ClearFilters)));
        assert!(matches!(
            parse("set-min-log-level warn"),
            Ok(Command::MinLevel(Level::Warn))
        ));
        assert!(matches!(
            parse("goto 12"),
            Ok(Command::Goto(Target::Row(12)))
        ));
        assert!(matches!(parse("goto 50%"), Ok(Command::Goto(Target::Percent(p))) if p == 50.0));
        assert!(matches!(
            parse("goto 12:30"),
            Ok(Command::Goto(Target::Time(_)))
        ));
        assert!(
            matches!(parse("goto bob-tab1:40"), Ok(Command::Goto(Target::Line(n, 40))) if n == "bob-tab1")
        );
        assert!(matches!(parse("goto f3"), Ok(Command::Goto(Target::Finding(f))) if f == "F3"));
    }

    #[test]
    fn mistakes_say_what_to_type() {
        let e = parse("filter-ot x").unwrap_err();
        assert!(e.contains("did you mean :filter-out?"), "{e}");
        assert!(parse("filter-in").unwrap_err().contains(":filter-in REGEX"));
        assert!(parse("filter-in (").is_err());
        assert!(parse("goto 200%").is_err());
        assert!(parse("goto nowhere").unwrap_err().contains("a share (50%)"));
        assert!(parse("q now").unwrap_err().contains("takes nothing"));
        assert_eq!(hint("filt"), "filter-in · filter-out · filter");
        assert!(hint("goto").starts_with("goto ROW|N%"));
        assert_eq!(hint("go"), hint("goto"), "one command begins so: its usage");
        assert!(hint("zzz").contains("unknown command :zzz"));
    }
}
