//! The Slack audit log (Enterprise plans): entries of the Audit Logs API,
//! `GET https://api.slack.com/audit/v1/logs`, saved as the API returns
//! them (`{"entries": [...], "response_metadata": ...}`, several pages one
//! after the other allowed), as a JSON array of entries or as NDJSON (one
//! entry per line). See
//! <https://docs.slack.dev/reference/audit-logs-api/methods-actions-reference>.
//!
//! An entry: `id`, `date_create` (Unix seconds), `action`,
//! `actor{type, user{id, name, email}}`, `entity`, `context{location, ua,
//! ip_address, session_id}`. What becomes an event (docs/metrics.md):
//! `user_login` -> `login`; `user_logout`, `user_session_invalidated` ->
//! `logout`; `file_uploaded`, `file_shared` -> `file_shared` (no event id,
//! no channel: the same act in the workspace export counts once);
//! `file_downloaded` -> `file_downloaded`, a passive kind of its own. Every
//! other action is left out and counted by name. The person is the actor's
//! e-mail when given, else their Slack id.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::BufReader;

use serde::Deserialize;

use super::super::InputError;
use super::super::events::RawEvent;
use super::super::source::Input;
use super::json_array::JsonArray;
use super::reader::{Stream, next_line};
use super::skipped;
use crate::domain::dataset::ChannelType;

/// The source name of this log's imports (the capability table's key).
pub const SOURCE: &str = "slack_audit";

/// The kind `file_downloaded` is stored as: passive, a custom kind.
pub const FILE_DOWNLOADED: &str = "file_downloaded";

/// Whether the first bytes of a (decompressed) file look like Audit Logs
/// API entries.
pub fn looks_like(head: &[u8]) -> bool {
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    has(b"\"date_create\"") && has(b"\"action\"") && has(b"\"actor\"")
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    date_create: serde_json::Value,
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(default, borrow)]
    actor: Option<Actor<'a>>,
}

#[derive(Deserialize)]
struct Actor<'a> {
    #[serde(default, borrow)]
    user: Option<ActorUser<'a>>,
}

#[derive(Deserialize)]
struct ActorUser<'a> {
    #[serde(default, borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    email: Option<Cow<'a, str>>,
}

enum Rows {
    Ndjson { reader: BufReader<Stream>, line: u64, buf: Vec<u8> },
    Array(JsonArray),
}

/// Streams the events of a Slack audit log.
pub struct SlackAudit {
    file: String,
    gzipped: bool,
    rows: Rows,
    left_out: BTreeMap<String, u64>,
    /// Actors seen with both an e-mail and a Slack id: e-mail to id.
    people: BTreeMap<String, String>,
    done: bool,
}

impl SlackAudit {
    pub fn new(input: Input) -> Result<SlackAudit, InputError> {
        let file = input.name.clone();
        let gzipped = input.gzipped;
        let mut reader = BufReader::with_capacity(256 * 1024, input.reader);
        let head = std::io::BufRead::fill_buf(&mut reader)
            .map_err(|e| super::super::source::read_error(&file, 1, gzipped, &e))?
            .to_vec();
        let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&head);
        let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
        let stream: Stream = Box::new(reader);
        let rows = match first {
            Some(b'[') => Rows::Array(JsonArray::new(stream)),
            Some(b'{') if is_envelope(head) => Rows::Array(JsonArray::envelope(stream, &["entries"])),
            Some(b'{') => Rows::Ndjson { reader: BufReader::new(stream), line: 0, buf: Vec::new() },
            _ => {
                return Err(InputError::new(
                    &file,
                    1,
                    "not a Slack audit log: expected the Audit Logs API's JSON ({\"entries\": [...]}), a JSON array \
                     of entries or one entry per line",
                ));
            }
        };
        Ok(SlackAudit { file, gzipped, rows, left_out: BTreeMap::new(), people: BTreeMap::new(), done: false })
    }

    /// Actors seen with both an e-mail and a Slack id (e-mail, id),
    /// lower-cased: the id is the e-mail's person's too.
    pub fn people(&self) -> &BTreeMap<String, String> {
        &self.people
    }

    /// Entries left out so far, by reason.
    pub fn left_out(&self) -> &BTreeMap<String, u64> {
        &self.left_out
    }

    fn event(&mut self, line: u64, bytes: &[u8]) -> Result<Option<RawEvent>, InputError> {
        let entry: Entry = serde_json::from_slice(bytes.trim_ascii_end()).map_err(|e| {
            let text = e.to_string();
            let text = text.split(" at line ").next().unwrap_or(&text).to_string();
            InputError::new(&self.file, line + e.line() as u64 - 1, format!("column {}: {text}", e.column()))
        })?;
        let kind = match entry.action.as_ref() {
            "user_login" => "login",
            "user_logout" | "user_session_invalidated" => "logout",
            "file_uploaded" | "file_shared" => "file_shared",
            "file_downloaded" => FILE_DOWNLOADED,
            other => {
                *self.left_out.entry(skipped::named(skipped::AUDIT_ACTION, other)).or_default() += 1;
                return Ok(None);
            }
        };
        let ts = match &entry.date_create {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|ts| (0..=253_402_300_799).contains(ts))
        .ok_or_else(|| {
            InputError::in_column(
                &self.file,
                line,
                "date_create",
                format!("`{}` is not a time; expected Unix seconds such as 1772414100", entry.date_create),
            )
        })?;
        let user = entry.actor.and_then(|a| a.user);
        let email = user.as_ref().and_then(|u| u.email.as_deref()).map(str::trim).filter(|e| !e.is_empty());
        let id = user.as_ref().and_then(|u| u.id.as_deref()).map(str::trim).filter(|e| !e.is_empty());
        let Some(person) = email.or(id).map(str::to_lowercase) else {
            *self.left_out.entry(skipped::AUDIT_ENTRIES_WITHOUT_PERSON.into()).or_default() += 1;
            return Ok(None);
        };
        if let (Some(_), Some(id)) = (email, id)
            && !self.people.contains_key(&person)
        {
            self.people.insert(person.clone(), id.to_lowercase());
        }
        let event_id = (kind != "file_shared").then(|| format!("slack-audit:{}", entry.id));
        Ok(Some(RawEvent {
            line,
            user_id: person,
            ts,
            kind: kind.to_string(),
            channel: None,
            channel_type: ChannelType::Unknown,
            duration_seconds: None,
            event_id,
        }))
    }
}

/// Whether a file starting with `{` is one API response (or several)
/// rather than one entry per line: its first object holds `entries`
/// before any entry's own keys.
fn is_envelope(head: &[u8]) -> bool {
    let find = |needle: &[u8]| head.windows(needle.len()).position(|w| w == needle);
    match (find(b"\"entries\""), find(b"\"date_create\"")) {
        (Some(e), Some(d)) => e < d,
        (Some(_), None) => true,
        _ => false,
    }
}

impl Iterator for SlackAudit {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (line, bytes) = match &mut self.rows {
                Rows::Ndjson { reader, line, buf } => match next_line(&self.file, self.gzipped, reader, line, buf) {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                    Some(Ok(bytes)) => (*line, bytes.to_vec()),
                },
                Rows::Array(array) => match array.next_object(&self.file, self.gzipped) {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                    Some(Ok(line)) => (line, array.buf.clone()),
                },
            };
            match self.event(line, &bytes) {
                Ok(Some(e)) => return Some(Ok(e)),
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}
