//! CIDs on the timeline: the directory of full CIDs and their names (from the logs and `--alias`), what
//! each truncated CID resolves to, and which CIDs own each source (a tab's user).
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use crate::entities::{Extractors, Owner};
use crate::model::{CidDirectory, CidRef, Event, Resolution, Role, SourceInfo};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Owner lines seen per source, before the directory can resolve them: (is a name, text) → count.
#[derive(Debug, Default)]
pub struct OwnerTally {
    seen: Vec<BTreeMap<(bool, String), usize>>,
    /// What recent messages said of their owner ([`crate::memo`]): a tab repeats its lines, and
    /// each ran the owner patterns' set and captures.
    recent: crate::memo::Recent<Option<Owner>>,
}

impl OwnerTally {
    /// Take in an event of a source with role `role` (service logs serve many CIDs and own none).
    pub fn add(&mut self, ev: &Event, role: Role, extract: &Extractors) {
        if role == Role::Service {
            return;
        }
        let owner = match self.recent.get(&ev.message) {
            Some(o) => o.clone(),
            None => {
                let o = extract.owner(&ev.message);
                self.recent.put(&ev.message, o.clone());
                o
            }
        };
        let key = match owner {
            Some(Owner::Cid(d)) => (false, d),
            Some(Owner::Name(n)) => (true, n),
            None => return,
        };
        if self.seen.len() <= ev.source {
            self.seen.resize_with(ev.source + 1, BTreeMap::new);
        }
        if let Some(m) = self.seen.get_mut(ev.source) {
            *m.entry(key).or_default() += 1;
        }
    }

    /// Add another tally, its sources numbered from `base`.
    pub fn absorb(&mut self, other: OwnerTally, base: usize) {
        for (s, m) in other.seen.into_iter().enumerate() {
            if self.seen.len() <= base + s {
                self.seen.resize_with(base + s + 1, BTreeMap::new);
            }
            if let Some(into) = self.seen.get_mut(base + s) {
                for (k, n) in m {
                    *into.entry(k).or_default() += n;
                }
            }
        }
    }

    /// Each source's owners, most named first.
    pub fn settle(self, infos: &mut [SourceInfo], dir: &CidDirectory, extract: &Extractors) {
        self.settle_where(infos, dir, extract, |_| true);
    }

    /// [`OwnerTally::settle`] for the sources `which` picks; the others keep their owners.
    fn settle_where(
        self,
        infos: &mut [SourceInfo],
        dir: &CidDirectory,
        extract: &Extractors,
        which: impl Fn(&SourceInfo) -> bool,
    ) {
        for (s, info) in infos.iter_mut().enumerate() {
            if !which(info) {
                continue;
            }
            let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
            for ((name, text), n) in self.seen.get(s).into_iter().flatten() {
                let cid = if *name {
                    dir.names
                        .iter()
                        .find(|(_, ns)| ns.contains(text))
                        .map(|(c, _)| *c)
                } else if extract.cid_shape.is_full_digits(text) {
                    text.parse::<u64>().ok()
                } else {
                    dir.resolve(&CidRef::Prefix(text.clone()))
                };
                if let Some(c) = cid {
                    *counts.entry(c).or_default() += n;
                }
            }
            let mut v: Vec<(u64, usize)> = counts.into_iter().collect();
            v.sort_by_key(|e| std::cmp::Reverse(e.1));
            info.owners = v.into_iter().map(|(c, _)| c).collect();
        }
    }
}

/// Which CIDs own each source, from the owner lines of `entities.toml` (service logs serve many CIDs
/// and own none).
pub fn set_owners(
    infos: &mut [SourceInfo],
    events: &[Event],
    dir: &CidDirectory,
    extract: &Extractors,
) {
    let mut tally = OwnerTally::default();
    for ev in events {
        if let Some(info) = infos.get(ev.source) {
            tally.add(ev, info.role, extract);
        }
    }
    tally.settle(infos, dir, extract);
}

/// [`set_owners`] for the sources that have no owner yet (records appended while following: an
/// owner, once named, stays).
pub fn set_missing_owners(
    infos: &mut [SourceInfo],
    events: &[Event],
    dir: &CidDirectory,
    extract: &Extractors,
) {
    if infos.iter().all(|i| !i.owners.is_empty()) {
        return;
    }
    let mut tally = OwnerTally::default();
    for ev in events {
        if let Some(info) = infos.get(ev.source).filter(|i| i.owners.is_empty()) {
            tally.add(ev, info.role, extract);
        }
    }
    tally.settle_where(infos, dir, extract, |i| i.owners.is_empty());
}

/// The full CIDs, names and truncated CIDs of events, gathered one event at a time.
#[derive(Debug, Default)]
pub struct DirectoryBuilder {
    full: BTreeSet<u64>,
    prefixes: BTreeSet<String>,
    /// Each name binding's first event per source: (cid, name, source, index in the source).
    names: Vec<(u64, Arc<str>, usize, usize)>,
    /// The (name, source) pairs already noted per CID: a few per CID, searched without allocating.
    seen: crate::hash::Map<u64, Vec<(Arc<str>, usize)>>,
}

impl DirectoryBuilder {
    /// Take in event `index` of source `source` (a single timeline is one source of merged events).
    pub fn add(&mut self, source: usize, index: usize, ev: &Event) {
        for c in &ev.cids {
            match c {
                CidRef::Full(v) => {
                    self.full.insert(*v);
                }
                CidRef::Prefix(p) => {
                    if !self.prefixes.contains(p) {
                        self.prefixes.insert(p.clone());
                    }
                }
                CidRef::Lost => {}
            }
        }
        for (name, cid) in &ev.names {
            self.note(*cid, name, source, index);
        }
    }

    /// Note a name binding unless this source already gave it.
    fn note(&mut self, cid: u64, name: &Arc<str>, source: usize, index: usize) {
        let seen = self.seen.entry(cid).or_default();
        if !seen.iter().any(|(n, s)| *s == source && **n == **name) {
            seen.push((Arc::clone(name), source));
            self.names.push((cid, Arc::clone(name), source, index));
        }
    }

    /// Add what another builder gathered, its sources numbered from `base`.
    pub fn absorb(&mut self, other: DirectoryBuilder, base: usize) {
        self.full.extend(other.full);
        self.prefixes.extend(other.prefixes);
        for (c, n, s, i) in other.names {
            self.note(c, &n, s + base, i);
        }
    }

    /// The directory: `aliases` first, then each CID's names in timeline order, which `rank` gives
    /// for an event (source, index); every truncated CID resolved.
    pub fn finish(
        mut self,
        aliases: &[(String, u64)],
        rank: impl Fn(usize, usize) -> usize,
    ) -> CidDirectory {
        let mut dir = CidDirectory::default();
        for (name, cid) in aliases {
            dir.names.entry(*cid).or_default().push(name.clone());
        }
        for c in &self.full {
            dir.names.entry(*c).or_default();
        }
        self.names.sort_by_cached_key(|(_, _, s, i)| rank(*s, *i));
        for (cid, name, _, _) in self.names {
            let names = dir.names.entry(cid).or_default();
            if !names.iter().any(|n| **n == *name) {
                names.push(name.to_string());
            }
        }
        let full = full_digits(&dir);
        for p in self.prefixes {
            let r = resolution(&full, &p);
            dir.prefixes.insert(p, r);
        }
        dir
    }

    /// What `events` name, as one source in this order.
    pub fn of<'e>(events: impl Iterator<Item = &'e Event>) -> DirectoryBuilder {
        let mut b = DirectoryBuilder::default();
        for (i, ev) in events.enumerate() {
            b.add(0, i, ev);
        }
        b
    }

    /// Whether every CID, truncated CID and name binding this holds, `other` holds too.
    pub fn within(&self, other: &DirectoryBuilder) -> bool {
        self.full.is_subset(&other.full)
            && self.prefixes.is_subset(&other.prefixes)
            && self
                .names
                .iter()
                .all(|(c, n, _, _)| other.names.iter().any(|(oc, on, _, _)| oc == c && on == n))
    }

    /// The events whose rank [`DirectoryBuilder::finish`] asks for: (source, index).
    pub fn name_events(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.names.iter().map(|(_, _, s, i)| (*s, *i))
    }
}

/// Every full CID of a directory, with its digits.
fn full_digits(dir: &CidDirectory) -> Vec<(u64, String)> {
    dir.names.keys().map(|c| (*c, c.to_string())).collect()
}

/// What the truncated CID `p` stands for among these full ones.
fn resolution(full: &[(u64, String)], p: &str) -> Resolution {
    let hits: Vec<u64> = full
        .iter()
        .filter(|(_, s)| s.starts_with(p) && s.len() > p.len())
        .map(|(c, _)| *c)
        .collect();
    match hits.as_slice() {
        [] => Resolution::Unknown,
        [one] => Resolution::Unique(*one),
        _ => Resolution::Ambiguous(hits),
    }
}

/// Add to a directory what records placed after its own name (appended while following): their
/// full CIDs and name bindings, after those it has, and their truncated CIDs resolved; every
/// truncated CID is resolved again when a full one is new.
pub fn extend_directory(dir: &mut CidDirectory, named: &DirectoryBuilder) {
    let mut new_full = false;
    for c in &named.full {
        if !dir.names.contains_key(c) {
            dir.names.insert(*c, Vec::new());
            new_full = true;
        }
    }
    for (cid, name, _, _) in &named.names {
        if !dir.names.contains_key(cid) {
            new_full = true;
        }
        let names = dir.names.entry(*cid).or_default();
        if !names.iter().any(|n| **n == **name) {
            names.push(name.to_string());
        }
    }
    let full = full_digits(dir);
    if new_full {
        for (p, r) in dir.prefixes.iter_mut() {
            *r = resolution(&full, p);
        }
    }
    for p in &named.prefixes {
        if !dir.prefixes.contains_key(p) {
            let r = resolution(&full, p);
            dir.prefixes.insert(p.clone(), r);
        }
    }
}

/// Collect full CIDs and names, and resolve every truncated CID.
pub fn directory(events: &[Event], aliases: &[(String, u64)]) -> CidDirectory {
    DirectoryBuilder::of(events.iter()).finish(aliases, |_, i| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defs::Registry;

    /// A tally that remembers what recent messages said of their owner counts every owner line,
    /// repeated or not, as asking the patterns each time does; a service's lines own nothing.
    #[test]
    fn remembered_owner_lines_count_as_fresh_ones() {
        let reg = Registry::load(None).unwrap();
        let lines = [
            "Sending reliable P2P message from 12345678901234567890 to 98765432109876543210",
            "nothing about an owner",
            "Sending reliable P2P message from 12345678901234567890 to 98765432109876543210",
            "ConnectionManager: Storing session for alice",
            "MessageNotification arrived: cid=12345678901234567890, peer_cid=1",
            "ConnectionManager: Storing session for alice",
            "nothing about an owner",
        ];
        let ev = |source: usize, m: &str| Event {
            source,
            message: m.into(),
            ..Event::default()
        };
        let mut tally = OwnerTally::default();
        let mut want: BTreeMap<(bool, String), usize> = BTreeMap::new();
        for m in lines {
            tally.add(&ev(0, m), Role::Other, &reg.entities);
            tally.add(&ev(1, m), Role::Service, &reg.entities);
            match reg.entities.owner(m) {
                Some(Owner::Cid(d)) => *want.entry((false, d)).or_default() += 1,
                Some(Owner::Name(n)) => *want.entry((true, n)).or_default() += 1,
                None => {}
            }
        }
        assert_eq!(tally.seen.first(), Some(&want));
        assert_eq!(want.values().sum::<usize>(), 5);
        assert!(tally.seen.get(1).is_none_or(BTreeMap::is_empty));
    }
}
