//! TUI: the interactive view of an [`Analysis`](crate::rules::finding::Analysis): every source on one
//! timeline, the findings and incidents, the detail of a record or a finding, an overview histogram.
//!
//! - [`keys`] maps keys to [`keys::Action`]s (one table drives handling, footer and help);
//! - [`state`] holds what is shown and applies actions ([`state::App::update`]);
//! - [`view`] draws the state (pure functions); [`layout`] says where panes go;
//! - [`loader`] loads in the background and notices growing files; [`spool`] copies stdin to a file
//!   so that it can be re-read and followed; [`query`] reads search and filter
//!   input, [`command`] the `:` command line, [`filterset`] holds the filters, [`export`] writes rows
//!   to a file; [`histogram`] counts the overview; [`text`] makes log text safe to draw.
//!
//! This module owns the terminal: raw mode, alternate screen and mouse capture, restored on quit, on
//! error, on Ctrl-C (a key in raw mode) and on a panic of the UI thread.

pub mod command;
pub mod export;
pub mod filterset;
pub mod histogram;
pub mod keys;
pub mod layout;
pub mod loader;
pub mod query;
pub mod spool;
pub mod state;
pub mod text;
pub mod view;

use crate::follow::{Grown, Tail};
use keys::Action;
use loader::{Job, Judging, Loader, Reading, Watch};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, MouseButton, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;
use state::{App, LoadState};
use std::io::{self, Stdout};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often followed files are checked for growth.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// Most input events handled between two frames (key repeat stays smooth).
const EVENTS_PER_FRAME: usize = 64;

/// Panics of other threads, printed once the terminal is back to normal.
static LATE_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Whether colour is wanted: `NO_COLOR` set to anything non-empty turns it off.
pub fn color_wanted() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

/// Restore the terminal before a UI-thread panic is printed; keep other threads' panics for later
/// (printing them now would scribble over the screen).
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            restore_terminal();
            previous(info);
        } else if let Ok(mut v) = LATE_PANICS.lock() {
            v.push(info.to_string());
        }
    }));
}

fn init_terminal() -> io::Result<Terminal<CrosstermBackend<Stdout>>> {
    install_panic_hook();
    enable_raw_mode()?;
    let mut out = io::stdout();
    if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture) {
        restore_terminal();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(out)).inspect_err(|_| restore_terminal())
}

/// Run the TUI on a job until the user quits.
pub fn run(mut job: Job) -> io::Result<()> {
    // Standard input is copied to a file as it arrives: reloads re-read it and follow watches it grow,
    // so `docker compose logs -f | diag tui -` shows the stream as it comes (follow starts on).
    let mut spool = None;
    if let Some(input) = job.inputs.iter_mut().find(|i| i.path.is_none()) {
        use std::io::IsTerminal;
        if io::stdin().is_terminal() {
            // The keys come from the terminal too: reading logs from it would take them.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "standard input is the terminal; pipe logs in (`docker compose logs -f | diag tui -`) or name files",
            ));
        }
        let s = spool::Spool::start(io::stdin(), &std::env::temp_dir()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot copy standard input to a temporary file ({e}); set TMPDIR to a writable folder"),
            )
        })?;
        input.path = Some(s.path().to_path_buf());
        input.spooled = true;
        spool = Some(s);
    }
    let can_follow = job.inputs.iter().all(|i| i.path.is_some());
    let job = Arc::new(job);
    let loader = Loader::start(job.clone());
    let mut terminal = init_terminal()?;
    let r = event_loop(&mut terminal, job, loader, can_follow, spool.is_some());
    drop(spool);
    restore_terminal();
    let _ = std::panic::take_hook();
    if let Ok(v) = LATE_PANICS.lock() {
        for p in v.iter() {
            eprintln!("diag: internal error in the loader: {p}");
        }
    }
    r
}

fn mouse_action(app: &App, m: &event::MouseEvent) -> Option<Action> {
    let pane = app.areas.pane_at(m.column, m.row)?;
    match m.kind {
        MouseEventKind::ScrollDown => Some(Action::Scroll(pane, 3)),
        MouseEventKind::ScrollUp => Some(Action::Scroll(pane, -3)),
        MouseEventKind::Down(MouseButton::Left) => {
            let top = app.areas.rect(pane).y + 1;
            (m.row >= top).then(|| Action::Click(pane, m.row - top))
        }
        _ => None,
    }
}

fn handle(app: &mut App, ev: Event) -> bool {
    match ev {
        Event::Key(k) => {
            let Some(key) = keys::key_of(&k) else {
                return false;
            };
            match keys::action(app.mode(), key) {
                Some(a) => {
                    app.update(a);
                    true
                }
                None => false,
            }
        }
        Event::Mouse(m) if app.mode() == keys::Mode::Normal => match mouse_action(app, &m) {
            Some(a) => {
                app.update(a);
                true
            }
            None => false,
        },
        Event::Resize(w, h) => {
            app.resize(w, h);
            true
        }
        _ => false,
    }
}

fn event_loop(
    terminal: &mut Terminal<CrosstermBackend<Stdout>>,
    job: Arc<Job>,
    first: Loader,
    can_follow: bool,
    follow: bool,
) -> io::Result<()> {
    let size = terminal.size()?;
    let mut app = App::new(color_wanted(), (size.width, size.height));
    app.can_follow = can_follow;
    app.follow = follow && can_follow;
    let mut loader = Some(first);
    let mut watch = Watch::new(&job.inputs);
    let mut last_check = Instant::now();
    let mut follow_every = FOLLOW_EVERY;
    // Where a whole load left each input, and a look at what they gained since.
    let mut tail: Option<Tail> = None;
    let mut reading: Option<Reading> = None;
    // The rules running again over what a follow appended.
    let mut judging: Option<Judging> = None;
    let mut dirty = true;
    loop {
        if let Some(l) = &mut loader {
            if let Some(result) = l.poll() {
                match result {
                    Ok(loaded) => {
                        let whole = !loaded.preview;
                        // A verdict on the timeline this load replaces is no longer wanted.
                        judging = None;
                        app.judging = false;
                        app.install(loaded);
                        // An index holds no events to append to: a follow reads everything again.
                        if whole && app.index().is_none() {
                            tail = Some(Tail::new(&job.inputs, app.timeline()));
                        }
                    }
                    Err(e) => app.failed(e),
                }
                // A preview is followed by the whole on the same channel.
                if l.done() {
                    loader = None;
                }
                dirty = true;
            } else if app.load != LoadState::Ready || app.rest.is_some() {
                app.progress(l.bytes(), l.total);
                dirty = true;
            }
        }
        if let Some(grown) = reading.as_ref().and_then(Reading::poll) {
            reading = None;
            match grown {
                Grown::Nothing => {}
                Grown::Appended(add, mut next) => {
                    let started = Instant::now();
                    let templates = app.events.filter.uses_templates();
                    app.grow(|was| loader::placed(&job, was, add, templates));
                    next.settle(app.timeline());
                    tail = Some(next);
                    judging = Some(Judging::start(job.clone(), app.analysis.clone()));
                    app.judging = true;
                    // Placing runs here, on the UI's thread: on a big timeline, look less often so
                    // that keys keep their answer.
                    follow_every = FOLLOW_EVERY.max(started.elapsed() * 4);
                    dirty = true;
                }
                Grown::Reload(why) => {
                    app.message = Some(format!("reading everything again: {why}"));
                    tail = None;
                    let templates = app.events.filter.uses_templates();
                    loader = Some(Loader::start_with(job.clone(), templates));
                    dirty = true;
                }
            }
        }
        if let Some(verdict) = judging.as_ref().and_then(Judging::poll) {
            judging = None;
            app.judging = false;
            match verdict {
                Ok(v) => {
                    let templates = app.events.filter.uses_templates();
                    app.grow(|was| loader::judged(was, v, templates));
                }
                Err(why) => app.message = Some(why),
            }
            dirty = true;
        }
        if app.follow
            && loader.is_none()
            && reading.is_none()
            && judging.is_none()
            && last_check.elapsed() >= follow_every
        {
            last_check = Instant::now();
            if watch.changed() {
                match &tail {
                    Some(t) if t.any() => {
                        let sources = app.timeline().sources.clone();
                        reading = Some(Reading::start(job.clone(), t.clone(), sources));
                    }
                    _ => {
                        let templates = app.events.filter.uses_templates();
                        loader = Some(Loader::start_with(job.clone(), templates));
                    }
                }
            }
        }
        if dirty {
            terminal.draw(|f| view::draw(f, &app))?;
            dirty = false;
        }
        let wait = if loader.is_some() || reading.is_some() || judging.is_some() || app.follow {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(500)
        };
        if event::poll(wait)? {
            dirty |= handle(&mut app, event::read()?);
            let mut n = 1;
            while n < EVENTS_PER_FRAME && !app.quit && event::poll(Duration::ZERO)? {
                dirty |= handle(&mut app, event::read()?);
                n += 1;
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}
