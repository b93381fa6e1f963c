//! The Slack workspace export (Settings, "Export data"): a ZIP with
//! `users.json` (`org_users.json` on Enterprise Grid), `channels.json`,
//! `groups.json`, `dms.json`, `mpims.json` and a folder per conversation
//! holding one JSON array of messages per day (`general/2026-03-02.json`).
//! See <https://slack.com/help/articles/220556107-How-to-read-Slack-data-exports>
//! and the message object, <https://docs.slack.dev/reference/objects/message>.
//!
//! The archive is read in place, one entry at a time (nothing is unpacked
//! to disk): its central directory, the user and conversation lists, then
//! each day file, decompressed into one reused buffer, turned into events
//! and dropped. Memory holds one day file of one conversation at most.
//!
//! What becomes an event (docs/metrics.md, "Slack workspace export"):
//! - a message by a person (no subtype, or `thread_broadcast`,
//!   `me_message`, `file_share`, `reply_broadcast`): `message_sent` in the
//!   conversation, `event_id` `slack:<conversation id>:<ts>`; thread replies
//!   too, in the same conversation;
//! - a message with files (`files`, or the `file_share` subtype): also
//!   `file_shared`, without channel or event id so that the same act in the
//!   Slack audit log (same person, same second) counts once;
//! - everything else is left out and counted in the summary: other
//!   subtypes (joins, leaves, topics, bots...), messages without a `user`,
//!   and reactions, which carry no time.
//!
//! Message text is never read: the fields below are the only ones decoded.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufReader, Read, Seek};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::super::InputError;
use super::super::events::RawEvent;
use super::skipped;
use crate::domain::dataset::ChannelType;

/// The source name of this export's imports (the capability table's key).
pub const SOURCE: &str = "slack_export";

/// Largest day file (or list) decompressed: a day of one conversation.
const MAX_ENTRY_BYTES: u64 = 256 * 1024 * 1024;

/// Subtypes of messages a person wrote; every other subtype is a system
/// notice (join, leave, topic, pin...) or a bot's, not a person's message.
const PERSON_SUBTYPES: &[&str] = &["thread_broadcast", "me_message", "file_share", "reply_broadcast"];

/// Whether the first bytes of a file are a ZIP archive's.
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// One person of `users.json`: the key events are stored under (the
/// e-mail when present, else the Slack id, lower-cased) and the Slack id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackPerson {
    pub key: String,
    pub slack_id: String,
}

/// What the export held but the import leaves out, by reason, and the
/// people of `users.json`.
#[derive(Clone, Debug, Default)]
pub struct ExportNotes {
    pub left_out: BTreeMap<String, u64>,
    pub people: Vec<SlackPerson>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    profile: Option<Profile<'a>>,
}

#[derive(Deserialize)]
struct Profile<'a> {
    #[serde(default, borrow)]
    email: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Conversation<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(default, borrow)]
    subtype: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(default)]
    files: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    reactions: Option<Vec<Reaction>>,
}

#[derive(Deserialize)]
struct Reaction {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    users: Option<Vec<IgnoredAny>>,
}

/// Streams the events of a Slack workspace export.
pub struct SlackExport<R: Read + Seek> {
    file: String,
    archive: zip::ZipArchive<R>,
    /// Slack id to person key, for people (bots left out).
    users: HashMap<String, String>,
    /// Folder name to (conversation id, channel type).
    conversations: HashMap<String, (String, ChannelType)>,
    /// Day files still to read: (entry index, folder).
    days: VecDeque<(usize, String)>,
    ready: VecDeque<RawEvent>,
    buf: Vec<u8>,
    notes: ExportNotes,
    messages: u64,
    done: bool,
}

fn entry_error(file: &str, entry: &str, line: u64, message: impl Into<String>) -> InputError {
    InputError::new(&format!("{file}: {entry}"), line, message)
}

fn json_error(file: &str, entry: &str, e: &serde_json::Error) -> InputError {
    let text = e.to_string();
    // serde_json ends its message with " at line L column C": said once, ahead.
    let text = text.split(" at line ").next().unwrap_or(&text).to_string();
    entry_error(file, entry, e.line() as u64, format!("column {}: {text}", e.column()))
}

impl<R: Read + Seek> SlackExport<R> {
    /// Opens an export: reads its central directory, `users.json` and the
    /// conversation lists. `file` names it in errors.
    pub fn open(file: &str, reader: R) -> Result<SlackExport<R>, InputError> {
        let archive = zip::ZipArchive::new(reader).map_err(|e| {
            InputError::new(
                file,
                0,
                format!(
                    "not a complete ZIP archive ({e}); a Slack export is the ZIP file Slack lets you download: \
                     if it was cut short, download it again"
                ),
            )
        })?;
        let mut export = SlackExport {
            file: file.to_string(),
            archive,
            users: HashMap::new(),
            conversations: HashMap::new(),
            days: VecDeque::new(),
            ready: VecDeque::new(),
            buf: Vec::new(),
            notes: ExportNotes::default(),
            messages: 0,
            done: false,
        };
        let users = ["users.json", "org_users.json"].into_iter().find(|n| export.archive.index_for_name(n).is_some());
        let Some(users) = users else {
            return Err(InputError::new(
                file,
                0,
                "not a Slack export: users.json is missing (a workspace export holds users.json, channels.json and a \
                 folder per conversation)",
            ));
        };
        export.read_users(users)?;
        let lists = [
            ("channels.json", ChannelType::Group),
            ("groups.json", ChannelType::Group),
            ("mpims.json", ChannelType::Group),
            ("dms.json", ChannelType::Direct),
        ];
        let mut any = false;
        for (list, kind) in lists {
            if export.archive.index_for_name(list).is_some() {
                any = true;
                export.read_conversations(list, kind)?;
            }
        }
        if !any {
            return Err(InputError::new(
                file,
                0,
                "not a Slack export: channels.json is missing (and groups.json, dms.json and mpims.json too)",
            ));
        }
        for i in 0..export.archive.len() {
            let Some(name) = export.archive.name_for_index(i) else { continue };
            let Some((folder, day)) = name.split_once('/') else { continue };
            let is_day = day.len() == 15
                && day.ends_with(".json")
                && chrono::NaiveDate::parse_from_str(&day[..10], "%Y-%m-%d").is_ok();
            if is_day && !folder.is_empty() {
                export.days.push_back((i, folder.to_string()));
            }
        }
        Ok(export)
    }

    /// What was left out so far, and the people of `users.json`.
    pub fn notes(&self) -> &ExportNotes {
        &self.notes
    }

    /// Messages read so far.
    pub fn messages_read(&self) -> u64 {
        self.messages
    }

    /// Decompresses one entry into the buffer.
    fn read_entry(&mut self, index: usize) -> Result<String, InputError> {
        let file = self.file.clone();
        let mut entry =
            self.archive.by_index(index).map_err(|e| InputError::new(&file, 0, format!("entry {index}: {e}")))?;
        let name = entry.name().to_string();
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(entry_error(
                &file,
                &name,
                0,
                format!("larger than {} MiB uncompressed", MAX_ENTRY_BYTES >> 20),
            ));
        }
        self.buf.clear();
        let read = (&mut entry).take(MAX_ENTRY_BYTES + 1).read_to_end(&mut self.buf);
        match read {
            Ok(n) if n as u64 > MAX_ENTRY_BYTES => {
                Err(entry_error(&file, &name, 0, format!("larger than {} MiB uncompressed", MAX_ENTRY_BYTES >> 20)))
            }
            Ok(_) => Ok(name),
            Err(e) => {
                Err(entry_error(&file, &name, 0, format!("cannot be read, the archive is damaged or cut short: {e}")))
            }
        }
    }

    fn read_users(&mut self, list: &str) -> Result<(), InputError> {
        let index = self.archive.index_for_name(list).unwrap_or_default();
        let name = self.read_entry(index)?;
        let users: Vec<User> = serde_json::from_slice(&self.buf).map_err(|e| json_error(&self.file, &name, &e))?;
        let mut bots = 0;
        for u in users {
            if u.is_bot || u.id == "USLACKBOT" {
                bots += 1;
                continue;
            }
            let slack_id = u.id.trim().to_lowercase();
            let email = u.profile.and_then(|p| p.email).map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
            let key = email.unwrap_or_else(|| slack_id.clone());
            self.users.insert(slack_id.clone(), key.clone());
            self.notes.people.push(SlackPerson { key, slack_id });
        }
        if bots > 0 {
            self.notes.left_out.insert(skipped::BOTS_IN_USERS_JSON.into(), bots);
        }
        Ok(())
    }

    fn read_conversations(&mut self, list: &str, kind: ChannelType) -> Result<(), InputError> {
        let index = self.archive.index_for_name(list).unwrap_or_default();
        let name = self.read_entry(index)?;
        let items: Vec<Conversation> =
            serde_json::from_slice(&self.buf).map_err(|e| json_error(&self.file, &name, &e))?;
        for c in items {
            // Direct messages' folders are named by id, the others by name.
            let folder = match (&c.name, kind) {
                (Some(n), ChannelType::Group) => n.to_string(),
                _ => c.id.to_string(),
            };
            self.conversations.insert(folder, (c.id.to_string(), kind));
        }
        Ok(())
    }

    /// A message's `ts` as whole Unix seconds.
    fn seconds_of(&self, entry: &str, ts: &str) -> Result<i64, InputError> {
        match ts.split('.').next().unwrap_or_default().parse() {
            Ok(seconds) if (0..=253_402_300_799).contains(&seconds) => Ok(seconds),
            _ => Err(entry_error(
                &self.file,
                entry,
                0,
                format!("message {}: `ts` is `{ts}`, expected Unix seconds such as 1772414100.000200", self.messages),
            )),
        }
    }

    /// Reads the next day file into `ready`.
    fn read_day(&mut self, index: usize, folder: &str) -> Result<(), InputError> {
        let name = self.read_entry(index)?;
        let (channel, channel_type) =
            self.conversations.get(folder).cloned().unwrap_or_else(|| (folder.to_string(), ChannelType::Unknown));
        let messages: Vec<Message> =
            serde_json::from_slice(&self.buf).map_err(|e| json_error(&self.file, &name, &e))?;
        for m in messages {
            self.messages += 1;
            let reactions = reactions_of(&m);
            if reactions > 0 {
                *self.notes.left_out.entry(skipped::REACTIONS_WITHOUT_TIME.into()).or_default() += reactions;
            }
            if let Some(subtype) = m.subtype.as_deref()
                && !PERSON_SUBTYPES.contains(&subtype)
            {
                *self.notes.left_out.entry(skipped::named(skipped::SUBTYPE, subtype)).or_default() += 1;
                continue;
            }
            let Some(user) = m.user.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
                *self.notes.left_out.entry(skipped::MESSAGES_WITHOUT_USER.into()).or_default() += 1;
                continue;
            };
            let ts = self.seconds_of(&name, &m.ts)?;
            let slack_id = user.to_lowercase();
            let Some(key) = self.users.get(&slack_id).cloned().or_else(|| {
                // A person missing from users.json (another organisation's,
                // shared through Slack Connect) is kept under their id; a bot
                // (`B...`) posting as a user is not a person.
                (!slack_id.starts_with('b')).then(|| slack_id.clone())
            }) else {
                *self.notes.left_out.entry(skipped::MESSAGES_WITHOUT_USER.into()).or_default() += 1;
                continue;
            };
            let with_files =
                m.files.as_ref().is_some_and(|f| !f.is_empty()) || m.subtype.as_deref() == Some("file_share");
            let line = self.messages;
            self.ready.push_back(RawEvent {
                line,
                user_id: key.clone(),
                ts,
                kind: "message_sent".into(),
                channel: Some(channel.clone()),
                channel_type,
                duration_seconds: None,
                event_id: Some(format!("slack:{channel}:{}", m.ts)),
            });
            if with_files {
                self.ready.push_back(RawEvent {
                    line,
                    user_id: key,
                    ts,
                    kind: "file_shared".into(),
                    channel: None,
                    channel_type: ChannelType::Unknown,
                    duration_seconds: None,
                    event_id: None,
                });
            }
        }
        Ok(())
    }
}

impl<R: Read + Seek> Iterator for SlackExport<R> {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Some(Ok(e));
            }
            if self.done {
                return None;
            }
            let Some((index, folder)) = self.days.pop_front() else {
                self.done = true;
                return None;
            };
            if let Err(e) = self.read_day(index, &folder) {
                self.done = true;
                self.ready.clear();
                return Some(Err(e));
            }
        }
    }
}

/// Opens an export file from disk, buffered.
pub fn open_file(file: &str, path: &std::path::Path) -> Result<SlackExport<BufReader<std::fs::File>>, InputError> {
    let f = std::fs::File::open(path).map_err(|e| InputError::new(file, 0, format!("cannot open: {e}")))?;
    SlackExport::open(file, BufReader::with_capacity(256 * 1024, f))
}

/// How many reactions a message carries (their count, else their users).
fn reactions_of(m: &Message) -> u64 {
    m.reactions
        .iter()
        .flatten()
        .map(|r| r.count.unwrap_or_else(|| r.users.as_ref().map_or(0, |u| u.len() as u64)))
        .sum()
}
