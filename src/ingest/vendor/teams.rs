//! Microsoft Teams user activity user detail (Graph
//! `getTeamsUserActivityUserDetail`, CSV or `$format=application/json`): one
//! row per person for a 7, 30, 90 or 180-day period ending at the report
//! refresh date, or for one day (`getTeamsUserActivityUserDetail(date=...)`,
//! `Report Period` 1). Read as Microsoft defines it in
//! <https://learn.microsoft.com/graph/api/reportroot-getteamsuseractivityuserdetail>
//! and the Teams user activity report reference
//! <https://learn.microsoft.com/microsoftteams/teams-analytics-and-reports/user-activity-report>.
//!
//! - Period: `Report Refresh Date` (`YYYY-MM-DD` or `YYYY-MM-DDT00:00:00Z`)
//!   back `Report Period` days, both ends included.
//! - A daily report (`getTeamsUserActivityUserDetail(date=YYYY-MM-DD)`,
//!   `Report Period` 1): Microsoft documents `date` as "the date for which
//!   you would like to view the users who performed any activity", any of
//!   the past 30 days, so a row's counts are for the day requested. The CSV
//!   has no column naming that day (the documented columns run from `Report
//!   Refresh Date` to `Report Period`, no `Report Date`), and `Report
//!   Refresh Date` is the day the report data were last refreshed, the
//!   admin center's "last updated" date (Microsoft Q&A, "ms graph report
//!   date property",
//!   <https://learn.microsoft.com/answers/questions/582530/ms-graph-report-date-property>),
//!   which is later than the day requested unless that day is the latest.
//!   So the day is the one the import names: a `YYYY-MM-DD` date in the
//!   file name (`TeamsUserActivityUserDetail_2024-05-17.csv`), else a
//!   one-day period given with the import; a file naming neither is
//!   refused rather than counted on its refresh date, and a day after the
//!   refresh date is refused (Microsoft has no data for it yet). The row's
//!   active day is 1 when there was any activity that day (or `Last Activity
//!   Date` is that day), else 0, so daily files count days.
//! - Messages: team chat + private chat. Microsoft defines `Team Chat Message
//!   Count` as including `Post Messages` and `Reply Messages` ("includes
//!   original posts and replies"), so those two are validated, never added
//!   (12 team + 87 private is 99). The older 12-column report, without them,
//!   gives the same number. `Urgent Messages` are chat messages marked
//!   urgent, already counted: validated only.
//! - Meetings: `Meeting Count`, or `Meetings Attended Count` when larger; at
//!   least 1 when video or screen sharing lasted more than zero seconds
//!   (video use). Calls: `Call Count`, at least 1 when audio lasted more than
//!   zero seconds (voice use: an hour of calls is not dormancy).
//! - Counts: an empty cell in a column that exists is 0 (Microsoft leaves
//!   nothing empty but people edit these files); a missing column is `None`.
//! - Durations (ISO 8601 and `... In Seconds`) only feed the two rules above.
//! - Concealed names: a 32-hex (MD5) UPN or an all-zero `User Id` marks the
//!   row anonymised; the hash is kept as the user id.
//! - Presence without interaction (passive): `Has Other Action = Yes`
//!   (Microsoft's own signal), or a `Last Activity Date` inside the period,
//!   with no message, call or meeting.
//! - JSON keys are the same fields in camelCase (`teamChatMessageCount`),
//!   matched after camelCase -> snake_case; `Scheduled One-time ...` is
//!   `scheduledOneTime...` there.

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime};

use super::{Counts, Field, InputError, PeriodFact, Row, iso_date, sum};
use crate::ingest::timestamp::shorten;

const REFRESH: Field = Field::new(0, "Report Refresh Date").required();
const UPN: Field = Field::new(1, "User Principal Name").required();
const PERIOD: Field = Field::new(2, "Report Period").required();
const USER_ID: Field = Field::new(3, "User Id");
const LAST_ACTIVITY: Field = Field::new(4, "Last Activity Date");
const IS_DELETED: Field = Field::new(5, "Is Deleted");
const DELETED_DATE: Field = Field::new(6, "Deleted Date");
const TEAM_CHAT: Field = Field::new(7, "Team Chat Message Count");
const PRIVATE_CHAT: Field = Field::new(8, "Private Chat Message Count");
const POSTS: Field = Field::new(9, "Post Messages");
const REPLIES: Field = Field::new(10, "Reply Messages");
const URGENT: Field = Field::new(11, "Urgent Messages");
const CALLS: Field = Field::new(12, "Call Count");
const MEETINGS: Field = Field::new(13, "Meeting Count");
const ORGANIZED: Field = Field::new(14, "Meetings Organized Count");
const ATTENDED: Field = Field::new(15, "Meetings Attended Count");
const AD_HOC_ORGANIZED: Field = Field::new(16, "Ad Hoc Meetings Organized Count");
const AD_HOC_ATTENDED: Field = Field::new(17, "Ad Hoc Meetings Attended Count");
const ONE_TIME_ORGANIZED: Field =
    Field::new(18, "Scheduled One-time Meetings Organized Count").or(&["scheduledOneTimeMeetingsOrganizedCount"]);
const ONE_TIME_ATTENDED: Field =
    Field::new(19, "Scheduled One-time Meetings Attended Count").or(&["scheduledOneTimeMeetingsAttendedCount"]);
const RECURRING_ORGANIZED: Field = Field::new(20, "Scheduled Recurring Meetings Organized Count");
const RECURRING_ATTENDED: Field = Field::new(21, "Scheduled Recurring Meetings Attended Count");
const AUDIO: Field = Field::new(22, "Audio Duration");
const VIDEO: Field = Field::new(23, "Video Duration");
const SCREEN: Field = Field::new(24, "Screen Share Duration");
const AUDIO_SECONDS: Field = Field::new(25, "Audio Duration In Seconds");
const VIDEO_SECONDS: Field = Field::new(26, "Video Duration In Seconds");
const SCREEN_SECONDS: Field = Field::new(27, "Screen Share Duration In Seconds");
const OTHER_ACTION: Field = Field::new(28, "Has Other Action");
const LICENSED: Field = Field::new(29, "Is Licensed");

pub(super) const FIELDS: &[Field] = &[
    REFRESH,
    UPN,
    PERIOD,
    USER_ID,
    LAST_ACTIVITY,
    IS_DELETED,
    DELETED_DATE,
    TEAM_CHAT,
    PRIVATE_CHAT,
    POSTS,
    REPLIES,
    URGENT,
    CALLS,
    MEETINGS,
    ORGANIZED,
    ATTENDED,
    AD_HOC_ORGANIZED,
    AD_HOC_ATTENDED,
    ONE_TIME_ORGANIZED,
    ONE_TIME_ATTENDED,
    RECURRING_ORGANIZED,
    RECURRING_ATTENDED,
    AUDIO,
    VIDEO,
    SCREEN,
    AUDIO_SECONDS,
    VIDEO_SECONDS,
    SCREEN_SECONDS,
    OTHER_ACTION,
    LICENSED,
];

const DATE: &str = "YYYY-MM-DD";
const REFRESH_DATE: &str = "YYYY-MM-DD or YYYY-MM-DDT00:00:00Z";
const DURATION: &str = "ISO 8601 such as PT5H12M30S (or HH:MM:SS)";

/// The dates a row's figures are for: its report period ending on the
/// Report Refresh Date, or for a daily report the day the import names.
fn period(
    row: &Row,
    day: Option<NaiveDate>,
    refreshed: NaiveDate,
    days: u32,
) -> Result<(NaiveDate, NaiveDate), InputError> {
    if days == 1 {
        let day = day.ok_or_else(|| {
            row.err(
                &PERIOD,
                format!(
                    "1 day: a daily report (Graph's `date=` form) does not say which day it is for, and its Report \
                     Refresh Date ({refreshed}) is when Microsoft last refreshed the data, not the day requested; \
                     put the day in the file name (`TeamsUserActivityUserDetail_YYYY-MM-DD.csv`) or give it as the \
                     period (YYYY-MM-DD..YYYY-MM-DD, the same day twice)"
                ),
            )
        })?;
        if day > refreshed {
            return Err(row.err(
                &REFRESH,
                format!(
                    "the day this daily report is for ({day}) is after its Report Refresh Date ({refreshed}): \
                     Microsoft has no data for that day yet; is the day in the file name right?"
                ),
            ));
        }
        Ok((day, day))
    } else {
        let start = refreshed
            .checked_sub_days(Days::new(u64::from(days) - 1))
            .ok_or_else(|| row.err(&PERIOD, format!("{days} days before {refreshed} is out of range")))?;
        Ok((start, refreshed))
    }
}

/// A row's fact; `day` is the day a daily report was requested for (see
/// the module comment), when the import names one.
pub(super) fn fact(row: &Row, day: Option<NaiveDate>) -> Result<PeriodFact, InputError> {
    let refreshed = row.required_date(&REFRESH, refresh_date, REFRESH_DATE)?;
    let days = report_period(row)?;
    let (start, end) = period(row, day, refreshed, days)?;
    let upn = row.text(&UPN)?.ok_or_else(|| row.err(&UPN, "empty; every row needs the user principal name"))?;
    let user_id = upn.to_lowercase();
    let zero_id = row.text(&USER_ID)?.is_some_and(|id| is_zero_id(&id));
    let anonymised = is_md5(&user_id) || zero_id;
    let last_active = row.date(&LAST_ACTIVITY, refresh_date, DATE)?;
    let deleted = row.boolean(&IS_DELETED, "True or False")?.unwrap_or(false);
    row.date(&DELETED_DATE, refresh_date, DATE)?;
    row.boolean(&LICENSED, "Yes or No")?;
    let other_action = row.boolean(&OTHER_ACTION, "Yes or No")?.unwrap_or(false);

    // Team chat already includes posts and replies (Microsoft's definition):
    // they are validated, never added.
    let messages =
        sum(row, &[(&TEAM_CHAT, row.count_or_zero(&TEAM_CHAT)?), (&PRIVATE_CHAT, row.count_or_zero(&PRIVATE_CHAT)?)])?;
    let mut calls = row.count_or_zero(&CALLS)?;
    // `Option`'s order puts `None` below any count, so this is the larger
    // of the two columns that exist.
    let mut meetings = row.count_or_zero(&MEETINGS)?.max(row.count_or_zero(&ATTENDED)?);
    for f in [
        &POSTS,
        &REPLIES,
        &URGENT,
        &ORGANIZED,
        &AD_HOC_ORGANIZED,
        &AD_HOC_ATTENDED,
        &ONE_TIME_ORGANIZED,
        &ONE_TIME_ATTENDED,
        &RECURRING_ORGANIZED,
        &RECURRING_ATTENDED,
    ] {
        row.count_or_zero(f)?;
    }
    let audio = duration(row, &AUDIO, &AUDIO_SECONDS)?;
    let video = duration(row, &VIDEO, &VIDEO_SECONDS)?;
    let screen = duration(row, &SCREEN, &SCREEN_SECONDS)?;
    if calls.unwrap_or(0) == 0 && audio > 0 {
        calls = Some(1);
    }
    if meetings.unwrap_or(0) == 0 && (video > 0 || screen > 0) {
        meetings = Some(1);
    }
    let interactions =
        u64::from(messages.unwrap_or(0)) + u64::from(calls.unwrap_or(0)) + u64::from(meetings.unwrap_or(0));
    let active_in_period = last_active.is_some_and(|d| (start..=end).contains(&d));
    // A daily report (`date=`): the day counts when anything happened.
    let active_days = (days == 1).then(|| u32::from(interactions > 0 || other_action || active_in_period));

    Ok(PeriodFact {
        line: row.line,
        email: (!anonymised && user_id.contains('@')).then(|| user_id.clone()),
        user_id,
        start,
        end,
        counts: Counts {
            active_days,
            messages,
            reactions: None,
            calls,
            meetings,
            files: None,
            docs: None,
            reads: None,
            passive: (other_action || active_in_period) && interactions == 0,
        },
        last_active,
        anonymised,
        deleted,
        display_name: None,
        department: None,
    })
}

/// The day a daily report is for, from its file name: the last
/// `YYYY-MM-DD` in it (`TeamsUserActivityUserDetail_2024-05-17.csv`,
/// `teams-2024-05-17.json.gz`). Only this form: a name such as
/// `TeamsUserActivityUserDetail5_20_2024 3_39_51 PM.csv` carries the day it
/// was downloaded, not the day requested.
pub(super) fn day_from_name(name: &str) -> Option<NaiveDate> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).as_bytes();
    let digit = |i: usize| base.get(i).is_some_and(u8::is_ascii_digit);
    (0..base.len().saturating_sub(9))
        .rev()
        .filter(|&i| {
            (i == 0 || !digit(i - 1))
                && !digit(i + 10)
                && (0..10).all(|k| if k == 4 || k == 7 { base[i + k] == b'-' } else { digit(i + k) })
        })
        .find_map(|i| std::str::from_utf8(&base[i..i + 10]).ok().and_then(iso_date))
}

/// `YYYY-MM-DD`, or a date-time at midnight as some refresh dates are
/// written (`2024-05-20T00:00:00Z`): the date as written.
fn refresh_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    iso_date(t)
        .or_else(|| DateTime::parse_from_rfc3339(t).ok().map(|d| d.date_naive()))
        .or_else(|| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S").ok().map(|d| d.date()))
}

/// The report period in days (`30`, also `D30` as the Graph parameter).
fn report_period(row: &Row) -> Result<u32, InputError> {
    const EXPECTED: &str = "expected the number of days (7, 30, 90 or 180)";
    let text = row.text(&PERIOD)?.ok_or_else(|| row.err(&PERIOD, format!("empty; {EXPECTED}")))?;
    let digits = text.strip_prefix(['D', 'd']).unwrap_or(&text);
    match digits.parse::<u32>() {
        Ok(days) if (1..=366).contains(&days) => Ok(days),
        _ => Err(row.err(&PERIOD, format!("`{}` is not a report period; {EXPECTED}", shorten(&text)))),
    }
}

/// Seconds from the ISO 8601 column and the seconds column (the larger where
/// both are given; 0 when neither is).
fn duration(row: &Row, iso: &Field, seconds: &Field) -> Result<u64, InputError> {
    let from_iso = match row.text(iso)? {
        None => 0,
        Some(t) => iso_duration(&t)
            .ok_or_else(|| row.err(iso, format!("`{}` is not a duration; expected {DURATION}", shorten(&t))))?,
    };
    let from_seconds = u64::from(row.count(seconds)?.unwrap_or(0));
    Ok(from_iso.max(from_seconds))
}

/// Whole seconds of an ISO 8601 duration: `P[nW][nD][T[nH][nM][n[.f]S]]`
/// (components in that order, at least one; a fraction only on seconds and
/// dropped). Years and months are refused: their length varies. Also
/// accepts `HH:MM:SS`.
pub(super) fn iso_duration(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_uppercase();
    let Some(rest) = t.strip_prefix('P') else {
        return clock_duration(&t);
    };
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut any = false;
    let mut total = components(date, &[('W', 7 * 86_400), ('D', 86_400)], &mut any)?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        total = total.checked_add(components(time, &[('H', 3_600), ('M', 60), ('S', 1)], &mut any)?)?;
    }
    any.then_some(total)
}

/// Sums `<number><unit>` components whose units appear in `units` order.
fn components(mut s: &str, units: &[(char, u64)], any: &mut bool) -> Option<u64> {
    let mut total = 0u64;
    let mut next = 0;
    while !s.is_empty() {
        let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
        let (number, tail) = s.split_at(end);
        let unit = tail.chars().next()?;
        let at = next + units.get(next..)?.iter().position(|(u, _)| *u == unit)?;
        let (_, multiplier) = units.get(at)?;
        let whole = match number.split_once(['.', ',']) {
            // Only seconds, the smallest unit, may have a fraction.
            Some((whole, fraction)) if unit == 'S' && fraction.bytes().all(|b| b.is_ascii_digit()) => whole,
            Some(_) => return None,
            None => number,
        };
        if whole.is_empty() {
            return None;
        }
        total = total.checked_add(whole.parse::<u64>().ok()?.checked_mul(*multiplier)?)?;
        *any = true;
        next = at + 1;
        s = &tail[unit.len_utf8()..];
    }
    Some(total)
}

/// `H:MM:SS` (hours may exceed 24).
fn clock_duration(t: &str) -> Option<u64> {
    let mut parts = t.split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let s = s.split_once('.').map(|(whole, _)| whole).unwrap_or(s);
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !(digits(h) && digits(m) && digits(s)) {
        return None;
    }
    let (h, m, s): (u64, u64, u64) = (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?);
    if m >= 60 || s >= 60 {
        return None;
    }
    h.checked_mul(3_600)?.checked_add(m * 60 + s)
}

/// A concealed-names UPN: an MD5 hash, 32 hex digits.
fn is_md5(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A concealed-names user id: zeros (and dashes) only.
fn is_zero_id(id: &str) -> bool {
    id.contains('0') && id.bytes().all(|b| b == b'0' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration("PT5H12M30S"), Some(18_750));
        assert_eq!(iso_duration("PT1H5M"), Some(3_900));
        assert_eq!(iso_duration("PT20M"), Some(1_200));
        assert_eq!(iso_duration("PT0S"), Some(0));
        assert_eq!(iso_duration("P1DT2H"), Some(93_600));
        assert_eq!(iso_duration("P2D"), Some(172_800));
        assert_eq!(iso_duration("P1W"), Some(604_800));
        assert_eq!(iso_duration("PT1.75S"), Some(1));
        assert_eq!(iso_duration(" pt90m "), Some(5_400));
        assert_eq!(iso_duration("01:02:03"), Some(3_723));
        for bad in ["", "P", "PT", "5H", "PT5X", "PT1M2H", "PT1H1H", "P1Y", "P1M", "PT1.5M", "PTH", "P1DT", "1:60:00"] {
            assert_eq!(iso_duration(bad), None, "{bad}");
        }
        assert_eq!(iso_duration("PT99999999999999999999H"), None);
    }

    #[test]
    fn refresh_dates_in_both_forms() {
        let d = NaiveDate::from_ymd_opt(2024, 5, 20);
        assert_eq!(refresh_date("2024-05-20"), d);
        assert_eq!(refresh_date("2024-05-20T00:00:00Z"), d);
        assert_eq!(refresh_date("2024-05-20T00:00:00"), d);
        assert_eq!(refresh_date("20/05/2024"), None);
    }

    #[test]
    fn the_day_of_a_daily_report_from_its_file_name() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(day_from_name("TeamsUserActivityUserDetail_2024-05-17.csv"), d(2024, 5, 17));
        assert_eq!(day_from_name("exports/2024-01-01/teams-2024-05-17.json.gz"), d(2024, 5, 17));
        assert_eq!(day_from_name("C:\\Reports\\2024-05-17 teams.csv"), d(2024, 5, 17));
        assert_eq!(day_from_name("a_2024-05-17_b_2024-05-18.csv"), d(2024, 5, 18));
        for none in
            ["TeamsUserActivityUserDetail5_20_2024 3_39_51 PM.csv", "teams.csv", "x_12024-05-17.csv", "2024-13-01.csv"]
        {
            assert_eq!(day_from_name(none), None, "{none}");
        }
    }

    #[test]
    fn concealed_names() {
        assert!(is_md5("0f3c6d0e8b9a4c1d2e3f4a5b6c7d8e9f"));
        assert!(!is_md5("alex.wu@contoso.com"));
        assert!(is_zero_id("00000000-0000-0000-0000-000000000000"));
        assert!(!is_zero_id("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        assert!(!is_zero_id("-"));
    }
}
