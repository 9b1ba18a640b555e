//! `diag timeline --format ndjson`: one JSON object per event, CIDs as strings.

use super::TimelineWriter;
use crate::filter::Filter;
use crate::model::{CidRef, Event, RawTime, Timeline};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The NDJSON timeline writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ndjson;

impl TimelineWriter for Ndjson {
    fn write_timeline(
        &self,
        out: &mut dyn Write,
        tl: &Timeline,
        filter: &Filter,
    ) -> io::Result<()> {
        write_ndjson(out, tl, filter)
    }
}

/// One CID mention of an event line.
#[derive(Serialize)]
struct CidMention<'a> {
    cid: Option<String>,
    name: Option<&'a str>,
    text: String,
}

/// One NDJSON line, borrowing from the event: no copy of its text per line written. Fields are in
/// the (sorted) key order the format has always had.
#[derive(Serialize)]
struct EventLine<'a> {
    cid_refs: Vec<CidMention<'a>>,
    cids: Vec<String>,
    continuation: &'a [String],
    end_line: u64,
    fields: BTreeMap<&'a str, &'a str>,
    level: Option<&'static str>,
    line: u64,
    location: Option<&'a str>,
    message: &'a str,
    msgid_prefixes: &'a [String],
    source: &'a str,
    target: Option<&'a str>,
    template: String,
    time_of_day: Option<String>,
    ts: Option<String>,
    ts_note: Option<&'static str>,
    ts_quality: &'static str,
    users: &'a [std::sync::Arc<str>],
    uuids: &'a [String],
}

fn event_line<'a>(tl: &'a Timeline, ev: &'a Event) -> EventLine<'a> {
    let mut cids: Vec<String> = Vec::new();
    let mut refs: Vec<CidMention<'a>> = Vec::new();
    for c in &ev.cids {
        let (raw, full) = match c {
            CidRef::Full(v) => (v.to_string(), Some(*v)),
            CidRef::Prefix(p) => (format!("{p}..."), tl.cids.resolve(c)),
            CidRef::Lost => ("undefined".to_string(), None),
        };
        if let Some(f) = full {
            let s = f.to_string();
            if !cids.contains(&s) {
                cids.push(s);
            }
        }
        refs.push(CidMention {
            text: raw,
            cid: full.map(|f| f.to_string()),
            name: full.and_then(|f| tl.cids.name(f)),
        });
    }
    // A key given twice keeps its last value, as a JSON object built key by key does.
    let fields: BTreeMap<&str, &str> = ev.fields.iter().map(|(k, v)| (&**k, v.as_str())).collect();
    let (time_of_day, ts_note) = local_time(ev);
    EventLine {
        source: tl
            .sources
            .get(ev.source)
            .map(|s| s.label.as_str())
            .unwrap_or_default(),
        line: ev.line,
        end_line: ev.end_line,
        ts: ev
            .ts
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        time_of_day,
        ts_note,
        ts_quality: ev.ts_quality.as_str(),
        level: ev.level.map(|l| l.as_str()),
        target: ev.target.as_deref(),
        location: ev.location.as_deref(),
        message: &ev.message,
        template: crate::templates::id_of_event(ev),
        continuation: &ev.continuation,
        cids,
        cid_refs: refs,
        msgid_prefixes: &ev.msgid_prefixes,
        uuids: &ev.uuids,
        users: &ev.users,
        fields,
    }
}

/// One event as a JSON object (the NDJSON line).
pub fn event_json(tl: &Timeline, ev: &Event) -> Value {
    serde_json::to_value(event_line(tl, ev)).unwrap_or(Value::Null)
}

/// The time of day the line itself wrote (local time, as written), for lines that carry no full
/// instant; and, when `ts` is null, why.
fn local_time(ev: &Event) -> (Option<String>, Option<&'static str>) {
    let tod = match ev.raw_ts {
        Some(RawTime::TimeOfDay(t)) | Some(RawTime::MonthDay(_, _, t)) => {
            Some(t.format("%H:%M:%S%.f").to_string())
        }
        Some(RawTime::Local(dt)) => Some(dt.time().format("%H:%M:%S%.f").to_string()),
        _ => None,
    };
    let note = match (ev.ts, &tod) {
        (Some(_), _) => None,
        (None, Some(_)) => Some(
            "the source writes only a time of day and nothing gave its date (no anchor shared with a dated \
             source, no date in its file name): pass --date YYYY-MM-DD; time_of_day is the time as written",
        ),
        (None, None) => Some(
            "the line carries no time and no anchor placed it; only its order in its source is known",
        ),
    };
    (tod, note)
}

/// Write the timeline as NDJSON.
pub fn write_ndjson(out: &mut dyn Write, tl: &Timeline, filter: &Filter) -> io::Result<()> {
    for ev in &tl.events {
        if filter.matches(tl, ev) {
            write_event(out, tl, ev)?;
        }
    }
    Ok(())
}

/// Write one event of `tl` as an NDJSON line.
pub fn write_event(out: &mut dyn Write, tl: &Timeline, ev: &Event) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &event_line(tl, ev))?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_keeps_sorted_keys_and_the_last_value_of_a_repeated_field() {
        let log = "2025-01-01T00:00:00Z INFO svc: client 123456789012345678 joined\n";
        let mut tl = crate::pipeline::timeline_of(&[("svc", log)]).expect("timeline");
        if let Some(ev) = tl.events.first_mut() {
            ev.fields = crate::model::thin_vec![
                ("a".into(), "1".into()),
                ("b".into(), "3".into()),
                ("a".into(), "2".into())
            ];
        }
        let ev = tl.events.first().expect("an event");
        let mut out = Vec::new();
        write_ndjson(&mut out, &tl, &Filter::default()).expect("written");
        let line = String::from_utf8(out).expect("utf-8");
        let v: Value = serde_json::from_str(line.trim_end()).expect("json");
        assert_eq!(v["fields"]["a"], "2", "{line}");
        assert_eq!(v["cids"][0], "123456789012345678");
        // Same as the object built by `event_json`, and its keys in sorted order.
        assert_eq!(v, event_json(&tl, ev));
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        let pos = |k: &str| line.find(&format!("\"{k}\":")).expect(k);
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(pos("cid_refs") < pos("message") && pos("message") < pos("uuids"));
    }
}
