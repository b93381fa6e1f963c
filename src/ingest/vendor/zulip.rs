//! The Zulip export (`./manage.py export`, a `.tar.gz` of one folder):
//! `realm.json` holds the users (`zerver_userprofile`: `id`, `email`,
//! `delivery_email`, `is_bot`), the conversations (`zerver_recipient`:
//! `id`, `type` 1 personal, 2 stream, 3 group DM (huddle), `type_id`) and the
//! presence intervals (`zerver_useractivityinterval`: `user_profile`,
//! `start`, `end`); `messages-000001.json`, ... hold `zerver_message`
//! (`id`, `sender`, `recipient`, `date_sent` in fractional seconds).
//!
//! The archive is read streaming, twice: the first pass reads the users and
//! recipients of `realm.json` (the members' order inside the archive is not
//! fixed), the second turns each message into a `message_sent` (channel =
//! the stream, the group DM, or the pair of people in a one-to-one DM;
//! channel type group, group, direct) and each presence interval into a
//! `login` at its start and a `logout` at its end. Reactions
//! (`zerver_reaction`) carry no time: they are counted in the summary and
//! left out. Messages by bots, and by senders not among the export's users
//! (cross-realm system bots), are counted and skipped. People are keyed by
//! `delivery_email` (the real address), else `email`.
//!
//! Message `content` and `rendered_content` are not declared here, so they
//! are skipped unread.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::super::InputError;
use super::super::events::RawEvent;
use super::super::source::read_error;
use super::event_sources::*;
use super::skipped;
use crate::domain::dataset::ChannelType;

/// Zulip records presence: `zerver_useractivityinterval` (intervals in
/// which the person had Zulip open), read as a sign-in and a sign-out.
pub const RECORDS_PRESENCE: bool = true;

/// Opens the archive afresh (it is read twice), gzip not yet undone.
pub type Reopen = Box<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// Opens a gzip stream (by its magic bytes) or a plain tar.
pub type Unpack = Box<dyn Fn(Box<dyn Read + Send>) -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

#[derive(Deserialize)]
struct UserProfile {
    id: i64,
    email: Option<String>,
    delivery_email: Option<String>,
    #[serde(default)]
    is_bot: bool,
}

#[derive(Deserialize)]
struct Recipient {
    id: i64,
    #[serde(rename = "type")]
    kind: i64,
    type_id: i64,
}

#[derive(Deserialize)]
struct Message {
    id: i64,
    sender: i64,
    recipient: i64,
    date_sent: f64,
}

#[derive(Deserialize)]
struct Interval {
    id: i64,
    user_profile: i64,
    start: f64,
    end: f64,
}

struct Person {
    key: String,
    bot: bool,
}

/// What the first pass learns from `realm.json`.
#[derive(Default)]
struct Realm {
    users: HashMap<i64, Person>,
    recipients: HashMap<i64, (i64, i64)>,
    found: bool,
}

/// Whether a member of the archive is read, and in which pass.
fn member_kind(path: &str) -> Option<bool> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if base == "realm.json" {
        Some(true)
    } else if base.starts_with("messages-") && base.ends_with(".json") {
        Some(false)
    } else {
        None
    }
}

/// Whether the start of a decompressed archive is a Zulip export: a tar
/// whose first member lies in a `zulip-export-*` folder or is one of its files.
pub fn is_export(tar_head: &[u8]) -> bool {
    if tar_head.len() < 512 || &tar_head[257..262] != b"ustar" {
        return false;
    }
    let name = String::from_utf8_lossy(&tar_head[..100]);
    let name = name.trim_end_matches('\0');
    name.contains("zulip-export") || member_kind(name).is_some()
}

/// Reads a Zulip export as events. The archive is walked on its own
/// thread; events come through a bounded channel, so memory stays flat.
pub struct Export {
    events: Receiver<Result<RawEvent, InputError>>,
    failed: bool,
}

impl Export {
    pub fn new(file: &str, reopen: Reopen, unpack: Unpack, notes: SharedNotes) -> Export {
        let (sender, events) = sync_channel(4096);
        let file = file.to_string();
        std::thread::spawn(move || {
            if let Err(e) = produce(&file, &reopen, &unpack, &notes, &sender) {
                // The import may have stopped listening: nothing to tell then.
                let _ = sender.send(Err(e));
            }
        });
        Export { events, failed: false }
    }
}

impl Iterator for Export {
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.events.recv().ok()?;
        self.failed = item.is_err();
        Some(item)
    }
}

/// Where an archive's member is named in errors.
fn entry_name(file: &str, member: &str) -> String {
    format!("{file} (entry {member})")
}

/// An I/O error reading the archive or one of its members.
fn archive_error(file: &str, member: Option<&str>, line: u64, e: &io::Error) -> InputError {
    let name = member.map_or_else(|| file.to_string(), |m| entry_name(file, m));
    let located = read_error(&name, line, true, e);
    if located.message.contains("gzip") || e.kind() == io::ErrorKind::UnexpectedEof {
        return InputError::new(
            &name,
            located.line,
            format!("the archive is truncated or corrupt ({e}); download the export again"),
        );
    }
    located
}

fn produce(
    file: &str,
    reopen: &Reopen,
    unpack: &Unpack,
    notes: &SharedNotes,
    sender: &SyncSender<Result<RawEvent, InputError>>,
) -> Result<(), InputError> {
    let mut realm = Realm::default();
    walk(file, reopen, unpack, &mut |member, reader| {
        if member_kind(member) != Some(true) {
            return Ok(true);
        }
        realm.found = true;
        read_member(file, member, reader, &mut FirstPass { realm: &mut realm })
    })?;
    if !realm.found {
        return Err(InputError::new(
            file,
            1,
            "not a Zulip export: the archive has no realm.json; export with `./manage.py export` and import the \
             .tar.gz it writes",
        ));
    }
    let mut second = SecondPass { realm: &realm, notes, sender, stopped: false };
    walk(file, reopen, unpack, &mut |member, reader| {
        if member_kind(member).is_none() {
            return Ok(true);
        }
        read_member(file, member, reader, &mut second)?;
        Ok(!second.stopped)
    })
}

/// Calls `each` with every member of the archive until it returns false.
fn walk(
    file: &str,
    reopen: &Reopen,
    unpack: &Unpack,
    each: &mut dyn FnMut(&str, &mut dyn Read) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    let raw = reopen().map_err(|e| InputError::new(file, 0, format!("cannot open: {e}")))?;
    let inner = unpack(raw).map_err(|e| archive_error(file, None, 1, &e))?;
    let mut archive = tar::Archive::new(inner);
    let entries = archive.entries().map_err(|e| not_a_tar(file, &e))?;
    for (i, entry) in entries.enumerate() {
        let mut entry =
            entry.map_err(|e| if i == 0 { not_a_tar(file, &e) } else { archive_error(file, None, 0, &e) })?;
        let path = match entry.path() {
            Ok(p) => p.to_string_lossy().into_owned(),
            Err(e) => return Err(archive_error(file, None, 0, &e)),
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        if !each(&path, &mut entry)? {
            return Ok(());
        }
    }
    Ok(())
}

fn not_a_tar(file: &str, e: &io::Error) -> InputError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return InputError::new(
            file,
            1,
            format!("the archive is truncated or corrupt ({e}); download the export again"),
        );
    }
    InputError::new(
        file,
        1,
        format!("not a Zulip export: not a tar archive ({e}); import the .tar.gz that `./manage.py export` writes"),
    )
}

/// A pass's handling of the top-level keys of one member.
trait Pass {
    fn key<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error>;
}

fn read_member<P: Pass>(file: &str, member: &str, reader: &mut dyn Read, pass: &mut P) -> Result<bool, InputError> {
    let mut de = serde_json::Deserializer::from_reader(io::BufReader::with_capacity(256 * 1024, reader));
    let result = MemberSeed { pass: &mut *pass }.deserialize(&mut de).and_then(|()| de.end());
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.is_io() => {
            // What the archive reader said, without serde's position (given as the line).
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or(&text);
            if let Some(limit) = io_source(&e) {
                return Err(read_error(&entry_name(file, member), e.line() as u64, true, &limit));
            }
            Err(InputError::new(
                &entry_name(file, member),
                e.line() as u64,
                format!("the archive is truncated or corrupt ({what}); download the export again"),
            ))
        }
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(false),
        Err(e) => Err(json_error(&entry_name(file, member), e.line() as u64, &e, "a Zulip export's JSON")),
    }
}

/// The inflate limit crossed inside a member, if that is what stopped it.
fn io_source(e: &serde_json::Error) -> Option<io::Error> {
    let inner = std::error::Error::source(e)?.downcast_ref::<io::Error>()?;
    let crossed = inner.get_ref()?.downcast_ref::<crate::ingest::inflate::InflateLimitCrossed>()?;
    Some(io::Error::new(
        io::ErrorKind::InvalidData,
        crate::ingest::inflate::InflateLimitCrossed { line: crossed.line, message: crossed.message.clone() },
    ))
}

/// The import stopped listening.
const STOPPED: &str = "import stopped";

struct MemberSeed<'p, P> {
    pass: &'p mut P,
}

impl<'de, P: Pass> DeserializeSeed<'de> for MemberSeed<'_, P> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, P: Pass> Visitor<'de> for MemberSeed<'_, P> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of tables (zerver_...)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            self.pass.key(&key, &mut map)?;
        }
        Ok(())
    }
}

struct FirstPass<'r> {
    realm: &'r mut Realm,
}

impl Pass for FirstPass<'_> {
    fn key<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "zerver_userprofile" => {
                for u in map.next_value::<Vec<UserProfile>>()? {
                    let email = u.delivery_email.filter(|e| !e.trim().is_empty()).or(u.email);
                    let key = email.map(|e| e.trim().to_lowercase()).unwrap_or_else(|| format!("zulip-user-{}", u.id));
                    self.realm.users.insert(u.id, Person { key, bot: u.is_bot });
                }
            }
            "zerver_recipient" => {
                for r in map.next_value::<Vec<Recipient>>()? {
                    self.realm.recipients.insert(r.id, (r.kind, r.type_id));
                }
            }
            _ => {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct SecondPass<'a> {
    realm: &'a Realm,
    notes: &'a SharedNotes,
    sender: &'a SyncSender<Result<RawEvent, InputError>>,
    stopped: bool,
}

impl SecondPass<'_> {
    fn send<E: serde::de::Error>(&mut self, event: RawEvent) -> Result<(), E> {
        if self.sender.send(Ok(event)).is_err() {
            self.stopped = true;
            return Err(E::custom(STOPPED));
        }
        Ok(())
    }

    fn skip(&self, why: &str) {
        note(self.notes, |n| bump(&mut n.skipped, why));
    }

    fn message<E: serde::de::Error>(&mut self, m: Message) -> Result<(), E> {
        note(self.notes, |n| bump(&mut n.records, "zerver_message"));
        let Some(person) = self.realm.users.get(&m.sender) else {
            self.skip(skipped::MESSAGES_BY_UNKNOWN_SENDERS);
            return Ok(());
        };
        if person.bot {
            self.skip(skipped::MESSAGES_BY_BOTS);
            return Ok(());
        }
        let Some(&(kind, type_id)) = self.realm.recipients.get(&m.recipient) else {
            return Err(E::custom(format!(
                "message {} names recipient {}, which realm.json's zerver_recipient does not have",
                m.id, m.recipient
            )));
        };
        let (channel, channel_type) = match kind {
            1 => {
                let (a, b) = (m.sender.min(type_id), m.sender.max(type_id));
                (format!("zulip:dm:{a}-{b}"), ChannelType::Direct)
            }
            2 => (format!("zulip:stream:{type_id}"), ChannelType::Group),
            3 => (format!("zulip:huddle:{type_id}"), ChannelType::Group),
            other => (format!("zulip:recipient-type-{other}:{type_id}"), ChannelType::Unknown),
        };
        let ts = from_float_seconds(m.date_sent).map_err(|e| E::custom(format!("date_sent: {e}")))?;
        let key = person.key.clone();
        let id = format!("zulip:message:{}", m.id);
        self.send(event(0, &key, ts, "message_sent", Some(channel), channel_type, None, id))
    }

    fn interval<E: serde::de::Error>(&mut self, i: Interval) -> Result<(), E> {
        note(self.notes, |n| bump(&mut n.records, "zerver_useractivityinterval"));
        let Some(person) = self.realm.users.get(&i.user_profile) else {
            self.skip(skipped::PRESENCE_OF_UNKNOWN_PEOPLE);
            return Ok(());
        };
        if person.bot {
            self.skip(skipped::PRESENCE_OF_BOTS);
            return Ok(());
        }
        let start = from_float_seconds(i.start).map_err(|e| E::custom(format!("start: {e}")))?;
        let end = from_float_seconds(i.end).map_err(|e| E::custom(format!("end: {e}")))?;
        if end < start {
            return Err(E::custom(format!("presence interval {} ends before it starts", i.id)));
        }
        let key = person.key.clone();
        let login =
            event(0, &key, start, "login", None, ChannelType::Unknown, None, format!("zulip:interval:{}:start", i.id));
        self.send(login)?;
        let logout =
            event(0, &key, end, "logout", None, ChannelType::Unknown, None, format!("zulip:interval:{}:end", i.id));
        self.send(logout)
    }
}

/// Hands each element of a table to the second pass as it is read.
struct Rows<'p, 'a, T> {
    pass: &'p mut SecondPass<'a>,
    _row: std::marker::PhantomData<T>,
}

trait Row: for<'de> Deserialize<'de> {
    fn handle<E: serde::de::Error>(self, pass: &mut SecondPass<'_>) -> Result<(), E>;
}

impl Row for Message {
    fn handle<E: serde::de::Error>(self, pass: &mut SecondPass<'_>) -> Result<(), E> {
        pass.message(self)
    }
}

impl Row for Interval {
    fn handle<E: serde::de::Error>(self, pass: &mut SecondPass<'_>) -> Result<(), E> {
        pass.interval(self)
    }
}

impl<'de, T: Row> DeserializeSeed<'de> for Rows<'_, '_, T> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Row> Visitor<'de> for Rows<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(row) = seq.next_element::<T>()? {
            row.handle::<A::Error>(self.pass)?;
        }
        Ok(())
    }
}

impl Pass for SecondPass<'_> {
    fn key<'de, A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "zerver_message" => map.next_value_seed(Rows::<Message> { pass: self, _row: Default::default() }),
            "zerver_useractivityinterval" => {
                map.next_value_seed(Rows::<Interval> { pass: self, _row: Default::default() })
            }
            "zerver_reaction" => {
                let n = map.next_value::<Vec<IgnoredAny>>()?.len() as u64;
                note(self.notes, |notes| {
                    *notes.records.entry("zerver_reaction".into()).or_default() += n;
                    if n > 0 {
                        *notes.skipped.entry(skipped::REACTIONS_WITHOUT_TIME.into()).or_default() += n;
                    }
                });
                Ok(())
            }
            _ => map.next_value::<IgnoredAny>().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_read_in_each_pass() {
        assert_eq!(member_kind("zulip-export-abc/realm.json"), Some(true));
        assert_eq!(member_kind("zulip-export-abc/messages-000001.json"), Some(false));
        assert_eq!(member_kind("zulip-export-abc/attachment.json"), None);
        assert_eq!(member_kind("zulip-export-abc/uploads/x/messages-1.json.png"), None);
    }

    #[test]
    fn a_row_that_fails_a_check_is_named_with_the_line_after_it() {
        let text = "{\n\"zerver_message\": [\n{\"id\": 1, \"sender\": 1, \"recipient\": 9, \"date_sent\": 1.5}\n]\n}";
        let mut realm = Realm::default();
        realm.users.insert(1, Person { key: "a@example.com".into(), bot: false });
        let notes = SharedNotes::default();
        let (sender, _receiver) = sync_channel(4);
        let mut pass = SecondPass { realm: &realm, notes: &notes, sender: &sender, stopped: false };
        let err = read_member("x.tar.gz", "z/messages-000001.json", &mut text.as_bytes(), &mut pass).unwrap_err();
        assert_eq!(err.file, "x.tar.gz (entry z/messages-000001.json)");
        // The check runs once the row is read: the line is where the reader
        // stands, just after it, and the message names the row.
        assert_eq!(err.line, 4, "{err}");
        assert!(err.message.contains("message 1 names recipient 9"), "{err}");
    }
}
