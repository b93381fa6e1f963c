//! The Microsoft 365 unified audit log, exported from Microsoft Purview
//! (Audit, Export): CSV `RecordId,CreationDate,RecordType,Operation,UserId,
//! AuditData,...`, or the older `CreationDate,UserIds,Operations,AuditData`.
//! `CreationDate` looks like `9/20/2023 4:05:03 AM` (UTC); `AuditData` is the
//! record itself as a JSON string (`CreationTime`, `Id`, `Operation`,
//! `RecordType`, `UserId`, `Workload`, and per operation more).
//!
//! Only Microsoft Teams records (RecordType 25, Workload `MicrosoftTeams`)
//! are read; the others are counted and skipped. Teams operations:
//!
//! | operation | event |
//! |---|---|
//! | `TeamsSessionStarted` | `login` (Teams logs no sign-out) |
//! | `MessageSent`, `MessageCreatedHasLink` | `message_sent`, one per `MessageId` (a message with a link is logged by both) |
//! | `MessageEditedHasLink` | `message_edited` (passive) |
//! | `MessageDeleted` | `message_deleted` (passive) |
//! | `PerformedCardAction` | `card_action` (passive: a click on an app's card, not an act towards a colleague) |
//! | `MemberAdded` | `member_added` (passive) |
//! | `ChatCreated` | `chat_created` (passive) |
//! | `MeetingParticipantDetail` | `meeting` at `JoinTime`, lasting until `LeaveTime` (both inside `AuditData`) |
//!
//! Other Teams operations are counted and skipped. Microsoft logs several
//! message events only with Audit (Premium) or through the Graph API: when a
//! file has no message events, or only those of messages with a link, the
//! import says so (`Notes::not_recorded`).

use std::collections::HashMap;

use serde::Deserialize;

use super::super::InputError;
use super::super::events::RawEvent;
use super::super::source::{Input, normalise_header, read_error};
use super::super::timestamp::shorten;
use super::event_sources::*;
use super::skipped;
use crate::domain::dataset::ChannelType;

/// The audit log records sign-ins: `TeamsSessionStarted`.
pub const RECORDS_PRESENCE: bool = true;

/// What `Notes::not_recorded` holds when no message event is in the file.
pub const NO_MESSAGES: &str = "message_sent";
/// ... and when only messages with a link are (`MessageCreatedHasLink`).
pub const ONLY_LINK_MESSAGES: &str = "message_sent:only_with_link";

const TEAMS_RECORD_TYPE: i64 = 25;

/// The record inside `AuditData`; fields not declared (message text never
/// is) are skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuditData {
    creation_time: Option<String>,
    id: Option<String>,
    operation: Option<String>,
    record_type: Option<i64>,
    user_id: Option<String>,
    workload: Option<String>,
    message_id: Option<serde_json::Value>,
    chat_thread_id: Option<String>,
    communication_type: Option<String>,
    join_time: Option<String>,
    leave_time: Option<String>,
    meeting_detail_id: Option<String>,
}

/// Whether a CSV header is the unified audit log's.
pub fn is_header(names: &[String]) -> bool {
    let keys: Vec<String> = names.iter().map(|n| normalise_header(n).replace(' ', "")).collect();
    let has = |k: &str| keys.iter().any(|x| x == k);
    has("auditdata") && has("creationdate") && (has("operation") || has("operations"))
}

/// Reads a unified audit log CSV, one record at a time.
pub struct AuditLog {
    file: String,
    gzipped: bool,
    csv: csv::Reader<Box<dyn std::io::Read + Send>>,
    columns: Columns,
    /// The header's names as written (BOM stripped), for messages.
    names: Vec<String>,
    record: csv::StringRecord,
    notes: SharedNotes,
    operations: HashMap<String, u64>,
    failed: bool,
    done: bool,
}

struct Columns {
    creation_date: usize,
    audit_data: usize,
    operation: usize,
    user: Option<usize>,
    record_type: Option<usize>,
    record_id: Option<usize>,
}

impl AuditLog {
    pub fn new(input: Input, notes: SharedNotes) -> Result<AuditLog, InputError> {
        let file = input.name.clone();
        // Records end at `\n` (a `\r` before it is trimmed with the field), so
        // that the reader's line numbers are the file's for CRLF files too.
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(input.reader);
        let header = csv.headers().map_err(|e| csv_error(&file, input.gzipped, &e))?.clone();
        let names: Vec<String> = header.iter().map(|h| h.trim_start_matches('\u{feff}').trim().to_string()).collect();
        let find = |wanted: &[&str]| {
            names.iter().position(|n| {
                let k = normalise_header(n).replace(' ', "");
                wanted.contains(&k.as_str())
            })
        };
        let (Some(creation_date), Some(audit_data), Some(operation)) =
            (find(&["creationdate"]), find(&["auditdata"]), find(&["operation", "operations"]))
        else {
            let shown: Vec<String> = names.iter().take(12).map(|n| format!("`{}`", shorten(n))).collect();
            return Err(InputError::new(
                &file,
                1,
                format!(
                    "not a Microsoft 365 unified audit log: the header has {}; expected CreationDate, Operation (or \
                     Operations) and AuditData, as Microsoft Purview's audit search exports them",
                    shown.join(", ")
                ),
            ));
        };
        let columns = Columns {
            creation_date,
            audit_data,
            operation,
            user: find(&["userid", "userids"]),
            record_type: find(&["recordtype"]),
            record_id: find(&["recordid"]),
        };
        Ok(AuditLog {
            file,
            gzipped: input.gzipped,
            csv,
            columns,
            names,
            record: csv::StringRecord::new(),
            notes,
            operations: HashMap::new(),
            failed: false,
            done: false,
        })
    }

    fn column_name(&self, i: usize) -> String {
        self.names.get(i).cloned().unwrap_or_default()
    }

    fn read_record(&mut self) -> Result<Option<RawEvent>, InputError> {
        let line = self.record.position().map_or(0, |p| p.line());
        let get = |i: usize| self.record.get(i).unwrap_or("").trim();
        let c = &self.columns;
        let column_op = get(c.operation).to_string();
        let raw = get(c.audit_data);
        let data: AuditData = serde_json::from_str(raw).map_err(|e| {
            let column = self.column_name(c.audit_data);
            let located = json_error(&self.file, line, &e, "the audit record as a JSON object");
            InputError::in_column(&self.file, line, &column, located.message)
        })?;
        let record_type =
            data.record_type.or_else(|| c.record_type.and_then(|i| get(i).parse::<i64>().ok())).unwrap_or_default();
        // Some exports write the record type by name (`MicrosoftTeams`).
        let named = |s: &str| s.eq_ignore_ascii_case("MicrosoftTeams");
        let teams = record_type == TEAMS_RECORD_TYPE
            || data.workload.as_deref().is_some_and(named)
            || c.record_type.is_some_and(|i| named(get(i)));
        if !teams {
            note(&self.notes, |n| bump(&mut n.skipped, skipped::NOT_TEAMS));
            return Ok(None);
        }
        let operation = data.operation.clone().filter(|o| !o.is_empty()).unwrap_or(column_op);
        note(&self.notes, |n| bump(&mut n.records, &operation));
        *self.operations.entry(operation.clone()).or_default() += 1;
        let user = data
            .user_id
            .clone()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| c.user.map(|i| get(i).to_string()))
            .filter(|u| !u.trim().is_empty());
        let Some(user) = user else {
            note(&self.notes, |n| bump(&mut n.skipped, skipped::NO_USER));
            return Ok(None);
        };
        let record_id = data.id.clone().or_else(|| c.record_id.map(|i| get(i).to_string())).filter(|i| !i.is_empty());
        let when = data.creation_time.clone().unwrap_or_else(|| get(c.creation_date).to_string());
        let time = |text: &str, column: &str| {
            parse_instant(text).map_err(|m| InputError::in_column(&self.file, line, column, m))
        };
        let id = |suffix: &str| match &record_id {
            Some(r) => format!("m365:{r}"),
            None => format!("m365:{}:{operation}:{when}{suffix}", user.trim().to_lowercase()),
        };
        let (channel, channel_type) = chat_of(&data);
        let passive = |kind: &str| -> Result<Option<RawEvent>, InputError> {
            let ts = time(&when, "CreationDate")?;
            Ok(Some(event(line, &user, ts, kind, channel.clone(), channel_type, None, id(""))))
        };
        match operation.as_str() {
            "TeamsSessionStarted" => passive("login"),
            "MessageSent" | "MessageCreatedHasLink" => {
                let ts = time(&when, "CreationDate")?;
                let event_id = match message_of(&data) {
                    Some(m) => format!("m365:message:{}:{m}", data.chat_thread_id.as_deref().unwrap_or("")),
                    None => id(""),
                };
                Ok(Some(event(line, &user, ts, "message_sent", channel.clone(), channel_type, None, event_id)))
            }
            "MessageEditedHasLink" => passive("message_edited"),
            "MessageDeleted" => passive("message_deleted"),
            "PerformedCardAction" => passive("card_action"),
            "MemberAdded" => passive("member_added"),
            "ChatCreated" => passive("chat_created"),
            "MeetingParticipantDetail" => self.meeting(line, &data, &user, channel, id("")),
            _ => {
                note(&self.notes, |n| bump(&mut n.skipped, skipped::OTHER_TEAMS_OPERATIONS));
                Ok(None)
            }
        }
    }

    /// A meeting from its own JoinTime and LeaveTime (not the record's
    /// CreationDate), in the meeting's channel, else the chat's.
    fn meeting(
        &self,
        line: u64,
        data: &AuditData,
        user: &str,
        chat: Option<String>,
        event_id: String,
    ) -> Result<Option<RawEvent>, InputError> {
        let time = |text: &str, column: &str| {
            parse_instant(text).map_err(|m| InputError::in_column(&self.file, line, column, m))
        };
        let Some(join) = data.join_time.as_deref().filter(|t| !t.is_empty()) else {
            return Err(InputError::in_column(
                &self.file,
                line,
                &self.column_name(self.columns.audit_data),
                "a MeetingParticipantDetail record without JoinTime; expected JoinTime and LeaveTime inside it",
            ));
        };
        let start = time(join, "AuditData.JoinTime")?;
        let duration = match data.leave_time.as_deref().filter(|t| !t.is_empty()) {
            Some(leave) => Some((time(leave, "AuditData.LeaveTime")? - start).max(0)),
            None => None,
        };
        let meeting = data.meeting_detail_id.as_deref().filter(|m| !m.is_empty()).map(|m| format!("m365:meeting:{m}"));
        Ok(Some(event(line, user, start, "meeting", meeting.or(chat), ChannelType::Group, duration, event_id)))
    }

    /// At the end: which message events the file lacks.
    fn finish(&self) {
        let sent = self.operations.contains_key("MessageSent");
        let with_link = self.operations.contains_key("MessageCreatedHasLink");
        note(&self.notes, |n| {
            if !sent && !with_link {
                n.not_recorded.push(NO_MESSAGES.to_string());
            } else if !sent {
                n.not_recorded.push(ONLY_LINK_MESSAGES.to_string());
            }
        });
    }
}

fn csv_error(file: &str, gzipped: bool, e: &csv::Error) -> InputError {
    let line = e.position().map_or(1, |p| p.line());
    match e.kind() {
        csv::ErrorKind::Io(io) => read_error(file, line, gzipped, io),
        csv::ErrorKind::Utf8 { .. } => InputError::new(file, line, "not valid UTF-8 text"),
        _ => InputError::new(file, line, format!("not valid CSV: {e}")),
    }
}

impl Iterator for AuditLog {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed && !self.done {
            let mut record = std::mem::take(&mut self.record);
            let read = self.csv.read_record(&mut record);
            self.record = record;
            let step = match read {
                Ok(false) => {
                    self.done = true;
                    self.finish();
                    return None;
                }
                Ok(true) if self.record.iter().all(|f| f.trim().is_empty()) => continue,
                Ok(true) => self.read_record(),
                Err(e) => Err(csv_error(&self.file, self.gzipped, &e)),
            };
            match step {
                Ok(Some(e)) => return Some(Ok(e)),
                Ok(None) => {}
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// A record's chat as a channel, and its type.
fn chat_of(data: &AuditData) -> (Option<String>, ChannelType) {
    let channel = data.chat_thread_id.as_deref().filter(|t| !t.is_empty()).map(|t| format!("m365:{t}"));
    let channel_type = match data.communication_type.as_deref() {
        Some("OneOnOne") => ChannelType::Direct,
        Some("GroupChat") | Some("Team") | Some("Channel") => ChannelType::Group,
        _ => ChannelType::Unknown,
    };
    (channel, channel_type)
}

/// A message record's own id (text or number), if it has one.
fn message_of(data: &AuditData) -> Option<String> {
    match &data.message_id {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<RawEvent, InputError>> {
        let input = crate::ingest::source::open("a.csv", std::io::Cursor::new(text.as_bytes().to_vec())).unwrap();
        AuditLog::new(input, SharedNotes::default()).unwrap().collect()
    }

    #[test]
    fn a_record_whose_audit_data_is_not_json_is_named_by_its_line() {
        let ok = r#"1,9/20/2023 4:05:03 AM,25,TeamsSessionStarted,a@b.c,"{""RecordType"":25,""Operation"":""TeamsSessionStarted"",""UserId"":""a@b.c""}""#;
        let text = format!(
            "RecordId,CreationDate,RecordType,Operation,UserId,AuditData\r\n{ok}\r\n2,9/20/2023 4:05:03 AM,25,X,a@b.c,{{oops\r\n"
        );
        let got = read(&text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].as_ref().unwrap().ts, 1_695_182_703);
        let err = got[1].as_ref().unwrap_err();
        assert_eq!((err.line, err.column.as_deref()), (3, Some("AuditData")), "{err}");
    }
}
