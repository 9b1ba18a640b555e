//! Rules judged online: pass 2 of a two-pass `check` ([`crate::lean`]) hands the records rules
//! read in timeline order, and each rule judged here keeps only what a later record can still
//! change, not every hit of the run, so the records only these rules read are let go.
//!
//! - Absence ([`Absence`]): the trigger groups a later record can still change (the last
//!   `OPEN_GROUPS` of each source, which a trigger may join, and the ones nothing has followed
//!   yet). A group is followed when, in one of its key buckets scanned in timeline order from its
//!   last trigger, an agreeing follow-up comes before the first one outside the window; a trigger
//!   joining a group starts that scan again from itself.
//! - Accounting ([`Accounting`]): per sender, receiver and pattern, the distinct message ids and
//!   the sends' values as `Values` accumulates them, and the CIDs of every record that is no
//!   send (which receivers the logs cover).
//! - Count ([`Count`]): per group its open burst (hits within the window of its first) and the
//!   closed bursts of enough hits, until a success comes after their last hit.
//! - Sequence ([`Sequence`]): the head triggers that still claim consequences (a consequence goes
//!   to the oldest whose window holds it and ends the claims of those before it whose windows do
//!   not), and the newest head, which absorbs the triggers within its window as echoes.
//! - Match ([`Match`]), when no pattern marks echoes: per group key its count, values and CIDs.
//!
//! A finding's records are kept for its first `MAX_EVIDENCE` hits only, the CIDs of the others
//! as numbers. The findings are the ones the held engine gives on the whole timeline: the unit
//! tests hold the two together on random runs, `tests/differential.rs` the reports of a two-pass
//! and a held check.

use super::engine::{
    self, absence_finding, add_captured, add_event_cids, evidence_of, expected_from, hit_of,
    key_bucket, keys_agree, merge_caps, pattern_set, sequence_values, succeeds, told, within_at,
    Group as Told, Hit, Place, Tried, Values, MAX_EVIDENCE, OPEN_GROUPS,
};
use super::expr::Value;
use super::finding::{Finding, WindowBasis};
use super::generic::{accountable, accounting_values, message_id, sender_receiver};
use super::load::{ExpectSource, Kind, Pattern, Rule, Scope};
use crate::model::{Axis, Event, Timeline};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// Whether this module judges `rule` online.
pub fn judges(rule: &Rule) -> bool {
    match rule.kind {
        Kind::Absence | Kind::Accounting | Kind::Count | Kind::Sequence => true,
        // An echo group joins the group of the hit before it, which interleaves their hits: the
        // held engine judges rules with echoes.
        Kind::Match => !rule.patterns.iter().any(|p| p.echo),
        _ => false,
    }
}

/// A rule judged online.
pub enum Judge<'r> {
    /// An absence rule.
    Absence(Absence<'r>),
    /// An accounting rule.
    Accounting(Accounting<'r>),
    /// A count rule.
    Count(Count<'r>),
    /// A sequence rule.
    Sequence(Sequence<'r>),
    /// A match rule without echoes.
    Match(Match<'r>),
}

impl<'r> Judge<'r> {
    /// A judge for `rule` on a timeline of this axis; None for a rule not judged online.
    pub fn new(rule: &'r Rule, axis: Axis) -> Option<Judge<'r>> {
        match rule.kind {
            Kind::Absence => Some(Judge::Absence(Absence::new(rule, axis))),
            Kind::Accounting => Some(Judge::Accounting(Accounting::new(rule))),
            Kind::Count => Some(Judge::Count(Count::new(rule, axis))),
            Kind::Sequence => Some(Judge::Sequence(Sequence::new(rule, axis))),
            Kind::Match if judges(rule) => Some(Judge::Match(Match::new(rule))),
            _ => None,
        }
    }

    /// The next record, event `i` of the timeline `tl` (its sources and CIDs; its events need not
    /// be there), in timeline order.
    /// `gate` has scanned the record ([`Gate::scan`]) and this judge is bound to it
    /// ([`Judge::bind`]): a pattern list none of whose literals the record holds is not tried.
    pub fn feed(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) {
        match self {
            Judge::Absence(a) => a.feed(tl, i, ev, gate),
            Judge::Accounting(a) => a.feed(tl, i, ev, gate),
            Judge::Count(c) => c.feed(tl, i, ev, gate),
            Judge::Sequence(s) => s.feed(tl, i, ev, gate),
            Judge::Match(m) => m.feed(tl, i, ev, gate),
        }
    }

    /// Learn which of `gate`'s literals this judge's patterns need.
    pub fn bind(&mut self, gate: &Gate) {
        let lists = match self {
            Judge::Absence(a) => &mut a.lists,
            Judge::Accounting(a) => &mut a.lists,
            Judge::Count(c) => &mut c.lists,
            Judge::Sequence(s) => &mut s.lists,
            Judge::Match(m) => &mut m.lists,
        };
        lists.ids = [gate.ids(lists.first), gate.ids(lists.second)];
    }

    /// The end of the records; `unread` the CIDs of the records pass 2 did not read (no rule's
    /// pattern matches them).
    pub fn finish(self, unread: &HashSet<u64>) -> Judged {
        match self {
            Judge::Absence(a) => a.finish(),
            Judge::Accounting(a) => a.finish(unread),
            Judge::Count(c) => c.finish(),
            Judge::Sequence(s) => s.finish(),
            Judge::Match(m) => m.finish(),
        }
    }
}

/// Two pattern lists of a rule (triggers or attempts, then follow-ups or successes), each tried on
/// a record as the held engine tries it: one hit per record, its first matching pattern.
struct Lists<'r> {
    first: &'r [Pattern],
    second: &'r [Pattern],
    sets: [Option<regex::RegexSet>; 2],
    multiline: [bool; 2],
    room: Vec<usize>,
    /// Per list, its patterns' regexes in the [`Gate`] it is bound to; `None` until bound, or when
    /// one of its patterns has no required literal (the list is tried on every record).
    ids: [Option<Vec<usize>>; 2],
}

/// Which of the judged rules' patterns a record can match, from one scan of its text for all their
/// required literals (as [`super::prefilter`] finds candidates for the held engine). Pass 2 feeds
/// every judge every record it reads, and each judge's lists ran a `RegexSet` over it: a tenth of
/// a two-pass check's CPU time, on records most of which hold no literal of the list.
pub struct Gate {
    /// Regex source → its number.
    index: crate::hash::Map<String, usize>,
    /// Over every literal: per literal (the automaton's pattern number), the regexes needing it.
    ac: Option<aho_corasick::AhoCorasick>,
    owners: Vec<Vec<usize>>,
    /// Per regex: whether the record last scanned holds one of its literals.
    may: Vec<bool>,
    /// The record's whole text, when it has further lines.
    text: String,
}

impl Gate {
    /// The gate over the patterns of `rules`.
    pub fn new<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Gate {
        let mut index: crate::hash::Map<String, usize> = Default::default();
        let mut needs: Vec<&[Vec<u8>]> = Vec::new();
        for p in rules.into_iter().flat_map(|r| r.all_patterns()) {
            let Some(lits) = p.literals.as_deref() else {
                continue;
            };
            if !index.contains_key(p.regex.as_str()) {
                index.insert(p.regex.as_str().to_string(), needs.len());
                needs.push(lits);
            }
        }
        let (literals, owners) = super::prefilter::literal_owners(needs);
        // A DFA: an overlapping search cannot use the automaton's prefilter, and a DFA takes one
        // step per byte.
        let ac = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(&literals)
            .ok();
        Gate {
            may: vec![false; index.len()],
            index,
            ac,
            owners,
            text: String::new(),
        }
    }

    /// The regex numbers of `pats`; `None` when one has no required literal (or the automaton
    /// could not be built): such a list is tried on every record.
    fn ids(&self, pats: &[Pattern]) -> Option<Vec<usize>> {
        self.ac.as_ref()?;
        pats.iter()
            .map(|p| {
                p.literals.as_ref()?;
                self.index.get(p.regex.as_str()).copied()
            })
            .collect()
    }

    /// Find which regexes the record `ev` can match: its whole text (every pattern, multi-line or
    /// not, matches within it) holds one of their literals.
    pub fn scan(&mut self, ev: &Event) {
        self.may.fill(false);
        let Some(ac) = &self.ac else {
            return;
        };
        let hay: &str = if ev.continuation.is_empty() {
            &ev.message
        } else {
            self.text.clear();
            self.text.push_str(&ev.message);
            for c in &ev.continuation {
                self.text.push('\n');
                self.text.push_str(c);
            }
            &self.text
        };
        for m in ac.find_overlapping_iter(hay) {
            for &r in self
                .owners
                .get(m.pattern().as_usize())
                .into_iter()
                .flatten()
            {
                if let Some(may) = self.may.get_mut(r) {
                    *may = true;
                }
            }
        }
    }

    /// Whether a list of these regex numbers ([`Gate::ids`]) may match the record scanned last.
    fn lets(&self, ids: Option<&[usize]>) -> bool {
        ids.is_none_or(|ids| {
            ids.iter()
                .any(|&r| self.may.get(r).copied().unwrap_or(true))
        })
    }
}

impl<'r> Lists<'r> {
    fn new(first: &'r [Pattern], second: &'r [Pattern]) -> Lists<'r> {
        let multiline = |ps: &[Pattern]| ps.iter().any(|p| p.multiline);
        Lists {
            first,
            second,
            sets: [pattern_set(first), pattern_set(second)],
            multiline: [multiline(first), multiline(second)],
            room: Vec::new(),
            ids: [None, None],
        }
    }

    /// The first list's hit on event `i` of `tl`.
    fn first(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) -> Option<Hit> {
        self.hit(0, tl, i, ev, gate)
    }

    /// The second list's hit on event `i` of `tl`.
    fn second(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) -> Option<Hit> {
        self.hit(1, tl, i, ev, gate)
    }

    fn hit(&mut self, k: usize, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) -> Option<Hit> {
        let ids = self.ids.get(k).and_then(Option::as_deref);
        if !gate.lets(ids) {
            return None;
        }
        let tried = Tried {
            pats: if k == 0 { self.first } else { self.second },
            set: self.sets.get(k).and_then(Option::as_ref),
            multiline: self.multiline.get(k).copied().unwrap_or(true),
        };
        hit_of(tl, i, ev, &tried, &mut self.room)
    }
}

/// One key bucket of a group, scanned from the group's last trigger on.
#[derive(Debug)]
struct Scan {
    /// The rule's key (by index) and the bucket of the group's value; `None`: no keys, every
    /// follow-up (of the group's source when the rule expects it there).
    key: Option<(usize, String)>,
    /// A follow-up of the bucket fell outside the window: the scan stopped there.
    dead: bool,
    /// The basis of the last window measured in this bucket.
    basis: Option<WindowBasis>,
}

/// A run of triggers of one source that agree on their keys, with no follow-up of that source
/// between them.
#[derive(Debug)]
struct Group {
    source: usize,
    merged: Hit,
    last: Place,
    /// Its hits, while a trigger may still join it (a joining trigger must agree with each).
    hits: Vec<Hit>,
    count: usize,
    /// The first [`MAX_EVIDENCE`] hits' events and records.
    evidence: Vec<(usize, Event)>,
    /// The CIDs of all its hits' records.
    cids: BTreeSet<u64>,
    /// The first follow-up of its own source after its last trigger: no trigger after it joins.
    closed_at: Option<usize>,
    /// Among its source's last [`OPEN_GROUPS`] groups: a trigger may join it.
    joinable: bool,
    followed: bool,
    scans: Vec<Scan>,
}

impl Group {
    fn rescan(&mut self, rule: &Rule) {
        self.followed = false;
        self.closed_at = None;
        self.scans = if rule.key.is_empty() {
            vec![Scan {
                key: None,
                dead: false,
                basis: None,
            }]
        } else {
            rule.key
                .iter()
                .enumerate()
                .filter_map(|(k, name)| {
                    Some(Scan {
                        key: Some((k, key_bucket(self.merged.get(name)?))),
                        dead: false,
                        basis: None,
                    })
                })
                .collect()
        };
    }

    /// Nothing a later record brings can change it.
    fn settled(&self) -> bool {
        !self.joinable && (self.followed || self.scans.iter().all(|s| s.dead))
    }
}

/// One absence rule, judged as the records go by.
pub struct Absence<'r> {
    rule: &'r Rule,
    axis: Axis,
    /// Triggers, then follow-ups.
    lists: Lists<'r>,
    /// Live groups by creation number (the held engine's order of findings).
    groups: BTreeMap<usize, Group>,
    /// Per source, the numbers of its last [`OPEN_GROUPS`] groups, oldest first.
    recent: HashMap<usize, VecDeque<usize>>,
    created: usize,
    /// Every trigger's event: what the rule's findings account for (generic rules leave them).
    triggered: Vec<usize>,
}

impl<'r> Absence<'r> {
    /// A judge for `rule` (an absence rule) on a timeline of this axis.
    pub fn new(rule: &'r Rule, axis: Axis) -> Absence<'r> {
        Absence {
            rule,
            axis,
            lists: Lists::new(&rule.triggers, &rule.expect),
            groups: BTreeMap::new(),
            recent: HashMap::new(),
            created: 0,
            triggered: Vec::new(),
        }
    }

    /// The next record, event `i` of the timeline `tl` (its sources and CIDs; its events need not
    /// be there), in timeline order.
    pub fn feed(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) {
        let at = Place::at(i, ev);
        // A follow-up first: one at the trigger's own event is not after it.
        if !self.groups.is_empty() {
            let e = self.lists.second(tl, i, ev, gate);
            if let Some(e) = e {
                self.follow_up(&e, ev.source, at);
            }
        }
        let t = self.lists.first(tl, i, ev, gate);
        if let Some(t) = t {
            self.trigger(tl, t, ev, at);
        }
    }

    fn follow_up(&mut self, e: &Hit, src: usize, at: Place) {
        let rule = self.rule;
        let buckets: Vec<Option<String>> =
            rule.key.iter().map(|k| e.get(k).map(key_bucket)).collect();
        let mut done = Vec::new();
        for (&n, g) in self.groups.iter_mut() {
            if g.source == src && g.closed_at.is_none() {
                g.closed_at = Some(at.event);
            }
            if g.followed {
                continue;
            }
            for scan in g.scans.iter_mut().filter(|s| !s.dead) {
                let inside = match &scan.key {
                    None => rule.expect_source != ExpectSource::Same || src == g.source,
                    Some((k, b)) => buckets.get(*k).and_then(Option::as_deref) == Some(b.as_str()),
                };
                if !inside {
                    continue;
                }
                let (ok, basis) = within_at(rule, self.axis, g.last, at);
                scan.basis = Some(basis);
                if !ok {
                    scan.dead = true;
                } else if expected_from(rule, src, g.source) && keys_agree(rule, &g.merged, e) {
                    g.followed = true;
                    break;
                }
            }
            if g.settled() && g.followed {
                done.push(n);
            }
        }
        for n in done {
            self.groups.remove(&n);
        }
    }

    fn trigger(&mut self, tl: &Timeline, t: Hit, ev: &Event, at: Place) {
        let rule = self.rule;
        self.triggered.push(at.event);
        let cids = ev.cids.iter().filter_map(|c| tl.cids.resolve(c));
        let recent = self.recent.entry(ev.source).or_default();
        let groups = &mut self.groups;
        let joined = recent.iter().rev().copied().find(|n| {
            groups.get(n).is_some_and(|g| {
                // A follow-up of the source at this very event is not between the two.
                g.closed_at.is_none_or(|f| f >= at.event)
                    && g.hits.iter().all(|h| keys_agree(rule, h, &t))
            })
        });
        if let Some(g) = joined.and_then(|n| groups.get_mut(&n)) {
            merge_caps(&mut g.merged, &t);
            g.hits.push(t);
            g.count += 1;
            if g.evidence.len() < MAX_EVIDENCE {
                g.evidence.push((at.event, ev.clone()));
            }
            g.cids.extend(cids);
            g.last = at;
            g.rescan(rule);
            return;
        }
        let n = self.created;
        self.created += 1;
        let mut g = Group {
            source: ev.source,
            merged: t.clone(),
            last: at,
            hits: vec![t],
            count: 1,
            evidence: vec![(at.event, ev.clone())],
            cids: cids.collect(),
            closed_at: None,
            joinable: true,
            followed: false,
            scans: Vec::new(),
        };
        g.rescan(rule);
        groups.insert(n, g);
        recent.push_back(n);
        if recent.len() > OPEN_GROUPS {
            if let Some(old) = recent
                .pop_front()
                .and_then(|o| groups.get_mut(&o).map(|g| (o, g)))
            {
                let (o, g) = old;
                g.joinable = false;
                g.hits = Vec::new();
                if g.followed {
                    groups.remove(&o);
                }
            }
        }
    }

    /// The end of the records: the rule's groups nothing followed, and what the rule read.
    fn finish(self) -> Judged {
        let groups: Vec<Unfollowed> = self
            .groups
            .into_values()
            .filter(|g| !g.followed)
            .map(|g| {
                // The basis of the last window measured: in the last bucket that measured one.
                let basis = g
                    .scans
                    .iter()
                    .rev()
                    .find_map(|s| s.basis)
                    .unwrap_or(WindowBasis::None);
                let (at, records) = g.evidence.into_iter().unzip();
                Unfollowed {
                    merged: g.merged,
                    source: g.source,
                    count: g.count,
                    at,
                    records,
                    cids: g.cids,
                    basis,
                }
            })
            .collect();
        Judged {
            rule: self.rule.info.id.clone(),
            secs: 0.0,
            found: Found::Absence(groups),
            triggered: self.triggered,
        }
    }
}

/// A trigger group nothing followed, waiting for the timeline its finding is told on.
#[derive(Debug)]
struct Unfollowed {
    merged: Hit,
    source: usize,
    count: usize,
    /// The events of its first [`MAX_EVIDENCE`] hits.
    at: Vec<usize>,
    /// Their records, until the timeline takes them.
    records: Vec<Event>,
    cids: BTreeSet<u64>,
    basis: WindowBasis,
}

/// An accounting rule's finding, waiting for the timeline it is told on.
#[derive(Debug)]
struct Unsettled {
    values: Values,
    extra: Vec<(String, Value)>,
    count: usize,
    cids: BTreeSet<u64>,
    at: Vec<usize>,
    records: Vec<Event>,
}

/// What a rule judged online found.
#[derive(Debug)]
enum Found {
    Absence(Vec<Unfollowed>),
    Accounting(Vec<Unsettled>),
    Count(Vec<Burst>),
    Sequence(Vec<Head>),
    Match(Vec<Matches>),
}

/// What a rule judged online found, and every trigger's event.
#[derive(Debug)]
pub struct Judged {
    /// The rule's id.
    pub rule: String,
    /// Seconds spent judging the records (the caller measures it: JUnit's `time`).
    pub secs: f64,
    found: Found,
    triggered: Vec<usize>,
}

impl Judged {
    /// The records the findings show (their first hits), for the timeline to hold.
    pub fn take_records(&mut self) -> Vec<(usize, Event)> {
        let take = |at: &[usize], records: &mut Vec<Event>| {
            at.iter()
                .copied()
                .zip(std::mem::take(records))
                .collect::<Vec<_>>()
        };
        match &mut self.found {
            Found::Absence(groups) => groups
                .iter_mut()
                .flat_map(|g| take(&g.at, &mut g.records))
                .collect(),
            Found::Accounting(pairs) => pairs
                .iter_mut()
                .flat_map(|p| take(&p.at, &mut p.records))
                .collect(),
            Found::Count(bursts) => bursts
                .iter_mut()
                .flat_map(|b| {
                    let mut records = take(&b.at, &mut b.records);
                    records.extend(b.success.as_mut().and_then(|(i, r)| Some((*i, r.take()?))));
                    records
                })
                .collect(),
            Found::Sequence(heads) => heads
                .iter_mut()
                .flat_map(|h| {
                    let trigger = h.trigger.take().map(|r| (h.at.event, r));
                    let rest = h.echoes.iter_mut().chain(&mut h.claimed);
                    let rest: Vec<(usize, Event)> =
                        rest.filter_map(|(i, r)| Some((*i, r.take()?))).collect();
                    trigger.into_iter().chain(rest)
                })
                .collect(),
            Found::Match(groups) => groups
                .iter_mut()
                .flat_map(|g| take(&g.at, &mut g.records))
                .collect(),
        }
    }

    /// The findings, told on the timeline that holds [`Judged::take_records`]'s records, and the
    /// events they account for (every trigger and the evidence; none without findings), as the
    /// held engine's evaluation of `rule` gives them.
    pub fn findings(self, rule: &Rule, tl: &Timeline) -> (Vec<Finding>, Vec<usize>) {
        let mut found = Vec::new();
        match self.found {
            Found::Absence(groups) => {
                for u in &groups {
                    let mut cids = u.cids.clone();
                    if rule.scope == Scope::Source {
                        if let Some(s) = tl.sources.get(u.source) {
                            cids.extend(s.owners.iter().copied());
                        }
                    }
                    let g = Told {
                        merged: &u.merged,
                        source: u.source,
                        events: &u.at,
                        count: u.count,
                    };
                    found.extend(absence_finding(rule, tl, &g, cids, u.basis));
                }
            }
            Found::Accounting(pairs) => {
                for p in pairs {
                    let evidence = evidence_of(&p.at, "sent");
                    let vals = p.values.finish(tl, &p.extra);
                    let cids = p.cids.into_iter().collect();
                    let basis = WindowBasis::None;
                    found.extend(told(
                        rule, tl, vals, evidence, p.extra, basis, p.count, cids,
                    ));
                }
            }
            Found::Count(bursts) => {
                for b in bursts {
                    let mut evidence = evidence_of(&b.at, "attempt");
                    if let Some((event, _)) = b.success {
                        evidence.extend(evidence_of(&[event], "success"));
                    }
                    let extra = vec![("succeeded".to_string(), Value::Bool(b.success.is_some()))];
                    let vals = b.values.finish(tl, &extra);
                    let cids = b.cids.into_iter().collect();
                    found.extend(told(
                        rule, tl, vals, evidence, extra, b.basis, b.count, cids,
                    ));
                }
            }
            Found::Sequence(heads) => {
                for h in heads {
                    found.extend(h.told(rule, tl));
                }
            }
            Found::Match(groups) => {
                for g in groups {
                    let evidence = evidence_of(&g.at, "match");
                    let extra = vec![("count".to_string(), Value::Int(g.count as i128))];
                    let vals = g.values.finish(tl, &extra);
                    let cids = g.cids.into_iter().collect();
                    let basis = WindowBasis::None;
                    found.extend(told(rule, tl, vals, evidence, extra, basis, g.count, cids));
                }
            }
        }
        let mut explained = Vec::new();
        if !found.is_empty() {
            explained.extend(self.triggered);
            for f in &found {
                explained.extend(f.evidence.iter().map(|e| e.event));
            }
        }
        (found, explained)
    }
}

/// One (sender, receiver) and pattern of an accounting rule's sends.
#[derive(Debug, Default)]
struct Sends {
    ids: BTreeSet<String>,
    values: Values,
    /// The CIDs of the sends' records and the full CIDs they captured.
    cids: BTreeSet<u64>,
    /// The first [`MAX_EVIDENCE`] sends' events and records.
    evidence: Vec<(usize, Event)>,
}

/// Per (sender, receiver), per pattern.
type PerPair<T> = BTreeMap<(String, String), BTreeMap<usize, T>>;

/// One accounting rule, judged as the records go by.
pub struct Accounting<'r> {
    rule: &'r Rule,
    /// Sends, then receipts.
    lists: Lists<'r>,
    sent: PerPair<Sends>,
    received: PerPair<BTreeSet<String>>,
    /// CIDs of the records read that are no send.
    seen: HashSet<u64>,
    triggered: Vec<usize>,
}

impl<'r> Accounting<'r> {
    /// A judge for `rule` (an accounting rule).
    pub fn new(rule: &'r Rule) -> Accounting<'r> {
        Accounting {
            rule,
            lists: Lists::new(&rule.triggers, &rule.expect),
            sent: BTreeMap::new(),
            received: BTreeMap::new(),
            seen: HashSet::new(),
            triggered: Vec::new(),
        }
    }

    /// The next record, event `i` of `tl`, in timeline order.
    pub fn feed(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) {
        let rule = self.rule;
        let sent = self.lists.first(tl, i, ev, gate);
        match sent {
            Some(h) => {
                self.triggered.push(i);
                if let Some(pair) = sender_receiver(tl, &h) {
                    let s = self
                        .sent
                        .entry(pair)
                        .or_default()
                        .entry(h.pattern)
                        .or_default();
                    s.ids.insert(message_id(&h));
                    s.values.add(&h, Place::at(i, ev), ev.source);
                    add_event_cids(rule, tl, &mut s.cids, ev);
                    add_captured(tl, &mut s.cids, &h);
                    if s.evidence.len() < MAX_EVIDENCE {
                        s.evidence.push((i, ev.clone()));
                    }
                }
            }
            None => self
                .seen
                .extend(ev.cids.iter().filter_map(|c| tl.cids.resolve(c))),
        }
        let got = self.lists.second(tl, i, ev, gate);
        if let Some((pair, h)) = got.and_then(|h| Some((sender_receiver(tl, &h)?, h))) {
            self.received
                .entry(pair)
                .or_default()
                .entry(h.pattern)
                .or_default()
                .insert(message_id(&h));
        }
    }

    /// The end of the records: the pairs to report (the rule's `when` decides on the timeline).
    fn finish(self, unread: &HashSet<u64>) -> Judged {
        let mut seen = self.seen;
        seen.extend(unread);
        let most = |ids: &mut dyn Iterator<Item = usize>| ids.max().unwrap_or(0);
        let mut pairs = Vec::new();
        for ((from, to), per) in self.sent {
            let n_sent = most(&mut per.values().map(|s| s.ids.len()));
            let n_recv = self
                .received
                .get(&(from.clone(), to.clone()))
                .map_or(0, |r| most(&mut r.values().map(BTreeSet::len)));
            if !accountable(self.rule, n_sent, &to, &seen) {
                continue;
            }
            // The pattern with the most sends (the last of equals, as `max_by_key` picks).
            let Some(s) = per.into_values().max_by_key(|s| s.ids.len()) else {
                continue;
            };
            let (at, records) = s.evidence.into_iter().unzip();
            pairs.push(Unsettled {
                values: s.values,
                extra: accounting_values(n_sent, n_recv, &from, &to),
                count: n_sent,
                cids: s.cids,
                at,
                records,
            });
        }
        Judged {
            rule: self.rule.info.id.clone(),
            secs: 0.0,
            found: Found::Accounting(pairs),
            triggered: self.triggered,
        }
    }
}

/// A burst of a count rule's hits in one group: each within the window of its first.
#[derive(Debug)]
struct Burst {
    /// The group's key, and the order of the group's first hit and of the burst in its group.
    key: Vec<String>,
    order: (usize, usize),
    source: usize,
    first: Place,
    last: usize,
    count: usize,
    values: Values,
    cids: BTreeSet<u64>,
    /// The basis of the last window measured from its first hit.
    basis: WindowBasis,
    /// The events of its first [`MAX_EVIDENCE`] hits, and their records until the timeline takes
    /// them.
    at: Vec<usize>,
    records: Vec<Event>,
    /// The first success after its last hit (its record when it is shown).
    success: Option<(usize, Option<Event>)>,
}

/// One count rule, judged as the records go by: per group its open burst, and the closed bursts
/// of at least `min_count` hits, which wait for a success after them until one comes.
pub struct Count<'r> {
    rule: &'r Rule,
    axis: Axis,
    /// Successes, then attempts.
    lists: Lists<'r>,
    /// Per group key: its order of first hit, its bursts so far, and its open burst.
    groups: HashMap<Vec<String>, (usize, usize, Option<Burst>)>,
    /// Closed bursts still without a success, and those done.
    waiting: Vec<Burst>,
    done: Vec<Burst>,
    triggered: Vec<usize>,
}

impl<'r> Count<'r> {
    /// A judge for `rule` (a count rule) on a timeline of this axis.
    pub fn new(rule: &'r Rule, axis: Axis) -> Count<'r> {
        Count {
            rule,
            axis,
            lists: Lists::new(&rule.success, &rule.patterns),
            groups: HashMap::new(),
            waiting: Vec::new(),
            done: Vec::new(),
            triggered: Vec::new(),
        }
    }

    /// The next record, event `i` of `tl`, in timeline order.
    pub fn feed(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) {
        let rule = self.rule;
        // A success first: one on a hit's own event is not after that hit.
        let ok = self.lists.first(tl, i, ev, gate);
        if let Some(s) = ok {
            self.succeeded(&s, i, ev);
        }
        let hit = self.lists.second(tl, i, ev, gate);
        let Some(h) = hit else {
            return;
        };
        self.triggered.push(i);
        let key = engine::group_key_of(rule, tl, &h, ev);
        let at = Place::at(i, ev);
        let next_group = self.groups.len();
        let group = self
            .groups
            .entry(key.clone())
            .or_insert((next_group, 0, None));
        if let Some(b) = group.2.as_mut() {
            let (inside, basis) = within_at(rule, self.axis, b.first, at);
            b.basis = basis;
            if inside {
                b.add(rule, tl, &h, i, ev);
                return;
            }
        }
        let mut fresh = Burst {
            key,
            order: (group.0, group.1),
            source: ev.source,
            first: at,
            last: i,
            count: 0,
            values: Values::default(),
            cids: BTreeSet::new(),
            basis: WindowBasis::None,
            at: Vec::new(),
            records: Vec::new(),
            success: None,
        };
        group.1 += 1;
        fresh.add(rule, tl, &h, i, ev);
        if let Some(old) = group.2.replace(fresh) {
            self.close(old);
        }
    }

    /// A success hit `s` at event `i`: the first after each burst of its source whose key it
    /// agrees with.
    fn succeeded(&mut self, s: &Hit, i: usize, ev: &Event) {
        let rule = self.rule;
        let fits = |b: &Burst| {
            b.success.is_none() && b.last < i && b.source == ev.source && succeeds(rule, &b.key, s)
        };
        let keep = |b: &mut Burst| {
            let record = (b.at.len() < MAX_EVIDENCE).then(|| ev.clone());
            b.success = Some((i, record));
        };
        for (_, _, open) in self.groups.values_mut() {
            if let Some(b) = open.as_mut().filter(|b| fits(b)) {
                keep(b);
            }
        }
        let mut k = 0;
        while k < self.waiting.len() {
            if self.waiting.get(k).is_some_and(&fits) {
                let mut b = self.waiting.swap_remove(k);
                keep(&mut b);
                self.done.push(b);
            } else {
                k += 1;
            }
        }
    }

    /// Close a group's burst: judged when it has enough hits, waiting for a success when none came
    /// yet.
    fn close(&mut self, b: Burst) {
        if b.count < self.rule.min_count {
            return;
        }
        if b.success.is_some() {
            self.done.push(b);
        } else {
            self.waiting.push(b);
        }
    }

    /// The end of the records: every burst of enough hits, in the held engine's order (group by
    /// group in the order of their first hits, bursts in order).
    fn finish(mut self) -> Judged {
        let open: Vec<Burst> = self
            .groups
            .drain()
            .filter_map(|(_, (_, _, open))| open)
            .collect();
        for b in open {
            self.close(b);
        }
        let mut bursts = self.done;
        bursts.append(&mut self.waiting);
        bursts.sort_by_key(|b| b.order);
        Judged {
            rule: self.rule.info.id.clone(),
            secs: 0.0,
            found: Found::Count(bursts),
            triggered: self.triggered,
        }
    }
}

impl Burst {
    /// Hit `h` on event `i` joins the burst: a success before it is not after the burst.
    fn add(&mut self, rule: &Rule, tl: &Timeline, h: &Hit, i: usize, ev: &Event) {
        self.count += 1;
        self.last = i;
        self.values.add(h, Place::at(i, ev), ev.source);
        add_event_cids(rule, tl, &mut self.cids, ev);
        add_captured(tl, &mut self.cids, h);
        if self.at.len() < MAX_EVIDENCE {
            self.at.push(i);
            self.records.push(ev.clone());
        }
        self.success = None;
    }
}

/// A sequence rule's head trigger: the first trigger, or the first outside the window of the head
/// before it. It absorbs the triggers after it within its window, up to the first outside (echoes
/// of the same failure), and claims the consequences after it that no earlier head claimed, up to
/// the first outside its window.
#[derive(Debug)]
struct Head {
    at: Place,
    /// The first 80 characters of its trigger's message.
    text: String,
    /// Its trigger's record, until the timeline takes it.
    trigger: Option<Event>,
    /// The trigger and the claimed consequences' values, in timeline order.
    values: Values,
    /// The CIDs of its trigger, echoes and consequences, and the full CIDs the trigger and the
    /// consequences captured.
    cids: BTreeSet<u64>,
    /// Consequences claimed, in all and per source.
    found: usize,
    per_source: BTreeMap<usize, usize>,
    /// The first echoes and consequences (what the evidence can show) and their records.
    echoes: Vec<(usize, Option<Event>)>,
    claimed: Vec<(usize, Option<Event>)>,
    /// The basis of the last window measured absorbing a trigger, and claiming a consequence.
    absorbed_basis: Option<WindowBasis>,
    claimed_basis: Option<WindowBasis>,
    /// No consequence outside its window came yet: it still claims.
    claiming: bool,
}

impl Head {
    /// Its finding, told on the timeline that holds its records, as the held engine tells it.
    fn told(self, rule: &Rule, tl: &Timeline) -> Option<Finding> {
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for (s, n) in &self.per_source {
            let label = tl.sources.get(*s).map(|x| x.label.clone());
            *per.entry(label.unwrap_or_default()).or_default() += n;
        }
        let events =
            |list: &[(usize, Option<Event>)]| list.iter().map(|(e, _)| *e).collect::<Vec<_>>();
        let mut evidence = evidence_of(&[self.at.event], "trigger");
        evidence.extend(evidence_of(&events(&self.echoes), "trigger"));
        evidence.extend(evidence_of(&events(&self.claimed), "consequence"));
        let extra = sequence_values(self.found, &per, self.text);
        // The held engine measures its absorbing windows first, then its claiming ones.
        let basis = self
            .claimed_basis
            .or(self.absorbed_basis)
            .unwrap_or(WindowBasis::None);
        let vals = self.values.finish(tl, &extra);
        let cids = self.cids.into_iter().collect();
        told(rule, tl, vals, evidence, extra, basis, self.found, cids)
    }

    /// Done: keep only what its evidence shows (the trigger, then echoes, then consequences, the
    /// first [`MAX_EVIDENCE`] of them), or nothing when it claimed too few consequences.
    fn settle(mut self, rule: &Rule) -> Option<Head> {
        if self.found < rule.min_consequences {
            return None;
        }
        let room = MAX_EVIDENCE.saturating_sub(1);
        self.echoes.truncate(room);
        self.claimed
            .truncate(room.saturating_sub(self.echoes.len()));
        Some(self)
    }
}

/// One sequence rule, judged as the records go by: the heads that still claim consequences (the
/// oldest stop first: a consequence goes to the oldest head whose window holds it, and closes
/// those before it), and the newest head, which absorbs triggers until one falls outside its
/// window.
pub struct Sequence<'r> {
    rule: &'r Rule,
    axis: Axis,
    /// Triggers, then consequences.
    lists: Lists<'r>,
    /// Heads in order: those that stopped claiming come first; the last absorbs triggers while
    /// `absorbing`.
    open: VecDeque<Head>,
    absorbing: bool,
    done: Vec<Head>,
    /// Every trigger's and consequence's event: what the rule's findings account for.
    triggered: Vec<usize>,
}

impl<'r> Sequence<'r> {
    /// A judge for `rule` (a sequence rule) on a timeline of this axis.
    pub fn new(rule: &'r Rule, axis: Axis) -> Sequence<'r> {
        Sequence {
            rule,
            axis,
            lists: Lists::new(&rule.triggers, &rule.consequences),
            open: VecDeque::new(),
            absorbing: false,
            done: Vec::new(),
            triggered: Vec::new(),
        }
    }

    /// The next record, event `i` of `tl`, in timeline order.
    pub fn feed(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) {
        let at = Place::at(i, ev);
        // A consequence first: one on a trigger's own event is not after it.
        let c = self.lists.second(tl, i, ev, gate);
        if let Some(c) = c {
            self.triggered.push(i);
            self.consequence(tl, &c, ev, at);
        }
        let t = self.lists.first(tl, i, ev, gate);
        if let Some(t) = t {
            self.triggered.push(i);
            self.trigger(tl, &t, ev, at);
        }
    }

    fn consequence(&mut self, tl: &Timeline, c: &Hit, ev: &Event, at: Place) {
        let rule = self.rule;
        for h in self.open.iter_mut().filter(|h| h.claiming) {
            let (inside, basis) = within_at(rule, self.axis, h.at, at);
            h.claimed_basis = Some(basis);
            if !inside {
                h.claiming = false;
                continue;
            }
            h.found += 1;
            *h.per_source.entry(ev.source).or_default() += 1;
            h.values.add(c, at, ev.source);
            add_event_cids(rule, tl, &mut h.cids, ev);
            add_captured(tl, &mut h.cids, c);
            if h.claimed.len() < MAX_EVIDENCE {
                h.claimed.push((at.event, Some(ev.clone())));
            }
            break;
        }
        self.settle(false);
    }

    fn trigger(&mut self, tl: &Timeline, t: &Hit, ev: &Event, at: Place) {
        let rule = self.rule;
        if let Some(h) = self.open.back_mut().filter(|_| self.absorbing) {
            let (inside, basis) = within_at(rule, self.axis, h.at, at);
            if inside {
                h.absorbed_basis = Some(basis);
                add_event_cids(rule, tl, &mut h.cids, ev);
                if h.echoes.len() < MAX_EVIDENCE {
                    h.echoes.push((at.event, Some(ev.clone())));
                }
                return;
            }
        }
        let mut head = Head {
            at,
            text: engine::trigger_text(ev),
            trigger: Some(ev.clone()),
            values: Values::default(),
            cids: BTreeSet::new(),
            found: 0,
            per_source: BTreeMap::new(),
            echoes: Vec::new(),
            claimed: Vec::new(),
            absorbed_basis: None,
            claimed_basis: None,
            claiming: true,
        };
        head.values.add(t, at, ev.source);
        add_event_cids(rule, tl, &mut head.cids, ev);
        add_captured(tl, &mut head.cids, t);
        self.absorbing = false;
        self.settle(false);
        self.open.push_back(head);
        self.absorbing = true;
    }

    /// Settle the heads that nothing later can change (all, at the end): those that stopped
    /// claiming, unless the last still absorbs.
    fn settle(&mut self, end: bool) {
        while let Some(h) = self.open.front() {
            let absorbs = self.absorbing && self.open.len() == 1;
            if !end && (h.claiming || absorbs) {
                break;
            }
            let Some(h) = self.open.pop_front() else {
                break;
            };
            self.done.extend(h.settle(self.rule));
        }
    }

    /// The end of the records: the heads that claimed enough consequences, in order.
    fn finish(mut self) -> Judged {
        self.settle(true);
        Judged {
            rule: self.rule.info.id.clone(),
            secs: 0.0,
            found: Found::Sequence(self.done),
            triggered: self.triggered,
        }
    }
}

/// The hits of a match rule that share a group key, as their finding tells them.
#[derive(Debug)]
struct Matches {
    count: usize,
    values: Values,
    /// The CIDs of its hits' records and the full CIDs they captured.
    cids: BTreeSet<u64>,
    /// The events of its first [`MAX_EVIDENCE`] hits, and their records until the timeline takes
    /// them.
    at: Vec<usize>,
    records: Vec<Event>,
}

/// One match rule without echoes, judged as the records go by: per group key its count, values,
/// CIDs and first records.
pub struct Match<'r> {
    rule: &'r Rule,
    lists: Lists<'r>,
    /// Groups in the order of their first hits, and where each key's group is.
    groups: Vec<Matches>,
    index: HashMap<Vec<String>, usize>,
    triggered: Vec<usize>,
}

impl<'r> Match<'r> {
    /// A judge for `rule` (a match rule whose patterns mark no echoes).
    pub fn new(rule: &'r Rule) -> Match<'r> {
        Match {
            rule,
            lists: Lists::new(&rule.patterns, &[]),
            groups: Vec::new(),
            index: HashMap::new(),
            triggered: Vec::new(),
        }
    }

    /// The next record, event `i` of `tl`, in timeline order.
    pub fn feed(&mut self, tl: &Timeline, i: usize, ev: &Event, gate: &Gate) {
        let Some(h) = self.lists.first(tl, i, ev, gate) else {
            return;
        };
        self.triggered.push(i);
        let key = engine::group_key_of(self.rule, tl, &h, ev);
        let next = self.groups.len();
        let k = *self.index.entry(key).or_insert(next);
        if k == next {
            self.groups.push(Matches {
                count: 0,
                values: Values::default(),
                cids: BTreeSet::new(),
                at: Vec::new(),
                records: Vec::new(),
            });
        }
        let Some(g) = self.groups.get_mut(k) else {
            return;
        };
        g.count += 1;
        g.values.add(&h, Place::at(i, ev), ev.source);
        add_event_cids(self.rule, tl, &mut g.cids, ev);
        add_captured(tl, &mut g.cids, &h);
        if g.at.len() < MAX_EVIDENCE {
            g.at.push(i);
            g.records.push(ev.clone());
        }
    }

    /// The end of the records: every group, in the order of its first hit.
    fn finish(self) -> Judged {
        Judged {
            rule: self.rule.info.id.clone(),
            secs: 0.0,
            found: Found::Match(self.groups),
            triggered: self.triggered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::engine::{evaluate_matched, Matched};
    use crate::rules::load::load_rule;
    use proptest::prelude::*;

    /// A rule of `kind` from the rest of its file, with the header and the two cases every rule
    /// file carries (loading checks they are there; these tests judge random runs instead).
    fn test_rule(kind: &str, body: &str) -> Rule {
        let text = format!(
            r#"id = "t"
title = "t"
description = "a test rule"
remediation = "none"
severity = "high"
kind = "{kind}"
{body}
[[test]]
name = "fires"
expect = 1
log = "[LOG] SEND k=abcdef01 from=1 to=2 @ http://localhost:5173/a.js:1"
[[test]]
name = "quiet"
expect = 0
log = "[LOG] noise @ http://localhost:5173/a.js:1"
"#
        );
        load_rule("t.toml", &text).unwrap()
    }

    /// An absence rule of these keys, follow-up source, window and scope, with both a trigger
    /// and a follow-up pattern capturing `k` and maybe `j`.
    fn rule(key: &str, expect_source: &str, window: &str, scope: &str) -> Rule {
        let body = format!(
            r#"scope = "{scope}"
{key}
expect_source = "{expect_source}"
{window}
title_template = "k {{k}}[ j {{j}}] in {{source_label}}"

[[trigger]]
regex = 'SEND k=(?P<k>\w+)(?: j=(?P<j>\w+))?'
[[expect]]
regex = 'RECV k=(?P<k>\w+)(?: j=(?P<j>\w+))?'

"#
        );
        test_rule("absence", &body)
    }

    fn online(rule: &Rule, tl: &Timeline) -> (Vec<Finding>, Vec<usize>) {
        let mut j = Judge::new(rule, tl.axis).unwrap();
        let mut gate = Gate::new([rule]);
        j.bind(&gate);
        for (i, ev) in tl.indexed() {
            gate.scan(ev);
            j.feed(tl, i, ev, &gate);
        }
        j.finish(&HashSet::new()).findings(rule, tl)
    }

    fn held(rule: &Rule, tl: &Timeline) -> (Vec<Finding>, Vec<usize>) {
        let m = Matched::of(rule, tl);
        let found = evaluate_matched(rule, tl, &m);
        let mut explained = Vec::new();
        if !found.is_empty() {
            explained.extend(m.explained());
            for f in &found {
                explained.extend(f.evidence.iter().map(|e| e.event));
            }
        }
        (found, explained)
    }

    /// Key values that agree (a prefix of 6 or more, any case), that only share a bucket, and
    /// that differ; and many that differ, so that a source has more than [`OPEN_GROUPS`] groups.
    fn key_value(n: usize) -> String {
        const NEAR: [&str; 6] = [
            "abcdef01", "abcdef02", "abcdef", "ABCDEF01", "abc", "zzzzzz9",
        ];
        match NEAR.get(n) {
            Some(v) => v.to_string(),
            None => format!("q{n:02}"),
        }
    }

    /// A run of `lines` (source, what, key, j, milliseconds since the previous line) rendered into
    /// timed service logs (`timed`) or untimed console dumps, one per source.
    fn timeline(lines: &[(usize, u8, usize, Option<usize>, u64)], timed: bool) -> Timeline {
        render(rows(lines), timed)
    }

    /// [`timeline`] untimed (0), timed (1) or mixed ([`mixed_timeline`]).
    fn timeline_of_kind(lines: &[(usize, u8, usize, Option<usize>, u64)], kind: u8) -> Timeline {
        match kind {
            0 => timeline(lines, false),
            1 => timeline(lines, true),
            _ => mixed_timeline(lines),
        }
    }

    /// [`timeline`] with the first source timed and the others untimed (placed by CIDs).
    fn mixed_timeline(lines: &[(usize, u8, usize, Option<usize>, u64)]) -> Timeline {
        render_by(rows(lines), |s| s == 0)
    }

    /// The messages of a run of `lines` (as [`timeline`] takes them), each with its source and
    /// milliseconds into the run.
    fn rows(lines: &[(usize, u8, usize, Option<usize>, u64)]) -> Vec<(usize, u64, String)> {
        let mut rows = Vec::new();
        let mut ms = 0u64;
        for &(s, what, k, j, dt) in lines {
            ms += dt;
            let word = match what {
                0..=3 => "SEND",
                4..=7 => "RECV",
                _ => "noise",
            };
            let j = j
                .map(|j| format!(" j={}", key_value(j)))
                .unwrap_or_default();
            let cid = 1_000_000_000_000_000_000 + (s as u64) * 7 + (k as u64 % 3);
            let msg = format!("{word} k={}{j} cid={cid}", key_value(k));
            rows.push((s, ms, msg));
        }
        rows
    }

    /// Messages (source, milliseconds into the run, text) rendered into timed service logs or
    /// untimed console dumps, one per source, and read into a timeline.
    fn render(rows: Vec<(usize, u64, String)>, timed: bool) -> Timeline {
        render_by(rows, |_| timed)
    }

    /// [`render`], with the sources `timed` says timed and the others untimed.
    fn render_by(rows: Vec<(usize, u64, String)>, timed: impl Fn(usize) -> bool) -> Timeline {
        let mut texts = vec![String::new(); 3];
        for (s, ms, msg) in rows {
            let line = if timed(s % 3) {
                let t = chrono::DateTime::from_timestamp_millis(1_780_000_000_000 + ms as i64)
                    .unwrap_or_default();
                format!(
                    "{}  INFO citadel: src/a.rs:1: {msg}\n",
                    t.format("%Y-%m-%dT%H:%M:%S%.9fZ")
                )
            } else {
                format!("[LOG] {msg} @ http://localhost:5173/a.js:1\n")
            };
            texts[s % 3].push_str(&line);
        }
        let named: Vec<(String, String)> = texts
            .into_iter()
            .enumerate()
            .filter(|(_, t)| !t.is_empty())
            .map(|(i, t)| (format!("s{i}"), t))
            .collect();
        let refs: Vec<(&str, &str)> = named
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        crate::pipeline::timeline_of(&refs).unwrap()
    }

    fn same(rule: &Rule, tl: &Timeline) -> Result<(), TestCaseError> {
        let (a, mut ea) = held(rule, tl);
        let (b, mut eb) = online(rule, tl);
        prop_assert_eq!(format!("{a:#?}"), format!("{b:#?}"));
        ea.sort_unstable();
        ea.dedup();
        eb.sort_unstable();
        eb.dedup();
        prop_assert_eq!(ea, eb);
        Ok(())
    }

    fn lines() -> impl Strategy<Value = Vec<(usize, u8, usize, Option<usize>, u64)>> {
        prop::collection::vec(
            (
                0usize..3,
                0u8..10,
                prop_oneof![0usize..6, 0usize..60],
                prop::option::weighted(0.3, 0usize..6),
                prop_oneof![0u64..50, 0u64..4000],
            ),
            1..160,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Online and held absence give the same findings (titles, evidence, counts, CIDs,
        /// window basis) and account for the same events, for every combination of keys,
        /// follow-up source, window and scope, on timed and untimed runs.
        #[test]
        fn online_absence_finds_what_the_held_engine_finds(
            lines in lines(),
            timed in any::<bool>(),
            key in 0usize..3,
            expect in 0usize..3,
            window in 0usize..4,
            scope in any::<bool>(),
        ) {
            let key = ["", "key = [\"k\"]", "key = [\"k\", \"j\"]"][key];
            let expect = ["same", "other", "any"][expect];
            let window = ["", "window = \"2s\"", "window_events = 4", "window = \"2s\"\nwindow_events = 6"][window];
            let scope = if scope { "source" } else { "cids" };
            let rule = rule(key, expect, window, scope);
            let tl = timeline(&lines, timed);
            same(&rule, &tl)?;
        }
    }

    /// A source with more open groups than a trigger may join: the oldest are judged on their own
    /// (the last trigger's key is the group just past the [`OPEN_GROUPS`] a trigger may join).
    #[test]
    fn more_groups_than_a_trigger_may_join() {
        let mut lines: Vec<(usize, u8, usize, Option<usize>, u64)> =
            (0..45).map(|k| (0, 0, 6 + k, None, 10)).collect();
        lines.extend((0..45).map(|k| (1, 4, 6 + (k * 7) % 45, None, 10)));
        lines.push((0, 0, 6 + 45 - OPEN_GROUPS - 1, None, 10));
        lines.push((0, 0, 6 + 45 - OPEN_GROUPS, None, 10));
        for timed in [false, true] {
            let tl = timeline(&lines, timed);
            let rule = rule("key = [\"k\"]", "other", "", "cids");
            same(&rule, &tl).unwrap();
            let rule = rule_windowed();
            same(&rule, &tl).unwrap();
        }
    }

    fn rule_windowed() -> Rule {
        rule("key = [\"k\"]", "any", "window_events = 40", "source")
    }

    /// An accounting rule of this `when` and least count, with two send patterns (one with a
    /// message id) and two receipt patterns, a numeric capture and facts over the sends' values.
    fn accounting(when: &str, min_count: usize) -> Rule {
        let body = format!(
            r#"scope = "cids"
min_count = {min_count}
{when}
facts = [{{ ids = "ndistinct.id" }}, {{ sizes = "distinct.n" }}, {{ spread = "span_s" }}]
title_template = "{{sent}} sent {{from|cid}} to {{to|cid}}, {{received}} received[, first {{first.id}}]"

[[trigger]]
regex = 'SEND from=(?P<from>\d+\.*) to=(?P<to>\d+\.*)(?: id=(?P<id>\w+))?(?: n=(?P<n>\d+))?'
facts = {{ twice = "n * 2" }}
[[trigger]]
regex = 'ACK from=(?P<from>\d+) to=(?P<to>\d+)'
[[expect]]
regex = 'RECV from=(?P<from>\d+\.*) to=(?P<to>\d+\.*)(?: id=(?P<id>\w+))?'
[[expect]]
regex = 'GOT to=(?P<to>\d+) from=(?P<from>\d+)'

"#
        );
        test_rule("accounting", &body)
    }

    /// Full CIDs, and one written truncated.
    fn cid(n: usize, short: bool) -> String {
        let full = format!("{}", 4_926_344_781_773_734_389u64 + n as u64 * 1_111_111);
        if short {
            format!("{}...", &full[..8])
        } else {
            full
        }
    }

    /// One line of an accounting run: source, what, sender, receiver, message id, a number, and
    /// whether its CIDs are written truncated.
    type Line = (usize, u8, usize, usize, Option<u8>, u8, bool);

    /// A run of `lines` in untimed console dumps or timed service logs, one per source.
    fn accounting_run(lines: &[Line], timed: bool) -> Timeline {
        let mut rows = Vec::new();
        for (k, &(s, what, from, to, id, n, short)) in lines.iter().enumerate() {
            let (a, b) = (cid(from, short), cid(to, short));
            let id = id.map(|x| format!(" id=m{x}")).unwrap_or_default();
            let msg = match what {
                0..=3 => format!("SEND from={a} to={b}{id} n={n}"),
                4 => format!("ACK from={} to={}", cid(from, false), cid(to, false)),
                5..=6 => format!("RECV from={a} to={b}{id}"),
                7 => format!("GOT to={} from={}", cid(to, false), cid(from, false)),
                _ => format!("Session {} is alive", cid(to, false)),
            };
            rows.push((s, 700 * k as u64, msg));
        }
        render(rows, timed)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Online and held accounting give the same findings (titles with the sends' values,
        /// facts, evidence, counts, CIDs) and account for the same events.
        #[test]
        fn online_accounting_finds_what_the_held_engine_finds(
            lines in prop::collection::vec(
                (0usize..3, 0u8..10, 0usize..3, 0usize..3, prop::option::of(0u8..4), 0u8..30, prop::bool::weighted(0.15)),
                1..120,
            ),
            timed in any::<bool>(),
            when in 0usize..3,
            min_count in 1usize..4,
        ) {
            let when = ["", "when = \"received == 0\"", "when = \"received * 2 < sent\""][when];
            let rule = accounting(when, min_count);
            let tl = accounting_run(&lines, timed);
            same(&rule, &tl)?;
        }
    }

    /// A count rule grouping by `group_by`, of this least count, window and scope: attempts are
    /// the runs' sends, successes their receipts.
    fn count(group_by: &str, min_count: usize, window: &str, scope: &str) -> Rule {
        let body = format!(
            r#"scope = "{scope}"
min_count = {min_count}
group_by = [{group_by}]
{window}
title_template = "{{count}} tries of {{k}}[ ({{distinct.j}})], succeeded {{succeeded}}"

[[pattern]]
regex = 'SEND k=(?P<k>\w+)(?: j=(?P<j>\w+))?'
[[success]]
regex = 'RECV k=(?P<k>\w+)'

"#
        );
        test_rule("count", &body)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Online and held count rules give the same findings (bursts, their values, the first
        /// success after each, window basis, evidence, CIDs) and account for the same events.
        #[test]
        fn online_count_finds_what_the_held_engine_finds(
            lines in lines(),
            timed in any::<bool>(),
            group_by in 0usize..5,
            min_count in 1usize..4,
            window in 0usize..4,
            scope in any::<bool>(),
        ) {
            let group_by = ["", "\"source\"", "\"k\"", "\"cid\"", "\"source\", \"masked.k\""][group_by];
            let window = ["", "window = \"2s\"", "window_events = 4", "window = \"2s\"\nwindow_events = 6"][window];
            let scope = if scope { "source" } else { "cids" };
            let rule = count(group_by, min_count, window, scope);
            let tl = timeline(&lines, timed);
            same(&rule, &tl)?;
        }
    }

    /// A sequence rule of this window, scope and least number of consequences: triggers are the
    /// runs' sends, consequences their receipts and the sends of keys starting `abc` (a record can
    /// be both).
    fn sequence(window: &str, scope: &str, min: usize) -> Rule {
        let body = format!(
            r#"scope = "{scope}"
min_consequences = {min}
{window}
title_template = "{{consequences}} after {{first.k}}[ ({{distinct.j}})] in {{per_source}}: {{trigger}}"

[[trigger]]
regex = 'SEND k=(?P<k>\w+)(?: j=(?P<j>\w+))?'
[[consequence]]
regex = 'RECV k=(?P<k>\w+)'
[[consequence]]
regex = 'SEND k=(?P<k>abc\w*)'

"#
        );
        test_rule("sequence", &body)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Online and held sequence rules give the same findings (heads, echoes, consequences per
        /// source, window basis, values, evidence, CIDs) and account for the same events.
        #[test]
        fn online_sequence_finds_what_the_held_engine_finds(
            lines in lines(),
            timed in 0u8..3,
            window in 0usize..4,
            scope in any::<bool>(),
            min in 1usize..4,
        ) {
            let window = ["", "window = \"2s\"", "window_events = 4", "window = \"2s\"\nwindow_events = 6"][window];
            let scope = if scope { "source" } else { "cids" };
            let rule = sequence(window, scope, min);
            let tl = timeline_of_kind(&lines, timed);
            same(&rule, &tl)?;
        }
    }

    /// A head with more echoes and consequences than the evidence shows: the evidence is the
    /// trigger, then echoes, then consequences, cut at [`MAX_EVIDENCE`], and the count is all.
    #[test]
    fn a_long_sequence_shows_its_first_records() {
        for echoes in [3usize, 30] {
            let mut lines: Vec<(usize, u8, usize, Option<usize>, u64)> = vec![(0, 0, 7, None, 10)];
            for k in 0..40 {
                lines.push((k % 3, 4, 8, None, 10));
                if k < echoes {
                    lines.push((0, 0, 9, None, 10));
                }
            }
            for timed in [false, true] {
                let tl = timeline(&lines, timed);
                let rule = sequence("window_events = 500", "cids", 2);
                same(&rule, &tl).unwrap();
                let (found, _) = online(&rule, &tl);
                assert_eq!(found.len(), 1);
                assert_eq!(found[0].count, 40);
                assert_eq!(found[0].evidence.len(), MAX_EVIDENCE);
            }
        }
    }

    /// A match rule grouping by `group_by`, its sends the hits (a second pattern without `j`).
    fn matching(group_by: &str, scope: &str, when: &str) -> Rule {
        let body = format!(
            r#"scope = "{scope}"
group_by = [{group_by}]
{when}
title_template = "{{count}}× {{first.k}}..{{last.k}}[ ({{distinct.j}})][ in {{episodes.k}} episodes] over {{span_s}} s in {{source_label}}"

[[pattern]]
regex = 'SEND k=(?P<k>\w+) j=(?P<j>\w+)'
[[pattern]]
regex = 'SEND k=(?P<k>\w+)'

"#
        );
        test_rule("match", &body)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Online and held match rules give the same findings (groups in the order of their first
        /// hits, their values, evidence, counts, CIDs) and account for the same events.
        #[test]
        fn online_match_finds_what_the_held_engine_finds(
            lines in lines(),
            timed in 0u8..3,
            group_by in 0usize..5,
            scope in any::<bool>(),
            when in 0usize..2,
        ) {
            let group_by = ["", "\"source\"", "\"k\"", "\"cid\"", "\"source\", \"masked.k\""][group_by];
            let scope = if scope { "source" } else { "cids" };
            let when = ["", "when = \"count >= 3\""][when];
            let rule = matching(group_by, scope, when);
            prop_assert!(judges(&rule));
            let tl = timeline_of_kind(&lines, timed);
            same(&rule, &tl)?;
        }
    }

    /// A match rule that marks echoes is left to the held engine.
    #[test]
    fn a_match_rule_with_echoes_is_not_judged_online() {
        let body = "group_by = [\"k\"]\n\n[[pattern]]\nregex = 'SEND k=(?P<k>\\w+)'\n[[pattern]]\nregex = 'RECV k=(?P<k>\\w+)'\necho = true\n";
        let rule = test_rule("match", body);
        assert!(!judges(&rule));
        assert!(Judge::new(&rule, crate::model::Axis::Time).is_none());
        assert!(judges(&matching("", "cids", "")));
    }

    /// The gate lets a list be tried only on a record that holds one of its literals, anywhere in
    /// its text (a multi-line pattern may match a further line); a list with a pattern without
    /// literals is tried on every record.
    #[test]
    fn the_gate_lets_through_the_records_holding_a_literal() {
        let rule = matching("", "cids", "");
        let mut gate = Gate::new([&rule]);
        let ids = gate.ids(&rule.patterns);
        assert!(ids.as_ref().is_some_and(|v| !v.is_empty()));
        let ev = |message: &str, more: &[&str]| Event {
            message: message.into(),
            continuation: more.iter().map(|m| m.to_string()).collect(),
            ..Event::default()
        };
        gate.scan(&ev("nothing to see", &[]));
        assert!(!gate.lets(ids.as_deref()));
        gate.scan(&ev("SEND k=1 j=2", &[]));
        assert!(gate.lets(ids.as_deref()));
        gate.scan(&ev("header", &["  SEND k=1"]));
        assert!(gate.lets(ids.as_deref()), "a further line holds it");
        gate.scan(&ev("nothing to see", &[]));
        assert!(!gate.lets(ids.as_deref()), "each scan starts afresh");
        assert!(gate.lets(None), "a list without literals is always tried");
        let open = test_rule("match", "[[pattern]]\nregex = '\\d{15,20}'\n");
        assert_eq!(
            gate.ids(&open.patterns),
            None,
            "a pattern the gate does not know"
        );
    }
}
