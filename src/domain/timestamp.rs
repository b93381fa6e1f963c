//! Event timestamps (spec section 1): RFC 3339 with an offset, a naive
//! `YYYY-MM-DD HH:MM:SS` read in the organisation's time zone, or integer Unix
//! seconds. Sub-second parts are dropped: the model works in whole seconds.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use crate::domain::calendar;

/// What a timestamp must look like, for error messages.
pub const EXPECTED: &str =
    "expected RFC 3339 (2026-03-02T09:15:00+08:00), a local YYYY-MM-DD HH:MM:SS, or integer Unix seconds";

/// Earliest and latest accepted instants (1970 to 2200): anything else is a
/// unit mix-up such as milliseconds.
const MIN_TS: i64 = 0;
const MAX_TS: i64 = 7_258_118_400;

pub fn parse_unix(secs: i64) -> Result<i64, String> {
    if (MIN_TS..=MAX_TS).contains(&secs) {
        Ok(secs)
    } else {
        Err(format!("Unix time {secs} is out of range (milliseconds instead of seconds?); {EXPECTED}"))
    }
}

/// Parses a timestamp given as text.
pub fn parse(text: &str, tz: Tz) -> Result<i64, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err(format!("empty timestamp; {EXPECTED}"));
    }
    if s.bytes().all(|b| b.is_ascii_digit())
        || (s.starts_with('-') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()))
    {
        let secs: i64 = s.parse().map_err(|_| format!("`{s}` is not a valid number; {EXPECTED}"))?;
        return parse_unix(secs);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return parse_unix(dt.timestamp());
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format) {
            return parse_unix(local_to_instant(tz, naive));
        }
    }
    Err(format!("`{}` is not a timestamp; {EXPECTED}", shorten(s)))
}

/// Reads a local wall-clock time in `tz` by the app's one rule
/// ([`calendar::local_instant`]: a repeated time is the earlier instant, a
/// skipped one is read with the offset before the jump).
pub fn local_to_instant(tz: Tz, naive: NaiveDateTime) -> i64 {
    calendar::local_instant(tz, naive).map_or_else(|| naive.and_utc().timestamp(), |t| t.timestamp())
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("`{}` is not a date; expected YYYY-MM-DD", shorten(text.trim())))
}

/// Keeps error messages readable when a field holds something huge.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 { s.to_string() } else { format!("{}…", s.chars().take(60).collect::<String>()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_times_in_a_gap_or_overlap_follow_the_app_s_one_rule() {
        use chrono_tz::America::New_York;
        for local in ["2026-03-08 02:30:00", "2026-11-01 01:30:00", "2026-07-01 12:00:00"] {
            let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S").unwrap();
            assert_eq!(
                parse(local, New_York),
                Ok(calendar::local_instant(New_York, naive).unwrap().timestamp()),
                "{local}"
            );
        }
    }

    fn shanghai() -> Tz {
        "Asia/Shanghai".parse().unwrap()
    }

    #[test]
    fn every_accepted_form_gives_the_same_instant() {
        let tz = shanghai();
        let want = 1_772_414_100; // 2026-03-02T01:15:00Z
        assert_eq!(parse("2026-03-02T09:15:00+08:00", tz), Ok(want));
        assert_eq!(parse("2026-03-02T01:15:00Z", tz), Ok(want));
        assert_eq!(parse("2026-03-02T01:15:00.750Z", tz), Ok(want));
        assert_eq!(parse("2026-03-02 09:15:00", tz), Ok(want));
        assert_eq!(parse("1772414100", tz), Ok(want));
        assert_eq!(parse(" 1772414100 ", tz), Ok(want));
    }

    #[test]
    fn naive_times_follow_the_zone_and_its_daylight_saving() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // EST (-5) before the change, EDT (-4) after.
        assert_eq!(parse("2026-03-07 12:00:00", ny), parse("2026-03-07T17:00:00Z", ny));
        assert_eq!(parse("2026-03-09 12:00:00", ny), parse("2026-03-09T16:00:00Z", ny));
        // 02:30 on 2026-03-08 does not exist; read with the offset before.
        assert_eq!(parse("2026-03-08 02:30:00", ny), parse("2026-03-08T07:30:00Z", ny));
        // 01:30 on 2026-11-01 happens twice; the earlier one.
        assert_eq!(parse("2026-11-01 01:30:00", ny), parse("2026-11-01T05:30:00Z", ny));
    }

    #[test]
    fn bad_timestamps_say_what_was_expected() {
        let tz = shanghai();
        for bad in ["", "yesterday", "2026-13-01 00:00:00", "2026-03-02", "1772414100000", "-5"] {
            let err = parse(bad, tz).unwrap_err();
            assert!(err.contains("expected RFC 3339"), "{bad}: {err}");
        }
    }
}
