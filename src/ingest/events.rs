//! Event files (spec section 1): CSV with a header row, or NDJSON, with the
//! same field names. Streamed one record at a time; any message content a
//! source might carry is ignored, never read into a record.

use std::io::{BufRead, BufReader, Read};

use chrono_tz::Tz;
use csv::ByteRecord;
use serde::Deserialize;

use super::InputError;
use super::csv_file::CsvFile;
use super::source::{Input, normalise_header, not_utf8, read_error};
use super::timestamp::{self, EXPECTED, shorten};
use crate::domain::dataset::ChannelType;

/// One event as read from a file, identifiers normalised.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RawEvent {
    pub line: u64,
    pub user_id: String,
    pub ts: i64,
    pub kind: String,
    pub channel: Option<String>,
    pub channel_type: ChannelType,
    pub duration_seconds: Option<i64>,
    pub event_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

/// The format from the file name (`.csv`, `.ndjson`, `.jsonl`, `.json`, each
/// optionally `.gz`), else from the first non-blank byte of the content.
pub fn detect_format(name: &str, head: &[u8]) -> Format {
    let lower = name.to_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    if stem.ends_with(".csv") {
        return Format::Csv;
    }
    if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") || stem.ends_with(".json") {
        return Format::Ndjson;
    }
    match head.iter().find(|b| !b.is_ascii_whitespace() && **b != 0xef && **b != 0xbb && **b != 0xbf) {
        Some(b'{') => Format::Ndjson,
        _ => Format::Csv,
    }
}

/// Normalises a person identifier: trimmed and lower-cased.
pub fn normalise_user_id(s: &str) -> String {
    s.trim().to_lowercase()
}

/// The fields of one record, as text, before validation.
struct Fields<'a> {
    user_id: Option<&'a str>,
    timestamp: Timestamp<'a>,
    event: Option<&'a str>,
    channel: Option<&'a str>,
    channel_type: Option<&'a str>,
    duration_seconds: Option<Duration<'a>>,
    event_id: Option<&'a str>,
}

enum Timestamp<'a> {
    Missing,
    Text(&'a str),
    Unix(i64),
    Other(String),
}

enum Duration<'a> {
    Text(&'a str),
    Number(i64),
    Other(String),
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Longest identifiers accepted: far above real ids, far below what would
/// bloat the database.
const MAX_ID_CHARS: usize = 512;
/// Longest event kind name.
const MAX_KIND_CHARS: usize = 64;

impl Fields<'_> {
    fn validate(self, file: &str, line: u64, tz: Tz) -> Result<RawEvent, InputError> {
        let err = |column: &str, msg: String| InputError::in_column(file, line, column, msg);
        for (column, value, max) in [
            ("user_id", self.user_id, MAX_ID_CHARS),
            ("event", self.event, MAX_KIND_CHARS),
            ("channel", self.channel, MAX_ID_CHARS),
            ("event_id", self.event_id, MAX_ID_CHARS),
        ] {
            if let Some(v) = value
                && v.chars().count() > max
            {
                return Err(err(column, format!("longer than {max} characters; is this the right column?")));
            }
        }
        let user_id =
            non_empty(self.user_id).ok_or_else(|| err("user_id", "empty user id; every event needs one".into()))?;
        let ts = match self.timestamp {
            Timestamp::Missing => Err(format!("missing; {EXPECTED}")),
            Timestamp::Text(t) => timestamp::parse(t, tz),
            Timestamp::Unix(secs) => timestamp::parse_unix(secs),
            Timestamp::Other(v) => Err(format!("`{}` is not a timestamp; {EXPECTED}", shorten(&v))),
        }
        .map_err(|m| err("timestamp", m))?;
        let kind = non_empty(self.event)
            .ok_or_else(|| err("event", "empty event kind; expected e.g. message_sent or login".into()))?;
        let channel_type = match non_empty(self.channel_type) {
            None => ChannelType::Unknown,
            Some(t) => ChannelType::parse(&t.to_lowercase()).ok_or_else(|| {
                err(
                    "channel_type",
                    format!("`{}` is not a channel type; expected direct, group or broadcast", shorten(t)),
                )
            })?,
        };
        let duration_seconds = match self.duration_seconds {
            None => None,
            Some(Duration::Text(t)) if t.trim().is_empty() => None,
            Some(Duration::Text(t)) => Some(t.trim().parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
                err(
                    "duration_seconds",
                    format!("`{}` is not a number of seconds; expected a whole number >= 0", shorten(t)),
                )
            })?),
            Some(Duration::Number(n)) if n >= 0 => Some(n),
            Some(Duration::Number(n)) => {
                return Err(err("duration_seconds", format!("{n} is negative; expected a whole number >= 0")));
            }
            Some(Duration::Other(v)) => {
                return Err(err(
                    "duration_seconds",
                    format!("`{}` is not a number of seconds; expected a whole number >= 0", shorten(&v)),
                ));
            }
        };
        Ok(RawEvent {
            line,
            user_id: normalise_user_id(user_id),
            ts,
            kind: kind.to_string(),
            channel: non_empty(self.channel).map(str::to_string),
            channel_type,
            duration_seconds,
            event_id: non_empty(self.event_id).map(str::to_string),
        })
    }
}

/// Column positions of a CSV header.
struct Columns {
    user_id: usize,
    timestamp: usize,
    event: usize,
    channel: Option<usize>,
    channel_type: Option<usize>,
    duration_seconds: Option<usize>,
    event_id: Option<usize>,
}

/// Streams events from an input, one validated record at a time.
pub struct EventReader {
    file: String,
    gzipped: bool,
    tz: Tz,
    inner: Inner,
}

enum Inner {
    // Boxed: the CSV reader's buffers dwarf the NDJSON variant. A
    // [`CsvFile`], as for every CSV read here: records and errors on the
    // file's real line past blank lines, CRLF and a title row above the
    // header.
    Csv { csv: Box<CsvFile>, columns: Columns, record: ByteRecord },
    // `failed`: a read error ended the stream (as it ends the CSV reader).
    Ndjson { reader: BufReader<Box<dyn Read + Send>>, line: u64, buf: Vec<u8>, failed: bool },
}

impl EventReader {
    pub fn new(input: Input, tz: Tz) -> Result<EventReader, InputError> {
        let Input { name, gzipped, reader, .. } = input;
        let mut buffered = BufReader::with_capacity(256 * 1024, reader);
        let head = buffered.fill_buf().map_err(|e| read_error(&name, 1, gzipped, &e))?;
        let inner = match detect_format(&name, head) {
            Format::Ndjson => Inner::Ndjson { reader: buffered, line: 0, buf: Vec::with_capacity(512), failed: false },
            Format::Csv => {
                // The header is the first top line naming the required
                // columns (a title row above it is skipped), else line 1.
                let mut csv = CsvFile::open(&name, gzipped, Box::new(buffered), &has_required_columns, false)?;
                let columns = csv_columns(&mut csv)?;
                Inner::Csv { csv: Box::new(csv), columns, record: ByteRecord::new() }
            }
        };
        Ok(EventReader { file: name, gzipped, tz, inner })
    }

    pub fn format(&self) -> Format {
        match self.inner {
            Inner::Csv { .. } => Format::Csv,
            Inner::Ndjson { .. } => Format::Ndjson,
        }
    }

    /// The next event, an error, or `None` at the end of the file.
    pub fn next_event(&mut self) -> Option<Result<RawEvent, InputError>> {
        let (file, gzipped, tz) = (&self.file, self.gzipped, self.tz);
        match &mut self.inner {
            Inner::Csv { csv, columns, record } => next_csv(file, tz, csv, columns, record),
            Inner::Ndjson { reader, line, buf, failed } => next_ndjson(file, gzipped, tz, reader, line, buf, failed),
        }
    }
}

impl Iterator for EventReader {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event()
    }
}

/// The columns every event file names.
const REQUIRED: [&str; 3] = ["user_id", "timestamp", "event"];

fn has_required_columns(names: &[String]) -> bool {
    REQUIRED.iter().all(|r| names.iter().any(|n| normalise_header(n) == *r))
}

/// Reads and checks the header row: the position of each field's column.
fn csv_columns(csv: &mut CsvFile) -> Result<Columns, InputError> {
    let names: Vec<String> = csv.header()?.iter().map(|h| normalise_header(h)).collect();
    let (file, line) = (csv.file.as_str(), csv.header_at.line);
    let find = |n: &str| names.iter().position(|h| h == n);
    let require = |n: &str| {
        find(n).ok_or_else(|| {
            InputError::new(
                file,
                line,
                format!(
                    "missing column `{n}`; the header must name user_id, timestamp and event (it has: {})",
                    names.join(", ")
                ),
            )
        })
    };
    Ok(Columns {
        user_id: require("user_id")?,
        timestamp: require("timestamp")?,
        event: require("event")?,
        channel: find("channel"),
        channel_type: find("channel_type"),
        duration_seconds: find("duration_seconds"),
        event_id: find("event_id"),
    })
}

const CSV_FIELDS: [&str; 7] =
    ["user_id", "timestamp", "event", "channel", "channel_type", "duration_seconds", "event_id"];

fn next_csv(
    file: &str,
    tz: Tz,
    csv: &mut CsvFile,
    columns: &Columns,
    record: &mut ByteRecord,
) -> Option<Result<RawEvent, InputError>> {
    let line = match csv.read(record)? {
        Ok(line) => line,
        Err(e) => return Some(Err(e)),
    };
    let positions = [
        Some(columns.user_id),
        Some(columns.timestamp),
        Some(columns.event),
        columns.channel,
        columns.channel_type,
        columns.duration_seconds,
        columns.event_id,
    ];
    let mut text: [Option<&str>; 7] = [None; 7];
    for (slot, (pos, name)) in text.iter_mut().zip(positions.iter().zip(CSV_FIELDS)) {
        if let Some(i) = pos {
            match std::str::from_utf8(record.get(*i).unwrap_or_default()) {
                Ok(s) => *slot = Some(s),
                Err(_) => {
                    return Some(Err(not_utf8(file, line, Some(name), record.as_slice())));
                }
            }
        }
    }
    let fields = Fields {
        user_id: text[0],
        timestamp: text[1].map(Timestamp::Text).unwrap_or(Timestamp::Missing),
        event: text[2],
        channel: text[3],
        channel_type: text[4],
        duration_seconds: text[5].map(Duration::Text),
        event_id: text[6],
    };
    Some(fields.validate(file, line, tz))
}

/// The NDJSON fields we read; everything else on the line is ignored.
#[derive(Deserialize)]
struct JsonEvent {
    user_id: Option<serde_json::Value>,
    timestamp: Option<serde_json::Value>,
    event: Option<serde_json::Value>,
    channel: Option<serde_json::Value>,
    channel_type: Option<serde_json::Value>,
    duration_seconds: Option<serde_json::Value>,
    event_id: Option<serde_json::Value>,
}

fn json_text(v: &Option<serde_json::Value>) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        Some(serde_json::Value::String(s)) => Some(std::borrow::Cow::Borrowed(s)),
        Some(serde_json::Value::Number(n)) => Some(std::borrow::Cow::Owned(n.to_string())),
        Some(serde_json::Value::Bool(b)) => Some(std::borrow::Cow::Owned(b.to_string())),
        _ => None,
    }
}

fn next_ndjson(
    file: &str,
    gzipped: bool,
    tz: Tz,
    reader: &mut BufReader<Box<dyn Read + Send>>,
    line: &mut u64,
    buf: &mut Vec<u8>,
    failed: &mut bool,
) -> Option<Result<RawEvent, InputError>> {
    if *failed {
        return None;
    }
    loop {
        buf.clear();
        *line += 1;
        match reader.read_until(b'\n', buf) {
            Ok(0) => return None,
            Ok(_) => {}
            // A broken stream (corrupt gzip) fails on every read: report it
            // once and end, or a reader drained to the end never finishes.
            Err(e) => {
                *failed = true;
                return Some(Err(read_error(file, *line, gzipped, &e)));
            }
        }
        let mut bytes = &buf[..];
        if *line == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return Some(Err(not_utf8(file, *line, None, bytes))),
        };
        let parsed: JsonEvent = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(e) => {
                return Some(Err(InputError::new(
                    file,
                    *line,
                    format!("not a JSON object ({e}); expected one event object per line"),
                )));
            }
        };
        let timestamp = match &parsed.timestamp {
            None | Some(serde_json::Value::Null) => Timestamp::Missing,
            Some(serde_json::Value::String(s)) => Timestamp::Text(s),
            Some(serde_json::Value::Number(n)) => match n.as_i64() {
                Some(secs) => Timestamp::Unix(secs),
                None => Timestamp::Other(n.to_string()),
            },
            Some(other) => Timestamp::Other(other.to_string()),
        };
        let duration = match &parsed.duration_seconds {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(Duration::Text(s)),
            Some(serde_json::Value::Number(n)) => {
                Some(n.as_i64().map(Duration::Number).unwrap_or(Duration::Other(n.to_string())))
            }
            Some(other) => Some(Duration::Other(other.to_string())),
        };
        let user_id = json_text(&parsed.user_id);
        let event = json_text(&parsed.event);
        let channel = json_text(&parsed.channel);
        let channel_type = json_text(&parsed.channel_type);
        let event_id = json_text(&parsed.event_id);
        let fields = Fields {
            user_id: user_id.as_deref(),
            timestamp,
            event: event.as_deref(),
            channel: channel.as_deref(),
            channel_type: channel_type.as_deref(),
            duration_seconds: duration,
            event_id: event_id.as_deref(),
        };
        return Some(fields.validate(file, *line, tz));
    }
}
