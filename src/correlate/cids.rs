//! CIDs on the timeline: the directory of full CIDs and their names (from the logs and `--alias`), what
//! each truncated CID resolves to, and which CIDs own each source (a tab's user).
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use crate::entities::{Extractors, Owner};
use crate::model::{CidDirectory, CidRef, Event, Resolution, Role, SourceInfo};
use std::collections::BTreeMap;

/// Which CIDs own each source, from the owner lines of `entities.toml` (service logs serve many CIDs
/// and own none).
pub fn set_owners(
    infos: &mut [SourceInfo],
    events: &[Event],
    dir: &CidDirectory,
    extract: &Extractors,
) {
    let mut counts: Vec<BTreeMap<u64, usize>> = vec![BTreeMap::new(); infos.len()];
    for ev in events {
        let Some(info) = infos.get(ev.source) else {
            continue;
        };
        if info.role == Role::Service {
            continue;
        }
        let cid = match extract.owner(&ev.message) {
            Some(Owner::Cid(d)) if extract.cid_shape.is_full_digits(&d) => d.parse::<u64>().ok(),
            Some(Owner::Cid(d)) => dir.resolve(&CidRef::Prefix(d)),
            Some(Owner::Name(n)) => dir
                .names
                .iter()
                .find(|(_, ns)| ns.contains(&n))
                .map(|(c, _)| *c),
            None => None,
        };
        if let Some(c) = cid {
            *counts[ev.source].entry(c).or_default() += 1;
        }
    }
    for (info, c) in infos.iter_mut().zip(counts) {
        let mut v: Vec<(u64, usize)> = c.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        info.owners = v.into_iter().map(|(c, _)| c).collect();
    }
}

/// Collect full CIDs and names, and resolve every truncated CID.
pub fn directory(events: &[Event], aliases: &[(String, u64)]) -> CidDirectory {
    let mut dir = CidDirectory::default();
    for (name, cid) in aliases {
        dir.names.entry(*cid).or_default().push(name.clone());
    }
    let mut prefixes = Vec::new();
    for ev in events {
        for c in &ev.cids {
            match c {
                CidRef::Full(v) => {
                    dir.names.entry(*v).or_default();
                }
                CidRef::Prefix(p) => prefixes.push(p.clone()),
                CidRef::Lost => {}
            }
        }
        for (name, cid) in &ev.names {
            let names = dir.names.entry(*cid).or_default();
            if !names.iter().any(|n| **n == **name) {
                names.push(name.to_string());
            }
        }
    }
    let full: Vec<(u64, String)> = dir.names.keys().map(|c| (*c, c.to_string())).collect();
    for p in prefixes {
        if dir.prefixes.contains_key(&p) {
            continue;
        }
        let hits: Vec<u64> = full
            .iter()
            .filter(|(_, s)| s.starts_with(&p) && s.len() > p.len())
            .map(|(c, _)| *c)
            .collect();
        let r = match hits.len() {
            0 => Resolution::Unknown,
            1 => Resolution::Unique(hits[0]),
            _ => Resolution::Ambiguous(hits),
        };
        dir.prefixes.insert(p, r);
    }
    dir
}
