//! Feishu / Lark `admin_user_stats`: one JSON row per person per day. Flags
//! are 0/1 and counts are numbers or numeric strings.
//!
//! - `user_active_flag` gives the active day (0 or 1); `send_messenger_num`
//!   the messages, `create_docs_num` the documents, `vc_num` the meetings
//!   (at least 1 when `vc_duration`, in minutes, is above zero).
//! - Passive: active that day with no message, document, meeting, calendar
//!   event or task created.
//! - The person is the lower-cased `email` when present, else `user_id`.

use chrono::{NaiveDate, NaiveDateTime};

use super::{Counts, Field, InputError, PeriodFact, Row, iso_date, person_id};
use crate::ingest::timestamp::shorten;

const DATE: Field = Field::new(0, "date").required();
const USER_ID: Field = Field::new(1, "user_id").unless(&EMAIL);
const EMAIL: Field = Field::new(2, "email");
const USER_NAME: Field = Field::new(3, "user_name");
const DEPARTMENT: Field = Field::new(4, "department_name");
const LAST_ACTIVE: Field = Field::new(5, "last_active_time");
const USER_ACTIVE: Field = Field::new(6, "user_active_flag");
const SUITE_ACTIVE: Field = Field::new(7, "suite_active_flag");
const IM_ACTIVE: Field = Field::new(8, "im_active_flag");
const DOCS_ACTIVE: Field = Field::new(9, "docs_active_flag");
const CAL_ACTIVE: Field = Field::new(10, "cal_active_flag");
const VC_ACTIVE: Field = Field::new(11, "vc_active_flag");
const SEARCH_ACTIVE: Field = Field::new(12, "search_active_flag");
const MESSAGES: Field = Field::new(13, "send_messenger_num");
const DOCS: Field = Field::new(14, "create_docs_num");
const CALENDAR: Field = Field::new(15, "create_cal_num");
const TASKS: Field = Field::new(16, "create_task_num");
const MEETINGS: Field = Field::new(17, "vc_num");
const MEETING_MINUTES: Field = Field::new(18, "vc_duration");

pub(super) const FIELDS: &[Field] = &[
    DATE,
    USER_ID,
    EMAIL,
    USER_NAME,
    DEPARTMENT,
    LAST_ACTIVE,
    USER_ACTIVE,
    SUITE_ACTIVE,
    IM_ACTIVE,
    DOCS_ACTIVE,
    CAL_ACTIVE,
    VC_ACTIVE,
    SEARCH_ACTIVE,
    MESSAGES,
    DOCS,
    CALENDAR,
    TASKS,
    MEETINGS,
    MEETING_MINUTES,
];

const FLAG: &str = "a flag, 0 or 1";

pub(super) fn fact(row: &Row) -> Result<PeriodFact, InputError> {
    let date = row.required_date(&DATE, iso_date, "YYYY-MM-DD")?;
    let (user_id, email) = person_id(row, &EMAIL, &USER_ID)?;
    let active = row.boolean(&USER_ACTIVE, FLAG)?;
    for f in [&SUITE_ACTIVE, &IM_ACTIVE, &DOCS_ACTIVE, &CAL_ACTIVE, &VC_ACTIVE, &SEARCH_ACTIVE] {
        row.boolean(f, FLAG)?;
    }
    let last_active = row.date(&LAST_ACTIVE, date_time, "YYYY-MM-DD HH:mm:ss")?;
    let messages = row.count(&MESSAGES)?;
    let docs = row.count(&DOCS)?;
    let calendar = row.count(&CALENDAR)?;
    let tasks = row.count(&TASKS)?;
    let mut meetings = row.count(&MEETINGS)?;
    if meetings.unwrap_or(0) == 0 && minutes(row, &MEETING_MINUTES)? > 0.0 {
        meetings = Some(1);
    }
    let interactions = [messages, docs, meetings, calendar, tasks].iter().flatten().map(|n| u64::from(*n)).sum::<u64>();
    Ok(PeriodFact {
        line: row.line,
        user_id,
        start: date,
        end: date,
        counts: Counts {
            active_days: active.map(u32::from),
            messages,
            reactions: None,
            calls: None,
            meetings,
            files: None,
            docs,
            reads: None,
            passive: active == Some(true) && interactions == 0,
        },
        last_active,
        anonymised: false,
        deleted: false,
        display_name: row.text(&USER_NAME)?.map(String::from),
        email,
        department: row.text(&DEPARTMENT)?.map(String::from),
    })
}

/// The date of `YYYY-MM-DD HH:mm:ss` (or of a bare `YYYY-MM-DD`).
fn date_time(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok().map(|d| d.date()).or_else(|| iso_date(t))
}

/// A duration in minutes (whole or decimal, >= 0); 0 when absent or empty.
fn minutes(row: &Row, f: &Field) -> Result<f64, InputError> {
    let Some(t) = row.text(f)? else {
        return Ok(0.0);
    };
    match t.parse::<f64>() {
        Ok(m) if m.is_finite() && m >= 0.0 => Ok(m),
        Ok(m) if m < 0.0 => Err(row.err(f, format!("{t} is negative; expected minutes >= 0"))),
        _ => Err(row.err(f, format!("`{}` is not a number of minutes; expected a number >= 0", shorten(&t)))),
    }
}
