//! Google Workspace user usage report, chat parameters: rolling 28-day totals
//! per person per date. Read from CSV or NDJSON rows with the columns
//! `date`, the user's e-mail (`user_email`, `email` or `user`) and the
//! `num_28day_*` parameters (with or without the API's `chat:` prefix), or
//! from NDJSON of the Reports API's own usage report objects
//! (`{"date", "entity": {"userEmail"}, "parameters": [{"name", "intValue"}]}`).
//!
//! The period is the 28 days ending at `date`. Messages are
//! `messages_and_reactions_sent`: Google does not split the two, so the
//! figure is labelled "messages and reactions" wherever it is shown (both are
//! interaction, so the tier rule's meaning holds). Files are
//! `attachments_uploaded`, reads `conversations_read` (presence: a reader who
//! sends nothing is silent, not dormant); spaces created are validated only.
//! No active days. A CSV needs at least one of the chat columns.
//!
//! Also read: the raw Reports API response of `userUsageReport.get`
//! (<https://developers.google.com/admin-sdk/reports/reference/rest/v1/userUsageReport/get>),
//! `{"kind": "admin#reports#usageReports", "usageReports": [...],
//! "nextPageToken"}`, whose `intValue`s are int64 written as strings.

use chrono::Days;
use serde_json::{Map, Value};

use super::{Counts, Field, InputError, PeriodFact, Row, iso_date};

const DATE: Field = Field::new(0, "date").required();
const USER: Field =
    Field::new(1, "user_email").or(&["email", "user", "user_email_address", "email_address", "userEmail"]).required();
const ATTACHMENTS: Field = Field::new(2, "num_28day_attachments_uploaded").or(&["chat:num_28day_attachments_uploaded"]);
const READ: Field = Field::new(3, "num_28day_conversations_read").or(&["chat:num_28day_conversations_read"]);
const SENT: Field =
    Field::new(4, "num_28day_messages_and_reactions_sent").or(&["chat:num_28day_messages_and_reactions_sent"]);
const SPACES: Field = Field::new(5, "num_28day_spaces_created").or(&["chat:num_28day_spaces_created"]);

pub(super) const FIELDS: &[Field] = &[DATE, USER, ATTACHMENTS, READ, SENT, SPACES];

/// The chat counts; a CSV needs at least one of them.
pub(super) const COUNTS: &[Field] = &[ATTACHMENTS, READ, SENT, SPACES];

/// The report covers the 28 days ending at its date.
const WINDOW_DAYS: u64 = 28;

pub(super) fn fact(row: &Row) -> Result<PeriodFact, InputError> {
    let end = row.required_date(&DATE, iso_date, "YYYY-MM-DD")?;
    let start = end
        .checked_sub_days(Days::new(WINDOW_DAYS - 1))
        .ok_or_else(|| row.err(&DATE, format!("{end} is too early for a 28-day period")))?;
    let user = row.text(&USER)?.ok_or_else(|| row.err(&USER, "empty; every row needs the user's e-mail"))?;
    let user_id = user.to_lowercase();
    let files = row.count(&ATTACHMENTS)?;
    let reads = row.count(&READ)?;
    let messages = row.count(&SENT)?;
    row.count(&SPACES)?;
    Ok(PeriodFact {
        line: row.line,
        email: user_id.contains('@').then(|| user_id.clone()),
        user_id,
        start,
        end,
        counts: Counts {
            active_days: None,
            messages,
            reactions: None,
            calls: None,
            meetings: None,
            files,
            docs: None,
            reads,
            passive: false,
        },
        last_active: None,
        anonymised: false,
        deleted: false,
        display_name: None,
        department: None,
    })
}

/// Turns a Reports API usage report object into a flat row: `date`,
/// `user_email` from `entity.userEmail`, and each parameter by its name.
/// A row that is already flat is returned as it is.
pub(super) fn flatten(object: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let Some(parameters) = object.get("parameters") else {
        return Ok(object);
    };
    let Value::Array(parameters) = parameters else {
        return Err("`parameters` is not a JSON array; expected the usage report's parameter list".into());
    };
    let mut flat = Map::new();
    if let Some(date) = object.get("date") {
        flat.insert("date".into(), date.clone());
    }
    if let Some(email) = object.get("entity").and_then(|e| e.get("userEmail")) {
        flat.insert("user_email".into(), email.clone());
    }
    for p in parameters {
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            return Err("a `parameters` entry has no `name`; expected {\"name\": ..., \"intValue\": ...}".into());
        };
        let value = ["intValue", "boolValue", "stringValue"].iter().find_map(|k| p.get(*k)).cloned();
        flat.insert(name.to_string(), value.unwrap_or(Value::Null));
    }
    Ok(flat)
}
