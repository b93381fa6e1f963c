//! Column mapping for files in any other layout (DingTalk or WeCom exports,
//! a company's own log): which source column feeds which field of the
//! activity model (spec section 1), how timestamps are written, and how
//! source values become event kinds. Pure: a mapping is validated, bound to
//! a file's header, then applied to one record at a time.
//!
//! Message content is never an input: a column that looks like content is
//! never offered, can never be mapped, and is never kept as an attribute.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::domain::timestamp::{self, local_to_instant, parse_unix, shorten};

/// What a mapped file becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Events,
    People,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Events, Target::People];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Events => "events",
            Target::People => "people",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }

    /// The fields a file of this kind can fill, in display order.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Target::Events => &EVENT_FIELDS,
            Target::People => &PEOPLE_FIELDS,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field of the activity model's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    UserId,
    Timestamp,
    Event,
    Channel,
    ChannelType,
    DurationSeconds,
    EventId,
    Name,
    Email,
    Department,
    Title,
    Location,
    StartDate,
    Aliases,
}

pub const EVENT_FIELDS: [Field; 7] = [
    Field::UserId,
    Field::Timestamp,
    Field::Event,
    Field::Channel,
    Field::ChannelType,
    Field::DurationSeconds,
    Field::EventId,
];

pub const PEOPLE_FIELDS: [Field; 8] = [
    Field::UserId,
    Field::Name,
    Field::Email,
    Field::Aliases,
    Field::Department,
    Field::Title,
    Field::Location,
    Field::StartDate,
];

impl Field {
    pub const ALL: [Field; 14] = [
        Field::UserId,
        Field::Timestamp,
        Field::Event,
        Field::Channel,
        Field::ChannelType,
        Field::DurationSeconds,
        Field::EventId,
        Field::Name,
        Field::Email,
        Field::Department,
        Field::Title,
        Field::Location,
        Field::StartDate,
        Field::Aliases,
    ];

    /// The field's name in the standard files.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::UserId => "user_id",
            Field::Timestamp => "timestamp",
            Field::Event => "event",
            Field::Channel => "channel",
            Field::ChannelType => "channel_type",
            Field::DurationSeconds => "duration_seconds",
            Field::EventId => "event_id",
            Field::Name => "name",
            Field::Email => "email",
            Field::Department => "department",
            Field::Title => "title",
            Field::Location => "location",
            Field::StartDate => "start_date",
            Field::Aliases => "aliases",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    /// Whether a file of `target` must have this field. (`event` may come
    /// from a constant instead of a column.)
    pub fn required(self, target: Target) -> bool {
        match target {
            Target::Events => matches!(self, Field::UserId | Field::Timestamp | Field::Event),
            Target::People => self == Field::UserId,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How timestamps are written in the source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TimeFormat {
    /// The model's forms: RFC 3339, a local `YYYY-MM-DD HH:MM:SS`, or Unix seconds.
    #[default]
    Auto,
    /// A chrono strftime pattern such as `%Y/%m/%d %H:%M`.
    Pattern(String),
    UnixSeconds,
    UnixMillis,
}

impl TimeFormat {
    pub fn parse(s: &str) -> TimeFormat {
        match s.trim() {
            "" | "auto" => TimeFormat::Auto,
            "unix_seconds" => TimeFormat::UnixSeconds,
            "unix_millis" => TimeFormat::UnixMillis,
            _ => TimeFormat::Pattern(s.trim().to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TimeFormat::Auto => "auto",
            TimeFormat::Pattern(p) => p,
            TimeFormat::UnixSeconds => "unix_seconds",
            TimeFormat::UnixMillis => "unix_millis",
        }
    }
}

impl Serialize for TimeFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TimeFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TimeFormat, D::Error> {
        Ok(TimeFormat::parse(&String::deserialize(d)?))
    }
}

/// Common ways exports write times, tried in this order when guessing.
pub const COMMON_PATTERNS: [&str; 14] = [
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y/%m/%d",
    "%Y-%m-%d",
];

/// A saved or submitted column mapping. Serialized as JSON for presets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub target: Target,
    /// Field to source column, named as in the file's header (compared
    /// loosely: case, surrounding and repeated spaces do not matter).
    #[serde(default)]
    pub columns: BTreeMap<Field, String>,
    /// Every row's event kind, instead of an event column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_constant: Option<String>,
    /// Source value of the event column to event kind; other values pass
    /// through unchanged.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_values: BTreeMap<String, String>,
    #[serde(default)]
    pub timestamp_format: TimeFormat,
    /// IANA zone for times without an offset; `None`: the organisation's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Directory files: keep every other column as a person attribute.
    #[serde(default)]
    pub keep_other_columns: bool,
}

impl Mapping {
    pub fn new(target: Target) -> Mapping {
        Mapping {
            target,
            columns: BTreeMap::new(),
            event_constant: None,
            event_values: BTreeMap::new(),
            timestamp_format: TimeFormat::Auto,
            timezone: None,
            keep_other_columns: target == Target::People,
        }
    }

    pub fn column(&self, field: Field) -> Option<&str> {
        self.columns.get(&field).map(String::as_str).filter(|c| !c.trim().is_empty())
    }

    fn constant(&self) -> Option<&str> {
        self.event_constant.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }

    /// Checks what can be checked without a file: required fields, fields
    /// of the other kind, the event constant, the time pattern and zone.
    pub fn validate(&self) -> Result<(), Vec<MappingProblem>> {
        self.checked().map(drop)
    }

    fn checked(&self) -> Result<(TimeParser, Option<Tz>), Vec<MappingProblem>> {
        let mut problems = Vec::new();
        for (field, column) in &self.columns {
            if !self.target.fields().contains(field) && !column.trim().is_empty() {
                problems.push(MappingProblem::WrongTarget { field: *field, target: self.target });
            }
        }
        for field in self.target.fields() {
            if !field.required(self.target) || self.column(*field).is_some() {
                continue;
            }
            if *field == Field::Event && self.constant().is_some() {
                continue;
            }
            problems.push(MappingProblem::Required(*field));
        }
        if self.target == Target::Events {
            if self.column(Field::Event).is_some() && self.constant().is_some() {
                problems.push(MappingProblem::EventTwice);
            }
            for (value, kind) in &self.event_values {
                if kind.trim().is_empty() {
                    problems.push(MappingProblem::EmptyKind { value: value.clone() });
                }
            }
        }
        let zone = match self.timezone.as_deref().map(str::trim).filter(|z| !z.is_empty()) {
            None => None,
            Some(name) => match name.parse::<Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    problems.push(MappingProblem::UnknownZone(name.to_string()));
                    None
                }
            },
        };
        let parser = if self.target == Target::Events {
            match TimeParser::new(&self.timestamp_format, chrono_tz::UTC) {
                Ok(p) => Some(p),
                Err(p) => {
                    problems.push(p);
                    None
                }
            }
        } else {
            Some(TimeParser::auto(chrono_tz::UTC))
        };
        match parser {
            Some(p) if problems.is_empty() => Ok((p, zone)),
            _ => Err(problems),
        }
    }

    /// Binds the mapping to a file's header (as written in the file);
    /// `org_tz` reads naive times when the mapping names no zone.
    pub fn bind(&self, header: &[String], org_tz: Tz) -> Result<Bound, Vec<MappingProblem>> {
        let (positions, column_problems) = self.resolve_columns(header);
        let (mut time, zone) = match self.checked() {
            Ok(ok) if column_problems.is_empty() => ok,
            Ok(_) => return Err(column_problems),
            Err(mut problems) => {
                problems.extend(column_problems);
                return Err(problems);
            }
        };
        let tz = zone.unwrap_or(org_tz);
        time.tz = tz;
        let normalised: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
        let attributes = if self.target == Target::People && self.keep_other_columns {
            let used: Vec<usize> = positions.iter().map(|(_, i, _)| *i).collect();
            normalised
                .iter()
                .enumerate()
                .filter(|(i, key)| {
                    !used.contains(i)
                        && !key.is_empty()
                        && !is_content_column(&header[*i])
                        && Field::parse(key).is_none()
                        && normalised.iter().filter(|k| k == key).count() == 1
                })
                .map(|(i, key)| (i, key.clone()))
                .collect()
        } else {
            Vec::new()
        };
        let mut lowered: HashMap<String, String> = HashMap::new();
        for (value, kind) in &self.event_values {
            lowered.entry(value.trim().to_lowercase()).or_insert_with(|| kind.trim().to_string());
        }
        Ok(Bound {
            target: self.target,
            positions,
            event_constant: self.constant().map(str::to_string),
            event_values: self.event_values.iter().map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect(),
            event_values_lower: lowered,
            time,
            attributes,
        })
    }

    /// Finds each mapped column in the header.
    #[allow(clippy::type_complexity)]
    fn resolve_columns(&self, header: &[String]) -> (Vec<(Field, usize, String)>, Vec<MappingProblem>) {
        let normalised: Vec<String> = header.iter().map(|h| normalise_header(h)).collect();
        let mut positions = Vec::new();
        let mut problems = Vec::new();
        for field in self.target.fields() {
            let Some(column) = self.column(*field) else { continue };
            match locate(&normalised, column) {
                Ok(i) if is_content_column(&header[i]) => {
                    problems.push(MappingProblem::ContentColumn { field: *field, column: header[i].trim().to_string() })
                }
                Ok(i) => positions.push((*field, i, header[i].trim().to_string())),
                Err(Located::Missing) => problems.push(MappingProblem::UnknownColumn {
                    field: *field,
                    column: column.to_string(),
                    available: offered_columns(header),
                }),
                Err(Located::Twice) => {
                    problems.push(MappingProblem::DuplicateColumn { field: *field, column: column.to_string() })
                }
            }
        }
        (positions, problems)
    }

    /// A first mapping for a file: columns guessed from header names, the
    /// time format guessed from the sample rows.
    pub fn suggest(target: Target, header: &[String], rows: &[Vec<String>]) -> Mapping {
        let mut mapping = Mapping::new(target);
        mapping.columns = guess_columns(target, header);
        if target == Target::Events
            && let Some(column) = mapping.column(Field::Timestamp)
            && let Ok(i) = locate(&header.iter().map(|h| normalise_header(h)).collect::<Vec<_>>(), column)
        {
            let samples: Vec<&str> = rows.iter().filter_map(|r| r.get(i)).map(String::as_str).collect();
            mapping.timestamp_format = guess_time_format(&samples);
        }
        mapping
    }
}

enum Located {
    Missing,
    Twice,
}

fn locate(normalised_header: &[String], column: &str) -> Result<usize, Located> {
    let want = normalise_header(column);
    let mut found = normalised_header.iter().enumerate().filter(|(_, h)| **h == want).map(|(i, _)| i);
    match (found.next(), found.next()) {
        (Some(i), None) => Ok(i),
        (Some(_), Some(_)) => Err(Located::Twice),
        (None, _) => Err(Located::Missing),
    }
}

/// The columns a user may map: every named column except message content.
pub fn offered_columns(header: &[String]) -> Vec<String> {
    header.iter().map(|h| h.trim().to_string()).filter(|h| !h.is_empty() && !is_content_column(h)).collect()
}

/// Whether a column looks like message content (never imported).
pub fn is_content_column(header: &str) -> bool {
    let h = compact(header);
    #[rustfmt::skip]
    const EXACT: [&str; 16] = [
        "content", "text", "message", "messages", "msg", "body", "messagebody", "messagetext", "msgbody", "msgcontent",
        "messagecontent", "消息", "文本", "正文", "聊天记录", "消息正文",
    ];
    EXACT.contains(&h.as_str()) || ["content", "内容", "正文"].iter().any(|part| h.contains(part))
}

/// A header reduced for comparisons: lower case, letters and digits only.
fn compact(s: &str) -> String {
    s.trim_start_matches('\u{feff}').chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Header names that usually hold each field, best first (compared compacted).
#[rustfmt::skip]
fn candidates(field: Field) -> &'static [&'static str] {
    match field {
        Field::UserId => &[
            "userid", "用户id", "uid", "员工id", "员工userid", "成员id", "人员id", "staffid", "employeeid", "empid",
            "memberid", "accountid", "工号", "员工工号", "账号", "帐号", "account", "user", "用户", "username",
            "用户名", "email", "邮箱",
        ],
        Field::Timestamp => &[
            "timestamp", "time", "datetime", "eventtime", "时间", "时间戳", "发生时间", "发送时间", "操作时间",
            "打卡时间", "日期时间", "createtime", "createdat", "created", "ts", "date",
        ],
        Field::Event => &[
            "event", "eventtype", "eventkind", "kind", "type", "action", "activity", "事件", "事件类型", "行为",
            "行为类型", "操作", "操作类型", "动作", "类型", "消息类型",
        ],
        Field::Channel => &[
            "channel", "channelid", "conversation", "conversationid", "chat", "chatid", "room", "group", "groupid",
            "会话", "会话id", "群", "群id", "群聊", "群名称", "群聊名称", "会话名称",
        ],
        Field::ChannelType => &["channeltype", "chattype", "conversationtype", "会话类型", "群类型", "聊天类型"],
        Field::DurationSeconds => &[
            "durationseconds", "duration", "seconds", "durations", "时长", "时长秒", "通话时长", "会议时长", "持续时间",
        ],
        Field::EventId => &[
            "eventid", "id", "msgid", "messageid", "recordid", "logid", "记录id", "事件id", "消息id", "日志id", "流水号",
        ],
        Field::Name => &["name", "fullname", "displayname", "姓名", "名字", "名称", "用户名称", "员工姓名"],
        Field::Email => &["email", "emailaddress", "mail", "邮箱", "电子邮件", "邮件地址", "企业邮箱"],
        Field::Department => &["department", "dept", "departmentname", "部门", "所属部门", "部门名称", "组织"],
        Field::Title => &["title", "jobtitle", "position", "role", "职位", "岗位", "职务", "职称"],
        Field::Aliases => &["aliases", "alias", "otherids", "别名", "其他账号", "其他标识"],
        Field::Location => &["location", "city", "office", "site", "地点", "城市", "办公地点", "工作地点", "所在地"],
        Field::StartDate => &[
            "startdate", "hiredate", "joindate", "joined", "onboarddate", "入职日期", "入职时间", "开通日期", "启用日期",
            "开始日期",
        ],
    }
}

/// Guesses a column for each field from the header names; each column
/// feeds at most one field, and content columns none.
pub fn guess_columns(target: Target, header: &[String]) -> BTreeMap<Field, String> {
    let compacted: Vec<String> = header.iter().map(|h| compact(h)).collect();
    let mut taken = vec![false; header.len()];
    for (i, h) in header.iter().enumerate() {
        if is_content_column(h) || compacted[i].is_empty() {
            taken[i] = true;
        }
    }
    let mut out = BTreeMap::new();
    for field in target.fields() {
        let found =
            candidates(*field).iter().find_map(|c| (0..header.len()).find(|i| !taken[*i] && compacted[*i] == *c));
        if let Some(i) = found {
            taken[i] = true;
            out.insert(*field, header[i].trim().to_string());
        }
    }
    out
}

/// The first format that reads every non-empty sample; `auto` otherwise.
pub fn guess_time_format(samples: &[&str]) -> TimeFormat {
    let samples: Vec<&str> = samples.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
    if samples.is_empty() {
        return TimeFormat::Auto;
    }
    let mut formats = vec![TimeFormat::Auto];
    formats.extend(COMMON_PATTERNS.iter().map(|p| TimeFormat::Pattern(p.to_string())));
    formats.push(TimeFormat::UnixMillis);
    for format in formats {
        if let Ok(parser) = TimeParser::new(&format, chrono_tz::UTC)
            && samples.iter().all(|s| parser.parse(s).is_ok())
        {
            return format;
        }
    }
    TimeFormat::Auto
}

/// Parses `source = kind` lines (blank lines and `#` comments ignored).
pub fn parse_value_map(text: &str) -> Result<BTreeMap<String, String>, Vec<MappingProblem>> {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.replace('＝', "=");
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.rsplit_once('=') {
            Some((value, kind)) if !value.trim().is_empty() && !kind.trim().is_empty() => {
                out.insert(value.trim().to_string(), kind.trim().to_string());
            }
            _ => problems.push(MappingProblem::BadValueLine { line: n + 1, text: shorten(line) }),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

/// The value map as `source = kind` lines, for a text area.
pub fn value_map_text(map: &BTreeMap<String, String>) -> String {
    map.iter().map(|(v, k)| format!("{v} = {k}")).collect::<Vec<_>>().join("\n")
}

/// Something wrong with a mapping, for the person who made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingProblem {
    /// A required field has no column.
    Required(Field),
    /// A field of the other kind of file.
    WrongTarget {
        field: Field,
        target: Target,
    },
    /// The column is not in the file.
    UnknownColumn {
        field: Field,
        column: String,
        available: Vec<String>,
    },
    /// Two columns of the file have this name.
    DuplicateColumn {
        field: Field,
        column: String,
    },
    /// The column holds message content.
    ContentColumn {
        field: Field,
        column: String,
    },
    /// Both an event column and a constant.
    EventTwice,
    /// A value map entry without a kind.
    EmptyKind {
        value: String,
    },
    /// A value map line that is not `source = kind`.
    BadValueLine {
        line: usize,
        text: String,
    },
    /// Not a strftime pattern.
    BadPattern {
        pattern: String,
    },
    /// A pattern that does not give a date.
    PatternWithoutDate {
        pattern: String,
    },
    UnknownZone(String),
}

impl fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingProblem::Required(field) => write!(f, "`{field}` is required: choose the column that holds it"),
            MappingProblem::WrongTarget { field, target } => {
                write!(f, "`{field}` is not a field of {target} files")
            }
            MappingProblem::UnknownColumn { field, column, .. } => {
                write!(f, "column `{column}` (for `{field}`) is not in the file")
            }
            MappingProblem::DuplicateColumn { field, column } => {
                write!(f, "the file has two columns named `{column}`, so it cannot feed `{field}`")
            }
            MappingProblem::ContentColumn { field, column } => write!(
                f,
                "column `{column}` looks like message content, which is never imported; it cannot feed `{field}`"
            ),
            MappingProblem::EventTwice => f.write_str("`event` has both a column and a fixed value: choose one"),
            MappingProblem::EmptyKind { value } => write!(f, "the value `{value}` is mapped to an empty event kind"),
            MappingProblem::BadValueLine { line, text } => {
                write!(f, "value map line {line} (`{text}`) is not `source value = event kind`")
            }
            MappingProblem::BadPattern { pattern } => {
                write!(f, "`{pattern}` is not a valid time pattern; use strftime fields such as %Y/%m/%d %H:%M")
            }
            MappingProblem::PatternWithoutDate { pattern } => {
                write!(f, "the time pattern `{pattern}` needs a year, a month and a day (%Y, %m, %d)")
            }
            MappingProblem::UnknownZone(zone) => {
                write!(f, "`{zone}` is not an IANA time zone (such as Asia/Shanghai or Europe/Berlin)")
            }
        }
    }
}

/// Joins problems into one line, naming the file's columns once when some
/// column was not found.
pub fn describe(problems: &[MappingProblem]) -> String {
    let mut text = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    if let Some(MappingProblem::UnknownColumn { available, .. }) =
        problems.iter().find(|p| matches!(p, MappingProblem::UnknownColumn { .. }))
    {
        text.push_str(&format!("; the file's columns are: {}", available.join(", ")));
    }
    text
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PatternKind {
    WithOffset,
    Naive,
    DateOnly,
}

/// Reads timestamps in one format.
#[derive(Clone, Debug)]
pub struct TimeParser {
    format: TimeFormat,
    pattern: Option<(PatternKind, String)>,
    tz: Tz,
}

impl TimeParser {
    fn auto(tz: Tz) -> TimeParser {
        TimeParser { format: TimeFormat::Auto, pattern: None, tz }
    }

    /// Checks a format; `tz` reads times without an offset.
    pub fn new(format: &TimeFormat, tz: Tz) -> Result<TimeParser, MappingProblem> {
        let pattern = match format {
            TimeFormat::Pattern(p) => Some((check_pattern(p)?, pattern_example(p).unwrap_or_default())),
            _ => None,
        };
        Ok(TimeParser { format: format.clone(), pattern, tz })
    }

    pub fn format(&self) -> &TimeFormat {
        &self.format
    }

    /// Unix seconds, or what is wrong.
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        let s = text.trim();
        match &self.format {
            TimeFormat::Auto => timestamp::parse(s, self.tz),
            TimeFormat::UnixSeconds => {
                let whole =
                    s.split_once('.').map_or(s, |(w, f)| if f.bytes().all(|b| b.is_ascii_digit()) { w } else { s });
                match whole.parse::<i64>() {
                    Ok(secs) => parse_unix(secs).map_err(|_| {
                        format!("{secs} is out of range for Unix seconds (milliseconds? choose Unix milliseconds)")
                    }),
                    Err(_) => Err(format!("`{}` is not a whole number of Unix seconds", shorten(s))),
                }
            }
            TimeFormat::UnixMillis => match s.parse::<i64>() {
                Ok(ms) => parse_unix(ms.div_euclid(1000))
                    .map_err(|_| format!("{ms} is out of range for Unix milliseconds (seconds? choose Unix seconds)")),
                Err(_) => Err(format!("`{}` is not a whole number of Unix milliseconds", shorten(s))),
            },
            TimeFormat::Pattern(p) => {
                let (kind, example) = self.pattern.as_ref().expect("checked when built");
                let ts = match kind {
                    PatternKind::WithOffset => DateTime::parse_from_str(s, p).map(|d| d.timestamp()),
                    PatternKind::Naive => NaiveDateTime::parse_from_str(s, p).map(|n| local_to_instant(self.tz, n)),
                    PatternKind::DateOnly => NaiveDate::parse_from_str(s, p)
                        .map(|d| local_to_instant(self.tz, d.and_hms_opt(0, 0, 0).expect("midnight exists"))),
                };
                match ts {
                    Ok(t) => parse_unix(t).map_err(|_| format!("`{}` is out of range (1970 to 2200)", shorten(s))),
                    Err(_) if s.is_empty() => {
                        Err(format!("empty timestamp; expected the format `{p}`, e.g. `{example}`"))
                    }
                    Err(_) => Err(format!("`{}` does not match the format `{p}` (e.g. `{example}`)", shorten(s))),
                }
            }
        }
    }
}

/// A fixed instant (2026-03-02 09:15:30 +08:00) written in a pattern, for
/// checks and examples; `None` for an invalid pattern.
pub fn pattern_example(pattern: &str) -> Option<String> {
    use std::fmt::Write;
    let items: Vec<Item> = StrftimeItems::new(pattern).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return None;
    }
    let sample = FixedOffset::east_opt(8 * 3600)?.with_ymd_and_hms(2026, 3, 2, 9, 15, 30).single()?;
    let mut text = String::new();
    write!(text, "{}", sample.format_with_items(items.iter())).ok()?;
    Some(text)
}

fn check_pattern(pattern: &str) -> Result<PatternKind, MappingProblem> {
    let bad = || MappingProblem::BadPattern { pattern: pattern.to_string() };
    if pattern.trim().is_empty() || !pattern.contains('%') {
        return Err(bad());
    }
    let text = pattern_example(pattern).ok_or_else(bad)?;
    if DateTime::parse_from_str(&text, pattern).is_ok() {
        Ok(PatternKind::WithOffset)
    } else if NaiveDateTime::parse_from_str(&text, pattern).is_ok() {
        Ok(PatternKind::Naive)
    } else if NaiveDate::parse_from_str(&text, pattern).is_ok() {
        Ok(PatternKind::DateOnly)
    } else {
        Err(MappingProblem::PatternWithoutDate { pattern: pattern.to_string() })
    }
}

/// A mapping bound to one file's header: ready to apply to its records.
#[derive(Clone, Debug)]
pub struct Bound {
    target: Target,
    /// Field, column position, column name as in the header.
    positions: Vec<(Field, usize, String)>,
    event_constant: Option<String>,
    event_values: HashMap<String, String>,
    event_values_lower: HashMap<String, String>,
    time: TimeParser,
    /// Other columns kept as attributes: position, attribute name.
    attributes: Vec<(usize, String)>,
}

impl Bound {
    pub fn target(&self) -> Target {
        self.target
    }

    /// The zone naive times are read in.
    pub fn timezone(&self) -> Tz {
        self.time.tz
    }

    /// The mapped fields, in the target's order.
    pub fn fields(&self) -> Vec<Field> {
        self.positions.iter().map(|(f, _, _)| *f).collect()
    }

    /// Names of the columns kept as attributes.
    pub fn attribute_columns(&self) -> Vec<String> {
        self.attributes.iter().map(|(_, k)| k.clone()).collect()
    }

    /// The column a field is read from: its position and its name as in
    /// the header.
    pub fn column(&self, field: Field) -> Option<(usize, &str)> {
        self.positions.iter().find(|(f, _, _)| *f == field).map(|(_, i, c)| (*i, c.as_str()))
    }

    /// The event kind every record gets, when the mapping names one.
    pub fn event_constant(&self) -> Option<&str> {
        self.event_constant.as_deref()
    }

    /// Other columns kept as attributes: position, attribute name.
    pub fn attributes(&self) -> &[(usize, String)] {
        &self.attributes
    }

    /// Reads a timestamp cell by the mapping's format and zone.
    pub fn parse_time(&self, text: &str) -> Result<i64, String> {
        self.time.parse(text)
    }

    /// The event kind for a source value: the value map's, else the value.
    pub fn kind_for(&self, value: &str) -> String {
        let v = value.trim();
        self.event_values
            .get(v)
            .or_else(|| self.event_values_lower.get(&v.to_lowercase()))
            .cloned()
            .unwrap_or_else(|| v.to_string())
    }
}

/// Normalises a header name: strips a UTF-8 BOM, trims, collapses inner white
/// space and lower-cases.
pub fn normalise_header(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}');
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn events_mapping(pairs: &[(Field, &str)]) -> Mapping {
        let mut m = Mapping::new(Target::Events);
        for (f, c) in pairs {
            m.columns.insert(*f, c.to_string());
        }
        m
    }

    #[test]
    fn presets_round_trip_through_json() {
        let mut m = events_mapping(&[(Field::UserId, "用户ID"), (Field::Timestamp, "时间")]);
        m.event_constant = Some("message_sent".into());
        m.timestamp_format = TimeFormat::Pattern("%Y/%m/%d %H:%M".into());
        m.timezone = Some("Asia/Shanghai".into());
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"user_id\":\"用户ID\"") && json.contains("\"%Y/%m/%d %H:%M\""), "{json}");
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), m);
        let minimal: Mapping = serde_json::from_str(r#"{"target":"people","columns":{"user_id":"工号"}}"#).unwrap();
        assert_eq!(minimal.timestamp_format, TimeFormat::Auto);
        assert_eq!(minimal.column(Field::UserId), Some("工号"));
    }

    #[test]
    fn headers_are_guessed_in_both_languages_and_content_is_never_offered() {
        let h = header(&["用户ID", "姓名", "时间", "行为", "会话", "消息内容"]);
        let g = guess_columns(Target::Events, &h);
        assert_eq!(g.get(&Field::UserId).map(String::as_str), Some("用户ID"));
        assert_eq!(g.get(&Field::Timestamp).map(String::as_str), Some("时间"));
        assert_eq!(g.get(&Field::Event).map(String::as_str), Some("行为"));
        assert_eq!(g.get(&Field::Channel).map(String::as_str), Some("会话"));
        assert_eq!(g.len(), 4);
        assert_eq!(offered_columns(&h), header(&["用户ID", "姓名", "时间", "行为", "会话"]));

        let h = header(&["userid", "Time", "Event Type", "text", "Message Body", "content_preview"]);
        let g = guess_columns(Target::Events, &h);
        assert_eq!(g.get(&Field::UserId).map(String::as_str), Some("userid"));
        assert_eq!(g.get(&Field::Timestamp).map(String::as_str), Some("Time"));
        assert_eq!(g.get(&Field::Event).map(String::as_str), Some("Event Type"));
        for c in ["text", "Message Body", "content_preview", "内容", "正文"] {
            assert!(is_content_column(c), "{c}");
        }
        for c in ["消息类型", "event", "会话", "channel"] {
            assert!(!is_content_column(c), "{c}");
        }
    }

    #[test]
    fn validation_names_every_problem() {
        let m = Mapping::new(Target::Events);
        let problems = m.validate().unwrap_err();
        assert_eq!(
            problems,
            vec![
                MappingProblem::Required(Field::UserId),
                MappingProblem::Required(Field::Timestamp),
                MappingProblem::Required(Field::Event)
            ]
        );
        let mut m = events_mapping(&[(Field::UserId, "u"), (Field::Timestamp, "t"), (Field::Event, "e")]);
        m.event_constant = Some("login".into());
        m.timestamp_format = TimeFormat::Pattern("%H:%M".into());
        m.timezone = Some("Mars/Olympus".into());
        m.columns.insert(Field::Department, "dept".into());
        let text = describe(&m.validate().unwrap_err());
        assert!(text.contains("`department` is not a field of events files"), "{text}");
        assert!(text.contains("both a column and a fixed value"), "{text}");
        assert!(text.contains("needs a year, a month and a day"), "{text}");
        assert!(text.contains("`Mars/Olympus` is not an IANA time zone"), "{text}");
        m.timestamp_format = TimeFormat::Pattern("%Y-%Q".into());
        assert!(describe(&m.validate().unwrap_err()).contains("not a valid time pattern"));

        let m = events_mapping(&[(Field::UserId, "user"), (Field::Timestamp, "when"), (Field::Event, "内容")]);
        let problems = m.bind(&header(&["user", "time", "内容"]), chrono_tz::UTC).unwrap_err();
        let text = describe(&problems);
        assert!(text.contains("column `when` (for `timestamp`) is not in the file"), "{text}");
        assert!(text.ends_with("; the file's columns are: user, time"), "{text}");
        assert!(text.contains("`内容` looks like message content"), "{text}");
        let problems = m.bind(&header(&["user", "When", "when ", "event"]), chrono_tz::UTC).unwrap_err();
        assert!(describe(&problems).contains("two columns named `when`"));

        let people = Mapping::new(Target::People);
        assert_eq!(people.validate().unwrap_err(), vec![MappingProblem::Required(Field::UserId)]);
    }

    #[test]
    fn time_formats_are_guessed_from_samples() {
        assert_eq!(
            guess_time_format(&["2026/3/2 9:15", "2026/03/12 18:01"]),
            TimeFormat::Pattern("%Y/%m/%d %H:%M".into())
        );
        assert_eq!(guess_time_format(&["2026-03-02T09:15:00+08:00"]), TimeFormat::Auto);
        assert_eq!(guess_time_format(&["1772414100000"]), TimeFormat::UnixMillis);
        assert_eq!(guess_time_format(&["02.03.2026 09:15:00"]), TimeFormat::Pattern("%d.%m.%Y %H:%M:%S".into()));
        assert_eq!(guess_time_format(&["2026年3月2日 09:15"]), TimeFormat::Pattern("%Y年%m月%d日 %H:%M".into()));
        assert_eq!(guess_time_format(&["nonsense"]), TimeFormat::Auto);
        let rows = vec![vec!["u1".to_string(), "2026/03/02 09:15:07".to_string()]];
        let m = Mapping::suggest(Target::Events, &header(&["UserId", "时间"]), &rows);
        assert_eq!(m.timestamp_format, TimeFormat::Pattern("%Y/%m/%d %H:%M:%S".into()));
    }
}
