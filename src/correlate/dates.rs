//! Dates and instants: every raw time of a source as nanoseconds since the epoch, once the date of
//! time-of-day sources is settled (`--date`, the earliest full instant anywhere, a file name's date).

use super::Options;
use crate::model::{Event, RawTime, SourceInfo};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Nanoseconds per second: positions on a time axis are nanoseconds since the epoch.
pub const NS: f64 = 1e9;

/// What the sources and options settle about dates and zones.
#[derive(Debug, Clone, Copy)]
pub struct Dating {
    /// Zone of local times.
    pub tz: FixedOffset,
    /// Whether timestamps carry a real date (false when only times of day were known).
    pub dated: bool,
    /// Day on which times of day are laid (an arbitrary one when nothing gives a date).
    pub work_date: Option<NaiveDate>,
}

/// Settle the date for time-of-day sources: `--date`, else the earliest full instant anywhere, else a
/// file name's date.
/// `earliest_instant` is the earliest full instant of any event ([`earliest`]).
pub fn settle(
    earliest_instant: Option<DateTime<Utc>>,
    infos: &[SourceInfo],
    opts: &Options,
) -> Dating {
    let tz = opts.tz.unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc));
    // Last resort: the date in a file's name (the save moment comes after the lines, so near midnight
    // it can be a day late; an anchored source's offset estimate folds that back).
    let base_date = opts
        .date
        .or_else(|| earliest_instant.map(|t| t.with_timezone(&tz).date_naive()))
        .or_else(|| infos.iter().find_map(|i| i.file_date));
    // Without any date, times of day still order events: lay them on an arbitrary day.
    Dating {
        tz,
        dated: base_date.is_some(),
        work_date: base_date.or_else(|| NaiveDate::from_ymd_opt(2000, 1, 1)),
    }
}

/// The earliest full instant any event carries.
pub fn earliest<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<DateTime<Utc>> {
    events
        .into_iter()
        .filter_map(|e| match e.raw_ts {
            Some(RawTime::Instant(t)) => Some(t),
            _ => None,
        })
        .min()
}

pub(super) fn instant_ns(t: &DateTime<Utc>) -> f64 {
    t.timestamp() as f64 * NS + t.timestamp_subsec_nanos() as f64
}

pub(super) fn ns_to_dt(ns: f64) -> Option<DateTime<Utc>> {
    if !ns.is_finite() {
        return None;
    }
    let secs = (ns / NS).floor();
    let nanos = (ns - secs * NS).clamp(0.0, 999_999_999.0) as u32;
    Utc.timestamp_opt(secs as i64, nanos).single()
}

/// A source's event times as nanoseconds since the epoch, `NaN` where an event has none: 8 bytes per
/// event where `Option<f64>` takes 16, and every event of every source has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Instants(Vec<f64>);

impl Instants {
    /// The time of event `i`, when it has one.
    pub fn get(&self, i: usize) -> Option<f64> {
        self.0.get(i).copied().filter(|x| !x.is_nan())
    }
    /// Number of events.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are no events.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Every event's time, in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.0.iter().map(|x| (!x.is_nan()).then_some(*x))
    }
    /// The positions of a source placed by these instants (plus `offset`), untimed events between
    /// timed ones interpolated, in this list's own room ([`super::placement::interpolate_timed`]).
    pub fn into_positions(self, len: usize, offset: f64, eps: f64) -> Vec<f64> {
        let mut v = self.0;
        super::placement::interpolate_in_place(&mut v, len, offset, eps);
        v
    }
    /// Events with a time.
    pub fn timed(&self) -> usize {
        self.0.iter().filter(|x| !x.is_nan()).count()
    }
}

impl FromIterator<Option<f64>> for Instants {
    fn from_iter<I: IntoIterator<Item = Option<f64>>>(it: I) -> Self {
        Instants(it.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}

/// Raw times of one source as instants, where the date can be settled.
pub fn source_instants(
    raw_times: impl ExactSizeIterator<Item = Option<RawTime>>,
    base_date: Option<NaiveDate>,
    tz: FixedOffset,
) -> Instants {
    let mut out = Vec::with_capacity(raw_times.len());
    let mut day_shift = 0i64;
    let mut last_local: Option<NaiveDateTime> = None;
    let local_to_ns = |ndt: NaiveDateTime| -> Option<f64> {
        tz.from_local_datetime(&ndt)
            .single()
            .map(|t| instant_ns(&t.with_timezone(&Utc)))
    };
    for raw in raw_times {
        let v = match raw {
            Some(RawTime::Instant(t)) => Some(instant_ns(&t)),
            Some(RawTime::Local(ndt)) => local_to_ns(ndt),
            Some(RawTime::MonthDay(m, d, t)) => base_date
                .and_then(|b| {
                    NaiveDate::from_ymd_opt(chrono::Datelike::year(&b), u32::from(m), u32::from(d))
                })
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
        // A real instant is finite: NaN only ever means "no time".
        out.push(v.filter(|x| x.is_finite()).unwrap_or(f64::NAN));
    }
    Instants(out)
}
