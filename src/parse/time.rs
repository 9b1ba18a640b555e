//! Timestamps as the formats write them: RFC 3339, epochs, times of day, chrome_debug.log, strftime.

use crate::model::RawTime;
use chrono::{DateTime, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parse a time string with the format's accepted time formats.
pub fn parse_time(formats: &[String], s: &str) -> Option<RawTime> {
    let s = s.trim();
    for f in formats {
        let t = match f.as_str() {
            "rfc3339" => DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| RawTime::Instant(t.with_timezone(&Utc))),
            "epoch_ms" => s.parse::<f64>().ok().and_then(|ms| epoch(ms / 1000.0)),
            "epoch_s" => s.parse::<f64>().ok().and_then(epoch),
            "time_of_day" => NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                .ok()
                .map(RawTime::TimeOfDay),
            "chrome_debug" => chrome_debug_time(s),
            pat => {
                if pat.contains("%z") || pat.contains("%:z") {
                    DateTime::parse_from_str(s, pat)
                        .ok()
                        .map(|t| RawTime::Instant(t.with_timezone(&Utc)))
                } else {
                    NaiveDateTime::parse_from_str(s, pat)
                        .ok()
                        .map(RawTime::Local)
                }
            }
        };
        if t.is_some() {
            return t;
        }
    }
    None
}

fn epoch(secs: f64) -> Option<RawTime> {
    if !secs.is_finite() || !(0.0..1e11).contains(&secs) {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round() as u32;
    Utc.timestamp_opt(whole as i64, nanos.min(999_999_999))
        .single()
        .map(RawTime::Instant)
}

/// `MMDD/HHMMSS[.ffffff]` of chrome_debug.log: month and day, no year, local time.
fn chrome_debug_time(s: &str) -> Option<RawTime> {
    let (md, t) = s.split_once('/')?;
    if md.len() != 4 || t.len() < 6 {
        return None;
    }
    let month: u32 = md.get(..2)?.parse().ok()?;
    let day: u32 = md.get(2..)?.parse().ok()?;
    let (hms, frac) = match t.split_once('.') {
        Some((a, b)) => (a, b),
        None => (t, ""),
    };
    let h: u32 = hms.get(..2)?.parse().ok()?;
    let m: u32 = hms.get(2..4)?.parse().ok()?;
    let sec: u32 = hms.get(4..6)?.parse().ok()?;
    let nanos: u32 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        let n: u32 = digits.parse().ok()?;
        n * 10u32.pow(9 - digits.len() as u32)
    };
    let time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(RawTime::MonthDay(
        u8::try_from(month).ok()?,
        u8::try_from(day).ok()?,
        time,
    ))
}
