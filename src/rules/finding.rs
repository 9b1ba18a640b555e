//! Findings and incidents: what rules conclude, as every report and the TUI read it.

use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth a look.
    Low,
    /// Degrades the run.
    Medium,
    /// Breaks a feature.
    High,
    /// Breaks the run.
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Parse a severity word.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            "info" => Severity::Info,
            _ => return None,
        })
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event that supports a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Index of the event in `Timeline::events`.
    pub event: usize,
    /// Why it is here (`trigger`, `consequence`, `attempt`, `sent`, ...).
    pub role: String,
}

/// What a rule found.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable id within one report (`F1`, `F2`, ...).
    pub id: String,
    /// Rule id (`ratchet-version-gap`).
    pub rule: String,
    /// Severity of the rule.
    pub severity: Severity,
    /// One line saying what was found, with its numbers (gap size, attempts, counts).
    pub title: String,
    /// Full CIDs involved.
    pub cids: Vec<u64>,
    /// Supporting events, first the one that defines the finding.
    pub evidence: Vec<Evidence>,
    /// Matching events (evidence lists at most a sample of them).
    pub count: usize,
    /// Extra facts (gap, attempts, total_backoff_s, location, payload, per-source counts).
    pub facts: Vec<(String, String)>,
    /// Whether the rule's window was measured in time or in event order.
    pub window_basis: WindowBasis,
    /// The finding that caused this one, by id.
    pub caused_by: Option<String>,
    /// The findings this one caused, by id (its children in the incident tree).
    pub causes: Vec<String>,
}

/// How a rule's window was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WindowBasis {
    /// The rule needs no window.
    None,
    /// Seconds between event times.
    Time,
    /// Events in timeline order (no times to measure).
    Order,
}

impl Finding {
    /// A fact by name.
    pub fn fact(&self, name: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Findings linked by shared CIDs and order, with the first cause as root.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Stable id within one report (`I1`).
    pub id: String,
    /// Id of the root finding.
    pub root: String,
    /// Ids of its findings, root first, in causal order.
    pub findings: Vec<String>,
    /// CIDs involved.
    pub cids: Vec<u64>,
    /// One-paragraph narrative of the chain.
    pub summary: String,
}

/// What people need to know about a rule besides its findings (the TUI's detail pane, reports).
#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// What the rule detects and why it matters.
    pub description: String,
    /// What to do about it.
    pub remediation: String,
}

/// Everything the engine produced for one run: the timeline, findings, incidents and the rules used.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The correlated timeline.
    pub timeline: crate::model::Timeline,
    /// Findings, most severe first, then by time.
    pub findings: Vec<Finding>,
    /// Incidents, most severe root first.
    pub incidents: Vec<Incident>,
    /// The rules that ran.
    pub rules: Vec<RuleInfo>,
    /// Every event's template, as the rules computed them (the TUI's template filter takes them
    /// instead of masking a million messages again); `None` where no rule engine ran.
    pub templates: Option<crate::templates::Templates>,
}

impl Analysis {
    /// How many causes lie above a finding in its incident tree (0 for a root or a lone finding).
    pub fn depth(&self, id: &str) -> usize {
        std::iter::successors(self.findings.iter().find(|f| f.id == id), |f| {
            f.caused_by
                .as_deref()
                .and_then(|c| self.findings.iter().find(|x| x.id == c))
        })
        .take(self.findings.len() + 1)
        .count()
        .saturating_sub(1)
    }

    /// The run-independent fingerprint of a finding: its rule and the template of its key evidence.
    ///
    /// CIDs, times, line numbers and UUIDs are left out on purpose: the same failure in the next run has
    /// other CIDs (they are assigned at registration), and baselines and the history of runs must still
    /// recognise it. SARIF, the baseline and the history all key on this value.
    pub fn fingerprint(&self, f: &Finding) -> String {
        let template = f
            .evidence
            .first()
            .and_then(|e| self.timeline.event(e.event))
            .map(crate::templates::key_of)
            .unwrap_or_default();
        fnv_hex(&format!("{}\u{1f}{}", f.rule, template))
    }

    /// The fingerprint narrowed to this run's clients: [`Analysis::fingerprint`] plus the sorted CIDs.
    pub fn cid_fingerprint(&self, f: &Finding) -> String {
        let mut cids = f.cids.clone();
        cids.sort_unstable();
        cids.dedup();
        let cids: Vec<String> = cids.iter().map(u64::to_string).collect();
        fnv_hex(&format!("{}\u{1f}{}", self.fingerprint(f), cids.join(",")))
    }
}

/// 16 hex digits of FNV-1a 64: the same on every machine, in every run, with no dependency.
pub(crate) fn fnv_hex(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use crate::pipeline::timeline_of;

    const SEED: &str = include_str!("../../samples/seed/internal-service.log");

    /// The seed's service log as another run would write it: other CIDs, another panic line.
    fn rerun() -> String {
        SEED.replace("2140228971562830034", "3141592653589793238")
            .replace("4926344781773734389", "2718281828459045235")
            .replace("session.rs:2254:18", "session.rs:2301:18")
    }

    fn fingerprints(text: &str) -> Vec<(String, String, String)> {
        let tl = timeline_of(&[("svc.log", text)]).expect("timeline");
        let a = crate::rules::analyze(&tl, None).expect("rules");
        let mut v: Vec<_> = a
            .findings
            .iter()
            .map(|f| (f.rule.clone(), a.fingerprint(f), a.cid_fingerprint(f)))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn fingerprints_ignore_cids_and_numbers_but_cid_fingerprints_do_not() {
        let one = fingerprints(SEED);
        let two = fingerprints(&rerun());
        assert!(one.iter().any(|(r, _, _)| r == "panic"), "{one:?}");
        let stable = |v: &[(String, String, String)]| -> Vec<(String, String)> {
            v.iter().map(|(r, f, _)| (r.clone(), f.clone())).collect()
        };
        assert_eq!(stable(&one), stable(&two));
        assert!(one.iter().all(|(_, f, _)| f.len() == 16));
        let with_cids = |v: &[(String, String, String)]| -> Vec<String> {
            v.iter()
                .filter(|(r, _, _)| r == "ratchet-version-gap")
                .map(|(_, _, c)| c.clone())
                .collect()
        };
        assert_ne!(with_cids(&one), with_cids(&two));
    }
}
