//! Clock offset of a timed source, estimated from its anchors, as a pure function.
//!
//! Anchors that record the same moment give estimates; ordered ones give bounds (a response routed in
//! the tab comes after the server handled the request: offset >= server - tab). The estimate is the
//! median of the same-moment pairs, or the tightest bound, kept within the bounds when they agree with
//! each other; bounds that contradict each other fall back to the median of everything. A date taken
//! from another source can be a day off near midnight, so the result is folded into ±12 h. What is left
//! is split into a time-zone part (whole quarter hours, from 10 minutes on) and skew.
// Indexing cannot panic here: indices are positions in the source and event vectors this module built, never read from input.
#![allow(clippy::indexing_slicing)]

use super::dates::NS;
use super::pairs::Side;

/// One anchor as the source being placed sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The partner's position minus this source's own time of the event, nanoseconds.
    pub diff_ns: f64,
    /// Where this source's event stands against its partner.
    pub side: Side,
}

/// The estimated offset of one source's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Nanoseconds to add to the source's times.
    pub offset_ns: f64,
    /// The same in seconds.
    pub seconds: f64,
    /// Time-zone part, minutes (whole quarter hours; 0 under 10 minutes).
    pub zone_minutes: i64,
    /// The rest: clock skew and latency, seconds.
    pub skew_seconds: f64,
    /// Anchors the estimate rests on.
    pub anchors: usize,
    /// Spread (max - min) of the anchors' differences, seconds.
    pub spread_seconds: f64,
}

/// Median of a slice (sorted in place); 0 when empty.
pub fn median(v: &mut [f64]) -> f64 {
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

/// Estimate a clock offset from anchor observations. With none, the offset is 0 from 0 anchors.
pub fn estimate(observations: &[Observation]) -> Estimate {
    let (mut same, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
    for o in observations {
        match o.side {
            // This event comes after its partner: own + offset >= partner.
            Side::After => lower.push(o.diff_ns),
            Side::Before => upper.push(o.diff_ns),
            Side::Same => same.push(o.diff_ns),
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
    off = fold_day(off);
    let secs = off / NS;
    let (zone_minutes, skew_seconds) = split_zone(secs);
    Estimate {
        offset_ns: off,
        seconds: secs,
        zone_minutes,
        skew_seconds,
        anchors: used,
        spread_seconds: spread,
    }
}

/// Fold an offset (ns) into ±12 h: a date taken from another source can be a day off near midnight.
pub fn fold_day(mut off: f64) -> f64 {
    while off > 12.0 * 3600.0 * NS {
        off -= 86400.0 * NS;
    }
    while off < -12.0 * 3600.0 * NS {
        off += 86400.0 * NS;
    }
    off
}

/// Split an offset in seconds into a zone (minutes, whole quarter hours, only from 10 minutes on) and
/// the skew that remains (seconds).
pub fn split_zone(secs: f64) -> (i64, f64) {
    let zone_minutes = if secs.abs() >= 600.0 {
        ((secs / 900.0).round() as i64) * 15
    } else {
        0
    };
    (zone_minutes, secs - zone_minutes as f64 * 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(secs: f64, side: Side) -> Observation {
        Observation {
            diff_ns: secs * NS,
            side,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn same_moment_pairs_give_their_median() {
        let e = estimate(&[
            obs(-3601.0, Side::Same),
            obs(-3601.4, Side::Same),
            obs(-3601.2, Side::Same),
        ]);
        assert!(close(e.seconds, -3601.2), "{e:?}");
        assert_eq!(e.anchors, 3);
        assert!(close(e.spread_seconds, 0.4), "{e:?}");
        // An even count takes the mean of the middle two.
        let e = estimate(&[obs(1.0, Side::Same), obs(2.0, Side::Same)]);
        assert!(close(e.seconds, 1.5), "{e:?}");
    }

    #[test]
    fn bounds_only_take_the_tightest() {
        // Responses routed 30 ms and 900 ms after the server handled them: lower bounds.
        let e = estimate(&[obs(-3601.23, Side::After), obs(-3602.1, Side::After)]);
        assert!(close(e.seconds, -3601.23), "{e:?}");
        // Only upper bounds: the smallest.
        let e = estimate(&[obs(5.0, Side::Before), obs(3.0, Side::Before)]);
        assert!(close(e.seconds, 3.0), "{e:?}");
        // A median outside agreeing bounds is pulled inside them.
        let e = estimate(&[
            obs(1.0, Side::Same),
            obs(2.0, Side::After),
            obs(4.0, Side::Before),
        ]);
        assert!(close(e.seconds, 2.0), "{e:?}");
        assert_eq!(e.anchors, 3);
    }

    #[test]
    fn conflicting_anchors_fall_back_to_the_median_of_all() {
        // Lower bound 10 s above the upper bound of 0 s: some anchor is wrong.
        let e = estimate(&[
            obs(10.0, Side::After),
            obs(0.0, Side::Before),
            obs(3.0, Side::Same),
        ]);
        assert!(close(e.seconds, 3.0), "{e:?}");
        assert!(close(e.spread_seconds, 10.0), "{e:?}");
    }

    #[test]
    fn a_day_wrap_is_folded_back() {
        // A tab dated from a file saved after midnight: a day late plus one hour of zone.
        let e = estimate(&[obs(-86400.0 - 3601.2, Side::Same)]);
        assert!(close(e.seconds, -3601.2), "{e:?}");
        let e = estimate(&[obs(86400.0 - 5.0, Side::Same)]);
        assert!(close(e.seconds, -5.0), "{e:?}");
        assert!(close(fold_day(12.0 * 3600.0 * NS), 12.0 * 3600.0 * NS));
    }

    #[test]
    fn zone_and_skew_are_split() {
        let e = estimate(&[obs(-3601.2, Side::Same)]);
        assert_eq!(e.zone_minutes, -60);
        assert!(close(e.skew_seconds, -1.2), "{e:?}");
        // India: +05:30 and 2 s slow.
        assert_eq!(split_zone(19802.0).0, 330);
        assert!(close(split_zone(19802.0).1, 2.0));
        // Under 10 minutes it is all skew.
        assert_eq!(split_zone(599.0), (0, 599.0));
    }

    #[test]
    fn too_few_anchors_leave_the_clock_alone() {
        let e = estimate(&[]);
        assert_eq!(e.anchors, 0);
        assert_eq!(e.seconds, 0.0);
        assert_eq!(e.spread_seconds, 0.0);
        assert_eq!(e.zone_minutes, 0);
        // One anchor is an estimate with no spread.
        let e = estimate(&[obs(2.5, Side::Same)]);
        assert_eq!((e.anchors, e.spread_seconds), (1, 0.0));
        assert!(close(e.seconds, 2.5));
    }
}
