//! CSV files in any layout, read through a column mapping
//! (`domain::mapping`): streamed one record at a time, plain or gzipped
//! (`source::open`), with the delimiter (comma, semicolon, tab or bar)
//! recognised from the header line. Columns the mapping does not use (such
//! as message content) are never decoded.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use csv::ByteRecord;

use super::InputError;
use super::csv_file::CsvFile;
use super::events::{RawEvent, normalise_user_id};
use super::people::{DirectoryRow, bare_address, split_aliases};
use super::source::{Input, normalise_header, not_utf8};
use super::timestamp::shorten;
use crate::domain::dataset::ChannelType;
use crate::domain::mapping::{Bound, Field, Mapping, Target, describe};

/// The fields of one source record, by column position.
pub trait Record {
    fn field(&self, i: usize) -> Option<&[u8]>;
}

impl Record for ByteRecord {
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }
}

impl Record for [&str] {
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i).map(|s| s.as_bytes())
    }
}

impl Record for [String] {
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i).map(|s| s.as_bytes())
    }
}

/// A bound mapping applied to records: what the domain's [`Bound`] says
/// about columns, times and kinds, turned into the importers' rows with
/// errors at their file, line and column.
pub trait Apply {
    /// Applies the mapping to one record of an events file.
    fn event<R: Record + ?Sized>(&self, file: &str, line: u64, record: &R) -> Result<RawEvent, InputError>;
    /// Applies the mapping to one record of a directory file.
    fn person<R: Record + ?Sized>(&self, file: &str, line: u64, record: &R) -> Result<DirectoryRow, InputError>;
}

/// A mapped field's text in one record (trimmed) and its column's name.
fn text<'r, R: Record + ?Sized>(
    bound: &'r Bound,
    file: &str,
    line: u64,
    record: &'r R,
    field: Field,
) -> Result<Option<(&'r str, &'r str)>, InputError> {
    let Some((i, column)) = bound.column(field) else { return Ok(None) };
    let raw = record.field(i).unwrap_or_default();
    let text = std::str::from_utf8(raw).map_err(|_| not_utf8(file, line, Some(column), raw))?;
    Ok(Some((text.trim(), column)))
}

/// Channel type words beyond the model's own (`direct`, `group`, `broadcast`).
fn channel_type(value: &str) -> Option<ChannelType> {
    let v = value.trim().to_lowercase();
    ChannelType::parse(&v).or(match v.as_str() {
        "dm" | "private" | "p2p" | "single" | "单聊" | "私聊" | "个人" => Some(ChannelType::Direct),
        "group chat" | "groupchat" | "群" | "群聊" | "群组" => Some(ChannelType::Group),
        "announcement" | "广播" | "公告" | "通知" => Some(ChannelType::Broadcast),
        _ => None,
    })
}

/// A start date: `YYYY-MM-DD`, also written with `/` or `.`.
fn parse_start_date(text: &str) -> Result<NaiveDate, String> {
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
        .ok_or_else(|| format!("`{}` is not a date (start_date); expected YYYY-MM-DD", shorten(text)))
}

impl Apply for Bound {
    fn event<R: Record + ?Sized>(&self, file: &str, line: u64, record: &R) -> Result<RawEvent, InputError> {
        let err = |column: &str, msg: String| InputError::in_column(file, line, column, msg);
        let (user, user_col) = text(self, file, line, record, Field::UserId)?.unwrap_or(("", "user_id"));
        if user.is_empty() {
            return Err(err(user_col, "empty user id (user_id); every event needs one".into()));
        }
        let (time, time_col) = text(self, file, line, record, Field::Timestamp)?.unwrap_or(("", "timestamp"));
        let ts = self.parse_time(time).map_err(|m| err(time_col, format!("{m} (timestamp)")))?;
        let kind = match self.event_constant() {
            Some(k) => k.to_string(),
            None => {
                let (value, col) = text(self, file, line, record, Field::Event)?.unwrap_or(("", "event"));
                if value.is_empty() {
                    return Err(err(col, "empty event kind (event); expected e.g. message_sent or login".into()));
                }
                let kind = self.kind_for(value);
                if kind.is_empty() {
                    return Err(err(col, format!("`{}` maps to an empty event kind", shorten(value))));
                }
                kind
            }
        };
        let channel = text(self, file, line, record, Field::Channel)?.map(|(c, _)| c).filter(|c| !c.is_empty());
        let channel_type = match text(self, file, line, record, Field::ChannelType)? {
            None => ChannelType::Unknown,
            Some(("", _)) => ChannelType::Unknown,
            Some((t, col)) => channel_type(t).ok_or_else(|| {
                err(
                    col,
                    format!(
                        "`{}` is not a channel type (channel_type); expected direct, group or broadcast (单聊, 群聊, 广播)",
                        shorten(t)
                    ),
                )
            })?,
        };
        let duration_seconds = match text(self, file, line, record, Field::DurationSeconds)? {
            None | Some(("", _)) => None,
            Some((d, col)) => Some(d.parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
                err(
                    col,
                    format!(
                        "`{}` is not a number of seconds (duration_seconds); expected a whole number >= 0",
                        shorten(d)
                    ),
                )
            })?),
        };
        let event_id = text(self, file, line, record, Field::EventId)?.map(|(e, _)| e).filter(|e| !e.is_empty());
        Ok(RawEvent {
            line,
            user_id: normalise_user_id(user),
            ts,
            kind,
            channel: channel.map(str::to_string),
            channel_type,
            duration_seconds,
            event_id: event_id.map(str::to_string),
        })
    }

    fn person<R: Record + ?Sized>(&self, file: &str, line: u64, record: &R) -> Result<DirectoryRow, InputError> {
        let (user, user_col) = text(self, file, line, record, Field::UserId)?.unwrap_or(("", "user_id"));
        if user.is_empty() {
            return Err(InputError::in_column(file, line, user_col, "empty user id (user_id); every person needs one"));
        }
        let opt = |field: Field| -> Result<Option<String>, InputError> {
            Ok(text(self, file, line, record, field)?.map(|(v, _)| v).filter(|v| !v.is_empty()).map(str::to_string))
        };
        let start_date = match text(self, file, line, record, Field::StartDate)? {
            None | Some(("", _)) => None,
            Some((d, col)) => Some(parse_start_date(d).map_err(|m| InputError::in_column(file, line, col, m))?),
        };
        let email = match text(self, file, line, record, Field::Email)? {
            None | Some(("", _)) => None,
            Some((e, col)) => {
                bare_address(e).map_err(|m| InputError::in_column(file, line, col, m))?;
                Some(e.to_string())
            }
        };
        let mut attributes = BTreeMap::new();
        for (i, key) in self.attributes() {
            let raw = record.field(*i).unwrap_or_default();
            let value = std::str::from_utf8(raw).map_err(|_| not_utf8(file, line, Some(key), raw))?.trim();
            if !value.is_empty() {
                attributes.insert(key.clone(), value.to_string());
            }
        }
        Ok(DirectoryRow {
            line,
            user_id: normalise_user_id(user),
            name: opt(Field::Name)?,
            email,
            department: opt(Field::Department)?,
            title: opt(Field::Title)?,
            location: opt(Field::Location)?,
            start_date,
            aliases: match text(self, file, line, record, Field::Aliases)? {
                Some((a, _)) => split_aliases(a),
                None => attributes.remove("aliases").map(|a| split_aliases(&a)).unwrap_or_default(),
            },
            attributes,
        })
    }
}

pub use super::csv_file::sniff_delimiter;

/// Opens a CSV input and reads its header, as written (BOM and surrounding
/// spaces removed). The header is the first of the top lines that
/// `recognise` accepts (lines above it, such as a title row, are skipped),
/// else line 1. A `flexible` reader accepts rows of any length (for samples).
fn open_csv(
    input: Input,
    flexible: bool,
    recognise: &dyn Fn(&[String]) -> bool,
) -> Result<(CsvFile, Vec<String>), InputError> {
    let Input { name, gzipped, reader, .. } = input;
    let mut csv = CsvFile::open(&name, gzipped, reader, recognise, flexible)?;
    let header = csv.header()?;
    Ok((csv, header))
}

/// A header line for a file in an unknown layout: at least two named
/// columns (a title row has one, however many empty cells Excel pads it with).
fn looks_like_a_header(names: &[String]) -> bool {
    names.len() >= 2
}

/// The header and first rows of a file, to show before mapping it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub header: Vec<String>,
    /// Up to the requested number of rows, each with the header's length.
    pub rows: Vec<Vec<String>>,
    /// Whether the file has more rows than shown.
    pub more: bool,
}

/// Reads the header and the first `n` rows (invalid UTF-8 shown replaced).
pub fn sample(input: Input, n: usize) -> Result<Sample, InputError> {
    let (mut csv, header) = open_csv(input, true, &looks_like_a_header)?;
    let mut rows = Vec::new();
    let mut record = ByteRecord::new();
    let mut more = false;
    while let Some(read) = csv.read(&mut record) {
        read?;
        if rows.len() == n {
            more = true;
            break;
        }
        let mut row: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
        row.resize(header.len(), String::new());
        rows.push(row);
    }
    Ok(Sample { header, rows, more })
}

/// Streams the records of a file through a mapping.
pub struct MappedReader {
    file: String,
    csv: CsvFile,
    header: Vec<String>,
    record: ByteRecord,
    bound: Bound,
}

impl MappedReader {
    /// Opens the file and binds the mapping to its header; `org_tz` reads
    /// naive times when the mapping names no zone.
    pub fn new(input: Input, mapping: &Mapping, org_tz: Tz) -> Result<MappedReader, InputError> {
        // The header is the first line with every column the mapping names.
        let named: Vec<String> = mapping.columns.values().map(|c| normalise_header(c)).collect();
        let fits = |names: &[String]| {
            !named.is_empty() && named.iter().all(|c| names.iter().any(|n| normalise_header(n) == *c))
        };
        let (csv, header) = open_csv(input, false, &fits)?;
        let file = csv.file.clone();
        let bound = mapping.bind(&header, org_tz).map_err(|problems| {
            InputError::new(
                &file,
                csv.header_at.line,
                format!("the column mapping does not fit this file: {}", describe(&problems)),
            )
        })?;
        Ok(MappedReader { file, csv, header, record: ByteRecord::new(), bound })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    pub fn bound(&self) -> &Bound {
        &self.bound
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// The header's line, when lines above it were skipped.
    pub fn header_line(&self) -> Option<u64> {
        Some(self.csv.header_at.line).filter(|l| *l > 1)
    }

    /// Reads the next record; its line number, or `None` at the end.
    fn advance(&mut self) -> Option<Result<u64, InputError>> {
        self.csv.read(&mut self.record)
    }
}

fn for_target(input: Input, mapping: &Mapping, org_tz: Tz, want: Target) -> Result<MappedReader, InputError> {
    if mapping.target != want {
        return Err(InputError::new(
            &input.name,
            1,
            format!("the column mapping is for {} files, not {want}", mapping.target),
        ));
    }
    MappedReader::new(input, mapping, org_tz)
}

/// Events from a mapped file.
pub struct MappedEvents(MappedReader);

impl MappedEvents {
    pub fn new(input: Input, mapping: &Mapping, org_tz: Tz) -> Result<MappedEvents, InputError> {
        for_target(input, mapping, org_tz, Target::Events).map(MappedEvents)
    }

    pub fn reader(&self) -> &MappedReader {
        &self.0
    }
}

impl Iterator for MappedEvents {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.0;
        Some(r.advance()?.and_then(|line| r.bound.event(&r.file, line, &r.record)))
    }
}

/// Directory rows from a mapped file.
pub struct MappedPeople(MappedReader);

impl MappedPeople {
    pub fn new(input: Input, mapping: &Mapping, org_tz: Tz) -> Result<MappedPeople, InputError> {
        for_target(input, mapping, org_tz, Target::People).map(MappedPeople)
    }

    pub fn reader(&self) -> &MappedReader {
        &self.0
    }

    /// The directory fields the file fills (not `user_id`).
    pub fn fields(&self) -> Vec<Field> {
        self.0.bound.fields().into_iter().filter(|f| *f != Field::UserId).collect()
    }

    /// Columns kept as attributes.
    pub fn attribute_columns(&self) -> Vec<String> {
        self.0.bound.attribute_columns()
    }
}

impl Iterator for MappedPeople {
    type Item = Result<DirectoryRow, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.0;
        Some(r.advance()?.and_then(|line| r.bound.person(&r.file, line, &r.record)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping::{TimeFormat, guess_columns, parse_value_map, value_map_text};
    use crate::ingest::source::open;
    use chrono::DateTime;

    fn input(name: &str, text: &str) -> Input {
        open(name, std::io::Cursor::new(text.as_bytes().to_vec())).unwrap()
    }

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn shanghai() -> Tz {
        "Asia/Shanghai".parse().unwrap()
    }

    fn events_mapping(pairs: &[(Field, &str)]) -> Mapping {
        let mut m = Mapping::new(Target::Events);
        for (f, c) in pairs {
            m.columns.insert(*f, c.to_string());
        }
        m
    }

    #[test]
    fn patterns_zones_and_unix_units() {
        let h = header(&["uid", "time", "kind"]);
        let mut m = events_mapping(&[(Field::UserId, "UID"), (Field::Timestamp, "Time"), (Field::Event, "kind")]);
        m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
        let b = m.bind(&h, shanghai()).unwrap();
        let e = b.event("f.csv", 2, &["U1 ", "2026/3/2 9:15", "login"][..]).unwrap();
        assert_eq!((e.user_id.as_str(), e.ts, e.kind.as_str()), ("u1", 1_772_414_100, "login"));

        // The mapping's zone wins over the organisation's.
        m.timezone = Some("Europe/Berlin".into());
        m.timestamp_format = TimeFormat::Pattern("%d.%m.%Y %H:%M:%S".into());
        let b = m.bind(&h, shanghai()).unwrap();
        let e = b.event("f.csv", 2, &["u1", "02.03.2026 09:15:00", "login"][..]).unwrap();
        assert_eq!(e.ts, 1_772_439_300); // 08:15Z
        // An explicit offset wins over any zone.
        m.timestamp_format = TimeFormat::Pattern("%Y-%m-%d %H:%M:%S %z".into());
        let b = m.bind(&h, shanghai()).unwrap();
        assert_eq!(b.event("f", 2, &["u1", "2026-03-02 09:15:00 +0800", "x"][..]).unwrap().ts, 1_772_414_100);

        m.timestamp_format = TimeFormat::UnixMillis;
        let b = m.bind(&h, shanghai()).unwrap();
        assert_eq!(b.event("f", 2, &["u1", "1772414100999", "x"][..]).unwrap().ts, 1_772_414_100);
        let e = b.event("f", 3, &["u1", "1772414100000000", "x"][..]).unwrap_err();
        assert!(e.to_string().contains("out of range for Unix milliseconds"), "{e}");
        m.timestamp_format = TimeFormat::UnixSeconds;
        let b = m.bind(&h, shanghai()).unwrap();
        assert_eq!(b.event("f", 2, &["u1", "1772414100", "x"][..]).unwrap().ts, 1_772_414_100);
        assert_eq!(b.event("f", 2, &["u1", "1772414100.75", "x"][..]).unwrap().ts, 1_772_414_100);
        let e = b.event("f", 4, &["u1", "1772414100999", "x"][..]).unwrap_err();
        assert!(e.to_string().starts_with("f:4: column `time`: ") && e.to_string().contains("milliseconds"), "{e}");

        // Auto: the model's own forms, naive times in the bound zone.
        m.timestamp_format = TimeFormat::Auto;
        m.timezone = None;
        let b = m.bind(&h, shanghai()).unwrap();
        assert_eq!(b.event("f", 2, &["u1", "2026-03-02 09:15:00", "x"][..]).unwrap().ts, 1_772_414_100);
        assert_eq!(b.event("f", 2, &["u1", "2026-03-02T01:15:00Z", "x"][..]).unwrap().ts, 1_772_414_100);
    }

    #[test]
    fn naive_times_follow_daylight_saving() {
        let h = header(&["u", "t", "e"]);
        let mut m = events_mapping(&[(Field::UserId, "u"), (Field::Timestamp, "t"), (Field::Event, "e")]);
        m.timestamp_format = TimeFormat::Pattern("%m/%d/%Y %H:%M".into());
        m.timezone = Some("America/New_York".into());
        let b = m.bind(&h, chrono_tz::UTC).unwrap();
        let ts = |t: &str| b.event("f", 2, &["u", t, "login"][..]).unwrap().ts;
        let utc = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().timestamp();
        assert_eq!(ts("03/07/2026 12:00"), utc("2026-03-07T17:00:00Z")); // EST
        assert_eq!(ts("03/09/2026 12:00"), utc("2026-03-09T16:00:00Z")); // EDT
        assert_eq!(ts("03/08/2026 02:30"), utc("2026-03-08T07:30:00Z")); // skipped hour: offset before
        assert_eq!(ts("11/01/2026 01:30"), utc("2026-11-01T05:30:00Z")); // repeated hour: the earlier
    }

    #[test]
    fn value_maps_and_constants_give_kinds() {
        let text = "发送消息 = message_sent\n# a comment\n\n签到＝check_in\nLogin = login\n";
        let values = parse_value_map(text).unwrap();
        assert_eq!(values.len(), 3);
        assert_eq!(parse_value_map(&value_map_text(&values)).unwrap(), values);
        let bad = parse_value_map("ok = login\njust words\n= x").unwrap_err();
        assert_eq!(bad.len(), 2);
        assert!(describe(&bad).contains("line 2 (`just words`)"), "{}", describe(&bad));

        let h = header(&["u", "t", "行为", "会话类型"]);
        let mut m = events_mapping(&[
            (Field::UserId, "u"),
            (Field::Timestamp, "t"),
            (Field::Event, "行为"),
            (Field::ChannelType, "会话类型"),
        ]);
        m.event_values = values;
        let b = m.bind(&h, shanghai()).unwrap();
        let kind = |v: &str| b.event("f", 2, &["u", "1772414100", v, ""][..]).unwrap().kind;
        assert_eq!(kind("发送消息"), "message_sent");
        assert_eq!(kind(" 签到 "), "check_in");
        assert_eq!(kind("LOGIN"), "login");
        assert_eq!(kind("撤回消息"), "撤回消息", "unmapped values pass through");
        let e = b.event("f", 2, &["u", "1772414100", "签到", "群聊"][..]).unwrap();
        assert_eq!(e.channel_type, ChannelType::Group);
        let e = b.event("f", 7, &["u", "1772414100", "签到", "卫星"][..]).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (7, Some("会话类型")));
        let e = b.event("f", 8, &["u", "1772414100", "", ""][..]).unwrap_err();
        assert_eq!(e.to_string(), "f:8: column `行为`: empty event kind (event); expected e.g. message_sent or login");

        let mut m = events_mapping(&[(Field::UserId, "u"), (Field::Timestamp, "t")]);
        m.event_constant = Some(" message_sent ".into());
        m.validate().unwrap();
        let b = m.bind(&h, shanghai()).unwrap();
        assert_eq!(b.event("f", 2, &["u", "1772414100", "anything", ""][..]).unwrap().kind, "message_sent");
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let h = header(&["id", "who", "when", "what", "dur"]);
        let mut m = events_mapping(&[
            (Field::EventId, "id"),
            (Field::UserId, "who"),
            (Field::Timestamp, "when"),
            (Field::Event, "what"),
            (Field::DurationSeconds, "dur"),
        ]);
        m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
        let b = m.bind(&h, shanghai()).unwrap();
        let e = b.event("log.csv", 5, &["1", "u", "yesterday", "login", ""][..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "log.csv:5: column `when`: `yesterday` does not match the format `%Y/%m/%d %H:%M` (e.g. `2026/03/02 09:15`) (timestamp)"
        );
        let e = b.event("log.csv", 6, &["1", " ", "2026/03/02 09:15", "login", ""][..]).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (6, Some("who")));
        let e = b.event("log.csv", 9, &["1", "u", "2026/03/02 09:15", "meeting", "-3"][..]).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (9, Some("dur")));
        let ok = b.event("log.csv", 9, &["e-1", "u", "2026/03/02 09:15", "meeting", "60"][..]).unwrap();
        assert_eq!((ok.duration_seconds, ok.event_id.as_deref()), (Some(60), Some("e-1")));
        let bytes: Vec<String> = vec!["1".into(), "u".into(), "2026/03/02 09:15".into(), "x".into(), "".into()];
        assert!(b.event("log.csv", 2, &bytes[..]).is_ok());
    }

    #[test]
    fn directory_rows_keep_other_columns_but_never_content() {
        let h = header(&["工号", "姓名", "部门", "入职日期", "Cost Center", "备注内容", "Email"]);
        let mut m = Mapping::new(Target::People);
        m.columns = guess_columns(Target::People, &h);
        assert_eq!(m.column(Field::Email), Some("Email"));
        // An unmapped column named like a field is not an attribute.
        m.columns.remove(&Field::Email);
        assert_eq!(m.column(Field::UserId), Some("工号"));
        assert_eq!(m.column(Field::Name), Some("姓名"));
        assert_eq!(m.column(Field::StartDate), Some("入职日期"));
        let b = m.bind(&h, shanghai()).unwrap();
        assert_eq!(b.attribute_columns(), vec!["cost center".to_string()]);
        let row = b.person("d.csv", 2, &["E01", "李伟", "销售", "2026/03/02", "CC1", "secret", "x"][..]).unwrap();
        assert_eq!(row.user_id, "e01");
        assert_eq!(row.name.as_deref(), Some("李伟"));
        assert_eq!(row.department.as_deref(), Some("销售"));
        assert_eq!(row.start_date, NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(row.attributes.into_iter().collect::<Vec<_>>(), vec![("cost center".into(), "CC1".into())]);
        let e = b.person("d.csv", 3, &["E01", "", "", "March", "", "", ""][..]).unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (3, Some("入职日期")));
        m.keep_other_columns = false;
        assert!(m.bind(&h, shanghai()).unwrap().attribute_columns().is_empty());
    }

    #[test]
    fn a_sample_shows_the_header_and_first_rows() {
        let s = sample(input("x.csv", "\u{feff} 用户ID ;时间\nu1;2026/03/02 09:15\nu2\nu3;x\n"), 2).unwrap();
        assert_eq!(s.header, vec!["用户ID", "时间"]);
        assert_eq!(s.rows, vec![vec!["u1", "2026/03/02 09:15"], vec!["u2", ""]]);
        assert!(s.more);
        let e = sample(input("empty.csv", ""), 20).unwrap_err();
        assert_eq!(e.to_string(), "empty.csv:1: empty file; expected a header row");
    }

    #[test]
    fn events_stream_through_a_mapping_with_line_numbers() {
        let text = "用户ID,时间,行为,内容\n\
                    U1,2026/03/02 09:15,发送消息,\"hello, world\"\n\
                    u2,2026/3/2 9:16,签到,\n\
                    u3,bad,签到,\n";
        let mut m = Mapping::suggest(Target::Events, &["用户ID".into(), "时间".into(), "行为".into()], &[]);
        m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
        m.event_values.insert("发送消息".into(), "message_sent".into());
        m.event_values.insert("签到".into(), "check_in".into());
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let items: Vec<_> = MappedEvents::new(input("d.csv", text), &m, tz).unwrap().collect();
        assert_eq!(items.len(), 3);
        let first = items[0].as_ref().unwrap();
        assert_eq!((first.line, first.user_id.as_str(), first.kind.as_str()), (2, "u1", "message_sent"));
        assert_eq!(first.ts, 1_772_414_100);
        assert_eq!(items[1].as_ref().unwrap().kind, "check_in");
        let e = items[2].as_ref().unwrap_err();
        assert_eq!((e.line, e.column.as_deref()), (4, Some("时间")));

        let e = MappedPeople::new(input("d.csv", text), &m, tz).err().unwrap();
        assert!(e.to_string().contains("is for events files, not people"), "{e}");
        m.columns.insert(Field::Channel, "群".into());
        let e = MappedEvents::new(input("d.csv", text), &m, tz).err().unwrap();
        assert!(e.to_string().starts_with("d.csv:1: the column mapping does not fit this file: column `群`"), "{e}");
    }

    #[test]
    fn gzip_and_unused_bad_bytes_are_fine() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"uid,when,note\nu1,1772414100,\xff\xfe\n").unwrap();
        let bytes = gz.finish().unwrap();
        let mut m = Mapping::new(Target::Events);
        m.columns.insert(Field::UserId, "uid".into());
        m.columns.insert(Field::Timestamp, "when".into());
        m.event_constant = Some("login".into());
        let input = open("x.csv.gz", std::io::Cursor::new(bytes)).unwrap();
        let items: Vec<_> = MappedEvents::new(input, &m, chrono_tz::UTC).unwrap().collect();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().kind, "login");
    }
}
