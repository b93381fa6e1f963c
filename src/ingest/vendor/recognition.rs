//! Recognising an export: its container (CSV, NDJSON, a JSON array, a
//! vendor's API envelope) and which vendor report its columns or keys are.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::super::InputError;
use super::super::csv_file::find_header;
use super::super::timestamp::shorten;
use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Container {
    Csv,
    Ndjson,
    Array,
    /// A raw API response: the records are the array at this key path.
    Envelope(&'static [&'static str]),
}

/// Where each vendor's raw API response keeps its records: Graph reports
/// (`value`), Google's Reports API (`usageReports`), Feishu (`data.items`).
pub(super) const ENVELOPES: &[&[&str]] = &[&["value"], &["usageReports"], &["data", "items"]];

pub(super) struct Sniff {
    pub(super) container: Container,
    /// Header names or top-level keys as written (trimmed, BOM stripped).
    pub(super) names: Vec<String>,
    pub(super) format: Option<VendorFormat>,
}

pub(super) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

pub(super) fn container(name: &str, head: &[u8]) -> Container {
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

pub(super) fn sniff(name: &str, head: &[u8]) -> Sniff {
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

pub(super) fn keys(names: &[String]) -> Vec<String> {
    names.iter().map(|n| key(n)).collect()
}

/// Whether a header line has every column `format` requires.
pub(super) fn has_required(format: VendorFormat, names: &[String]) -> bool {
    let normalised = keys(names);
    let fields = format.fields();
    missing(fields, |i| fields.get(i).is_some_and(|f| f.keys().iter().any(|k| normalised.contains(k)))).is_none()
}

/// The top-level keys of the first JSON object in `head` (itself, or the
/// first element of an array). `head` may end inside the object: the keys
/// read before the cut are kept.
pub(super) fn json_head_keys(head: &[u8]) -> Vec<String> {
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
pub(super) fn envelope_by_keys(top: &[String]) -> Option<&'static [&'static str]> {
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
pub(super) fn envelope_head(head: &[u8]) -> Option<(&'static [&'static str], Vec<String>)> {
    let mut found = EnvelopeKeys { path: None, inner: Vec::new(), level: 0 };
    let mut de = serde_json::Deserializer::from_slice(head);
    // As in `json_head_keys`, an error only means the head was cut short.
    let _ = (&mut found).deserialize(&mut de);
    found.path.map(|p| (p, found.inner))
}

pub(super) struct EnvelopeKeys {
    /// The envelope found (its records array was reached).
    pub(super) path: Option<&'static [&'static str]>,
    pub(super) inner: Vec<String>,
    /// How deep into the candidate paths the visitor is.
    pub(super) level: usize,
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
pub(super) struct EnvelopeRecords<'k> {
    pub(super) keys: &'k mut Vec<String>,
    /// The value was an array.
    pub(super) reached: bool,
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

pub(super) struct TopKeys<'k> {
    pub(super) keys: &'k mut Vec<String>,
    /// Already inside the top-level array.
    pub(super) nested: bool,
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
pub(super) const TEAMS_ACTIVITY: &[&str] = &[
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
pub(super) fn microsoft_365_report(keys: &[String]) -> bool {
    let has = |k: &str| keys.iter().any(|x| x == k);
    has("user_principal_name") && (has("report_refresh_date") || has("report_period"))
}

pub(super) fn is_teams_user_activity(keys: &[String]) -> bool {
    microsoft_365_report(keys) && keys.iter().any(|k| TEAMS_ACTIVITY.contains(&k.as_str()))
}

/// Why a Microsoft 365 report that is not Teams user activity is refused,
/// naming the report it looks like; `None` for anything else.
pub(super) fn other_microsoft_365_report(names: &[String]) -> Option<String> {
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

pub(super) fn classify(keys: &[String]) -> Option<VendorFormat> {
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

pub(super) fn not_recognised(file: &str, sniff: &Sniff) -> InputError {
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

/// Recognises a per-event export (see [`super::event_sources`]) from its
/// name and the start of its decompressed content: a Zulip export's tar, a
/// Mattermost bulk export's version line, a Mattermost audit record, or the
/// unified audit log's CSV header. `None` if it is none of them.
pub fn detect_event_source(name: &str, head: &[u8]) -> Option<super::EventSource> {
    use super::EventSource;
    if super::zulip::is_export(head) {
        return Some(EventSource::Zulip);
    }
    let text = strip_bom(head);
    if super::mattermost::is_export(text) {
        return Some(EventSource::Mattermost);
    }
    if super::mattermost::is_audit_log(text) {
        return Some(EventSource::MattermostAudit);
    }
    if container(name, head) == Container::Csv
        && super::m365_audit::is_header(&find_header(head, &|names| super::m365_audit::is_header(names)).names)
    {
        return Some(EventSource::M365Audit);
    }
    None
}
