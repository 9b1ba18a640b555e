//! `diag timeline` output: a text story for people and NDJSON (one object per event) for machines.

use super::style::{sanitize, Style};
use crate::filter::Filter;
use crate::model::{Axis, Resolution, Timeline};
use crate::model::{CidRef, Event};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// How many continuation lines the text view shows under a record.
const CONT_LINES: usize = 4;

/// Time column of an event: `HH:MM:SS.mmm`, or the position on an order axis.
pub fn time_column(tl: &Timeline, ev: &Event) -> String {
    match (tl.axis, ev.ts) {
        (Axis::Time, Some(t)) => t.format("%H:%M:%S%.3f").to_string(),
        (Axis::Time, None) => {
            // Times of day without a date: show the time the line carried.
            match ev.raw_ts {
                Some(crate::model::RawTime::TimeOfDay(t)) => t.format("%H:%M:%S%.3f").to_string(),
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

/// Write the timeline as text.
pub fn write_text(
    out: &mut dyn Write,
    tl: &Timeline,
    filter: &Filter,
    style: Style,
) -> io::Result<()> {
    let width = tl
        .sources
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(6)
        .min(28);
    let mut last_date = None;
    let mut shown = 0usize;
    for ev in &tl.events {
        if !filter.matches(tl, ev) {
            continue;
        }
        shown += 1;
        if let Some(t) = ev.ts {
            let d = t.date_naive();
            if last_date != Some(d) {
                writeln!(out, "{}", style.dim(&format!("── {d} (UTC) ──")))?;
                last_date = Some(d);
            }
        }
        let label = tl
            .sources
            .get(ev.source)
            .map(|s| s.label.as_str())
            .unwrap_or("?");
        let lvl = ev
            .level
            .map(|l| l.as_str().to_ascii_uppercase())
            .unwrap_or_else(|| "-".into());
        let notes = cid_notes(tl, ev);
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  {}", style.dim(&format!("⟨{}⟩", notes.join(", "))))
        };
        writeln!(
            out,
            "{}{} {} {} {}{}",
            time_column(tl, ev),
            ev.ts_quality.mark(),
            style.source(ev.source, &format!("{label:<width$}")),
            style.level(ev.level, &format!("{lvl:<5}")),
            sanitize(&ev.message),
            notes
        )?;
        for (i, c) in ev.continuation.iter().enumerate() {
            if i == CONT_LINES {
                writeln!(
                    out,
                    "{}",
                    style.dim(&format!(
                        "{:>w$}│ … {} more lines",
                        "",
                        ev.continuation.len() - CONT_LINES,
                        w = 14
                    ))
                )?;
                break;
            }
            writeln!(
                out,
                "{}",
                style.dim(&format!("{:>w$}│ {}", "", sanitize(c), w = 14))
            )?;
        }
    }
    writeln!(out)?;
    write_source_summary(out, tl, style)?;
    if !filter.is_empty() {
        writeln!(
            out,
            "{} of {} events shown ({})",
            shown,
            tl.events.len(),
            filter.describe(tl)
        )?;
    }
    Ok(())
}

/// Per-source summary: format, events, unparsed lines, placement, clock offset.
pub fn write_source_summary(out: &mut dyn Write, tl: &Timeline, style: Style) -> io::Result<()> {
    writeln!(out, "{}", style.bold("Sources"))?;
    for (i, s) in tl.sources.iter().enumerate() {
        writeln!(
            out,
            "  {}  {} ({}{}), {} events, {} unparsed, {} meta lines",
            style.source(i, &s.label),
            s.path,
            s.detection.format,
            if s.detection.forced { ", forced" } else { "" },
            s.events,
            s.parse.unparsed,
            s.parse.meta,
        )?;
        let mut how = format!("    placed: {}", s.placement);
        if let Some(owner) = s.owners.first() {
            how = format!(
                "    tab of {}; placed: {}",
                tl.cids.describe(*owner),
                s.placement
            );
        }
        if let Some(o) = &s.offset {
            how.push_str(&format!(
                "; clock offset {:+.3} s vs {} (zone {:+} min, skew {:+.3} s, {} anchors, spread {:.3} s)",
                o.seconds, o.reference, o.zone_minutes, o.skew_seconds, o.anchors, o.spread_seconds
            ));
        }
        writeln!(out, "{}", style.dim(&how))?;
    }
    let named: Vec<String> = tl
        .cids
        .names
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(c, n)| format!("{}={c}", n.join("/")))
        .collect();
    if !named.is_empty() {
        writeln!(out, "  names: {}", named.join(", "))?;
    }
    Ok(())
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
    json!({
        "source": label,
        "line": ev.line,
        "end_line": ev.end_line,
        "ts": ev.ts.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        "ts_quality": ev.ts_quality.as_str(),
        "level": ev.level.map(|l| l.as_str()),
        "target": ev.target,
        "location": ev.location,
        "message": ev.message,
        "continuation": ev.continuation,
        "cids": cids,
        "cid_refs": refs,
        "uuids": ev.uuids,
        "msgid_prefixes": ev.msgid_prefixes,
        "users": ev.users,
        "fields": fields,
    })
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
