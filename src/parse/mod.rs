//! Parse: cut one source's lines into records with its format definition, and make events of them.
//!
//! Per line: strip ANSI, strip collector prefixes (keeping their timestamp and container), skip meta
//! lines, then start, continue or end a record as the format's mode says. Records become `Event`s with
//! the shared entity extractors. Every line is accounted for: an event's first line, a continuation, a
//! meta line, a blank line, or an unparsed line (counted, first few kept for `formats detect`).
//!
//! Submodules, in the order a line meets them: [`ansi`], [`prefix`] (collectors), [`record`] (records
//! from lines, with [`time`] and [`json`]), and beside them [`detect`] and [`samples`].

pub mod ahead;
pub mod ansi;
pub mod detect;
pub mod json;
pub mod prefix;
pub mod record;
pub mod samples;
pub mod time;
pub mod unescape;

pub use ansi::strip_ansi;
pub use detect::{detect, DETECT_LINES};
pub use json::{json_matches, json_path};
pub use prefix::{strip_collectors, Prefix};
pub use record::{SourceParser, MAX_CONTINUATION, MAX_EVENTS};
pub use samples::parse_sample;
pub use time::parse_time;

use crate::defs::Registry;
use crate::model::{Event, Level, ParseStats};

/// Convenience for tests and small inputs: parse a whole text in a named format.
pub fn parse_text(reg: &Registry, format: &str, text: &str) -> Option<(Vec<Event>, ParseStats)> {
    let fmt = reg.format(format)?;
    let mut p = SourceParser::new(fmt, reg);
    for (i, l) in text.lines().enumerate() {
        p.push(i as u64 + 1, l);
    }
    let stats = p.stats.clone();
    Some((p.finish().into_iter().flat_map(|(_, v)| v).collect(), stats))
}

/// Level of an event for filters (`None` counts as info).
pub fn level_or_info(ev: &Event) -> Level {
    ev.level.unwrap_or(Level::Info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawTime;
    use serde_json::Value;

    #[test]
    fn a_runaway_record_keeps_bounded_lines_and_its_last_line() {
        let reg = Registry::load(None).unwrap();
        let mut text = String::from("ERROR citadel: a.rs:1: start of a huge dump\n");
        for i in 0..(MAX_CONTINUATION + 500) {
            text.push_str(&format!("    frame {i}\n"));
        }
        text.push_str(" INFO citadel: a.rs:2: next\n");
        let (evs, st) = parse_text(&reg, "citadel-tracing", &text).unwrap();
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].continuation.len(), MAX_CONTINUATION);
        assert_eq!(
            evs[0].continuation.last().unwrap(),
            &format!("    frame {}", MAX_CONTINUATION + 499)
        );
        assert_eq!(st.dropped_continuation, 500);
        assert_eq!(st.continuation, (MAX_CONTINUATION + 500) as u64);
    }

    #[test]
    fn ansi_is_stripped() {
        let s = "\x1b[32m INFO\x1b[0m \x1b[2mcitadel\x1b[0m\x1b[2m:\x1b[0m hi \x1b]0;title\x07x";
        assert_eq!(strip_ansi(s), " INFO citadel: hi x");
    }

    #[test]
    fn times() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(
            parse_time(&f(&["rfc3339"]), "2026-02-21T02:54:38.8089978Z"),
            Some(RawTime::Instant(_))
        ));
        assert!(matches!(
            parse_time(&f(&["epoch_ms"]), "1.6225670530905408e+12"),
            Some(RawTime::Instant(_))
        ));
        assert!(matches!(
            parse_time(&f(&["time_of_day"]), "21:44:04.768"),
            Some(RawTime::TimeOfDay(_))
        ));
        assert!(matches!(
            parse_time(&f(&["chrome_debug"]), "1017/153703.620972"),
            Some(RawTime::MonthDay(10, 17, _))
        ));
        assert_eq!(parse_time(&f(&["chrome_debug"]), "9999/999999"), None);
    }

    #[test]
    fn json_paths() {
        let v: Value = serde_json::from_str(
            r#"{"params":{"args":[{"type":"string","value":"a"},{"type":"object","description":"Object"}],"timestamp":1.5e12}}"#,
        )
        .unwrap();
        assert_eq!(
            json_path(&v, "params.args[].value|description").unwrap(),
            "a Object"
        );
        assert_eq!(
            json_path(&v, "params.timestamp").unwrap(),
            "1500000000000.0"
        );
        assert!(json_path(&v, "params.nope").is_none());
        let v: Value = serde_json::from_str(
            r#"{"args":[{"value":"a"},{"preview":{"properties":[{"value":"1n"},{"value":"x"}]},"description":"Object"},{"description":"Object"}]}"#,
        )
        .unwrap();
        assert_eq!(
            json_path(&v, "args[].value|preview.properties[].value|description").unwrap(),
            "a 1n x Object"
        );
    }
}
