//! Each source's raw times as pass 1 gathers them: all that placement needs of its events.
//!
//! Placement reads them once, in source order, so they are kept packed: each time as the varint
//! difference from the last time before it (lines of one log are microseconds to milliseconds apart:
//! two to four bytes where an `i64` took eight; 31 MB of a 1 GB run's pass 1 held them). A source whose timed
//! events all carry a full instant, or all a time of day, is packed so; the first event that does
//! not fit turns its list into raw times (rare: a log that mixes kinds of time).

use crate::model::RawTime;
use crate::varint::{put, take, unzigzag, zigzag};
use chrono::{DateTime, NaiveTime, Timelike, Utc};

/// One source's raw times.
#[derive(Debug)]
pub enum Times {
    /// Full instants, as nanoseconds since the epoch.
    Ns(Steps),
    /// Times of day, as [`day`] numbers.
    Day(Steps),
    /// Anything else.
    Raw(Vec<Option<RawTime>>),
}

impl Default for Times {
    fn default() -> Times {
        Times::Ns(Steps::default())
    }
}

/// A list of numbers, some missing, packed as varint differences from the last number before.
#[derive(Debug, Default, Clone)]
pub struct Steps {
    bytes: Vec<u8>,
    len: usize,
    /// Numbers present.
    timed: usize,
    /// The last number pushed (the base of the next difference).
    last: i64,
}

/// A missing number.
const NONE: u64 = 0;
/// A number whose difference does not fit the step form: its eight bytes follow.
const FULL: u64 = 1;
/// Added to a difference's zigzag form (0 and 1 are the codes above).
const STEP: u64 = 2;

impl Steps {
    fn push(&mut self, v: Option<i64>) {
        self.len += 1;
        let Some(v) = v else {
            return put(&mut self.bytes, NONE);
        };
        self.timed += 1;
        let z = zigzag(v.wrapping_sub(self.last));
        match z.checked_add(STEP) {
            Some(code) => put(&mut self.bytes, code),
            None => {
                put(&mut self.bytes, FULL);
                self.bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.last = v;
    }

    /// Every number, in order (`None` for a missing one; also, past a damaged list, for the rest).
    fn iter(&self) -> impl ExactSizeIterator<Item = Option<i64>> + '_ {
        let (mut at, mut last) = (0usize, 0i64);
        (0..self.len).map(move |_| {
            let v = match take(&self.bytes, &mut at)? {
                NONE => return None,
                FULL => {
                    let b = self.bytes.get(at..at + 8)?;
                    at += 8;
                    i64::from_le_bytes(b.try_into().ok()?)
                }
                code => last.wrapping_add(unzigzag(code - STEP)),
            };
            last = v;
            Some(v)
        })
    }
}

/// A time of day as one number that orders as the times do: seconds since midnight times two
/// billion, plus nanoseconds (up to two billion, for a leap second).
fn day(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * 2_000_000_000 + i64::from(t.nanosecond())
}

fn from_day(v: i64) -> Option<RawTime> {
    let secs = u32::try_from(v.div_euclid(2_000_000_000)).ok()?;
    let nanos = u32::try_from(v.rem_euclid(2_000_000_000)).ok()?;
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos).map(RawTime::TimeOfDay)
}

/// An instant as nanoseconds, when it fits and comes back the same.
fn ns(x: DateTime<Utc>) -> Option<i64> {
    x.timestamp_nanos_opt()
        .filter(|&n| DateTime::from_timestamp_nanos(n) == x)
}

impl Times {
    /// Add the next event's time.
    pub fn push(&mut self, t: Option<RawTime>) {
        match (&mut *self, t) {
            (Times::Ns(s) | Times::Day(s), None) => return s.push(None),
            (Times::Raw(v), t) => return v.push(t),
            (Times::Ns(s), Some(RawTime::Instant(x))) => {
                if let Some(n) = ns(x) {
                    return s.push(Some(n));
                }
            }
            (Times::Day(s), Some(RawTime::TimeOfDay(x))) => return s.push(Some(day(x))),
            (Times::Ns(s), Some(RawTime::TimeOfDay(x))) if s.timed == 0 => {
                let mut d = Steps::default();
                for _ in 0..s.len {
                    d.push(None);
                }
                d.push(Some(day(x)));
                *self = Times::Day(d);
                return;
            }
            _ => {}
        }
        let mut raw: Vec<Option<RawTime>> = self.iter().collect();
        raw.push(t);
        *self = Times::Raw(raw);
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        match self {
            Times::Ns(s) | Times::Day(s) => s.len,
            Times::Raw(v) => v.len(),
        }
    }

    /// Every event's time, in order.
    pub fn iter(&self) -> Box<dyn ExactSizeIterator<Item = Option<RawTime>> + '_> {
        match self {
            Times::Ns(s) => Box::new(
                s.iter()
                    .map(|n| n.map(|n| RawTime::Instant(DateTime::from_timestamp_nanos(n)))),
            ),
            Times::Day(s) => Box::new(s.iter().map(|v| v.and_then(from_day))),
            Times::Raw(v) => Box::new(v.iter().copied()),
        }
    }

    /// Whether each event carries a full instant, in order (known without decoding the times).
    pub fn exact(&self) -> Box<dyn ExactSizeIterator<Item = bool> + '_> {
        match self {
            Times::Ns(s) => Box::new(s.iter().map(|n| n.is_some())),
            Times::Day(s) => Box::new((0..s.len).map(|_| false)),
            Times::Raw(v) => Box::new(v.iter().map(|t| matches!(t, Some(RawTime::Instant(_))))),
        }
    }

    /// Give back the room that growing left unused.
    pub fn shrink_to_fit(&mut self) {
        match self {
            Times::Ns(s) | Times::Day(s) => s.bytes.shrink_to_fit(),
            Times::Raw(v) => v.shrink_to_fit(),
        }
    }

    /// Bytes the packed list takes (for the tests).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        match self {
            Times::Ns(s) | Times::Day(s) => s.bytes.len(),
            Times::Raw(v) => v.len() * std::mem::size_of::<Option<RawTime>>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    fn at(y: i32, s: u32) -> RawTime {
        RawTime::Instant(Utc.with_ymd_and_hms(y, 1, 2, 3, 4, s).unwrap())
    }

    fn day_of(s: u32, n: u32) -> RawTime {
        RawTime::TimeOfDay(NaiveTime::from_num_seconds_from_midnight_opt(s, n).unwrap())
    }

    fn kind(t: &Times) -> &'static str {
        match t {
            Times::Ns(_) => "ns",
            Times::Day(_) => "day",
            Times::Raw(_) => "raw",
        }
    }

    fn check(given: &[Option<RawTime>]) -> Times {
        let mut t = Times::default();
        for x in given {
            t.push(*x);
        }
        assert_eq!(t.len(), given.len());
        let got: Vec<Option<RawTime>> = t.iter().collect();
        assert_eq!(got, given);
        let exact: Vec<bool> = t.exact().collect();
        let want: Vec<bool> = given
            .iter()
            .map(|r| matches!(r, Some(RawTime::Instant(_))))
            .collect();
        assert_eq!(exact, want, "{given:?}");
        t
    }

    /// The packed lists give back every time they were given, in every mix of kinds, and stay
    /// packed only while every timed event is of one kind that fits.
    #[test]
    fn packed_times_give_back_what_they_were_given() {
        let local = RawTime::Local(
            NaiveDate::from_ymd_opt(2025, 3, 4)
                .unwrap()
                .and_hms_opt(5, 6, 7)
                .unwrap(),
        );
        let month_day = RawTime::MonthDay(12, 31, NaiveTime::from_hms_opt(23, 59, 59).unwrap());
        let cases: Vec<(Vec<Option<RawTime>>, &str)> = vec![
            (vec![], "ns"),
            (
                vec![
                    None,
                    Some(at(2025, 1)),
                    None,
                    Some(at(1970, 0)),
                    Some(at(1969, 59)),
                    // The two ends of what nanoseconds hold: a difference past 64 bits.
                    Some(RawTime::Instant(DateTime::from_timestamp_nanos(i64::MIN))),
                    Some(RawTime::Instant(DateTime::from_timestamp_nanos(i64::MAX))),
                    Some(RawTime::Instant(DateTime::from_timestamp_nanos(i64::MIN))),
                ],
                "ns",
            ),
            (
                vec![
                    None,
                    None,
                    Some(day_of(0, 0)),
                    None,
                    Some(day_of(86_399, 1_999_999_999)),
                    Some(day_of(3, 5)),
                ],
                "day",
            ),
            (vec![Some(at(2025, 1)), Some(day_of(5, 0))], "raw"),
            (vec![Some(day_of(5, 0)), Some(at(2025, 1)), None], "raw"),
            (vec![None, Some(local), Some(at(2025, 1))], "raw"),
            (vec![Some(month_day), None], "raw"),
            // Beyond what 64-bit nanoseconds hold.
            (
                vec![Some(at(2025, 1)), Some(at(9999, 1)), Some(at(1000, 1))],
                "raw",
            ),
        ];
        for (given, want) in cases {
            let t = check(&given);
            assert_eq!(kind(&t), want, "{given:?}");
        }
    }

    /// A service log's times, a millisecond or so apart in nanoseconds, take four bytes each, not eight
    /// (the first, from zero, takes ten).
    #[test]
    fn close_times_take_a_few_bytes() {
        let start = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
        let given: Vec<Option<RawTime>> = (0..10_000i64)
            .map(|i| {
                Some(RawTime::Instant(
                    start + chrono::Duration::microseconds(i * 1_337),
                ))
            })
            .collect();
        let t = check(&given);
        assert!(t.bytes() <= 4 * given.len() + 16, "{} bytes", t.bytes());
    }

    proptest! {
        #[test]
        fn any_instants_and_gaps_come_back(xs in proptest::collection::vec(proptest::option::of(any::<i64>()), 0..64)) {
            let given: Vec<Option<RawTime>> = xs
                .iter()
                .map(|x| x.map(|n| RawTime::Instant(DateTime::from_timestamp_nanos(n))))
                .collect();
            let t = check(&given);
            prop_assert_eq!(kind(&t), "ns");
        }

        #[test]
        fn any_times_of_day_come_back(xs in proptest::collection::vec(proptest::option::of((0u32..86_400, 0u32..2_000_000_000)), 0..64)) {
            let given: Vec<Option<RawTime>> = xs
                .iter()
                .map(|x| x.and_then(|(s, n)| NaiveTime::from_num_seconds_from_midnight_opt(s, n)).map(RawTime::TimeOfDay))
                .collect();
            let t = check(&given);
            let timed = given.iter().any(Option::is_some);
            prop_assert_eq!(kind(&t), if timed { "day" } else { "ns" });
        }
    }
}
