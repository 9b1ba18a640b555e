//! State: everything the TUI shows that is not in the [`Analysis`]: panes, cursor and scroll, filters and
//! the filtered index, search and its hits, the selected finding and its marked evidence, the user's
//! marks, what was typed at each prompt, follow. [`App::update`] applies one [`Action`]; the views only
//! read this state.
//!
//! The filtered index (`rows`, event indices in timeline order) is rebuilt only when filters change, so
//! moving around a million events costs nothing but the rows on screen.
//!
//! Each pane's own state is in [`panes`] (timeline, findings, detail, help), the indexes derived from a
//! load in [`derived`], the one scroll clamp in [`window`]; `App` holds them and moves between them.
//! The `:` command line is applied in `command`, marks in `marks`.
// Indexing cannot panic here: row, pane and bucket indices are clamped to the lists they index whenever those change.
#![allow(clippy::indexing_slicing)]

mod command;
pub mod derived;
mod filters;
mod marks;
pub mod panes;
mod prompt;
mod records;
pub mod rows;
mod search;
mod select;
pub mod window;

use super::keys::{Action, Mode, Pane};
use super::layout::{self, Areas, Shape};
use crate::model::{Axis, CidDirectory, Level, Timeline};
use crate::rules::finding::Analysis;
use crate::templates::Templates;
use derived::Derived;
pub use panes::{DetailPane, Entry, EventsPane, FindingsPane, HelpPane};
use ratatui::layout::Rect;
pub use rows::Rows;
use std::sync::Arc;

/// Rows an incremental search looks at per keystroke (Enter and `n` look at all of them).
const PREVIEW_ROWS: usize = 200_000;

/// What a load produced, ready to be shown.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Timeline, findings, incidents and rules.
    pub analysis: Analysis,
    /// Why there are no findings when the rules could not run.
    pub rules_error: Option<String>,
    /// Inputs skipped or mended while reading.
    pub problems: Vec<String>,
    /// Templates of the events, when the load was asked for them (a template filter is in force).
    pub templates: Option<Templates>,
    /// A preview: the head of each input, without rules; the whole follows.
    pub preview: bool,
    /// When the records are not held (inputs too big to hold): the index that reads them again
    /// when shown; the analysis's timeline then holds only what the rules read.
    pub index: Option<Arc<crate::index::Index>>,
}

/// Where the cursor and the marks were, by record, before a load replaced the timeline.
struct Places {
    keep: Option<(Option<String>, u64, bool)>,
    scroll_offset: usize,
    marks: Vec<(String, u64)>,
}

/// Where loading stands.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    /// Reading: bytes so far and in all (0 when unknown, as for stdin).
    Loading {
        /// Bytes read.
        bytes: u64,
        /// Bytes in all inputs.
        total: u64,
    },
    /// Loaded.
    Ready,
    /// Loading failed; the message says why.
    Failed(String),
}

/// Which prompt is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `/`: a regex to search for.
    Search,
    /// `f`: filter terms.
    Filter,
    /// `:`: a command.
    Command,
}

/// A line being typed.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// What it is for.
    pub kind: PromptKind,
    /// What was typed.
    pub text: String,
    /// Cursor and scroll when it opened (a cancelled search goes back there).
    pub origin: (usize, usize),
    /// Why the last Enter was refused.
    pub error: Option<String>,
    /// Which line of the history is shown (`None`: the line being typed).
    pub recall: Option<usize>,
}

/// What the detail pane describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// Nothing (empty timeline, no finding selected).
    Nothing,
    /// `Timeline::events[i]`.
    Event(usize),
    /// `Analysis::findings[i]`.
    Finding(usize),
    /// `Analysis::incidents[i]`.
    Incident(usize),
}

/// The whole state of the TUI: what is shown, and each pane's state.
#[derive(Debug, Clone)]
pub struct App {
    /// What is shown (empty while loading); shared with the thread that runs the rules again after
    /// a follow appended records.
    pub analysis: Arc<Analysis>,
    /// Why the rules did not run, when they did not.
    pub rules_error: Option<String>,
    /// Inputs skipped or mended.
    pub problems: Vec<String>,
    /// Loading progress.
    pub load: LoadState,
    /// Whether to use colour (off with `NO_COLOR`).
    pub color: bool,
    /// Terminal size.
    pub size: (u16, u16),
    /// Where the panes are for that size.
    pub areas: Areas,
    /// Pane with the keyboard focus.
    pub focus: Pane,
    /// The timeline pane.
    pub events: EventsPane,
    /// The findings pane.
    pub findings: FindingsPane,
    /// The detail pane.
    pub detail: DetailPane,
    /// The help screen.
    pub help: HelpPane,
    /// Prompt being typed.
    pub prompt: Option<Prompt>,
    /// Lines entered at each prompt, oldest first (↑ recalls them).
    pub history: Vec<(PromptKind, String)>,
    /// Indexes derived from the load.
    pub derived: Derived,
    /// Templates of the loaded events, computed the first time a template is filtered on.
    pub templates: Option<Templates>,
    /// Whether what growing files gain is appended.
    pub follow: bool,
    /// Whether the rules are running again over records a follow appended (the findings shown are
    /// the last run's, their evidence moved with the records).
    pub judging: bool,
    /// Whether every input can be re-read (stdin cannot).
    pub can_follow: bool,
    /// One-off message for the status line.
    pub message: Option<String>,
    /// Set when the user quits.
    pub quit: bool,
    /// While a preview is shown: bytes of the whole read so far, and in all (0 when unknown).
    pub rest: Option<(u64, u64)>,
    /// The records' index, when they are not held (see [`Loaded::index`]).
    index: Option<Arc<crate::index::Index>>,
}

/// An analysis of nothing, to show while loading.
pub fn empty_analysis() -> Analysis {
    Analysis {
        timeline: Timeline {
            sources: Vec::new(),
            events: Vec::new(),
            cids: CidDirectory::default(),
            anchors: Vec::new(),
            axis: Axis::Time,
            dated: false,
            unread: Vec::new(),
            sparse: None,
        },
        findings: Vec::new(),
        incidents: Vec::new(),
        rules: Vec::new(),
        templates: None,
    }
}

/// The findings list of an analysis: incidents, then findings by severity.
fn entries(a: &Analysis) -> Vec<Entry> {
    let mut by_sev: Vec<usize> = (0..a.findings.len()).collect();
    by_sev.sort_by_key(|&i| std::cmp::Reverse(a.findings[i].severity));
    (0..a.incidents.len())
        .map(Entry::Incident)
        .chain(by_sev.into_iter().map(Entry::Finding))
        .collect()
}

impl App {
    /// A TUI waiting for its first load.
    pub fn new(color: bool, size: (u16, u16)) -> App {
        let mut app = App {
            analysis: Arc::new(empty_analysis()),
            rules_error: None,
            problems: Vec::new(),
            load: LoadState::Loading { bytes: 0, total: 0 },
            color,
            size,
            areas: Areas::default(),
            focus: Pane::Timeline,
            events: EventsPane::default(),
            findings: FindingsPane::default(),
            detail: DetailPane::default(),
            help: HelpPane::default(),
            prompt: None,
            history: Vec::new(),
            derived: Derived::default(),
            templates: None,
            follow: false,
            judging: false,
            can_follow: true,
            message: None,
            quit: false,
            rest: None,
            index: None,
        };
        app.relayout();
        app
    }

    /// A TUI showing a finished load (tests, examples).
    pub fn with(loaded: Loaded, color: bool, size: (u16, u16)) -> App {
        let mut app = App::new(color, size);
        app.install(loaded);
        app
    }

    /// The timeline shown.
    pub fn timeline(&self) -> &Timeline {
        &self.analysis.timeline
    }

    /// Which key table is in force.
    pub fn mode(&self) -> Mode {
        if self.prompt.is_some() {
            Mode::Prompt
        } else if self.help.open {
            Mode::Help
        } else {
            Mode::Normal
        }
    }

    /// Loading progress.
    pub fn progress(&mut self, bytes: u64, total: u64) {
        if let LoadState::Loading { .. } = self.load {
            self.load = LoadState::Loading { bytes, total };
        } else if self.rest.is_some() {
            self.rest = Some((bytes, total));
        }
    }

    /// Loading failed.
    pub fn failed(&mut self, why: String) {
        if self.rest.take().is_some() {
            // Reading past the preview failed: keep showing the preview, and say so.
            self.message = Some(format!("reading past the preview failed: {why}"));
        } else if self.load == LoadState::Ready {
            // A reload failed: keep showing the last good load.
            self.message = Some(format!("reload failed: {why}"));
        } else {
            self.load = LoadState::Failed(why);
        }
    }

    /// Show a load; on a reload, keep the cursor on the same record (or at the end when it was there).
    pub fn install(&mut self, loaded: Loaded) {
        let places = self.places();
        self.install_at(loaded, places);
    }

    /// Show what the inputs gained: `grow` makes the new load of the analysis shown (the timeline
    /// with the new records, the rules run again); the cursor keeps its record, or the end.
    pub fn grow(&mut self, grow: impl FnOnce(Analysis) -> Loaded) {
        let places = self.places();
        let shared = std::mem::replace(&mut self.analysis, Arc::new(empty_analysis()));
        // Not shared unless a thread still runs the rules on it: then it is copied, not lost.
        let was = Arc::try_unwrap(shared).unwrap_or_else(|a| (*a).clone());
        let mut loaded = grow(was);
        loaded
            .problems
            .splice(0..0, std::mem::take(&mut self.problems));
        self.install_at(loaded, places);
    }

    /// Where the cursor and the marks are, by record (label and line), to find them after a load.
    fn places(&self) -> Places {
        let keep = self.current_event().and_then(|i| self.row(i)).map(|ev| {
            let label = self
                .analysis
                .timeline
                .sources
                .get(ev.source)
                .map(|s| s.label.clone());
            (
                label,
                ev.line,
                self.events.cursor + 1 == self.events.rows.len(),
            )
        });
        Places {
            keep,
            scroll_offset: self.events.cursor.saturating_sub(self.events.scroll),
            marks: self.mark_places(),
        }
    }

    fn install_at(&mut self, loaded: Loaded, places: Places) {
        let Places {
            keep,
            scroll_offset: old_scroll_offset,
            marks,
        } = places;
        self.analysis = Arc::new(loaded.analysis);
        self.index = loaded.index;
        self.rules_error = loaded.rules_error;
        self.problems = loaded.problems;
        self.load = LoadState::Ready;
        self.rest = loaded.preview.then_some((0, 0));
        self.findings.entries = entries(&self.analysis);
        self.templates = loaded.templates;
        self.events.marks = self.place_marks(&marks);
        // A CID filter names a CID, not an index (a template filter an id), so it survives a reload.
        self.events.rows = self.filtered();
        self.find_hits();
        self.derived = Derived::build(&self.analysis, self.total(), &self.events.rows, &|i| {
            self.place(i)
        });
        self.events.cursor = 0;
        self.events.scroll = 0;
        if let Some((label, line, at_end)) = keep {
            let tl = &self.analysis.timeline;
            let found = if at_end {
                None
            } else {
                self.events.rows.iter().position(|i| {
                    self.row(i).is_some_and(|ev| {
                        ev.line == line
                            && tl.sources.get(ev.source).map(|s| &s.label) == label.as_ref()
                    })
                })
            };
            self.events.cursor = match found {
                Some(r) => r,
                None if at_end => self.events.rows.len().saturating_sub(1),
                None => 0,
            };
            self.events.scroll = self.events.cursor.saturating_sub(old_scroll_offset);
        }
        if let Some(s) = self.findings.selected {
            if s >= self.findings.entries.len() {
                self.findings.selected = None;
            }
        }
        self.findings.marked = self
            .findings
            .selected
            .map(|s| self.entry_evidence(s))
            .unwrap_or_default();
        self.relayout();
    }

    /// Terminal resized.
    pub fn resize(&mut self, width: u16, height: u16) {
        self.size = (width, height);
        self.relayout();
    }

    /// What the layout depends on.
    pub fn shape(&self) -> Shape {
        Shape {
            detail_open: self.detail.open,
            detail_from: self.detail.from,
            entries: self.findings.entries.len(),
        }
    }

    fn relayout(&mut self) {
        self.areas = layout::areas(Rect::new(0, 0, self.size.0, self.size.1), self.shape());
        self.events.cursor = self
            .events
            .cursor
            .min(self.events.rows.len().saturating_sub(1));
        self.keep_cursor_visible();
        self.keep_selection_visible();
    }

    /// Rows of a timeline page.
    pub fn page(&self) -> usize {
        self.areas.rows(Pane::Timeline).max(1)
    }

    fn keep_cursor_visible(&mut self) {
        let page = self.page();
        self.events.keep_cursor_visible(page);
    }

    fn keep_selection_visible(&mut self) {
        let page = self.areas.rows(Pane::Findings).max(1);
        self.findings.keep_selection_visible(page);
    }

    /// Event index under the timeline cursor.
    pub fn current_event(&self) -> Option<usize> {
        self.events.current()
    }

    /// What the detail pane describes.
    pub fn subject(&self) -> Subject {
        match self.detail.from {
            Pane::Findings => match self
                .findings
                .selected
                .and_then(|s| self.findings.entries.get(s))
            {
                Some(Entry::Finding(f)) => Subject::Finding(*f),
                Some(Entry::Incident(i)) => Subject::Incident(*i),
                None => Subject::Nothing,
            },
            _ => self
                .current_event()
                .map(Subject::Event)
                .unwrap_or(Subject::Nothing),
        }
    }

    /// Put the cursor on an event (or the next one the filters show), with some context above it;
    /// false when the filters hide the event itself.
    fn jump_to_event(&mut self, ev: usize, center: bool) -> bool {
        let page = self.page();
        self.events.jump_to_event(ev, center, page)
    }

    fn move_cursor(&mut self, delta: isize) {
        let page = self.page();
        self.events.move_cursor(delta, page);
    }

    fn cycle_focus(&mut self, forward: bool) {
        let order: &[Pane] = if self.detail.open {
            &[Pane::Timeline, Pane::Findings, Pane::Detail]
        } else {
            &[Pane::Timeline, Pane::Findings]
        };
        let k = order.iter().position(|p| *p == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (k + 1) % n
        } else {
            (k + n - 1) % n
        }];
        if self.focus != Pane::Detail && self.detail.from != self.focus {
            self.detail.from = self.focus;
            self.detail.scroll = 0;
        }
    }

    fn scroll_pane(&mut self, pane: Pane, delta: isize) {
        match pane {
            Pane::Timeline => {
                let page = self.page();
                self.events.scroll_by(delta, page);
            }
            Pane::Findings => {
                let page = self.areas.rows(Pane::Findings).max(1);
                self.findings.scroll_by(delta, page);
            }
            Pane::Detail => self.detail.scroll_by(delta),
        }
    }

    /// Move in the focused pane.
    fn step(&mut self, delta: isize) {
        match self.focus {
            Pane::Timeline => self.move_cursor(delta),
            Pane::Findings => self.move_selection(delta),
            Pane::Detail => self.scroll_pane(Pane::Detail, delta),
        }
    }

    /// Apply one action.
    pub fn update(&mut self, a: Action) {
        self.message = None;
        if a == Action::Interrupt {
            self.quit = true;
            return;
        }
        if self.prompt.is_some() {
            self.prompt_action(a);
            self.relayout();
            return;
        }
        if self.help.open {
            let max = crate::tui::view::help::max_scroll(self.size);
            self.help.update(a, max);
            return;
        }
        let page = match self.focus {
            Pane::Timeline => self.page(),
            other => self.areas.rows(other).max(1),
        } as isize;
        match a {
            Action::Up => self.step(-1),
            Action::Down => self.step(1),
            Action::PageUp => self.step(-page),
            Action::PageDown => self.step(page),
            Action::Top => match self.focus {
                Pane::Detail => self.detail.scroll = 0,
                _ => self.step(-(isize::MAX / 2)),
            },
            Action::Bottom => self.step(isize::MAX / 2),
            Action::NextPane => self.cycle_focus(true),
            Action::PrevPane => self.cycle_focus(false),
            Action::Enter => match self.focus {
                Pane::Detail => {
                    self.detail.open = false;
                    self.focus = self.detail.from;
                }
                f if self.detail.open && self.detail.from == f => self.detail.open = false,
                f => {
                    if f == Pane::Findings
                        && self.findings.selected.is_none()
                        && !self.findings.entries.is_empty()
                    {
                        self.select(0);
                    }
                    self.detail.open = true;
                    self.detail.from = f;
                    self.detail.scroll = 0;
                }
            },
            Action::Back => {
                if self.detail.open {
                    self.detail.open = false;
                    if self.focus == Pane::Detail {
                        self.focus = self.detail.from;
                    }
                } else if self.events.search.is_some() {
                    self.set_search(None);
                } else {
                    self.findings.selected = None;
                    self.findings.marked.clear();
                }
            }
            Action::Search => self.open_prompt(PromptKind::Search),
            Action::SearchNext => self.search_step(true),
            Action::SearchPrev => self.search_step(false),
            Action::Filter => self.open_prompt(PromptKind::Filter),
            Action::ClearFilters => self.clear_filters(),
            Action::ToggleMark => self.toggle_mark(),
            Action::NextMark => self.mark_step(true),
            Action::PrevMark => self.mark_step(false),
            Action::ClearMarks => {
                let n = self.events.marks.len();
                self.events.marks.clear();
                self.message = Some(format!("{n} marks dropped"));
            }
            Action::Command => self.open_prompt(PromptKind::Command),
            Action::OnlyTemplate => self.template_filter(false),
            Action::HideTemplate => self.template_filter(true),
            Action::FocusCid => self.focus_cid(),
            Action::NextFinding => self.move_selection(1),
            Action::PrevFinding => self.move_selection(-1),
            Action::Root => self.root(),
            Action::NextError => self.level_step(true, Level::Error),
            Action::PrevError => self.level_step(false, Level::Error),
            Action::NextWarning => self.level_step(true, Level::Warn),
            Action::PrevWarning => self.level_step(false, Level::Warn),
            Action::Follow => {
                if self.can_follow {
                    self.follow = !self.follow;
                    self.message = Some(if self.follow {
                        "following: what growing files (and stdin) gain is appended as it comes"
                            .into()
                    } else {
                        "follow off".into()
                    });
                } else {
                    self.message =
                        Some("follow needs files; standard input cannot be re-read".into());
                }
            }
            Action::Help => {
                self.help.open = true;
                self.help.scroll = 0;
            }
            Action::Quit | Action::Interrupt => self.quit = true,
            Action::Scroll(pane, n) => self.scroll_pane(pane, n as isize),
            Action::Click(pane, row) => {
                self.focus = pane;
                match pane {
                    Pane::Timeline => {
                        let r = self.events.scroll + row as usize;
                        if r < self.events.rows.len() {
                            self.events.cursor = r;
                        }
                        self.detail.from = pane;
                    }
                    Pane::Findings => {
                        let s = self.findings.scroll + row as usize;
                        if s < self.findings.entries.len() {
                            self.select(s);
                        }
                        self.detail.from = pane;
                    }
                    Pane::Detail => {}
                }
            }
            Action::Input(_)
            | Action::Erase
            | Action::EraseAll
            | Action::Submit
            | Action::Cancel
            | Action::Complete => {}
        }
        self.relayout();
    }
}
