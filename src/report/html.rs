//! `diag report --format html`: one self-contained HTML file (inline CSS and JS, no network) that
//! shows every source as a swimlane on one time axis, the time quality of each record, the findings
//! marked on their evidence, the incident tree, filters (CID, user, source, level), search, and a
//! record's detail on click. The page's data is one JSON document embedded in the file; the script
//! (`html.js`) draws it with DOM text nodes only, so log text is never parsed as markup.
//!
//! Large inputs: all records are embedded while the file stays small; past that, only the findings'
//! evidence with a little context around it, plus a density strip of every record per source, so the
//! file stays within [`BUDGET`].
// Indexing cannot panic here: buckets and quality codes are clamped to the arrays they index.
#![allow(clippy::indexing_slicing)]

use super::digest;
use super::fields::time_column;
use super::steps;
use super::wire::summarize;
use crate::model::{Axis, Event, Timeline};
use crate::rules::finding::{Analysis, Severity};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{self, Write};

const CSS: &str = include_str!("html.css");
const JS: &str = include_str!("html.js");

/// Size budget of the whole file, bytes: what any input may produce.
pub const BUDGET: usize = 10 * 1024 * 1024;

/// Records embedded in full up to this many; beyond, findings' evidence and context only.
pub const FULL_LIMIT: usize = 20_000;

/// Bins of the density strip.
const BINS: usize = 600;

/// The HTML writer.
#[derive(Debug, Clone, Default)]
pub struct Html {
    /// The `--fail-on` threshold the verdict uses.
    pub fail_on: Option<Severity>,
    /// Byte budget of the page (0: [`BUDGET`]).
    pub budget: usize,
    /// Records embedded in full up to this many (0: [`FULL_LIMIT`]).
    pub full_limit: usize,
}

#[derive(Serialize)]
struct Page {
    title: String,
    verdict: &'static str,
    axis: &'static str,
    dated: bool,
    t0: f64,
    span: f64,
    counts: [usize; 5],
    root: Option<String>,
    sources: Vec<SourceOut>,
    cids: Vec<CidOut>,
    /// Each: [index, source, x (ms from t0 or order), quality, level, line, time, message, continuation, cids, findings].
    events: Vec<EventOut>,
    findings: Vec<FindingOut>,
    incidents: Vec<IncidentOut>,
    /// Each rule's why and fix, once (many findings share a rule).
    rules: std::collections::BTreeMap<String, (String, String)>,
    steps: Vec<StepOut>,
    density: Density,
    total_events: usize,
    omitted: usize,
    mode: &'static str,
}

#[derive(Serialize)]
struct SourceOut {
    label: String,
    path: String,
    format: String,
    events: usize,
    placement: String,
    offset: Option<String>,
    owner: Option<String>,
    quality: [usize; 4],
}

#[derive(Serialize)]
struct CidOut {
    cid: String,
    name: Option<String>,
}

#[derive(Serialize)]
struct EventOut(
    usize,
    usize,
    f64,
    u8,
    u8,
    u64,
    String,
    String,
    Vec<String>,
    Vec<usize>,
    Vec<usize>,
);

#[derive(Serialize)]
struct FindingOut {
    id: String,
    rule: String,
    sev: &'static str,
    title: String,
    cids: Vec<usize>,
    evidence: Vec<(usize, String)>,
    count: usize,
    caused_by: Option<String>,
}

#[derive(Serialize)]
struct IncidentOut {
    id: String,
    root: String,
    findings: Vec<(String, usize)>,
    summary: String,
}

#[derive(Serialize, Clone)]
struct StepOut {
    name: String,
    status: &'static str,
    note: String,
    event: Option<usize>,
}

#[derive(Serialize, Default)]
struct Density {
    bins: usize,
    all: Vec<Vec<u32>>,
    errors: Vec<Vec<u32>>,
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// How much of each record to embed.
#[derive(Clone, Copy)]
struct Cut {
    message: usize,
    cont_lines: usize,
    cont_len: usize,
}

/// Which records go into the page: all of them, or the findings' evidence with `context` records of
/// the same source on each side.
fn pick(a: &Analysis, all: bool, context: usize, per_finding: usize) -> Vec<usize> {
    let tl = &a.timeline;
    if all {
        return (0..tl.events.len()).collect();
    }
    let mut by_source: Vec<Vec<usize>> = vec![Vec::new(); tl.sources.len()];
    for (i, ev) in tl.events.iter().enumerate() {
        if let Some(v) = by_source.get_mut(ev.source) {
            v.push(i);
        }
    }
    let mut keep = BTreeSet::new();
    for f in &a.findings {
        for e in f.evidence.iter().take(per_finding) {
            let Some(ev) = tl.events.get(e.event) else {
                continue;
            };
            let Some(list) = by_source.get(ev.source) else {
                continue;
            };
            if let Ok(p) = list.binary_search(&e.event) {
                let lo = p.saturating_sub(context);
                let hi = (p + context + 1).min(list.len());
                keep.extend(list[lo..hi].iter().copied());
            }
        }
    }
    keep.into_iter().collect()
}

fn density(tl: &Timeline, t0: f64, span: f64) -> Density {
    // Many sources get coarser strips, so the strips alone stay a few hundred kB.
    let bins = (BINS * 8 / tl.sources.len().max(1)).clamp(60, BINS);
    let mut d = Density {
        bins,
        all: vec![vec![0; bins]; tl.sources.len()],
        errors: vec![vec![0; bins]; tl.sources.len()],
    };
    for ev in &tl.events {
        let x = if span > 0.0 {
            ((ev.pos / 1e6 - t0) / span * (bins as f64 - 1.0)).round()
        } else {
            0.0
        };
        let b = (x.max(0.0) as usize).min(bins - 1);
        if let Some(v) = d.all.get_mut(ev.source) {
            v[b] = v[b].saturating_add(1);
        }
        if ev.level.is_some_and(|l| l >= crate::model::Level::Warn) {
            if let Some(v) = d.errors.get_mut(ev.source) {
                v[b] = v[b].saturating_add(1);
            }
        }
    }
    d
}

fn event_out(
    tl: &Timeline,
    i: usize,
    ev: &Event,
    t0: f64,
    cut: Cut,
    cid_index: &[u64],
    findings: Vec<usize>,
) -> EventOut {
    let mut cids: Vec<usize> = ev
        .cids
        .iter()
        .filter_map(|c| tl.cids.resolve(c))
        .filter_map(|c| cid_index.iter().position(|x| *x == c))
        .collect();
    cids.sort_unstable();
    cids.dedup();
    let cont: Vec<String> = ev
        .continuation
        .iter()
        .take(cut.cont_lines)
        .map(|c| clip(c, cut.cont_len))
        .collect();
    EventOut(
        i,
        ev.source,
        ev.pos / 1e6 - t0,
        ev.ts_quality.code(),
        ev.level.map(|l| l as u8 + 1).unwrap_or(0),
        ev.line,
        format!("{}{}", time_column(tl, ev).trim_end(), ev.ts_quality.mark()),
        clip(&ev.message, cut.message),
        cont,
        cids,
        findings,
    )
}

/// What every attempt at fitting the page shares: computed once.
struct Fixed {
    steps: Vec<StepOut>,
    quality: Vec<[usize; 4]>,
}

fn fixed(a: &Analysis) -> Fixed {
    let tl = &a.timeline;
    let mut quality = vec![[0usize; 4]; tl.sources.len()];
    for ev in &tl.events {
        if let Some(q) = quality.get_mut(ev.source) {
            q[ev.ts_quality.code() as usize] += 1;
        }
    }
    let steps = steps::results(a)
        .into_iter()
        .map(|r| StepOut {
            name: r.name,
            status: r.status.as_str(),
            note: r.note,
            event: r.event,
        })
        .collect();
    Fixed { steps, quality }
}

/// One attempt: what to embed (`all` records, or evidence with `context` records around at most
/// `per_finding` evidence records per finding) and how much of each record.
struct Attempt {
    all: bool,
    context: usize,
    per_finding: usize,
    cut: Cut,
}

fn page(a: &Analysis, fx: &Fixed, opts: &Html, at: &Attempt) -> Page {
    let (all, context, per_finding, cut) = (at.all, at.context, at.per_finding, at.cut);
    let tl = &a.timeline;
    // Positions are ns on a time axis; on an order axis, line order (kept as is, scaled alike).
    let scale = |p: f64| p / 1e6;
    let (lo, hi) = tl
        .events
        .iter()
        .map(|e| scale(e.pos))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let (t0, span) = if lo.is_finite() && hi.is_finite() {
        (lo, (hi - lo).max(0.0))
    } else {
        (0.0, 0.0)
    };
    let cid_index: Vec<u64> = tl.cids.names.keys().copied().collect();
    let picked = pick(a, all, context, per_finding);
    let mut finding_of: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (fi, f) in a.findings.iter().enumerate() {
        for e in &f.evidence {
            finding_of.entry(e.event).or_default().push(fi);
        }
    }
    let events: Vec<EventOut> = picked
        .iter()
        .filter_map(|i| tl.events.get(*i).map(|e| (*i, e)))
        .map(|(i, ev)| {
            let mut fs = finding_of.get(&i).cloned().unwrap_or_default();
            fs.dedup();
            event_out(tl, i, ev, t0, cut, &cid_index, fs)
        })
        .collect();
    let sources = tl
        .sources
        .iter()
        .enumerate()
        .map(|(si, s)| {
            let q = fx.quality.get(si).copied().unwrap_or_default();
            SourceOut {
                label: s.label.clone(),
                path: s.path.clone(),
                format: s.detection.format.clone(),
                events: s.events,
                placement: s.placement.clone(),
                offset: s.offset.as_ref().map(|o| {
                    format!(
                        "{:+.3} s vs {} ({} anchors, spread {:.3} s)",
                        o.seconds, o.reference, o.anchors, o.spread_seconds
                    )
                }),
                owner: s.owners.first().map(|o| tl.cids.describe(*o)),
                quality: q,
            }
        })
        .collect();
    let cids = cid_index
        .iter()
        .map(|c| CidOut {
            cid: c.to_string(),
            name: tl.cids.name(*c).map(str::to_string),
        })
        .collect();
    let findings = a
        .findings
        .iter()
        .map(|f| FindingOut {
            id: f.id.clone(),
            rule: f.rule.clone(),
            sev: f.severity.as_str(),
            title: clip(&f.title, 400),
            cids: f
                .cids
                .iter()
                .filter_map(|c| cid_index.iter().position(|x| x == c))
                .collect(),
            evidence: f
                .evidence
                .iter()
                .map(|e| (e.event, e.role.clone()))
                .collect(),
            count: f.count.max(f.evidence.len()),
            caused_by: f.caused_by.clone(),
        })
        .collect();
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let rules = a
        .rules
        .iter()
        .filter(|r| a.findings.iter().any(|f| f.rule == r.id))
        .map(|r| (r.id.clone(), (flat(&r.description), flat(&r.remediation))))
        .collect();
    let incidents = a
        .incidents
        .iter()
        .map(|i| IncidentOut {
            id: i.id.clone(),
            root: i.root.clone(),
            findings: i.findings.iter().map(|f| (f.clone(), a.depth(f))).collect(),
            summary: i.summary.clone(),
        })
        .collect();
    let steps = fx.steps.clone();
    let s = summarize(&a.findings);
    let failed = digest::failed(a, opts.fail_on);
    let root = a
        .incidents
        .first()
        .and_then(|i| a.findings.iter().find(|f| f.id == i.root))
        .map(|f| format!("{}: {}", f.id, f.title));
    let omitted = tl.events.len() - events.len();
    Page {
        title: format!(
            "diag report: {}",
            tl.sources
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        verdict: if failed { "FAIL" } else { "PASS" },
        axis: match tl.axis {
            Axis::Time => "time",
            Axis::Order => "order",
        },
        dated: tl.dated,
        t0,
        span,
        counts: [s.critical, s.high, s.medium, s.low, s.info],
        root,
        sources,
        cids,
        events,
        findings,
        incidents,
        rules,
        steps,
        density: density(tl, t0, span),
        total_events: tl.events.len(),
        omitted,
        mode: if all { "full" } else { "evidence" },
    }
}

/// The page's JSON, safe inside a `<script>` element: no `<`, `>` or `&` survives unescaped.
fn embed(p: &Page) -> io::Result<String> {
    let json = serde_json::to_string(p).map_err(io::Error::other)?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029"))
}

/// Build the page's JSON within the budget: everything when small enough, else evidence with less and
/// less context and shorter texts until it fits.
fn fitted(a: &Analysis, opts: &Html) -> io::Result<String> {
    let budget = if opts.budget == 0 {
        BUDGET
    } else {
        opts.budget
    };
    let limit = if opts.full_limit == 0 {
        FULL_LIMIT
    } else {
        opts.full_limit
    };
    let room = budget.saturating_sub(CSS.len() + JS.len() + 4096);
    let long = Cut {
        message: 2000,
        cont_lines: 30,
        cont_len: 400,
    };
    let short = Cut {
        message: 300,
        cont_lines: 6,
        cont_len: 200,
    };
    let tiny = Cut {
        message: 160,
        cont_lines: 2,
        cont_len: 120,
    };
    let full = a.timeline.events.len() <= limit;
    let mut tries: Vec<(bool, usize, usize, Cut)> = Vec::new();
    if full {
        tries.push((true, 0, usize::MAX, long));
        tries.push((true, 0, usize::MAX, short));
    }
    tries.extend([
        (false, 5, usize::MAX, short),
        (false, 2, 200, short),
        (false, 0, 50, tiny),
        (false, 0, 5, tiny),
        (false, 0, 1, tiny),
    ]);
    let fx = fixed(a);
    let mut last = String::new();
    for (all, context, per_finding, cut) in tries {
        let at = Attempt {
            all,
            context,
            per_finding,
            cut,
        };
        last = embed(&page(a, &fx, opts, &at))?;
        if last.len() <= room {
            return Ok(last);
        }
    }
    Ok(last)
}

/// Write the HTML report.
pub fn write_html(out: &mut dyn Write, a: &Analysis, opts: &Html) -> io::Result<()> {
    let data = fitted(a, opts)?;
    let title = html_escape(&format!(
        "diag report: {}",
        if digest::failed(a, opts.fail_on) {
            "FAIL"
        } else {
            "PASS"
        }
    ));
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
<noscript>This report draws its timeline with JavaScript; the same facts are in `diag report` (Markdown).</noscript>\n\
<div id=\"app\"></div>\n<script type=\"application/json\" id=\"diag-data\">{data}</script>\n\
<script>\n{JS}</script>\n</body>\n</html>\n"
    )
}

/// Escape text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::timeline_of;

    fn analysis(text: &str) -> Analysis {
        let tl = timeline_of(&[("svc.log", text)]).expect("timeline");
        crate::rules::analyze(&tl, None).expect("rules")
    }

    #[test]
    fn log_text_cannot_close_the_data_script() {
        let a = analysis("2025-12-30T01:00:00.000000Z ERROR citadel: a.rs:1: boom </script><script>alert(1)</script> & more\n");
        let mut v = Vec::new();
        write_html(&mut v, &a, &Html::default()).unwrap();
        let s = String::from_utf8(v).unwrap();
        // The only script end tags are the two the page itself writes.
        assert_eq!(s.matches("</script>").count(), 2, "{s}");
        assert!(s.contains("\\u003c/script\\u003e"));
        assert!(
            !s.contains("http://") && !s.contains("https://"),
            "no network"
        );
    }

    #[test]
    fn many_sources_and_findings_still_fit() {
        let texts: Vec<(String, String)> = (0..300)
            .map(|i| {
                (
                    format!("svc{i}.log"),
                    format!(
                        "2025-12-30T01:00:{:02}.000000Z ERROR citadel: a.rs:{i}: Panic occurred: panicked at /x/m{i}.rs:{i}:1:\n",
                        i % 60
                    ),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let tl = timeline_of(&refs).expect("timeline");
        let a = crate::rules::analyze(&tl, None).expect("rules");
        assert!(a.findings.len() >= 100, "{}", a.findings.len());
        let opts = Html {
            budget: 400_000,
            full_limit: 10,
            ..Default::default()
        };
        let mut v = Vec::new();
        write_html(&mut v, &a, &opts).unwrap();
        assert!(v.len() <= 400_000, "{}", v.len());
        let s = String::from_utf8(v).unwrap();
        // Coarser density strips for many sources; each rule's text once.
        assert!(s.contains("\"bins\":60"));
        assert_eq!(s.matches("A Rust panic.").count(), 1);
    }

    #[test]
    fn a_large_input_keeps_evidence_and_fits_a_small_budget() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!(
                "2025-12-30T01:{:02}:{:02}.000000Z  INFO citadel: a.rs:1: GetSessions: Found {i} total sessions in server_connection_map\n",
                i / 60 % 60,
                i % 60
            ));
        }
        text.push_str("2025-12-30T02:00:00.000000Z ERROR citadel: /x/lib.rs:89: Panic occurred: panicked at /x/session.rs:2254:18:\n");
        let a = analysis(&text);
        let opts = Html {
            budget: 200_000,
            full_limit: 1000,
            ..Default::default()
        };
        let mut v = Vec::new();
        write_html(&mut v, &a, &opts).unwrap();
        let s = String::from_utf8(v).unwrap();
        assert!(s.len() <= 200_000, "{}", s.len());
        assert!(s.contains("\"mode\":\"evidence\""));
        assert!(s.contains("session.rs:2254:18"));
    }
}
