//! Columns shared by the text views (timeline, check, TUI): the time column and CID notes of an event.

use crate::model::{Axis, CidRef, Event, RawTime, Resolution, Timeline};

/// The label of an event's source; `?` for a source the timeline does not have.
pub fn source_label<'a>(tl: &'a Timeline, ev: &Event) -> &'a str {
    tl.sources
        .get(ev.source)
        .map(|s| s.label.as_str())
        .unwrap_or("?")
}

/// An event's level in capitals (`ERROR`), or `none` when it has no level.
pub fn level_caps(ev: &Event, none: &str) -> String {
    ev.level
        .map(|l| l.as_str().to_ascii_uppercase())
        .unwrap_or_else(|| none.to_string())
}

/// Time column of an event: `HH:MM:SS.mmm`, or the position on an order axis.
pub fn time_column(tl: &Timeline, ev: &Event) -> String {
    match (tl.axis, ev.ts) {
        (Axis::Time, Some(t)) => t.format("%H:%M:%S%.3f").to_string(),
        (Axis::Time, None) => {
            // Times of day without a date: show the time the line carried.
            match ev.raw_ts {
                Some(RawTime::TimeOfDay(t)) => t.format("%H:%M:%S%.3f").to_string(),
                _ => "--:--:--.---".to_string(),
            }
        }
        (Axis::Order, _) => format!("#{:<11}", (ev.pos.max(0.0)) as u64),
    }
}

/// `prefix... = name (full)` notes for the truncated CIDs of an event, and names of its full CIDs.
pub fn cid_notes(tl: &Timeline, ev: &Event) -> Vec<String> {
    let mut out = Vec::new();
    for c in &ev.cids {
        match c {
            CidRef::Prefix(p) => match tl.cids.prefixes.get(p) {
                Some(Resolution::Unique(full)) => {
                    out.push(format!("{p}…={}", tl.cids.describe(*full)))
                }
                Some(Resolution::Ambiguous(v)) => {
                    out.push(format!("{p}…=ambiguous({} CIDs)", v.len()))
                }
                _ => out.push(format!("{p}…=unknown")),
            },
            CidRef::Full(v) => {
                if let Some(n) = tl.cids.name(*v) {
                    if !ev.message.contains(n) {
                        out.push(format!("{v}={n}"));
                    }
                }
            }
            CidRef::Lost => out.push("CID lost (undefined)".to_string()),
        }
    }
    out
}
