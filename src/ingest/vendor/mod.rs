//! Vendor activity exports (see the vendor-exports spec): Microsoft Teams user
//! activity user detail, Slack member analytics (dashboard CSV and API
//! NDJSON), Feishu / Lark `admin_user_stats` and the Google Chat user usage
//! report. Each is streamed record by record into per-person [`PeriodFact`]s.
//!
//! Columns (CSV) and keys (JSON) are mapped by normalised name, never by
//! position: a UTF-8 BOM is stripped, white space trimmed and collapsed, case
//! ignored, and spaces and underscores are the same (`User Email` is
//! `user_email`).
//!
//! Containers: CSV with a header row, NDJSON (one object per line, blank lines
//! skipped), a top-level JSON array of objects, or a vendor's raw API
//! response whose records sit in an array under a known key (an envelope):
//! Microsoft Graph's `{"@odata.context", "value": [...], "@odata.nextLink"}`,
//! Google's Reports API `{"kind", "usageReports": [...], "nextPageToken"}`,
//! Feishu's `{"code", "msg", "data": {"items": [...], "has_more",
//! "page_token"}}`; several pages saved one after the other in one file are
//! read in turn. Any of them may be gzipped (undone by
//! [`super::source::open`]). A JSON array is streamed element by element,
//! each element at most [`MAX_LINE_BYTES`]; but since `source::open` refuses
//! any single line longer than that, an array written on one line (minified)
//! is limited to 1 MiB in total: pretty-print it or use NDJSON.
//!
//! Each report is recognised by its own columns: Teams user activity by its
//! message, call and meeting columns, not by the columns every Microsoft 365
//! usage report shares; another Microsoft 365 report (Email activity, Teams
//! device usage) is refused at line 1 saying what it is.
//!
//! Memory does not grow with the file: one record (CSV row, NDJSON line or
//! array element) is held at a time.

mod dates;
mod feishu;
mod google;
mod slack;
mod teams;

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read};

use chrono::NaiveDate;
use csv::ByteRecord;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::InputError;
use super::csv_file::{CsvFile, Deferred, find_header};
use super::source::{Input, LineTooLong, MAX_LINE_BYTES, normalise_header, read_error};
use super::timestamp::shorten;
use crate::domain::facts::{FactSource, PeriodFact};

pub use dates::DateOrder;
pub use slack::period_from_name as slack_period_from_name;

/// How much of the (decompressed) input is read ahead to recognise it.
const HEAD_BYTES: usize = 64 * 1024;

/// The vendor export formats read here; one for each [`FactSource`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VendorFormat {
    /// Microsoft Teams user activity user detail (CSV).
    Teams,
    /// Slack member analytics dashboard export (CSV, period in the file name).
    SlackDashboard,
    /// Slack `admin.analytics.getFile?type=member` (NDJSON, per person per day).
    SlackApi,
    /// Feishu / Lark `admin_user_stats` (NDJSON or a JSON array, per person per day).
    Feishu,
    /// Google Workspace user usage report, chat parameters (CSV or NDJSON).
    GoogleChat,
}

impl VendorFormat {
    pub const ALL: [VendorFormat; 5] = [
        VendorFormat::Teams,
        VendorFormat::SlackDashboard,
        VendorFormat::SlackApi,
        VendorFormat::Feishu,
        VendorFormat::GoogleChat,
    ];

    pub fn source(self) -> FactSource {
        match self {
            VendorFormat::Teams => FactSource::Teams,
            VendorFormat::SlackDashboard => FactSource::SlackDashboard,
            VendorFormat::SlackApi => FactSource::SlackApi,
            VendorFormat::Feishu => FactSource::Feishu,
            VendorFormat::GoogleChat => FactSource::GoogleChat,
        }
    }

    pub fn from_source(source: FactSource) -> VendorFormat {
        match source {
            FactSource::Teams => VendorFormat::Teams,
            FactSource::SlackDashboard => VendorFormat::SlackDashboard,
            FactSource::SlackApi => VendorFormat::SlackApi,
            FactSource::Feishu => VendorFormat::Feishu,
            FactSource::GoogleChat => VendorFormat::GoogleChat,
        }
    }

    /// A human name for messages.
    pub fn label(self) -> &'static str {
        match self {
            VendorFormat::Teams => "Teams user activity user detail",
            VendorFormat::SlackDashboard => "Slack member analytics dashboard export",
            VendorFormat::SlackApi => "Slack member analytics API data",
            VendorFormat::Feishu => "Feishu admin_user_stats",
            VendorFormat::GoogleChat => "Google Chat user usage report",
        }
    }

    fn fields(self) -> &'static [Field] {
        match self {
            VendorFormat::Teams => teams::FIELDS,
            VendorFormat::SlackDashboard => slack::DASHBOARD_FIELDS,
            VendorFormat::SlackApi => slack::API_FIELDS,
            VendorFormat::Feishu => feishu::FIELDS,
            VendorFormat::GoogleChat => google::FIELDS,
        }
    }
}

/// Parse options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VendorOptions {
    /// The period (first and last day, inclusive) of a Slack dashboard export
    /// whose file name does not carry it; one day (the same day twice): the
    /// day a Teams daily report is for, when its name does not carry it. A
    /// period or day in the file name wins.
    pub period: Option<(NaiveDate, NaiveDate)>,
    /// The order of day and month in slashed dates (`5/6/2025`), when the
    /// file does not decide it (`--date-order`).
    pub date_order: Option<DateOrder>,
}

/// Recognises a vendor export from its name and the start of its
/// (decompressed) content: the normalised CSV header, or the keys of the
/// first JSON object. `None` if it is none of them.
pub fn detect(name: &str, head: &[u8]) -> Option<VendorFormat> {
    sniff(name, head).format
}

// ---------------------------------------------------------------------------
// Recognition

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Container {
    Csv,
    Ndjson,
    Array,
    /// A raw API response: the records are the array at this key path.
    Envelope(&'static [&'static str]),
}

/// Where each vendor's raw API response keeps its records: Graph reports
/// (`value`), Google's Reports API (`usageReports`), Feishu (`data.items`).
const ENVELOPES: &[&[&str]] = &[&["value"], &["usageReports"], &["data", "items"]];

struct Sniff {
    container: Container,
    /// Header names or top-level keys as written (trimmed, BOM stripped).
    names: Vec<String>,
    format: Option<VendorFormat>,
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

fn container(name: &str, head: &[u8]) -> Container {
    let first = strip_bom(head).iter().copied().find(|b| !b.is_ascii_whitespace());
    let lower = name.to_lowercase();
    let stem = lower.strip_suffix(".gz").unwrap_or(&lower);
    if stem.ends_with(".csv") {
        return Container::Csv;
    }
    match first {
        Some(b'[') => Container::Array,
        Some(b'{') => Container::Ndjson,
        _ if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") || stem.ends_with(".json") => Container::Ndjson,
        _ => Container::Csv,
    }
}

fn sniff(name: &str, head: &[u8]) -> Sniff {
    let mut container = container(name, head);
    let mut names = match container {
        // The header may sit below a title row or PowerShell's `#TYPE` line.
        Container::Csv => find_header(head, &|names| classify(&keys(names)).is_some()).names,
        Container::Ndjson | Container::Array | Container::Envelope(_) => json_head_keys(strip_bom(head)),
    };
    if container == Container::Ndjson {
        if let Some((path, inner)) = envelope_head(strip_bom(head)) {
            container = Container::Envelope(path);
            if !inner.is_empty() {
                names = inner;
            }
        } else if let Some(path) = envelope_by_keys(&names) {
            // A page without its records array (Feishu's failed call:
            // `{"code": 1051002, "msg": ..., "data": {}}`).
            container = Container::Envelope(path);
        }
    }
    Sniff { container, format: classify(&keys(&names)), names }
}

fn keys(names: &[String]) -> Vec<String> {
    names.iter().map(|n| key(n)).collect()
}

/// Whether a header line has every column `format` requires.
fn has_required(format: VendorFormat, names: &[String]) -> bool {
    let normalised = keys(names);
    let fields = format.fields();
    missing(fields, |i| fields.get(i).is_some_and(|f| f.keys().iter().any(|k| normalised.contains(k)))).is_none()
}

/// The top-level keys of the first JSON object in `head` (itself, or the
/// first element of an array). `head` may end inside the object: the keys
/// read before the cut are kept.
fn json_head_keys(head: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(head);
    // An error only means the head ended early or the JSON is bad; what was
    // collected before it is still useful for recognition and messages.
    let _ = TopKeys { keys: &mut keys, nested: false }.deserialize(&mut de);
    keys
}

/// The envelope of a raw API response recognised by its other keys, when its
/// records array is absent or empty: Feishu's `code` + `data`, Graph's
/// `@odata.context`.
fn envelope_by_keys(top: &[String]) -> Option<&'static [&'static str]> {
    let has = |k: &str| top.iter().any(|x| x == k);
    if has("code") && has("data") {
        Some(&["data", "items"])
    } else if has("@odata.context") {
        Some(&["value"])
    } else {
        None
    }
}

/// The key path and the first record's keys when `head` starts a raw API
/// response (see [`ENVELOPES`]); `None` when it is an ordinary object.
fn envelope_head(head: &[u8]) -> Option<(&'static [&'static str], Vec<String>)> {
    let mut found = EnvelopeKeys { path: None, inner: Vec::new(), level: 0 };
    let mut de = serde_json::Deserializer::from_slice(head);
    // As in `json_head_keys`, an error only means the head was cut short.
    let _ = (&mut found).deserialize(&mut de);
    found.path.map(|p| (p, found.inner))
}

struct EnvelopeKeys {
    /// The envelope found (its records array was reached).
    path: Option<&'static [&'static str]>,
    inner: Vec<String>,
    /// How deep into the candidate paths the visitor is.
    level: usize,
}

impl<'de> DeserializeSeed<'de> for &mut EnvelopeKeys {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut EnvelopeKeys {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            let level = self.level;
            let candidate = ENVELOPES.iter().find(|p| p.get(level) == Some(&k.as_str()) && self.path.is_none());
            match candidate {
                Some(path) if path.len() == level + 1 => {
                    let mut records = EnvelopeRecords { keys: &mut self.inner, reached: false };
                    // The head may end inside the first record: keep what was read.
                    let read = map.next_value_seed(&mut records);
                    if records.reached {
                        self.path = Some(path);
                    }
                    read?;
                }
                Some(_) => {
                    self.level += 1;
                    map.next_value_seed(&mut *self)?;
                    self.level = level;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        // Not an envelope; stopping here ends the scan.
        Ok(())
    }
}

/// The records array of an envelope: the keys of its first record.
struct EnvelopeRecords<'k> {
    keys: &'k mut Vec<String>,
    /// The value was an array.
    reached: bool,
}

impl<'de> DeserializeSeed<'de> for &mut EnvelopeRecords<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut EnvelopeRecords<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.reached = true;
        seq.next_element_seed(TopKeys { keys: self.keys, nested: true })?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
}

struct TopKeys<'k> {
    keys: &'k mut Vec<String>,
    /// Already inside the top-level array.
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for TopKeys<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopKeys<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object or an array of objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            self.keys.push(k);
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.nested {
            seq.next_element_seed(TopKeys { keys: self.keys, nested: true })?;
        }
        // The rest of the array is not needed; stopping here makes the
        // deserializer report an error, which the caller ignores.
        Ok(())
    }
}

/// Teams user activity's own columns (Graph `getTeamsUserActivityUserDetail`,
/// current and older 12-column versions), normalised: a file needs one of
/// them to be Teams user activity. The columns every Microsoft 365 usage
/// report shares (Report Refresh Date, User Principal Name, Report Period)
/// are not enough.
const TEAMS_ACTIVITY: &[&str] = &[
    "team_chat_message_count",
    "private_chat_message_count",
    "call_count",
    "meeting_count",
    "post_messages",
    "reply_messages",
    "meetings_attended_count",
    "meetings_organized_count",
    "audio_duration",
    "video_duration",
    "screen_share_duration",
    "audio_duration_in_seconds",
    "video_duration_in_seconds",
    "screen_share_duration_in_seconds",
];

/// The columns every Microsoft 365 usage report (Graph `reportRoot`) shares.
fn microsoft_365_report(keys: &[String]) -> bool {
    let has = |k: &str| keys.iter().any(|x| x == k);
    has("user_principal_name") && (has("report_refresh_date") || has("report_period"))
}

fn is_teams_user_activity(keys: &[String]) -> bool {
    microsoft_365_report(keys) && keys.iter().any(|k| TEAMS_ACTIVITY.contains(&k.as_str()))
}

/// Why a Microsoft 365 report that is not Teams user activity is refused,
/// naming the report it looks like; `None` for anything else.
fn other_microsoft_365_report(names: &[String]) -> Option<String> {
    let keys: Vec<String> = names.iter().map(|n| key(n)).collect();
    if !microsoft_365_report(&keys) || is_teams_user_activity(&keys) {
        return None;
    }
    let shown = |wanted: &[&str]| -> Vec<String> {
        names.iter().filter(|n| wanted.contains(&key(n).as_str())).map(|n| format!("`{}`", shorten(n))).collect()
    };
    const EMAIL: &[&str] =
        &["send_count", "receive_count", "read_count", "meeting_created_count", "meeting_interacted_count"];
    const DEVICES: &[&str] = &[
        "used_web",
        "used_windows_phone",
        "used_ios",
        "used_mac",
        "used_android_phone",
        "used_windows",
        "used_chrome_os",
        "used_linux",
    ];
    let (what, columns) = if !shown(EMAIL).is_empty() {
        ("the Microsoft 365 Email activity user detail report", shown(EMAIL))
    } else if !shown(DEVICES).is_empty() {
        ("the Teams device usage user detail report", shown(DEVICES))
    } else {
        let all: Vec<String> = names.iter().take(15).map(|n| format!("`{}`", shorten(n))).collect();
        ("a Microsoft 365 usage report with only the columns every such report shares", all)
    };
    Some(format!(
        "this is {what}, not Teams user activity: it has {} and none of Teams user activity's `Team Chat Message \
         Count`, `Private Chat Message Count`, `Call Count` or `Meeting Count`; download the Teams user activity \
         report (Microsoft 365 admin center, Reports, Usage, Microsoft Teams, User activity, or Graph \
         getTeamsUserActivityUserDetail)",
        columns.join(", ")
    ))
}

fn classify(keys: &[String]) -> Option<VendorFormat> {
    let has = |k: &str| keys.iter().any(|x| x == k);
    if is_teams_user_activity(keys) {
        Some(VendorFormat::Teams)
    } else if microsoft_365_report(keys) {
        None
    } else if has("messages_posted_count") || has("is_billable_seat") || (has("enterprise_id") && has("is_active")) {
        Some(VendorFormat::SlackApi)
    } else if has("days_active") && has("messages_posted") {
        Some(VendorFormat::SlackDashboard)
    } else if has("user_active_flag") || has("send_messenger_num") {
        Some(VendorFormat::Feishu)
    } else if keys.iter().any(|k| k.strip_prefix("chat:").unwrap_or(k).starts_with("num_28day_"))
        || (has("entity") && has("parameters"))
    {
        Some(VendorFormat::GoogleChat)
    } else {
        None
    }
}

fn not_recognised(file: &str, sniff: &Sniff) -> InputError {
    const EXPECTED: &str = "expected e.g. Teams `User Principal Name` and `Team Chat Message Count`, Slack `Days active` \
         and `Messages posted` or `messages_posted_count`, Feishu `user_active_flag`, or Google Chat \
         `num_28day_messages_and_reactions_sent`";
    if sniff.names.is_empty() {
        return InputError::new(
            file,
            1,
            format!("not a Teams, Slack, Feishu or Google Chat export: the file is empty or unreadable; {EXPECTED}"),
        );
    }
    let mut shown: Vec<String> = sniff.names.iter().take(15).map(|n| shorten(n)).collect();
    if sniff.names.len() > 15 {
        shown.push("…".to_string());
    }
    let keys: Vec<String> = sniff.names.iter().map(|n| key(n)).collect();
    let no_records = matches!(sniff.container, Container::Envelope(_)) && envelope_by_keys(&keys).is_some();
    let what = match sniff.container {
        Container::Csv => "the header has",
        Container::Envelope(_) if !no_records => "the first record has the keys",
        Container::Ndjson | Container::Array | Container::Envelope(_) => "the first object has the keys",
    };
    let hint = if no_records {
        " (a raw API response whose first page has no records; if its `code` is not 0 the call failed: see its `msg`)"
    } else {
        ""
    };
    InputError::new(
        file,
        1,
        format!("not a Teams, Slack, Feishu or Google Chat export: {what} {}{hint}; {EXPECTED}", shown.join(", ")),
    )
}

// ---------------------------------------------------------------------------
// Field lists

/// Whether a field must be present.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    Optional,
    Required,
    /// Required unless the field with this index is present.
    Unless(usize),
}

/// A column (CSV) or key (JSON) a format reads. Each format lists its fields
/// in a slice where `FIELDS[f.index]` is `f`.
#[derive(Debug)]
struct Field {
    index: usize,
    /// The name as the vendor documents it; used in messages.
    name: &'static str,
    /// Other accepted names.
    also: &'static [&'static str],
    need: Need,
}

impl Field {
    const fn new(index: usize, name: &'static str) -> Field {
        Field { index, name, also: &[], need: Need::Optional }
    }

    const fn required(self) -> Field {
        Field { need: Need::Required, ..self }
    }

    const fn unless(self, other: &Field) -> Field {
        Field { need: Need::Unless(other.index), ..self }
    }

    const fn or(self, also: &'static [&'static str]) -> Field {
        Field { also, ..self }
    }

    /// Every accepted name, normalised.
    fn keys(&self) -> Vec<String> {
        std::iter::once(self.name).chain(self.also.iter().copied()).map(key).collect()
    }
}

/// A header name or JSON key compared loosely: see the module comment. A
/// single camelCase word (Graph's `teamChatMessageCount`, Google's
/// `userEmail`) becomes snake_case first (`team_chat_message_count`).
fn key(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}').trim();
    let camel = !name.contains(|c: char| c.is_whitespace() || c == '_')
        && name.contains(|c: char| c.is_ascii_lowercase())
        && name.contains(|c: char| c.is_ascii_uppercase());
    if !camel {
        return normalise_header(name).replace(' ', "_");
    }
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
        previous = Some(c);
    }
    out
}

/// True when `key(k) == k`, to skip the allocation for ordinary JSON keys.
fn is_key_form(k: &str) -> bool {
    !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_:()-".contains(&b))
}

/// The message for a missing field, or `None` if the needs are met.
fn missing(fields: &[Field], present: impl Fn(usize) -> bool) -> Option<(&'static str, String)> {
    for f in fields {
        match f.need {
            Need::Optional => {}
            Need::Required if !present(f.index) => return Some((f.name, String::new())),
            Need::Unless(other) if !present(f.index) && !present(other) => {
                let other = fields.get(other).map(|o| o.name).unwrap_or("?");
                return Some((f.name, format!(" (or `{other}`)")));
            }
            Need::Required | Need::Unless(_) => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------
// One record

#[derive(Clone, Copy)]
enum Val<'a> {
    /// The column or key is not there.
    Missing,
    Text(&'a str),
    Json(&'a Value),
}

struct Cell<'a> {
    /// The column name as written in the file, or the key.
    column: &'a str,
    value: Val<'a>,
}

static MISSING_CELL: Cell<'static> = Cell { column: "", value: Val::Missing };

/// One record's values for a format's fields, indexed by `Field::index`.
struct Row<'a> {
    file: &'a str,
    line: u64,
    cells: Vec<Cell<'a>>,
    /// The order of slashed dates, when known (see `dates`).
    dates: Option<DateOrder>,
    /// The thousands separator counts may carry besides spaces: `,` in a
    /// comma or tab separated file, `.` in a `;` separated one (European
    /// Excel); none in JSON.
    group: Option<char>,
}

const COUNT: &str = "expected a whole number >= 0";

/// A count, maybe with thousands separators as spreadsheets write them:
/// `1,234` (or `1.234` when `group` is `.`), `1 234` with a space or a
/// non-breaking space. Groups must be whole: `1,2` and `12,34` are not counts.
fn parse_count(text: &str, group: Option<char>) -> Result<u32, String> {
    let t = text.trim();
    let ungrouped = ungroup(t, group);
    let t = ungrouped.as_deref().unwrap_or(t);
    if let Ok(n) = t.parse::<u64>() {
        return u32::try_from(n).map_err(|_| format!("{n} is too large; {COUNT} below 4294967296"));
    }
    if let Some(rest) = t.strip_prefix('-')
        && rest.parse::<u64>().is_ok()
    {
        return Err(format!("{t} is negative; {COUNT}"));
    }
    Err(format!("`{}` is not a whole number; {COUNT}", shorten(t)))
}

/// The digits of `text` without its thousands separators, when it is a
/// grouped number: 1 to 3 digits, then groups of exactly 3, one separator
/// throughout (any kind of space counts as one).
fn ungroup(text: &str, group: Option<char>) -> Option<String> {
    let is_sep = |c: char| Some(c) == group || matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}');
    let sep = text.chars().find(|c| !c.is_ascii_digit())?;
    if !is_sep(sep) {
        return None;
    }
    let same = |c: char| c == sep || (sep != ',' && sep != '.' && is_sep(c) && c != ',' && c != '.');
    let groups: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).collect();
    let separators_ok = text.chars().filter(|c| !c.is_ascii_digit()).all(same);
    let (first, rest) = groups.split_first()?;
    let shaped = (1..=3).contains(&first.len()) && !rest.is_empty() && rest.iter().all(|g| g.len() == 3);
    (separators_ok && shaped).then(|| groups.concat())
}

fn json_count(n: &serde_json::Number) -> Result<u32, String> {
    if let Some(u) = n.as_u64() {
        return u32::try_from(u).map_err(|_| format!("{u} is too large; {COUNT} below 4294967296"));
    }
    if n.as_i64().is_some() {
        return Err(format!("{n} is negative; {COUNT}"));
    }
    match n.as_f64() {
        Some(f) if f < 0.0 => Err(format!("{n} is negative; {COUNT}")),
        Some(f) if f.fract() == 0.0 && f <= f64::from(u32::MAX) => Ok(f as u32),
        _ => Err(format!("{n} is not a whole number; {COUNT}")),
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        // Excel translates the booleans it recognises when it saves a CSV
        // under German, French, Spanish / Italian and Dutch settings.
        "wahr" | "vrai" | "verdadero" | "vero" | "waar" => Some(true),
        "falsch" | "faux" | "falso" | "onwaar" => Some(false),
        _ => None,
    }
}

impl<'a> Row<'a> {
    fn cell(&self, f: &Field) -> &Cell<'a> {
        self.cells.get(f.index).unwrap_or(&MISSING_CELL)
    }

    /// The column name for messages: as written in the file when present.
    fn column(&self, f: &Field) -> &'a str {
        match self.cell(f) {
            Cell { column, value: Val::Text(_) | Val::Json(_) } if !column.is_empty() => column,
            _ => f.name,
        }
    }

    fn err(&self, f: &Field, message: impl Into<String>) -> InputError {
        InputError::in_column(self.file, self.line, self.column(f), message)
    }

    /// Whether the column or key is there (a JSON `null` counts as absent).
    fn present(&self, f: &Field) -> bool {
        !matches!(self.cell(f).value, Val::Missing | Val::Json(Value::Null))
    }

    /// The trimmed text, `None` when absent or empty.
    fn text(&self, f: &Field) -> Result<Option<Cow<'a, str>>, InputError> {
        let text: Cow<'a, str> = match self.cell(f).value {
            Val::Missing | Val::Json(Value::Null) => return Ok(None),
            Val::Text(t) => Cow::Borrowed(t.trim()),
            Val::Json(Value::String(s)) => Cow::Borrowed(s.trim()),
            Val::Json(Value::Number(n)) => Cow::Owned(n.to_string()),
            Val::Json(Value::Bool(b)) => Cow::Owned(b.to_string()),
            Val::Json(Value::Array(_)) => return Err(self.err(f, "is a JSON array; expected text or a number")),
            Val::Json(Value::Object(_)) => return Err(self.err(f, "is a JSON object; expected text or a number")),
        };
        Ok(if text.is_empty() { None } else { Some(text) })
    }

    /// A count; `None` when absent or empty.
    fn count(&self, f: &Field) -> Result<Option<u32>, InputError> {
        if let Val::Json(Value::Number(n)) = self.cell(f).value {
            return json_count(n).map(Some).map_err(|m| self.err(f, m));
        }
        match self.text(f)? {
            None => Ok(None),
            Some(t) => parse_count(&t, self.group).map(Some).map_err(|m| self.err(f, m)),
        }
    }

    /// A count where an empty value means 0; `None` only when the column is
    /// not there at all.
    fn count_or_zero(&self, f: &Field) -> Result<Option<u32>, InputError> {
        Ok(match self.count(f)? {
            Some(n) => Some(n),
            None if self.present(f) => Some(0),
            None => None,
        })
    }

    /// A yes/no value (`Yes`, `True`, `1`, JSON `true` ...); `None` when
    /// absent or empty. `expected` names the vendor's own spelling.
    fn boolean(&self, f: &Field, expected: &str) -> Result<Option<bool>, InputError> {
        let value = match self.cell(f).value {
            Val::Json(Value::Bool(b)) => Some(*b),
            Val::Json(Value::Number(n)) => match n.as_u64() {
                Some(0) => Some(false),
                Some(1) => Some(true),
                _ => return Err(self.err(f, format!("{n} is not {expected}"))),
            },
            _ => match self.text(f)? {
                None => None,
                Some(t) => {
                    Some(parse_bool(&t).ok_or_else(|| self.err(f, format!("`{}` is not {expected}", shorten(&t))))?)
                }
            },
        };
        Ok(value)
    }

    /// A date read with `parse` (the vendor's own form), else in a form a
    /// spreadsheet writes when it saves the file again (`dates`); `None`
    /// when absent or empty.
    fn date(
        &self,
        f: &Field,
        parse: fn(&str) -> Option<NaiveDate>,
        expected: &str,
    ) -> Result<Option<NaiveDate>, InputError> {
        let Some(t) = self.text(f)? else {
            return Ok(None);
        };
        if let Some(d) = parse(&t) {
            return Ok(Some(d));
        }
        match dates::parse(&t, self.dates) {
            Ok(d) => Ok(Some(d)),
            Err(dates::DateError::Ambiguous) => Err(self.err(f, dates::ask_for_order(&shorten(&t)))),
            Err(dates::DateError::Invalid(why)) => {
                let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
                Err(self.err(
                    f,
                    format!(
                        "`{}` is not a date{why}; expected {expected}, or a date as a spreadsheet writes it \
                         (5/20/2024, 20/05/2024, 20.05.2024, 20 May 2024)",
                        shorten(&t)
                    ),
                ))
            }
        }
    }

    /// Like `date` but an empty or missing value is an error.
    fn required_date(
        &self,
        f: &Field,
        parse: fn(&str) -> Option<NaiveDate>,
        expected: &str,
    ) -> Result<NaiveDate, InputError> {
        self.date(f, parse, expected)?.ok_or_else(|| self.err(f, format!("empty; expected {expected}")))
    }
}

/// A `YYYY-MM-DD` date.
fn iso_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Sums counts that may be absent: `None` if all are, else the total of
/// those present.
fn sum(row: &Row, parts: &[(&Field, Option<u32>)]) -> Result<Option<u32>, InputError> {
    let mut total: Option<u32> = None;
    for (f, v) in parts {
        if let Some(v) = v {
            let t = total.unwrap_or(0).checked_add(*v).ok_or_else(|| row.err(f, "the total is too large"))?;
            total = Some(t);
        }
    }
    Ok(total)
}

/// Lower-cased e-mail when given, else the lower-cased user id.
fn person_id(row: &Row, email_field: &Field, user_id: &Field) -> Result<(String, Option<String>), InputError> {
    let email = row.text(email_field)?.map(|e| e.to_lowercase());
    let id = match (&email, row.text(user_id)?) {
        (Some(e), _) => e.clone(),
        (None, Some(id)) => id.to_lowercase(),
        (None, None) => {
            return Err(row.err(
                user_id,
                format!("empty, and `{}` is empty too; every record needs one of them", row.column(email_field)),
            ));
        }
    };
    Ok((id, email))
}

// ---------------------------------------------------------------------------
// Streaming

/// What turns a record into a fact.
#[derive(Clone, Copy, Debug)]
enum Parse {
    /// `day`: the day a daily report is for, as the import names it.
    Teams {
        day: Option<NaiveDate>,
    },
    SlackDashboard {
        start: NaiveDate,
        end: NaiveDate,
    },
    SlackApi,
    Feishu,
    GoogleChat,
}

impl Parse {
    fn format(self) -> VendorFormat {
        match self {
            Parse::Teams { .. } => VendorFormat::Teams,
            Parse::SlackDashboard { .. } => VendorFormat::SlackDashboard,
            Parse::SlackApi => VendorFormat::SlackApi,
            Parse::Feishu => VendorFormat::Feishu,
            Parse::GoogleChat => VendorFormat::GoogleChat,
        }
    }

    fn fact(self, row: &Row) -> Result<PeriodFact, InputError> {
        match self {
            Parse::Teams { day } => teams::fact(row, day),
            Parse::SlackDashboard { start, end } => slack::dashboard_fact(row, start, end),
            Parse::SlackApi => slack::api_fact(row),
            Parse::Feishu => feishu::fact(row),
            Parse::GoogleChat => google::fact(row),
        }
    }
}

type Stream = Box<dyn Read + Send>;

enum Rows {
    Csv(Box<CsvRows>),
    Ndjson { reader: BufReader<Stream>, line: u64, buf: Vec<u8> },
    Array(JsonArray),
}

/// A CSV export's records, with what decides its dates.
///
/// Streaming until a slashed date such as `5/6/2025` could be either order
/// and the file has not yet shown which: from there, records are held until
/// one proves the order or the file ends (a value with a part above 12
/// anywhere in the file decides it). The cost: an export whose slashed
/// dates are all ambiguous is held whole in memory, as raw records (about
/// its size on disk plus some 100 bytes a row: 30 MB for a 100,000-person
/// Teams report). A file with ISO dates, dotted dates, or one early
/// unambiguous date is streamed as before.
struct CsvRows {
    csv: CsvFile,
    /// Header names as written.
    headers: Vec<String>,
    /// Column of each field, by `Field::index`.
    index: Vec<Option<usize>>,
    group: Option<char>,
    dates: dates::DateEvidence,
    /// Records read but not yet turned into facts, with their lines.
    held: VecDeque<(u64, ByteRecord)>,
    /// Records to reuse.
    spare: Vec<ByteRecord>,
    ended: bool,
}

impl CsvRows {
    /// The next record ready to become a fact (the order of its dates
    /// known or not needed), or an error.
    fn next_record(&mut self) -> Option<Result<(u64, ByteRecord), InputError>> {
        loop {
            if !self.held.is_empty() && !self.dates.pending() {
                return self.held.pop_front().map(Ok);
            }
            if self.ended {
                if self.held.is_empty() {
                    return None;
                }
                // Held records wait for an order the file never gave.
                let (line, column, value) = self.dates.first_ambiguous.clone()?;
                self.held.clear();
                return Some(Err(InputError::in_column(&self.csv.file, line, &column, dates::ask_for_order(&value))));
            }
            let mut record = self.spare.pop().unwrap_or_default();
            let line = match self.csv.read(&mut record) {
                None => {
                    self.ended = true;
                    continue;
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(line)) => line,
            };
            for i in self.index.iter().flatten() {
                let Some(text) = record.get(*i).and_then(|b| std::str::from_utf8(b).ok()) else {
                    continue;
                };
                let column = self.headers.get(*i).map(String::as_str).unwrap_or_default();
                if let Err(m) = self.dates.note(line, column, text) {
                    return Some(Err(InputError::new(&self.csv.file, line, m)));
                }
            }
            self.held.push_back((line, record));
        }
    }
}

/// Streams the per-person facts of one vendor export.
pub struct VendorReader {
    file: String,
    gzipped: bool,
    parse: Parse,
    /// Accepted JSON keys of each field, by `Field::index`.
    keys: Vec<Vec<String>>,
    rows: Rows,
    /// The order of slashed dates given by the user.
    date_order: Option<DateOrder>,
    /// Set after an error that ends the stream (I/O, broken JSON array).
    done: bool,
}

impl VendorReader {
    /// Opens an export, recognising its format when `format` is `None`.
    pub fn new(
        input: Input,
        format: Option<VendorFormat>,
        options: &VendorOptions,
    ) -> Result<VendorReader, InputError> {
        let Input { name, gzipped, mut reader, .. } = input;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        // An error after some bytes (a small truncated gzip file) is kept for
        // when the stream reaches it, so the records before it are read.
        let deferred = match (&mut reader).take(HEAD_BYTES as u64).read_to_end(&mut head) {
            Ok(_) => None,
            Err(e) if head.is_empty() => return Err(read_error(&name, 1, gzipped, &e)),
            Err(e) => Some(e),
        };
        let sniff = sniff(&name, &head);
        if matches!(format, None | Some(VendorFormat::Teams))
            && let Some(message) = other_microsoft_365_report(&sniff.names)
        {
            return Err(InputError::new(&name, 1, message));
        }
        let Some(format) = format.or(sniff.format) else {
            return Err(not_recognised(&name, &sniff));
        };
        let parse = match format {
            // The day a daily report is for: in the file name, else a
            // one-day period given with the import (see `teams`).
            VendorFormat::Teams => Parse::Teams {
                day: teams::day_from_name(&name).or(options.period.filter(|(a, b)| a == b).map(|(a, _)| a)),
            },
            VendorFormat::SlackDashboard => {
                let (start, end) = slack::dashboard_period(&name, options)?;
                Parse::SlackDashboard { start, end }
            }
            VendorFormat::SlackApi => Parse::SlackApi,
            VendorFormat::Feishu => Parse::Feishu,
            VendorFormat::GoogleChat => Parse::GoogleChat,
        };
        let fields = format.fields();
        let stream: Stream = match deferred {
            None => Box::new(io::Cursor::new(head).chain(reader)),
            Some(e) => Box::new(io::Cursor::new(head).chain(Deferred(Some(e)))),
        };
        let rows = match sniff.container {
            Container::Csv => {
                // The header is the first top line with the format's required
                // columns: a title row or PowerShell's `#TYPE` line above it
                // is skipped.
                let mut csv = CsvFile::open(&name, gzipped, stream, &|names| has_required(format, names), false)?;
                let (headers, index) = csv_columns(&mut csv, format)?;
                if let Some(message) = lacks_own_columns(format, &headers, &index) {
                    return Err(InputError::new(&name, csv.header_at.line, message));
                }
                let group = Some(if csv.header_at.delimiter == b';' { '.' } else { ',' });
                Rows::Csv(Box::new(CsvRows {
                    csv,
                    headers,
                    index,
                    group,
                    dates: dates::DateEvidence::new(options.date_order),
                    held: VecDeque::new(),
                    spare: Vec::new(),
                    ended: false,
                }))
            }
            Container::Ndjson => Rows::Ndjson {
                reader: BufReader::with_capacity(256 * 1024, stream),
                line: 0,
                buf: Vec::with_capacity(1024),
            },
            Container::Array => Rows::Array(JsonArray::new(stream)),
            Container::Envelope(path) => Rows::Array(JsonArray::envelope(stream, path)),
        };
        Ok(VendorReader {
            file: name,
            gzipped,
            parse,
            keys: fields.iter().map(Field::keys).collect(),
            rows,
            date_order: options.date_order,
            done: false,
        })
    }

    pub fn format(&self) -> VendorFormat {
        self.parse.format()
    }

    /// The header's line in a CSV file, when lines above it were skipped.
    pub fn header_line(&self) -> Option<u64> {
        match &self.rows {
            Rows::Csv(rows) => Some(rows.csv.header_at.line).filter(|l| *l > 1),
            _ => None,
        }
    }

    /// How slashed dates were read, when the file has any.
    pub fn date_order(&self) -> Option<DateOrder> {
        match &self.rows {
            Rows::Csv(rows) if rows.dates.slashed => rows.dates.order(),
            _ => None,
        }
    }

    /// The next fact, an error, or `None` at the end of the file.
    pub fn next_fact(&mut self) -> Option<Result<PeriodFact, InputError>> {
        if self.done {
            return None;
        }
        let (file, gzipped, parse) = (self.file.as_str(), self.gzipped, self.parse);
        let fields = parse.format().fields();
        let date_order = self.date_order;
        let result = match &mut self.rows {
            Rows::Csv(rows) => match rows.next_record() {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok((line, record))) => {
                    let order = rows.dates.order();
                    let fact = csv_row(file, line, fields, &rows.headers, &rows.index, &record)
                        .map(|row| Row { dates: order, group: rows.group, ..row })
                        .and_then(|row| parse.fact(&row));
                    rows.spare.push(record);
                    Some(fact)
                }
            },
            Rows::Ndjson { reader, line, buf } => match next_line(file, gzipped, reader, line, buf) {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok(bytes)) => Some(json_fact(file, *line, 1, bytes, parse, &self.keys, date_order)),
            },
            Rows::Array(array) => match array.next_object(file, gzipped) {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok(start)) => Some(json_fact(file, start, start, &array.buf, parse, &self.keys, date_order)),
            },
        };
        if result.is_none() {
            self.done = true;
        }
        result
    }
}

impl Iterator for VendorReader {
    type Item = Result<PeriodFact, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_fact()
    }
}

/// Why a CSV is refused when it has none of its report's own count columns
/// (every person would import as zeros): Google Chat's `num_28day_*`.
fn lacks_own_columns(format: VendorFormat, headers: &[String], index: &[Option<usize>]) -> Option<String> {
    let counts = match format {
        VendorFormat::GoogleChat => google::COUNTS,
        _ => return None,
    };
    if counts.iter().any(|f| index.get(f.index).is_some_and(Option::is_some)) {
        return None;
    }
    let names: Vec<String> = counts.iter().map(|f| format!("`{}`", f.name)).collect();
    Some(format!(
        "none of the {} columns ({}): every person would import as zeros; export the report with its chat \
         parameters (the header has: {})",
        format.label(),
        names.join(", "),
        headers.join(", ")
    ))
}

/// Reads the header and finds each field's column.
fn csv_columns(csv: &mut CsvFile, format: VendorFormat) -> Result<(Vec<String>, Vec<Option<usize>>), InputError> {
    let headers: Vec<String> =
        csv.header()?.iter().map(|h| h.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let normalised: Vec<String> = headers.iter().map(|h| key(h)).collect();
    let fields = format.fields();
    let index: Vec<Option<usize>> = fields
        .iter()
        .map(|f| {
            // The first accepted name wins, then the first column with it.
            f.keys().iter().find_map(|k| normalised.iter().position(|h| h == k))
        })
        .collect();
    if let Some((name, alternative)) = missing(fields, |i| index.get(i).is_some_and(Option::is_some)) {
        return Err(InputError::in_column(
            &csv.file,
            csv.header_at.line,
            name,
            format!(
                "missing column{alternative}; a {} has it (the header has: {})",
                format.label(),
                headers.join(", ")
            ),
        ));
    }
    Ok((headers, index))
}

fn csv_row<'a>(
    file: &'a str,
    line: u64,
    fields: &'static [Field],
    headers: &'a [String],
    index: &[Option<usize>],
    record: &'a ByteRecord,
) -> Result<Row<'a>, InputError> {
    let mut cells = Vec::with_capacity(fields.len());
    for f in fields {
        let cell = match index.get(f.index).copied().flatten() {
            None => Cell { column: f.name, value: Val::Missing },
            Some(i) => {
                let column = headers.get(i).map(String::as_str).unwrap_or(f.name);
                let text = std::str::from_utf8(record.get(i).unwrap_or_default())
                    .map_err(|_| super::source::not_utf8(file, line, Some(column), record.as_slice()))?;
                Cell { column, value: Val::Text(text) }
            }
        };
        cells.push(cell);
    }
    Ok(Row { file, line, cells, dates: None, group: None })
}

/// Parses one JSON object (an NDJSON line or an array element starting at
/// `line`; `first_line` is where serde's line 1 is) into a fact.
fn json_fact(
    file: &str,
    line: u64,
    first_line: u64,
    bytes: &[u8],
    parse: Parse,
    keys: &[Vec<String>],
    dates: Option<DateOrder>,
) -> Result<PeriodFact, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|_| super::source::not_utf8(file, line, None, bytes))?;
    let object: Map<String, Value> = serde_json::from_str(text).map_err(|e| {
        let at = first_line + (e.line() as u64).saturating_sub(1);
        InputError::new(file, at.max(line), format!("not a JSON object ({e}); expected one object per record"))
    })?;
    let object = match parse {
        Parse::GoogleChat => google::flatten(object).map_err(|m| InputError::new(file, line, m))?,
        _ => object,
    };
    let row = json_row(file, line, parse.format(), keys, &object)?;
    parse.fact(&Row { dates, ..row })
}

fn json_row<'a>(
    file: &'a str,
    line: u64,
    format: VendorFormat,
    keys: &[Vec<String>],
    object: &'a Map<String, Value>,
) -> Result<Row<'a>, InputError> {
    let fields = format.fields();
    // For each field, the best-ranked accepted key found so far.
    let mut found: Vec<Option<(usize, &'a str, &'a Value)>> = vec![None; fields.len()];
    for (k, v) in object {
        let normalised: Cow<str> = if is_key_form(k) { Cow::Borrowed(k) } else { Cow::Owned(key(k)) };
        for (slot, accepted) in found.iter_mut().zip(keys) {
            if let Some(rank) = accepted.iter().position(|a| *a == *normalised)
                && slot.is_none_or(|(r, _, _)| rank < r)
            {
                *slot = Some((rank, k.as_str(), v));
            }
        }
    }
    let present = |i: usize| found.get(i).copied().flatten().is_some_and(|(_, _, v)| !v.is_null());
    if let Some((name, alternative)) = missing(fields, present) {
        return Err(InputError::in_column(
            file,
            line,
            name,
            format!("missing{alternative}; every {} record has it", format.label()),
        ));
    }
    let cells = fields
        .iter()
        .map(|f| match found.get(f.index).copied().flatten() {
            Some((_, column, value)) => Cell { column, value: Val::Json(value) },
            None => Cell { column: f.name, value: Val::Missing },
        })
        .collect();
    Ok(Row { file, line, cells, dates: None, group: None })
}

/// The next non-blank NDJSON line (BOM stripped on line 1).
fn next_line<'b>(
    file: &str,
    gzipped: bool,
    reader: &mut BufReader<Stream>,
    line: &mut u64,
    buf: &'b mut Vec<u8>,
) -> Option<Result<&'b [u8], InputError>> {
    loop {
        buf.clear();
        *line += 1;
        match reader.read_until(b'\n', buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(read_error(file, *line, gzipped, &e))),
        }
        let bytes = if *line == 1 { strip_bom(buf) } else { &buf[..] };
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    let bytes = if *line == 1 { strip_bom(buf) } else { &buf[..] };
    Some(Ok(bytes))
}

/// Streams the objects of a top-level JSON array, or of the records array
/// inside each page of a raw API response (an envelope), one at a time, each
/// at most `MAX_LINE_BYTES`. The rest of an envelope is skipped without
/// being kept, apart from Feishu's `code` and `msg`.
struct JsonArray {
    reader: BufReader<Stream>,
    /// The line of the next byte.
    line: u64,
    /// The current element.
    buf: Vec<u8>,
    state: ArrayState,
    /// The key path of the records array in each page, for an envelope.
    envelope: Option<&'static [&'static str]>,
    /// Envelope objects open around the current position.
    open: usize,
    /// The page's `code` and `msg` (Feishu: a non-zero code is an error).
    code: Option<String>,
    msg: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// Before the `[`.
    Start,
    /// After `[`: an element or `]`.
    First,
    /// After an element: `,` or `]`.
    After,
    Done,
}

enum ScanError {
    Io(io::Error),
    Bad(u64, String),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> ScanError {
        ScanError::Io(e)
    }
}

impl JsonArray {
    fn new(reader: Stream) -> JsonArray {
        JsonArray {
            reader: BufReader::with_capacity(256 * 1024, reader),
            line: 1,
            buf: Vec::new(),
            state: ArrayState::Start,
            envelope: None,
            open: 0,
            code: None,
            msg: None,
        }
    }

    fn envelope(reader: Stream, path: &'static [&'static str]) -> JsonArray {
        JsonArray { envelope: Some(path), ..JsonArray::new(reader) }
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    /// The rest of a JSON string whose opening quote was read, decoded.
    fn string(&mut self) -> Result<String, ScanError> {
        let start = self.line;
        let mut raw = vec![b'"'];
        let mut escape = false;
        loop {
            let Some(b) = self.byte()? else {
                return Err(ScanError::Bad(start, "the JSON ends inside a string (truncated file?)".into()));
            };
            raw.push(b);
            if escape {
                escape = false;
            } else if b == b'\\' {
                escape = true;
            } else if b == b'"' {
                break;
            }
            if raw.len() > MAX_LINE_BYTES {
                return Err(ScanError::Bad(start, format!("a JSON string longer than {MAX_LINE_BYTES} bytes")));
            }
        }
        serde_json::from_slice(&raw).map_err(|e| ScanError::Bad(start, format!("not a JSON string ({e})")))
    }

    /// Skips one JSON value; returns a scalar's text (a string decoded).
    fn skip_value(&mut self) -> Result<Option<String>, ScanError> {
        let start = self.line;
        match self.token()? {
            None => Err(ScanError::Bad(start, "the JSON ends before a value (truncated file?)".into())),
            Some(b'"') => self.string().map(Some),
            Some(b'{' | b'[') => {
                let (mut depth, mut in_string, mut escape) = (1u32, false, false);
                while depth > 0 {
                    let Some(b) = self.byte()? else {
                        return Err(ScanError::Bad(start, "the JSON ends inside a value (truncated file?)".into()));
                    };
                    if in_string {
                        if escape {
                            escape = false;
                        } else if b == b'\\' {
                            escape = true;
                        } else if b == b'"' {
                            in_string = false;
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                Ok(None)
            }
            Some(first) => {
                let mut text = vec![first];
                while let Some(b) = self.peek()? {
                    if b.is_ascii_whitespace() || b",}]".contains(&b) || text.len() > 64 {
                        break;
                    }
                    text.push(b);
                    self.reader.consume(1);
                }
                Ok(Some(String::from_utf8_lossy(&text).into_owned()))
            }
        }
    }

    /// Walks the keys of the open envelope objects. With `find`, stops just
    /// after the `[` of the records array (true) or when the page closed
    /// without it (false); without, skips to the end of the page.
    fn walk(&mut self, path: &'static [&'static str], find: bool) -> Result<bool, ScanError> {
        while self.open > 0 {
            match self.token()? {
                Some(b'}') => {
                    self.open -= 1;
                    continue;
                }
                Some(b',') => continue,
                Some(b'"') => {}
                None => {
                    return Err(ScanError::Bad(self.line, "the JSON object is not closed (truncated file?)".into()));
                }
                Some(b) => {
                    return Err(ScanError::Bad(
                        self.line,
                        format!("expected a key in the API response object, found `{}`", char::from(b)),
                    ));
                }
            }
            let name = self.string()?;
            if self.token()? != Some(b':') {
                return Err(ScanError::Bad(self.line, format!("expected `:` after the key `{}`", shorten(&name))));
            }
            let wanted = path.get(self.open - 1).is_some_and(|k| *k == name);
            if find && wanted {
                let at = self.line;
                match (self.token()?, self.open == path.len()) {
                    (Some(b'['), true) => return Ok(true),
                    (Some(b'{'), false) => self.open += 1,
                    _ => {
                        return Err(ScanError::Bad(
                            at,
                            format!("`{name}` is not the records array this API response should carry"),
                        ));
                    }
                }
                continue;
            }
            let value = self.skip_value()?;
            if self.open == 1 && name == "code" {
                self.code = value;
            } else if self.open == 1 && name == "msg" {
                self.msg = value;
            }
        }
        // The page is closed: a non-zero `code` means the call failed.
        match (self.code.take(), self.msg.take()) {
            (Some(code), msg) if code != "0" => Err(ScanError::Bad(
                self.line,
                format!(
                    "the API answered code {} ({}) instead of records; nothing to import",
                    shorten(&code),
                    shorten(msg.as_deref().unwrap_or("no message"))
                ),
            )),
            _ => Ok(false),
        }
    }

    fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = match self.reader.fill_buf()?.first() {
            Some(b) => *b,
            None => return Ok(None),
        };
        self.reader.consume(1);
        if b == b'\n' {
            self.line += 1;
        }
        Ok(Some(b))
    }

    /// The next byte that is not white space (nor a leading BOM).
    fn token(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.byte()? {
                Some(b) if b.is_ascii_whitespace() => {}
                Some(0xef) if self.state == ArrayState::Start => {
                    // A BOM: EF BB BF.
                    if self.byte()? != Some(0xbb) || self.byte()? != Some(0xbf) {
                        return Ok(Some(0xef));
                    }
                }
                other => return Ok(other),
            }
        }
    }

    /// Reads the next element into `buf`; returns its first line.
    fn next_object(&mut self, file: &str, gzipped: bool) -> Option<Result<u64, InputError>> {
        match self.advance() {
            Ok(None) => {
                self.state = ArrayState::Done;
                None
            }
            Ok(Some(start)) => Some(Ok(start)),
            Err(e) => {
                self.state = ArrayState::Done;
                Some(Err(match e {
                    ScanError::Bad(line, message) => InputError::new(file, line, message),
                    ScanError::Io(e) => match e.get_ref().and_then(|inner| inner.downcast_ref::<LineTooLong>()) {
                        Some(too_long) => InputError::new(
                            file,
                            too_long.line,
                            format!(
                                "line longer than {MAX_LINE_BYTES} bytes: a JSON array written on one line is \
                                 limited to that; write one object per line (NDJSON) or pretty-print the array"
                            ),
                        ),
                        None => read_error(file, self.line, gzipped, &e),
                    },
                }))
            }
        }
    }

    fn advance(&mut self) -> Result<Option<u64>, ScanError> {
        loop {
            match self.state {
                ArrayState::Done => return Ok(None),
                ArrayState::Start => match (self.token()?, self.envelope) {
                    (Some(b'['), None) => self.state = ArrayState::First,
                    // A page of a raw API response (several may follow each other).
                    (Some(b'{'), Some(path)) => {
                        self.open = 1;
                        if self.walk(path, true)? {
                            self.state = ArrayState::First;
                        }
                        continue;
                    }
                    (None, _) => return Ok(None),
                    (Some(_), None) => {
                        return Err(ScanError::Bad(self.line, "expected a JSON array of objects".into()));
                    }
                    (Some(_), Some(_)) => {
                        return Err(ScanError::Bad(
                            self.line,
                            "expected the next page of the API response, `{`".into(),
                        ));
                    }
                },
                ArrayState::After => match self.token()? {
                    Some(b',') => match self.token()? {
                        Some(b'{') => return self.object().map(Some),
                        // A trailing comma before `]` is tolerated.
                        Some(b']') => self.state = ArrayState::Done,
                        other => return Err(self.unexpected(other)),
                    },
                    Some(b']') => self.state = ArrayState::Done,
                    None => {
                        return Err(ScanError::Bad(self.line, "the JSON array is not closed (truncated file?)".into()));
                    }
                    Some(b) => {
                        return Err(ScanError::Bad(
                            self.line,
                            format!("expected `,` or `]` after an array element, found `{}`", char::from(b)),
                        ));
                    }
                },
                ArrayState::First => match self.token()? {
                    Some(b'{') => return self.object().map(Some),
                    Some(b']') => self.state = ArrayState::Done,
                    other => return Err(self.unexpected(other)),
                },
            }
            if let (ArrayState::Done, Some(path)) = (self.state, self.envelope) {
                // The records array is closed: skip the rest of the page;
                // another page may follow.
                self.walk(path, false)?;
                self.state = ArrayState::Start;
                continue;
            }
            if self.state == ArrayState::Done {
                // Only white space may follow the array.
                if let Some(b) = self.token()? {
                    return Err(ScanError::Bad(
                        self.line,
                        format!("unexpected `{}` after the end of the JSON array", char::from(b)),
                    ));
                }
                return Ok(None);
            }
        }
    }

    fn unexpected(&self, found: Option<u8>) -> ScanError {
        match found {
            None => ScanError::Bad(self.line, "the JSON array is not closed (truncated file?)".into()),
            Some(b) => {
                ScanError::Bad(self.line, format!("expected a JSON object as array element, found `{}`", char::from(b)))
            }
        }
    }

    /// Copies one object (its `{` already read) into `buf`.
    fn object(&mut self) -> Result<u64, ScanError> {
        let start = self.line;
        let JsonArray { reader, line, buf, state, .. } = self;
        buf.clear();
        buf.push(b'{');
        let (mut depth, mut in_string, mut escape) = (1u32, false, false);
        loop {
            let available = reader.fill_buf()?;
            if available.is_empty() {
                return Err(ScanError::Bad(*line, "the JSON array ends inside an object (truncated file?)".into()));
            }
            let mut used = available.len();
            let mut closed = false;
            for (i, &b) in available.iter().enumerate() {
                if b == b'\n' {
                    *line += 1;
                }
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    used = i + 1;
                    closed = true;
                    break;
                }
            }
            buf.extend_from_slice(&available[..used]);
            reader.consume(used);
            if buf.len() > MAX_LINE_BYTES {
                return Err(ScanError::Bad(
                    start,
                    format!("the JSON object starting here is longer than {MAX_LINE_BYTES} bytes"),
                ));
            }
            if closed {
                *state = ArrayState::After;
                return Ok(start);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_list_is_indexed_by_position() {
        for format in VendorFormat::ALL {
            for (i, f) in format.fields().iter().enumerate() {
                assert_eq!(f.index, i, "{format:?} field {}", f.name);
            }
        }
    }

    #[test]
    fn formats_map_one_to_one_to_sources() {
        for format in VendorFormat::ALL {
            assert_eq!(VendorFormat::from_source(format.source()), format);
        }
    }

    #[test]
    fn counts_accept_spaces_and_refuse_negatives() {
        assert_eq!(parse_count(" 12 ", None), Ok(12));
        assert!(parse_count("-3", None).unwrap_err().contains("negative"));
        assert!(parse_count("1.5", None).unwrap_err().contains("not a whole number"));
        assert!(parse_count("99999999999", None).unwrap_err().contains("too large"));
        let n: serde_json::Number = serde_json::from_str("4.0").unwrap();
        assert_eq!(json_count(&n), Ok(4));
        let n: serde_json::Number = serde_json::from_str("-1").unwrap();
        assert!(json_count(&n).unwrap_err().contains("negative"));
    }

    #[test]
    fn counts_with_thousands_separators_as_spreadsheets_write_them() {
        let comma = Some(',');
        let dot = Some('.');
        assert_eq!(parse_count("1,234", comma), Ok(1234));
        assert_eq!(parse_count("12,345,678", comma), Ok(12_345_678));
        assert_eq!(parse_count("1 234", comma), Ok(1234));
        assert_eq!(parse_count("1\u{a0}234\u{202f}567", dot), Ok(1_234_567));
        assert_eq!(parse_count("1.234", dot), Ok(1234));
        for (bad, group) in [
            ("1,2", comma),
            ("12,34", comma),
            ("1234,567", comma),
            ("1,234.567", comma),
            ("1.234", comma),
            ("1,234", dot),
            ("1,234", None),
            (",234", comma),
            ("1,,234", comma),
            ("1, 234", comma),
        ] {
            assert!(parse_count(bad, group).unwrap_err().contains("not a whole number"), "{bad}");
        }
        assert!(parse_count("-1,234", comma).is_err());
        assert_eq!(parse_bool("FALSCH"), Some(false));
        assert_eq!(parse_bool("WAHR"), Some(true));
    }

    #[test]
    fn detection_finds_the_header_below_a_title_row_and_in_semicolon_files() {
        assert_eq!(
            detect("x.csv", b"#TYPE System.Management.Automation.PSCustomObject\r\n\"Report Refresh Date\",\"User Principal Name\",\"Team Chat Message Count\"\r\n"),
            Some(VendorFormat::Teams)
        );
        assert_eq!(
            detect("x.csv", b"Acme Member Analytics,,,\n\nName,Days active,Messages posted\n"),
            Some(VendorFormat::SlackDashboard)
        );
        assert_eq!(
            detect("x.csv", "\u{feff}Report Refresh Date;User Principal Name;Report Period;Call Count\n".as_bytes()),
            Some(VendorFormat::Teams)
        );
    }

    #[test]
    fn detection_reads_a_header_or_the_first_object() {
        assert_eq!(
            detect("x.csv", "\u{feff}User Principal Name, Report Refresh Date,Team Chat Message Count\n".as_bytes()),
            Some(VendorFormat::Teams)
        );
        // The columns every Microsoft 365 report shares are not Teams.
        assert_eq!(detect("x.csv", b"Report Refresh Date,User Principal Name,Report Period\n"), None);
        // Graph's JSON: an envelope with camelCase keys.
        assert_eq!(
            detect(
                "x.json",
                b"{\n \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata\",\n \"value\": [\n  {\"reportRefreshDate\": \"2024-05-20\", \"userPrincipalName\": \"a@b.c\", \"teamChatMessageCount\": 1, \"call"
            ),
            Some(VendorFormat::Teams)
        );
        assert_eq!(detect("x", b"Name,User ID,Days active,Messages posted\n"), Some(VendorFormat::SlackDashboard));
        assert_eq!(
            detect("x.gz", b"{\"date\":\"2026-01-01\",\"messages_posted_count\":3}\n{"),
            Some(VendorFormat::SlackApi)
        );
        // The head may stop inside the first object.
        assert_eq!(
            detect("x.json", b"[\n  {\"date\": \"2026-01-01\", \"user_active_flag\": 1, \"vc_"),
            Some(VendorFormat::Feishu)
        );
        assert_eq!(detect("x.csv", b"date,user_email,num_28day_conversations_read\n"), Some(VendorFormat::GoogleChat));
        assert_eq!(detect("x.csv", b"user_id,timestamp,event\n"), None);
        assert_eq!(detect("x.json", b""), None);
    }

    #[test]
    fn camel_case_keys_become_snake_case() {
        assert_eq!(key("teamChatMessageCount"), "team_chat_message_count");
        assert_eq!(key("scheduledOneTimeMeetingsOrganizedCount"), "scheduled_one_time_meetings_organized_count");
        assert_eq!(key("audioDurationInSeconds"), "audio_duration_in_seconds");
        assert_eq!(key("userEmail"), "user_email");
        assert_eq!(key("Team Chat Message Count"), "team_chat_message_count");
        // Headers with spaces keep their words as written.
        assert_eq!(key("Days active (iOS)"), "days_active_(ios)");
        assert_eq!(key("User ID"), "user_id");
        assert_eq!(key("send_messenger_num"), "send_messenger_num");
    }

    fn envelope_objects(text: &str, path: &'static [&'static str]) -> Vec<Result<String, String>> {
        let mut array = JsonArray::envelope(Box::new(io::Cursor::new(text.as_bytes().to_vec())), path);
        let mut out = Vec::new();
        while let Some(item) = array.next_object("f", false) {
            out.push(item.map(|_| String::from_utf8(array.buf.clone()).unwrap()).map_err(|e| e.to_string()));
        }
        out
    }

    #[test]
    fn envelopes_are_streamed_page_after_page() {
        // Graph: pretty-printed, `@odata.nextLink` before or after `value`,
        // two pages one after the other.
        let text = "{\n \"@odata.context\": \"ctx\",\n \"@odata.nextLink\": \"https://x/?$skiptoken=a{[\\\"\",\n \"value\": [\n  {\"a\": 1},\n  {\"b\": [2, {\"c\": \"]\"}]}\n ]\n}\n{\"value\": [{\"d\": 4}], \"@odata.nextLink\": null}\n";
        let got = envelope_objects(text, &["value"]);
        assert_eq!(
            got,
            vec![
                Ok("{\"a\": 1}".to_string()),
                Ok("{\"b\": [2, {\"c\": \"]\"}]}".to_string()),
                Ok("{\"d\": 4}".to_string())
            ]
        );
        // Feishu: nested under data.items, `code` checked.
        let feishu = r#"{"code":0,"data":{"has_more":true,"items":[{"x":1}],"page_token":"t"},"msg":"success"}"#;
        assert_eq!(envelope_objects(feishu, &["data", "items"]), vec![Ok("{\"x\":1}".to_string())]);
        let failed = r#"{"code":1051001,"msg":"no permission","data":{}}"#;
        let got = envelope_objects(failed, &["data", "items"]);
        assert_eq!(got.len(), 1);
        let err = got[0].as_ref().unwrap_err();
        assert!(err.contains("code 1051001 (no permission)"), "{err}");
        // A page without records and a truncated page.
        assert_eq!(envelope_objects(r#"{"kind":"k","usageReports":[]}"#, &["usageReports"]), vec![]);
        let cut = envelope_objects("{\"value\": [{\"a\": 1},\n{\"b\"", &["value"]);
        assert!(cut[0].is_ok() && cut[1].as_ref().unwrap_err().contains("truncated"), "{cut:?}");
        let trailing = envelope_objects("{\"value\": []} x", &["value"]);
        assert!(trailing[0].as_ref().unwrap_err().contains("next page"), "{trailing:?}");
    }

    #[test]
    fn the_reader_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<VendorReader>();
    }

    #[test]
    fn an_array_element_is_bounded() {
        let mut text = b"[\n{\"a\": [\n".to_vec();
        for _ in 0..(MAX_LINE_BYTES / 2 + 10) {
            text.extend_from_slice(b"1,\n");
        }
        text.extend_from_slice(b"1]}\n]\n");
        let mut array = JsonArray::new(Box::new(io::Cursor::new(text)));
        let err = array.next_object("big.json", false).unwrap().unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("longer than"), "{err}");
        assert!(array.next_object("big.json", false).is_none());
    }

    #[test]
    fn json_arrays_are_streamed_element_by_element() {
        let text = "\u{feff}[\n {\"a\": \"}\\\"{\", \"b\": [1, {\"c\": 2}]},\n\n {\"d\": 3}\n]\n";
        let mut array = JsonArray::new(Box::new(io::Cursor::new(text.as_bytes().to_vec())));
        assert_eq!(array.next_object("f", false).unwrap().unwrap(), 2);
        assert_eq!(array.buf, br#"{"a": "}\"{", "b": [1, {"c": 2}]}"#.to_vec());
        assert_eq!(array.next_object("f", false).unwrap().unwrap(), 4);
        assert_eq!(array.buf, br#"{"d": 3}"#.to_vec());
        assert!(array.next_object("f", false).is_none());

        let mut cut = JsonArray::new(Box::new(io::Cursor::new(b"[{\"a\":1},\n{\"b\":".to_vec())));
        assert!(cut.next_object("f", false).unwrap().is_ok());
        let err = cut.next_object("f", false).unwrap().unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("truncated"), "{err}");
        assert!(cut.next_object("f", false).is_none());
    }
}
