//! The `Event`: one log record of one source, as every stage after parsing sees it.
//!
//! Parsers produce events with the time the line itself carried (`RawTime`); `correlate` then fills in
//! the aligned position on the shared timeline (`ts`, `pos`, `ts_quality`).

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
pub use thin_vec::{thin_vec, ThinVec};

/// Severity of an event, as normalised from every format's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Finest tracing output.
    Trace,
    /// Debug output.
    Debug,
    /// Normal operation (console.log lands here).
    Info,
    /// Something odd.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    /// Parse a level word from any supported format (`INFO`, `warning`, `SEVERE`, `err`...).
    pub fn parse(word: &str) -> Option<Level> {
        let w = word.trim().to_ascii_lowercase();
        Some(match w.as_str() {
            "trace" | "verbose" => Level::Trace,
            "debug" | "log" | "dir" | "dirxml" | "table" | "count" | "timeend" => Level::Debug,
            "info" | "information" | "notice" => Level::Info,
            "warn" | "warning" | "assert" => Level::Warn,
            "error" | "err" | "severe" | "fatal" | "critical" | "exception" | "crit" => {
                Level::Error
            }
            _ => return None,
        })
    }

    /// Lower-case name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Time as written on the line, before dates, zones and clock offsets are settled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawTime {
    /// A full instant (RFC 3339 with zone, epoch numbers).
    Instant(DateTime<Utc>),
    /// Date and time without a zone (local time of the machine that wrote it).
    Local(NaiveDateTime),
    /// Month, day and time without a year (chrome_debug.log), local time. Month and day are bytes:
    /// this is the widest variant, and every event carries one.
    MonthDay(u8, u8, NaiveTime),
    /// Time of day only (DevTools, Firefox), local time.
    TimeOfDay(NaiveTime),
}

/// How an event's position on the timeline is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TsQuality {
    /// The line carried a full instant (collector or logger timestamp).
    Exact,
    /// The line carried a time of day; the date (and zone) came from elsewhere.
    TimeOfDay,
    /// Placed between anchors shared with other sources; no time of its own.
    Inferred,
    /// No time and no anchors: only its order within its own source is known.
    #[default]
    Order,
}

impl TsQuality {
    /// A number for packed lists and reports: 0 exact, 1 time of day, 2 inferred, 3 order.
    pub fn code(self) -> u8 {
        match self {
            TsQuality::Exact => 0,
            TsQuality::TimeOfDay => 1,
            TsQuality::Inferred => 2,
            TsQuality::Order => 3,
        }
    }

    /// The quality [`TsQuality::code`] gives this number (past 3: order).
    pub fn from_code(code: u8) -> TsQuality {
        match code {
            0 => TsQuality::Exact,
            1 => TsQuality::TimeOfDay,
            2 => TsQuality::Inferred,
            _ => TsQuality::Order,
        }
    }

    /// Name used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            TsQuality::Exact => "exact",
            TsQuality::TimeOfDay => "time-of-day",
            TsQuality::Inferred => "inferred",
            TsQuality::Order => "order",
        }
    }
    /// One-character mark for dense views.
    pub fn mark(self) -> char {
        match self {
            TsQuality::Exact => ' ',
            TsQuality::TimeOfDay => '·',
            TsQuality::Inferred => '~',
            TsQuality::Order => '?',
        }
    }
}

/// A reference to a client id as the line wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CidRef {
    /// The full u64.
    Full(u64),
    /// A truncated decimal prefix (`21402289...`).
    Prefix(String),
    /// The CID was lost on the way (`undefined` where a CID belongs).
    Lost,
}

/// Index of a source in `Timeline::sources`.
pub type SourceId = usize;

/// One log record. Its lists are `ThinVec`s (one pointer each, no allocation when empty, as most
/// are): events are most of a run's memory, and seven `Vec`s were two thirds of each one's size.
#[derive(Debug, Clone, Default)]
pub struct Event {
    /// Which source it came from.
    pub source: SourceId,
    /// First physical line (1-based) of the record in its source.
    pub line: u64,
    /// Last physical line of the record (same as `line` for one-line records).
    pub end_line: u64,
    /// Time the line carried.
    pub raw_ts: Option<RawTime>,
    /// Aligned time on the shared timeline (set by correlate).
    pub ts: Option<DateTime<Utc>>,
    /// How the position is known (set by correlate).
    pub ts_quality: TsQuality,
    /// Position on the shared axis (set by correlate): ns since epoch, or the reference source's line number.
    pub pos: f64,
    /// Normalised level, when the format says or implies one.
    pub level: Option<Level>,
    /// Logger target (`citadel`, a module path, a console anchor); shared between the events of a
    /// source that name the same one (a handful of distinct values over millions of lines).
    pub target: Option<Arc<str>>,
    /// Code location (`file.rs:123`, `app.js:12`); shared like `target`.
    pub location: Option<Arc<str>>,
    /// The message: first line of the record's text.
    pub message: String,
    /// Further lines of the record (panic payloads, stack frames), without collector prefixes.
    pub continuation: ThinVec<String>,
    /// Extracted `key=value` fields and format-specific captures.
    pub fields: ThinVec<(Arc<str>, String)>,
    /// Client ids mentioned.
    pub cids: ThinVec<CidRef>,
    /// UUIDs mentioned (request, connection, message ids).
    pub uuids: ThinVec<String>,
    /// 8-hex message id prefixes (`messageId: 97d21b6a`).
    pub msgid_prefixes: ThinVec<String>,
    /// Usernames mentioned (`for user U`).
    pub users: ThinVec<Arc<str>>,
    /// Names the record binds to CIDs (`Session N for user U`, `alice (CID: N)`).
    pub names: ThinVec<(Arc<str>, u64)>,
}

impl Event {
    /// The whole text of the record: message plus continuation lines.
    pub fn full_text(&self) -> String {
        if self.continuation.is_empty() {
            return self.message.clone();
        }
        let mut s = self.message.clone();
        for c in &self.continuation {
            s.push('\n');
            s.push_str(c);
        }
        s
    }

    /// A field's value by name.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| **k == *name)
            .map(|(_, v)| v.as_str())
    }

    /// Full CIDs mentioned, in order of appearance.
    pub fn full_cids(&self) -> impl Iterator<Item = u64> + '_ {
        self.cids.iter().filter_map(|c| match c {
            CidRef::Full(v) => Some(*v),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::TsQuality;

    #[test]
    fn a_quality_comes_back_from_its_code() {
        for q in [
            TsQuality::Exact,
            TsQuality::TimeOfDay,
            TsQuality::Inferred,
            TsQuality::Order,
        ] {
            assert_eq!(TsQuality::from_code(q.code()), q);
        }
        assert_eq!(TsQuality::from_code(200), TsQuality::Order);
    }

    /// Events are most of a run's memory (millions of them): keep the record itself small.
    #[test]
    fn an_event_stays_small() {
        let n = std::mem::size_of::<super::Event>();
        // 296 bytes with seven `Vec`s; 184 with `ThinVec`s; 176 with a 16-byte `RawTime` (month
        // and day as bytes).
        assert!(n <= 176, "Event grew to {n} bytes");
    }
}
