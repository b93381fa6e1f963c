//! Slack member analytics, in its two shapes.
//!
//! Dashboard export (Analytics > Members > Export, CSV): one row per member
//! for a period that is only in the file name (`... Prior 30 Days - Apr 17,
//! 2026.csv` or `... Mar 17, 2025 - Apr 17, 2026.csv`), else given by the
//! user. Dates look like `Feb 16, 2026`.
//!
//! API `admin.analytics.getFile?type=member` (NDJSON, usually gzipped): one
//! row per person per UTC day.

use chrono::{Days, NaiveDate};

use super::{Counts, Field, InputError, PeriodFact, Row, VendorOptions, iso_date, person_id, sum};
use crate::ingest::timestamp::{parse_unix, shorten};

// ---------------------------------------------------------------------------
// Dashboard export

const NAME: Field = Field::new(0, "Name");
const USER_ID: Field = Field::new(1, "User ID").unless(&EMAIL);
const EMAIL: Field = Field::new(2, "Email").or(&["email_address"]);
const DISPLAY_NAME: Field = Field::new(3, "Display name");
const ACCOUNT_TYPE: Field = Field::new(4, "Account type");
const CREATED: Field = Field::new(5, "Account created (UTC)");
const CLAIMED: Field = Field::new(6, "Claimed Date (UTC)");
const DEACTIVATED: Field = Field::new(7, "Deactivated date (UTC)");
const DAYS_ACTIVE: Field = Field::new(8, "Days active").required();
const DAYS_DESKTOP: Field = Field::new(9, "Days active (Desktop)");
const DAYS_ANDROID: Field = Field::new(10, "Days active (Android)");
const DAYS_IOS: Field = Field::new(11, "Days active (iOS)");
const MESSAGES: Field = Field::new(12, "Messages posted").required();
const CHANNEL_MESSAGES: Field = Field::new(13, "Messages posted in channels");
const REACTIONS: Field = Field::new(14, "Reactions added");
const LAST_ACTIVE: Field = Field::new(15, "Last active (UTC)");
const LAST_DESKTOP: Field = Field::new(16, "Last active (Desktop) (UTC)");
const LAST_ANDROID: Field = Field::new(17, "Last active (Android) (UTC)");
const LAST_IOS: Field = Field::new(18, "Last active (iOS) (UTC)");
const SLACK_CONNECT: Field = Field::new(19, "Days using Slack Connect");
const FILES: Field = Field::new(20, "Files uploaded");
const HUDDLES: Field = Field::new(21, "Slack Huddles");
const SEARCHES: Field = Field::new(22, "Searches");
const CHANNELS_JOINED: Field = Field::new(23, "Channels joined");

pub(super) const DASHBOARD_FIELDS: &[Field] = &[
    NAME,
    USER_ID,
    EMAIL,
    DISPLAY_NAME,
    ACCOUNT_TYPE,
    CREATED,
    CLAIMED,
    DEACTIVATED,
    DAYS_ACTIVE,
    DAYS_DESKTOP,
    DAYS_ANDROID,
    DAYS_IOS,
    MESSAGES,
    CHANNEL_MESSAGES,
    REACTIONS,
    LAST_ACTIVE,
    LAST_DESKTOP,
    LAST_ANDROID,
    LAST_IOS,
    SLACK_CONNECT,
    FILES,
    HUDDLES,
    SEARCHES,
    CHANNELS_JOINED,
];

const SLACK_DATE: &str = "a date like `Feb 16, 2026`";

/// `Feb 16, 2026` (or `February 16, 2026`, or `2026-02-16`).
pub(super) fn slack_date(text: &str) -> Option<NaiveDate> {
    let t = text.split_whitespace().collect::<Vec<_>>().join(" ");
    ["%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(&t, f).ok())
        .or_else(|| iso_date(&t))
}

/// The period of a dashboard export from its file name, first and last day
/// included: `Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv` (the
/// 30 days ending Apr 17) or `Acme Member Analytics Mar 17, 2025 - Apr 17,
/// 2026.csv`. Directories, `.csv`, `.gz` and a browser's ` (1)` are ignored.
/// `None` when the name carries no period (or one that runs backwards).
pub fn period_from_name(name: &str) -> Option<(NaiveDate, NaiveDate)> {
    let mut base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    for ext in [".gz", ".csv"] {
        if base.len() >= ext.len() && base.is_char_boundary(base.len() - ext.len()) {
            let (stem, tail) = base.split_at(base.len() - ext.len());
            if tail.eq_ignore_ascii_case(ext) {
                base = stem;
            }
        }
    }
    // A browser's duplicate marker: `... Apr 17, 2026 (1)`.
    if let Some(stem) = base.trim_end().strip_suffix(')')
        && let Some((stem, n)) = stem.rsplit_once('(')
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
    {
        base = stem;
    }
    let (left, right) = base.rsplit_once(" - ").or_else(|| base.rsplit_once(" – "))?;
    let end = slack_date(right)?;
    let words: Vec<&str> = left.split_whitespace().collect();
    let [.., a, b, c] = words.as_slice() else {
        return None;
    };
    let start = if ["prior", "last", "past"].iter().any(|w| a.eq_ignore_ascii_case(w))
        && (c.eq_ignore_ascii_case("days") || c.eq_ignore_ascii_case("day"))
    {
        let days: u64 = b.parse().ok().filter(|d| *d >= 1)?;
        end.checked_sub_days(Days::new(days - 1))?
    } else {
        slack_date(&format!("{a} {b} {c}"))?
    };
    (start <= end).then_some((start, end))
}

/// The dashboard period: from the file name, else from the options.
pub(super) fn dashboard_period(name: &str, options: &VendorOptions) -> Result<(NaiveDate, NaiveDate), InputError> {
    if let Some(period) = period_from_name(name) {
        return Ok(period);
    }
    match options.period {
        Some((start, end)) if start <= end => Ok((start, end)),
        Some((start, end)) => {
            Err(InputError::new(name, 1, format!("the period given runs backwards: {start} is after {end}")))
        }
        None => Err(InputError::new(
            name,
            1,
            "the period is needed: a Slack dashboard export has no period column and this file name does not \
             carry one (as in `Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv` or `Acme Member \
             Analytics Mar 17, 2025 - Apr 17, 2026.csv`); keep the name Slack gave the file or give the period",
        )),
    }
}

pub(super) fn dashboard_fact(row: &Row, start: NaiveDate, end: NaiveDate) -> Result<PeriodFact, InputError> {
    let (user_id, email) = person_id(row, &EMAIL, &USER_ID)?;
    let name = row.text(&NAME)?;
    let display_name = match name {
        Some(n) => Some(n),
        None => row.text(&DISPLAY_NAME)?,
    };
    row.text(&ACCOUNT_TYPE)?;
    let active_days = row.count(&DAYS_ACTIVE)?;
    let messages = row.count(&MESSAGES)?;
    let reactions = row.count(&REACTIONS)?;
    let files = row.count(&FILES)?;
    let calls = row.count(&HUDDLES)?;
    for f in [&DAYS_DESKTOP, &DAYS_ANDROID, &DAYS_IOS, &CHANNEL_MESSAGES, &SLACK_CONNECT, &SEARCHES, &CHANNELS_JOINED] {
        row.count(f)?;
    }
    for f in [&CREATED, &CLAIMED, &LAST_DESKTOP, &LAST_ANDROID, &LAST_IOS] {
        row.date(f, slack_date, SLACK_DATE)?;
    }
    let deactivated = row.date(&DEACTIVATED, slack_date, SLACK_DATE)?;
    let last_active = row.date(&LAST_ACTIVE, slack_date, SLACK_DATE)?;
    let interactions = [messages, reactions, files, calls].iter().flatten().map(|n| u64::from(*n)).sum::<u64>();
    Ok(PeriodFact {
        line: row.line,
        user_id,
        start,
        end,
        counts: Counts {
            active_days,
            messages,
            reactions,
            calls,
            meetings: None,
            files,
            docs: None,
            reads: None,
            passive: active_days.unwrap_or(0) > 0 && interactions == 0,
        },
        last_active,
        anonymised: false,
        deleted: deactivated.is_some(),
        display_name: display_name.map(String::from),
        email,
        department: None,
    })
}

// ---------------------------------------------------------------------------
// API member data

const API_DATE: Field = Field::new(0, "date").required();
const API_USER_ID: Field = Field::new(1, "user_id").unless(&API_EMAIL);
const API_EMAIL: Field = Field::new(2, "email_address").or(&["email"]);
const IS_ACTIVE: Field = Field::new(3, "is_active");
const IS_GUEST: Field = Field::new(4, "is_guest");
const IS_BILLABLE: Field = Field::new(5, "is_billable_seat");
const ACTIVE_IOS: Field = Field::new(6, "is_active_ios");
const ACTIVE_ANDROID: Field = Field::new(7, "is_active_android");
const ACTIVE_DESKTOP: Field = Field::new(8, "is_active_desktop");
const ACTIVE_APPS: Field = Field::new(9, "is_active_apps");
const ACTIVE_WORKFLOWS: Field = Field::new(10, "is_active_workflows");
const ACTIVE_CONNECT: Field = Field::new(11, "is_active_slack_connect");
const API_REACTIONS: Field = Field::new(12, "reactions_added_count");
const API_MESSAGES: Field = Field::new(13, "messages_posted_count");
const API_CHANNEL_MESSAGES: Field = Field::new(14, "channel_messages_posted_count");
const API_FILES: Field = Field::new(15, "files_added_count");
const TOTAL_CALLS: Field = Field::new(16, "total_calls_count");
const SLACK_CALLS: Field = Field::new(17, "slack_calls_count");
const SLACK_HUDDLES: Field = Field::new(18, "slack_huddles_count");
const SEARCH_COUNT: Field = Field::new(19, "search_count");
const DATE_CLAIMED: Field = Field::new(20, "date_claimed");

pub(super) const API_FIELDS: &[Field] = &[
    API_DATE,
    API_USER_ID,
    API_EMAIL,
    IS_ACTIVE,
    IS_GUEST,
    IS_BILLABLE,
    ACTIVE_IOS,
    ACTIVE_ANDROID,
    ACTIVE_DESKTOP,
    ACTIVE_APPS,
    ACTIVE_WORKFLOWS,
    ACTIVE_CONNECT,
    API_REACTIONS,
    API_MESSAGES,
    API_CHANNEL_MESSAGES,
    API_FILES,
    TOTAL_CALLS,
    SLACK_CALLS,
    SLACK_HUDDLES,
    SEARCH_COUNT,
    DATE_CLAIMED,
];

const BOOLEAN: &str = "true or false";

pub(super) fn api_fact(row: &Row) -> Result<PeriodFact, InputError> {
    let date = row.required_date(&API_DATE, iso_date, "YYYY-MM-DD")?;
    let (user_id, email) = person_id(row, &API_EMAIL, &API_USER_ID)?;
    let active = row.boolean(&IS_ACTIVE, BOOLEAN)?;
    for f in [&IS_GUEST, &IS_BILLABLE, &ACTIVE_IOS, &ACTIVE_ANDROID, &ACTIVE_DESKTOP, &ACTIVE_APPS, &ACTIVE_WORKFLOWS] {
        row.boolean(f, BOOLEAN)?;
    }
    row.boolean(&ACTIVE_CONNECT, BOOLEAN)?;
    // `messages_posted_count` is every message the person posted that day,
    // in all channels and conversation types; `channel_messages_posted_count`
    // counts those posted in public and private channels, a subset of it.
    // Adding them would count channel messages twice, so the subset is only
    // validated.
    let messages = row.count(&API_MESSAGES)?;
    row.count(&API_CHANNEL_MESSAGES)?;
    let reactions = row.count(&API_REACTIONS)?;
    let files = row.count(&API_FILES)?;
    // `total_calls_count` covers Slack calls, huddles and third-party calls;
    // without it, Slack calls plus huddles.
    let total = row.count(&TOTAL_CALLS)?;
    let parts = sum(row, &[(&SLACK_CALLS, row.count(&SLACK_CALLS)?), (&SLACK_HUDDLES, row.count(&SLACK_HUDDLES)?)])?;
    let calls = total.or(parts);
    row.count(&SEARCH_COUNT)?;
    if let Some(t) = row.text(&DATE_CLAIMED)? {
        let claimed = t.parse::<i64>().map_err(|_| {
            row.err(&DATE_CLAIMED, format!("`{}` is not a time; expected integer Unix seconds", shorten(&t)))
        })?;
        parse_unix(claimed).map_err(|m| row.err(&DATE_CLAIMED, m))?;
    }
    let interactions = [messages, reactions, files, calls].iter().flatten().map(|n| u64::from(*n)).sum::<u64>();
    Ok(PeriodFact {
        line: row.line,
        user_id,
        start: date,
        end: date,
        counts: Counts {
            active_days: active.map(u32::from),
            messages,
            reactions,
            calls,
            meetings: None,
            files,
            docs: None,
            reads: None,
            passive: active == Some(true) && interactions == 0,
        },
        // Active that day means last active on it, within this one-day period.
        last_active: (active == Some(true)).then_some(date),
        anonymised: false,
        deleted: false,
        display_name: None,
        email,
        department: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn dates_as_slack_writes_them() {
        assert_eq!(slack_date("Feb 16, 2026"), Some(d(2026, 2, 16)));
        assert_eq!(slack_date(" Feb  6, 2026 "), Some(d(2026, 2, 6)));
        assert_eq!(slack_date("February 16, 2026"), Some(d(2026, 2, 16)));
        assert_eq!(slack_date("2026-02-16"), Some(d(2026, 2, 16)));
        assert_eq!(slack_date("16/02/2026"), None);
        assert_eq!(slack_date("Feb 30, 2026"), None);
    }

    #[test]
    fn periods_from_file_names() {
        let prior = period_from_name("exports/Acme Member Analytics Prior 30 Days - Apr 17, 2026.csv");
        assert_eq!(prior, Some((d(2026, 3, 19), d(2026, 4, 17))));
        assert_eq!(
            period_from_name("Acme Member Analytics Prior 7 Days - Apr 17, 2026 (1).CSV.gz"),
            Some((d(2026, 4, 11), d(2026, 4, 17)))
        );
        assert_eq!(
            period_from_name("Acme Member Analytics Mar 17, 2025 - Apr 17, 2026.csv"),
            Some((d(2025, 3, 17), d(2026, 4, 17)))
        );
        assert_eq!(period_from_name("Acme Member Analytics Apr 17, 2026 - Mar 17, 2025.csv"), None);
        assert_eq!(period_from_name("Acme Member Analytics Prior 0 Days - Apr 17, 2026.csv"), None);
        assert_eq!(period_from_name("members.csv"), None);
        assert_eq!(period_from_name("a - b.csv"), None);
        assert_eq!(period_from_name("Prior 30 Days - Apr 17, 2026.csv"), Some((d(2026, 3, 19), d(2026, 4, 17))));
    }
}
