//! Importing directory and event files: all-or-nothing per file,
//! idempotent (duplicates are skipped by the model's rule), streamed in
//! batches so memory does not grow with the file.
//!
//! Most files are stored in one transaction. An events file, which can be
//! millions of rows, commits in bounded batches instead, so that other
//! writers (a sign-in, the outbox) never wait for a whole file on SQLite's
//! single writer: until its last transaction marks it done, its events and
//! the people it created are invisible to every read, and if it fails (or
//! its process stops) its rows are removed, batch by batch. Imports run one
//! at a time either way.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;

use crate::domain::kind::Kind;
use crate::ingest::InputError;
use crate::ingest::events::{EventReader, RawEvent};
use crate::ingest::people::{DirectoryReader, DirectoryRow};
use crate::ingest::source::Input;
use crate::storage::events::{self as event_store, NewEvent};
use crate::storage::imports::{self, ImportDetails, ImportSummary};
use crate::storage::people::{self as people_store, DIRECTORY_COLUMNS, DirectoryShape};
use crate::storage::{Db, Tx, identity, now};

use super::settings::DATA_VERSION_KEY;
use super::spool::{Spool, SpoolRecord, codec};

/// Directory rows per database round.
const PEOPLE_BATCH: usize = 500;

/// A PostgreSQL import adding this many rows refreshes the table statistics.
const ANALYZE_AFTER_ROWS: u64 = 100_000;

/// New event kinds one import may add.
const MAX_NEW_KINDS: usize = 200;

/// Events read per database round.
const BATCH: usize = 8_000;

/// Events sorted in memory at a time before they are stored in time order
/// (longer files are sorted in runs of this many, then merged).
const SORT_RUN: usize = 250_000;
/// From this many events on, an import builds the index by person once at
/// the end rather than row by row (`events::defer_person_index`).
const DEFER_INDEX_AT: u64 = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is wrong: nothing of it was stored.
    #[error("{0}")]
    Input(#[from] InputError),
    /// The disk under the database is full: nothing of the file was stored.
    #[error("{}", disk_full_text(file))]
    DiskFull { file: String, source: anyhow::Error },
    /// The database failed: nothing of the file was stored.
    #[error("storing {file} failed: {source:#}")]
    Storage { file: String, source: anyhow::Error },
}

impl ImportError {
    /// A database failure while storing `file`: a full disk says so.
    pub fn storage(file: &str, source: anyhow::Error) -> ImportError {
        if crate::storage::disk_full(&source) {
            ImportError::DiskFull { file: file.to_string(), source }
        } else {
            ImportError::Storage { file: file.to_string(), source }
        }
    }
}

/// What a file that met a full disk is told (an import or an upload).
pub fn disk_full_text(file: &str) -> String {
    format!(
        "{file}: the disk is full, so the import stopped and nothing of this file was stored; free some space, then import the file again"
    )
}

/// How long an import waits for another one to finish before giving up.
const WAIT_FOR_TURN_SECONDS: i64 = 3_600;

/// Poll interval while another import runs.
const TURN_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// What a running import found interrupted is marked with.
const INTERRUPTED: &str = "the import stopped before it finished (its process ended); nothing of it was counted";

/// A batched import (or removal) with no sign of life for this long was
/// interrupted, wherever it ran.
const STALE_AFTER_SECONDS: i64 = 120;

/// This process, as an import's owner: host, boot and process id.
fn this_process() -> &'static str {
    static OWNER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    OWNER.get_or_init(|| {
        let read = |path: &str| std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default();
        let host = read("/proc/sys/kernel/hostname");
        let boot = read("/proc/sys/kernel/random/boot_id");
        format!("{host}/{boot}/{}", std::process::id())
    })
}

/// The batched imports this process is running, by id: registered for as
/// long as the import's task lives (dropped however it ends).
struct Running(i64);

fn running_here() -> std::sync::MutexGuard<'static, HashSet<i64>> {
    static RUNNING: std::sync::OnceLock<std::sync::Mutex<HashSet<i64>>> = std::sync::OnceLock::new();
    RUNNING.get_or_init(Default::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Running {
    fn new(id: i64) -> Running {
        running_here().insert(id);
        Running(id)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        running_here().remove(&self.0);
    }
}

/// Whether an import in progress still has a process behind it: not when
/// its heartbeat is stale, nor when it ran on this machine (same host and
/// boot) in a process that is gone, nor when it ran in this process and its
/// task ended.
fn alive(p: &imports::InProgress, now: i64) -> bool {
    if p.heartbeat_at.is_none_or(|h| h < now - STALE_AFTER_SECONDS) {
        return false;
    }
    let Some(owner) = p.owner.as_deref() else { return true };
    if owner == this_process() {
        return running_here().contains(&p.id);
    }
    let (machine, pid) = owner.rsplit_once('/').unwrap_or((owner, ""));
    let (ours, _) = this_process().rsplit_once('/').unwrap_or_default();
    if machine != ours || ours.ends_with('/') {
        // Another machine (or one that could not be told apart): only the
        // heartbeat says.
        return true;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A process killed but not yet reaped is a zombie: state `Z`.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Starts an import in a transaction once no other import runs: reserves
/// its row and returns its id with the transaction holding the import lock.
/// Batched imports (see the module) are waited for; those whose process is
/// gone are removed first.
async fn take_turn(db: &Db, source: &str, file: &str, started_at: i64) -> anyhow::Result<(Tx, i64)> {
    let deadline = now() + WAIT_FOR_TURN_SECONDS;
    loop {
        let mut tx = db.begin().await?;
        imports::serialise(&mut tx).await?;
        // On SQLite this insert takes the write lock, which makes the checks
        // below and the start one step.
        let id = imports::start(&mut tx, source, file, started_at).await?;
        let (live, gone): (Vec<_>, Vec<_>) =
            imports::in_progress(&mut tx, id).await?.into_iter().partition(|p| alive(p, now()));
        if !live.is_empty() {
            tx.rollback().await?;
            anyhow::ensure!(
                now() < deadline,
                "another import has been running for an hour; try again once it finished"
            );
            tokio::time::sleep(TURN_POLL).await;
            continue;
        }
        if gone.is_empty() {
            return Ok((tx, id));
        }
        // Their rows must be gone before this import de-duplicates against
        // what is stored.
        let gone: Vec<i64> = gone.iter().map(|p| p.id).collect();
        imports::claim(&mut tx, &gone, this_process(), INTERRUPTED, now()).await?;
        imports::forget(&mut tx, id).await?;
        tx.commit().await?;
        remove_imports(db, &gone).await?;
    }
}

/// Removes what failed or interrupted batched imports stored, in bounded
/// batches (each its own short transaction), then marks them failed.
async fn remove_imports(db: &Db, ids: &[i64]) -> anyhow::Result<()> {
    for &id in ids {
        let mut from = i64::MIN;
        while let Some(next) = imports::remove_batch(db, id, from, REMOVE_BATCH).await? {
            from = next;
        }
    }
    Ok(())
}

/// Events removed per transaction when a batched import is undone.
const REMOVE_BATCH: i64 = 20_000;

/// Runs `work` in a transaction; on any error rolls back and records the
/// failure in the import history.
pub(super) async fn transactional<F>(db: &Db, source: &str, file: &str, work: F) -> Result<ImportSummary, ImportError>
where
    F: AsyncFnOnce(&mut Tx, i64) -> Result<ImportSummary, ImportError>,
{
    let started_at = now();
    let storage = |e: anyhow::Error| ImportError::storage(file, e);
    let result = async {
        let (mut tx, id) = take_turn(db, source, file, started_at).await.map_err(storage)?;
        match work(&mut tx, id).await {
            Ok(summary) => {
                imports::finish(&mut tx, id, &summary).await.map_err(storage)?;
                bump_data_version(&mut tx).await.map_err(storage)?;
                tx.commit().await.map_err(storage)?;
                Ok(summary)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }
    .await;
    if result.as_ref().is_ok_and(|s| s.events_added >= ANALYZE_AFTER_ROWS) {
        // Best effort: fresh statistics keep window reads on the index.
        let _ = imports::analyze_events(db).await;
    }
    if let Err(e) = &result {
        // Best effort: the failure is already reported to the caller.
        let _ = imports::record_failure(db, source, file, started_at, &e.to_string()).await;
    }
    result
}

/// Runs a batched import (see the module): `store` is called once per
/// batch with `state`, each in its own transaction, and `finish` once in the
/// last one, which marks the import done. After each batch the rows stored
/// so far are sent to `progress`, if given (the import waits while it is
/// full). On any error, or a batch that cannot be read, what was stored is
/// removed and the failure recorded on the import's row.
// The file, its batches, what to do with each and at the end: each a separate concern.
#[allow(clippy::too_many_arguments)]
async fn batched<T, B, S, F>(
    db: &Db,
    source: &str,
    file: &str,
    mut state: T,
    mut batches: tokio::sync::mpsc::Receiver<anyhow::Result<B>>,
    progress: Option<tokio::sync::mpsc::Sender<u64>>,
    mut store: S,
    finish: F,
) -> Result<ImportSummary, ImportError>
where
    S: AsyncFnMut(&mut T, &mut Tx, i64, B) -> anyhow::Result<u64>,
    F: AsyncFnOnce(T, &mut Tx) -> anyhow::Result<ImportSummary>,
{
    let storage = |e: anyhow::Error| ImportError::storage(file, e);
    let (mut tx, id) = take_turn(db, source, file, now()).await.map_err(storage)?;
    imports::heartbeat(&mut tx, id, this_process(), now()).await.map_err(storage)?;
    let _running = Running::new(id);
    tx.commit().await.map_err(storage)?;
    let result = async {
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            let mut tx = db.begin().await?;
            let stored = store(&mut state, &mut tx, id, batch).await?;
            imports::heartbeat(&mut tx, id, this_process(), now()).await?;
            tx.commit().await?;
            if let Some(progress) = &progress {
                // A progress reader that went away stops nothing.
                let _ = progress.send(stored).await;
            }
        }
        let mut tx = db.begin().await?;
        let summary = finish(state, &mut tx).await?;
        imports::publish_people(&mut tx, id).await?;
        imports::finish(&mut tx, id, &summary).await?;
        bump_data_version(&mut tx).await?;
        tx.commit().await?;
        anyhow::Ok(summary)
    }
    .await
    .map_err(storage);
    match &result {
        Ok(summary) if summary.events_added >= ANALYZE_AFTER_ROWS => {
            // Best effort: fresh statistics keep window reads on the index.
            let _ = imports::analyze_events(db).await;
        }
        Ok(_) => {}
        Err(e) => {
            // Best effort: the failure is already reported to the caller, and
            // rows left behind are removed by the next import (they go stale).
            let _ = imports::mark_removing(db, id, &e.to_string()).await;
            let _ = remove_imports(db, &[id]).await;
        }
    }
    result
}

/// Marks the data as changed, for caches keyed by data version.
pub(crate) async fn bump_data_version(tx: &mut Tx) -> anyhow::Result<()> {
    // Unique per change: two changes within one second must differ too.
    let version = format!("{}-{}-{}", now(), std::process::id(), &super::secrets::random_token()[..12]);
    crate::storage::settings::set_in(tx, DATA_VERSION_KEY, &version).await
}

/// Imports one events file (CSV or NDJSON, maybe gzipped).
pub async fn import_events(db: &Db, tz: Tz, input: Input) -> Result<ImportSummary, ImportError> {
    let file = input.name.clone();
    let encoding = input.encoding_name();
    let reader = match EventReader::new(input, tz) {
        Ok(r) => r,
        Err(e) => {
            let _ = imports::record_failure(db, "events", &file, now(), &e.to_string()).await;
            return Err(e.into());
        }
    };
    import_event_records(db, &file, ImportDetails { encoding, ..Default::default() }, reader).await
}

/// What an events import keeps between batches: name-to-id caches (bounded
/// by the distinct people, channels and kinds in the file) and the summary.
struct EventImport {
    people: HashMap<String, i64>,
    channels: HashMap<String, i64>,
    kinds: HashMap<String, i64>,
    first_event: HashMap<i64, i64>,
    /// Kinds this import added: bounded, since kind ids are a small space.
    new_kinds: usize,
    summary: ImportSummary,
    /// The batched import this is, whose new people wait for its end.
    pending: Option<i64>,
}

impl EventImport {
    async fn new(tx: &mut Tx) -> anyhow::Result<EventImport> {
        Ok(EventImport {
            people: HashMap::new(),
            channels: HashMap::new(),
            kinds: event_store::kinds(tx).await?,
            first_event: HashMap::new(),
            new_kinds: 0,
            summary: ImportSummary::default(),
            pending: None,
        })
    }

    async fn store(&mut self, tx: &mut Tx, import_id: i64, batch: Vec<RawEvent>) -> anyhow::Result<()> {
        let new_people: HashSet<&str> =
            batch.iter().map(|e| e.user_id.as_str()).filter(|u| !self.people.contains_key(*u)).collect();
        if !new_people.is_empty() {
            let found = people_store::ensure(tx, &new_people, self.pending).await?;
            self.summary.people_created += found.created;
            self.summary.details.people_matched_by_alias += found.by_alias.len() as u64;
            self.people.extend(found.ids);
        }
        let new_channels: HashSet<&str> =
            batch.iter().filter_map(|e| e.channel.as_deref()).filter(|c| !self.channels.contains_key(*c)).collect();
        if !new_channels.is_empty() {
            let ids = event_store::ensure_channels(tx, &new_channels).await?;
            self.channels.extend(ids);
        }
        for e in &batch {
            if !self.kinds.contains_key(&e.kind) {
                self.new_kinds += 1;
                anyhow::ensure!(
                    self.new_kinds <= MAX_NEW_KINDS,
                    "more than {MAX_NEW_KINDS} new event kinds in one import; is the `event` column the right one?"
                );
                let id = event_store::add_kind(tx, &e.kind).await?;
                self.kinds.insert(e.kind.clone(), id);
            }
        }

        let mut rows = Vec::with_capacity(batch.len());
        let mut last_kind: Option<(i64, bool)> = None;
        for e in batch {
            let person_id = self.people[&e.user_id];
            let kind_id = self.kinds[&e.kind];
            // Files repeat a kind row after row: it is looked up once a run.
            let known = match last_kind {
                Some((id, known)) if id == kind_id => known,
                _ => Kind::known(&e.kind).is_some(),
            };
            last_kind = Some((kind_id, known));
            if !known {
                *self.summary.unknown_kinds.entry(e.kind.clone()).or_default() += 1;
            }
            self.summary.first_ts = Some(self.summary.first_ts.map_or(e.ts, |t| t.min(e.ts)));
            self.summary.last_ts = Some(self.summary.last_ts.map_or(e.ts, |t| t.max(e.ts)));
            let first = self.first_event.entry(person_id).or_insert(e.ts);
            *first = (*first).min(e.ts);
            rows.push(NewEvent {
                person_id,
                ts: e.ts,
                kind_id,
                channel_id: e.channel.as_ref().map_or(0, |c| self.channels[c]),
                channel_type: i64::from(e.channel_type.code()),
                duration_seconds: e.duration_seconds,
                event_id: e.event_id,
            });
        }
        self.summary.rows_read += rows.len() as u64;
        let within = event_store::dedup_within(&mut rows) as u64;
        let added = crate::storage::event_insert::insert_batch(tx, import_id, &rows).await?;
        self.summary.events_added += added;
        self.summary.duplicates_skipped += within + (rows.len() as u64 - added);
        Ok(())
    }
}

/// Imports one directory file. People already known are updated in place;
/// only the columns the file carries are changed.
pub async fn import_people(db: &Db, input: Input) -> Result<ImportSummary, ImportError> {
    let file = input.name.clone();
    let encoding = input.encoding_name();
    let reader = match DirectoryReader::new(input) {
        Ok(r) => r,
        Err(e) => {
            let _ = imports::record_failure(db, "people", &file, now(), &e.to_string()).await;
            return Err(e.into());
        }
    };
    let shape = DirectoryShape {
        columns: DIRECTORY_COLUMNS.iter().copied().filter(|c| reader_has(&reader, c)).collect(),
        attribute_columns: reader.attribute_columns().iter().map(|s| s.to_string()).collect(),
    };
    let details = ImportDetails { header_line: reader.header_line(), encoding, ..Default::default() };
    import_directory_records(db, &file, shape, details, reader).await
}

fn reader_has(reader: &DirectoryReader, column: &str) -> bool {
    reader.has_column(column)
}

/// Imports events already parsed (the push API's valid lines) in one
/// transaction, recorded in the history under `source` and `name`.
/// De-duplication is the files' rule, so storing the same batch twice
/// changes nothing the second time.
pub async fn import_event_batch(
    db: &Db,
    source: &str,
    name: &str,
    events: &[RawEvent],
) -> Result<ImportSummary, ImportError> {
    let (source_name, file_name) = (source.to_string(), name.to_string());
    transactional(db, source, name, async move |tx: &mut Tx, import_id: i64| {
        let storage = |e: anyhow::Error| ImportError::storage(&file_name, e);
        let mut state = EventImport::new(tx).await.map_err(storage)?;
        for batch in events.chunks(BATCH) {
            state.store(tx, import_id, batch.to_vec()).await.map_err(storage)?;
        }
        people_store::note_first_events(tx, &state.first_event).await.map_err(storage)?;
        state.summary.file_name = file_name.clone();
        state.summary.source = source_name;
        Ok(state.summary)
    })
    .await
}

/// Reads every record of a file into a spool, with no transaction open: a
/// wrong line, or gzip that inflates too far, fails here, and other writers
/// never wait on parsing (or on a slow upload disk).
pub(super) fn spool_records<T, I>(file: &str, records: I, key: Option<fn(&T) -> i64>) -> Result<Spool<T>, ImportError>
where
    T: SpoolRecord,
    I: Iterator<Item = Result<T, InputError>>,
{
    let spool = match key {
        Some(key) => Spool::keyed(key, SORT_RUN),
        None => Spool::new(),
    };
    let mut spool = spool.map_err(|e| ImportError::storage(file, e))?;
    for record in records {
        spool.push(record?).map_err(|e| ImportError::storage(file, e))?;
    }
    spool.finish().map_err(|e| ImportError::storage(file, e))?;
    Ok(spool)
}

/// An event in the spool: fixed fields first, then its strings.
impl SpoolRecord for RawEvent {
    fn encode(&self, out: &mut Vec<u8>) {
        codec::put_i64(out, self.line as i64);
        codec::put_i64(out, self.ts);
        out.push(self.channel_type.code() as u8);
        match self.duration_seconds {
            Some(d) => {
                out.push(1);
                codec::put_i64(out, d);
            }
            None => out.push(0),
        }
        codec::put_str(out, &self.user_id);
        codec::put_str(out, &self.kind);
        codec::put_opt_str(out, self.channel.as_deref());
        codec::put_opt_str(out, self.event_id.as_deref());
    }

    fn decode(mut bytes: &[u8]) -> anyhow::Result<RawEvent> {
        let b = &mut bytes;
        let line = codec::get_i64(b)? as u64;
        let ts = codec::get_i64(b)?;
        let channel_type = crate::domain::dataset::ChannelType::from_code(i64::from(codec::get_u8(b)?));
        let duration_seconds = match codec::get_u8(b)? {
            0 => None,
            _ => Some(codec::get_i64(b)?),
        };
        Ok(RawEvent {
            line,
            ts,
            channel_type,
            duration_seconds,
            user_id: codec::get_str(b)?,
            kind: codec::get_str(b)?,
            channel: codec::get_opt_str(b)?,
            event_id: codec::get_opt_str(b)?,
        })
    }
}

/// Records a failure to read a file in the import history (best effort:
/// the failure is already reported to the caller).
pub(super) async fn note_failure<T>(
    db: &Db,
    source: &str,
    file: &str,
    started_at: i64,
    result: &Result<T, ImportError>,
) {
    if let Err(e) = result {
        let _ = imports::record_failure(db, source, file, started_at, &e.to_string()).await;
    }
}

/// Imports event records from any reader (a standard file, a mapped one) as
/// one file: one transaction, recorded in the history as `events` under
/// `file_name`. The file is read through first, on a blocking thread, into
/// a spool; the transaction then stores the spooled batches, read a batch
/// or two ahead of the database. `details` says how the file was read
/// (e.g. where its header was found).
pub async fn import_event_records<I>(
    db: &Db,
    file_name: &str,
    details: ImportDetails,
    records: I,
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<RawEvent, InputError>> + Send + 'static,
{
    import_event_records_with_progress(db, file_name, details, records, None).await
}

/// [`import_event_records`], sending the rows stored so far to `progress`
/// after each batch committed.
pub async fn import_event_records_with_progress<I>(
    db: &Db,
    file_name: &str,
    details: ImportDetails,
    records: I,
    progress: Option<tokio::sync::mpsc::Sender<u64>>,
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<RawEvent, InputError>> + Send + 'static,
{
    let source = EventSource { name: "events", details: Box::new(move || details), read: None };
    import_event_source(db, file_name, source, records, progress).await
}

/// What a source of raw events tells its import besides the events: the
/// name its imports are recorded under (the key of the capability table,
/// `domain::coverage::records_presence`), how the file was read (asked for
/// once the file was read through, so that a reader can report what it
/// found on the way), and what the reader learnt by the end of the file
/// ([`ReadNotes`]).
pub struct EventSource {
    pub name: &'static str,
    pub details: Box<dyn FnOnce() -> ImportDetails + Send>,
    pub read: Option<std::sync::Arc<std::sync::Mutex<ReadNotes>>>,
}

/// What a reader learnt by the end of its file: the records it skipped, by
/// reason (given to the summary through the source's `details`), and people
/// it knows by several ids (a key and its aliases), linked in the import's
/// last transaction.
#[derive(Clone, Debug, Default)]
pub struct ReadNotes {
    pub records_skipped: std::collections::BTreeMap<String, u64>,
    pub people: Vec<(String, Vec<String>)>,
}

/// [`import_event_records_with_progress`] for any source of raw events.
pub async fn import_event_source<I>(
    db: &Db,
    file_name: &str,
    source: EventSource,
    records: I,
    progress: Option<tokio::sync::mpsc::Sender<u64>>,
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<RawEvent, InputError>> + Send + 'static,
{
    let EventSource { name: source_name, details, read } = source;
    let name = file_name.to_string();
    let started_at = now();
    let parse_name = name.clone();
    let spooled = tokio::task::spawn_blocking(move || spool_records(&parse_name, records, Some(|e: &RawEvent| e.ts)))
        .await
        .map_err(|e| ImportError::storage(&name, e.into()))
        .and_then(|r| r);
    note_failure(db, source_name, &name, started_at, &spooled).await;
    let mut spool = spooled?;
    // The file is read through: what its reader learnt is complete.
    let details = details();
    let notes =
        read.map(|r| r.lock().map(|n| n.clone()).unwrap_or_else(|p| p.into_inner().clone())).unwrap_or_default();
    let storage = |e: anyhow::Error| ImportError::storage(&name, e);
    let state = {
        let mut tx = db.begin().await.map_err(storage)?;
        let state = EventImport::new(&mut tx).await.map_err(storage)?;
        tx.rollback().await.map_err(storage)?;
        state
    };
    // In time order: each batch then touches the newest end of the
    // indexes instead of pages all over them (a file in conversation order,
    // a Slack export, was five times slower to store).
    let deferred = spool.len >= DEFER_INDEX_AT && event_store::defer_person_index(db).await.map_err(storage)?;
    let mut spooled = spool.sorted_batches(BATCH).map_err(storage)?;
    let (sender, batches) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<RawEvent>>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        for batch in spooled.by_ref() {
            let failed = batch.is_err();
            if sender.blocking_send(batch).is_err() || failed {
                return;
            }
        }
    });
    let result = batched(
        db,
        source_name,
        file_name,
        state,
        batches,
        progress,
        async |state: &mut EventImport, tx: &mut Tx, import_id: i64, batch: Vec<RawEvent>| {
            state.pending = Some(import_id);
            state.store(tx, import_id, batch).await?;
            Ok(state.summary.rows_read)
        },
        async |mut state: EventImport, tx: &mut Tx| {
            let merged = link_people(tx, &mut state, &notes.people).await?;
            people_store::note_first_events(tx, &state.first_event).await?;
            state.summary.file_name = name.clone();
            state.summary.source = source_name.into();
            state.summary.details = ImportDetails {
                people_matched_by_alias: state.summary.details.people_matched_by_alias,
                people_merged: details.people_merged + merged,
                ..details
            };
            Ok(state.summary)
        },
    )
    .await;
    // The reader stops once its channel is dropped (or at the end).
    reader.await.map_err(|e| storage(e.into()))?;
    drop(spool);
    if deferred {
        event_store::restore_person_index(db).await.map_err(storage)?;
    }
    result
}

/// Makes the people a source knows by several ids one person each: every
/// key is ensured (people without events included, so that a later file
/// naming them by any id finds them), and each alias is added to its key's
/// person; a person stored earlier under an alias alone (not from the
/// directory) is merged into the key's. Returns the people merged.
async fn link_people(tx: &mut Tx, state: &mut EventImport, people: &[(String, Vec<String>)]) -> anyhow::Result<u64> {
    let mut merged = 0;
    for chunk in people.chunks(PEOPLE_BATCH) {
        let keys: HashSet<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
        let found = people_store::ensure(tx, &keys, state.pending).await?;
        state.summary.people_created += found.created;
        let aliases: Vec<String> = chunk.iter().flat_map(|(_, a)| a.iter().map(|a| identity::normalise(a))).collect();
        let refs: Vec<&str> = aliases.iter().map(String::as_str).collect();
        let owners = identity::owners(tx, &refs).await?;
        let mut adds: Vec<(String, i64)> = Vec::new();
        for (key, ids) in chunk {
            let Some(&person) = found.ids.get(key.as_str()) else { continue };
            for alias in ids.iter().map(|a| identity::normalise(a)).filter(|a| !a.is_empty() && a != key) {
                match owners.get(&alias) {
                    None => adds.push((alias, person)),
                    Some(o) if o.person_id == person => {}
                    Some(o) if !o.in_directory => {
                        if identity::merge(tx, o.person_id, person).await?.is_ok() {
                            merged += 1;
                        }
                    }
                    // A directory person holds the id: the directory decides.
                    Some(_) => {}
                }
            }
        }
        let rows: Vec<(&str, i64, &str)> = adds.iter().map(|(a, p)| (a.as_str(), *p, identity::ALIAS)).collect();
        identity::add_many(tx, &rows).await?;
    }
    Ok(merged)
}

/// A directory file read whole before anything is written: one row per
/// person (a later row for the same person wins), in line order, and no
/// identifier claimed by two people.
struct DirectoryFile {
    rows: Vec<DirectoryRow>,
    rows_read: u64,
    /// The user ids of the file's rows.
    users: HashSet<String>,
}

fn read_directory<I>(file: &str, records: I) -> Result<DirectoryFile, ImportError>
where
    I: Iterator<Item = Result<DirectoryRow, InputError>>,
{
    let mut rows: Vec<DirectoryRow> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut rows_read = 0;
    for row in records {
        let row = row?;
        rows_read += 1;
        match position.get(&row.user_id) {
            Some(&i) => rows[i] = row,
            None => {
                position.insert(row.user_id.clone(), rows.len());
                rows.push(row);
            }
        }
    }
    rows.sort_by_key(|r| r.line);
    let mut claims: HashMap<String, (u64, String)> = HashMap::new();
    for row in &rows {
        for (id, kind) in row_identifiers(row) {
            match claims.get(&id) {
                Some((line, owner)) if *owner != row.user_id => {
                    return Err(InputError::in_column(
                        file,
                        row.line,
                        kind_column(kind),
                        format!("{} {id} is already claimed by {owner} on line {line}", kind_word(kind)),
                    )
                    .into());
                }
                Some(_) => {}
                None => {
                    claims.insert(id, (row.line, row.user_id.clone()));
                }
            }
        }
    }
    Ok(DirectoryFile { rows, rows_read, users: position.into_keys().collect() })
}

/// Imports directory rows from any reader as one file, recorded in the
/// history as `people` under `file_name`. `shape` names the columns the
/// file carries: only those are changed for people already known;
/// `details` says how the file was read (e.g. where its header was found).
/// The file is read through into a spool before the transaction opens.
pub async fn import_directory_records<I>(
    db: &Db,
    file_name: &str,
    shape: DirectoryShape,
    details: ImportDetails,
    records: I,
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<DirectoryRow, InputError>> + Send,
{
    let started_at = now();
    let read = read_directory(file_name, records);
    note_failure(db, "people", file_name, started_at, &read).await;
    let DirectoryFile { rows, rows_read, users } = read?;
    let name = file_name.to_string();
    transactional(db, "people", file_name, async move |tx: &mut Tx, _import_id: i64| {
        let storage = |e: anyhow::Error| ImportError::storage(&name, e);
        let mut summary = ImportSummary {
            source: "people".into(),
            file_name: name.clone(),
            rows_read,
            details,
            ..Default::default()
        };
        for batch in rows.chunks(PEOPLE_BATCH) {
            let idents: Vec<Vec<(String, &'static str)>> = batch.iter().map(row_identifiers).collect();
            let keys: Vec<&str> = idents.iter().flatten().map(|(id, _)| id.as_str()).collect();
            let mut owners = identity::owners(tx, &keys).await.map_err(storage)?;
            for row in batch {
                let linked = link_directory_row(tx, &name, row, &users, &owners).await?;
                summary.details.people_matched_by_alias += u64::from(linked.by_alias);
                summary.details.people_merged += linked.merged;
                if linked.changed {
                    // A rename or merge moved identifiers: the rest of the batch reads them afresh.
                    owners = identity::owners(tx, &keys).await.map_err(storage)?;
                }
            }
            let (created, updated) = people_store::upsert_directory(tx, &shape, batch).await.map_err(storage)?;
            summary.people_created += created;
            summary.people_updated += updated;
            let users: Vec<&str> = batch.iter().map(|r| r.user_id.as_str()).collect();
            let people = people_store::lookup(tx, &users).await.map_err(storage)?;
            let mut adds: Vec<(&str, i64, &str)> = Vec::new();
            for (row, ids) in batch.iter().zip(&idents) {
                let person =
                    *people.get(&row.user_id).ok_or_else(|| storage(anyhow::anyhow!("{} not stored", row.user_id)))?;
                for (id, kind) in ids {
                    if owners.get(id).is_none_or(|o| o.person_id != person || o.kind != *kind) {
                        adds.push((id.as_str(), person, kind));
                    }
                }
            }
            identity::add_many(tx, &adds).await.map_err(storage)?;
        }
        Ok(summary)
    })
    .await
}

/// A directory row's identifiers, each once: its user id, its e-mail, its
/// aliases.
fn row_identifiers(row: &DirectoryRow) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = vec![(row.user_id.clone(), identity::USER_ID)];
    let email = row.email.as_deref().map(identity::normalise).into_iter().map(|e| (e, identity::EMAIL));
    let aliases = row.aliases.iter().map(|a| (identity::normalise(a), identity::ALIAS));
    for (id, kind) in email.chain(aliases) {
        if !id.is_empty() && !out.iter().any(|(o, _)| *o == id) {
            out.push((id, kind));
        }
    }
    out
}

fn kind_word(kind: &str) -> &'static str {
    match kind {
        identity::USER_ID => "user id",
        identity::EMAIL => "e-mail",
        _ => "alias",
    }
}

fn kind_column(kind: &str) -> &'static str {
    match kind {
        identity::USER_ID => "user_id",
        identity::EMAIL => "email",
        _ => "aliases",
    }
}

/// What linking a directory row to the people already stored did.
struct Linked {
    /// People were renamed or merged.
    changed: bool,
    /// The row's person was found by an e-mail or alias.
    by_alias: bool,
    merged: u64,
}

/// Finds the person a directory row describes among those already stored,
/// by any of its identifiers, before the row is written: a person known by
/// another id takes the row's user id (the old one stays an alias), and
/// people stored separately under the row's other ids are merged into it.
/// Another directory person holding the row's e-mail or alias is an error.
async fn link_directory_row(
    tx: &mut Tx,
    file: &str,
    row: &DirectoryRow,
    in_file: &HashSet<String>,
    owners: &HashMap<String, identity::Owner>,
) -> Result<Linked, ImportError> {
    let storage = |e: anyhow::Error| ImportError::storage(file, e);
    let ids = row_identifiers(row);
    // Another row of this file: the identifier moves to this row, nobody merges.
    let other_row = |o: &identity::Owner| o.user_id != row.user_id && in_file.contains(&o.user_id);
    let mut target: Option<(i64, bool)> = None;
    let mut by_alias = false;
    if let Some(o) = owners.get(&row.user_id)
        && !other_row(o)
    {
        target = Some((o.person_id, o.user_id != row.user_id));
        by_alias = o.kind != identity::USER_ID;
    }
    let mut merge: Vec<(i64, String, String)> = Vec::new();
    for (id, kind) in &ids[1..] {
        let Some(o) = owners.get(id) else { continue };
        if target.is_some_and(|(t, _)| t == o.person_id) || other_row(o) {
            continue;
        }
        if o.in_directory && o.user_id != *id {
            return Err(InputError::in_column(
                file,
                row.line,
                kind_column(kind),
                format!(
                    "{} {id} is already claimed by {} in the directory; give it to one person only",
                    kind_word(kind),
                    o.user_id
                ),
            )
            .into());
        }
        match target {
            None => {
                target = Some((o.person_id, true));
                by_alias = true;
            }
            Some(_) if merge.iter().any(|(p, _, _)| *p == o.person_id) => {}
            Some(_) => merge.push((o.person_id, o.user_id.clone(), id.clone())),
        }
    }
    let mut merged = 0;
    let mut changed = false;
    if let Some((person, rename)) = target {
        changed = rename || !merge.is_empty();
        if rename {
            identity::rename(tx, person, &row.user_id).await.map_err(storage)?;
        }
        for (other, other_user, id) in merge {
            if let Err(conflict) = identity::merge(tx, other, person).await.map_err(storage)? {
                return Err(InputError::new(
                    file,
                    row.line,
                    format!(
                        "{} and {other_user} are one person by {id}, but {}; nothing was imported",
                        row.user_id,
                        conflict.describe()
                    ),
                )
                .into());
            }
            merged += 1;
        }
    }
    Ok(Linked { changed, by_alias, merged })
}

/// Imports one CSV file (maybe gzipped) through a column mapping, as an
/// events or a directory file by the mapping's target. `tz` reads naive
/// times when the mapping names no zone. All-or-nothing, like any file.
pub async fn import_mapped(
    db: &Db,
    tz: Tz,
    input: Input,
    mapping: &crate::domain::mapping::Mapping,
) -> Result<ImportSummary, ImportError> {
    use crate::domain::mapping::Target;
    use crate::ingest::mapped::{MappedEvents, MappedPeople};
    let file = input.name.clone();
    let encoding = input.encoding_name();
    let failed = async |e: InputError| {
        let _ = imports::record_failure(db, mapping.target.as_str(), &file, now(), &e.to_string()).await;
        Err(ImportError::Input(e))
    };
    match mapping.target {
        Target::Events => match MappedEvents::new(input, mapping, tz) {
            Ok(records) => {
                let details =
                    ImportDetails { header_line: records.reader().header_line(), encoding, ..Default::default() };
                import_event_records(db, &file, details, records).await
            }
            Err(e) => failed(e).await,
        },
        Target::People => match MappedPeople::new(input, mapping, tz) {
            Ok(records) => {
                let fields = records.fields();
                let shape = DirectoryShape {
                    columns: DIRECTORY_COLUMNS
                        .iter()
                        .copied()
                        .filter(|c| fields.iter().any(|f| f.as_str() == *c))
                        .collect(),
                    attribute_columns: records.attribute_columns(),
                };
                let details =
                    ImportDetails { header_line: records.reader().header_line(), encoding, ..Default::default() };
                import_directory_records(db, &file, shape, details, records).await
            }
            Err(e) => failed(e).await,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::ChannelType;

    #[test]
    fn events_come_back_from_the_spool_as_they_went_in() {
        let full = RawEvent {
            line: 7,
            user_id: "ana@example.com".into(),
            ts: -86_400,
            kind: "message_sent".into(),
            channel: Some("chan\t1\n, \"é\"".into()),
            channel_type: ChannelType::Broadcast,
            duration_seconds: Some(0),
            event_id: Some("slack:C1:1772414100.000200".into()),
        };
        let bare = RawEvent {
            line: 0,
            user_id: String::new(),
            ts: i64::MAX,
            kind: "login".into(),
            channel: None,
            channel_type: ChannelType::Unknown,
            duration_seconds: None,
            event_id: None,
        };
        for event in [full, bare] {
            let mut bytes = Vec::new();
            event.encode(&mut bytes);
            assert_eq!(RawEvent::decode(&bytes).unwrap(), event);
            assert!(RawEvent::decode(&bytes[..bytes.len() - 1]).is_err(), "a cut record is an error");
        }
    }
}
