//! The Mattermost bulk export and the Mattermost audit log.
//!
//! **Bulk export** (`mmctl export create`, or `mattermost export bulk`): JSON
//! lines, the first `{"type":"version","version":1}`, then `team`,
//! `channel`, `user`, `post`, `direct_channel`, `direct_post` (and others,
//! counted and skipped). A `post` names its `team`, `channel` and `user`
//! (a username) and carries `create_at` (milliseconds), `replies[]` (each
//! with `user` and `create_at`), `reactions[]` (`user`, `create_at`,
//! `emoji_name`) and `attachments[]`; a `direct_post` names its
//! `channel_members[]` instead. Each post and reply is a `message_sent`,
//! each attachment a `file_shared`, each reaction a `reaction` at its own
//! time. People are keyed by the e-mail of their `user` line (the export's
//! users carry it), else by username. The export records no sign-ins or
//! presence: its sessions are engaged by construction.
//!
//! **Audit log** (JSON lines: `timestamp`, `event_name`, `status`,
//! `actor{user_id, session_id, client, ip_address}`, `event{parameters,
//! resulting_state, ...}`): `login` and `logout` become `login` and
//! `logout`; `createPost` becomes the passive kind `audited_post` and the
//! file uploads `audited_file_upload`, since the bulk export records the
//! same posts and files with their channels (map them to interactive in the
//! settings when no export is imported); other events and unsuccessful ones
//! are counted and skipped. The audit log names people by Mattermost user
//! id only: a first pass reads each user id's e-mail (or login id) from its
//! successful `login` records, so that they meet the export's people; a
//! user id never seen signing in stays the person key.
//!
//! Message text (`message`) is never declared here, so it is skipped
//! unread.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::super::InputError;
use super::super::events::RawEvent;
use super::super::source::Input;
use super::event_sources::*;
use super::skipped;
use crate::domain::dataset::ChannelType;

/// The bulk export records no sign-ins or presence: messages, replies,
/// reactions and files only.
pub const RECORDS_PRESENCE: bool = false;

/// The audit log records sign-ins (`login`) and sign-outs (`logout`).
pub const AUDIT_RECORDS_PRESENCE: bool = true;

/// The passive kind an audited `createPost` becomes.
pub const AUDITED_POST: &str = "audited_post";
/// The passive kind an audited file upload becomes.
pub const AUDITED_FILE_UPLOAD: &str = "audited_file_upload";

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    user: Option<User>,
    post: Option<Post>,
    direct_post: Option<DirectPost>,
}

#[derive(Deserialize)]
struct User {
    username: String,
    email: Option<String>,
}

#[derive(Deserialize)]
struct Post {
    team: Option<String>,
    channel: String,
    user: String,
    create_at: i64,
    #[serde(default)]
    replies: Option<Vec<Reply>>,
    #[serde(default)]
    reactions: Option<Vec<Reaction>>,
    #[serde(default)]
    attachments: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct DirectPost {
    channel_members: Vec<String>,
    user: String,
    create_at: i64,
    #[serde(default)]
    replies: Option<Vec<Reply>>,
    #[serde(default)]
    reactions: Option<Vec<Reaction>>,
    #[serde(default)]
    attachments: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct Reply {
    user: String,
    create_at: i64,
    #[serde(default)]
    reactions: Option<Vec<Reaction>>,
    #[serde(default)]
    attachments: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct Reaction {
    user: String,
    create_at: i64,
    emoji_name: Option<String>,
}

const EXPECTED_LINE: &str = "a Mattermost bulk export line such as {\"type\":\"post\",\"post\":{...}}";

/// Whether the start of a file is a Mattermost bulk export: its first line
/// is the version line.
pub fn is_export(head: &[u8]) -> bool {
    let first = head.split(|b| *b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(first);
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.trim_start_matches('\u{feff}').starts_with("{\"type\":\"version\"")
}

/// Whether the start of a file is a Mattermost audit log: JSON lines with
/// `event_name` and `actor`.
pub fn is_audit_log(head: &[u8]) -> bool {
    let first = head.split(|b| *b == b'\n').find(|l| !l.trim_ascii().is_empty()).unwrap_or_default();
    let text = String::from_utf8_lossy(first);
    text.trim_start().starts_with('{') && text.contains("\"event_name\"") && text.contains("\"actor\"")
}

/// Reads a Mattermost bulk export, one line at a time.
pub struct Export {
    lines: JsonLines,
    /// Person key by lower-cased username, from the `user` lines.
    users: HashMap<String, String>,
    pending: VecDeque<RawEvent>,
    notes: SharedNotes,
    started: bool,
    failed: bool,
}

impl Export {
    pub fn new(input: Input, notes: SharedNotes) -> Export {
        Export {
            lines: JsonLines::new(input),
            users: HashMap::new(),
            pending: VecDeque::new(),
            notes,
            started: false,
            failed: false,
        }
    }

    fn person(&self, username: &str) -> String {
        self.users.get(&username.trim().to_lowercase()).cloned().unwrap_or_else(|| username.to_string())
    }

    fn read_line(&mut self) -> Result<(), InputError> {
        let file = self.lines.file().to_string();
        let line = self.lines.line;
        let parsed: Line = match self.lines.parse(EXPECTED_LINE) {
            Ok(parsed) => parsed,
            Err(e) if !self.started => {
                return Err(InputError::new(
                    &file,
                    line,
                    format!(
                        "not a Mattermost bulk export: {}; an export starts with {{\"type\":\"version\",\"version\":1}}",
                        e.message
                    ),
                ));
            }
            Err(e) => return Err(e),
        };
        if !self.started {
            if parsed.kind != "version" {
                return Err(InputError::new(
                    &file,
                    line,
                    format!(
                        "not a Mattermost bulk export: its first line is a `{}` line, and an export starts with \
                         {{\"type\":\"version\",\"version\":1}}; export with `mmctl export create` and import the \
                         .jsonl file inside the downloaded ZIP",
                        parsed.kind
                    ),
                ));
            }
            self.started = true;
        }
        note(&self.notes, |n| bump(&mut n.records, &parsed.kind));
        let missing = |what: &str| InputError::new(&file, line, format!("a `{what}` line without its `{what}` object"));
        match parsed.kind.as_str() {
            "user" => {
                let user = parsed.user.ok_or_else(|| missing("user"))?;
                let key = match user.email.as_deref().map(str::trim) {
                    Some(email) if !email.is_empty() => email.to_lowercase(),
                    _ => user.username.trim().to_lowercase(),
                };
                self.users.insert(user.username.trim().to_lowercase(), key);
            }
            "post" => {
                let post = parsed.post.ok_or_else(|| missing("post"))?;
                let channel = format!("{}/{}", post.team.as_deref().unwrap_or(""), post.channel);
                self.post(line, &channel, ChannelType::Group, &post.user, post.create_at, post.attachments.as_ref())?;
                self.thread(line, &channel, ChannelType::Group, post.create_at, post.replies, post.reactions)?;
            }
            "direct_post" => {
                let post = parsed.direct_post.ok_or_else(|| missing("direct_post"))?;
                let mut members: Vec<String> = post.channel_members.iter().map(|m| m.trim().to_lowercase()).collect();
                members.sort();
                members.dedup();
                let kind = if members.len() <= 2 { ChannelType::Direct } else { ChannelType::Group };
                let channel = format!("dm/{}", members.join(","));
                self.post(line, &channel, kind, &post.user, post.create_at, post.attachments.as_ref())?;
                self.thread(line, &channel, kind, post.create_at, post.replies, post.reactions)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn time(&self, line: u64, field: &str, ms: i64) -> Result<i64, InputError> {
        from_millis(ms).map_err(|m| InputError::in_column(self.lines.file(), line, field, m))
    }

    fn post(
        &mut self,
        line: u64,
        channel: &str,
        kind: ChannelType,
        user: &str,
        create_at: i64,
        attachments: Option<&Vec<IgnoredAny>>,
    ) -> Result<(), InputError> {
        let ts = self.time(line, "create_at", create_at)?;
        let person = self.person(user);
        let id = format!("mattermost:post:{channel}:{}:{create_at}", user.trim().to_lowercase());
        let stored = Some(format!("mattermost:{channel}"));
        self.pending.push_back(event(line, &person, ts, "message_sent", stored.clone(), kind, None, id.clone()));
        for i in 0..attachments.map_or(0, Vec::len) {
            let file_id = format!("{id}:file:{i}");
            self.pending.push_back(event(line, &person, ts, "file_shared", stored.clone(), kind, None, file_id));
        }
        Ok(())
    }

    fn reactions(
        &mut self,
        line: u64,
        channel: &str,
        kind: ChannelType,
        parent_at: i64,
        reactions: Option<Vec<Reaction>>,
    ) -> Result<(), InputError> {
        for r in reactions.unwrap_or_default() {
            let ts = self.time(line, "reactions.create_at", r.create_at)?;
            let person = self.person(&r.user);
            let id = format!(
                "mattermost:reaction:{channel}:{parent_at}:{}:{}:{}",
                r.user.trim().to_lowercase(),
                r.emoji_name.as_deref().unwrap_or(""),
                r.create_at
            );
            let stored = Some(format!("mattermost:{channel}"));
            self.pending.push_back(event(line, &person, ts, "reaction", stored, kind, None, id));
        }
        Ok(())
    }

    fn thread(
        &mut self,
        line: u64,
        channel: &str,
        kind: ChannelType,
        create_at: i64,
        replies: Option<Vec<Reply>>,
        reactions: Option<Vec<Reaction>>,
    ) -> Result<(), InputError> {
        self.reactions(line, channel, kind, create_at, reactions)?;
        for reply in replies.unwrap_or_default() {
            note(&self.notes, |n| bump(&mut n.records, "reply"));
            self.post(line, channel, kind, &reply.user, reply.create_at, reply.attachments.as_ref())?;
            self.reactions(line, channel, kind, reply.create_at, reply.reactions)?;
        }
        Ok(())
    }
}

impl Iterator for Export {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(Ok(e));
            }
            if self.failed {
                return None;
            }
            let step = match self.lines.next_line() {
                None if !self.started => Err(InputError::new(
                    self.lines.file(),
                    1,
                    "not a Mattermost bulk export: the file is empty; an export starts with {\"type\":\"version\",\"version\":1}",
                )),
                None => return None,
                Some(r) => r.and_then(|()| self.read_line()),
            };
            if let Err(e) = step {
                self.failed = true;
                return Some(Err(e));
            }
        }
    }
}

#[derive(Deserialize)]
struct AuditRecord {
    timestamp: Option<serde_json::Value>,
    event_name: Option<String>,
    status: Option<String>,
    actor: Option<Actor>,
    #[serde(default)]
    event: Option<AuditEvent>,
}

#[derive(Deserialize)]
struct Actor {
    user_id: Option<String>,
    session_id: Option<String>,
}

#[derive(Deserialize)]
struct AuditEvent {
    #[serde(default)]
    parameters: Picked,
    #[serde(default)]
    resulting_state: Picked,
}

/// The few string fields read from an audit record's free-form maps
/// (`parameters`, `resulting_state`); anything else in them, or a value
/// that is not a map, is skipped unread.
#[derive(Default)]
struct Picked {
    id: Option<String>,
    email: Option<String>,
    login_id: Option<String>,
}

impl<'de> Deserialize<'de> for Picked {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Picked, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Picked;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Picked, A::Error> {
                let mut out = Picked::default();
                while let Some(k) = map.next_key::<String>()? {
                    let slot = match k.as_str() {
                        "id" => &mut out.id,
                        "email" => &mut out.email,
                        "login_id" => &mut out.login_id,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value::<Option<StringOrOther>>()?.and_then(|s| s.0);
                }
                Ok(out)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Picked, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Picked::default())
            }
            fn visit_unit<E>(self) -> Result<Picked, E> {
                Ok(Picked::default())
            }
            fn visit_none<E>(self) -> Result<Picked, E> {
                Ok(Picked::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Picked, E> {
                Ok(Picked::default())
            }
            fn visit_bool<E>(self, _: bool) -> Result<Picked, E> {
                Ok(Picked::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Picked, E> {
                Ok(Picked::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Picked, E> {
                Ok(Picked::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Picked, E> {
                Ok(Picked::default())
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A string, or any other value (skipped).
struct StringOrOther(Option<String>);

impl<'de> Deserialize<'de> for StringOrOther {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<StringOrOther, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StringOrOther;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E>(self, s: &str) -> Result<StringOrOther, E> {
                Ok(StringOrOther(Some(s.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<StringOrOther, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(StringOrOther(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<StringOrOther, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(StringOrOther(None))
            }
            fn visit_unit<E>(self) -> Result<StringOrOther, E> {
                Ok(StringOrOther(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<StringOrOther, E> {
                Ok(StringOrOther(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<StringOrOther, E> {
                Ok(StringOrOther(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<StringOrOther, E> {
                Ok(StringOrOther(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<StringOrOther, E> {
                Ok(StringOrOther(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}

const EXPECTED_AUDIT: &str = "a Mattermost audit record such as {\"timestamp\":\"...\",\"event_name\":\"login\",\"status\":\"success\",\"actor\":{\"user_id\":\"...\"}}";

/// The first pass over an audit log: each user id's e-mail (or login id)
/// from its successful `login` records. Lines that do not parse are left
/// to the second pass, which reports them.
pub fn audit_names(input: Input) -> Result<HashMap<String, String>, InputError> {
    let mut lines = JsonLines::new(input);
    let mut names = HashMap::new();
    while let Some(read) = lines.next_line() {
        read?;
        let Ok(record) = lines.parse::<AuditRecord>(EXPECTED_AUDIT) else { continue };
        if record.event_name.as_deref() != Some("login") || !success(record.status.as_deref()) {
            continue;
        }
        let Some(user) = record.actor.and_then(|a| a.user_id).map(|u| u.trim().to_lowercase()) else { continue };
        let Some(event) = record.event else { continue };
        let state = event.resulting_state;
        let same = state.id.as_deref().is_none_or(|id| id.trim().eq_ignore_ascii_case(&user));
        let name = state.email.filter(|_| same).or(event.parameters.login_id);
        if let Some(name) = name.map(|n| n.trim().to_lowercase()).filter(|n| !n.is_empty()) {
            names.entry(user).or_insert(name);
        }
    }
    Ok(names)
}

fn success(status: Option<&str>) -> bool {
    status.is_none_or(|s| s.eq_ignore_ascii_case("success"))
}

/// Reads a Mattermost audit log, one record at a time.
pub struct AuditLog {
    lines: JsonLines,
    names: HashMap<String, String>,
    notes: SharedNotes,
    failed: bool,
}

impl AuditLog {
    /// `names`: person keys by user id, from [`audit_names`].
    pub fn new(input: Input, names: HashMap<String, String>, notes: SharedNotes) -> AuditLog {
        AuditLog { lines: JsonLines::new(input), names, notes, failed: false }
    }

    fn read_record(&mut self) -> Result<Option<RawEvent>, InputError> {
        let file = self.lines.file().to_string();
        let line = self.lines.line;
        let record: AuditRecord = self.lines.parse(EXPECTED_AUDIT)?;
        let Some(name) = record.event_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
            return Err(InputError::in_column(
                &file,
                line,
                "event_name",
                format!("missing; not a Mattermost audit record: expected {EXPECTED_AUDIT}"),
            ));
        };
        note(&self.notes, |n| bump(&mut n.records, name));
        let kind = match name {
            "login" => "login",
            "logout" => "logout",
            "createPost" => AUDITED_POST,
            "uploadFileSimple" | "uploadFileMultipart" | "uploadFileMultipartLegacy" | "uploadData" => {
                AUDITED_FILE_UPLOAD
            }
            _ => {
                note(&self.notes, |n| bump(&mut n.skipped, skipped::OTHER_AUDIT_EVENTS));
                return Ok(None);
            }
        };
        if !success(record.status.as_deref()) {
            note(&self.notes, |n| bump(&mut n.skipped, skipped::NOT_SUCCESSFUL));
            return Ok(None);
        }
        let (user, session) = match record.actor {
            Some(Actor { user_id: Some(u), session_id }) if !u.trim().is_empty() => {
                (u.trim().to_lowercase(), session_id.unwrap_or_default())
            }
            _ => {
                note(&self.notes, |n| bump(&mut n.skipped, skipped::NO_USER));
                return Ok(None);
            }
        };
        let (ts, written) = match &record.timestamp {
            Some(serde_json::Value::String(s)) => (parse_instant(s), s.clone()),
            Some(serde_json::Value::Number(n)) => match n.as_f64() {
                Some(secs) => (from_float_seconds(secs), n.to_string()),
                None => (Err(format!("{n} is not a time")), n.to_string()),
            },
            _ => (Err("missing; every audit record has a time".to_string()), String::new()),
        };
        let ts = ts.map_err(|m| InputError::in_column(&file, line, "timestamp", m))?;
        let person = self.names.get(&user).cloned().unwrap_or_else(|| user.clone());
        let id = format!("mattermost-audit:{user}:{}:{name}:{}", session.trim(), written.trim());
        Ok(Some(event(line, &person, ts, kind, None, ChannelType::Unknown, None, id)))
    }
}

impl Iterator for AuditLog {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            let step = match self.lines.next_line()? {
                Ok(()) => self.read_record(),
                Err(e) => Err(e),
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
