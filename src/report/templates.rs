//! `diag templates` and `diag diff`: the kinds of lines in a run, and how a red run differs from green ones.
// Indexing cannot panic here: template ids index the list they were assigned from.
#![allow(clippy::indexing_slicing)]

use crate::model::Timeline;
use crate::profile::{Change, DiffRow};
use crate::report::style::Style;
use crate::templates::{id_of, Templates};
use serde_json::json;
use std::io::{self, Write};

fn position(tl: &Timeline, event: usize) -> String {
    let Some(ev) = tl.events.get(event) else {
        return String::new();
    };
    let label = tl
        .sources
        .get(ev.source)
        .map(|s| s.label.as_str())
        .unwrap_or("");
    format!(
        "{} {label}:{}",
        crate::report::fields::time_column(tl, ev).trim_end(),
        ev.line
    )
}

fn sources(tl: &Timeline, per: &[(usize, usize)]) -> Vec<String> {
    per.iter()
        .map(|(s, n)| {
            let label = tl.sources.get(*s).map(|x| x.label.as_str()).unwrap_or("");
            format!("{label} ({n})")
        })
        .collect()
}

/// Templates, most frequent first within each level (errors first).
fn ordered(t: &Templates) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..t.list.len()).collect();
    idx.sort_by(|&a, &b| {
        let (x, y) = (&t.list[a], &t.list[b]);
        y.level
            .cmp(&x.level)
            .then(y.count.cmp(&x.count))
            .then(x.first.cmp(&y.first))
    });
    idx
}

/// Templates as text: id, level, count, call site, text; then first and last position, sources and an example.
pub fn write_text(
    out: &mut dyn Write,
    tl: &Timeline,
    t: &Templates,
    min_level: Option<crate::model::Level>,
    style: Style,
) -> io::Result<()> {
    let shown: Vec<usize> = ordered(t)
        .into_iter()
        .filter(|&i| min_level.is_none_or(|m| t.list[i].level >= m))
        .collect();
    writeln!(
        out,
        "{} templates in {} events ({} shown)",
        t.list.len(),
        tl.events.len(),
        shown.len()
    )?;
    for i in shown {
        let tp = &t.list[i];
        let site = tp.site_line.as_deref().unwrap_or("-");
        writeln!(
            out,
            "{} {} {:>7}×  {}  {}",
            tp.id,
            style.level(Some(tp.level), &format!("{:<5}", tp.level.as_str())),
            tp.count,
            crate::report::style::sanitize(&tp.text),
            style.dim(&crate::report::style::sanitize(&format!("@ {site}")))
        )?;
        let example = tl
            .events
            .get(tp.first)
            .map(|e| e.message.as_str())
            .unwrap_or("");
        let example: String = example.chars().take(160).collect();
        writeln!(
            out,
            "          first {}  last {}  in {}",
            position(tl, tp.first),
            position(tl, tp.last),
            crate::report::style::sanitize(&sources(tl, &tp.per_source).join(", "))
        )?;
        writeln!(
            out,
            "          e.g. {}",
            crate::report::style::sanitize(&example)
        )?;
    }
    Ok(())
}

/// Templates as JSON (`diag.templates/v1`).
pub fn write_json(out: &mut dyn Write, tl: &Timeline, t: &Templates) -> io::Result<()> {
    let list: Vec<_> = ordered(t)
        .into_iter()
        .map(|i| {
            let tp = &t.list[i];
            let ev = |e: usize| {
                tl.events.get(e).map(|x| {
                    json!({
                        "source": tl.sources.get(x.source).map(|s| s.label.clone()),
                        "line": x.line,
                        "ts": x.ts.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
                    })
                })
            };
            json!({
                "id": tp.id,
                "key": tp.key,
                "level": tp.level.as_str(),
                "site": tp.site_line,
                "text": tp.text,
                "count": tp.count,
                "first": ev(tp.first),
                "last": ev(tp.last),
                "sources": tp.per_source.iter().map(|(s, n)| json!({
                    "source": tl.sources.get(*s).map(|x| x.label.clone()),
                    "count": n,
                })).collect::<Vec<_>>(),
                "example": tl.events.get(tp.first).map(|e| e.message.clone()),
            })
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &json!({"schema": "diag.templates/v1", "events": tl.events.len(), "templates": list}),
    )?;
    writeln!(out)
}

fn split(key: &str) -> (&str, &str, &str) {
    let mut p = key.splitn(3, '|');
    (
        p.next().unwrap_or(""),
        p.next().unwrap_or(""),
        p.next().unwrap_or(""),
    )
}

/// A green/red comparison as text: new, gone and changed templates, errors first.
pub fn write_diff_text(out: &mut dyn Write, rows: &[DiffRow], style: Style) -> io::Result<()> {
    let n = |c: Change| rows.iter().filter(|r| r.change == c).count();
    writeln!(
        out,
        "diag diff: {} new, {} gone, {} changed rate (per source, green max → red max)",
        n(Change::New),
        n(Change::Gone),
        n(Change::Rate)
    )?;
    for r in rows {
        let (level, site, text) = split(&r.key);
        let what = match r.change {
            Change::New => "NEW ",
            Change::Gone => "GONE",
            Change::Rate => "RATE",
        };
        let file = site.rsplit('/').next().unwrap_or(site);
        writeln!(
            out,
            "{what} {} {:<5} {:>6} → {:<6} {}  {}",
            id_of(&r.key),
            level,
            r.green,
            r.red,
            crate::report::style::sanitize(text),
            style.dim(&if file.is_empty() {
                String::new()
            } else {
                crate::report::style::sanitize(&format!("@ {file}"))
            })
        )?;
    }
    Ok(())
}

/// A green/red comparison as JSON (`diag.diff/v1`).
pub fn write_diff_json(out: &mut dyn Write, rows: &[DiffRow]) -> io::Result<()> {
    let list: Vec<_> = rows
        .iter()
        .map(|r| {
            let (level, site, text) = split(&r.key);
            json!({
                "change": r.change,
                "id": id_of(&r.key),
                "level": level,
                "site": site,
                "text": text,
                "green_max_per_source": r.green,
                "red_max_per_source": r.red,
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json!({"schema": "diag.diff/v1", "rows": list}))?;
    writeln!(out)
}
