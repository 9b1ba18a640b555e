//! Rules: data-driven detection over the correlated timeline.
//!
//! `load` reads `rules/*.toml` (embedded) and `--rules DIR`; `expr` is their condition language;
//! `engine` applies each rule kind to the timeline; `link` chains findings into incidents; `selftest`
//! runs the cases every rule file carries.
pub mod caps;
pub mod engine;
pub mod expr;
pub mod finding;
pub mod generic;
pub mod link;
pub mod load;
pub mod online;
pub mod prefilter;
pub mod selftest;

use crate::model::Timeline;
use finding::{Analysis, Finding};
use load::Rule;

/// Which rules run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Rule ids to skip.
    pub disable: Vec<String>,
    /// If not empty, only these rule ids run.
    pub only: Vec<String>,
}

impl Selection {
    /// Whether a rule runs.
    pub fn allows(&self, id: &str) -> bool {
        !self.disable.iter().any(|d| d == id)
            && (self.only.is_empty() || self.only.iter().any(|o| o == id))
    }
}

/// Run the selected rules over a timeline with the built-in healthy profile.
pub fn run(rules: &[Rule], sel: &Selection, timeline: Timeline) -> Analysis {
    let profile = crate::profile::Profile::builtin().unwrap_or_default();
    run_with(rules, sel, timeline, &profile)
}

/// Run the selected rules over a timeline against a healthy profile, number the findings and link
/// them into incidents. Named rules run first; generic rules then look only at what they left
/// unexplained, so one failure gives one finding.
pub fn run_with(
    rules: &[Rule],
    sel: &Selection,
    timeline: Timeline,
    profile: &crate::profile::Profile,
) -> Analysis {
    run_timed(rules, sel, timeline, profile).0
}

/// [`run_with`], also returning the seconds each rule took (JUnit's `time`), by rule id.
pub fn run_timed(
    rules: &[Rule],
    sel: &Selection,
    timeline: Timeline,
    profile: &crate::profile::Profile,
) -> (Analysis, Vec<(String, f64)>) {
    run_engine(rules, sel, timeline, None, profile, true)
}

/// [`run_timed`] on a timeline whose templates are already known and whose absence rules were
/// judged online: a two-pass `check` (`crate::lean`) does both while it reads, before it drops
/// the text rules cannot match.
pub fn run_prepared(
    rules: &[Rule],
    sel: &Selection,
    timeline: Timeline,
    prepared: Prepared,
    profile: &crate::profile::Profile,
) -> (Analysis, Vec<(String, f64)>) {
    let Prepared {
        templates,
        online,
        late,
    } = prepared;
    let mut timeline = timeline;
    let named = judge_named(rules, sel, &timeline, online, true, true);
    // What only generic rules read joins the timeline now, without what named findings explain
    // (at 4 GB most of a storm's 880 k records): the generic rules skip those.
    late.join(&mut timeline, |i| !named.explained.contains(&i));
    crate::memory::at("late");
    let (verdict, times) = judge_rest(rules, sel, &timeline, named, templates, profile);
    (verdict.with(timeline), times)
}

/// What a two-pass `check` worked out while it read.
pub struct Prepared {
    /// Every event's template.
    pub templates: crate::templates::Templates,
    /// The rules judged online, and what they found.
    pub online: Vec<online::Judged>,
    /// Records held thin for the generic rules alone, joined once the named rules have run.
    pub late: crate::lean::ThinRecords,
}

/// [`run_with`] with every pattern tried on every event (no literal prefilter): the reference the
/// differential tests hold the prefiltered engine to.
pub fn run_full_scan(
    rules: &[Rule],
    sel: &Selection,
    timeline: Timeline,
    profile: &crate::profile::Profile,
) -> Analysis {
    run_engine(rules, sel, timeline, None, profile, false).0
}

/// What one named rule found, the events its findings account for, and the seconds it took.
#[derive(Default)]
struct NamedRun {
    found: Vec<Finding>,
    explained: Vec<usize>,
    secs: f64,
}

/// Run the named rules, each on one thread, on every core (or, `serial`, one after another on this
/// thread): a rule reads the timeline and nothing another rule writes. Results come back in the
/// order of `named`, so findings keep their order.
fn run_named(
    named: &[&Rule],
    timeline: &Timeline,
    prefilter: Option<&prefilter::Prefilter>,
    serial: bool,
) -> Vec<NamedRun> {
    let one = |r: &Rule| {
        let started = std::time::Instant::now();
        let matched = engine::Matched::with(r, timeline, prefilter);
        let found = engine::evaluate_matched(r, timeline, &matched);
        let mut explained = Vec::new();
        if !found.is_empty() {
            explained.extend(matched.explained());
            for f in &found {
                explained.extend(f.evidence.iter().map(|e| e.event));
            }
        }
        NamedRun {
            found,
            explained,
            secs: started.elapsed().as_secs_f64(),
        }
    };
    if serial {
        return named.iter().map(|r| one(r)).collect();
    }
    crate::par::queue(named, || (), |_, r| one(r))
}

fn run_engine(
    rules: &[Rule],
    sel: &Selection,
    timeline: Timeline,
    templates: Option<crate::templates::Templates>,
    profile: &crate::profile::Profile,
    prefiltered: bool,
) -> (Analysis, Vec<(String, f64)>) {
    let (verdict, times) = judge_engine(
        rules,
        sel,
        &timeline,
        templates,
        Vec::new(),
        profile,
        prefiltered,
    );
    (verdict.with(timeline), times)
}

/// What the rules said of a timeline: an [`Analysis`] without the timeline.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Findings, most severe first, then by time.
    pub findings: Vec<Finding>,
    /// Incidents, most severe root first.
    pub incidents: Vec<finding::Incident>,
    /// The rules that ran.
    pub rules: Vec<finding::RuleInfo>,
    /// Every event's template.
    pub templates: Option<crate::templates::Templates>,
}

impl Verdict {
    /// The analysis of `timeline`, which this verdict was given on.
    pub fn with(self, timeline: Timeline) -> Analysis {
        Analysis {
            timeline,
            findings: self.findings,
            incidents: self.incidents,
            rules: self.rules,
            templates: self.templates,
        }
    }
}

/// [`run`] on a timeline that stays where it is (the TUI shows it while the rules run).
pub fn judge(rules: &[Rule], sel: &Selection, timeline: &Timeline) -> Verdict {
    let profile = crate::profile::Profile::builtin().unwrap_or_default();
    judge_engine(rules, sel, timeline, None, Vec::new(), &profile, true).0
}

/// Judge a timeline: named rules (those judged `online` already only told on it), then generic
/// rules, phases, order and incidents.
fn judge_engine(
    rules: &[Rule],
    sel: &Selection,
    timeline: &Timeline,
    templates: Option<crate::templates::Templates>,
    online: Vec<online::Judged>,
    profile: &crate::profile::Profile,
    prefiltered: bool,
) -> (Verdict, Vec<(String, f64)>) {
    // A two-pass check (its templates come from pass 1) is there to bound memory: its named rules
    // run one after another on this thread. On a thread each, every rule built its hit lists in that
    // thread's allocator arena, whose pages the other thread could not reuse: at 4 GB the run's peak
    // (675 -> 639 MB) for 1 s of 115.
    let serial = templates.is_some();
    let templates = templates.unwrap_or_else(|| crate::templates::Templates::build(timeline));
    let named = judge_named(rules, sel, timeline, online, prefiltered, serial);
    judge_rest(rules, sel, timeline, named, templates, profile)
}

/// What the named rules found, and the events their findings account for.
struct NamedPhase {
    findings: Vec<Finding>,
    explained: std::collections::HashSet<usize>,
    times: Vec<(String, f64)>,
}

/// Whether a rule is generic (judged after the named ones, on what they left unexplained).
fn is_generic(r: &Rule) -> bool {
    matches!(r.kind, load::Kind::Storm | load::Kind::Novel)
}

/// The named rules of `rules` that `sel` allows, in order: those judged `online` told on the
/// timeline, the others run on it.
fn judge_named(
    rules: &[Rule],
    sel: &Selection,
    timeline: &Timeline,
    online: Vec<online::Judged>,
    prefiltered: bool,
    serial: bool,
) -> NamedPhase {
    let mut times: Vec<(String, f64)> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    // References, not clones: a cloned `Regex` starts with an empty match cache, so every run (the
    // TUI's reloads, `rules test`) rebuilt each regex's lazy DFA from nothing.
    let active: Vec<&Rule> = rules.iter().filter(|r| sel.allows(&r.info.id)).collect();
    let mut explained: std::collections::HashSet<usize> = Default::default();
    let prefilter = prefiltered.then(|| prefilter::Prefilter::build(timeline, &active));
    crate::memory::at("prefiltered");
    let named: Vec<&Rule> = active.iter().copied().filter(|r| !is_generic(r)).collect();
    let mut online = online;
    let mut judged_online = |r: &Rule| {
        let at = online.iter().position(|j| j.rule == r.info.id)?;
        Some(online.swap_remove(at))
    };
    let judged: Vec<Option<online::Judged>> = named.iter().map(|r| judged_online(r)).collect();
    let to_run: Vec<&Rule> = named
        .iter()
        .zip(&judged)
        .filter(|(_, j)| j.is_none())
        .map(|(r, _)| *r)
        .collect();
    let mut ran = run_named(&to_run, timeline, prefilter.as_ref(), serial).into_iter();
    let runs: Vec<NamedRun> = named
        .iter()
        .zip(judged)
        .map(|(r, j)| match j {
            Some(j) => {
                let started = std::time::Instant::now();
                let judging = j.secs;
                let (found, explained) = j.findings(r, timeline);
                NamedRun {
                    found,
                    explained,
                    secs: judging + started.elapsed().as_secs_f64(),
                }
            }
            None => ran.next().unwrap_or_default(),
        })
        .collect();
    for (r, done) in named.iter().zip(runs) {
        explained.extend(done.explained);
        findings.extend(done.found);
        times.push((r.info.id.clone(), done.secs));
    }
    crate::memory::at("named");
    crate::memory::note(|| format!("{} events explained by named findings", explained.len()));
    NamedPhase {
        findings,
        explained,
        times,
    }
}

/// After the named rules: generic rules on what they left unexplained, severity by phase, the
/// order of the findings and their incidents.
fn judge_rest(
    rules: &[Rule],
    sel: &Selection,
    timeline: &Timeline,
    named: NamedPhase,
    templates: crate::templates::Templates,
    profile: &crate::profile::Profile,
) -> (Verdict, Vec<(String, f64)>) {
    let active: Vec<&Rule> = rules.iter().filter(|r| sel.allows(&r.info.id)).collect();
    let NamedPhase {
        mut findings,
        explained,
        mut times,
    } = named;
    let cx = generic::Ctx {
        tl: timeline,
        templates: &templates,
        profile,
        explained: &explained,
    };
    let mut generic_found: Vec<Finding> = Vec::new();
    for r in active.iter().filter(|r| is_generic(r)) {
        let started = std::time::Instant::now();
        generic_found.extend(generic::evaluate(r, &cx));
        times.push((r.info.id.clone(), started.elapsed().as_secs_f64()));
    }
    crate::memory::at("generic");
    // A generic finding whose events a more severe generic finding already holds says nothing new.
    generic_found.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let mut held: std::collections::HashSet<usize> = Default::default();
    for f in generic_found {
        if f.evidence.iter().any(|e| held.contains(&e.event)) {
            continue;
        }
        held.extend(f.evidence.iter().map(|e| e.event));
        findings.push(f);
    }
    // Severity by consequence, once every finding is known.
    let phases: Vec<Option<generic::Phase>> = findings
        .iter()
        .map(|f| {
            active
                .iter()
                .find(|r| r.info.id == f.rule)
                .and_then(|r| generic::phase(r, f, &findings, &cx))
        })
        .collect();
    for (f, p) in findings.iter_mut().zip(phases) {
        if let (Some(p), Some(r)) = (p, active.iter().find(|r| r.info.id == f.rule)) {
            generic::apply_phase(r, f, p);
        }
    }
    let first_pos = |f: &Finding| {
        f.evidence
            .first()
            .and_then(|e| timeline.event(e.event))
            .map(|e| e.pos)
            .unwrap_or(0.0)
    };
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(first_pos(a).total_cmp(&first_pos(b)))
    });
    for (i, f) in findings.iter_mut().enumerate() {
        f.id = format!("F{}", i + 1);
    }
    let ran: std::collections::BTreeSet<&str> = active.iter().map(|r| r.info.id.as_str()).collect();
    let incidents = link::link(&mut findings, rules, &ran, timeline);
    let v = Verdict {
        findings,
        incidents,
        rules: active.iter().map(|r| r.info.clone()).collect(),
        templates: Some(templates),
    };
    (v, times)
}

/// Load the rules (built-in plus `dir`) and analyse a timeline with all of them.
pub fn analyze(
    timeline: &Timeline,
    dir: Option<&std::path::Path>,
) -> Result<Analysis, crate::defs::DefError> {
    let rules = load::load_rules(dir)?;
    Ok(run(&rules, &Selection::default(), timeline.clone()))
}
