//! How recorded runs are shown: the rows of the "Test History Summary", recurring root causes grouped
//! by fingerprint, and one fingerprint's history (first seen, last seen, in which runs). Text for
//! people (Markdown tables, as in the seed's report), JSON for scripts.

use super::record::RunRecord;
use super::{Counts, HistoryError, Hit, Labels};
use serde::Serialize;
use std::io::{self, Write};

/// Schema name of the JSON the history commands write.
pub const SCHEMA: &str = "diag.history/v1";

/// The root cause of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootCause {
    /// Rule id.
    pub rule: String,
    /// Title in that run.
    pub title: String,
    /// Stable fingerprint.
    pub fingerprint: String,
}

/// One recorded run as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRow {
    /// Insertion order in the database.
    pub seq: i64,
    /// Run id.
    pub run_id: String,
    /// When the run happened (RFC 3339, UTC).
    pub time: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// `PASS` or `FAIL`.
    pub verdict: String,
    /// Threshold of the verdict.
    pub fail_on: Option<String>,
    /// What was recorded (logs or report).
    pub origin: String,
    /// Root finding of the run's top incident.
    pub root_cause: Option<RootCause>,
    /// Findings per severity.
    pub counts: Counts,
    /// `--label` pairs.
    pub labels: Labels,
}

impl RunRow {
    /// The row a just-recorded run gets.
    pub fn of(run: &RunRecord, seq: i64) -> RunRow {
        RunRow {
            seq,
            run_id: run.run_id.clone(),
            time: super::record::stamp(run.time),
            recorded_at: super::record::stamp(run.recorded_at),
            verdict: run.verdict.clone(),
            fail_on: run.fail_on.clone(),
            origin: run.origin.clone(),
            root_cause: run.root().map(|f| RootCause {
                rule: f.rule.clone(),
                title: f.title.clone(),
                fingerprint: f.fingerprint.clone(),
            }),
            counts: run.counts(),
            labels: run.labels.clone(),
        }
    }
}

/// A root cause seen in more than one of the listed runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recurring {
    /// Stable fingerprint.
    pub fingerprint: String,
    /// Rule id.
    pub rule: String,
    /// Title in the latest run.
    pub title: String,
    /// Ids of the runs it was the root cause of, oldest first.
    pub runs: Vec<String>,
    /// Time of the first of them.
    pub first_seen: String,
    /// Time of the last of them.
    pub last_seen: String,
}

/// Root causes shared by two or more of `rows`, most frequent first.
pub fn recurring(rows: &[RunRow]) -> Vec<Recurring> {
    let mut out: Vec<Recurring> = Vec::new();
    for r in rows {
        let Some(rc) = &r.root_cause else { continue };
        match out.iter_mut().find(|x| x.fingerprint == rc.fingerprint) {
            Some(x) => {
                x.runs.push(r.run_id.clone());
                x.title.clone_from(&rc.title);
                x.last_seen.clone_from(&r.time);
            }
            None => out.push(Recurring {
                fingerprint: rc.fingerprint.clone(),
                rule: rc.rule.clone(),
                title: rc.title.clone(),
                runs: vec![r.run_id.clone()],
                first_seen: r.time.clone(),
                last_seen: r.time.clone(),
            }),
        }
    }
    out.retain(|x| x.runs.len() > 1);
    out.sort_by(|a, b| {
        b.runs
            .len()
            .cmp(&a.runs.len())
            .then(b.last_seen.cmp(&a.last_seen))
    });
    out
}

/// One run a fingerprint was found in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appearance {
    /// Run id.
    pub run_id: String,
    /// Run time.
    pub time: String,
    /// Verdict of the run.
    pub verdict: String,
    /// Highest severity among the matching findings.
    pub severity: String,
    /// Title of the first matching finding.
    pub title: String,
    /// Matching findings in the run.
    pub findings: usize,
    /// Whether one of them was the run's root cause.
    pub root: bool,
}

/// Where and when a fingerprint was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FingerprintHistory {
    /// Always `diag.history/v1`.
    pub schema: &'static str,
    /// The full fingerprint the query matched.
    pub fingerprint: String,
    /// `fingerprint` (stable) or `cid_fingerprint` (narrowed to the CIDs of one pair of clients).
    pub matched: &'static str,
    /// Rule id.
    pub rule: String,
    /// Title in the latest run.
    pub title: String,
    /// First run it was seen in.
    pub first_seen: Appearance,
    /// Last run it was seen in.
    pub last_seen: Appearance,
    /// How many runs it was seen in.
    pub runs: usize,
    /// How many runs are recorded.
    pub total_runs: usize,
    /// In how many runs it was the root cause.
    pub root_cause_in: usize,
    /// Every run it was seen in, oldest first.
    pub seen_in: Vec<Appearance>,
}

fn severity_rank(s: &str) -> u8 {
    crate::rules::finding::Severity::parse(s).map_or(0, |s| s as u8 + 1)
}

/// Check a FINGERPRINT argument: 4 to 16 hex digits (a prefix is enough when it is unambiguous).
pub fn normalize_query(q: &str) -> Result<String, HistoryError> {
    let q = q.trim().to_ascii_lowercase();
    if (4..=16).contains(&q.len()) && q.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(q)
    } else {
        Err(HistoryError::Fingerprint(format!(
            "{q:?} is not a fingerprint; give its 16 hex digits (or at least 4 of them) as `diag history --format json` or `diag check --format json` show them"
        )))
    }
}

/// Which fingerprint of a finding a query matched.
type Key = fn(&Hit) -> Option<&str>;

/// Build one fingerprint's history from the findings a store matched on the prefix `q`.
pub fn fingerprint_history(
    q: &str,
    hits: &[Hit],
    total_runs: usize,
) -> Result<FingerprintHistory, HistoryError> {
    let pick = |key: Key| -> Result<Vec<&Hit>, HistoryError> {
        let m: Vec<&Hit> = hits
            .iter()
            .filter(|h| key(h).is_some_and(|k| k.starts_with(q)))
            .collect();
        let mut distinct: Vec<&str> = m.iter().filter_map(|h| key(h)).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() > 1 {
            return Err(HistoryError::Fingerprint(format!(
                "{q:?} matches {} fingerprints ({}); give more digits",
                distinct.len(),
                distinct.join(", ")
            )));
        }
        Ok(m)
    };
    let (matched, m, key): (&'static str, Vec<&Hit>, Key) = {
        let stable = pick(|h| Some(h.fingerprint.as_str()))?;
        if stable.is_empty() {
            let k: Key = |h| h.cid_fingerprint.as_deref();
            ("cid_fingerprint", pick(k)?, k)
        } else {
            ("fingerprint", stable, |h| Some(h.fingerprint.as_str()))
        }
    };
    let (Some(first), Some(last)) = (m.first(), m.last()) else {
        return Err(HistoryError::Fingerprint(format!(
            "no finding with fingerprint {q:?} in the {total_runs} recorded runs; `diag history --format json` lists the root causes' fingerprints, `diag check --format json` every finding's"
        )));
    };
    let mut seen: Vec<Appearance> = Vec::new();
    let mut last_seq = None;
    for h in &m {
        if last_seq == Some(h.seq) {
            if let Some(a) = seen.last_mut() {
                a.findings += 1;
                a.root |= h.root;
                if severity_rank(&h.severity) > severity_rank(&a.severity) {
                    a.severity.clone_from(&h.severity);
                }
            }
            continue;
        }
        last_seq = Some(h.seq);
        seen.push(Appearance {
            run_id: h.run_id.clone(),
            time: h.time.clone(),
            verdict: h.verdict.clone(),
            severity: h.severity.clone(),
            title: h.title.clone(),
            findings: 1,
            root: h.root,
        });
    }
    let (Some(first_seen), Some(last_seen)) = (seen.first().cloned(), seen.last().cloned()) else {
        return Err(HistoryError::Fingerprint(format!("no run has {q:?}")));
    };
    Ok(FingerprintHistory {
        schema: SCHEMA,
        fingerprint: key(first).unwrap_or_default().to_string(),
        matched,
        rule: last.rule.clone(),
        title: last.title.clone(),
        first_seen,
        last_seen,
        runs: seen.len(),
        total_runs,
        root_cause_in: seen.iter().filter(|a| a.root).count(),
        seen_in: seen,
    })
}

/// A stored time as people read it: `2025-12-30 01:43:45`.
pub fn short_time(t: &str) -> String {
    let t = t.trim_end_matches('Z');
    let t = t.split('.').next().unwrap_or(t);
    t.replacen('T', " ", 1)
}

/// Titles in tables are cut here (JSON keeps them whole): a table a terminal can still show.
const TITLE_WIDTH: usize = 90;

/// `s` cut to `max` characters, with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Text safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    crate::report::style::sanitize(s)
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The "Test History Summary" table (Markdown): run, time, verdict, root cause, counts by severity.
/// A label column appears when some run has labels.
pub fn markdown_table(rows: &[RunRow]) -> String {
    let labels = rows.iter().any(|r| !r.labels.is_empty());
    let mut s = String::from(
        "| Run | Time (UTC) | Verdict | Root cause | Critical | High | Medium | Low | Info |",
    );
    s.push_str(if labels { " Labels |\n" } else { "\n" });
    s.push_str(
        "|-----|------------|---------|------------|---------:|-----:|-------:|----:|-----:|",
    );
    s.push_str(if labels { "--------|\n" } else { "\n" });
    for r in rows {
        let root = r
            .root_cause
            .as_ref()
            .map(|c| {
                format!(
                    "{} (`{}`)",
                    cell(&clip(&c.title, TITLE_WIDTH)),
                    c.fingerprint
                )
            })
            .unwrap_or_else(|| "—".into());
        let verdict = if r.verdict == "FAIL" {
            "**FAIL**".to_string()
        } else {
            cell(&r.verdict)
        };
        let c = &r.counts;
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&r.run_id),
            short_time(&r.time),
            verdict,
            root,
            c.critical,
            c.high,
            c.medium,
            c.low,
            c.info
        ));
        if labels {
            let l: Vec<String> = r
                .labels
                .iter()
                .map(|(k, v)| cell(&format!("{k}={v}")))
                .collect();
            s.push_str(&format!(" {} |", l.join(", ")));
        }
        s.push('\n');
    }
    s
}

/// `diag history`: the table, then the root causes that recur among the listed runs.
pub fn write_list_text(
    out: &mut dyn Write,
    db: &str,
    only: &Labels,
    rows: &[RunRow],
    total: usize,
) -> io::Result<()> {
    let with: Vec<String> = only.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let with = if with.is_empty() {
        String::new()
    } else {
        format!(" with {}", with.join(", "))
    };
    if rows.is_empty() {
        return writeln!(
            out,
            "No runs{with} recorded in {db} yet; record one with `diag history add LOGS` or `diag check --record`."
        );
    }
    writeln!(
        out,
        "## Test History Summary\n\nThe last {} of {total} runs{with} recorded in {db}.\n",
        rows.len()
    )?;
    out.write_all(markdown_table(rows).as_bytes())?;
    let rec = recurring(rows);
    if !rec.is_empty() {
        writeln!(out, "\nRecurring root causes:")?;
        for r in &rec {
            writeln!(
                out,
                "- `{}` {} in {} runs ({}), first {}, last {}: {}",
                r.fingerprint,
                r.rule,
                r.runs.len(),
                r.runs.join(", "),
                short_time(&r.first_seen),
                short_time(&r.last_seen),
                crate::report::style::sanitize(&clip(&r.title, TITLE_WIDTH))
            )?;
        }
        writeln!(
            out,
            "\n`diag history show FINGERPRINT` follows one across every recorded run."
        )?;
    }
    Ok(())
}

/// What `diag history --format json` writes.
#[derive(Debug, Serialize)]
pub struct Listed<'a> {
    /// Always `diag.history/v1`.
    pub schema: &'static str,
    /// The database, password hidden.
    pub db: &'a str,
    /// The labels runs were filtered by (`--label`).
    pub only: &'a Labels,
    /// Runs recorded in all (with those labels).
    pub total_runs: usize,
    /// The listed runs, oldest first.
    pub runs: &'a [RunRow],
    /// Root causes shared by two or more listed runs.
    pub recurring: Vec<Recurring>,
}

/// What `diag history add --format json` writes.
#[derive(Debug, Serialize)]
pub struct Recorded<'a> {
    /// Always `diag.history/v1`.
    pub schema: &'static str,
    /// The database, password hidden.
    pub db: &'a str,
    /// The run as it will be listed.
    pub recorded: &'a RunRow,
}

/// `diag history --format json`.
pub fn write_list_json(
    out: &mut dyn Write,
    db: &str,
    only: &Labels,
    rows: &[RunRow],
    total: usize,
) -> io::Result<()> {
    let v = Listed {
        schema: SCHEMA,
        db,
        only,
        total_runs: total,
        runs: rows,
        recurring: recurring(rows),
    };
    serde_json::to_writer_pretty(&mut *out, &v)?;
    out.write_all(b"\n")
}

/// `diag history show FINGERPRINT`.
pub fn write_show_text(out: &mut dyn Write, h: &FingerprintHistory) -> io::Result<()> {
    let san = crate::report::style::sanitize;
    writeln!(
        out,
        "Fingerprint {} ({}, rule {})",
        h.fingerprint, h.matched, h.rule
    )?;
    writeln!(out, "  {}", san(&h.title))?;
    writeln!(
        out,
        "  First seen: run {} at {}",
        san(&h.first_seen.run_id),
        short_time(&h.first_seen.time)
    )?;
    writeln!(
        out,
        "  Last seen:  run {} at {}",
        san(&h.last_seen.run_id),
        short_time(&h.last_seen.time)
    )?;
    writeln!(
        out,
        "  Seen in {} of {} recorded runs, the root cause in {}.\n",
        h.runs, h.total_runs, h.root_cause_in
    )?;
    writeln!(
        out,
        "| Run | Time (UTC) | Verdict | Severity | Root cause | Findings | Title |"
    )?;
    writeln!(
        out,
        "|-----|------------|---------|----------|------------|---------:|-------|"
    )?;
    for a in &h.seen_in {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&a.run_id),
            short_time(&a.time),
            cell(&a.verdict),
            cell(&a.severity),
            if a.root { "yes" } else { "no" },
            a.findings,
            cell(&clip(&a.title, TITLE_WIDTH))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, t: &str, fp: Option<&str>) -> RunRow {
        RunRow {
            seq: 0,
            run_id: id.into(),
            time: t.into(),
            recorded_at: t.into(),
            verdict: "FAIL".into(),
            fail_on: None,
            origin: String::new(),
            root_cause: fp.map(|f| RootCause {
                rule: "panic".into(),
                title: format!("panic | {id}"),
                fingerprint: f.into(),
            }),
            counts: Counts {
                critical: 2,
                ..Default::default()
            },
            labels: Labels::new(),
        }
    }

    fn hit(seq: i64, fp: &str, cid: &str, root: bool, sev: &str) -> Hit {
        Hit {
            seq,
            run_id: format!("r{seq}"),
            time: format!("2025-12-30T0{seq}:00:00.000Z"),
            verdict: "FAIL".into(),
            rule: "panic".into(),
            severity: sev.into(),
            title: format!("t{seq}"),
            fingerprint: fp.into(),
            cid_fingerprint: Some(cid.into()),
            root,
        }
    }

    #[test]
    fn recurring_groups_root_causes_by_fingerprint() {
        let rows = [
            row("1", "2025-01-01T00:00:00.000Z", Some("aa")),
            row("2", "2025-01-02T00:00:00.000Z", Some("bb")),
            row("3", "2025-01-03T00:00:00.000Z", Some("aa")),
            row("4", "2025-01-04T00:00:00.000Z", None),
        ];
        let r = recurring(&rows);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].runs, ["1", "3"]);
        assert_eq!(r[0].first_seen, "2025-01-01T00:00:00.000Z");
        assert_eq!(r[0].last_seen, "2025-01-03T00:00:00.000Z");
    }

    #[test]
    fn table_escapes_cells_and_shows_counts() {
        let t = markdown_table(&[row("7", "2025-12-30T01:43:45.000Z", Some("aa"))]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[2]
                .starts_with("| 7 | 2025-12-30 01:43:45 | **FAIL** | panic \\| 7 (`aa`) | 2 | 0 |"),
            "{t}"
        );
        // Every line has the same number of unescaped cell separators.
        let bars = |l: &str| l.replace("\\|", "").matches('|').count();
        assert!(lines.iter().all(|l| bars(l) == bars(lines[0])), "{t}");
    }

    #[test]
    fn one_fingerprint_across_runs() {
        let hits = [
            hit(1, "aaaa111122223333", "c1", true, "high"),
            hit(1, "aaaa111122223333", "c2", false, "critical"),
            hit(3, "aaaa111122223333", "c3", false, "high"),
        ];
        let h = fingerprint_history("aaaa", &hits, 5).unwrap();
        assert_eq!(h.matched, "fingerprint");
        assert_eq!((h.runs, h.total_runs, h.root_cause_in), (2, 5, 1));
        assert_eq!(h.first_seen.run_id, "r1");
        assert_eq!(h.seen_in[0].findings, 2);
        assert_eq!(h.seen_in[0].severity, "critical");
        assert_eq!(h.last_seen.run_id, "r3");
        let by_cid = fingerprint_history("c3", &hits, 5).unwrap();
        assert_eq!((by_cid.matched, by_cid.runs), ("cid_fingerprint", 1));
        let two = [
            hit(1, "aaaa1", "c", false, "low"),
            hit(2, "aaaa2", "d", false, "low"),
        ];
        assert!(fingerprint_history("aaaa", &two, 2)
            .unwrap_err()
            .to_string()
            .contains("more digits"));
        assert!(fingerprint_history("ffff", &hits, 5).is_err());
    }

    #[test]
    fn long_titles_are_clipped_on_a_char_boundary() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("ééééé", 2), "éé…");
    }

    #[test]
    fn queries_must_be_hex() {
        assert_eq!(normalize_query(" ABCD ").unwrap(), "abcd");
        assert!(normalize_query("abc").is_err());
        assert!(normalize_query("zzzz").is_err());
        assert!(normalize_query("0123456789abcdef0").is_err());
    }
}
