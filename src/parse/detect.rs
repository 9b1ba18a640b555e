//! Detection: which format a source is in, from its first lines' signatures and its file name.

use super::ansi::strip_ansi;
use super::json::json_matches;
use super::prefix::strip_collectors;
use crate::defs::{Format, Registry};
use crate::model::Detection;

impl Format {
    /// Whether a line is one of this format's signatures.
    pub fn detects(&self, line: &str) -> bool {
        if let Some(j) = &self.json {
            return json_matches(j, line);
        }
        self.detect.iter().any(|r| r.is_match(line))
    }
}

/// Lines looked at to detect a format.
pub const DETECT_LINES: usize = 200;

/// Detect the format of a source from its first lines (and its file name).
pub fn detect(reg: &Registry, lines: &[String], file_name: Option<&str>) -> Detection {
    let mut counts: Vec<usize> = vec![0; reg.formats.len()];
    let mut considered = 0;
    for raw in lines.iter().take(DETECT_LINES) {
        let clean = strip_ansi(raw);
        let (line, _) = strip_collectors(reg, &clean);
        if line.trim().is_empty() {
            continue;
        }
        considered += 1;
        // Specific formats claim a line before generic ones (formats are sorted by priority).
        if let Some(c) = reg
            .formats
            .iter()
            .position(|f| f.detects(line))
            .and_then(|i| counts.get_mut(i))
        {
            *c += 1;
        }
    }
    if let Some(name) = file_name {
        for (f, c) in reg.formats.iter().zip(counts.iter_mut()) {
            if f.file_name.as_ref().is_some_and(|r| r.is_match(name)) && *c > 0 {
                *c += considered / 2 + 1;
            }
        }
    }
    let mut ranked: Vec<(usize, usize)> = counts.iter().copied().enumerate().collect();
    // Stable sort keeps priority order among equal counts.
    ranked.sort_by_key(|r| std::cmp::Reverse(r.1));
    let name = |i: usize| reg.formats.get(i).map(|f| f.name.clone());
    let (best, n) = ranked.first().copied().unwrap_or((0, 0));
    let runner_up = ranked
        .get(1)
        .filter(|r| r.1 > 0)
        .and_then(|r| Some((name(r.0)?, r.1)));
    let Some(best) = name(best).filter(|_| n > 0) else {
        return Detection {
            format: "plain".into(),
            matched: 0,
            considered,
            confidence: 0.0,
            runner_up: None,
            forced: false,
        };
    };
    Detection {
        format: best,
        matched: n.min(considered),
        considered,
        confidence: if considered == 0 {
            0.0
        } else {
            (n.min(considered)) as f64 / considered as f64
        },
        runner_up,
        forced: false,
    }
}
