//! Calendar days in the organisation's time zone, and the metrics window
//! (spec section 2).

use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// Seconds in the reply-latency horizon (spec section 4).
pub const DAY_SECONDS: i64 = 86_400;

/// The Unix instant at which a local calendar day starts. Where midnight does
/// not exist (a daylight-saving jump at 00:00), the day starts at the first
/// instant that does.
pub fn day_start(tz: Tz, day: NaiveDate) -> i64 {
    let mut local = NaiveDateTime::new(day, NaiveTime::MIN);
    // A gap is at most a few hours; step forward a minute at a time.
    for _ in 0..(26 * 60) {
        if let Some(instant) = tz.from_local_datetime(&local).earliest() {
            return instant.timestamp();
        }
        local += chrono::Duration::minutes(1);
    }
    // Unreachable for real zones; fall back to reading midnight as UTC.
    NaiveDateTime::new(day, NaiveTime::MIN).and_utc().timestamp()
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
