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
pub fn strip_collectors<'l>(reg: &Registry, mut line: &'l str) -> (&'l str, Prefix) {
    let mut p = Prefix::default();
    // Prefixes nest (a CI runner's time, then compose's service, then docker's time): peel until none fits.
    for _ in 0..4 {
        let mut hit = false;
        for c in &reg.collectors {
            // Most lines carry no prefix: the no-capture test first costs no allocation, where
            // `captures` allocates its slots on every line and every collector.
            if !c.regex.is_match(line) {
                continue;
            }
            if let Some(caps) = c.regex.captures(line) {
                let Some(m) = caps.get(0) else { continue };
                if m.start() != 0 || m.end() == 0 {
                    continue;
                }
                if let Some(ts) = caps.name("ts") {
                    if p.ts.is_none() || !c.outer_time_wins {
                        if let Ok(t) = DateTime::parse_from_rfc3339(ts.as_str()) {
                            p.ts = Some(t.with_timezone(&Utc));
                        }
                    }
                }
                if let Some(ct) = caps.name("container") {
                    p.container = Some(ct.as_str().to_string());
                }
                line = &line[m.end()..];
                hit = true;
                break;
            }
        }
        if !hit {
            break;
        }
    }
    (line, p)
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
