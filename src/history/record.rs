//! What one recorded run is made of, built from an analysis (`check --record`, `history add LOGS`) or
//! from a `diag.report/v1` JSON report (`history add REPORT.json`).

use super::{Counts, HistoryError, Labels};
use crate::rules::finding::{Analysis, Severity};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// How a finding's fingerprint was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// [`Analysis::fingerprint`]: rule + key-evidence template (from the analysis or the report).
    Stable,
    /// A report without fingerprints: rule id + title with its numbers masked.
    MaskedTitle,
}

impl Basis {
    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Stable => "stable",
            Basis::MaskedTitle => "masked-title",
        }
    }
}

/// One finding of a run, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRecord {
    /// Rule id.
    pub rule: String,
    /// Severity.
    pub severity: Severity,
    /// Title in this run.
    pub title: String,
    /// Run-independent fingerprint.
    pub fingerprint: String,
    /// Fingerprint narrowed to this run's CIDs, when known.
    pub cid_fingerprint: Option<String>,
    /// How the fingerprint was obtained.
    pub basis: Basis,
    /// Whether this finding is the run's root cause.
    pub root: bool,
}

/// One run, ready to be recorded.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Unique id (`--run-id`, `DIAG_RUN_ID`, or generated from the time and process).
    pub run_id: String,
    /// When the run happened: `--time`, else its earliest finding's evidence (the logs' start when
    /// nothing was found), else now.
    pub time: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// `PASS` or `FAIL` (or the report's own verdict word).
    pub verdict: String,
    /// The threshold the verdict was judged at, when known.
    pub fail_on: Option<String>,
    /// What was recorded: the logs or the report file.
    pub origin: String,
    /// `--label k=v` pairs.
    pub labels: Labels,
    /// Every finding, most severe first.
    pub findings: Vec<FindingRecord>,
}

/// What the caller knows about a run besides its findings.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// `--run-id`.
    pub run_id: Option<String>,
    /// `--label` pairs.
    pub labels: Labels,
    /// `--time`.
    pub time: Option<DateTime<Utc>>,
    /// `--fail-on` (None: never fail).
    pub fail_on: Option<Severity>,
    /// The logs or report file, for the record.
    pub origin: String,
}

impl RunRecord {
    /// Findings per severity.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.findings {
            match f.severity {
                Severity::Critical => c.critical += 1,
                Severity::High => c.high += 1,
                Severity::Medium => c.medium += 1,
                Severity::Low => c.low += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// The root cause, when the run has findings.
    pub fn root(&self) -> Option<&FindingRecord> {
        self.findings.iter().find(|f| f.root)
    }
}

/// A time as stored: RFC 3339, UTC, milliseconds (sorts as text).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parse `--time`: RFC 3339, or a Unix time in seconds (as the seed report's run timestamps are).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return DateTime::from_timestamp(secs, 0);
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parse `--label k=v` values.
pub fn parse_labels(items: &[String]) -> Result<Labels, String> {
    let mut out = Labels::new();
    for l in items {
        match l.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_string(), v.trim().to_string());
            }
            _ => {
                return Err(format!(
                    "--label {l:?}: give KEY=VALUE, e.g. --label branch=main"
                ))
            }
        }
    }
    Ok(out)
}

fn verdict_of(fail_on: Option<Severity>, severities: impl Iterator<Item = Severity>) -> String {
    let failed = fail_on.is_some_and(|t| severities.into_iter().any(|s| s >= t));
    if failed { "FAIL" } else { "PASS" }.to_string()
}

fn run_id(meta: &Meta, now: DateTime<Utc>) -> String {
    match &meta.run_id {
        Some(id) if !id.trim().is_empty() => id.trim().to_string(),
        // Time to the millisecond plus the process id: two runners recording at once get distinct ids.
        _ => format!("{}-{}", now.format("%Y%m%dT%H%M%S%3fZ"), std::process::id()),
    }
}

/// The run an analysis describes.
pub fn from_analysis(a: &Analysis, meta: &Meta) -> RunRecord {
    let now = Utc::now();
    let root = a
        .incidents
        .first()
        .map(|i| i.root.clone())
        .or_else(|| a.findings.first().map(|f| f.id.clone()));
    let findings = a
        .findings
        .iter()
        .map(|f| FindingRecord {
            rule: f.rule.clone(),
            severity: f.severity,
            title: f.title.clone(),
            fingerprint: a.fingerprint(f),
            cid_fingerprint: Some(a.cid_fingerprint(f)),
            basis: Basis::Stable,
            root: root.as_deref() == Some(f.id.as_str()),
        })
        .collect();
    // The earliest evidence, as a report of the same run gives it (its findings' `first_ts`); the
    // start of the logs when nothing was found.
    let events = &a.timeline.events;
    let first = a
        .findings
        .iter()
        .flat_map(|f| &f.evidence)
        .filter_map(|e| events.get(e.event).and_then(|ev| ev.ts))
        .min()
        .or_else(|| events.iter().filter_map(|e| e.ts).min());
    RunRecord {
        run_id: run_id(meta, now),
        time: meta.time.or(first).unwrap_or(now),
        recorded_at: now,
        verdict: verdict_of(meta.fail_on, a.findings.iter().map(|f| f.severity)),
        fail_on: Some(fail_on_word(meta.fail_on)),
        origin: meta.origin.clone(),
        labels: meta.labels.clone(),
        findings,
    }
}

fn fail_on_word(t: Option<Severity>) -> String {
    t.map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "none".into())
}

/// Whether a JSON value looks like a `diag.report/v1` report (what `history add` takes as REPORT.json).
pub fn is_report(v: &Value) -> bool {
    v.get("schema")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("diag.report/"))
}

/// The run a `diag.report/v1` JSON report describes. The flag is true when the report carried no
/// fingerprints and they were derived from rule ids and masked titles instead.
pub fn from_report(v: &Value, meta: &Meta) -> Result<(RunRecord, bool), HistoryError> {
    let bad = |what: &str| {
        HistoryError::Report(format!(
            "{}: {what}; give a report written by `diag check --format json`",
            meta.origin
        ))
    };
    if !is_report(v) {
        return Err(bad(
            "not a diag.report/v1 report (no \"schema\": \"diag.report/v1\")",
        ));
    }
    let items = v
        .get("findings")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no \"findings\" list"))?;
    let root_id = v
        .get("incidents")
        .and_then(Value::as_array)
        .and_then(|i| i.first())
        .and_then(|i| i.get("root"))
        .and_then(Value::as_str)
        .or_else(|| {
            items
                .first()
                .and_then(|f| f.get("id"))
                .and_then(Value::as_str)
        });
    let mut findings = Vec::with_capacity(items.len());
    let mut masked = false;
    let mut first: Option<DateTime<Utc>> = None;
    for (n, f) in items.iter().enumerate() {
        let text = |k: &str| f.get(k).and_then(Value::as_str);
        let rule =
            text("rule").ok_or_else(|| bad(&format!("finding {} has no \"rule\"", n + 1)))?;
        let severity = text("severity")
            .and_then(Severity::parse)
            .ok_or_else(|| bad(&format!("finding {} has no known \"severity\"", n + 1)))?;
        let title = text("title").unwrap_or_default();
        let (fingerprint, basis) = match text("fingerprint") {
            Some(fp) if !fp.is_empty() => (fp.to_ascii_lowercase(), Basis::Stable),
            _ => {
                masked = true;
                (masked_fingerprint(rule, title), Basis::MaskedTitle)
            }
        };
        if let Some(t) = text("first_ts").and_then(parse_time) {
            first = Some(first.map_or(t, |f| f.min(t)));
        }
        findings.push(FindingRecord {
            rule: rule.to_string(),
            severity,
            title: title.to_string(),
            fingerprint,
            cid_fingerprint: text("cid_fingerprint").map(str::to_ascii_lowercase),
            basis,
            root: root_id.is_some() && text("id") == root_id,
        });
    }
    // The report's own verdict and threshold win (a report written with --fail-on medium failed at medium).
    let fail_on = match v.get("fail_on").and_then(Value::as_str) {
        Some(w) if w.eq_ignore_ascii_case("none") => None,
        Some(w) => Severity::parse(w).or(meta.fail_on),
        None => meta.fail_on,
    };
    let verdict = match v.get("verdict").and_then(Value::as_str) {
        Some(w) => normalize_verdict(w),
        None => verdict_of(fail_on, findings.iter().map(|f| f.severity)),
    };
    let now = Utc::now();
    let run = RunRecord {
        run_id: run_id(meta, now),
        time: meta.time.or(first).unwrap_or(now),
        recorded_at: now,
        verdict,
        fail_on: Some(fail_on_word(fail_on)),
        origin: meta.origin.clone(),
        labels: meta.labels.clone(),
        findings,
    };
    Ok((run, masked))
}

fn normalize_verdict(w: &str) -> String {
    match w.trim().to_ascii_lowercase().as_str() {
        "fail" | "failed" | "failure" => "FAIL".into(),
        "pass" | "passed" | "ok" | "success" => "PASS".into(),
        other => other.to_ascii_uppercase(),
    }
}

/// The fallback for reports without fingerprints: rule id + title with its numbers, ids and CIDs masked.
pub fn masked_fingerprint(rule: &str, title: &str) -> String {
    crate::rules::finding::fnv_hex(&format!("{rule}\u{1f}{}", crate::templates::mask(title)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta() -> Meta {
        Meta {
            fail_on: Some(Severity::High),
            origin: "r.json".into(),
            ..Default::default()
        }
    }

    #[test]
    fn report_with_fingerprints_keeps_them_and_marks_the_incident_root() {
        let v = json!({"schema": "diag.report/v1", "findings": [
            {"id": "F1", "rule": "panic", "severity": "critical", "title": "panic at a.rs:1:2",
             "fingerprint": "00112233445566AA", "cid_fingerprint": "ffeeddccbbaa9988",
             "first_ts": "2025-12-30T01:02:03.000Z"},
            {"id": "F2", "rule": "gap", "severity": "medium", "title": "gap 9",
             "fingerprint": "0102030405060708", "first_ts": "2025-12-30T01:00:00.000Z"}],
            "incidents": [{"id": "I1", "root": "F2", "findings": ["F2", "F1"]}]});
        let (r, masked) = from_report(&v, &meta()).unwrap();
        assert!(!masked);
        assert_eq!(r.verdict, "FAIL");
        assert_eq!(r.findings[0].fingerprint, "00112233445566aa");
        assert_eq!(r.root().map(|f| f.rule.as_str()), Some("gap"));
        assert_eq!(stamp(r.time), "2025-12-30T01:00:00.000Z");
        assert_eq!(
            r.counts(),
            Counts {
                critical: 1,
                medium: 1,
                ..Default::default()
            }
        );
    }

    #[test]
    fn report_without_fingerprints_falls_back_to_masked_titles() {
        let v = |title: &str| {
            json!({"schema": "diag.report/v1", "findings": [
                {"id": "F1", "rule": "retry-storm", "severity": "high", "title": title}]})
        };
        let (a, masked) = from_report(&v("6 attempts with 63s of back-off"), &meta()).unwrap();
        let (b, _) = from_report(&v("9 attempts with 127s of back-off"), &meta()).unwrap();
        assert!(masked);
        assert_eq!(a.findings[0].basis, Basis::MaskedTitle);
        assert_eq!(a.findings[0].fingerprint, b.findings[0].fingerprint);
        assert_eq!(a.findings[0].fingerprint.len(), 16);
        let (c, _) = from_report(&v("WebSocket ended"), &meta()).unwrap();
        assert_ne!(a.findings[0].fingerprint, c.findings[0].fingerprint);
    }

    #[test]
    fn verdict_follows_the_report_then_the_threshold() {
        let base = json!({"schema": "diag.report/v1", "findings": [
            {"id": "F1", "rule": "x", "severity": "medium", "title": "t"}]});
        assert_eq!(from_report(&base, &meta()).unwrap().0.verdict, "PASS");
        let mut strict = base.clone();
        strict["fail_on"] = json!("medium");
        assert_eq!(from_report(&strict, &meta()).unwrap().0.verdict, "FAIL");
        let mut said = base.clone();
        said["verdict"] = json!("fail");
        assert_eq!(from_report(&said, &meta()).unwrap().0.verdict, "FAIL");
    }

    #[test]
    fn bad_reports_are_refused_with_what_to_do() {
        for v in [
            json!({"findings": []}),
            json!({"schema": "diag.report/v1"}),
            json!({"schema": "diag.report/v1", "findings": [{"severity": "high"}]}),
            json!({"schema": "diag.report/v1", "findings": [{"rule": "r", "severity": "bad"}]}),
        ] {
            let e = from_report(&v, &meta()).unwrap_err().to_string();
            assert!(e.contains("diag check --format json"), "{e}");
        }
    }

    #[test]
    fn labels_times_and_ids() {
        let l = parse_labels(&["branch=main".into(), "job = e2e".into()]).unwrap();
        assert_eq!(l.get("job").map(String::as_str), Some("e2e"));
        assert!(parse_labels(&["=x".into()]).is_err());
        assert!(parse_labels(&["novalue".into()]).is_err());
        assert_eq!(
            parse_time("1767145425").map(stamp).as_deref(),
            Some("2025-12-31T01:43:45.000Z")
        );
        assert!(parse_time("yesterday").is_none());
        let m = Meta {
            run_id: Some(" 42 ".into()),
            ..Default::default()
        };
        assert_eq!(run_id(&m, Utc::now()), "42");
        assert!(run_id(&Meta::default(), Utc::now()).contains('-'));
    }
}
