//! Collector prefixes (docker, compose, CI runners, cargo test): peeled off a line first, keeping their
//! timestamp and container.

use crate::defs::Registry;
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
    /// Per collector: its slots, and the numbers of its `ts` and `container` groups.
    slots: Vec<(regex::CaptureLocations, Option<usize>, Option<usize>)>,
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
                    (
                        c.regex.capture_locations(),
                        group(&c.regex, "ts"),
                        group(&c.regex, "container"),
                    )
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
            for (c, (locs, ts, container)) in reg.collectors.iter().zip(self.slots.iter_mut()) {
                let Some(m) = c.regex.captures_read(locs, line) else {
                    continue;
                };
                if m.start() != 0 || m.end() == 0 {
                    continue;
                }
                let group = |g: &Option<usize>| {
                    g.and_then(|i| locs.get(i))
                        .and_then(|(a, b)| line.get(a..b))
                };
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
                line = line.get(m.end()..).unwrap_or_default();
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
}
