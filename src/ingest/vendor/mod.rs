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
//! skipped), or a top-level JSON array of objects. Any of them may be gzipped
//! (undone by [`super::source::open`]). A JSON array is streamed element by
//! element, each element at most [`MAX_LINE_BYTES`]; but since
//! `source::open` refuses any single line longer than that, an array written
//! on one line (minified) is limited to 1 MiB in total: pretty-print it or use
//! NDJSON. Other JSON shapes (a single pretty-printed object, a raw API
//! envelope such as Feishu's `{"data": {"items": [...]}}`) are not read.
//!
//! Memory does not grow with the file: one record (CSV row, NDJSON line or
//! array element) is held at a time.

mod feishu;
mod google;
mod slack;
mod teams;

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Read};

use chrono::NaiveDate;
use csv::ByteRecord;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::InputError;
use super::events::csv_error;
use super::source::{Input, LineTooLong, MAX_LINE_BYTES, normalise_header, read_error};
use super::timestamp::shorten;
use crate::domain::facts::{FactSource, PeriodFact};

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
    /// whose file name does not carry it. A period in the file name wins.
    pub period: Option<(NaiveDate, NaiveDate)>,
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
}

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
    let container = container(name, head);
    let head = strip_bom(head);
    let names = match container {
        Container::Csv => csv_head_names(head),
        Container::Ndjson | Container::Array => json_head_keys(head),
    };
    let keys: Vec<String> = names.iter().map(|n| key(n)).collect();
    Sniff { container, format: classify(&keys), names }
}

/// The fields of the first CSV record in `head` (which may be cut short).
fn csv_head_names(head: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(head);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => record
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        _ => Vec::new(),
    }
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

fn classify(keys: &[String]) -> Option<VendorFormat> {
    let has = |k: &str| keys.iter().any(|x| x == k);
    if has("user_principal_name") && (has("report_refresh_date") || has("report_period")) {
        Some(VendorFormat::Teams)
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
    const EXPECTED: &str = "expected e.g. Teams `User Principal Name` and `Report Refresh Date`, Slack `Days active` \
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
    let what = match sniff.container {
        Container::Csv => "the header has",
        Container::Ndjson | Container::Array => "the first object has the keys",
    };
    let keys: Vec<String> = sniff.names.iter().map(|n| key(n)).collect();
    let hint = if keys.iter().any(|k| k == "data") && keys.iter().any(|k| k == "code") {
        " (this looks like a raw API response: save its `data.items` as NDJSON or a JSON array)"
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

/// A header name or JSON key compared loosely: see the module comment.
fn key(name: &str) -> String {
    normalise_header(name).replace(' ', "_")
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
}

const COUNT: &str = "expected a whole number >= 0";

fn parse_count(text: &str) -> Result<u32, String> {
    let t = text.trim();
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
            Some(t) => parse_count(&t).map(Some).map_err(|m| self.err(f, m)),
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

    /// A date read with `parse`; `None` when absent or empty.
    fn date(
        &self,
        f: &Field,
        parse: fn(&str) -> Option<NaiveDate>,
        expected: &str,
    ) -> Result<Option<NaiveDate>, InputError> {
        match self.text(f)? {
            None => Ok(None),
            Some(t) => parse(&t)
                .map(Some)
                .ok_or_else(|| self.err(f, format!("`{}` is not a date; expected {expected}", shorten(&t)))),
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
    Teams,
    SlackDashboard { start: NaiveDate, end: NaiveDate },
    SlackApi,
    Feishu,
    GoogleChat,
}

impl Parse {
    fn format(self) -> VendorFormat {
        match self {
            Parse::Teams => VendorFormat::Teams,
            Parse::SlackDashboard { .. } => VendorFormat::SlackDashboard,
            Parse::SlackApi => VendorFormat::SlackApi,
            Parse::Feishu => VendorFormat::Feishu,
            Parse::GoogleChat => VendorFormat::GoogleChat,
        }
    }

    fn fact(self, row: &Row) -> Result<PeriodFact, InputError> {
        match self {
            Parse::Teams => teams::fact(row),
            Parse::SlackDashboard { start, end } => slack::dashboard_fact(row, start, end),
            Parse::SlackApi => slack::api_fact(row),
            Parse::Feishu => feishu::fact(row),
            Parse::GoogleChat => google::fact(row),
        }
    }
}

type Stream = Box<dyn Read + Send>;

enum Rows {
    Csv {
        reader: Box<csv::Reader<CrlfToLf>>,
        /// Header names as written.
        headers: Vec<String>,
        /// Column of each field, by `Field::index`.
        index: Vec<Option<usize>>,
        record: ByteRecord,
    },
    Ndjson {
        reader: BufReader<Stream>,
        line: u64,
        buf: Vec<u8>,
    },
    Array(JsonArray),
}

/// Streams the per-person facts of one vendor export.
pub struct VendorReader {
    file: String,
    gzipped: bool,
    parse: Parse,
    /// Accepted JSON keys of each field, by `Field::index`.
    keys: Vec<Vec<String>>,
    rows: Rows,
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
        let Some(format) = format.or(sniff.format) else {
            return Err(not_recognised(&name, &sniff));
        };
        let parse = match format {
            VendorFormat::Teams => Parse::Teams,
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
                let unix = CrlfToLf { inner: BufReader::with_capacity(256 * 1024, stream), pending_cr: false };
                let mut reader = Box::new(csv::ReaderBuilder::new().has_headers(true).from_reader(unix));
                let (headers, index) = csv_columns(&name, gzipped, format, &mut reader)?;
                Rows::Csv { reader, headers, index, record: ByteRecord::new() }
            }
            Container::Ndjson => Rows::Ndjson {
                reader: BufReader::with_capacity(256 * 1024, stream),
                line: 0,
                buf: Vec::with_capacity(1024),
            },
            Container::Array => Rows::Array(JsonArray::new(stream)),
        };
        Ok(VendorReader {
            file: name,
            gzipped,
            parse,
            keys: fields.iter().map(Field::keys).collect(),
            rows,
            done: false,
        })
    }

    pub fn format(&self) -> VendorFormat {
        self.parse.format()
    }

    /// The next fact, an error, or `None` at the end of the file.
    pub fn next_fact(&mut self) -> Option<Result<PeriodFact, InputError>> {
        if self.done {
            return None;
        }
        let (file, gzipped, parse) = (self.file.as_str(), self.gzipped, self.parse);
        let fields = parse.format().fields();
        let result = match &mut self.rows {
            Rows::Csv { reader, headers, index, record } => match reader.read_byte_record(record) {
                Ok(false) => None,
                Err(e) => {
                    self.done = matches!(e.kind(), csv::ErrorKind::Io(_));
                    Some(Err(csv_error(file, gzipped, e)))
                }
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    Some(csv_row(file, line, fields, headers, index, record).and_then(|row| parse.fact(&row)))
                }
            },
            Rows::Ndjson { reader, line, buf } => match next_line(file, gzipped, reader, line, buf) {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok(bytes)) => Some(json_fact(file, *line, 1, bytes, parse, &self.keys)),
            },
            Rows::Array(array) => match array.next_object(file, gzipped) {
                None => None,
                Some(Err(e)) => {
                    self.done = true;
                    Some(Err(e))
                }
                Some(Ok(start)) => Some(json_fact(file, start, start, &array.buf, parse, &self.keys)),
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

/// Fails once with a stored error, then reads as empty.
struct Deferred(Option<io::Error>);

impl Read for Deferred {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Turns CRLF line ends into LF before the CSV reader: with CRLF, the csv
/// crate (1.4) reports each record one line too early. (A CRLF inside a
/// quoted field becomes LF too; a lone CR is kept.)
struct CrlfToLf {
    inner: BufReader<Stream>,
    /// A CR ended the last chunk read; whether it is dropped depends on the
    /// next byte.
    pending_cr: bool,
}

impl Read for CrlfToLf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.inner.fill_buf()?;
            if self.pending_cr {
                self.pending_cr = false;
                if input.first() != Some(&b'\n') {
                    out[0] = b'\r';
                    return Ok(1);
                }
            }
            let (mut r, mut w) = (0, 0);
            while let Some(&b) = input.get(r) {
                if w == out.len() {
                    break;
                }
                if b == b'\r' {
                    match input.get(r + 1) {
                        Some(b'\n') => {
                            r += 1;
                            continue;
                        }
                        Some(_) => {}
                        None if w > 0 => break,
                        None => {
                            r += 1;
                            self.pending_cr = true;
                            break;
                        }
                    }
                }
                out[w] = b;
                w += 1;
                r += 1;
            }
            self.inner.consume(r);
            if w > 0 || r == 0 {
                return Ok(w);
            }
        }
    }
}

/// Reads the header and finds each field's column.
fn csv_columns<R: Read>(
    file: &str,
    gzipped: bool,
    format: VendorFormat,
    reader: &mut csv::Reader<R>,
) -> Result<(Vec<String>, Vec<Option<usize>>), InputError> {
    let raw = reader.byte_headers().map_err(|e| csv_error(file, gzipped, e))?.clone();
    if raw.is_empty() || (raw.len() == 1 && raw.get(0).is_some_and(|h| h.is_empty())) {
        return Err(InputError::new(file, 1, "empty file; expected a header row"));
    }
    let mut headers = Vec::with_capacity(raw.len());
    for h in raw.iter() {
        let h = std::str::from_utf8(h).map_err(|_| super::source::not_utf8(file, 1, None, raw.as_slice()))?;
        headers.push(h.trim_start_matches('\u{feff}').split_whitespace().collect::<Vec<_>>().join(" "));
    }
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
            file,
            1,
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
    Ok(Row { file, line, cells })
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
    parse.fact(&row)
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
    Ok(Row { file, line, cells })
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

/// Streams the objects of a top-level JSON array, one at a time, each at
/// most `MAX_LINE_BYTES`.
struct JsonArray {
    reader: BufReader<Stream>,
    /// The line of the next byte.
    line: u64,
    /// The current element.
    buf: Vec<u8>,
    state: ArrayState,
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
                ArrayState::Start => match self.token()? {
                    Some(b'[') => self.state = ArrayState::First,
                    None => return Ok(None),
                    Some(_) => return Err(ScanError::Bad(self.line, "expected a JSON array of objects".into())),
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
        let JsonArray { reader, line, buf, state } = self;
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
        assert_eq!(parse_count(" 12 "), Ok(12));
        assert!(parse_count("-3").unwrap_err().contains("negative"));
        assert!(parse_count("1.5").unwrap_err().contains("not a whole number"));
        assert!(parse_count("99999999999").unwrap_err().contains("too large"));
        let n: serde_json::Number = serde_json::from_str("4.0").unwrap();
        assert_eq!(json_count(&n), Ok(4));
        let n: serde_json::Number = serde_json::from_str("-1").unwrap();
        assert!(json_count(&n).unwrap_err().contains("negative"));
    }

    #[test]
    fn detection_reads_a_header_or_the_first_object() {
        assert_eq!(
            detect("x.csv", "\u{feff}User Principal Name, Report Refresh Date\n".as_bytes()),
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
    fn crlf_becomes_lf_across_chunk_ends() {
        let text = b"a,b\r\n1,2\r\r\n\rx\r".to_vec();
        for capacity in 1..6 {
            let inner = BufReader::with_capacity(capacity, Box::new(io::Cursor::new(text.clone())) as Stream);
            let mut unix = CrlfToLf { inner, pending_cr: false };
            let mut out = Vec::new();
            let mut chunk = [0u8; 3];
            loop {
                let n = unix.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n]);
            }
            assert_eq!(out, b"a,b\n1,2\r\n\rx\r".to_vec(), "capacity {capacity}");
        }
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
