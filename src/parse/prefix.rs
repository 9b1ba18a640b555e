//! Collector prefixes (docker, compose, CI runners, cargo test): peeled off a line first, keeping their
//! timestamp and container.

use crate::defs::Registry;
use crate::memo::Recent;
use crate::parse::record::head_is_closed;
use chrono::{DateTime, Utc};

/// What a collector prefix told about a line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Prefix {
    /// Collector timestamp.
    pub ts: Option<DateTime<Utc>>,
    /// Compose service (`internal-service-1`).
    pub container: Option<String>,
}

/// Strip collector prefixes from a line (ANSI already removed).
pub fn strip_collectors<'l>(reg: &Registry, line: &'l str) -> (&'l str, Prefix) {
    Peeler::new(reg).strip(reg, line)
}

/// Peels collector prefixes off line after line, with each collector's capture slots allocated once
/// (a line parser keeps one: every line of a compose log carries two prefixes).
pub struct Peeler {
    /// Per collector: its slots, the numbers of its `ts` and `container` groups, and for a
    /// collector without a time whose match depends on its text alone, the container group of the
    /// prefixes seen lately, by their text ([`crate::memo`]): compose writes the same service
    /// prefix on every line, and resolving its groups was a bounded backtracker's work.
    slots: Vec<Slot>,
}

struct Slot {
    locs: regex::CaptureLocations,
    ts: Option<usize>,
    container: Option<usize>,
    memo: Option<Recent<Option<(usize, usize)>>>,
}

impl Peeler {
    /// Slots for the collectors of `reg`.
    pub fn new(reg: &Registry) -> Peeler {
        let group = |r: &regex::Regex, name: &str| r.capture_names().position(|n| n == Some(name));
        Peeler {
            slots: reg
                .collectors
                .iter()
                .map(|c| {
                    let ts = group(&c.regex, "ts");
                    Slot {
                        locs: c.regex.capture_locations(),
                        ts,
                        container: group(&c.regex, "container"),
                        memo: (ts.is_none() && head_is_closed(c.regex.as_str()))
                            .then(Recent::default),
                    }
                })
                .collect(),
        }
    }

    /// Strip collector prefixes from a line (ANSI already removed); `reg` is the registry the peeler
    /// was made for.
    pub fn strip<'l>(&mut self, reg: &Registry, mut line: &'l str) -> (&'l str, Prefix) {
        let mut p = Prefix::default();
        // Prefixes nest (a CI runner's time, then compose's service, then docker's time): peel until
        // none fits.
        for _ in 0..4 {
            let mut hit = false;
            for (c, slot) in reg.collectors.iter().zip(self.slots.iter_mut()) {
                let Some((end, ts, container)) = slot.peel(&c.regex, line) else {
                    continue;
                };
                let group = |g: Option<(usize, usize)>| g.and_then(|(a, b)| line.get(a..b));
                if let Some(ts) = group(ts) {
                    if p.ts.is_none() || !c.outer_time_wins {
                        if let Ok(t) = DateTime::parse_from_rfc3339(ts) {
                            p.ts = Some(t.with_timezone(&Utc));
                        }
                    }
                }
                if let Some(ct) = group(container) {
                    p.container = Some(ct.to_string());
                }
                line = line.get(end..).unwrap_or_default();
                hit = true;
                break;
            }
            if !hit {
                break;
            }
        }
        (line, p)
    }
}

/// Where a prefix and its `ts` and `container` groups are in a line.
type Peeled = (usize, Option<(usize, usize)>, Option<(usize, usize)>);

impl Slot {
    /// The collector's prefix at the start of `line`, if there is one.
    fn peel(&mut self, re: &regex::Regex, line: &str) -> Option<Peeled> {
        let Some(memo) = self.memo.as_mut() else {
            let m = re.captures_read(&mut self.locs, line)?;
            if m.start() != 0 || m.end() == 0 {
                return None;
            }
            let at = |g: Option<usize>| g.and_then(|i| self.locs.get(i));
            return Some((m.end(), at(self.ts), at(self.container)));
        };
        // Where the prefix ends is one search; its groups depend on its text alone.
        let m = re.find(line)?;
        if m.start() != 0 || m.end() == 0 {
            return None;
        }
        let text = line.get(..m.end()).unwrap_or_default();
        let container = match memo.get(text) {
            Some(c) => *c,
            None => {
                re.captures_read(&mut self.locs, text)?;
                let c = self.container.and_then(|i| self.locs.get(i));
                memo.put(text, c);
                c
            }
        };
        Some((m.end(), None, container))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::{Collector, Extractors};
    use regex::Regex;

    fn registry(outer_time_wins: bool) -> Registry {
        let ts = Regex::new(r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) ").unwrap();
        Registry {
            formats: vec![],
            collectors: vec![
                Collector {
                    name: "runner".into(),
                    regex: ts.clone(),
                    outer_time_wins,
                },
                Collector {
                    name: "container".into(),
                    regex: Regex::new(r"^(?P<container>svc-1) \| ").unwrap(),
                    outer_time_wins: false,
                },
            ],
            entities: Extractors::default(),
            anchors: vec![],
        }
    }

    #[test]
    fn nested_times_are_settled_by_data() {
        let line = "2025-12-30T01:00:00Z svc-1 | 2025-12-30T02:00:00Z hello";
        // By default the innermost time (the container's own) wins.
        let (rest, p) = strip_collectors(&registry(false), line);
        assert_eq!(rest, "hello");
        assert_eq!(p.container.as_deref(), Some("svc-1"));
        assert_eq!(p.ts.unwrap().to_rfc3339(), "2025-12-30T02:00:00+00:00");
        // A collector that says so keeps the outer time.
        let (_, p) = strip_collectors(&registry(true), line);
        assert_eq!(p.ts.unwrap().to_rfc3339(), "2025-12-30T01:00:00+00:00");
    }

    /// A peeler that remembers the prefixes it saw (the built-in compose collector has no time
    /// and looks at nothing past its match) peels every line as a fresh one does, the second time
    /// from its memo; a collector with a time is never remembered.
    #[test]
    fn remembered_prefixes_peel_as_fresh_ones() {
        let reg = Registry::load(None).unwrap();
        let mut kept = Peeler::new(&reg);
        assert!(kept.slots.iter().any(|s| s.memo.is_some()));
        assert!(kept
            .slots
            .iter()
            .filter(|s| s.ts.is_some())
            .all(|s| s.memo.is_none()));
        let lines = [
            "internal-service-1  | 2025-12-30T01:42:52.302522369Z  WARN citadel: a.rs:1: x",
            "internal-service-1  | 2025-12-30T01:42:53Z  INFO y",
            "internal-service-10 | 2025-12-30T01:42:54Z  INFO y",
            "server-1  |  INFO no time here",
            "server-1  |no space after the bar",
            "web_2|tight",
            "2025-12-30T01:00:00Z internal-service-1  | 2025-12-30T02:00:00Z nested",
            "not-a-service | no number",
            "plain line",
        ];
        for round in 0..2 {
            for line in lines {
                let fresh = Peeler::new(&reg).strip(&reg, line);
                assert_eq!(kept.strip(&reg, line), fresh, "round {round}: {line}");
            }
        }
        let slot = kept.slots.iter().find_map(|s| s.memo.as_ref()).unwrap();
        assert!(slot.len() >= 4, "the compose prefixes are remembered");
    }
}
