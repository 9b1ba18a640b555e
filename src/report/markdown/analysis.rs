//! The sections about what the rules found: critical findings with their evidence, the trace of each
//! lost message, the severity table and the root cause analysis (incident trees, why, possible causes).
// Indexing cannot panic here: slices start at lengths checked on the line before.
#![allow(clippy::indexing_slicing)]

use super::*;

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

/// How many findings the Critical Findings section shows in full (the rest by id).
const CRITICAL_SHOWN: usize = 12;

pub(super) fn critical(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
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
        if n == CRITICAL_SHOWN {
            writeln!(
                out,
                "… and {} more at high severity or above ({}): see the severity table.",
                top.len() - n,
                top[n..]
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
            writeln!(out)?;
            break;
        }
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

pub(super) fn console(out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
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

pub(super) fn severity_table(
    out: &mut dyn Write,
    a: &Analysis,
    counts: &Summary,
) -> io::Result<()> {
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

pub(super) fn root_cause(out: &mut dyn Write, a: &Analysis, opts: &Markdown) -> io::Result<()> {
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
