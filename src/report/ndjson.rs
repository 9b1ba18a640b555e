//! `diag timeline --format ndjson`: one JSON object per event, CIDs as strings.

use super::TimelineWriter;
use crate::filter::Filter;
use crate::model::{CidRef, Event, RawTime, Timeline};
use serde_json::{json, Map, Value};
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

/// One event as a JSON object (the NDJSON line).
pub fn event_json(tl: &Timeline, ev: &Event) -> Value {
    let label = tl
        .sources
        .get(ev.source)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    let mut cids: Vec<String> = Vec::new();
    let mut refs: Vec<Value> = Vec::new();
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
        refs.push(json!({
            "text": raw,
            "cid": full.map(|f| f.to_string()),
            "name": full.and_then(|f| tl.cids.name(f)),
        }));
    }
    let mut fields = Map::new();
    for (k, v) in &ev.fields {
        fields.insert(k.clone(), Value::String(v.clone()));
    }
    let (time_of_day, ts_note) = local_time(ev);
    json!({
        "source": label,
        "line": ev.line,
        "end_line": ev.end_line,
        "ts": ev.ts.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        "time_of_day": time_of_day,
        "ts_note": ts_note,
        "ts_quality": ev.ts_quality.as_str(),
        "level": ev.level.map(|l| l.as_str()),
        "target": ev.target,
        "location": ev.location,
        "message": ev.message,
        "template": crate::templates::id_of_event(ev),
        "continuation": ev.continuation,
        "cids": cids,
        "cid_refs": refs,
        "uuids": ev.uuids,
        "msgid_prefixes": ev.msgid_prefixes,
        "users": ev.users,
        "fields": fields,
    })
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
        if !filter.matches(tl, ev) {
            continue;
        }
        serde_json::to_writer(&mut *out, &event_json(tl, ev))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
