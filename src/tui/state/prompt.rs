//! The prompt line: typing a search, a filter or a command, and what Enter and Esc do with it.

use super::{App, Prompt, PromptKind};
use crate::tui::command;
use crate::tui::keys::Action;
use crate::tui::query;

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            text: String::new(),
            origin: (self.events.cursor, self.events.scroll),
            error: None,
            recall: None,
        });
    }

    /// ↑ / ↓ in a prompt: the lines entered before at this prompt, newest first.
    fn recall(&mut self, older: bool) {
        let Some(p) = &mut self.prompt else { return };
        let lines: Vec<&String> = self
            .history
            .iter()
            .filter(|(k, _)| *k == p.kind)
            .map(|(_, t)| t)
            .collect();
        if lines.is_empty() {
            return;
        }
        let next = match (p.recall, older) {
            (None, true) => Some(lines.len() - 1),
            (None, false) => None,
            (Some(k), true) => Some(k.saturating_sub(1)),
            (Some(k), false) if k + 1 < lines.len() => Some(k + 1),
            (Some(_), false) => None,
        };
        p.text = next.map(|k| lines[k].clone()).unwrap_or_default();
        p.recall = next;
    }

    fn remember(&mut self, kind: PromptKind, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        let last = self.history.iter().rev().find(|(k, _)| *k == kind);
        if last.is_none_or(|(_, t)| t != text) {
            self.history.push((kind, text.to_string()));
        }
    }

    pub(super) fn prompt_action(&mut self, a: Action) {
        let Some(p) = &mut self.prompt else { return };
        let kind = p.kind;
        match a {
            Action::Input(c) => p.text.push(c),
            Action::Erase => {
                p.text.pop();
            }
            Action::EraseAll => p.text.clear(),
            Action::Up | Action::Down => self.recall(a == Action::Up),
            Action::Complete => {
                let done = match kind {
                    PromptKind::Command => command::complete(&p.text),
                    PromptKind::Filter => query::complete_filter(&p.text),
                    PromptKind::Search => None,
                };
                match done {
                    Some(t) => p.text = t,
                    None => return,
                }
            }
            Action::Cancel => {
                if kind == PromptKind::Search {
                    (self.events.cursor, self.events.scroll) = p.origin;
                }
                self.prompt = None;
                return;
            }
            Action::Submit => {
                let text = p.text.clone();
                self.remember(kind, &text);
                let Some(p) = &mut self.prompt else { return };
                match kind {
                    PromptKind::Search if text.is_empty() => {
                        self.set_search(None);
                        self.prompt = None;
                    }
                    PromptKind::Search => match query::pattern(&text) {
                        Ok(re) => {
                            let here = self.current_event();
                            self.prompt = None;
                            self.set_search(Some(re));
                            if self.events.hits.is_empty() {
                                self.message = Some(format!("no match for /{text}/"));
                            } else if here
                                .is_none_or(|i| self.events.hits.binary_search(&i).is_err())
                            {
                                // The preview looks only nearby: Enter finds the next hit anywhere.
                                self.search_step(true);
                            }
                        }
                        Err(e) => p.error = Some(e),
                    },
                    PromptKind::Filter if text.trim().is_empty() => {
                        self.prompt = None;
                        self.clear_filters();
                    }
                    PromptKind::Filter => match query::parse_filter(&text, &self.analysis.timeline)
                    {
                        Ok(changes) => {
                            self.prompt = None;
                            for c in changes {
                                c.apply(&mut self.events.filter);
                            }
                            self.refilter();
                        }
                        Err(e) => p.error = Some(e),
                    },
                    PromptKind::Command => self.submit_command(&text),
                }
                return;
            }
            _ => return,
        }
        if kind == PromptKind::Search {
            self.preview_search();
        } else if let Some(p) = &mut self.prompt {
            p.error = None;
        }
    }
}
