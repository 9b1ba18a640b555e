//! Detail pane: a record in full (all its lines, fields, entities with CID names and resolution, the
//! events it is anchored to in other sources, the findings it is evidence of), or a finding (facts,
//! evidence, the rule's description and remediation), or an incident (its chain).
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

use super::super::keys::Pane;
use super::super::state::{App, Subject};
use super::super::text::safe_all;
use super::findings::sev_tag;
use super::theme::Theme;
use super::{content, title_row};
use crate::model::Resolution;
use crate::model::{CidRef, Event};
use crate::report::fields::time_column;
use crate::rules::finding::{Finding, Incident};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

/// Characters of a message quoted in a one-line reference.
const QUOTE: usize = 160;

/// Render the detail pane.
pub fn render(app: &App, area: Rect, buf: &mut Buffer, theme: Theme) {
    let focused = app.focus == Pane::Detail;
    let (title, lines) = match app.subject() {
        Subject::Event(i) => (event_title(app, i), event_lines(app, i, theme)),
        Subject::Finding(f) => {
            let f = &app.analysis.findings[f];
            (
                format!("{} {}", safe_all(&f.id), safe_all(&f.rule)),
                finding_lines(app, f, theme),
            )
        }
        Subject::Incident(i) => {
            let inc = &app.analysis.incidents[i];
            (
                format!("Incident {}", safe_all(&inc.id)),
                incident_lines(app, inc, theme),
            )
        }
        Subject::Nothing => (
            String::new(),
            vec![Line::styled("Nothing selected.", theme.dim())],
        ),
    };
    let mut left = vec![Span::styled("Detail", theme.title(focused))];
    if !title.is_empty() {
        left.push(Span::styled(format!(": {title}"), theme.title(focused)));
    }
    title_row(area, buf, theme, focused, left, "Enter closes");
    let body = content(area);
    let scroll = super::scroll_within(app.detail.scroll, lines.len());
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((scroll, 0))
        .render(
            Rect {
                x: body.x + 1,
                width: body.width.saturating_sub(1),
                ..body
            },
            buf,
        );
}

/// Trusted multi-line text (rule descriptions): one line per line, each made safe.
fn paragraph<'a>(
    text: &str,
    prefix: Option<(&'static str, ratatui::style::Style)>,
) -> Vec<Line<'a>> {
    text.trim()
        .lines()
        .enumerate()
        .map(|(k, l)| {
            let mut spans = Vec::new();
            if let Some((p, st)) = prefix {
                spans.push(Span::styled(if k == 0 { p } else { "        " }, st));
            }
            spans.push(Span::raw(safe_all(l)));
            Line::from(spans)
        })
        .collect()
}

fn heading<'a>(text: &str, theme: Theme) -> Line<'a> {
    Line::styled(format!("── {text} ──"), theme.heading())
}

fn label(app: &App, ev: &Event) -> String {
    app.timeline()
        .sources
        .get(ev.source)
        .map(|s| safe_all(&s.label))
        .unwrap_or_else(|| "?".into())
}

fn lines_of(ev: &Event) -> String {
    if ev.end_line > ev.line {
        format!("lines {}–{}", ev.line, ev.end_line)
    } else {
        format!("line {}", ev.line)
    }
}

fn event_title(app: &App, i: usize) -> String {
    match app.row(i) {
        Some(ev) => format!("{} {}", label(app, &ev), lines_of(&ev)),
        None => format!("event #{i}"),
    }
}

/// A one-line reference to an event: `source line N · time · message`.
fn event_ref<'a>(app: &App, i: usize, theme: Theme) -> Vec<Span<'a>> {
    let tl = app.timeline();
    let Some(ev) = app.record(i) else {
        return vec![Span::styled(
            format!("event #{i} (not in the timeline)"),
            theme.dim(),
        )];
    };
    vec![
        Span::styled(label(app, &ev), theme.source(ev.source)),
        Span::styled(
            format!(":{} · {} · ", ev.line, time_column(tl, &ev).trim_end()),
            theme.dim(),
        ),
        Span::raw(super::super::text::safe(&ev.message, QUOTE)),
    ]
}

fn cid_line(app: &App, c: &CidRef) -> String {
    let dir = &app.timeline().cids;
    match c {
        CidRef::Full(v) => match dir.name(*v) {
            Some(n) => format!("CID {v} = {}", safe_all(n)),
            None => format!("CID {v} (no name known)"),
        },
        CidRef::Prefix(p) => match dir.prefixes.get(p) {
            Some(Resolution::Unique(v)) => format!("CID {p}… → {}", safe_all(&dir.describe(*v))),
            Some(Resolution::Ambiguous(v)) => format!(
                "CID {p}… is ambiguous: {}",
                v.iter()
                    .map(|c| safe_all(&dir.describe(*c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!("CID {p}… (no full CID in these logs starts so)"),
        },
        CidRef::Lost => "CID lost: `undefined` where a CID belongs".to_string(),
    }
}

fn event_lines<'a>(app: &App, i: usize, theme: Theme) -> Vec<Line<'a>> {
    let tl = app.timeline();
    let Some(ev) = app.record(i) else {
        return Vec::new();
    };
    let ev = &*ev;
    let mut head = vec![
        Span::raw(time_column(tl, ev).trim_end().to_string()),
        Span::styled(format!(" ({})", ev.ts_quality.as_str()), theme.dim()),
        Span::styled(" · ", theme.dim()),
        Span::styled(
            crate::report::fields::level_caps(ev, "no level"),
            theme.level(ev.level),
        ),
    ];
    if let Some(t) = &ev.target {
        head.push(Span::styled(format!(" · {}", safe_all(t)), theme.dim()));
    }
    if let Some(l) = &ev.location {
        head.push(Span::styled(format!(" · at {}", safe_all(l)), theme.dim()));
    }
    let mut out = vec![Line::from(head), heading("Record", theme)];
    out.push(Line::raw(safe_all(&ev.message)));
    for c in &ev.continuation {
        out.push(Line::raw(safe_all(c)));
    }
    if !ev.fields.is_empty() {
        out.push(heading("Fields", theme));
        for (k, v) in &ev.fields {
            out.push(Line::from(vec![
                Span::styled(safe_all(k), theme.key()),
                Span::raw(" = "),
                Span::raw(safe_all(v)),
            ]));
        }
    }
    let any_entities = !ev.cids.is_empty()
        || !ev.uuids.is_empty()
        || !ev.msgid_prefixes.is_empty()
        || !ev.users.is_empty()
        || !ev.names.is_empty();
    if any_entities {
        out.push(heading("Entities", theme));
        let mut seen: Vec<&CidRef> = Vec::new();
        for c in &ev.cids {
            if !seen.contains(&c) {
                seen.push(c);
                out.push(Line::styled(cid_line(app, c), theme.name()));
            }
        }
        for u in &ev.uuids {
            out.push(Line::raw(format!("UUID {}", safe_all(u))));
        }
        for m in &ev.msgid_prefixes {
            out.push(Line::raw(format!("message id {}…", safe_all(m))));
        }
        for u in &ev.users {
            out.push(Line::raw(format!("user {}", safe_all(u))));
        }
        for (n, c) in &ev.names {
            out.push(Line::raw(format!("names CID {c} as {}", safe_all(n))));
        }
    }
    let mut links = app.derived.anchors_of(i).peekable();
    if links.peek().is_some() {
        out.push(heading("Anchored to", theme));
        for k in links {
            let Some(a) = tl.anchors.get(k) else { continue };
            let other = if a.a == i { a.b } else { a.a };
            let mut spans = vec![Span::styled(
                format!("⇄ {} ", safe_all(&a.name)),
                theme.key(),
            )];
            spans.extend(event_ref(app, other, theme));
            out.push(Line::from(spans));
        }
    }
    let cited: Vec<(&Finding, &str)> = app
        .analysis
        .findings
        .iter()
        .filter_map(|f| {
            f.evidence
                .iter()
                .find(|e| e.event == i)
                .map(|e| (f, e.role.as_str()))
        })
        .collect();
    if !cited.is_empty() {
        out.push(heading("Evidence of", theme));
        for (f, role) in cited {
            out.push(Line::from(vec![
                Span::styled(format!("{} ", safe_all(&f.id)), theme.key()),
                Span::styled(sev_tag(f.severity), theme.severity(f.severity)),
                Span::raw(format!(" {}", safe_all(&f.title))),
                Span::styled(format!(" ({})", safe_all(role)), theme.dim()),
            ]));
            rule_lines(app, f, theme, &mut out, false);
        }
    }
    out.extend(template_lines(app, i, theme));
    out
}

/// The event's template (lnav's log pattern): its id, its masked text, and how to filter on it.
fn template_lines<'a>(app: &App, i: usize, theme: Theme) -> Vec<Line<'a>> {
    let Some(ev) = app.record(i) else {
        return Vec::new();
    };
    let ev = &*ev;
    let (id, text, count) = match app.templates.as_ref().and_then(|t| t.of(i)) {
        Some(t) => (t.id.clone(), t.text.clone(), Some(t.count)),
        None => (
            crate::templates::id_of_event(ev),
            crate::templates::mask(&ev.message),
            None,
        ),
    };
    let mut how = String::from("t shows only lines of this template, T hides them");
    if let Some(n) = count {
        how = format!("{n} lines · {how}");
    }
    vec![
        heading("Template", theme),
        Line::from(vec![
            Span::styled(format!("{id} "), theme.key()),
            Span::raw(safe_all(&text)),
        ]),
        Line::styled(how, theme.dim()),
    ]
}

fn rule_lines<'a>(app: &App, f: &Finding, theme: Theme, out: &mut Vec<Line<'a>>, full: bool) {
    let Some(rule) = app.analysis.rules.iter().find(|r| r.id == f.rule) else {
        return;
    };
    if full {
        out.push(heading("Rule", theme));
        out.push(Line::styled(
            format!("{} ({})", safe_all(&rule.title), safe_all(&rule.id)),
            theme.key(),
        ));
        out.extend(paragraph(&rule.description, None));
        out.push(heading("Remediation", theme));
        out.extend(paragraph(&rule.remediation, None));
    } else {
        out.extend(paragraph(
            &rule.description,
            Some(("   why: ", theme.dim())),
        ));
        out.extend(paragraph(
            &rule.remediation,
            Some(("   fix: ", theme.dim())),
        ));
    }
}

fn cids_line<'a>(app: &App, cids: &[u64], theme: Theme) -> Option<Line<'a>> {
    if cids.is_empty() {
        return None;
    }
    let dir = &app.timeline().cids;
    Some(Line::from(vec![
        Span::styled("CIDs: ", theme.dim()),
        Span::styled(
            cids.iter()
                .map(|c| safe_all(&dir.describe(*c)))
                .collect::<Vec<_>>()
                .join(", "),
            theme.name(),
        ),
    ]))
}

fn finding_lines<'a>(app: &App, f: &Finding, theme: Theme) -> Vec<Line<'a>> {
    let mut out = vec![Line::from(vec![
        Span::styled(sev_tag(f.severity), theme.severity(f.severity)),
        Span::raw(" "),
        Span::styled(safe_all(&f.title), theme.key()),
    ])];
    out.extend(cids_line(app, &f.cids, theme));
    let mut facts = vec![format!("{} matching events", f.count)];
    if let Some(c) = &f.caused_by {
        facts.push(format!("caused by {}", safe_all(c)));
    }
    if !f.causes.is_empty() {
        facts.push(format!("led to {}", safe_all(&f.causes.join(", "))));
    }
    if let Some(inc) = app
        .analysis
        .incidents
        .iter()
        .find(|i| i.findings.contains(&f.id))
    {
        facts.push(format!("part of {}", safe_all(&inc.id)));
    }
    out.push(Line::styled(facts.join(" · "), theme.dim()));
    if !f.facts.is_empty() {
        out.push(heading("Facts", theme));
        for (k, v) in &f.facts {
            out.push(Line::from(vec![
                Span::styled(safe_all(k), theme.key()),
                Span::raw(" = "),
                Span::raw(safe_all(v)),
            ]));
        }
    }
    out.push(heading("Evidence", theme));
    for e in &f.evidence {
        let mut spans = vec![Span::styled(
            format!("{:<12}", safe_all(&e.role)),
            theme.dim(),
        )];
        spans.extend(event_ref(app, e.event, theme));
        out.push(Line::from(spans));
    }
    rule_lines(app, f, theme, &mut out, true);
    out
}

fn incident_lines<'a>(app: &App, inc: &Incident, theme: Theme) -> Vec<Line<'a>> {
    let mut out = vec![Line::raw(safe_all(&inc.summary))];
    out.extend(cids_line(app, &inc.cids, theme));
    out.push(heading("Chain, root first", theme));
    for (k, id) in inc.findings.iter().enumerate() {
        // Each consequence sits under its cause: the incident is a tree.
        let arrow = if k == 0 {
            "root ".to_string()
        } else {
            format!("{}→  ", "  ".repeat(app.analysis.depth(id)))
        };
        match app.analysis.findings.iter().find(|f| &f.id == id) {
            Some(f) => out.push(Line::from(vec![
                Span::styled(arrow, theme.dim()),
                Span::styled(format!("{} ", safe_all(&f.id)), theme.key()),
                Span::styled(sev_tag(f.severity), theme.severity(f.severity)),
                Span::raw(format!(" {}", safe_all(&f.title))),
            ])),
            None => out.push(Line::raw(format!("{arrow}{}", safe_all(id)))),
        }
    }
    if let Some(root) = app.analysis.findings.iter().find(|f| f.id == inc.root) {
        out.push(Line::raw(""));
        out.push(Line::styled(
            format!(
                "Root cause: {} {}",
                safe_all(&root.id),
                safe_all(&root.title)
            ),
            theme.severity(root.severity),
        ));
        rule_lines(app, root, theme, &mut out, true);
    }
    out
}
