//! Evaluate rules over the timeline: find the events each pattern matches, then apply the rule kind's
//! semantics (match, count, sequence, absence) to turn hits into findings with facts and evidence.
// Indexing cannot panic here: indices are positions the engine itself took from the vectors it indexes (events, findings, groups).
#![allow(clippy::indexing_slicing)]

use super::caps::Caps;
use super::expr::Value;
use super::finding::{Evidence, Finding, WindowBasis};
use super::load::{ExpectSource, Kind, Pattern, Position, Rule, Scope};
use super::prefilter::Prefilter;
use crate::model::{Axis, Timeline};
use crate::model::{CidRef, Event};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Evidence kept per finding (the count says how many matched in all).
pub const MAX_EVIDENCE: usize = 25;

/// One event matched by one pattern.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Event index in the timeline.
    pub event: usize,
    /// Captures, constants and per-pattern facts.
    pub caps: Caps,
    /// The pattern marks the line as an echo of a failure logged elsewhere (not counted again).
    pub echo: bool,
    /// Index of the pattern that matched.
    pub pattern: usize,
}

impl Hit {
    /// A capture by name.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.caps.get(k)
    }
}

fn value_of(s: &str) -> Value {
    Value::Str(s.to_string())
}

fn event_lookup<'a>(
    tl: &'a Timeline,
    ev: &'a Event,
    caps: &'a Caps,
) -> impl Fn(&str) -> Option<Value> + 'a {
    move |name: &str| {
        if let Some(v) = caps.get(name) {
            return Some(value_of(v));
        }
        match name {
            "level" => ev.level.map(|l| value_of(l.as_str())),
            "source" => tl.sources.get(ev.source).map(|s| value_of(&s.label)),
            "message" => Some(value_of(&ev.message)),
            "text" => Some(Value::Str(ev.full_text())),
            "target" => ev.target.as_deref().map(value_of),
            other => other
                .strip_prefix("fields.")
                .and_then(|f| ev.field(f))
                .map(value_of),
        }
    }
}

/// Resolve a CID-like capture to a full CID string when the directory knows it.
pub(super) fn resolve_cid(tl: &Timeline, v: &str) -> String {
    let d = v.trim_end_matches('.').trim_end_matches('…');
    if d.is_empty() || !d.chars().all(|c| c.is_ascii_digit()) {
        return v.to_string();
    }
    if tl.cids.shape.is_full_digits(d) {
        return d.to_string();
    }
    match tl.cids.resolve(&CidRef::Prefix(d.to_string())) {
        Some(full) => full.to_string(),
        None => d.to_string(),
    }
}

/// All hits of a pattern list, in timeline order.
pub fn hits(tl: &Timeline, pats: &[Pattern]) -> Vec<Hit> {
    hits_in(tl, pats, None)
}

/// All hits of a pattern list, in timeline order, trying only the events a prefilter names when it
/// can (each event gives at most one hit: its first matching pattern).
pub fn hits_in(tl: &Timeline, pats: &[Pattern], pf: Option<&Prefilter>) -> Vec<Hit> {
    let mut out = Vec::new();
    if pats.is_empty() {
        return out;
    }
    let any_multiline = pats.iter().any(|p| p.multiline);
    if let Some(pf) = pf {
        let lists = pf.candidates(pats);
        if lists.iter().all(Option::is_some) {
            // Only the events some literal named, in order, each with its candidate patterns.
            let mut cands: Vec<(u32, usize)> = lists
                .iter()
                .enumerate()
                .flat_map(|(pi, l)| l.unwrap_or_default().iter().map(move |&e| (e, pi)))
                .collect();
            cands.sort_unstable();
            for group in cands.chunk_by(|a, b| a.0 == b.0) {
                let Some(&(e, _)) = group.first() else {
                    continue;
                };
                let i = e as usize;
                let Some(ev) = tl.event(i) else {
                    continue;
                };
                let cands = group.iter().map(|&(_, pi)| pi);
                out.extend(hit_at(tl, i, ev, pats, any_multiline, cands));
            }
            return out;
        }
        // Some pattern must see every event: walk them all, trying a literal pattern only where its
        // list names the event (a cursor per pattern), and the others everywhere.
        let mut cursor = vec![0usize; pats.len()];
        let mut candidates: Vec<usize> = Vec::with_capacity(pats.len());
        for (i, ev) in tl.indexed() {
            candidates.clear();
            for (pi, l) in lists.iter().enumerate() {
                match l {
                    None => candidates.push(pi),
                    Some(list) => {
                        let Some(c) = cursor.get_mut(pi) else {
                            continue;
                        };
                        while list.get(*c).is_some_and(|&e| (e as usize) < i) {
                            *c += 1;
                        }
                        if list.get(*c).is_some_and(|&e| e as usize == i) {
                            candidates.push(pi);
                        }
                    }
                }
            }
            if candidates.is_empty() {
                continue;
            }
            let cands = candidates.iter().copied();
            out.extend(hit_at(tl, i, ev, pats, any_multiline, cands));
        }
        return out;
    }
    let set = pattern_set(pats);
    let mut candidates: Vec<usize> = Vec::with_capacity(pats.len());
    for (i, ev) in tl.indexed() {
        let tried = Tried {
            pats,
            set: set.as_ref(),
            multiline: any_multiline,
        };
        out.extend(hit_of(tl, i, ev, &tried, &mut candidates));
    }
    out
}

/// One set of a pattern list's regexes: one pass over an event finds the candidate patterns, and
/// only those run with captures. The patterns compiled alone, so the set of the same patterns
/// cannot fail; if it ever does (`None`), every pattern is simply tried.
pub(super) fn pattern_set(pats: &[Pattern]) -> Option<regex::RegexSet> {
    regex::RegexSet::new(pats.iter().map(|p| p.regex.as_str())).ok()
}

/// A pattern list as [`hit_of`] tries it: its [`pattern_set`], and whether one of its patterns
/// reads whole records (decided once per list, not per event).
pub(super) struct Tried<'a> {
    /// The patterns, in order.
    pub pats: &'a [Pattern],
    /// Their set (`None`: try every pattern).
    pub set: Option<&'a regex::RegexSet>,
    /// Whether one of them reads the whole record.
    pub multiline: bool,
}

/// The hit of a pattern list on event `i` (its first matching pattern), as [`hits`] finds it;
/// `candidates` is room the caller reuses.
pub(super) fn hit_of(
    tl: &Timeline,
    i: usize,
    ev: &Event,
    list: &Tried,
    candidates: &mut Vec<usize>,
) -> Option<Hit> {
    let scan = scan_text(ev, list.multiline);
    candidates.clear();
    match list.set {
        Some(set) => candidates.extend(set.matches(&scan).iter()),
        None => candidates.extend(0..list.pats.len()),
    }
    first_hit(tl, i, ev, &scan, list.pats, candidates.iter().copied())
}

/// [`first_hit`] over the text the patterns look at ([`scan_text`]).
fn hit_at(
    tl: &Timeline,
    i: usize,
    ev: &Event,
    pats: &[Pattern],
    any_multiline: bool,
    cands: impl IntoIterator<Item = usize>,
) -> Option<Hit> {
    first_hit(tl, i, ev, &scan_text(ev, any_multiline), pats, cands)
}

/// The first of the candidate patterns (by index, in order) that matches the event.
fn first_hit(
    tl: &Timeline,
    i: usize,
    ev: &Event,
    scan: &str,
    pats: &[Pattern],
    cands: impl IntoIterator<Item = usize>,
) -> Option<Hit> {
    cands
        .into_iter()
        .find_map(|pi| try_pattern(tl, i, ev, scan, pi, pats.get(pi)?))
}

/// The text patterns of a list look at: the whole record when one of them is multi-line.
fn scan_text(ev: &Event, any_multiline: bool) -> std::borrow::Cow<'_, str> {
    if any_multiline && !ev.continuation.is_empty() {
        std::borrow::Cow::Owned(ev.full_text())
    } else {
        std::borrow::Cow::Borrowed(ev.message.as_str())
    }
}

/// One pattern against one event: the hit with its captures, set values and facts, if it matches.
fn try_pattern(
    tl: &Timeline,
    i: usize,
    ev: &Event,
    scan: &str,
    pi: usize,
    p: &Pattern,
) -> Option<Hit> {
    if !p.levels.is_empty() && !ev.level.is_some_and(|l| p.levels.contains(&l)) {
        return None;
    }
    if let Some(loc) = &p.location {
        if !ev.location.as_deref().is_some_and(|l| loc.is_match(l)) {
            return None;
        }
    }
    let text: &str = if p.multiline { scan } else { &ev.message };
    let c = p.regex.captures(text)?;
    let mut caps = Caps::default();
    for name in &p.names {
        if let Some(m) = c.name(name) {
            let v = m.as_str();
            let v = if tl.cids.shape.is_capture(name) {
                resolve_cid(tl, v).into_boxed_str()
            } else {
                Box::from(v)
            };
            caps.insert(std::sync::Arc::clone(name), v);
        }
    }
    for (k, v) in &p.set {
        caps.insert_absent(k, v);
    }
    if let Some(cond) = &p.condition {
        if !cond.matches(&event_lookup(tl, ev, &caps)) {
            return None;
        }
    }
    let mut facts = Vec::new();
    for (k, e) in &p.facts {
        let lk = event_lookup(tl, ev, &caps);
        if let Ok(v) = e.eval(&lk) {
            if !v.is_null() {
                facts.push((k.clone(), v.to_string()));
            }
        }
    }
    caps.extend(facts);
    caps.shrink();
    Some(Hit {
        event: i,
        caps,
        echo: p.echo,
        pattern: pi,
    })
}

/// Where an event sits, as a rule's window measures it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    /// Index in the timeline.
    pub event: usize,
    /// Aligned time, when the event has one.
    pub ts: Option<chrono::DateTime<chrono::Utc>>,
    /// Position on the timeline's axis.
    pub pos: f64,
}

impl Place {
    /// The place of event `i` of a timeline.
    pub(super) fn of(tl: &Timeline, i: usize) -> Place {
        let ev = &tl[i];
        Place::at(i, ev)
    }

    /// The place of `ev`, event `i` of its timeline.
    pub(super) fn at(i: usize, ev: &Event) -> Place {
        Place {
            event: i,
            ts: ev.ts,
            pos: ev.pos,
        }
    }
}

/// The rule's window between two events: Some(true/false) and the basis it was measured on.
fn within(rule: &Rule, tl: &Timeline, a: usize, b: usize) -> (bool, WindowBasis) {
    within_at(rule, tl.axis, Place::of(tl, a), Place::of(tl, b))
}

/// [`within`] between two places on a timeline of this axis.
pub(super) fn within_at(rule: &Rule, axis: Axis, a: Place, b: Place) -> (bool, WindowBasis) {
    if let (Some(w), Axis::Time, Some(ta), Some(tb)) = (rule.window_s, axis, a.ts, b.ts) {
        let d = (tb - ta).num_milliseconds().abs() as f64 / 1000.0;
        return (d <= w, WindowBasis::Time);
    }
    if rule.window_s.is_some() && axis == Axis::Time && rule.window_events.is_none() {
        // Times exist on the axis even for inferred events: positions are nanoseconds.
        let d = (b.pos - a.pos).abs() / 1e9;
        return (
            d <= rule.window_s.unwrap_or(f64::INFINITY),
            WindowBasis::Time,
        );
    }
    match rule.window_events {
        Some(n) => (b.event.abs_diff(a.event) <= n, WindowBasis::Order),
        None => (true, WindowBasis::None),
    }
}

fn group_key(rule: &Rule, tl: &Timeline, h: &Hit) -> Vec<String> {
    group_key_of(rule, tl, h, &tl[h.event])
}

/// [`group_key`] of hit `h` on `ev` (an event `tl` places).
pub(super) fn group_key_of(rule: &Rule, tl: &Timeline, h: &Hit, ev: &Event) -> Vec<String> {
    rule.group_by
        .iter()
        .map(|k| match k.as_str() {
            "source" => tl
                .sources
                .get(ev.source)
                .map(|s| s.label.clone())
                .unwrap_or_default(),
            "cid" => h
                .get("cid")
                .map(String::from)
                .or_else(|| {
                    ev.cids
                        .iter()
                        .find_map(|c| tl.cids.resolve(c))
                        .map(|c| c.to_string())
                })
                .unwrap_or_default(),
            // `masked.NAME`: group by the value's shape, so one failure with varying ids is one group.
            other => match other.strip_prefix("masked.") {
                Some(name) => crate::templates::mask(h.get(name).unwrap_or("")),
                None => h.get(other).unwrap_or("").to_string(),
            },
        })
        .collect()
}

/// Group-level values: count, first./last./sum./max./min. of captures, key values, and facts.
fn group_values(tl: &Timeline, hs: &[&Hit], extra: &[(String, Value)]) -> HashMap<String, Value> {
    let mut v = Values::default();
    for h in hs {
        v.add(h, Place::of(tl, h.event), tl[h.event].source);
    }
    v.finish(tl, extra)
}

/// One capture's values over a group's hits, as they come.
#[derive(Debug)]
struct NameValues {
    first: Box<str>,
    last: Box<str>,
    /// Sum, largest and smallest of the values that are numbers (in the order they came).
    sum: f64,
    max: f64,
    min: f64,
    numbers: bool,
    /// Distinct values in the order they came.
    distinct: Vec<Box<str>>,
    seen: std::collections::HashSet<Box<str>>,
    /// Runs of consecutive hits with one value.
    runs: usize,
}

impl NameValues {
    fn new(v: &str) -> NameValues {
        let mut n = NameValues {
            first: Box::from(v),
            last: Box::from(v),
            // What `Iterator::sum` starts from, so that sums are the same bits.
            sum: std::iter::empty::<f64>().sum(),
            max: f64::MIN,
            min: f64::MAX,
            numbers: false,
            distinct: Vec::new(),
            seen: Default::default(),
            runs: 1,
        };
        n.value(v);
        n
    }

    fn add(&mut self, v: &str) {
        if *self.last != *v {
            self.runs += 1;
        }
        self.last = Box::from(v);
        self.value(v);
    }

    fn value(&mut self, v: &str) {
        if let Ok(x) = v.parse::<f64>() {
            self.sum += x;
            self.max = self.max.max(x);
            self.min = self.min.min(x);
            self.numbers = true;
        }
        if !self.seen.contains(v) {
            self.seen.insert(Box::from(v));
            self.distinct.push(Box::from(v));
        }
    }
}

/// A group's values accumulated hit by hit, in timeline order: what [`group_values`] computes
/// over a list, without the list (an online rule keeps this, not its hits).
#[derive(Debug, Default)]
pub(super) struct Values {
    count: usize,
    names: BTreeMap<std::sync::Arc<str>, NameValues>,
    /// The first and the last hit's times.
    first_ts: Option<Option<chrono::DateTime<chrono::Utc>>>,
    last_ts: Option<chrono::DateTime<chrono::Utc>>,
    sources: BTreeSet<usize>,
}

impl Values {
    /// The next hit of the group, at `place` in source `source`.
    pub(super) fn add(&mut self, h: &Hit, place: Place, source: usize) {
        self.count += 1;
        for (k, v) in h.caps.entries() {
            match self.names.get_mut(&**k) {
                Some(n) => n.add(v),
                None => {
                    self.names
                        .insert(std::sync::Arc::clone(k), NameValues::new(v));
                }
            }
        }
        if self.first_ts.is_none() {
            self.first_ts = Some(place.ts);
        }
        self.last_ts = place.ts;
        self.sources.insert(source);
    }

    /// The values by name, with `extra` over them.
    pub(super) fn finish(self, tl: &Timeline, extra: &[(String, Value)]) -> HashMap<String, Value> {
        let mut m: HashMap<String, Value> = HashMap::new();
        m.insert("count".into(), Value::Int(self.count as i128));
        for (n, nv) in self.names {
            m.insert(n.to_string(), value_of(&nv.first));
            m.insert(format!("first.{n}"), value_of(&nv.first));
            m.insert(format!("last.{n}"), value_of(&nv.last));
            if nv.numbers {
                let num = |x: f64| {
                    if x.fract() == 0.0 && x.abs() < 1e15 {
                        Value::Int(x as i128)
                    } else {
                        Value::Float(x)
                    }
                };
                m.insert(format!("sum.{n}"), num(nv.sum));
                m.insert(format!("max.{n}"), num(nv.max));
                m.insert(format!("min.{n}"), num(nv.min));
            }
            let mut distinct: Vec<&str> = nv.distinct.iter().map(|v| &**v).collect();
            // Numbers read best in order (v4, 13, 39), words in the order they came.
            if distinct.iter().all(|v| v.parse::<f64>().is_ok()) {
                distinct.sort_by(|a, b| {
                    let (x, y) = (a.parse::<f64>(), b.parse::<f64>());
                    x.unwrap_or(0.0).total_cmp(&y.unwrap_or(0.0))
                });
            }
            m.insert(format!("distinct.{n}"), Value::Str(distinct.join(", ")));
            m.insert(format!("ndistinct.{n}"), Value::Int(distinct.len() as i128));
            // `same.x` only when every event agrees, so a title never states one value for many.
            if let [one] = distinct.as_slice() {
                m.insert(format!("same.{n}"), value_of(one));
            }
            // `episodes.x`: runs of consecutive events with one value of x, only when there are several.
            if nv.runs > 1 {
                m.insert(format!("episodes.{n}"), Value::Int(nv.runs as i128));
            }
        }
        if self.count > 0 {
            if let (Some(Some(ta)), Some(tb)) = (self.first_ts, self.last_ts) {
                m.insert(
                    "span_s".into(),
                    Value::Float((tb - ta).num_milliseconds() as f64 / 1000.0),
                );
            }
            m.insert("sources".into(), Value::Int(self.sources.len() as i128));
            let labels: Vec<&str> = self
                .sources
                .iter()
                .filter_map(|s| tl.sources.get(*s).map(|x| x.label.as_str()))
                .collect();
            m.insert("source_label".into(), Value::Str(labels.join(", ")));
        }
        for (k, v) in extra {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

/// Fill `{name}` placeholders; `{name|cid}` shows a CID value with its username when one is known.
/// `[...]` around placeholders is an optional part: left out when a value inside it is unknown. An
/// unknown value outside such a part reads `unknown`: a title says what it knows in words.
fn render(template: &str, vals: &HashMap<String, Value>, tl: &Timeline) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('[') {
        let inner_end = rest[i + 1..].find(']').map(|j| i + 1 + j);
        match inner_end {
            Some(e) if rest[i + 1..e].contains('{') => {
                out.push_str(&fill(&rest[..i], vals, tl).0);
                let (part, missing) = fill(&rest[i + 1..e], vals, tl);
                if !missing {
                    out.push_str(&part);
                }
                rest = &rest[e + 1..];
            }
            // Brackets without a placeholder are text.
            _ => {
                out.push_str(&fill(&rest[..=i], vals, tl).0);
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(&fill(rest, vals, tl).0);
    out
}

/// Fill the placeholders of a piece of a title; also says whether a value was unknown.
fn fill(template: &str, vals: &HashMap<String, Value>, tl: &Timeline) -> (String, bool) {
    let mut out = String::new();
    let mut missing = false;
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.find('}') {
            Some(j) => {
                let (name, filter) = match after[..j].split_once('|') {
                    Some((n, f)) => (n, Some(f)),
                    None => (&after[..j], None),
                };
                match (vals.get(name), filter) {
                    (Some(v), Some("cid")) => {
                        let text = v.to_string();
                        match text.parse::<u64>() {
                            Ok(c) if tl.cids.name(c).is_some() => {
                                out.push_str(&tl.cids.describe(c))
                            }
                            _ => out.push_str(&text),
                        }
                    }
                    (Some(Value::Float(f)), _) => {
                        out.push_str(&format!("{}", (f * 1000.0).round() / 1000.0))
                    }
                    (Some(Value::Null) | None, _) => {
                        missing = true;
                        out.push_str("unknown");
                    }
                    (Some(v), _) => out.push_str(&v.to_string()),
                }
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    (out, missing)
}

/// CIDs of a set of events (resolved), plus owners of their sources when the scope says so.
pub(super) fn event_cids(rule: &Rule, tl: &Timeline, events: &[usize]) -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    for &i in events {
        add_event_cids(rule, tl, &mut set, &tl[i]);
    }
    set
}

/// Add the CIDs of `ev` (an event of `tl`, or one it places) to `set`, as [`event_cids`] does.
pub(super) fn add_event_cids(rule: &Rule, tl: &Timeline, set: &mut BTreeSet<u64>, ev: &Event) {
    set.extend(ev.cids.iter().filter_map(|c| tl.cids.resolve(c)));
    if rule.scope == Scope::Source {
        if let Some(s) = tl.sources.get(ev.source) {
            set.extend(s.owners.iter().copied());
        }
    }
}

/// A finding's CIDs: its events' ([`event_cids`]) and the full CIDs its hits captured.
fn captured_cids(tl: &Timeline, mut set: BTreeSet<u64>, hs: &[&Hit]) -> Vec<u64> {
    for h in hs {
        add_captured(tl, &mut set, h);
    }
    set.into_iter().collect()
}

/// Add the full CIDs hit `h` captured to `set`.
pub(super) fn add_captured(tl: &Timeline, set: &mut BTreeSet<u64>, h: &Hit) {
    for k in &tl.cids.shape.captures {
        if let Some(v) = h.get(k).and_then(|v| v.parse::<u64>().ok()) {
            if tl.cids.shape.is_full(v) {
                set.insert(v);
            }
        }
    }
}

/// Build a finding from a group, or None when the rule's `when` rejects it.
#[allow(clippy::too_many_arguments)]
pub(super) fn make_finding(
    rule: &Rule,
    tl: &Timeline,
    hs: &[&Hit],
    evidence: Vec<Evidence>,
    extra: Vec<(String, Value)>,
    basis: WindowBasis,
    count: usize,
    cid_events: &[usize],
) -> Option<Finding> {
    let vals = group_values(tl, hs, &extra);
    let cids = captured_cids(tl, event_cids(rule, tl, cid_events), hs);
    told(rule, tl, vals, evidence, extra, basis, count, cids)
}

/// A finding from its group's values ([`Values::finish`], `extra` over them) and CIDs, or None
/// when the rule's `when` rejects it.
#[allow(clippy::too_many_arguments)]
pub(super) fn told(
    rule: &Rule,
    tl: &Timeline,
    mut vals: HashMap<String, Value>,
    evidence: Vec<Evidence>,
    extra: Vec<(String, Value)>,
    basis: WindowBasis,
    count: usize,
    cids: Vec<u64>,
) -> Option<Finding> {
    let mut facts: Vec<(String, String)> = Vec::new();
    for (k, e) in &rule.facts {
        let v = {
            let lk = |n: &str| vals.get(n).cloned();
            e.eval(&lk).unwrap_or(Value::Null)
        };
        if !v.is_null() {
            facts.push((k.clone(), v.to_string()));
        }
        vals.insert(k.clone(), v);
    }
    if let Some(w) = &rule.when {
        let lk = |n: &str| vals.get(n).cloned();
        if !w.matches(&lk) {
            return None;
        }
    }
    for (k, v) in &extra {
        if !facts.iter().any(|(n, _)| n == k) && !v.is_null() {
            facts.push((k.clone(), v.to_string()));
        }
    }
    // Facts of the patterns (e.g. a ratchet `gap`) are the finding's facts too: the largest over its
    // events when numeric, else the distinct values.
    for p in rule.all_patterns() {
        for (k, _) in &p.facts {
            if facts.iter().any(|(n, _)| n == k) {
                continue;
            }
            let v = vals
                .get(&format!("max.{k}"))
                .or_else(|| vals.get(&format!("distinct.{k}")));
            if let Some(v) = v.filter(|v| !v.is_null() && !v.to_string().is_empty()) {
                facts.push((k.clone(), v.to_string()));
            }
        }
    }
    let title = rule
        .title_template
        .as_deref()
        .map(|t| render(t, &vals, tl))
        .unwrap_or_else(|| rule.info.title.clone());
    let mut evidence = evidence;
    evidence.truncate(MAX_EVIDENCE);
    Some(Finding {
        id: String::new(),
        rule: rule.info.id.clone(),
        severity: rule.info.severity,
        title,
        cids,
        evidence,
        count,
        facts,
        window_basis: basis,
        caused_by: None,
        causes: Vec::new(),
    })
}

pub(super) fn ev_list(hs: &[&Hit], role: &str) -> Vec<Evidence> {
    hs.iter()
        .map(|h| Evidence {
            event: h.event,
            role: role.to_string(),
        })
        .collect()
}

fn group_hits<'h>(rule: &Rule, tl: &Timeline, hs: &'h [Hit]) -> Vec<(Vec<String>, Vec<&'h Hit>)> {
    let mut groups: Vec<(Vec<String>, Vec<&Hit>)> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    for h in hs {
        let k = group_key(rule, tl, h);
        match index.get(&k) {
            Some(&i) => groups[i].1.push(h),
            None => {
                index.insert(k.clone(), groups.len());
                groups.push((k, vec![h]));
            }
        }
    }
    groups
}

/// A group made only of echoes (a WASM abort after a panic) is the same failure as the group whose
/// hit comes just before it in the same source; on its own it stays a finding.
fn join_echo_groups<'h>(
    tl: &Timeline,
    groups: Vec<(Vec<String>, Vec<&'h Hit>)>,
) -> Vec<Vec<&'h Hit>> {
    let mut out: Vec<Vec<&Hit>> = Vec::new();
    let mut echoes: Vec<Vec<&Hit>> = Vec::new();
    for (_, g) in groups {
        if g.iter().all(|h| h.echo) {
            echoes.push(g);
        } else {
            out.push(g);
        }
    }
    for g in echoes {
        let Some(first) = g.first() else { continue };
        let src = tl[first.event].source;
        let host = out
            .iter_mut()
            .filter_map(|o| {
                o.iter()
                    .map(|h| h.event)
                    .filter(|&e| e < first.event && tl[e].source == src)
                    .max()
                    .map(|e| (e, o))
            })
            .max_by_key(|(e, _)| *e)
            .map(|(_, o)| o);
        match host {
            Some(o) => {
                o.extend(g);
                o.sort_by_key(|h| h.event);
            }
            None => out.push(g),
        }
    }
    out
}

/// Whether two key values agree: equal, or one a prefix of the other (truncated CIDs, 8-hex message ids).
fn compatible(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    // Compared as bytes, case-insensitively, without allocating: this runs for every candidate pair.
    let head = long.as_bytes().get(..short.len());
    let prefix = head.is_some_and(|h| h.eq_ignore_ascii_case(short.as_bytes()));
    prefix && (short.len() == long.len() || short.len() >= 6)
}

pub(super) fn keys_agree(rule: &Rule, a: &Hit, b: &Hit) -> bool {
    let mut shared = 0;
    for k in &rule.key {
        if let (Some(x), Some(y)) = (a.get(k), b.get(k)) {
            if !compatible(x, y) {
                return false;
            }
            shared += 1;
        }
    }
    shared > 0 || rule.key.is_empty()
}

fn eval_match(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    let hs = &m.patterns;
    let mut out = Vec::new();
    for g in join_echo_groups(tl, group_hits(rule, tl, hs)) {
        let events: Vec<usize> = g.iter().map(|h| h.event).collect();
        // Echoes (the same failure logged again at another layer) are evidence, not more failures.
        let counted: Vec<&Hit> = g.iter().copied().filter(|h| !h.echo).collect();
        let count = if counted.is_empty() {
            g.len()
        } else {
            counted.len()
        };
        let extra = vec![("count".to_string(), Value::Int(count as i128))];
        if let Some(f) = make_finding(
            rule,
            tl,
            &g,
            ev_list(&g, "match"),
            extra,
            WindowBasis::None,
            count,
            &events,
        ) {
            out.push(f);
        }
    }
    out
}

/// Whether success hit `s` (of the burst's source) agrees with a burst's group key `key`.
pub(super) fn succeeds(rule: &Rule, key: &[String], s: &Hit) -> bool {
    rule.group_by
        .iter()
        .zip(key)
        .all(|(k, v)| match k.as_str() {
            "source" => true,
            other => s.get(other).is_none_or(|sv| compatible(sv, v)),
        })
}

fn eval_count(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    let (hs, succ) = (&m.patterns, &m.success);
    let mut out = Vec::new();
    for (key, g) in group_hits(rule, tl, hs) {
        // Bursts: each hit within the window of the burst's first hit.
        let mut i = 0;
        while i < g.len() {
            let mut j = i + 1;
            let mut basis = WindowBasis::None;
            while j < g.len() {
                let (ok, b) = within(rule, tl, g[i].event, g[j].event);
                basis = b;
                if !ok {
                    break;
                }
                j += 1;
            }
            let burst = &g[i..j];
            i = j;
            if burst.len() < rule.min_count {
                continue;
            }
            let last = burst.last().map(|h| h.event).unwrap_or(0);
            let src = burst.first().map(|h| tl[h.event].source);
            let after = succ.partition_point(|s| s.event <= last);
            let success = succ[after..]
                .iter()
                .find(|s| Some(tl[s.event].source) == src && succeeds(rule, &key, s));
            let mut ev = ev_list(burst, "attempt");
            if let Some(s) = success {
                ev.push(Evidence {
                    event: s.event,
                    role: "success".into(),
                });
            }
            let events: Vec<usize> = burst.iter().map(|h| h.event).collect();
            let extra = vec![("succeeded".to_string(), Value::Bool(success.is_some()))];
            if let Some(f) = make_finding(rule, tl, burst, ev, extra, basis, burst.len(), &events) {
                out.push(f);
            }
        }
    }
    out
}

fn eval_sequence(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    let (trig, cons) = (&m.triggers, &m.consequences);
    let mut used = vec![false; cons.len()];
    let mut absorbed = vec![false; trig.len()];
    let mut out = Vec::new();
    // Hits come in timeline order and windows only grow with distance, so every scan below stops at
    // the first hit outside the window: linear in hits, not quadratic.
    let mut first_after = 0;
    for ti in 0..trig.len() {
        if absorbed[ti] {
            continue;
        }
        let t = &trig[ti];
        let mut basis = WindowBasis::None;
        let mut echoes = Vec::new();
        for (tj, other) in trig.iter().enumerate().skip(ti + 1) {
            let (ok, b) = within(rule, tl, t.event, other.event);
            if !ok {
                break;
            }
            absorbed[tj] = true;
            echoes.push(other);
            basis = b;
        }
        while first_after < cons.len() && cons[first_after].event <= t.event {
            first_after += 1;
        }
        let mut found: Vec<&Hit> = Vec::new();
        for (ci, c) in cons.iter().enumerate().skip(first_after) {
            if used[ci] {
                continue;
            }
            let (ok, b) = within(rule, tl, t.event, c.event);
            basis = b;
            if !ok {
                break;
            }
            used[ci] = true;
            found.push(c);
        }
        if found.len() < rule.min_consequences {
            continue;
        }
        let mut per_source: BTreeMap<String, usize> = BTreeMap::new();
        for c in &found {
            let label = tl
                .sources
                .get(tl[c.event].source)
                .map(|s| s.label.clone())
                .unwrap_or_default();
            *per_source.entry(label).or_default() += 1;
        }
        let mut ev = vec![Evidence {
            event: t.event,
            role: "trigger".into(),
        }];
        ev.extend(echoes.iter().map(|h| Evidence {
            event: h.event,
            role: "trigger".into(),
        }));
        ev.extend(ev_list(&found, "consequence"));
        let events: Vec<usize> = ev.iter().map(|e| e.event).collect();
        let extra = sequence_values(found.len(), &per_source, trigger_text(&tl[t.event]));
        let mut group: Vec<&Hit> = vec![t];
        group.extend(found.iter().copied());
        if let Some(f) = make_finding(rule, tl, &group, ev, extra, basis, found.len(), &events) {
            out.push(f);
        }
    }
    out
}

/// A sequence finding's own values: its consequences, in all and per source label, and its
/// trigger's text.
pub(super) fn sequence_values(
    consequences: usize,
    per_source: &BTreeMap<String, usize>,
    trigger: String,
) -> Vec<(String, Value)> {
    let per = per_source
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        ("consequences".to_string(), Value::Int(consequences as i128)),
        ("per_source".to_string(), Value::Str(per)),
        ("trigger".to_string(), Value::Str(trigger)),
        ("sources".to_string(), Value::Int(per_source.len() as i128)),
    ]
}

/// What a sequence finding shows of its trigger: the first 80 characters of its message.
pub(super) fn trigger_text(ev: &Event) -> String {
    ev.message.chars().take(80).collect()
}

/// Evidence of these events, each in this role.
pub(super) fn evidence_of(events: &[usize], role: &str) -> Vec<Evidence> {
    events
        .iter()
        .map(|&event| Evidence {
            event,
            role: role.to_string(),
        })
        .collect()
}

/// Index key of a key value: values agree only when equal or one prefixes the other by 6+ characters,
/// so agreeing values always share their first 6 (lower-cased) characters.
pub(super) fn key_bucket(v: &str) -> String {
    v.chars().take(6).collect::<String>().to_ascii_lowercase()
}

/// A run of triggers in one source that agree on their keys, with no follow-up between them.
struct TriggerGroup<'h> {
    hits: Vec<&'h Hit>,
    merged: Hit,
    source: usize,
}

impl TriggerGroup<'_> {
    fn last(&self) -> usize {
        self.hits
            .last()
            .map(|h| h.event)
            .unwrap_or(self.merged.event)
    }
}

/// A trigger joining a group: the group keeps the longest value of each capture (a full CID over
/// its truncated form).
pub(super) fn merge_caps(merged: &mut Hit, t: &Hit) {
    for (k, v) in t.caps.entries() {
        if merged.caps.get(k).is_none_or(|old| v.len() > old.len()) {
            merged.caps.insert(std::sync::Arc::clone(k), Box::from(v));
        }
    }
}

/// Groups of triggers the rule looks at when deciding whether a new trigger joins an old one.
pub(super) const OPEN_GROUPS: usize = 32;

fn eval_absence(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    let (trig, exp) = (&m.triggers, &m.expect);
    let mut out = Vec::new();
    // Follow-ups by source (event indices, ascending) and by key value.
    let mut exp_by_source: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, e) in exp.iter().enumerate() {
        exp_by_source.entry(tl[e.event].source).or_default().push(i);
    }
    let mut exp_by_key: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, e) in exp.iter().enumerate() {
        for k in &rule.key {
            if let Some(v) = e.get(k) {
                exp_by_key
                    .entry((k.clone(), key_bucket(v)))
                    .or_default()
                    .push(i);
            }
        }
    }
    let follow_up_between = |src: usize, after: usize, before: usize| -> bool {
        exp_by_source.get(&src).is_some_and(|v| {
            let p = v.partition_point(|&i| exp[i].event <= after);
            v.get(p).is_some_and(|&i| exp[i].event < before)
        })
    };
    // Merge triggers of one source that agree on their keys and have no follow-up between them.
    let mut groups: Vec<TriggerGroup> = Vec::new();
    let mut open: HashMap<usize, Vec<usize>> = HashMap::new();
    for t in trig {
        let src = tl[t.event].source;
        let recent = open.entry(src).or_default();
        let joined = recent.iter().rev().take(OPEN_GROUPS).copied().find(|&gi| {
            let g = &groups[gi];
            g.hits.iter().all(|h| keys_agree(rule, h, t))
                && !follow_up_between(src, g.last(), t.event)
        });
        match joined {
            Some(gi) => {
                let g = &mut groups[gi];
                merge_caps(&mut g.merged, t);
                g.hits.push(t);
            }
            None => {
                recent.push(groups.len());
                groups.push(TriggerGroup {
                    hits: vec![t],
                    merged: t.clone(),
                    source: src,
                });
            }
        }
    }
    for g in &groups {
        let src = g.source;
        let merged = &g.merged;
        let last = g.last();
        // Candidates: follow-ups sharing a key value, else (no keys) every follow-up after `last`.
        // Without keys every follow-up after `last` is a candidate; with keys, the follow-ups that share
        // a bucket with one of the group's key values (each bucket is in timeline order, so each is
        // scanned from `last` on and the scan stops at the first follow-up that agrees).
        let all_exp: Vec<usize>;
        let buckets: Vec<&[usize]> = if rule.key.is_empty() {
            match rule.expect_source {
                ExpectSource::Same => {
                    vec![exp_by_source.get(&src).map(|v| v.as_slice()).unwrap_or(&[])]
                }
                _ => {
                    all_exp = (0..exp.len()).collect();
                    vec![&all_exp]
                }
            }
        } else {
            rule.key
                .iter()
                .filter_map(|k| merged.get(k).map(|v| (k.clone(), key_bucket(v))))
                .filter_map(|kb| exp_by_key.get(&kb).map(|v| v.as_slice()))
                .collect()
        };
        let mut basis = WindowBasis::None;
        let mut followed = false;
        'buckets: for candidates in buckets {
            let start = candidates.partition_point(|&i| exp[i].event <= last);
            for &i in &candidates[start..] {
                let e = &exp[i];
                let (ok, b) = within(rule, tl, last, e.event);
                basis = b;
                if !ok {
                    break;
                }
                if expected_from(rule, tl[e.event].source, src) && keys_agree(rule, merged, e) {
                    followed = true;
                    break 'buckets;
                }
            }
        }
        if followed {
            continue;
        }
        let events: Vec<usize> = g.hits.iter().map(|h| h.event).collect();
        let cids = event_cids(rule, tl, &events);
        let group = Group {
            merged,
            source: src,
            events: &events,
            count: events.len(),
        };
        out.extend(absence_finding(rule, tl, &group, cids, basis));
    }
    out
}

/// Whether a follow-up logged by source `es` answers a trigger of source `src`.
pub(super) fn expected_from(rule: &Rule, es: usize, src: usize) -> bool {
    match rule.expect_source {
        ExpectSource::Same => es == src,
        ExpectSource::Other => es != src,
        ExpectSource::Any => true,
    }
}

/// An absence rule's trigger group, as its finding reads it.
pub(super) struct Group<'a> {
    /// Its hits' captures (the longest value of each), at its first hit's event.
    pub merged: &'a Hit,
    /// The source of its triggers.
    pub source: usize,
    /// Its hits' events (at least the first [`MAX_EVIDENCE`]).
    pub events: &'a [usize],
    /// How many hits it has.
    pub count: usize,
}

/// The finding of an absence rule's trigger group that nothing followed, `cids` its events' CIDs
/// ([`event_cids`]). None when the rule wants the receiver's owner among the sources and it is
/// not, or its `when` rejects the group.
pub(super) fn absence_finding(
    rule: &Rule,
    tl: &Timeline,
    g: &Group,
    cids: BTreeSet<u64>,
    basis: WindowBasis,
) -> Option<Finding> {
    let (merged, src) = (g.merged, g.source);
    if let Some(owner_key) = &rule.require_owner {
        let cid = merged.get(owner_key).and_then(|v| v.parse::<u64>().ok())?;
        if !tl.sources.iter().any(|s| s.owners.contains(&cid)) {
            return None;
        }
    }
    let label = tl
        .sources
        .get(src)
        .map(|s| s.label.clone())
        .unwrap_or_default();
    // A tab is named with its user when the logs say whose it is.
    let label = match tl.sources.get(src).and_then(|s| s.owners.first()) {
        Some(&o) => match tl.cids.name(o) {
            Some(n) => format!("{label} ({n})"),
            None => label,
        },
        None => label,
    };
    let extra = vec![("source_label".to_string(), Value::Str(label))];
    let evidence = g
        .events
        .iter()
        .take(MAX_EVIDENCE)
        .map(|&event| Evidence {
            event,
            role: "trigger".into(),
        })
        .collect();
    let vals = group_values(tl, &[merged], &extra);
    let cids = captured_cids(tl, cids, &[merged]);
    let mut f = told(rule, tl, vals, evidence, extra, basis, g.count, cids)?;
    if rule.scope == Scope::Source {
        if let Some(s) = tl.sources.get(src) {
            for o in &s.owners {
                if !f.cids.contains(o) {
                    f.cids.push(*o);
                }
            }
        }
    }
    Some(f)
}

/// The hits of a rule's pattern lists, computed once per rule and shared by its evaluation and by
/// the run's record of which events named rules explain.
#[derive(Debug, Default)]
pub struct Matched {
    /// `[[pattern]]` hits (match, count).
    pub patterns: Vec<Hit>,
    /// `[[success]]` hits (count).
    pub success: Vec<Hit>,
    /// `[[trigger]]` hits (sequence, absence, accounting, vanished).
    pub triggers: Vec<Hit>,
    /// `[[consequence]]` hits (sequence).
    pub consequences: Vec<Hit>,
    /// `[[expect]]` hits (absence, accounting, vanished).
    pub expect: Vec<Hit>,
}

impl Matched {
    /// Match every pattern list of a rule against the timeline.
    pub fn of(rule: &Rule, tl: &Timeline) -> Matched {
        Matched::with(rule, tl, None)
    }

    /// Match every pattern list of a rule, trying only the events a prefilter names where it can.
    pub fn with(rule: &Rule, tl: &Timeline, pf: Option<&Prefilter>) -> Matched {
        let triggers = hits_in(tl, &rule.triggers, pf);
        // Sequence, absence and accounting rules judge what follows their triggers. With no trigger
        // there is nothing to judge, and their follow-ups ("any line naming a CID") can be most of
        // the log: on a 100 MB run, two such lists held 390 k hits for rules that found nothing.
        let judged = !triggers.is_empty()
            || !matches!(rule.kind, Kind::Sequence | Kind::Absence | Kind::Accounting);
        let follow_ups = |pats: &[Pattern]| {
            if judged {
                hits_in(tl, pats, pf)
            } else {
                Vec::new()
            }
        };
        Matched {
            patterns: hits_in(tl, &rule.patterns, pf),
            success: hits_in(tl, &rule.success, pf),
            consequences: follow_ups(&rule.consequences),
            expect: follow_ups(&rule.expect),
            triggers,
        }
    }

    /// Events that the rule's findings account for: what its patterns, triggers and consequences
    /// matched (not successes or expected follow-ups, which are not failures).
    pub fn explained(&self) -> impl Iterator<Item = usize> + '_ {
        self.patterns
            .iter()
            .chain(&self.triggers)
            .chain(&self.consequences)
            .map(|h| h.event)
    }
}

/// Run one rule.
pub fn evaluate(rule: &Rule, tl: &Timeline) -> Vec<Finding> {
    evaluate_matched(rule, tl, &Matched::of(rule, tl))
}

/// Run one rule on hits already matched.
pub fn evaluate_matched(rule: &Rule, tl: &Timeline, m: &Matched) -> Vec<Finding> {
    match rule.kind {
        Kind::Match => eval_match(rule, tl, m),
        Kind::Count => eval_count(rule, tl, m),
        Kind::Sequence => eval_sequence(rule, tl, m),
        Kind::Absence => eval_absence(rule, tl, m),
        Kind::Accounting => super::generic::eval_accounting(rule, tl, m),
        Kind::Vanished => super::generic::eval_vanished(rule, tl, m),
        // Generic rules need the healthy profile and templates: `generic::evaluate` runs them.
        Kind::Storm | Kind::Novel => Vec::new(),
    }
}

/// Position at which a finding counts as having happened, for ordering causes before effects.
pub fn effective_pos(position: Position, f: &Finding, tl: &Timeline) -> f64 {
    let pos = |i: usize| tl.event(i).map(|e| e.pos).unwrap_or(0.0);
    let first = f.evidence.first().map(|e| pos(e.event)).unwrap_or(0.0);
    match position {
        Position::First => first,
        Position::Consequence => f
            .evidence
            .iter()
            .find(|e| e.role == "consequence")
            .map(|e| pos(e.event))
            .unwrap_or(first),
        // A sparse timeline holds the last events of every source, so its last is the last.
        Position::End => tl.events.last().map(|e| e.pos).unwrap_or(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Follow-ups are matched only when a trigger exists to judge them against; the findings are
    /// the same either way (nothing without a trigger).
    #[test]
    fn follow_ups_are_matched_only_after_a_trigger() {
        let rules = super::super::load::load_rules(None).unwrap();
        let rule = rules
            .iter()
            .find(|r| r.info.id == "connect-failed")
            .unwrap();
        assert_eq!(rule.kind, Kind::Absence);
        let quiet = crate::pipeline::timeline_of(&[(
            "svc",
            " INFO citadel: src/a.rs:1: Session 4926344781773734389 up\n",
        )])
        .unwrap();
        let m = Matched::of(rule, &quiet);
        assert!(m.triggers.is_empty() && m.expect.is_empty());
        assert!(evaluate(rule, &quiet).is_empty());
        let tl = crate::pipeline::timeline_of(&[(
            "svc",
            " INFO citadel: src/a.rs:1: About to connect to server 127.0.0.1:1 for user u1\n INFO citadel: src/a.rs:2: Session 4926344781773734389 up\n",
        )])
        .unwrap();
        let m = Matched::of(rule, &tl);
        assert_eq!((m.triggers.len(), m.expect.len()), (1, 1));
        assert!(evaluate(rule, &tl).is_empty(), "the follow-up came");
    }

    /// A group's values as hits come: first and last, sums and extremes of numbers, distinct
    /// values (numbers in order, words as they came), one shared value, runs of one value, the
    /// span between the first and last hit's times, and the sources.
    #[test]
    fn values_accumulate_hit_by_hit() {
        let tl = crate::pipeline::timeline_of(&[
            ("a", " INFO citadel: src/a.rs:1: one\n"),
            ("b", " INFO citadel: src/a.rs:1: two\n"),
        ])
        .unwrap();
        let hit = |event: usize, caps: &[(&str, &str)]| {
            let mut c = Caps::default();
            for (k, v) in caps {
                c.insert(std::sync::Arc::from(*k), Box::from(*v));
            }
            Hit {
                event,
                caps: c,
                echo: false,
                pattern: 0,
            }
        };
        let t = |s: i64| chrono::DateTime::from_timestamp(1_780_000_000 + s, 0);
        let mut v = Values::default();
        let rows = [
            (hit(0, &[("n", "13"), ("w", "x")]), t(0), 0),
            (hit(1, &[("n", "4"), ("w", "x")]), t(5), 1),
            (hit(2, &[("n", "13")]), None, 0),
            (hit(3, &[("n", "39"), ("w", "x")]), t(12), 1),
        ];
        for (h, ts, source) in &rows {
            let place = Place {
                event: h.event,
                ts: *ts,
                pos: 0.0,
            };
            v.add(h, place, *source);
        }
        let m = v.finish(&tl, &[("extra".into(), Value::Int(7))]);
        let get = |k: &str| m.get(k).map(|v| v.to_string()).unwrap_or_default();
        assert_eq!(get("count"), "4");
        assert_eq!(
            (get("n"), get("first.n"), get("last.n")),
            ("13".into(), "13".into(), "39".into())
        );
        assert_eq!(
            (get("sum.n"), get("max.n"), get("min.n")),
            ("69".into(), "39".into(), "4".into())
        );
        assert_eq!(get("distinct.n"), "4, 13, 39");
        assert_eq!(get("ndistinct.n"), "3");
        assert_eq!(get("episodes.n"), "4");
        assert_eq!(get("same.w"), "x");
        assert!(!m.contains_key("same.n") && !m.contains_key("episodes.w"));
        assert_eq!(get("span_s"), "12");
        assert_eq!(
            (get("sources"), get("source_label")),
            ("2".into(), "a, b".into())
        );
        assert_eq!(get("extra"), "7");
    }
}
