//! Per-event vendor exports (the Mattermost bulk export and audit log, the
//! Zulip export, the Microsoft 365 unified audit log): unlike the
//! aggregated reports of this module, they carry one record per act, so they
//! become [`RawEvent`]s and give sessions and login depth.
//!
//! What they share: recognising them, reading JSON lines, the notes an
//! import keeps about what a file held (its own record types with counts,
//! records skipped and why, activity the source does not record at all).
//! Message content is never read into any structure: the fields that carry
//! it are not declared, so the JSON reader skips them unread.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime};

use super::super::InputError;
use super::super::events::{RawEvent, normalise_user_id};
use super::super::source::{Input, read_error};
use super::super::timestamp::{parse_unix, shorten};
use crate::domain::dataset::ChannelType;

/// The per-event sources, each recorded under its own name in the import
/// history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventSource {
    /// Mattermost bulk export (`mmctl export create`, JSONL).
    Mattermost,
    /// Mattermost audit log (JSON lines).
    MattermostAudit,
    /// Zulip export (`manage.py export`, a .tar.gz).
    Zulip,
    /// Microsoft 365 unified audit log exported from Purview (CSV).
    M365Audit,
}

impl EventSource {
    pub const ALL: [EventSource; 4] =
        [EventSource::Mattermost, EventSource::MattermostAudit, EventSource::Zulip, EventSource::M365Audit];

    /// The name in the import history.
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Mattermost => "mattermost",
            EventSource::MattermostAudit => "mattermost_audit",
            EventSource::Zulip => "zulip",
            EventSource::M365Audit => "m365_audit",
        }
    }

    pub fn parse(s: &str) -> Option<EventSource> {
        EventSource::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// A human name for messages.
    pub fn label(self) -> &'static str {
        match self {
            EventSource::Mattermost => "Mattermost bulk export",
            EventSource::MattermostAudit => "Mattermost audit log",
            EventSource::Zulip => "Zulip export",
            EventSource::M365Audit => "Microsoft 365 unified audit log",
        }
    }

    /// Whether the source records sign-ins or presence (see each module's
    /// `RECORDS_PRESENCE`).
    pub fn records_presence(self) -> bool {
        match self {
            EventSource::Mattermost => super::mattermost::RECORDS_PRESENCE,
            EventSource::MattermostAudit => super::mattermost::AUDIT_RECORDS_PRESENCE,
            EventSource::Zulip => super::zulip::RECORDS_PRESENCE,
            EventSource::M365Audit => super::m365_audit::RECORDS_PRESENCE,
        }
    }
}

/// What an import found in a file beyond its events, filled while it is
/// read and shown in the import summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// The source's own record types (Teams operations, audit event names,
    /// export line types) with counts.
    pub records: BTreeMap<String, u64>,
    /// Records read but not imported, by reason, with counts.
    pub skipped: BTreeMap<String, u64>,
    /// Activity this file has no record of at all (e.g. `message_sent`).
    pub not_recorded: Vec<String>,
}

/// Notes shared between a reader (on a blocking thread) and the import.
pub type SharedNotes = Arc<Mutex<Notes>>;

pub(super) fn note(notes: &SharedNotes, f: impl FnOnce(&mut Notes)) {
    let mut guard = notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    f(&mut guard);
}

pub(super) fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_string()).or_default() += 1;
}

/// One event, identifiers normalised.
#[allow(clippy::too_many_arguments)]
pub(super) fn event(
    line: u64,
    user: &str,
    ts: i64,
    kind: &str,
    channel: Option<String>,
    channel_type: ChannelType,
    duration_seconds: Option<i64>,
    event_id: String,
) -> RawEvent {
    RawEvent {
        line,
        user_id: normalise_user_id(user),
        ts,
        kind: kind.to_string(),
        channel,
        channel_type,
        duration_seconds,
        event_id: Some(event_id),
    }
}

/// Reads a file of JSON lines one line at a time (blank lines skipped).
pub(super) struct JsonLines {
    file: String,
    gzipped: bool,
    reader: BufReader<Box<dyn Read + Send>>,
    pub(super) line: u64,
    pub(super) buf: String,
}

impl JsonLines {
    pub(super) fn new(input: Input) -> JsonLines {
        JsonLines {
            file: input.name,
            gzipped: input.gzipped,
            reader: BufReader::with_capacity(256 * 1024, input.reader),
            line: 0,
            buf: String::new(),
        }
    }

    pub(super) fn file(&self) -> &str {
        &self.file
    }

    /// The next non-blank line into `buf`; `None` at the end.
    pub(super) fn next_line(&mut self) -> Option<Result<(), InputError>> {
        loop {
            self.buf.clear();
            self.line += 1;
            match self.reader.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) if self.buf.trim().is_empty() => continue,
                Ok(_) => return Some(Ok(())),
                Err(e) => return Some(Err(read_error(&self.file, self.line, self.gzipped, &e))),
            }
        }
    }

    /// The current line parsed as `T`.
    pub(super) fn parse<T: serde::de::DeserializeOwned>(&self, expected: &str) -> Result<T, InputError> {
        serde_json::from_str(self.buf.trim_end()).map_err(|e| json_error(&self.file, self.line, &e, expected))
    }
}

/// A JSON error at `line` (of a JSON-lines file, or where serde counted it),
/// with its column and what was expected.
pub(super) fn json_error(file: &str, line: u64, e: &serde_json::Error, expected: &str) -> InputError {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the JSON is truncated".to_string(),
        serde_json::error::Category::Syntax => "not valid JSON".to_string(),
        serde_json::error::Category::Data => "unexpected JSON".to_string(),
        serde_json::error::Category::Io => "cannot read".to_string(),
    };
    let detail = e.to_string();
    let detail = detail.split(" at line ").next().unwrap_or(&detail).to_string();
    InputError::new(file, line, format!("{what} at column {} ({detail}); expected {expected}", e.column()))
}

/// Milliseconds since the epoch (Mattermost's `create_at`) as seconds.
pub(super) fn from_millis(ms: i64) -> Result<i64, String> {
    parse_unix(ms.div_euclid(1000))
}

/// Fractional seconds (Zulip's `date_sent`) as whole seconds.
pub(super) fn from_float_seconds(secs: f64) -> Result<i64, String> {
    if !secs.is_finite() {
        return Err(format!("{secs} is not a time"));
    }
    parse_unix(secs.floor() as i64)
}

/// An instant written as RFC 3339, `2022-08-17 20:37:52.846 +01:00`
/// (Mattermost's audit log), an ISO date and time without offset (read as
/// UTC, as Microsoft writes them), or Purview's `9/20/2023 4:05:03 AM` (UTC).
pub(super) fn parse_instant(text: &str) -> Result<i64, String> {
    let s = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return parse_unix(dt.timestamp());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f %:z", "%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%d %H:%M:%S%.f %Z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, format) {
            return parse_unix(dt.timestamp());
        }
    }
    let naive = s.strip_suffix(" Z").or_else(|| s.strip_suffix('Z')).unwrap_or(s);
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, format) {
            return parse_unix(dt.and_utc().timestamp());
        }
    }
    Err(format!(
        "`{}` is not a time; expected e.g. 2022-08-17 20:37:52.846 +01:00, 2023-09-20T04:05:03Z or 9/20/2023 4:05:03 AM",
        shorten(s)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_engines_capability_table_agrees_with_each_source() {
        for source in super::EventSource::ALL {
            assert_eq!(
                crate::domain::coverage::records_presence(source.as_str()),
                source.records_presence(),
                "{}",
                source.as_str()
            );
        }
    }

    use super::*;

    #[test]
    fn instants_in_each_vendor_s_format() {
        assert_eq!(parse_instant("2022-08-17 20:37:52.846 +01:00"), Ok(1_660_765_072));
        assert_eq!(parse_instant("2022-08-17T19:37:52Z"), Ok(1_660_765_072));
        assert_eq!(parse_instant("2022-08-17 19:37:52.846 Z"), Ok(1_660_765_072));
        assert_eq!(parse_instant("9/20/2023 4:05:03 AM"), Ok(1_695_182_703));
        assert_eq!(parse_instant("9/20/2023 4:05:03 PM"), Ok(1_695_182_703 + 12 * 3600));
        assert_eq!(parse_instant("2023-09-20T04:05:03"), Ok(1_695_182_703));
        assert_eq!(parse_instant("2023-09-20T04:05:03.0000000Z"), Ok(1_695_182_703));
        assert!(parse_instant("yesterday").unwrap_err().contains("not a time"));
        assert_eq!(from_millis(1_695_182_703_999), Ok(1_695_182_703));
        assert_eq!(from_float_seconds(1_695_182_703.75), Ok(1_695_182_703));
        assert!(from_float_seconds(f64::NAN).is_err());
    }

    #[test]
    fn sources_have_their_own_names() {
        for s in EventSource::ALL {
            assert_eq!(EventSource::parse(s.as_str()), Some(s));
        }
        assert!(!EventSource::Mattermost.records_presence());
        assert!(EventSource::MattermostAudit.records_presence());
        assert!(EventSource::Zulip.records_presence());
        assert!(EventSource::M365Audit.records_presence());
    }
}
