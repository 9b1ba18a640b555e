//! The sections about the run itself: accounts, test results, the backend's log, the history of runs,
//! recommendations, sources, files referenced and the overall result.
// Indexing cannot panic here: slices start at lengths checked on the line before.
#![allow(clippy::indexing_slicing)]

use super::*;

pub(super) fn accounts(out: &mut dyn Write, tl: &Timeline) -> io::Result<()> {
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
    for e in digest::endpoints(tl) {
        let from = e
            .sources
            .iter()
            .map(|l| code(l))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "- **{}:** {} (named by {from})",
            capitalized(e.kind),
            code(&e.addr)
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

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn test_results(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
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
    let users = steps::users(&a.timeline).len();
    if users > steps::ALL_PAIRS {
        writeln!(
            out,
            "{users} users: pairs of users with no step in these logs are left out."
        )?;
        writeln!(out)?;
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

/// How many distinct warning and error lines the backend summary shows per service.
const BACKEND_LINES: usize = 15;

pub(super) fn backend(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
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

pub(super) fn history(out: &mut dyn Write, rows: &[HistoryRow]) -> io::Result<()> {
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

pub(super) fn recommendations(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
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

pub(super) fn sources(out: &mut dyn Write, tl: &Timeline) -> io::Result<()> {
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

pub(super) fn files(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
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

pub(super) fn overall(
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
}
