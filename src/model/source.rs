//! Sources as the timeline knows them: where each came from, what reading and parsing made of its lines,
//! which format it is in, and how it was placed (clock offset). Data only.

use chrono::NaiveDate;
use serde::Serialize;

/// Per-input counts of what reading had to mend.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadStats {
    /// Physical lines read.
    pub lines: u64,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines that held invalid UTF-8 (read lossily).
    pub invalid_utf8: u64,
    /// Lines longer than `MAX_LINE`, cut.
    pub truncated: u64,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// A read error that ended the input early (a truncated gz), if any.
    pub error: Option<String>,
}

/// Counts of what became of every line of one source.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ParseStats {
    /// Records made.
    pub events: u64,
    /// Lines attached to a record after its first.
    pub continuation: u64,
    /// Meta lines (headers, test-harness lines) skipped on purpose.
    pub meta: u64,
    /// Blank lines between records.
    pub blank: u64,
    /// Lines that fit nothing.
    pub unparsed: u64,
    /// Continuation lines not kept because a record passed `MAX_CONTINUATION` lines (still counted).
    pub dropped_continuation: u64,
    /// Events not kept because the stream passed `MAX_EVENTS` (dropped from the middle; still counted).
    pub dropped_events: u64,
    /// Times outside 1990..2100 (an unset clock's 1970, a `9999` sentinel): dropped, the event placed
    /// by order instead.
    pub implausible_times: u64,
    /// Records whose time is more than a second before the previous record's (kept; order is the file's).
    pub time_backwards: u64,
    /// The first unparsed lines: (line number, text).
    #[serde(skip)]
    pub unparsed_samples: Vec<(u64, String)>,
}

/// Which format a source is in, and how sure.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    /// Chosen format.
    pub format: String,
    /// Lines that carried the chosen format's signature.
    pub matched: usize,
    /// Non-blank lines looked at.
    pub considered: usize,
    /// matched / considered.
    pub confidence: f64,
    /// The next best format and its count.
    pub runner_up: Option<(String, usize)>,
    /// Whether the format was forced with `--format`.
    pub forced: bool,
}

/// A source's clock relative to the reference source, estimated from shared anchors.
#[derive(Debug, Clone, Serialize)]
pub struct ClockOffset {
    /// Label of the reference source.
    pub reference: String,
    /// Seconds to add to this source's times to get the reference clock.
    pub seconds: f64,
    /// Part of the offset that is a time-zone difference (whole quarter hours), in minutes.
    pub zone_minutes: i64,
    /// The rest: clock skew and latency, seconds.
    pub skew_seconds: f64,
    /// Anchor pairs the estimate rests on.
    pub anchors: usize,
    /// Spread (max - min) of the pairs' differences, seconds.
    pub spread_seconds: f64,
}

/// One source after parsing: where it came from and what became of its lines.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// Label shown on every event.
    pub label: String,
    /// Path (or `<stdin>`).
    pub path: String,
    /// Compose service, when the log interleaved several.
    pub container: Option<String>,
    /// Format and how sure.
    pub detection: Detection,
    /// Reading counts.
    #[serde(skip)]
    pub read: ReadStats,
    /// Parsing counts.
    pub parse: ParseStats,
    /// Events kept.
    pub events: usize,
    /// How the source was placed on the timeline.
    pub placement: String,
    /// Clock offset, when estimated.
    pub offset: Option<ClockOffset>,
    /// CIDs whose own client wrote this source (a tab's user), most evident first.
    pub owners: Vec<u64>,
    /// Date the file's name gives (DevTools Save-as, Firefox export), for sources with times of day only.
    #[serde(skip)]
    pub file_date: Option<NaiveDate>,
    /// What its format says the source is (a service log sets the reference clock and owns no CIDs).
    #[serde(skip)]
    pub role: Role,
}

/// What kind of program writes a format's logs, as its definition says (`role = "service"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// A server that many clients talk to: its clock is the preferred reference, and its log serves
    /// many CIDs while owning none.
    Service,
    /// Anything else (a browser tab, a client, an unknown log).
    #[default]
    Other,
}
