//! Applying a `:` command: filters, jumps, help and quit. A command that cannot be read keeps the
//! prompt open with the reason (and the nearest command name), as a bad filter does.

use super::{App, Entry, Rows};
use crate::model::Axis;
use crate::tui::command::{self, Command, Target};
use crate::tui::export;
use crate::tui::filterset::time_of_day;
use crate::tui::query;

impl App {
    pub(super) fn submit_command(&mut self, text: &str) {
        let cmd = match command::parse(text) {
            Ok(c) => c,
            Err(e) => {
                if let Some(p) = &mut self.prompt {
                    p.error = Some(e);
                }
                return;
            }
        };
        if let Command::Filter(line) = &cmd {
            // Checked before the prompt closes, so a mistake can be corrected in place.
            match query::parse_filter(line, &self.analysis.timeline) {
                Ok(changes) => {
                    self.prompt = None;
                    if changes.is_empty() {
                        self.clear_filters();
                        return;
                    }
                    for c in changes {
                        c.apply(&mut self.events.filter);
                    }
                    self.refilter();
                }
                Err(e) => {
                    if let Some(p) = &mut self.prompt {
                        p.error = Some(e);
                    }
                }
            }
            return;
        }
        self.prompt = None;
        let f = &mut self.events.filter;
        match cmd {
            Command::FilterIn(re) => {
                if !f.text.iter().any(|r| r.as_str() == re.as_str()) {
                    f.text.push(re);
                }
                self.refilter();
            }
            Command::FilterOut(re) => {
                query::Change::HideText(Some(re)).apply(f);
                self.refilter();
            }
            Command::DeleteFilter(p) => {
                if f.remove_text(&p) {
                    self.refilter();
                    self.message = Some(format!("filter /{p}/ deleted"));
                } else {
                    self.message = Some(format!(
                        "no filter-in or filter-out /{p}/; the status line lists those in force"
                    ));
                }
            }
            Command::ClearFilters => self.clear_filters(),
            Command::MinLevel(l) => {
                f.min_level = Some(l);
                self.refilter();
            }
            Command::HideFile(name) => {
                let tl = &self.analysis.timeline;
                if !tl.sources.iter().any(|s| s.label.contains(&name)) {
                    self.message = Some(format!(
                        "no source named like {name:?}; the sources strip lists them"
                    ));
                    return;
                }
                query::Change::HideSource(Some(name)).apply(f);
                self.refilter();
            }
            Command::ShowFile(name) => {
                match name {
                    // `-source:alice` keeps the label it resolved to (`alice-tab0`): either way matches.
                    Some(n) => f
                        .hide
                        .sources
                        .retain(|s| !s.contains(n.as_str()) && !n.contains(s.as_str())),
                    None => f.hide.sources.clear(),
                }
                self.refilter();
            }
            Command::Goto(t) => self.goto(t),
            Command::Highlight(re) => {
                let hl = &mut self.events.highlights;
                if !hl.iter().any(|h| h.as_str() == re.as_str()) {
                    hl.push(re);
                }
            }
            Command::ClearHighlight(typed) => {
                let hl = &mut self.events.highlights;
                let before = hl.len();
                match typed {
                    Some(t) => hl.retain(|h| h.as_str().trim_start_matches("(?i)") != t),
                    None => hl.clear(),
                }
                let gone = before - hl.len();
                self.message = Some(format!("{gone} highlights dropped"));
            }
            Command::HideLines { before, at } => {
                if self.analysis.timeline.axis == Axis::Order {
                    self.message =
                        Some("these logs carry no times; filter by text or level".into());
                    return;
                }
                if before {
                    f.from = Some(at);
                } else {
                    f.until = Some(at);
                }
                self.refilter();
            }
            Command::ShowAllLines => {
                f.from = None;
                f.until = None;
                self.refilter();
            }
            Command::WriteTo { path, append } => {
                let file = export::expand(&path);
                // As lnav: the marked lines when there are some, else every row shown.
                let marked = self.marked_rows();
                let marked: Option<Rows> = marked.map(|m| m.into_iter().collect());
                let rows = marked.as_ref().unwrap_or(&self.events.rows);
                self.message = Some(
                    match export::to_file(&file, append, &self.analysis.timeline, rows, &|r| {
                        self.records(r)
                    }) {
                        Ok(()) => format!(
                            "{} {} {}rows to {}",
                            if append { "appended" } else { "wrote" },
                            rows.len(),
                            if marked.is_some() { "marked " } else { "" },
                            file.display()
                        ),
                        Err(e) => e,
                    },
                );
            }
            Command::Help => {
                self.help.open = true;
                self.help.scroll = 0;
            }
            Command::Quit => self.quit = true,
            Command::Filter(_) => {}
        }
    }

    fn goto(&mut self, t: Target) {
        let n = self.events.rows.len();
        if n == 0 && !matches!(t, Target::Finding(_)) {
            self.message = Some("no rows to go to".into());
            return;
        }
        let tl = &self.analysis.timeline;
        let row = match t {
            Target::Row(r) => Some(r.clamp(1, n) - 1),
            Target::Percent(p) => Some(((p / 100.0 * n as f64) as usize).min(n - 1)),
            Target::Time(want) => {
                if tl.axis == Axis::Order {
                    self.message = Some("these logs carry no times; goto a row or a line".into());
                    return;
                }
                let found = self.events.rows.iter().position(|i| {
                    self.row(i)
                        .is_some_and(|ev| time_of_day(&ev).is_some_and(|at| at >= want))
                });
                if found.is_none() {
                    self.message = Some(format!("no row at or after {want}"));
                }
                found
            }
            Target::Line(name, line) => {
                let found = self.events.rows.iter().position(|i| {
                    let Some(ev) = self.row(i) else { return false };
                    ev.end_line >= line
                        && tl
                            .sources
                            .get(ev.source)
                            .is_some_and(|s| s.label.contains(&name))
                });
                if found.is_none() {
                    self.message = Some(format!(
                        "no row of a source named like {name:?} at line {line} or later (filters hide some?)"
                    ));
                }
                found
            }
            Target::Finding(id) => {
                let a = &self.analysis;
                let entry = self.findings.entries.iter().position(|e| match e {
                    Entry::Finding(f) => a.findings[*f].id == id,
                    Entry::Incident(i) => a.incidents[*i].id == id,
                });
                match entry {
                    Some(s) => {
                        self.select(s);
                        self.name_selection();
                    }
                    None => self.message = Some(format!("no finding or incident {id}")),
                }
                return;
            }
        };
        if let Some(r) = row {
            self.events.cursor = r;
            self.events.scroll = r.saturating_sub(self.page() / 3);
            self.keep_cursor_visible();
        }
    }
}
