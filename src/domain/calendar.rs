//! Calendar days in the organisation's time zone, and the metrics window
//! (spec section 2).

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Seconds in the reply-latency horizon (spec section 4).
pub const DAY_SECONDS: i64 = 86_400;

/// The instant a wall-clock time in `tz` means: the one rule for local times
/// everywhere (imported timestamps, interviewers' hours, one-off windows,
/// the demo, and the calendar files we write), the rule of iCalendar
/// (RFC 5545, 3.3.5), so that our calendar files and the clients reading
/// them agree:
/// - a time that occurs twice (clocks turned back) is the earlier instant;
/// - a time that does not occur (clocks turned forward) moves forward by the
///   gap: it is read with the offset in force just before the jump, so 02:30
///   on New York's spring-forward day is 07:30Z, which the clock shows as
///   03:30 EDT. Distinct local times stay distinct instants, in order.
///
/// (A day's start, [`day_start`], is a different question: the first instant
/// of the date, which is the jump itself when midnight is skipped.)
///
/// `None` only at the ends of chrono's range.
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    let jump = gap_end(tz, local)?;
    let before = DateTime::from_timestamp(jump - 1, 0)?.with_timezone(&tz).offset().fix().local_minus_utc();
    DateTime::from_timestamp(local.and_utc().timestamp().checked_sub(i64::from(before))?, 0)
}

/// The instant a gap containing `local` ends: the first second whose wall
/// clock reads `local` or later. Offsets stay within ±27 h, which bounds the
/// search.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Option<i64> {
    let target = local.and_utc().timestamp();
    let reaches = |ts: i64| DateTime::from_timestamp(ts, 0).and_then(|t| local_of(tz, t)).is_some_and(|l| l >= local);
    let (mut lo, mut hi) = (target.checked_sub(27 * 3600)?, target.checked_add(27 * 3600)?);
    if !reaches(hi) {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if reaches(mid) { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

/// Wall-clock time of an instant in `tz`; `None` at the very ends of
/// chrono's range, where `DateTime::naive_local` would panic.
pub fn local_of(tz: Tz, t: DateTime<Utc>) -> Option<NaiveDateTime> {
    t.naive_utc().checked_add_offset(t.with_timezone(&tz).offset().fix())
}

/// The Unix instant at which a local calendar day starts: its first instant
/// (where midnight does not exist, a daylight-saving jump at 00:00, the
/// moment the clock jumps to).
pub fn day_start(tz: Tz, day: NaiveDate) -> i64 {
    let midnight = NaiveDateTime::new(day, NaiveTime::MIN);
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp())
        .or_else(|| gap_end(tz, midnight))
        // Unreachable for real zones; fall back to reading midnight as UTC.
        .unwrap_or_else(|| midnight.and_utc().timestamp())
}

/// The local calendar day of an instant.
pub fn local_day(tz: Tz, ts: i64) -> NaiveDate {
    match chrono::DateTime::from_timestamp(ts, 0) {
        Some(utc) => utc.with_timezone(&tz).date_naive(),
        None => NaiveDate::MIN,
    }
}

/// The range of as-of dates the model accepts.
pub const EARLIEST_AS_OF: NaiveDate = NaiveDate::from_ymd_opt(1971, 1, 1).expect("a valid date");
pub const LATEST_AS_OF: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).expect("a valid date");

/// `W` days ending with the as-of date `D`, in a time zone.
#[derive(Clone, Debug)]
pub struct Window {
    pub as_of: NaiveDate,
    pub days: u32,
    pub tz: Tz,
    /// `days + 1` instants: the start of each day, then the end of the window.
    bounds: Vec<i64>,
}

impl Window {
    /// `days` is clamped to 1..=366 and `as_of` to 1971..2199, so that no
    /// date arithmetic can overflow whatever a request asks for.
    pub fn new(as_of: NaiveDate, days: u32, tz: Tz) -> Window {
        let days = days.clamp(1, 366);
        let as_of = as_of.clamp(EARLIEST_AS_OF, LATEST_AS_OF);
        let first = as_of - Days::new(u64::from(days - 1));
        let bounds = (0..=days).map(|i| day_start(tz, first + Days::new(u64::from(i)))).collect();
        Window { as_of, days, tz, bounds }
    }

    pub fn first_day(&self) -> NaiveDate {
        self.as_of - Days::new(u64::from(self.days - 1))
    }

    /// First instant inside the window.
    pub fn start(&self) -> i64 {
        self.bounds[0]
    }

    /// First instant after the window.
    pub fn end(&self) -> i64 {
        self.bounds[self.bounds.len() - 1]
    }

    pub fn contains(&self, ts: i64) -> bool {
        ts >= self.start() && ts < self.end()
    }

    /// The index (0-based from the first day) of the day holding `ts`, if it
    /// lies in the window.
    pub fn day_index(&self, ts: i64) -> Option<usize> {
        if !self.contains(ts) {
            return None;
        }
        // Index of the last bound <= ts.
        Some(self.bounds.partition_point(|&b| b <= ts) - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// `local_instant` of a local time, as UTC `YYYY-MM-DDTHH:MM`.
    fn instant(tz: Tz, local: &str) -> String {
        let local = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        local_instant(tz, local).unwrap().format("%Y-%m-%dT%H:%M").to_string()
    }

    #[test]
    fn skipped_times_take_the_offset_before_the_jump_and_repeated_ones_the_earlier_instant() {
        use chrono_tz::{America::New_York, Australia::Sydney, Europe::Berlin, Europe::London};
        // New York 2026: 02:00 EST -> 03:00 EDT on 8 March, 02:00 EDT -> 01:00 EST on 1 November.
        assert_eq!(instant(New_York, "2026-03-08 01:59"), "2026-03-08T06:59");
        assert_eq!(instant(New_York, "2026-03-08 02:30"), "2026-03-08T07:30");
        assert_eq!(instant(New_York, "2026-03-08 03:00"), "2026-03-08T07:00");
        assert_eq!(instant(New_York, "2026-11-01 01:30"), "2026-11-01T05:30");
        assert_eq!(instant(New_York, "2026-11-01 02:00"), "2026-11-01T07:00");
        // London 2026: 01:00 GMT -> 02:00 BST on 29 March, 02:00 BST -> 01:00 GMT on 25 October.
        assert_eq!(instant(London, "2026-03-29 01:30"), "2026-03-29T01:30");
        assert_eq!(instant(London, "2026-03-29 02:00"), "2026-03-29T01:00");
        assert_eq!(instant(London, "2026-10-25 01:30"), "2026-10-25T00:30");
        // Sydney 2026: 03:00 AEDT -> 02:00 AEST on 5 April, 02:00 AEST -> 03:00 AEDT on 4 October.
        assert_eq!(instant(Sydney, "2026-04-05 02:30"), "2026-04-04T15:30");
        assert_eq!(instant(Sydney, "2026-10-04 02:30"), "2026-10-03T16:30");
        assert_eq!(instant(Sydney, "2026-10-04 03:00"), "2026-10-03T16:00");
        // Berlin 2026: 02:00 CET -> 03:00 CEST on 29 March, 03:00 CEST -> 02:00 CET on 25 October.
        assert_eq!(instant(Berlin, "2026-03-29 01:59"), "2026-03-29T00:59");
        assert_eq!(instant(Berlin, "2026-03-29 02:00"), "2026-03-29T01:00");
        assert_eq!(instant(Berlin, "2026-03-29 02:30"), "2026-03-29T01:30");
        assert_eq!(instant(Berlin, "2026-03-29 03:00"), "2026-03-29T01:00");
        assert_eq!(instant(Berlin, "2026-10-25 01:59"), "2026-10-24T23:59");
        assert_eq!(instant(Berlin, "2026-10-25 02:30"), "2026-10-25T00:30");
        assert_eq!(instant(Berlin, "2026-10-25 03:00"), "2026-10-25T02:00");
        // New York's repeated hour: the earlier instant, EDT; its end is EST.
        assert_eq!(instant(New_York, "2026-11-01 01:00"), "2026-11-01T05:00");
        assert_eq!(instant(New_York, "2026-11-01 01:59"), "2026-11-01T05:59");
        // A skipped time moves forward by the gap: it is the instant its wall
        // clock reads an hour later, and that later time means the same instant.
        let naive = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        for (tz, skipped, later) in
            [(New_York, "2026-03-08 02:15", "2026-03-08 03:15"), (Berlin, "2026-03-29 02:15", "2026-03-29 03:15")]
        {
            let moved = local_instant(tz, naive(skipped)).unwrap();
            assert_eq!(local_of(tz, moved), Some(naive(later)), "{skipped}");
            assert_eq!(Some(moved), local_instant(tz, naive(later)), "{skipped}");
        }
        // Distinct skipped times stay distinct and in order.
        assert!(instant(New_York, "2026-03-08 02:10") < instant(New_York, "2026-03-08 02:40"));
    }

    #[test]
    fn a_day_starts_at_its_first_instant() {
        // A day's start is its first instant, also where midnight is skipped
        // (Santiago moves from 00:00 to 01:00 on 6 September 2026).
        let santiago = chrono_tz::America::Santiago;
        let start = day_start(santiago, date("2026-09-06"));
        assert_eq!(local_day(santiago, start), date("2026-09-06"));
        assert_eq!(local_day(santiago, start - 1), date("2026-09-05"));
    }

    #[test]
    fn absurd_dates_are_clamped_not_a_panic() {
        let far = NaiveDate::MAX;
        let w = Window::new(far, 28, chrono_tz::UTC);
        assert_eq!(w.as_of, LATEST_AS_OF);
        let w = Window::new(NaiveDate::MIN, u32::MAX, chrono_tz::UTC);
        assert_eq!((w.as_of, w.days), (EARLIEST_AS_OF, 366));
    }

    #[test]
    fn window_spans_whole_local_days() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let w = Window::new(date("2026-05-29"), 28, tz);
        assert_eq!(w.first_day(), date("2026-05-02"));
        // 2026-05-02T00:00+08:00 == 2026-05-01T16:00Z
        assert_eq!(w.start(), 1_777_651_200);
        assert_eq!(w.end() - w.start(), 28 * DAY_SECONDS);
        assert_eq!(w.day_index(w.start()), Some(0));
        assert_eq!(w.day_index(w.start() - 1), None);
        assert_eq!(w.day_index(w.end() - 1), Some(27));
        assert_eq!(w.day_index(w.end()), None);
    }

    #[test]
    fn days_follow_daylight_saving_changes() {
        // New York springs forward on 2026-03-08: that day has 23 hours.
        let tz: Tz = "America/New_York".parse().unwrap();
        let w = Window::new(date("2026-03-09"), 3, tz);
        let d7 = day_start(tz, date("2026-03-07"));
        let d8 = day_start(tz, date("2026-03-08"));
        let d9 = day_start(tz, date("2026-03-09"));
        assert_eq!(d8 - d7, 24 * 3600);
        assert_eq!(d9 - d8, 23 * 3600);
        assert_eq!(w.day_index(d9 - 1), Some(1));
        assert_eq!(w.day_index(d9), Some(2));
        // 23:30 local on the 8th is still the 8th.
        assert_eq!(local_day(tz, d9 - 1800), date("2026-03-08"));
    }

    #[test]
    fn a_missing_midnight_starts_the_day_at_the_first_real_instant() {
        // Santiago moved clocks from 00:00 to 01:00 on 2025-09-07.
        let tz: Tz = "America/Santiago".parse().unwrap();
        let start = day_start(tz, date("2025-09-07"));
        assert_eq!(local_day(tz, start), date("2025-09-07"));
        assert_eq!(local_day(tz, start - 1), date("2025-09-06"));
    }
}
