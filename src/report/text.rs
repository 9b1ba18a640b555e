//! Text output for people: the check report that reads like a hand-written incident report, and the
//! timeline as one story with a per-source summary. Colour only through `Style` (terminal, NO_COLOR).

use super::fields::{cid_notes, time_column};
use super::run::{plural, Run, Verdict};
use super::style::{sanitize, Style};
use super::wire::{label, summarize};
use super::{CheckWriter, TimelineWriter};
use crate::filter::Filter;
use crate::model::{Event, Timeline};
use crate::rules::finding::{Analysis, Severity};
use std::io::{self, Write};

/// The text writer.
#[derive(Debug, Clone)]
pub struct Text {
    /// Colours or not.
    pub style: Style,
    /// The run: the `--fail-on` threshold the verdict line names, the baseline, run metadata.
    pub run: Run,
}

impl CheckWriter for Text {
    fn write_check(&self, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
        write_check_run(out, a, &self.run, self.style)
    }
}

impl TimelineWriter for Text {
    fn write_timeline(
        &self,
        out: &mut dyn Write,
        tl: &Timeline,
        filter: &Filter,
    ) -> io::Result<()> {
        write_timeline_events(out, tl, filter, self.style).map(|_| ())
    }
}

fn sev_style(style: Style, s: Severity) -> String {
    let code = match s {
        Severity::Critical => "1;41;97",
        Severity::High => "1;31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    style.paint(code, &format!("{:<8}", s.as_str().to_ascii_uppercase()))
}

fn cid_list(tl: &Timeline, cids: &[u64]) -> String {
    // Names come from log text.
    sanitize(
        &cids
            .iter()
            .map(|c| tl.cids.describe(*c))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Write the check report as text with a threshold and nothing else of a run.
pub fn write_check(
    out: &mut dyn Write,
    a: &Analysis,
    fail_on: Option<Severity>,
    style: Style,
) -> io::Result<()> {
    write_check_run(out, a, &Run::with_fail_on(fail_on), style)
}

/// Write the check report of one run as text.
pub fn write_check_run(
    out: &mut dyn Write,
    a: &Analysis,
    run: &Run,
    style: Style,
) -> io::Result<()> {
    let tl = &a.timeline;
    let s = summarize(&a.findings);
    let failed = run.verdict(a) == Verdict::Fail;
    // Ids padded to the longest (F9 and F10 line up).
    let idw = a.findings.iter().map(|f| f.id.len()).max().unwrap_or(2);
    let shown = |f: &&crate::rules::finding::Finding| run.show_suppressed || !run.is_suppressed(f);
    writeln!(
        out,
        "{} {} critical, {} high, {} medium, {} low, {} info — {}",
        style.bold("diag check:"),
        s.critical,
        s.high,
        s.medium,
        s.low,
        s.info,
        if failed {
            style.paint("1;31", "FAIL")
        } else {
            style.paint("1;32", "PASS")
        }
    )?;
    // Partial evidence is said before anything that rests on it.
    for i in super::wire::incomplete(tl) {
        writeln!(
            out,
            "{} {} stopped after line {}: {}",
            style.paint("1;31", "INCOMPLETE:"),
            sanitize(&i.path),
            i.stopped_after_line,
            sanitize(&i.error)
        )?;
    }
    for inc in &a.incidents {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            style.bold(&format!(
                "Incident {} (CIDs: {})",
                inc.id,
                cid_list(tl, &inc.cids)
            ))
        )?;
        writeln!(out, "  {}", sanitize(&inc.summary))?;
        for (n, id) in inc.findings.iter().enumerate() {
            if let Some(f) = a.findings.iter().find(|f| &f.id == id) {
                // The incident is a tree: each consequence sits under its cause.
                let depth = a.depth(&f.id);
                let arrow = if n == 0 {
                    "root".to_string()
                } else {
                    format!("{}↳ ", "  ".repeat(depth))
                };
                writeln!(
                    out,
                    "  {arrow} {:<idw$} {} {}{}",
                    f.id,
                    sev_style(style, f.severity),
                    sanitize(&f.title),
                    if run.is_suppressed(f) {
                        style.dim(" (in baseline)")
                    } else {
                        String::new()
                    }
                )?;
            }
        }
    }
    if a.findings.iter().any(|f| shown(&f)) {
        writeln!(out)?;
        writeln!(out, "{}", style.bold("Findings"))?;
    }
    for f in a.findings.iter().filter(shown) {
        writeln!(
            out,
            "{} {:<idw$} [{}] {}{}",
            sev_style(style, f.severity),
            f.id,
            f.rule,
            sanitize(&f.title),
            if run.is_suppressed(f) {
                style.dim(" (in baseline)")
            } else {
                String::new()
            }
        )?;
        if !f.cids.is_empty() {
            writeln!(out, "         CIDs: {}", cid_list(tl, &f.cids))?;
        }
        if let Some(c) = &f.caused_by {
            writeln!(out, "         caused by {c}")?;
        }
        let mut facts: Vec<String> = f.facts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        match f.window_basis {
            crate::rules::finding::WindowBasis::Time => {
                facts.push("window measured in time".into())
            }
            crate::rules::finding::WindowBasis::Order => {
                facts.push("window measured in event order (no times)".into())
            }
            crate::rules::finding::WindowBasis::None => {}
        }
        if !facts.is_empty() {
            writeln!(out, "         {}", style.dim(&sanitize(&facts.join("  "))))?;
        }
        for e in f.evidence.iter().take(4) {
            if let Some(ev) = tl.event(e.event) {
                let t = time_column(tl, ev);
                writeln!(
                    out,
                    "         {} {} {}:{} {}",
                    style.dim(&t),
                    style.dim(&format!("{:<11}", e.role)),
                    sanitize(&label(tl, e.event)),
                    ev.line,
                    sanitize(&ev.message.chars().take(160).collect::<String>())
                )?;
                if e.role == "match" || e.role == "trigger" {
                    if let Some(c) = ev.continuation.first() {
                        writeln!(out, "         {:>24} {}", "", style.dim(&sanitize(c)))?;
                    }
                }
            }
        }
        if f.evidence.len() > 4 || f.count > f.evidence.len() {
            writeln!(
                out,
                "         {}",
                style.dim(&format!(
                    "… {} events in all",
                    f.count.max(f.evidence.len())
                ))
            )?;
        }
    }
    if let Some(b) = &run.baseline {
        let n = b.suppressed.len();
        writeln!(out)?;
        let mut line = format!(
            "Baseline {}: {} accepted, {} new",
            b.path,
            plural(n, "finding"),
            a.findings.len().saturating_sub(n)
        );
        if n > 0 && !run.show_suppressed {
            line.push_str(" (--show-suppressed lists the accepted ones)");
        }
        if b.absent > 0 {
            line.push_str(&format!("; {} in the baseline did not occur", b.absent));
        }
        writeln!(out, "{}", style.dim(&line))?;
    }
    writeln!(out)?;
    write_source_summary(out, tl, style)?;
    Ok(())
}

/// How many continuation lines the text view shows under a record.
const CONT_LINES: usize = 4;

/// Write the timeline as text, events then the footer (sources, marks, filter), all to `out`.
pub fn write_timeline(
    out: &mut dyn Write,
    tl: &Timeline,
    filter: &Filter,
    style: Style,
) -> io::Result<()> {
    let shown = write_timeline_events(out, tl, filter, style)?;
    writeln!(out)?;
    write_timeline_footer(out, tl, filter, &shown, style)
}

/// What the events part of the timeline showed, for its footer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shown {
    /// Events shown.
    pub events: usize,
    /// Whether any shown event carries a time mark (`·`, `~`, `?`).
    pub marked: bool,
    /// Events on the timeline, shown or not.
    pub total: usize,
    /// Events without a level that only the minimum level hid.
    pub levelless: usize,
}

/// Write the events of the timeline that `filter` keeps (the data: `diag timeline` sends it to
/// stdout); returns what was shown.
pub fn write_timeline_events(
    out: &mut dyn Write,
    tl: &Timeline,
    filter: &Filter,
    style: Style,
) -> io::Result<Shown> {
    let mut w = EventLines::new(tl, style);
    for ev in &tl.events {
        w.event(out, tl, filter, ev)?;
    }
    Ok(w.shown)
}

/// Writes timeline events for people one at a time (a streamed timeline has them one at a time).
pub struct EventLines {
    style: Style,
    width: usize,
    last_date: Option<chrono::NaiveDate>,
    /// What was shown so far.
    pub shown: Shown,
}

impl EventLines {
    /// A writer for the events of `tl` (its sources set the label column's width).
    pub fn new(tl: &Timeline, style: Style) -> Self {
        let width = tl
            .sources
            .iter()
            .map(|s| s.label.chars().count())
            .max()
            .unwrap_or(6)
            .min(28);
        EventLines {
            style,
            width,
            last_date: None,
            shown: Shown::default(),
        }
    }

    /// Write `ev` when `filter` keeps it.
    pub fn event(
        &mut self,
        out: &mut dyn Write,
        tl: &Timeline,
        filter: &Filter,
        ev: &Event,
    ) -> io::Result<()> {
        let style = self.style;
        let width = self.width;
        self.shown.total += 1;
        if !filter.matches(tl, ev) {
            self.shown.levelless += usize::from(filter.hid_without_level(tl, ev));
            return Ok(());
        }
        self.shown.events += 1;
        self.shown.marked |= ev.ts_quality.mark() != ' ';
        if let Some(t) = ev.ts {
            let d = t.date_naive();
            if self.last_date != Some(d) {
                writeln!(out, "{}", style.dim(&format!("── {d} (UTC) ──")))?;
                self.last_date = Some(d);
            }
        }
        let label = super::fields::source_label(tl, ev);
        let lvl = super::fields::level_caps(ev, "-");
        let notes = cid_notes(tl, ev);
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(
                "  {}",
                style.dim(&sanitize(&format!("⟨{}⟩", notes.join(", "))))
            )
        };
        writeln!(
            out,
            "{}{} {} {} {}{}",
            time_column(tl, ev),
            ev.ts_quality.mark(),
            style.source(ev.source, &format!("{:<width$}", sanitize(label))),
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
        Ok(())
    }
}

/// What the marks after the time column mean (`diag timeline --help` says the same).
pub const MARKS: &str = "marks after the time: (none) the line's own date and time; · time of day only, date from --date or another source; ~ no time of its own, placed between anchors; ? no time at all, kept in file order";

/// The timeline's footer (`diag timeline` sends it to stderr): sources, what the marks mean when
/// shown events carry one, how many events the filter kept.
pub fn write_timeline_footer(
    out: &mut dyn Write,
    tl: &Timeline,
    filter: &Filter,
    shown: &Shown,
    style: Style,
) -> io::Result<()> {
    write_source_summary(out, tl, style)?;
    if shown.marked {
        writeln!(out, "{}", style.dim(MARKS))?;
    }
    if !filter.is_empty() {
        writeln!(
            out,
            "{} of {} shown ({})",
            shown.events,
            plural(shown.total, "event"),
            sanitize(&filter.describe(tl))
        )?;
        let levelless = shown.levelless;
        if levelless > 0 {
            writeln!(
                out,
                "{levelless} hidden events carry no level (their format writes none, their text gave none) and count as info"
            )?;
        }
    }
    Ok(())
}

/// Per-source summary: format, events, unparsed lines, placement, clock offset.
pub fn write_source_summary(out: &mut dyn Write, tl: &Timeline, style: Style) -> io::Result<()> {
    writeln!(out, "{}", style.bold("Sources"))?;
    for (i, s) in tl.sources.iter().enumerate() {
        writeln!(
            out,
            "  {}  {} ({}{}), {}, {} unparsed, {}",
            style.source(i, &sanitize(&s.label)),
            sanitize(&s.path),
            s.detection.format,
            if s.detection.forced { ", forced" } else { "" },
            plural(s.events, "event"),
            s.parse.unparsed,
            plural(
                usize::try_from(s.parse.meta).unwrap_or(usize::MAX),
                "meta line"
            ),
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
        writeln!(out, "{}", style.dim(&sanitize(&how)))?;
    }
    let named: Vec<String> = tl
        .cids
        .names
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(c, n)| format!("{}={c}", n.join("/")))
        .collect();
    if !named.is_empty() {
        writeln!(out, "  names: {}", sanitize(&named.join(", ")))?;
    }
    Ok(())
}
