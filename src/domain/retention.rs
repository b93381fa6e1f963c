//! Retention of raw events: where the horizon lies for a number of days
//! kept, and whether a window can still be measured from raw events once
//! those older than a horizon were deleted. Facts (aggregated sources),
//! people (with their first event) and history are never deleted.

use chrono::{Days, NaiveDate};
use chrono_tz::Tz;

use super::calendar::{Window, day_start};
use super::dataset::Dataset;

/// Fewest and most days a retention setting may keep.
pub const MIN_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 36_500;

/// The key under which the deletion horizon is stored once a run deleted
/// (or started deleting) events: internal, never shown as a setting.
pub const DELETED_BEFORE_KEY: &str = "_retention.deleted_before";

/// Events before this instant are deleted when `days` are kept and today
/// is `today` in the organisation's zone: the start of the local day
/// `days` days ago.
pub fn cutoff(today: NaiveDate, days: u32, tz: Tz) -> i64 {
    day_start(tz, today - Days::new(u64::from(days)))
}

/// Slack before a window's needed span: the evaluation reads a little
/// before the window (sessions and replies crossing its first midnight),
/// so a window counts as measurable only with two days to spare.
const MARGIN_SECONDS: i64 = 2 * 86_400;

/// Whether raw events deleted before `deleted_before` leave `window`
/// measurable exactly as before (the window and the span the engine reads
/// for it start after the horizon).
pub fn measurable(window: &Window, deleted_before: Option<i64>) -> bool {
    match deleted_before {
        None => true,
        Some(horizon) => Dataset::needed_span(window).0 - MARGIN_SECONDS >= horizon,
    }
}

/// The earliest as-of date whose window of `window_days` is measurable
/// after deleting before `deleted_before`.
pub fn earliest_measurable(deleted_before: i64, window_days: u32, tz: Tz) -> NaiveDate {
    let mut day = super::calendar::local_day(tz, deleted_before) + Days::new(u64::from(window_days));
    while !measurable(&Window::new(day, window_days, tz), Some(deleted_before)) {
        day = day + Days::new(1);
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_cutoff_is_the_start_of_the_local_day_kept_last() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // 2026-03-01 00:00 in Shanghai is 2026-02-28 16:00 UTC.
        assert_eq!(cutoff(d("2026-03-31"), 30, tz), 1_772_294_400);
    }

    #[test]
    fn a_window_is_measurable_only_after_the_horizon_with_margin() {
        let tz = chrono_tz::UTC;
        let horizon = cutoff(d("2026-05-31"), 30, tz); // 2026-05-01
        assert!(measurable(&Window::new(d("2026-05-31"), 28, tz), None));
        assert!(measurable(&Window::new(d("2026-05-31"), 28, tz), Some(horizon)));
        assert!(!measurable(&Window::new(d("2026-05-30"), 28, tz), Some(horizon)));
        assert!(!measurable(&Window::new(d("2026-04-15"), 28, tz), Some(horizon)));
        let first = earliest_measurable(horizon, 28, tz);
        assert!(measurable(&Window::new(first, 28, tz), Some(horizon)));
        assert!(!measurable(&Window::new(first - Days::new(1), 28, tz), Some(horizon)));
    }
}
