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
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

pub mod append;
pub mod cids;
pub mod dates;
pub mod merge;
pub mod offset;
pub mod pairs;
pub mod placement;

use crate::defs::AnchorDef;
use crate::entities::Extractors;
use crate::model::{AnchorLink, Axis, Event, Role, SourceInfo, Timeline};
use chrono::{FixedOffset, NaiveDate};
use placement::ReferenceRank;

/// Options that settle what the logs leave open.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Date for time-of-day sources.
    pub date: Option<NaiveDate>,
    /// Zone of local times (DevTools, Firefox, chrome_debug.log).
    pub tz: Option<FixedOffset>,
    /// Names given on the command line.
    pub aliases: Vec<(String, u64)>,
    /// Most events kept per stream while reading (`0`: [`crate::parse::MAX_EVENTS`]).
    pub max_events: usize,
    /// Read only the first this many bytes of each input (`0`: all of it): the TUI's preview of a big
    /// input, shown while the whole is read.
    pub head_bytes: u64,
}

/// Build the timeline from parsed sources.
pub fn correlate(
    sources: Vec<(SourceInfo, Vec<Event>)>,
    defs: &[AnchorDef],
    extract: &Extractors,
    opts: &Options,
) -> Timeline {
    let (mut infos, mut per_source): (Vec<SourceInfo>, Vec<Vec<Event>>) =
        sources.into_iter().unzip();
    for (s, evs) in per_source.iter_mut().enumerate() {
        for e in evs.iter_mut() {
            e.source = s;
        }
    }
    let dating = dates::settle(dates::earliest(per_source.iter().flatten()), &infos, opts);
    let raw: Vec<dates::Instants> = per_source
        .iter()
        .map(|evs| {
            dates::source_instants(evs.iter().map(|e| e.raw_ts), dating.work_date, dating.tz)
        })
        .collect();
    let pairs = pairs::find_pairs(&per_source, defs);
    let (axis, placed) = place_all(&per_source, raw, &pairs, &mut infos);
    let merged = merge::merge(per_source, placed, axis, dating.dated);
    let new_index = merged.new_index;
    for (s, info) in infos.iter_mut().enumerate() {
        info.events = new_index[s].len();
    }
    let names = pairs::link_names(defs);
    let anchors = pairs
        .iter()
        .filter_map(|p| {
            let (a, b) = (p.first(), p.second());
            Some(AnchorLink {
                name: names.get(usize::from(p.def))?.clone(),
                a: new_index[a.source][a.index],
                b: new_index[b.source][b.index],
            })
        })
        .collect();
    let events = merged.events;
    let mut cids = cids::directory(&events, &opts.aliases);
    cids.shape = extract.cid_shape.clone();
    cids::set_owners(&mut infos, &events, &cids, extract);
    Timeline {
        sources: infos,
        events,
        cids,
        anchors,
        axis,
        dated: dating.dated,
        unread: Vec::new(),
        sparse: None,
    }
}

/// The axis, the reference source and every source's placement, from the events' times (`raw`, as
/// instants) and the anchor pairs; `infos` say how each source was placed.
pub fn place_all<T: placement::Timed>(
    per_source: &[T],
    raw: Vec<dates::Instants>,
    pairs: &[pairs::Pair],
    infos: &mut [SourceInfo],
) -> (Axis, placement::Placement) {
    let ranks: Vec<ReferenceRank> = (0..per_source.len())
        .map(|s| ReferenceRank {
            exact: (0..per_source[s].count())
                .filter(|&i| per_source[s].exact(i))
                .count(),
            timed: raw[s].timed(),
            anchors: pairs.iter().filter(|p| p.touches(s)).count(),
            service: infos[s].role == Role::Service,
            events: per_source[s].count(),
        })
        .collect();
    let axis = if ranks.iter().any(|r| r.timed > 0) {
        Axis::Time
    } else {
        Axis::Order
    };
    let reference = placement::reference(&ranks);
    let placed = placement::place(per_source, raw, pairs, axis, reference, infos);
    (axis, placed)
}

#[cfg(test)]
mod tests {
    use super::cids::directory;
    use super::placement::{interpolate, monotone};
    use super::*;
    use crate::model::{Detection, ParseStats, RawTime, ReadStats, Resolution, TsQuality};
    use chrono::{DateTime, Utc};

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
            role: crate::defs::Registry::load(None)
                .unwrap()
                .format(format)
                .map_or(Role::Other, |f| f.role),
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
        // Around its anchor a source with no time keeps its own pace (one reference line per event),
        // instead of piling up right after the anchor.
        let at = |m: &str| order.iter().position(|x| *x == m).unwrap();
        assert!(
            at("t1") < at(&format!("x {U1}")) && at(&format!("x {U1}")) < at(&format!("y {U1}"))
        );
        let pos = |m: &str| tl.events.iter().find(|e| e.message == m).unwrap().pos;
        assert!((pos("t3") - pos(&format!("y {U1}")) - 1.0).abs() < 1e-6);
        assert!((pos("t3") - pos("c")).abs() < 0.01, "t3 runs alongside c");
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

    /// Interpolating straight from a source's instants gives what interpolating its list of points
    /// gives, for every pattern of timed and untimed events up to 10 long (and a few offsets).
    #[test]
    fn interpolation_from_instants_equals_interpolation_from_points() {
        use super::dates::Instants;
        use super::placement::interpolate_timed;
        for len in 0..=10usize {
            for mask in 0..(1u32 << len) {
                // Times that mostly rise, sometimes fall back (a clock stepping back).
                let raw: Instants = (0..len)
                    .map(|i| (mask & (1 << i) != 0).then(|| (i * 7 % 5) as f64 * 3.0 + i as f64))
                    .collect();
                for offset in [0.0, -2.5, 1e9] {
                    let pts: Vec<(usize, f64)> = raw
                        .iter()
                        .enumerate()
                        .filter_map(|(i, v)| v.map(|x| (i, x + offset)))
                        .collect();
                    let want = interpolate(len, &pts, 0.5);
                    let got = interpolate_timed(len, &raw, offset, 0.5);
                    assert_eq!(got, want, "len {len} mask {mask:b} offset {offset}");
                }
            }
        }
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
