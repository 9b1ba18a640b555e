//! `diag report` (and `diag check --format markdown`): the run's report as a person would write it
//! after a failed test, in GitHub-flavoured Markdown. Sections follow the hand-written seed report:
//! accounts, test results, critical findings with evidence, the lost message's trace, severities, the
//! root cause analysis, the backend summary, the history of runs, recommendations, sources, files
//! referenced, the overall result. A section the evidence does not support says so in one line.
//! Every piece of log text is escaped, so a log line cannot break the document or inject markup.

use super::digest::{self, Trace};
use super::fields::time_column;
use super::steps::{self, Status};
use super::style::sanitize;
use super::wire::{summarize, Summary};
use super::CheckWriter;
use crate::model::{Axis, Event, Level, Timeline};
use crate::rules::finding::{Analysis, Finding, Severity};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// One run of the history database, as the Test History Summary lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryRow {
    /// Run id (given with `--run-id` or generated).
    pub run_id: String,
    /// When the run was recorded (RFC 3339 or as the database keeps it).
    pub time: String,
    /// `PASS` or `FAIL`.
    pub verdict: String,
    /// Title of the root finding of the first incident, or empty.
    pub root_cause: String,
    /// Findings per severity.
    pub counts: Summary,
}

/// The Markdown writer.
#[derive(Debug, Clone, Default)]
pub struct Markdown {
    /// The `--fail-on` threshold the verdict uses (`None`: findings never fail the run).
    pub fail_on: Option<Severity>,
    /// Each rule's declared `caused_by` (rule id → possible causes, most likely first).
    pub causes: BTreeMap<String, Vec<String>>,
    /// Runs from the history database, newest last; empty when no database was given.
    pub history: Vec<HistoryRow>,
}

impl CheckWriter for Markdown {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_markdown(out, a, self)
    }
}

/// Each rule's `caused_by`, for [`Markdown::causes`].
pub fn causes_of(rules: &[crate::rules::load::Rule]) -> BTreeMap<String, Vec<String>> {
    rules
        .iter()
        .map(|r| (r.info.id.clone(), r.caused_by.clone()))
        .collect()
}

/// Escape text for a Markdown paragraph, list item or heading: no markup, no HTML, no line breaks.
pub fn inline(s: &str) -> String {
    let s = sanitize(&s.replace(['\n', '\r'], " "));
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '~' | '!' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            // A leading list or block marker would start a block inside ours.
            '-' | '+' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // `1. text` at the start of a line is an ordered list: escape its dot.
    if let Some(p) = out.find(['.', ')']) {
        if p > 0 && out[..p].bytes().all(|b| b.is_ascii_digit()) {
            out.insert(p, '\\');
        }
    }
    out
}

/// Escape text for a table cell (inline escaping covers `|`).
pub fn cell(s: &str) -> String {
    inline(s)
}

/// A code span that holds any text: a fence of more backticks than the text's longest run.
pub fn code(s: &str) -> String {
    let s = sanitize(s).replace(['\n', '\r'], " ");
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A code span inside a table cell: there a `|` ends the cell even inside a code span, and GFM takes `\|`.
pub fn code_cell(s: &str) -> String {
    code(s).replace('|', "\\|")
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// A fenced code block whose fence no line of the text can close.
pub fn block(out: &mut dyn Write, lines: &[String]) -> io::Result<()> {
    let longest = lines.iter().map(|l| longest_run(l, '`')).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    writeln!(out, "{fence}text")?;
    for l in lines {
        writeln!(out, "{}", sanitize(l))?;
    }
    writeln!(out, "{fence}")?;
    writeln!(out)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn label(tl: &Timeline, ev: &Event) -> String {
    tl.sources
        .get(ev.source)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| "?".into())
}

/// One event as an evidence line: time (with its quality mark), source:line, level, message.
fn event_line(tl: &Timeline, ev: &Event) -> String {
    let lvl = ev
        .level
        .map(|l| l.as_str().to_ascii_uppercase())
        .unwrap_or_else(|| "-".into());
    format!(
        "{}{} {}:{} {:<5} {}",
        time_column(tl, ev).trim_end(),
        ev.ts_quality.mark(),
        label(tl, ev),
        ev.line,
        lvl,
        clip(&ev.message, 400)
    )
}

/// How many continuation lines an evidence block shows under a record.
const CONT: usize = 4;

fn event_lines(tl: &Timeline, ev: &Event, out: &mut Vec<String>) {
    out.push(event_line(tl, ev));
    for (i, c) in ev.continuation.iter().enumerate() {
        if i == CONT {
            out.push(format!("    … {} more lines", ev.continuation.len() - CONT));
            break;
        }
        out.push(format!("    {}", clip(c, 400)));
    }
}

fn cids_text(tl: &Timeline, cids: &[u64]) -> String {
    cids.iter()
        .map(|c| tl.cids.describe(*c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sev_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

fn counts_text(s: &Summary) -> String {
    format!(
        "{} critical, {} high, {} medium, {} low, {} info",
        s.critical, s.high, s.medium, s.low, s.info
    )
}

fn span_text(tl: &Timeline) -> String {
    let times: Vec<_> = tl.events.iter().filter_map(|e| e.ts).collect();
    match (tl.axis, times.iter().min(), times.iter().max()) {
        (Axis::Time, Some(a), Some(b)) if tl.dated => format!(
            "{} – {} UTC",
            a.format("%Y-%m-%d %H:%M:%S"),
            b.format("%H:%M:%S")
        ),
        (Axis::Time, Some(a), Some(b)) => format!(
            "{} – {} (times of day; no date known)",
            a.format("%H:%M:%S"),
            b.format("%H:%M:%S")
        ),
        _ => "no times: events are in the order of the reference source".into(),
    }
}

fn root_of(a: &Analysis) -> Option<&Finding> {
    a.incidents
        .first()
        .and_then(|i| a.findings.iter().find(|f| f.id == i.root))
        .or_else(|| a.findings.first())
}

/// Write the report.
pub fn write_markdown(out: &mut dyn Write, a: &Analysis, opts: &Markdown) -> io::Result<()> {
    let tl = &a.timeline;
    let failed = digest::failed(a, opts.fail_on);
    let verdict = if failed { "FAIL" } else { "PASS" };
    let counts = summarize(&a.findings);
    writeln!(out, "# diag report: {verdict}")?;
    writeln!(out)?;
    writeln!(out, "**Period:** {}  ", inline(&span_text(tl)))?;
    writeln!(
        out,
        "**Sources:** {}  ",
        inline(
            &tl.sources
                .iter()
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    )?;
    writeln!(
        out,
        "**Findings:** {} ({})  ",
        a.findings.len(),
        counts_text(&counts)
    )?;
    match root_of(a) {
        Some(r) => writeln!(out, "**Root cause:** {} ({})", inline(&r.title), r.id)?,
        None => writeln!(out, "**Root cause:** none: no rule found anything")?,
    }
    writeln!(out)?;
    accounts(out, tl)?;
    test_results(out, a)?;
    critical(out, a)?;
    console(out, a)?;
    severity_table(out, a, &counts)?;
    root_cause(out, a, opts)?;
    backend(out, a)?;
    history(out, &opts.history)?;
    recommendations(out, a)?;
    sources(out, tl)?;
    files(out, a)?;
    overall(out, a, opts, failed, &counts)
}

fn accounts(out: &mut dyn Write, tl: &Timeline) -> io::Result<()> {
    writeln!(out, "## Accounts Used")?;
    writeln!(out)?;
    let accts = digest::accounts(tl);
    if accts.is_empty() {
        writeln!(
            out,
            "No user is named in these logs (no name bound to a CID, no tab owned by one); `--alias NAME=CID` names one."
        )?;
        writeln!(out)?;
    }
    for (i, acc) in accts.iter().enumerate() {
        let name = acc
            .names
            .first()
            .map(|n| format!("**{}**", inline(n)))
            .unwrap_or_else(|| "unnamed".into());
        let also = if acc.names.len() > 1 {
            format!(
                " (also {})",
                acc.names[1..]
                    .iter()
                    .map(|n| inline(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        let tabs = if acc.tabs.is_empty() {
            "no tab log among the inputs".to_string()
        } else {
            format!(
                "tab {}",
                acc.tabs
                    .iter()
                    .map(|t| code(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        writeln!(
            out,
            "- **User {}:** {name}{also} (CID: {}) — {tabs}",
            i + 1,
            acc.cid
        )?;
    }
    for i in digest::services(tl) {
        if let Some(s) = tl.sources.get(i) {
            writeln!(
                out,
                "- **Service:** {}: {}",
                code(&s.label),
                inline(&s.placement)
            )?;
        }
    }
    writeln!(out)
}

fn test_results(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    writeln!(out, "## Test Results")?;
    writeln!(out)?;
    let rows = steps::results(a);
    if rows.is_empty() {
        writeln!(
            out,
            "No test steps to judge: no user is known in these logs (name them with `--alias NAME=CID`)."
        )?;
        return writeln!(out);
    }
    writeln!(out, "| Test | Status | Notes |")?;
    writeln!(out, "|------|--------|-------|")?;
    for r in &rows {
        let status = match r.status {
            Status::Fail => format!("**{}**", r.status.as_str()),
            s => s.as_str().to_string(),
        };
        writeln!(out, "| {} | {status} | {} |", cell(&r.name), cell(&r.note))?;
    }
    writeln!(out)
}

fn evidence_block(out: &mut dyn Write, tl: &Timeline, f: &Finding) -> io::Result<()> {
    let mut lines = Vec::new();
    for e in f.evidence.iter().take(8) {
        if let Some(ev) = tl.events.get(e.event) {
            event_lines(tl, ev, &mut lines);
        }
    }
    let all = f.count.max(f.evidence.len());
    if all > lines.len().min(8) && all > 8 {
        lines.push(format!("… {all} events in all"));
    }
    if lines.is_empty() {
        writeln!(out, "No evidence events were kept for this finding.")?;
        return writeln!(out);
    }
    block(out, &lines)
}

fn critical(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let tl = &a.timeline;
    writeln!(out, "## Critical Findings")?;
    writeln!(out)?;
    let top: Vec<&Finding> = a
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::High)
        .collect();
    if top.is_empty() {
        writeln!(
            out,
            "No finding at high severity or above ({} lower ones are in the severity table).",
            a.findings.len()
        )?;
        return writeln!(out);
    }
    for (n, f) in top.iter().enumerate() {
        writeln!(out, "### {}. {}: {}", n + 1, f.id, inline(&f.title))?;
        writeln!(out)?;
        let mut meta = vec![format!("**{}**", sev_word(f.severity)), code(&f.rule)];
        if !f.cids.is_empty() {
            meta.push(format!("CIDs: {}", inline(&cids_text(tl, &f.cids))));
        }
        if let Some(c) = &f.caused_by {
            meta.push(format!("caused by {c}"));
        }
        if !f.causes.is_empty() {
            meta.push(format!("led to {}", f.causes.join(", ")));
        }
        writeln!(out, "{}", meta.join(" · "))?;
        writeln!(out)?;
        if let Some(info) = a.rules.iter().find(|r| r.id == f.rule) {
            let d = info
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if !d.is_empty() {
                writeln!(out, "{}", inline(&d))?;
                writeln!(out)?;
            }
        }
        evidence_block(out, tl, f)?;
    }
    writeln!(out)
}

fn console(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    writeln!(out, "## Console Log Analysis")?;
    writeln!(out)?;
    let traces = digest::traces(a);
    if traces.is_empty() {
        writeln!(
            out,
            "No message was lost in these logs: no finding says a sent message never arrived, so there is no path to trace."
        )?;
        return writeln!(out);
    }
    for t in &traces {
        trace(out, a, t)?;
    }
    Ok(())
}

fn trace(out: &mut dyn Write, a: &Analysis, t: &Trace) -> io::Result<()> {
    let tl = &a.timeline;
    let f = a.findings.iter().find(|f| f.id == t.finding);
    let title = f.map(|f| f.title.as_str()).unwrap_or("");
    match &t.msgid {
        Some(m) => writeln!(out, "### Message {} ({})", code(m), t.finding)?,
        None => writeln!(out, "### Messages of {}", t.finding)?,
    }
    writeln!(out)?;
    writeln!(out, "{}.", inline(title))?;
    writeln!(out)?;
    if t.msgid.is_some() {
        writeln!(
            out,
            "Every event that carries the message's id, in timeline order across sources (with the relay lines between its ends):"
        )?;
    } else {
        writeln!(
            out,
            "The logs give these messages no id: the finding's events and every line between them that names both ends, in timeline order:"
        )?;
    }
    writeln!(out)?;
    let mut lines = Vec::new();
    for i in &t.events {
        if let Some(ev) = tl.events.get(*i) {
            event_lines(tl, ev, &mut lines);
        }
    }
    if t.more > 0 {
        lines.push(format!("… {} more events", t.more));
    }
    block(out, &lines)?;
    writeln!(
        out,
        "Time marks: none exact, `·` time of day from the line, `~` inferred between anchors, `?` order only."
    )?;
    writeln!(out)?;
    if let Some(f) = f {
        let sources: Vec<String> = t
            .events
            .iter()
            .filter_map(|i| tl.events.get(*i))
            .map(|e| label(tl, e))
            .fold(Vec::new(), |mut v, l| {
                if !v.contains(&l) {
                    v.push(l);
                }
                v
            });
        let receivers: Vec<String> = tl
            .sources
            .iter()
            .filter(|s| s.owners.first().is_some_and(|o| f.cids.contains(o)))
            .filter(|s| !sources.contains(&s.label))
            .map(|s| code(&s.label))
            .collect();
        let cause = f
            .caused_by
            .as_deref()
            .map(|c| format!("; {c} comes before it in the incident tree"))
            .unwrap_or_default();
        if receivers.is_empty() {
            writeln!(
                out,
                "The trace ends there: no receipt follows ({}{cause}).",
                f.id
            )?;
        } else {
            writeln!(
                out,
                "Nothing in {} carries it: the message was never received ({}{cause}).",
                receivers.join(", "),
                f.id
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn severity_table(out: &mut dyn Write, a: &Analysis, counts: &Summary) -> io::Result<()> {
    writeln!(out, "## Findings by Severity")?;
    writeln!(out)?;
    if a.findings.is_empty() {
        writeln!(out, "No findings: every rule ran and none matched.")?;
        return writeln!(out);
    }
    writeln!(out, "{}.", counts_text(counts))?;
    writeln!(out)?;
    writeln!(out, "| Severity | Finding | Rule | Events | Issue |")?;
    writeln!(out, "|----------|---------|------|--------|-------|")?;
    for f in &a.findings {
        let sev = if f.severity >= Severity::High {
            format!("**{}**", sev_word(f.severity))
        } else {
            sev_word(f.severity).to_string()
        };
        writeln!(
            out,
            "| {sev} | {} | {} | {} | {} |",
            f.id,
            code_cell(&f.rule),
            f.count.max(f.evidence.len()),
            cell(&f.title)
        )?;
    }
    writeln!(out)
}

fn root_cause(out: &mut dyn Write, a: &Analysis, opts: &Markdown) -> io::Result<()> {
    let tl = &a.timeline;
    writeln!(out, "## Root Cause Analysis")?;
    writeln!(out)?;
    if a.incidents.is_empty() {
        writeln!(
            out,
            "No incident: no finding was linked to a cause, so there is no causal chain to analyse."
        )?;
        return writeln!(out);
    }
    let title_of = |id: &str| {
        a.rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.title.clone())
            .unwrap_or_else(|| id.to_string())
    };
    for inc in &a.incidents {
        let Some(root) = a.findings.iter().find(|f| f.id == inc.root) else {
            continue;
        };
        writeln!(
            out,
            "### {}: primary issue: {}",
            inc.id,
            inline(&title_of(&root.rule))
        )?;
        writeln!(out)?;
        writeln!(out, "{} ({}).", inline(&root.title), root.id)?;
        if !inc.cids.is_empty() {
            writeln!(out)?;
            writeln!(out, "CIDs: {}.", inline(&cids_text(tl, &inc.cids)))?;
        }
        writeln!(out)?;
        writeln!(out, "#### Causal chain")?;
        writeln!(out)?;
        for id in &inc.findings {
            if let Some(f) = a.findings.iter().find(|f| &f.id == id) {
                writeln!(
                    out,
                    "{}- **{}** {}: {} ({})",
                    "  ".repeat(a.depth(&f.id)),
                    f.id,
                    sev_word(f.severity),
                    inline(&f.title),
                    code(&f.rule)
                )?;
            }
        }
        writeln!(out)?;
        writeln!(out, "#### Why this happened")?;
        writeln!(out)?;
        let mut seen: Vec<&str> = Vec::new();
        for id in &inc.findings {
            let Some(f) = a.findings.iter().find(|f| &f.id == id) else {
                continue;
            };
            if seen.contains(&f.rule.as_str()) {
                continue;
            }
            seen.push(&f.rule);
            let why = a
                .rules
                .iter()
                .find(|r| r.id == f.rule)
                .map(|r| {
                    r.description
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            writeln!(out, "- {} ({}): {}", code(&f.rule), f.id, inline(&why))?;
            let possible = opts.causes.get(&f.rule).cloned().unwrap_or_default();
            let chosen = f
                .caused_by
                .as_deref()
                .and_then(|c| a.findings.iter().find(|x| x.id == c))
                .map(|x| x.rule.clone());
            if possible.is_empty() {
                let fix = a
                    .rules
                    .iter()
                    .find(|r| r.id == f.rule)
                    .map(|r| {
                        r.remediation
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  - Possible causes: no rule names one (a root kind); where to look: {}",
                    inline(&fix)
                )?;
            } else {
                let list: Vec<String> = possible
                    .iter()
                    .enumerate()
                    .map(|(n, p)| {
                        let mark = if chosen.as_deref() == Some(p.as_str()) {
                            " ← this run"
                        } else {
                            ""
                        };
                        format!("{}. {}: {}{mark}", n + 1, code(p), inline(&title_of(p)))
                    })
                    .collect();
                writeln!(
                    out,
                    "  - Possible causes, most likely first: {}",
                    list.join("; ")
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// How many distinct warning and error lines the backend summary shows per service.
const BACKEND_LINES: usize = 15;

fn backend(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let tl = &a.timeline;
    writeln!(out, "## Backend Logs Summary")?;
    writeln!(out)?;
    let services = digest::services(tl);
    if services.is_empty() {
        writeln!(
            out,
            "No service log among the inputs: add the internal-service log (`docker compose logs -t internal-service`) to see the backend's side."
        )?;
        return writeln!(out);
    }
    let evidence: std::collections::HashSet<usize> = a
        .findings
        .iter()
        .flat_map(|f| f.evidence.iter().map(|e| e.event))
        .collect();
    for s in services {
        let Some(info) = tl.sources.get(s) else {
            continue;
        };
        let mut by_level: BTreeMap<Level, usize> = BTreeMap::new();
        for ev in tl.events.iter().filter(|e| e.source == s) {
            if let Some(l) = ev.level {
                *by_level.entry(l).or_default() += 1;
            }
        }
        let levels: Vec<String> = by_level
            .iter()
            .rev()
            .map(|(l, n)| format!("{n} {l}"))
            .collect();
        writeln!(
            out,
            "{}: {} events ({}).",
            code(&info.label),
            info.events,
            levels.join(", ")
        )?;
        writeln!(out)?;
        // Warnings, errors and the findings' evidence, each kind of line once with its count.
        let mut seen: Vec<(String, usize, usize)> = Vec::new();
        for (i, ev) in tl.events.iter().enumerate() {
            if ev.source != s
                || !(evidence.contains(&i) || ev.level.is_some_and(|l| l >= Level::Warn))
            {
                continue;
            }
            let key = crate::templates::key_of(ev);
            match seen.iter_mut().find(|(k, _, _)| *k == key) {
                Some(e) => e.2 += 1,
                None => seen.push((key, i, 1)),
            }
        }
        if seen.is_empty() {
            writeln!(out, "No warnings or errors in the service log.")?;
            writeln!(out)?;
            continue;
        }
        let mut lines = Vec::new();
        for (_, i, n) in seen.iter().take(BACKEND_LINES) {
            if let Some(ev) = tl.events.get(*i) {
                let mut l = event_line(tl, ev);
                if *n > 1 {
                    l.push_str(&format!("  (×{n})"));
                }
                lines.push(l);
            }
        }
        if seen.len() > BACKEND_LINES {
            lines.push(format!(
                "… {} more kinds of lines",
                seen.len() - BACKEND_LINES
            ));
        }
        block(out, &lines)?;
    }
    Ok(())
}

fn history(out: &mut dyn Write, rows: &[HistoryRow]) -> io::Result<()> {
    writeln!(out, "## Test History Summary")?;
    writeln!(out)?;
    if rows.is_empty() {
        writeln!(
            out,
            "No history database was given: record runs with `diag check --record` or `diag history add`, then pass `--db FILE` (or set `DIAG_DB`) to list them here."
        )?;
        return writeln!(out);
    }
    writeln!(
        out,
        "| Run | Time | Result | Root Cause | Critical | High | Medium | Low | Info |"
    )?;
    writeln!(
        out,
        "|-----|------|--------|------------|----------|------|--------|-----|------|"
    )?;
    for r in rows {
        let verdict = if r.verdict.eq_ignore_ascii_case("fail") {
            format!("**{}**", cell(&r.verdict))
        } else {
            cell(&r.verdict)
        };
        writeln!(
            out,
            "| {} | {} | {verdict} | {} | {} | {} | {} | {} | {} |",
            cell(&r.run_id),
            cell(&r.time),
            cell(&r.root_cause),
            r.counts.critical,
            r.counts.high,
            r.counts.medium,
            r.counts.low,
            r.counts.info
        )?;
    }
    writeln!(out)
}

fn recommendations(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    writeln!(out, "## Recommendations")?;
    writeln!(out)?;
    let recs = digest::recommendations(a);
    if recs.is_empty() {
        writeln!(out, "Nothing to fix: no rule found anything.")?;
        return writeln!(out);
    }
    let (now, later): (Vec<_>, Vec<_>) = recs.iter().partition(|r| r.severity >= Severity::High);
    for (title, group) in [
        ("Immediate fixes required", now),
        ("Further investigation", later),
    ] {
        if group.is_empty() {
            continue;
        }
        writeln!(out, "### {title}")?;
        writeln!(out)?;
        for (n, r) in group.iter().enumerate() {
            writeln!(
                out,
                "{}. **{}** ({}; {})",
                n + 1,
                inline(&r.title),
                code(&r.rule),
                r.findings.join(", ")
            )?;
            let fix = r.fix.split_whitespace().collect::<Vec<_>>().join(" ");
            writeln!(out, "   {}", inline(&fix))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn sources(out: &mut dyn Write, tl: &Timeline) -> io::Result<()> {
    writeln!(out, "## Sources")?;
    writeln!(out)?;
    writeln!(
        out,
        "| Source | File | Format | Events | Unparsed | Owner | Placement | Clock offset |"
    )?;
    writeln!(
        out,
        "|--------|------|--------|--------|----------|-------|-----------|--------------|"
    )?;
    for s in &tl.sources {
        let owner = s
            .owners
            .first()
            .map(|o| cell(&tl.cids.describe(*o)))
            .unwrap_or_else(|| "-".into());
        let offset = s
            .offset
            .as_ref()
            .map(|o| {
                format!(
                    "{:+.3} s vs {} (zone {:+} min, skew {:+.3} s, {} anchors)",
                    o.seconds,
                    cell(&o.reference),
                    o.zone_minutes,
                    o.skew_seconds,
                    o.anchors
                )
            })
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {owner} | {} | {offset} |",
            code_cell(&s.label),
            code_cell(&s.path),
            cell(&s.detection.format),
            s.events,
            s.parse.unparsed,
            cell(&s.placement)
        )?;
    }
    writeln!(out)
}

fn files(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    writeln!(out, "## Files Referenced")?;
    writeln!(out)?;
    let files = digest::files(a);
    if files.is_empty() {
        writeln!(
            out,
            "The findings' evidence names no source file (no panic location, no call site)."
        )?;
        return writeln!(out);
    }
    let (service, ui): (Vec<_>, Vec<_>) = files.iter().partition(|f| f.service);
    for f in &service {
        writeln!(
            out,
            "- {}: {} ({})",
            code(&f.location),
            f.kind,
            f.findings.join(", ")
        )?;
    }
    if !ui.is_empty() {
        writeln!(out, "- In the browser (UI code):")?;
        for f in &ui {
            writeln!(
                out,
                "  - {}: {} ({})",
                code(&f.location),
                f.kind,
                f.findings.join(", ")
            )?;
        }
    }
    writeln!(out)
}

fn overall(
    out: &mut dyn Write,
    a: &Analysis,
    opts: &Markdown,
    failed: bool,
    counts: &Summary,
) -> io::Result<()> {
    writeln!(
        out,
        "## Overall Result: **{}**",
        if failed { "FAIL" } else { "PASS" }
    )?;
    writeln!(out)?;
    let threshold = opts
        .fail_on
        .map(|t| format!("at `--fail-on {t}`"))
        .unwrap_or_else(|| "with `--fail-on none`".into());
    let mut s = format!(
        "{} findings ({}); {threshold} the run {}.",
        a.findings.len(),
        counts_text(counts),
        if failed { "fails" } else { "passes" }
    );
    if let Some(r) = root_of(a) {
        let chain = a.incidents.first().map(|i| i.findings.len()).unwrap_or(1);
        s.push_str(&format!(
            " Root cause: {} ({}, {}), which led to {} linked findings.",
            inline(&r.title),
            r.id,
            code(&r.rule),
            chain.saturating_sub(1)
        ));
    }
    writeln!(out, "{s}")?;
    writeln!(out)?;
    writeln!(out, "---")?;
    writeln!(out)?;
    writeln!(
        out,
        "Written by diag {} from the logs alone.",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_cannot_make_markup() {
        assert_eq!(inline("a|b"), "a\\|b");
        assert_eq!(inline("<script>"), "\\<script\\>");
        assert_eq!(inline("# x"), "\\# x");
        assert_eq!(inline("1. x"), "1\\. x");
        assert_eq!(inline("- x"), "\\- x");
        assert_eq!(inline("a\nb"), "a b");
        assert_eq!(inline("&lt;"), "&amp;lt;");
    }

    #[test]
    fn code_spans_outlast_their_backticks() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a|b"), "`a|b`");
        assert_eq!(code_cell("a|b"), "`a\\|b`");
    }

    #[test]
    fn the_history_section_lists_given_runs_and_says_how_to_give_them() {
        let mut v = Vec::new();
        history(&mut v, &[]).unwrap();
        let empty = String::from_utf8(v).unwrap();
        assert!(empty.contains("No history database was given") && empty.contains("`--db FILE`"));
        let rows = [
            HistoryRow {
                run_id: "9".into(),
                time: "2025-12-30T01:20:00Z".into(),
                verdict: "PASS".into(),
                root_cause: String::new(),
                counts: Summary::default(),
            },
            HistoryRow {
                run_id: "10".into(),
                time: "2025-12-30T01:45:00Z".into(),
                verdict: "FAIL".into(),
                root_cause: "panic at session.rs:2254:18 | x".into(),
                counts: Summary {
                    critical: 3,
                    high: 4,
                    ..Default::default()
                },
            },
        ];
        let mut v = Vec::new();
        history(&mut v, &rows).unwrap();
        let s = String::from_utf8(v).unwrap();
        let lines: Vec<&str> = s.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(lines.len(), 4, "{s}");
        assert!(lines[0].starts_with("| Run | Time | Result | Root Cause | Critical |"));
        assert_eq!(
            lines[3],
            "| 10 | 2025-12-30T01:45:00Z | **FAIL** | panic at session.rs:2254:18 \\| x | 3 | 4 | 0 | 0 | 0 |"
        );
    }

    #[test]
    fn blocks_outlast_their_fences() {
        let mut v = Vec::new();
        block(&mut v, &["```".into(), "x".into()]).unwrap();
        let s = String::from_utf8(v).unwrap();
        assert!(s.starts_with("````text\n"), "{s}");
        assert!(s.ends_with("\n````\n\n"), "{s}");
    }
}
