//! Loading rule files: `rules/*.toml` (embedded) plus `--rules DIR`, validated at load so that a
//! mistake names the file, the line and what to write instead.
// Indexing cannot panic here: indices are positions the engine itself took from the vectors it indexes (events, findings, groups).
#![allow(clippy::indexing_slicing)]

use super::expr::{self, Expr};
use super::finding::{RuleInfo, Severity};
use crate::defs::text::definition_regex;
use crate::defs::{builtin_rules, line_of_key, read_toml_dir, toml_error, DefError};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Rule kinds, after Sigma's correlation rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One event matches a pattern and a condition.
    Match,
    /// At least N matching events in a window, grouped by a key.
    Count,
    /// A trigger followed by consequences within a window: one finding, the trigger as cause.
    Sequence,
    /// An expected follow-up does not occur.
    Absence,
    /// Generic: one template repeated far above its healthy rate (profile) in a source.
    Storm,
    /// Generic: an error or warning template that no healthy profile has.
    Novel,
    /// Generic: acknowledged sends against receipts, per sender and receiver.
    Accounting,
    /// Multi-process: a log that stops while other processes see its connections drop.
    Vanished,
}

impl Kind {
    /// Name as written in rule files.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Match => "match",
            Kind::Count => "count",
            Kind::Sequence => "sequence",
            Kind::Absence => "absence",
            Kind::Storm => "storm",
            Kind::Novel => "novel",
            Kind::Accounting => "accounting",
            Kind::Vanished => "vanished",
        }
    }

    /// Every kind, in the order the docs list them.
    pub const ALL: [Kind; 8] = [
        Kind::Match,
        Kind::Count,
        Kind::Sequence,
        Kind::Absence,
        Kind::Storm,
        Kind::Novel,
        Kind::Accounting,
        Kind::Vanished,
    ];

    /// The top-level keys a rule of this kind takes besides the common ones.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Kind::Match => &[
                "pattern",
                "group_by",
                "teardown_severity",
                "teardown_note",
                "midrun_severity",
                "midrun_note",
            ],
            Kind::Count => &[
                "pattern",
                "success",
                "group_by",
                "window",
                "window_events",
                "min_count",
            ],
            Kind::Sequence => &[
                "trigger",
                "consequence",
                "group_by",
                "window",
                "window_events",
                "min_consequences",
            ],
            Kind::Absence => &[
                "trigger",
                "expect",
                "group_by",
                "key",
                "expect_source",
                "require_owner",
                "window",
                "window_events",
            ],
            Kind::Storm => &["levels", "info_words", "min_count", "factor"],
            Kind::Novel => &["levels"],
            Kind::Accounting => &["trigger", "expect", "min_count"],
            Kind::Vanished => &["trigger", "expect"],
        }
    }
}

/// Keys every rule kind takes.
const COMMON_KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "kind",
    "description",
    "remediation",
    "scope",
    "title_template",
    "position",
    "link",
    "facts",
    "when",
    "test",
    "caused_by",
];

/// What a finding's CIDs reach: its own CIDs, the CIDs of its sources, or every connection of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The CIDs its events name.
    Cids,
    /// Also the CIDs that own the sources it was seen in (a tab's user).
    Source,
    /// Every connection: a service panic kills the process and every WebSocket with it.
    Process,
}

/// Where an absence rule looks for the expected follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectSource {
    /// In the trigger's own source.
    Same,
    /// In any other source.
    Other,
    /// Anywhere.
    Any,
}

/// A compiled event pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The regex; named groups are captures.
    pub regex: Regex,
    /// Its named groups, in order, as the names its hits share.
    pub names: Vec<std::sync::Arc<str>>,
    /// The regex as the rule file writes it (compiled with `\d` as ASCII digits: see
    /// [`definition_regex`]), for messages.
    pub text: String,
    /// Condition over captures and event fields.
    pub condition: Option<Expr>,
    /// Match against message plus continuation lines instead of the message line.
    pub multiline: bool,
    /// Only events at these levels.
    pub levels: Vec<crate::model::Level>,
    /// Facts computed from this pattern's captures (name → expression).
    pub facts: Vec<(String, Expr)>,
    /// Constant captures added when the pattern matches (e.g. an operation name the line implies).
    pub set: Vec<(String, String)>,
    /// Only events whose call site matches.
    pub location: Option<Regex>,
    /// The same failure logged again at another layer: evidence, but not counted again.
    pub echo: bool,
    /// Literals one of which every match holds (found once at load, for the prefilter); `None`:
    /// the regex must be tried on every event.
    pub literals: Option<Vec<Vec<u8>>>,
}

/// A test case carried by a rule file.
#[derive(Debug, Clone)]
pub struct RuleTest {
    /// Name of the case.
    pub name: String,
    /// Findings the rule must produce on these logs.
    pub expect: usize,
    /// Sources: (label, text).
    pub sources: Vec<(String, String)>,
    /// Line of the case in its file.
    pub line: usize,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What people see.
    pub info: RuleInfo,
    /// The rule kind.
    pub kind: Kind,
    /// Where it was loaded from.
    pub origin: String,
    /// CID reach.
    pub scope: Scope,
    /// Patterns (match, count).
    pub patterns: Vec<Pattern>,
    /// Patterns that mean the attempts succeeded (count).
    pub success: Vec<Pattern>,
    /// Triggers (sequence, absence).
    pub triggers: Vec<Pattern>,
    /// Consequences (sequence).
    pub consequences: Vec<Pattern>,
    /// Expected follow-ups (absence).
    pub expect: Vec<Pattern>,
    /// Capture names (or `source`, `cid`) that group events into findings.
    pub group_by: Vec<String>,
    /// Absence: captures that must agree between trigger and follow-up.
    pub key: Vec<String>,
    /// Absence: where the follow-up is looked for.
    pub expect_source: ExpectSource,
    /// Absence: only raise when a source owned by the CID in this capture is among the inputs.
    pub require_owner: Option<String>,
    /// Window in seconds, when events have time.
    pub window_s: Option<f64>,
    /// Window in events, when they do not.
    pub window_events: Option<usize>,
    /// Count: fewest events for a finding.
    pub min_count: usize,
    /// Sequence: fewest consequences for a finding.
    pub min_consequences: usize,
    /// Group-level condition over facts.
    pub when: Option<Expr>,
    /// Group-level facts (name → expression), in order.
    pub facts: Vec<(String, Expr)>,
    /// Finding title with `{name}` placeholders.
    pub title_template: Option<String>,
    /// Where on the timeline a finding counts as having happened, for ordering causes.
    pub position: Position,
    /// Whether its findings take part in incidents (context findings such as deprecations do not).
    pub link: bool,
    /// The rule's own cases.
    pub tests: Vec<RuleTest>,
    /// Storm, novel: the levels watched (default warn and error).
    pub levels: Vec<crate::model::Level>,
    /// Storm: INFO templates whose text reports a failure count too.
    pub info_words: Option<Regex>,
    /// Storm: how far above the healthy maximum per source a count must be.
    pub factor: f64,
    /// Match: severity when the finding is teardown (nothing fails after it, every session of its
    /// source ended).
    pub teardown_severity: Option<Severity>,
    /// Match: said in the title when the finding is teardown.
    pub teardown_note: Option<String>,
    /// Match: severity when other sessions of its source went on (one peer vanished mid-run).
    pub midrun_severity: Option<Severity>,
    /// Match: said in the title when other sessions went on; `{survivors}` is their number.
    pub midrun_note: Option<String>,
    /// Rule ids whose findings can cause this rule's findings (the causal model), most likely first.
    pub caused_by: Vec<String>,
    /// Whether the file says `caused_by` at all (`caused_by = []`: nothing causes it, a root kind).
    pub caused_by_declared: bool,
    /// Line of `caused_by` in its file, for errors.
    pub caused_by_line: usize,
}

impl Rule {
    /// Every pattern of the rule, whatever its role (match, success, trigger, consequence, expect).
    pub fn all_patterns(&self) -> impl Iterator<Item = &Pattern> {
        self.patterns
            .iter()
            .chain(&self.success)
            .chain(&self.triggers)
            .chain(&self.consequences)
            .chain(&self.expect)
    }

    /// Whether an expression of the rule (a pattern's condition or facts, the rule's `when` or
    /// facts) reads an event's `key=value` fields: a two-pass `check` extracts them only then.
    pub fn reads_fields(&self) -> bool {
        let reads = |e: &Expr| e.identifiers().iter().any(|i| i.starts_with("fields."));
        self.all_patterns().any(|p| {
            p.condition.as_ref().is_some_and(reads) || p.facts.iter().any(|(_, e)| reads(e))
        }) || self.when.as_ref().is_some_and(reads)
            || self.facts.iter().any(|(_, e)| reads(e))
    }
}

/// Where a finding sits when findings are ordered into a causal chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Its first evidence event (the default for match, count and absence).
    First,
    /// Its first consequence (the default for sequence: a cascade is seen in what fails).
    Consequence,
    /// The end of the logs: only then is an absence certain (a message never received).
    End,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternDef {
    regex: String,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    multiline: bool,
    #[serde(default)]
    levels: Vec<String>,
    #[serde(default)]
    facts: BTreeMap<String, String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    echo: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceDef {
    label: String,
    text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestDef {
    name: String,
    expect: usize,
    #[serde(default)]
    log: Option<String>,
    #[serde(default)]
    source: Vec<SourceDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: String,
    title: String,
    severity: String,
    kind: String,
    description: String,
    remediation: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    group_by: Vec<String>,
    #[serde(default)]
    key: Vec<String>,
    #[serde(default)]
    expect_source: Option<String>,
    #[serde(default)]
    require_owner: Option<String>,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    window_events: Option<usize>,
    #[serde(default)]
    min_count: Option<usize>,
    #[serde(default)]
    min_consequences: Option<usize>,
    #[serde(default)]
    when: Option<String>,
    #[serde(default)]
    title_template: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default)]
    link: Option<bool>,
    #[serde(default)]
    facts: Vec<BTreeMap<String, String>>,
    #[serde(default)]
    pattern: Vec<PatternDef>,
    #[serde(default)]
    success: Vec<PatternDef>,
    #[serde(default)]
    trigger: Vec<PatternDef>,
    #[serde(default)]
    consequence: Vec<PatternDef>,
    #[serde(default)]
    expect: Vec<PatternDef>,
    #[serde(default)]
    test: Vec<TestDef>,
    #[serde(default)]
    levels: Vec<String>,
    #[serde(default)]
    info_words: Option<String>,
    #[serde(default)]
    factor: Option<f64>,
    #[serde(default)]
    teardown_severity: Option<String>,
    #[serde(default)]
    teardown_note: Option<String>,
    #[serde(default)]
    midrun_severity: Option<String>,
    #[serde(default)]
    midrun_note: Option<String>,
    #[serde(default)]
    caused_by: Option<Vec<String>>,
}

/// Parse a window like `90s`, `5m`, `1h`, `250ms`.
pub fn parse_window(s: &str) -> Option<f64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        return None;
    };
    num.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| *v >= 0.0)
        .map(|v| v * mult)
}

use crate::suggest::nearest;

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, key: &str, nth: usize, message: String) -> DefError {
        DefError {
            file: self.file.to_string(),
            line: line_of_key(self.text, key, nth),
            message,
        }
    }

    fn expr(&self, key: &str, nth: usize, src: &str) -> Result<Expr, DefError> {
        expr::parse(src).map_err(|e| {
            // The expression sits on the line of its key; point into the TOML at that line.
            self.err(key, nth, format!("bad condition in `{key}`: {e}"))
        })
    }
}

fn compile_patterns(
    cx: &Ctx,
    section: &str,
    defs: Vec<PatternDef>,
    regex_seen: &mut usize,
    cond_seen: &mut usize,
) -> Result<Vec<Pattern>, DefError> {
    let mut out = Vec::new();
    for d in defs {
        let regex = definition_regex(&d.regex).map_err(|e| {
            cx.err(
                "regex",
                *regex_seen,
                format!(
                    "invalid regex in [[{section}]]: {e}{}",
                    crate::defs::text::regex_hint(&e)
                ),
            )
        })?;
        let names: Vec<String> = regex.capture_names().flatten().map(String::from).collect();
        let condition = match &d.condition {
            Some(c) => {
                let e = cx.expr("condition", *cond_seen, c)?;
                *cond_seen += 1;
                for id in e.identifiers() {
                    let known = names.contains(&id)
                        || d.set.contains_key(&id)
                        || ["level", "source", "message", "text", "target"].contains(&id.as_str())
                        || id.starts_with("fields.");
                    if !known {
                        let mut opts: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
                        opts.extend(["level", "source", "message"]);
                        let hint = nearest(&id, &opts)
                            .map(|n| format!("; did you mean `{n}`?"))
                            .unwrap_or_else(|| {
                                format!("; the regex captures: {}", names.join(", "))
                            });
                        return Err(cx.err(
                            "condition",
                            *cond_seen - 1,
                            format!("the condition uses `{id}`, which the pattern does not capture{hint}"),
                        ));
                    }
                }
                Some(e)
            }
            None => None,
        };
        let mut levels = Vec::new();
        for l in &d.levels {
            levels.push(crate::model::Level::parse(l).ok_or_else(|| {
                cx.err(
                    "levels",
                    0,
                    format!("unknown level {l:?}; use trace, debug, info, warn or error"),
                )
            })?);
        }
        let mut facts = Vec::new();
        for (k, v) in &d.facts {
            facts.push((k.clone(), cx.expr(k, 0, v)?));
        }
        let location = match &d.location {
            Some(l) => Some(definition_regex(l).map_err(|e| {
                cx.err(
                    "location",
                    0,
                    format!("invalid regex in `location` of [[{section}]]: {e}"),
                )
            })?),
            None => None,
        };
        *regex_seen += 1;
        // From the text as written: the literals its ASCII digits would spell out (`Client 0` to
        // `Client 9` for `Client \d+`) make a ten times larger automaton that finds no fewer lines.
        let literals = super::prefilter::required_literals(&d.regex);
        let names = regex
            .capture_names()
            .flatten()
            .map(std::sync::Arc::from)
            .collect();
        out.push(Pattern {
            literals,
            names,
            regex,
            text: d.regex.clone(),
            condition,
            multiline: d.multiline,
            levels,
            facts,
            set: d.set.into_iter().collect(),
            location,
            echo: d.echo,
        });
    }
    Ok(out)
}

/// A key that the rule's kind does not take is an error naming the key and the kinds that take it,
/// so that a `min_count` on a `match` rule is not silently ignored.
fn check_keys(cx: &Ctx, kind: Kind) -> Result<(), DefError> {
    let Ok(table) = cx.text.parse::<toml::Table>() else {
        return Ok(());
    };
    for key in table.keys() {
        if COMMON_KEYS.contains(&key.as_str()) || kind.keys().contains(&key.as_str()) {
            continue;
        }
        let takers: Vec<&str> = Kind::ALL
            .iter()
            .filter(|k| k.keys().contains(&key.as_str()))
            .map(|k| k.as_str())
            .collect();
        let hint = if takers.is_empty() {
            String::new()
        } else {
            format!("; only {} rules take it", takers.join(", "))
        };
        let table_line = cx.text.lines().position(|l| {
            let t = l.trim();
            t == format!("[[{key}]]") || t == format!("[{key}]")
        });
        let mut e = cx.err(
            key,
            0,
            format!(
                "a `{}` rule does not take `{key}`{hint}: remove it or change `kind`",
                kind.as_str()
            ),
        );
        if let Some(l) = table_line {
            e.line = l + 1;
        }
        return Err(e);
    }
    Ok(())
}

/// Load one rule from TOML text.
pub fn load_rule(file: &str, text: &str) -> Result<Rule, DefError> {
    let cx = Ctx { file, text };
    let def: RuleDef = toml::from_str(text).map_err(|e| toml_error(file, text, e))?;
    let severity = Severity::parse(&def.severity).ok_or_else(|| {
        let names = ["critical", "high", "medium", "low", "info"];
        let hint = nearest(&def.severity.to_ascii_lowercase(), &names)
            .map(|n| format!("did you mean {n:?}? "))
            .unwrap_or_default();
        cx.err(
            "severity",
            0,
            format!(
                "unknown severity {:?}; {hint}use one of {}",
                def.severity,
                names.join(", ")
            ),
        )
    })?;
    let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let kind = match Kind::ALL.iter().find(|k| k.as_str() == def.kind) {
        Some(k) => *k,
        None => {
            let other = def.kind.as_str();
            let hint = nearest(other, &kinds)
                .map(|n| format!("did you mean {n:?}? "))
                .unwrap_or_default();
            return Err(cx.err(
                "kind",
                0,
                format!(
                    "unknown rule kind {other:?}; {hint}use one of {}",
                    kinds.join(", ")
                ),
            ));
        }
    };
    check_keys(&cx, kind)?;
    if def.id.is_empty()
        || !def
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(cx.err(
            "id",
            0,
            format!(
                "rule id {:?} must be lower-case words joined by `-`",
                def.id
            ),
        ));
    }
    let scope = match def.scope.as_deref() {
        None | Some("cids") => Scope::Cids,
        Some("source") => Scope::Source,
        Some("process") => Scope::Process,
        Some(o) => {
            return Err(cx.err(
                "scope",
                0,
                format!("unknown scope {o:?}; use \"cids\", \"source\" or \"process\""),
            ))
        }
    };
    let expect_source = match def.expect_source.as_deref() {
        None | Some("any") => ExpectSource::Any,
        Some("same") => ExpectSource::Same,
        Some("other") => ExpectSource::Other,
        Some(o) => {
            return Err(cx.err(
                "expect_source",
                0,
                format!("unknown expect_source {o:?}; use \"same\", \"other\" or \"any\""),
            ))
        }
    };
    let window_s = match &def.window {
        Some(w) => Some(parse_window(w).ok_or_else(|| {
            cx.err(
                "window",
                0,
                format!("window {w:?}: write a duration like \"90s\", \"5m\" or \"1h\""),
            )
        })?),
        None => None,
    };
    let (mut rs, mut cs) = (0, 0);
    let patterns = compile_patterns(&cx, "pattern", def.pattern, &mut rs, &mut cs)?;
    let success = compile_patterns(&cx, "success", def.success, &mut rs, &mut cs)?;
    let triggers = compile_patterns(&cx, "trigger", def.trigger, &mut rs, &mut cs)?;
    let consequences = compile_patterns(&cx, "consequence", def.consequence, &mut rs, &mut cs)?;
    let expect = compile_patterns(&cx, "expect", def.expect, &mut rs, &mut cs)?;
    let need = |ok: bool, what: &str| -> Result<(), DefError> {
        if ok {
            Ok(())
        } else {
            Err(cx.err(
                "kind",
                0,
                format!("a `{}` rule needs {what}", kind.as_str()),
            ))
        }
    };
    match kind {
        Kind::Match | Kind::Count => need(!patterns.is_empty(), "at least one [[pattern]]")?,
        Kind::Sequence => need(
            !triggers.is_empty() && !consequences.is_empty(),
            "[[trigger]] and [[consequence]] patterns",
        )?,
        Kind::Absence => need(
            !triggers.is_empty() && !expect.is_empty(),
            "[[trigger]] and [[expect]] patterns",
        )?,
        Kind::Vanished => need(
            !triggers.is_empty() && !expect.is_empty(),
            "[[trigger]] patterns (another process sees a connection drop) and [[expect]] patterns (the process itself noticed or ended)",
        )?,
        Kind::Accounting => need(
            !triggers.is_empty() && !expect.is_empty(),
            "[[trigger]] patterns (acknowledged sends, capturing `from` and `to`) and [[expect]] patterns (receipts)",
        )?,
        Kind::Storm | Kind::Novel => {}
    }
    let mut levels = Vec::new();
    for l in &def.levels {
        levels.push(crate::model::Level::parse(l).ok_or_else(|| {
            cx.err(
                "levels",
                0,
                format!("unknown level {l:?}; use trace, debug, info, warn or error"),
            )
        })?);
    }
    if levels.is_empty() {
        levels = vec![crate::model::Level::Warn, crate::model::Level::Error];
    }
    let info_words = match &def.info_words {
        Some(w) => Some(definition_regex(w).map_err(|e| {
            cx.err(
                "info_words",
                0,
                format!("invalid regex in `info_words`: {e}"),
            )
        })?),
        None => None,
    };
    let sev_key = |key: &str, v: &Option<String>| -> Result<Option<Severity>, DefError> {
        match v {
            None => Ok(None),
            Some(w) => Severity::parse(w).map(Some).ok_or_else(|| {
                cx.err(
                    key,
                    0,
                    format!("unknown severity {w:?}; use critical, high, medium, low or info"),
                )
            }),
        }
    };
    let teardown_severity = sev_key("teardown_severity", &def.teardown_severity)?;
    let midrun_severity = sev_key("midrun_severity", &def.midrun_severity)?;
    let position = match def.position.as_deref() {
        None => match kind {
            Kind::Sequence => Position::Consequence,
            _ => Position::First,
        },
        Some("first") => Position::First,
        Some("consequence") => Position::Consequence,
        Some("end") => Position::End,
        Some(o) => {
            return Err(cx.err(
                "position",
                0,
                format!("unknown position {o:?}; use \"first\", \"consequence\" or \"end\""),
            ))
        }
    };
    let mut facts = Vec::new();
    for table in &def.facts {
        for (k, v) in table {
            facts.push((k.clone(), cx.expr(k, 0, v)?));
        }
    }
    let when = def
        .when
        .as_deref()
        .map(|w| cx.expr("when", 0, w))
        .transpose()?;
    let mut tests = Vec::new();
    for (i, t) in def.test.into_iter().enumerate() {
        let mut sources: Vec<(String, String)> =
            t.source.into_iter().map(|s| (s.label, s.text)).collect();
        if let Some(l) = t.log {
            sources.insert(0, ("log".into(), l));
        }
        if sources.is_empty() {
            return Err(cx.err(
                "name",
                i,
                format!("test {:?} has no `log` and no [[test.source]]", t.name),
            ));
        }
        tests.push(RuleTest {
            name: t.name,
            expect: t.expect,
            sources,
            line: line_of_key(text, "name", i),
        });
    }
    if !tests.iter().any(|t| t.expect > 0) || !tests.iter().any(|t| t.expect == 0) {
        return Err(cx.err(
            "id",
            0,
            "every rule carries at least one [[test]] that must trigger it (expect >= 1) and one that must not (expect = 0)".into(),
        ));
    }
    Ok(Rule {
        info: RuleInfo {
            id: def.id,
            title: def.title,
            severity,
            description: def.description.trim().to_string(),
            remediation: def.remediation.trim().to_string(),
        },
        kind,
        origin: file.to_string(),
        scope,
        patterns,
        success,
        triggers,
        consequences,
        expect,
        group_by: def.group_by,
        key: def.key,
        expect_source,
        require_owner: def.require_owner,
        window_s,
        window_events: def.window_events,
        min_count: def.min_count.unwrap_or(match kind {
            Kind::Storm => 10,
            _ => 1,
        }),
        min_consequences: def.min_consequences.unwrap_or(1),
        when,
        facts,
        title_template: def.title_template,
        position,
        link: def.link.unwrap_or(true),
        tests,
        levels,
        info_words,
        factor: def.factor.unwrap_or(4.0),
        teardown_severity,
        teardown_note: def.teardown_note,
        midrun_severity,
        midrun_note: def.midrun_note,
        caused_by_declared: def.caused_by.is_some(),
        caused_by_line: line_of_key(text, "caused_by", 0),
        caused_by: def.caused_by.unwrap_or_default(),
    })
}

/// Load the built-in rules plus a directory of user rules (same id replaces a built-in).
pub fn load_rules(extra: Option<&Path>) -> Result<Vec<Rule>, DefError> {
    let mut rules: Vec<Rule> = Vec::new();
    let add = |r: Rule, rules: &mut Vec<Rule>| {
        rules.retain(|x| x.info.id != r.info.id);
        rules.push(r);
    };
    for (name, text) in builtin_rules() {
        add(
            load_rule(&format!("<builtin>/rules/{name}"), text)?,
            &mut rules,
        );
    }
    if let Some(dir) = extra {
        for (path, _, text) in read_toml_dir(dir, "rules")? {
            add(load_rule(&path, &text)?, &mut rules);
        }
    }
    // A cause that names no loaded rule is a typo: the chain would silently miss a link.
    for r in &rules {
        for c in &r.caused_by {
            if !rules.iter().any(|o| &o.info.id == c) {
                let ids: Vec<&str> = rules.iter().map(|o| o.info.id.as_str()).collect();
                let hint = nearest(c, &ids)
                    .map(|n| format!("did you mean {n:?}? "))
                    .unwrap_or_default();
                return Err(DefError {
                    file: r.origin.clone(),
                    line: r.caused_by_line,
                    message: format!(
                        "caused_by names {c:?}, which no rule has; {hint}`diag rules list` shows the ids"
                    ),
                });
            }
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"id = "x"
title = "X"
severity = "high"
kind = "match"
description = "d"
remediation = "r"
[[pattern]]
regex = 'v(?P<a>\d+) n(?P<b>\d+)'
condition = "a > b"
[[test]]
name = "hit"
expect = 1
log = "v2 n1"
[[test]]
name = "miss"
expect = 0
log = "v1 n2"
"#;

    #[test]
    fn an_unrelated_capture_is_not_suggested_for_a_typo() {
        let bad = OK
            .replace("(?P<a>", "(?P<why>")
            .replace("(?P<b>", "(?P<count>")
            .replace("condition = \"a > b\"", "condition = \"cnt > 1\"");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert!(e.message.contains("did you mean `count`?"), "{e}");
        let bad = OK.replace("condition = \"a > b\"", "condition = \"cnt > 1\"");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert!(!e.message.contains("did you mean"), "{e}");
        assert!(e.message.contains("the regex captures: a, b"), "{e}");
    }

    #[test]
    fn good_rule_loads() {
        let r = load_rule("x.toml", OK).unwrap();
        assert_eq!(r.kind, Kind::Match);
        assert_eq!(r.tests.len(), 2);
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let bad = OK.replace("severity = \"high\"", "severity = \"hihg\"");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("x.toml", 3));
        assert!(e.message.contains("did you mean \"high\""), "{e}");

        let bad = OK.replace("condition = \"a > b\"", "condition = \"a > bb\"");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert_eq!(e.line, 9, "{e}");
        assert!(e.message.contains("did you mean `b`"), "{e}");

        let bad = OK.replace("condition = \"a > b\"", "condition = \"a >\"");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert_eq!(e.line, 9, "{e}");
        assert!(e.message.contains("column"), "{e}");

        let bad = OK.replace("kind = \"match\"", "kind = \"sequense\"");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("did you mean \"sequence\""), "{e}");

        let bad = OK.replace("regex = 'v(?P<a>", "regex = 'v(?P<a");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert_eq!(e.line, 8, "{e}");

        let bad = OK.replace("expect = 0", "expect = 2");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert!(e.message.contains("must not"), "{e}");

        let bad = OK.replace("title = \"X\"\n", "title = \"X\"\ncolour = 1\n");
        let e = load_rule("x.toml", &bad).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn a_key_its_kind_does_not_take_is_an_error_naming_the_kinds_that_do() {
        // (kind, a key it does not take, a kind that takes it)
        let cases = [
            ("match", "min_count = 5", "count"),
            ("match", "expect_source = \"same\"", "absence"),
            ("count", "key = [\"cid\"]", "absence"),
            ("sequence", "factor = 2.0", "storm"),
            ("absence", "min_consequences = 2", "sequence"),
            ("storm", "group_by = [\"cid\"]", "match"),
            ("novel", "group_by = [\"cid\"]", "match"),
            ("accounting", "info_words = 'x'", "storm"),
            ("vanished", "min_count = 2", "count"),
        ];
        for (kind, line, taker) in cases {
            let text = OK
                .replace("kind = \"match\"", &format!("kind = \"{kind}\""))
                .replace(
                    "remediation = \"r\"\n",
                    &format!("remediation = \"r\"\n{line}\n"),
                );
            let e = load_rule("k.toml", &text).unwrap_err();
            let key = line.split(' ').next().unwrap();
            assert_eq!((e.file.as_str(), e.line), ("k.toml", 7), "{kind}: {e}");
            assert!(e.message.contains(&format!("`{key}`")), "{kind}: {e}");
            assert!(e.message.contains(taker), "{kind}: {e}");
        }
        let e = load_rule(
            "k.toml",
            &OK.replace("[[pattern]]", "[[trigger]]\nregex = 'x'\n[[pattern]]"),
        )
        .unwrap_err();
        assert!(
            e.message.contains("`trigger`") && e.message.contains("absence"),
            "{e}"
        );
    }

    #[test]
    fn a_cause_no_rule_has_is_an_error_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = OK.replace(
            "remediation = \"r\"\n",
            "remediation = \"r\"\ncaused_by = [\"panik\"]\n",
        );
        std::fs::write(dir.path().join("x.toml"), text).unwrap();
        let e = load_rules(Some(dir.path())).unwrap_err();
        assert!(e.file.ends_with("x.toml"), "{e}");
        assert_eq!(e.line, 7, "{e}");
        assert!(e.message.contains("did you mean \"panic\""), "{e}");
    }

    #[test]
    fn windows() {
        assert_eq!(parse_window("90s"), Some(90.0));
        assert_eq!(parse_window("5m"), Some(300.0));
        assert_eq!(parse_window("250ms"), Some(0.25));
        assert_eq!(parse_window("soon"), None);
    }
}
