//! Keys: one table per mode maps keys to [`Action`]s; the same tables feed the footer hints and the help
//! screen, so what a key does, what the footer says and what `?` shows cannot drift apart.
//!
//! Actions are plain data: tests replay them on [`super::state::App`] without a terminal.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A pane of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// All sources interleaved.
    Timeline,
    /// Incidents and findings.
    Findings,
    /// The record or finding under the cursor, in full.
    Detail,
}

/// What the user asked for, whatever key or mouse gesture said it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Move up one row (or scroll up in the detail pane).
    Up,
    /// Move down one row.
    Down,
    /// Move up a page.
    PageUp,
    /// Move down a page.
    PageDown,
    /// Go to the first row.
    Top,
    /// Go to the last row.
    Bottom,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Open (or close) the detail of what is under the cursor.
    Enter,
    /// Close the help, the detail pane or the search highlight.
    Back,
    /// Open the search prompt.
    Search,
    /// Next search hit.
    SearchNext,
    /// Previous search hit.
    SearchPrev,
    /// Open the filter prompt.
    Filter,
    /// Drop every filter.
    ClearFilters,
    /// Show only the CID under the cursor (again: the next CID of the line, then none).
    FocusCid,
    /// Select the next finding and jump to its evidence.
    NextFinding,
    /// Select the previous finding and jump to its evidence.
    PrevFinding,
    /// Jump to the root cause of the current (or first) incident.
    Root,
    /// Next error-level event.
    NextError,
    /// Previous error-level event.
    PrevError,
    /// Next event at warning level or worse.
    NextWarning,
    /// Previous event at warning level or worse.
    PrevWarning,
    /// Open the command line (lnav's `:` commands).
    Command,
    /// Mark or unmark the line under the cursor (lnav's bookmarks).
    ToggleMark,
    /// Next marked line.
    NextMark,
    /// Previous marked line.
    PrevMark,
    /// Drop every mark.
    ClearMarks,
    /// Show only events of the template of the event under the cursor (again: all templates).
    OnlyTemplate,
    /// Hide events of the template of the event under the cursor.
    HideTemplate,
    /// Follow growing files on or off.
    Follow,
    /// Show or hide the help screen.
    Help,
    /// Quit (closes the help screen when it is open).
    Quit,
    /// Quit from anywhere (Ctrl-C).
    Interrupt,
    /// Scroll a pane by some rows (mouse wheel); negative is up.
    Scroll(Pane, i32),
    /// Select the row at this offset from the top of a pane's content (mouse click).
    Click(Pane, u16),
    /// Type a character into the prompt.
    Input(char),
    /// Delete the character before the prompt cursor.
    Erase,
    /// Clear the prompt line.
    EraseAll,
    /// Apply the prompt.
    Submit,
    /// Close the prompt without applying it.
    Cancel,
    /// Complete the word being typed (a command name, a filter key).
    Complete,
}

/// A key as the tables name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A printable character (shifted letters arrive as upper case).
    Char(char),
    /// A character with Ctrl held.
    Ctrl(char),
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// Home.
    Home,
    /// End.
    End,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Enter.
    Enter,
    /// Escape.
    Esc,
    /// Backspace.
    Backspace,
}

/// One line of a key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// Keys that trigger it.
    pub keys: &'static [Key],
    /// How the keys are written in the footer and the help screen.
    pub label: &'static str,
    /// What it does.
    pub action: Action,
    /// One line for the help screen.
    pub help: &'static str,
    /// A word or two for the footer; empty keeps it out of the footer.
    pub hint: &'static str,
}

/// Which table is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Browsing.
    Normal,
    /// Typing a search, a filter or a command.
    Prompt,
    /// The help screen is open.
    Help,
}

const fn b(
    keys: &'static [Key],
    label: &'static str,
    action: Action,
    help: &'static str,
    hint: &'static str,
) -> Binding {
    Binding {
        keys,
        label,
        action,
        help,
        hint,
    }
}

/// Keys while browsing.
#[rustfmt::skip]
pub const NORMAL: &[Binding] = &[
    b(&[Key::Down, Key::Char('j')], "↓ j", Action::Down, "next row (scrolls the detail pane when it has the focus)", ""),
    b(&[Key::Up, Key::Char('k')], "↑ k", Action::Up, "previous row", ""),
    b(&[Key::PageDown, Key::Ctrl('d'), Key::Char(' ')], "PgDn ^D", Action::PageDown, "next page", ""),
    b(&[Key::PageUp, Key::Ctrl('u')], "PgUp ^U", Action::PageUp, "previous page", ""),
    b(&[Key::Home, Key::Char('g')], "g Home", Action::Top, "first row", ""),
    b(&[Key::End, Key::Char('G')], "G End", Action::Bottom, "last row", ""),
    b(&[Key::Tab], "Tab", Action::NextPane, "next pane: timeline → findings → detail", "pane"),
    b(&[Key::BackTab], "S-Tab", Action::PrevPane, "previous pane", ""),
    b(&[Key::Enter], "Enter", Action::Enter, "open or close the detail of the row under the cursor", "detail"),
    b(&[Key::Esc], "Esc", Action::Back, "close the detail pane; clear the search highlight", ""),
    b(&[Key::Char(']')], "]", Action::NextFinding, "next finding: jump to its evidence and mark it", "finding"),
    b(&[Key::Char('[')], "[", Action::PrevFinding, "previous finding", ""),
    b(&[Key::Char('r')], "r", Action::Root, "jump to the root cause of the incident", "root"),
    b(&[Key::Char('/')], "/", Action::Search, "search (regex; lower case ignores case)", "search"),
    b(&[Key::Char('n')], "n", Action::SearchNext, "next search hit", ""),
    b(&[Key::Char('N')], "N", Action::SearchPrev, "previous search hit", ""),
    b(&[Key::Char('f')], "f", Action::Filter, "filter by CID or name, source, level, text (they combine)", "filter"),
    b(&[Key::Char('c')], "c", Action::FocusCid, "only the CID under the cursor (again: next CID, then all)", "cid"),
    b(&[Key::Char('x')], "x", Action::ClearFilters, "drop all filters", ""),
    b(&[Key::Char('e')], "e", Action::NextError, "next error", ""),
    b(&[Key::Char('E')], "E", Action::PrevError, "previous error", ""),
    b(&[Key::Char('w')], "w", Action::NextWarning, "next warning or error", ""),
    b(&[Key::Char('W')], "W", Action::PrevWarning, "previous warning or error", ""),
    b(&[Key::Char('t')], "t", Action::OnlyTemplate, "only lines of this line's template (again: all)", ""),
    b(&[Key::Char('T')], "T", Action::HideTemplate, "hide lines of this line's template", ""),
    b(&[Key::Char('m')], "m", Action::ToggleMark, "mark or unmark this line (▸ in the gutter)", ""),
    b(&[Key::Char('u')], "u", Action::NextMark, "next marked line", ""),
    b(&[Key::Char('U')], "U", Action::PrevMark, "previous marked line", ""),
    b(&[Key::Char('C')], "C", Action::ClearMarks, "drop all marks", ""),
    b(&[Key::Char(':')], ":", Action::Command, "command line: filter-in, filter-out, goto, … (below)", "cmd"),
    b(&[Key::Char('F')], "F", Action::Follow, "follow growing files (what they gain is appended)", "follow"),
    b(&[Key::Char('?')], "?", Action::Help, "this help", "help"),
    b(&[Key::Char('q')], "q", Action::Quit, "quit", "quit"),
    b(&[Key::Ctrl('c')], "^C", Action::Interrupt, "quit from anywhere", ""),
];

/// Keys while typing a search or a filter.
#[rustfmt::skip]
pub const PROMPT: &[Binding] = &[
    b(&[Key::Enter], "Enter", Action::Submit, "apply (an empty filter drops all filters)", "apply"),
    b(&[Key::Esc], "Esc", Action::Cancel, "cancel", "cancel"),
    b(&[Key::Backspace], "Bksp", Action::Erase, "delete a character", ""),
    b(&[Key::Tab], "Tab", Action::Complete, "complete a command name or a filter key", ""),
    b(&[Key::Up], "↑", Action::Up, "the line typed before (history of this prompt)", ""),
    b(&[Key::Down], "↓", Action::Down, "the line typed after", ""),
    b(&[Key::Ctrl('u')], "^U", Action::EraseAll, "clear the line", "clear"),
    b(&[Key::Ctrl('c')], "^C", Action::Interrupt, "quit", ""),
];

/// Keys on the help screen.
#[rustfmt::skip]
pub const HELP: &[Binding] = &[
    b(&[Key::Down, Key::Char('j')], "↓ j", Action::Down, "scroll down", "scroll"),
    b(&[Key::Up, Key::Char('k')], "↑ k", Action::Up, "scroll up", ""),
    b(&[Key::PageDown, Key::Char(' ')], "PgDn", Action::PageDown, "page down", ""),
    b(&[Key::PageUp], "PgUp", Action::PageUp, "page up", ""),
    b(&[Key::Home, Key::Char('g')], "g Home", Action::Top, "top", ""),
    b(&[Key::End, Key::Char('G')], "G End", Action::Bottom, "end", ""),
    b(&[Key::Esc, Key::Char('?'), Key::Char('q')], "Esc ? q", Action::Help, "close the help", "close"),
    b(&[Key::Ctrl('c')], "^C", Action::Interrupt, "quit", ""),
];

/// The table of a mode.
pub fn table(mode: Mode) -> &'static [Binding] {
    match mode {
        Mode::Normal => NORMAL,
        Mode::Prompt => PROMPT,
        Mode::Help => HELP,
    }
}

/// The key of a terminal key event; `None` for releases and keys no table uses.
pub fn key_of(ev: &KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    if ev.modifiers.contains(KeyModifiers::ALT) {
        return None;
    }
    Some(match ev.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        _ => return None,
    })
}

/// The action of a key in a mode; in a prompt, printable characters are typed.
pub fn action(mode: Mode, key: Key) -> Option<Action> {
    if let Some(bd) = table(mode).iter().find(|bd| bd.keys.contains(&key)) {
        return Some(bd.action);
    }
    match (mode, key) {
        (Mode::Prompt, Key::Char(c)) => Some(Action::Input(c)),
        _ => None,
    }
}

/// Footer hints of a mode as (keys, hint) pairs, in table order.
pub fn hints(mode: Mode) -> impl Iterator<Item = (&'static str, &'static str)> {
    table(mode)
        .iter()
        .filter(|bd| !bd.hint.is_empty())
        .map(|bd| (bd.label, bd.hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_bound_once_per_mode() {
        for mode in [Mode::Normal, Mode::Prompt, Mode::Help] {
            let mut seen = Vec::new();
            for bd in table(mode) {
                for k in bd.keys {
                    assert!(!seen.contains(k), "{k:?} bound twice in {mode:?}");
                    seen.push(*k);
                }
            }
        }
    }

    #[test]
    fn keys_map_to_actions() {
        let ev = |code, m| KeyEvent::new(code, m);
        let k = key_of(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)).unwrap();
        assert_eq!(action(Mode::Normal, k), Some(Action::Bottom));
        let k = key_of(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)).unwrap();
        assert_eq!(action(Mode::Normal, k), Some(Action::Interrupt));
        assert_eq!(action(Mode::Prompt, k), Some(Action::Interrupt));
        assert_eq!(action(Mode::Normal, Key::Char('c')), Some(Action::FocusCid));
        assert_eq!(
            action(Mode::Prompt, Key::Char('q')),
            Some(Action::Input('q'))
        );
        assert_eq!(action(Mode::Help, Key::Char('q')), Some(Action::Help));
        assert_eq!(action(Mode::Normal, Key::Char('Z')), None);
    }
}
