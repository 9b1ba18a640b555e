//! Correlate: put the events of every source on one timeline.
//!
//! The service prints no time and most console dumps carry none, so the timeline is a merge under
//! constraints. Times are used where any exist (a date missing from a time-of-day source comes from the
//! other sources or `--date`; `--tz` for local times). Sources are then aligned by anchors that two sides
//! both log (`parsers/anchors.toml`: the same request or connection UUID, a send and the server's handling
//! of it, a server panic before the tabs' disconnects). A timed source's clock offset to the reference
//! is the median of its anchor differences; an untimed source is placed between its anchors. Every event
//! says how its position is known. Truncated CIDs are resolved to the one full CID they prefix and CIDs
//! get names from the logs or `--alias`.

use crate::model::{CidRef, Event, RawTime, SourceId, TsQuality};

use crate::defs::{AnchorDef, Relation};
use crate::model::{AnchorLink, Axis, CidDirectory, ClockOffset, Resolution, SourceInfo, Timeline};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};

/// Options that settle what the logs leave open.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Date for time-of-day sources.
    pub date: Option<NaiveDate>,
    /// Zone of local times (DevTools, Firefox, chrome_debug.log).
    pub tz: Option<FixedOffset>,
    /// Names given on the command line.
    pub aliases: Vec<(String, u64)>,
}

const NS: f64 = 1e9;

fn instant_ns(t: &DateTime<Utc>) -> f64 {
    t.timestamp() as f64 * NS + t.timestamp_subsec_nanos() as f64
}

fn ns_to_dt(ns: f64) -> Option<DateTime<Utc>> {
    if !ns.is_finite() {
        return None;
    }
    let secs = (ns / NS).floor();
    let nanos = (ns - secs * NS).clamp(0.0, 999_999_999.0) as u32;
    Utc.timestamp_opt(secs as i64, nanos).single()
}

/// Raw times of one source as instants, where the date can be settled.
fn source_instants(
    events: &[Event],
    base_date: Option<NaiveDate>,
    tz: FixedOffset,
) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(events.len());
    let mut day_shift = 0i64;
    let mut last_local: Option<NaiveDateTime> = None;
    let local_to_ns = |ndt: NaiveDateTime| -> Option<f64> {
        tz.from_local_datetime(&ndt)
            .single()
            .map(|t| instant_ns(&t.with_timezone(&Utc)))
    };
    for ev in events {
        let v = match ev.raw_ts {
            Some(RawTime::Instant(t)) => Some(instant_ns(&t)),
            Some(RawTime::Local(ndt)) => local_to_ns(ndt),
            Some(RawTime::MonthDay(m, d, t)) => base_date
                .and_then(|b| NaiveDate::from_ymd_opt(chrono::Datelike::year(&b), m, d))
                .and_then(|date| local_to_ns(date.and_time(t))),
            Some(RawTime::TimeOfDay(t)) => base_date.and_then(|b| {
                let mut ndt = (b + Duration::days(day_shift)).and_time(t);
                // Midnight roll-over: the clock going back by hours means a new day.
                if let Some(prev) = last_local {
                    if ndt + Duration::hours(6) < prev {
                        day_shift += 1;
                        ndt += Duration::days(1);
                    }
                }
                last_local = Some(ndt);
                local_to_ns(ndt)
            }),
            None => None,
        };
        out.push(v);
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// A candidate anchor pair between two sources: (source a, event a, source b, event b).
#[derive(Debug, Clone)]
struct Pair {
    name: String,
    sa: SourceId,
    ia: usize,
    sb: SourceId,
    ib: usize,
    relation: Relation,
}

fn find_pairs(per_source: &[Vec<Event>], defs: &[AnchorDef]) -> Vec<Pair> {
    let mut pairs = Vec::new();
    // Pattern anchors first: they know which side comes first. A shared UUID then only pairs events
    // that no pattern anchor has paired already.
    let ordered: Vec<&AnchorDef> = defs
        .iter()
        .filter(|d| !d.shared_uuid)
        .chain(defs.iter().filter(|d| d.shared_uuid))
        .collect();
    let mut covered: std::collections::HashSet<(SourceId, usize)> =
        std::collections::HashSet::new();
    for def in ordered {
        if def.shared_uuid {
            covered.extend(
                pairs
                    .iter()
                    .flat_map(|p: &Pair| [(p.sa, p.ia), (p.sb, p.ib)]),
            );
            // uuid → per source, first event mentioning it
            let mut seen: BTreeMap<&str, Vec<(SourceId, usize)>> = BTreeMap::new();
            for (s, evs) in per_source.iter().enumerate() {
                for (i, ev) in evs.iter().enumerate() {
                    for u in &ev.uuids {
                        let e = seen.entry(u.as_str()).or_default();
                        if !e.iter().any(|(src, _)| *src == s) {
                            e.push((s, i));
                        }
                    }
                }
            }
            for (_, occ) in seen {
                for w in 1..occ.len() {
                    if covered.contains(&occ[0]) && covered.contains(&occ[w]) {
                        continue;
                    }
                    pairs.push(Pair {
                        name: def.name.clone(),
                        sa: occ[0].0,
                        ia: occ[0].1,
                        sb: occ[w].0,
                        ib: occ[w].1,
                        relation: def.relation,
                    });
                }
            }
            continue;
        }
        let (Some(fr), Some(sr)) = (&def.first, &def.second) else {
            continue;
        };
        let keyed = |re: &Regex, ev: &Event| -> Option<String> {
            let c = re.captures(&ev.message)?;
            Some(
                def.key
                    .iter()
                    .map(|k| c.name(k).map(|m| m.as_str()).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\u{1}"),
            )
        };
        // key → occurrences per source, in order
        let mut firsts: HashMap<(SourceId, String), Vec<usize>> = HashMap::new();
        let mut seconds: HashMap<(SourceId, String), Vec<usize>> = HashMap::new();
        for (s, evs) in per_source.iter().enumerate() {
            for (i, ev) in evs.iter().enumerate() {
                if let Some(k) = keyed(fr, ev) {
                    firsts.entry((s, k)).or_default().push(i);
                }
                if let Some(k) = keyed(sr, ev) {
                    seconds.entry((s, k)).or_default().push(i);
                }
            }
        }
        let mut keys: Vec<_> = firsts.keys().cloned().collect();
        keys.sort();
        for (sa, k) in keys {
            for sb in 0..per_source.len() {
                if sb == sa {
                    continue;
                }
                let (Some(fa), Some(sbv)) =
                    (firsts.get(&(sa, k.clone())), seconds.get(&(sb, k.clone())))
                else {
                    continue;
                };
                // Unkeyed anchors (a panic and the disconnects after it) pair first with first only.
                let n = if def.key.is_empty() {
                    1
                } else {
                    fa.len().min(sbv.len())
                };
                for j in 0..n {
                    pairs.push(Pair {
                        name: def.name.clone(),
                        sa,
                        ia: fa[j],
                        sb,
                        ib: sbv[j],
                        relation: def.relation,
                    });
                }
            }
        }
    }
    pairs
}

/// Keep the anchor points of one source that agree with its own order (longest increasing run).
fn monotone(points: &mut Vec<(usize, f64)>) {
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup_by(|a, b| a.0 == b.0);
    let n = points.len();
    if n < 2 {
        return;
    }
    // Longest non-decreasing subsequence on position, O(n log n) (patience sorting): a long capture
    // has thousands of anchors.
    // tails[k] = index of the smallest last position of a run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; n];
    for i in 0..n {
        let x = points[i].1;
        let k = tails.partition_point(|&t| points[t].1 <= x);
        if k > 0 {
            prev[i] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let Some(&last) = tails.last() else {
        return;
    };
    let mut keep = Vec::with_capacity(tails.len());
    let mut cur = last;
    loop {
        keep.push(points[cur]);
        if prev[cur] == usize::MAX {
            break;
        }
        cur = prev[cur];
    }
    keep.reverse();
    *points = keep;
}

/// Build the timeline from parsed sources.
pub fn correlate(
    sources: Vec<(SourceInfo, Vec<Event>)>,
    defs: &[AnchorDef],
    extract: &crate::entities::Extractors,
    opts: &Options,
) -> Timeline {
    let (mut infos, mut per_source): (Vec<SourceInfo>, Vec<Vec<Event>>) =
        sources.into_iter().unzip();
    for (s, evs) in per_source.iter_mut().enumerate() {
        for e in evs.iter_mut() {
            e.source = s;
        }
    }
    let n = per_source.len();
    // Date for time-of-day sources: --date, else the earliest full instant anywhere.
    let earliest_instant = per_source
        .iter()
        .flatten()
        .filter_map(|e| match e.raw_ts {
            Some(RawTime::Instant(t)) => Some(t),
            _ => None,
        })
        .min();
    let tz = opts
        .tz
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset is valid"));
    // Last resort: the date in a file's name (the save moment comes after the lines, so near midnight
    // it can be a day late; an anchored source's offset estimate folds that back).
    let base_date = opts
        .date
        .or_else(|| earliest_instant.map(|t| t.with_timezone(&tz).date_naive()))
        .or_else(|| infos.iter().find_map(|i| i.file_date));
    let dated = base_date.is_some();
    // Without any date, times of day still order events: lay them on an arbitrary day.
    let work_date = base_date.or_else(|| NaiveDate::from_ymd_opt(2000, 1, 1));
    let raw: Vec<Vec<Option<f64>>> = per_source
        .iter()
        .map(|evs| source_instants(evs, work_date, tz))
        .collect();
    let timed: Vec<usize> = raw
        .iter()
        .map(|r| r.iter().filter(|x| x.is_some()).count())
        .collect();
    let exact: Vec<usize> = per_source
        .iter()
        .map(|evs| {
            evs.iter()
                .filter(|e| matches!(e.raw_ts, Some(RawTime::Instant(_))))
                .count()
        })
        .collect();
    let pairs = find_pairs(&per_source, defs);
    let anchor_count = |s: usize| pairs.iter().filter(|p| p.sa == s || p.sb == s).count();
    let any_timed = timed.iter().any(|&t| t > 0);
    let axis = if any_timed { Axis::Time } else { Axis::Order };
    // Reference: the source with the most exact times; else most timed; else most anchored (service first).
    let reference = (0..n).max_by_key(|&s| {
        let service = infos[s].detection.format.starts_with("citadel") as usize;
        (
            exact[s],
            timed[s],
            anchor_count(s),
            service,
            per_source[s].len(),
        )
    });
    let mut pos: Vec<Option<Vec<f64>>> = vec![None; n];
    let mut quality: Vec<Vec<TsQuality>> = per_source
        .iter()
        .map(|evs| vec![TsQuality::Order; evs.len()])
        .collect();
    // Small step between events placed only by order, on each axis.
    let eps = match axis {
        Axis::Time => 1e6, // 1 ms
        Axis::Order => 1e-3,
    };
    let step = match axis {
        Axis::Time => 1e6,
        Axis::Order => 1.0,
    };

    // Fill positions of a source from its own times; untimed events between timed ones interpolate.
    let place_timed = |s: usize, offset: f64, quality: &mut Vec<TsQuality>| -> Vec<f64> {
        let r = &raw[s];
        let evs = &per_source[s];
        let pts: Vec<(usize, f64)> = r
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|x| (i, x + offset)))
            .collect();
        for (i, q) in quality.iter_mut().enumerate() {
            *q = match (r[i], evs[i].raw_ts) {
                (Some(_), Some(RawTime::Instant(_))) => TsQuality::Exact,
                (Some(_), _) => TsQuality::TimeOfDay,
                _ => TsQuality::Inferred,
            };
        }
        interpolate(evs.len(), &pts, eps)
    };

    if let Some(r) = reference {
        if axis == Axis::Time {
            pos[r] = Some(place_timed(r, 0.0, &mut quality[r]));
            infos[r].placement = "reference clock".into();
        } else {
            pos[r] = Some((0..per_source[r].len()).map(|i| i as f64 * step).collect());
            infos[r].placement = "reference order (no source has time)".into();
        }
    }
    // Place the others, most anchored to what is placed first, until nothing more can be placed.
    loop {
        // (source, [(own index, placed position, latency shift)])
        type Candidate = (usize, Vec<(usize, f64, f64)>);
        let mut best: Option<Candidate> = None;
        for s in 0..n {
            if pos[s].is_some() {
                continue;
            }
            // (own index, placed position, relation shift)
            let mut pts = Vec::new();
            for p in &pairs {
                // A source placed after its partner lands just after it when both log the same moment.
                let (own, other, oi, shift) = if p.sa == s {
                    let sh = if p.relation == Relation::Before {
                        -eps
                    } else {
                        eps / 10.0
                    };
                    (p.ia, p.sb, p.ib, sh)
                } else if p.sb == s {
                    let sh = if p.relation == Relation::Before {
                        eps
                    } else {
                        eps / 10.0
                    };
                    (p.ib, p.sa, p.ia, sh)
                } else {
                    continue;
                };
                if let Some(op) = &pos[other] {
                    if let Some(&x) = op.get(oi) {
                        pts.push((own, x, shift));
                    }
                }
            }
            if !pts.is_empty() && best.as_ref().is_none_or(|b| pts.len() > b.1.len()) {
                best = Some((s, pts));
            }
        }
        let Some((s, pts)) = best else { break };
        if timed[s] > 0 && axis == Axis::Time {
            // A clock of its own: estimate its offset from the anchors and keep its spacing. Anchors
            // that record the same moment give estimates; ordered ones give bounds (a response routed
            // in the tab comes after the server handled the request: offset >= server - tab). The
            // estimate is the median of the same-moment pairs, or the tightest bound, kept within the
            // bounds when they agree with each other.
            let (mut same, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
            for (own, x, shift) in &pts {
                let Some(t) = raw[s][*own] else { continue };
                let d = x - t;
                if *shift >= eps * 0.5 {
                    lower.push(d);
                } else if *shift <= -eps * 0.5 {
                    upper.push(d);
                } else {
                    same.push(d);
                }
            }
            let lo = lower.iter().copied().reduce(f64::max);
            let hi = upper.iter().copied().reduce(f64::min);
            let used = same.len() + lower.len() + upper.len();
            let consistent = match (lo, hi) {
                (Some(l), Some(h)) => l <= h,
                _ => true,
            };
            let base = if !same.is_empty() {
                median(&mut same)
            } else if let Some(l) = lo {
                l
            } else {
                hi.unwrap_or(0.0)
            };
            let mut off = if consistent {
                let b = lo.map_or(base, |l| base.max(l));
                hi.map_or(b, |h| b.min(h))
            } else {
                // Bounds that contradict each other: some anchor is wrong; fall back to the median.
                let mut all: Vec<f64> = same.iter().chain(&lower).chain(&upper).copied().collect();
                median(&mut all)
            };
            let mut ds: Vec<f64> = same.iter().chain(&lower).chain(&upper).copied().collect();
            ds.sort_by(|a, b| a.total_cmp(b));
            let spread = match (ds.first(), ds.last()) {
                (Some(a), Some(b)) => (b - a) / NS,
                _ => 0.0,
            };
            // A date taken from another source can be a day off near midnight.
            while off > 12.0 * 3600.0 * NS {
                off -= 86400.0 * NS;
            }
            while off < -12.0 * 3600.0 * NS {
                off += 86400.0 * NS;
            }
            let secs = off / NS;
            let zone_minutes = if secs.abs() >= 600.0 {
                ((secs / 900.0).round() as i64) * 15
            } else {
                0
            };
            let reference_label = reference
                .map(|r| infos[r].label.clone())
                .unwrap_or_default();
            infos[s].offset = Some(ClockOffset {
                reference: reference_label,
                seconds: secs,
                zone_minutes,
                skew_seconds: secs - zone_minutes as f64 * 60.0,
                anchors: used,
                spread_seconds: spread,
            });
            infos[s].placement = format!("own clock, offset estimated from {used} anchors");
            pos[s] = Some(place_timed(s, off, &mut quality[s]));
        } else {
            let mut p: Vec<(usize, f64)> = pts.iter().map(|(i, x, sh)| (*i, x + sh)).collect();
            monotone(&mut p);
            // On a time axis every placed event has an inferred time; on an order axis only the
            // anchored ones have a known place, the rest keep their own order.
            let fill = if axis == Axis::Time {
                TsQuality::Inferred
            } else {
                TsQuality::Order
            };
            quality[s].iter_mut().for_each(|q| *q = fill);
            for (j, _) in &p {
                if let Some(q) = quality[s].get_mut(*j) {
                    *q = TsQuality::Inferred;
                }
            }
            infos[s].placement = format!("no time of its own; placed by {} anchors", p.len());
            pos[s] = Some(interpolate(per_source[s].len(), &p, eps));
        }
    }
    // Sources with nothing to hold on to: timed ones keep their clock, others run alongside the reference.
    let span = pos
        .iter()
        .flatten()
        .flat_map(|v| v.iter().copied())
        .fold(None, |acc: Option<(f64, f64)>, x| match acc {
            None => Some((x, x)),
            Some((a, b)) => Some((a.min(x), b.max(x))),
        })
        .unwrap_or((0.0, 0.0));
    for s in 0..n {
        if pos[s].is_some() {
            continue;
        }
        if timed[s] > 0 && axis == Axis::Time {
            pos[s] = Some(place_timed(s, 0.0, &mut quality[s]));
            infos[s].placement = "own clock, no shared anchors (offset unknown)".into();
        } else {
            let len = per_source[s].len().max(1) as f64;
            let width = (span.1 - span.0).max(step * len);
            pos[s] = Some(
                (0..per_source[s].len())
                    .map(|i| span.0 + width * i as f64 / len)
                    .collect(),
            );
            infos[s].placement =
                "no time and no anchors: spread along the timeline by its own order".into();
        }
    }

    // Merge: each source's positions never go back, so a k-way merge of the sources (ties by source,
    // then line) gives the timeline while moving each event once, without a second copy of them all.
    let total: usize = per_source.iter().map(|v| v.len()).sum();
    let mut new_index: Vec<Vec<usize>> = per_source.iter().map(|v| vec![0; v.len()]).collect();
    let positions: Vec<Vec<f64>> = pos
        .iter_mut()
        .map(|p| p.take().unwrap_or_default())
        .collect();
    let mut streams: Vec<std::iter::Peekable<std::iter::Enumerate<std::vec::IntoIter<Event>>>> =
        per_source
            .into_iter()
            .map(|v| v.into_iter().enumerate().peekable())
            .collect();
    let mut events = Vec::with_capacity(total);
    loop {
        let mut best: Option<(f64, usize)> = None;
        for (s, st) in streams.iter_mut().enumerate() {
            if let Some((i, _)) = st.peek() {
                let x = positions[s].get(*i).copied().unwrap_or(f64::MAX);
                if best.is_none_or(|(bx, _)| x.total_cmp(&bx).is_lt()) {
                    best = Some((x, s));
                }
            }
        }
        let Some((x, s)) = best else { break };
        let Some((i, mut ev)) = streams[s].next() else {
            break;
        };
        new_index[s][i] = events.len();
        ev.pos = x;
        ev.ts_quality = quality[s][i];
        ev.ts = if axis == Axis::Time && dated {
            ns_to_dt(x)
        } else {
            None
        };
        events.push(ev);
    }
    for (s, info) in infos.iter_mut().enumerate() {
        info.events = new_index[s].len();
    }
    let anchors = pairs
        .iter()
        .map(|p| AnchorLink {
            name: p.name.clone(),
            a: new_index[p.sa][p.ia],
            b: new_index[p.sb][p.ib],
        })
        .collect();
    let cids = directory(&events, &opts.aliases);
    set_owners(&mut infos, &events, &cids, extract);
    Timeline {
        sources: infos,
        events,
        cids,
        anchors,
        axis,
        dated,
    }
}

/// Positions for `len` events from known points (index, position): linear between points, `eps`
/// steps before the first and after the last, never decreasing.
fn interpolate(len: usize, pts: &[(usize, f64)], eps: f64) -> Vec<f64> {
    let mut out = vec![0.0; len];
    if len == 0 {
        return out;
    }
    if pts.is_empty() {
        for (i, o) in out.iter_mut().enumerate() {
            *o = i as f64 * eps;
        }
        return out;
    }
    let (fi, fx) = pts[0];
    for (i, o) in out.iter_mut().enumerate().take(fi.min(len)) {
        *o = fx - (fi - i) as f64 * eps;
    }
    for w in pts.windows(2) {
        let ((a, xa), (b, xb)) = (w[0], w[1]);
        for (i, o) in out.iter_mut().enumerate().take(b.min(len)).skip(a) {
            *o = xa + (xb - xa) * (i - a) as f64 / (b - a) as f64;
        }
    }
    if let Some(&(li, lx)) = pts.last() {
        for (i, o) in out.iter_mut().enumerate().skip(li) {
            *o = lx + (i - li) as f64 * eps;
        }
    }
    for i in 1..len {
        if out[i] < out[i - 1] {
            out[i] = out[i - 1];
        }
    }
    out
}

/// Which CIDs own each source, from the owner lines of `entities.toml` (service logs serve many CIDs
/// and own none).
fn set_owners(
    infos: &mut [SourceInfo],
    events: &[Event],
    dir: &CidDirectory,
    extract: &crate::entities::Extractors,
) {
    use crate::entities::Owner;
    let mut counts: Vec<BTreeMap<u64, usize>> = vec![BTreeMap::new(); infos.len()];
    for ev in events {
        let Some(info) = infos.get(ev.source) else {
            continue;
        };
        if info.detection.format.starts_with("citadel") {
            continue;
        }
        let cid = match extract.owner(&ev.message) {
            Some(Owner::Cid(d)) if d.len() >= 15 => d.parse::<u64>().ok(),
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
fn directory(events: &[Event], aliases: &[(String, u64)]) -> CidDirectory {
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
            if !names.contains(name) {
                names.push(name.clone());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Detection, ParseStats, ReadStats};

    fn info(label: &str, format: &str) -> SourceInfo {
        SourceInfo {
            label: label.into(),
            path: label.into(),
            container: None,
            detection: Detection {
                format: format.into(),
                matched: 0,
                considered: 0,
                confidence: 1.0,
                runner_up: None,
                forced: false,
            },
            read: ReadStats::default(),
            parse: ParseStats::default(),
            events: 0,
            placement: String::new(),
            offset: None,
            owners: Vec::new(),
            file_date: None,
        }
    }

    /// Correlate labelled sources with the built-in anchors and default options.
    fn run(sources: Vec<(SourceInfo, Vec<Event>)>) -> Timeline {
        let reg = crate::defs::Registry::load(None).unwrap();
        correlate(sources, &reg.anchors, &reg.entities, &Options::default())
    }

    fn ev(msg: &str, ts: Option<RawTime>) -> Event {
        let reg = crate::defs::Registry::load(None).unwrap();
        let mut e = Event {
            message: msg.into(),
            raw_ts: ts,
            ..Default::default()
        };
        reg.entities.apply(&mut e);
        e
    }

    fn at(s: &str) -> Option<RawTime> {
        Some(RawTime::Instant(
            DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc),
        ))
    }
    fn tod(s: &str) -> Option<RawTime> {
        Some(RawTime::TimeOfDay(
            chrono::NaiveTime::parse_from_str(s, "%H:%M:%S%.f").unwrap(),
        ))
    }

    const U1: &str = "11111111-2222-4333-8444-555555555555";
    const U2: &str = "aaaaaaaa-2222-4333-8444-555555555555";

    #[test]
    fn untimed_source_is_placed_between_anchors() {
        let server = vec![
            ev("start", at("2025-12-30T01:00:00Z")),
            ev(
                &format!("handling request_id={U1}"),
                at("2025-12-30T01:00:10Z"),
            ),
            ev(
                "Panic occurred: panicked at x.rs:1:2:",
                at("2025-12-30T01:00:20Z"),
            ),
        ];
        let tab = vec![
            ev("before anything", None),
            ev(&format!("Routing X by request_id {U1} -> i"), None),
            ev("in between", None),
            ev("WebSocket communication task ended", None),
            ev("after", None),
        ];
        let tl = run(vec![
            (info("tab", "playwright-mcp"), tab),
            (info("svc", "citadel-tracing"), server),
        ]);
        let order: Vec<&str> = tl.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            order,
            vec![
                "start",
                "before anything",
                &format!("handling request_id={U1}"),
                &format!("Routing X by request_id {U1} -> i"),
                "in between",
                "Panic occurred: panicked at x.rs:1:2:",
                "WebSocket communication task ended",
                "after"
            ]
        );
        let q: Vec<TsQuality> = tl.events.iter().map(|e| e.ts_quality).collect();
        assert_eq!(q[0], TsQuality::Exact);
        assert_eq!(q[1], TsQuality::Inferred);
        assert!(tl.events.iter().all(|e| e.ts.is_some()));
    }

    #[test]
    fn clock_offset_is_estimated_from_shared_anchors() {
        let server = vec![
            ev(
                &format!("req request_id={U1}"),
                at("2025-12-30T01:43:40.000Z"),
            ),
            ev(
                &format!("req request_id={U2}"),
                at("2025-12-30T01:43:50.000Z"),
            ),
        ];
        // Local UTC+1 and 1.2 s fast.
        let tab = vec![
            ev(&format!("routing {U1}"), tod("02:43:41.200")),
            ev(&format!("routing {U2}"), tod("02:43:51.200")),
            ev("later", tod("02:44:01.200")),
        ];
        let tl = run(vec![
            (info("svc", "citadel-tracing"), server),
            (info("tab", "chrome-devtools"), tab),
        ]);
        let off = tl.sources[1].offset.as_ref().unwrap();
        assert_eq!(off.anchors, 2);
        assert!((off.seconds + 3601.2).abs() < 1e-3, "{off:?}");
        assert_eq!(off.zone_minutes, -60);
        assert!((off.skew_seconds + 1.2).abs() < 1e-3);
        let last = tl.events.last().unwrap();
        assert_eq!(last.message, "later");
        assert_eq!(last.ts.unwrap().to_rfc3339(), "2025-12-30T01:44:00+00:00");
        assert_eq!(last.ts_quality, TsQuality::TimeOfDay);
    }

    #[test]
    fn a_file_name_dates_a_time_of_day_source() {
        let reg = crate::defs::Registry::load(None).unwrap();
        let mut i = info("tab", "chrome-devtools");
        let f = reg.format("chrome-devtools").unwrap();
        i.file_date = f.file_date("localhost-1767145425123.log");
        assert_eq!(i.file_date, NaiveDate::from_ymd_opt(2025, 12, 31));
        let tl = run(vec![(
            i,
            vec![ev("a", tod("01:43:40.000")), ev("b", tod("01:43:41.000"))],
        )]);
        assert!(tl.dated);
        assert_eq!(
            tl.events[1].ts.unwrap().to_rfc3339(),
            "2025-12-31T01:43:41+00:00"
        );
        let ff = reg.format("firefox").unwrap();
        assert_eq!(
            ff.file_date("console-export-2025-12-30_1-43-5.txt"),
            NaiveDate::from_ymd_opt(2025, 12, 30)
        );
    }

    #[test]
    fn ordered_anchors_bound_the_offset() {
        // Server handles two requests; the tab (UTC+1, 1.2 s fast) routes the responses 30 ms and
        // 900 ms later. The tab learns its connection id at 01:43:39.000; the server logs it 2 s later.
        let server = vec![
            ev(&format!("x request_id={U1}"), at("2025-12-30T01:43:40.000Z")),
            ev("GetSessions: Session 4926344781773734389 for user bob_1 associated with connection aaaaaaaa-2222-4333-8444-555555555555", at("2025-12-30T01:43:41.000Z")),
            ev(&format!("y request_id={U2}"), at("2025-12-30T01:43:50.000Z")),
        ];
        let tab = vec![
            ev("Received message: {\"ServiceConnectionAccepted\":{\"cid\":0,\"request_id\":\"aaaaaaaa-2222-4333-8444-555555555555\"}}", tod("02:43:40.200")),
            ev(&format!("Routing X by request_id {U1} -> i"), tod("02:43:41.230")),
            ev(&format!("Routing Y by request_id {U2} -> i"), tod("02:43:52.100")),
        ];
        let tl = run(vec![
            (info("svc", "citadel-tracing"), server),
            (info("tab", "chrome-devtools"), tab),
        ]);
        let off = tl.sources[1].offset.as_ref().unwrap();
        assert_eq!(off.anchors, 3, "{off:?}");
        // The tightest lower bound (the 30 ms response) wins over a median of loose pairs.
        assert!((off.seconds + 3601.23).abs() < 1e-3, "{off:?}");
        assert_eq!(off.zone_minutes, -60);
    }

    #[test]
    fn no_time_anywhere_uses_reference_order() {
        let server = vec![ev("a", None), ev(&format!("x {U1}"), None), ev("c", None)];
        let tab = vec![ev("t1", None), ev(&format!("y {U1}"), None), ev("t3", None)];
        let tl = run(vec![
            (info("svc", "citadel-tracing"), server),
            (info("tab", "plain"), tab),
        ]);
        assert_eq!(tl.axis, Axis::Order);
        let order: Vec<&str> = tl.events.iter().map(|e| e.message.as_str()).collect();
        // After its last anchor a source with no time follows that anchor directly.
        assert_eq!(
            order,
            vec!["a", "t1", &format!("x {U1}"), &format!("y {U1}"), "t3", "c"]
        );
        assert!(tl.events.iter().all(|e| e.ts.is_none()));
    }

    #[test]
    fn truncated_cids_resolve_or_are_ambiguous() {
        let evs = vec![
            ev("cid=2140228971562830034 and 4926344781773734389", None),
            ev("Session 4926344781773734389 for user bob_1", None),
            ev(
                "21402289... and 49263447... and 99999999... and 2140228971",
                None,
            ),
        ];
        let d = directory(&evs, &[("alice".into(), 2140228971562830034)]);
        assert_eq!(
            d.prefixes["21402289"],
            Resolution::Unique(2140228971562830034)
        );
        assert_eq!(d.prefixes["99999999"], Resolution::Unknown);
        assert_eq!(d.name(4926344781773734389), Some("bob_1"));
        assert_eq!(d.lookup("alice"), Some(2140228971562830034));
        assert_eq!(d.lookup("bob"), Some(4926344781773734389));
        let d2 = directory(
            &[ev(
                "cid=2140228971562830034 cid=2140228971999999999 21402289...",
                None,
            )],
            &[],
        );
        assert!(matches!(d2.prefixes["21402289"], Resolution::Ambiguous(_)));
    }

    #[test]
    fn interpolation_never_goes_back() {
        let v = interpolate(6, &[(1, 10.0), (4, 40.0)], 0.5);
        assert_eq!(v, vec![9.5, 10.0, 20.0, 30.0, 40.0, 40.5]);
        // Of two equally long agreeing runs either may be kept; the crossing anchor goes.
        let mut p = vec![(0, 5.0), (1, 1.0), (2, 6.0), (3, 7.0)];
        monotone(&mut p);
        assert_eq!(p.len(), 3);
        assert_eq!(&p[1..], &[(2, 6.0), (3, 7.0)]);
        let mut p = vec![
            (0, 1.0),
            (1, 9.0),
            (2, 2.0),
            (3, 2.0),
            (4, 3.0),
            (5, 8.0),
            (6, 4.0),
        ];
        monotone(&mut p);
        assert_eq!(p, vec![(0, 1.0), (2, 2.0), (3, 2.0), (4, 3.0), (6, 4.0)]);
    }
}
