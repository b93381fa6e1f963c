//! Importing per-event vendor exports (Mattermost bulk export and audit
//! log, Zulip export, Microsoft 365 unified audit log) as events, each
//! recorded in the history under its own source name. A file is read through
//! the batched events import: all-or-nothing, idempotent (every event has the
//! source's own id), memory flat. Some are read twice (the Zulip archive, the
//! Mattermost audit log), so they are opened through an [`Opener`].

use std::io::{self, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::domain::settings::InflateLimits;
use crate::ingest::InputError;
use crate::ingest::events::RawEvent;
use crate::ingest::inflate::{Counted, InflateGuard};
use crate::ingest::source::open_limited;
use crate::ingest::vendor::{EventSource, SharedNotes, detect_event_source, m365_audit, mattermost, zulip};
use crate::ingest::zip_member;
use crate::storage::imports::{self, ImportDetails, ImportSummary};
use crate::storage::{Db, now};

use super::import::{self as pipeline, ImportError};

/// Opens the file afresh, as stored (gzip not undone).
pub type Opener = Arc<dyn Fn() -> io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// An [`Opener`] of a file on disk. A ZIP around one JSON-lines file (the
/// archive `mmctl export create` writes) opens as that file, inflated in
/// place within `limits`.
pub fn file_opener(path: std::path::PathBuf, limits: InflateLimits) -> Opener {
    Arc::new(move || {
        let Some(member) = zip_member::jsonl_member(&path)? else {
            return std::fs::File::open(&path).map(|f| Box::new(f) as Box<dyn Read + Send>);
        };
        let mut file = std::fs::File::open(&path)?;
        io::Seek::seek(&mut file, io::SeekFrom::Start(member.data_start))?;
        let raw = io::BufReader::with_capacity(256 * 1024, file.take(member.compressed_size));
        if !member.deflated {
            return Ok(Box::new(raw) as Box<dyn Read + Send>);
        }
        let (counted, compressed) = Counted::new(raw);
        Ok(Box::new(InflateGuard::new(flate2::read::DeflateDecoder::new(counted), compressed, limits)))
    })
}

/// How much of a file is read (decompressed) to recognise it.
const HEAD_BYTES: usize = 64 * 1024;

fn gunzip(raw: Box<dyn Read + Send>, limits: InflateLimits) -> io::Result<Box<dyn Read + Send>> {
    let mut buffered = io::BufReader::with_capacity(256 * 1024, raw);
    let head = io::BufRead::fill_buf(&mut buffered)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let (counted, compressed) = Counted::new(buffered);
        Ok(Box::new(InflateGuard::new(MultiGzDecoder::new(counted), compressed, limits)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// The first bytes of a file, gzip undone (as far as they inflate).
pub fn head(open: &Opener) -> io::Result<Vec<u8>> {
    let mut reader = gunzip(open()?, InflateLimits::default())?;
    let mut head = Vec::with_capacity(HEAD_BYTES);
    let mut chunk = [0u8; 8192];
    while head.len() < HEAD_BYTES {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            // A head cut inside gzip data still shows what the file is.
            Err(_) => break,
        }
    }
    Ok(head)
}

/// Which per-event export a file is, if any.
pub fn detect(name: &str, open: &Opener) -> Option<EventSource> {
    head(open).ok().and_then(|h| detect_event_source(name, &h))
}

type Events = Box<dyn Iterator<Item = Result<RawEvent, InputError>> + Send>;

/// Imports one per-event export of `source`. `progress` receives the
/// events stored so far after each batch.
pub async fn import_event_source(
    db: &Db,
    source: EventSource,
    name: &str,
    open: Opener,
    limits: InflateLimits,
    progress: Option<tokio::sync::mpsc::Sender<u64>>,
) -> Result<ImportSummary, ImportError> {
    let notes = SharedNotes::default();
    let started_at = now();
    let file = name.to_string();
    let reader_notes = notes.clone();
    let events = tokio::task::spawn_blocking(move || events(source, &file, open, limits, reader_notes))
        .await
        .map_err(|e| ImportError::storage(name, e.into()))
        .and_then(|r| r.map_err(ImportError::Input));
    let events = match events {
        Ok(events) => events,
        Err(e) => {
            let _ = imports::record_failure(db, source.as_str(), name, started_at, &e.to_string()).await;
            return Err(e);
        }
    };
    let details = move || {
        let notes = notes.lock().map(|n| n.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        ImportDetails {
            source_records: notes.records,
            records_skipped: notes.skipped,
            not_recorded: notes.not_recorded,
            ..Default::default()
        }
    };
    let source = pipeline::EventSource { name: source.as_str(), details: Box::new(details), read: None };
    pipeline::import_event_source(db, name, source, events, progress).await
}

/// The events of a file (a first pass, where the source needs one, runs here).
fn events(
    source: EventSource,
    name: &str,
    open: Opener,
    limits: InflateLimits,
    notes: SharedNotes,
) -> Result<Events, InputError> {
    let text = |open: &Opener| -> Result<_, InputError> {
        let raw = open().map_err(|e| InputError::new(name, 0, format!("cannot open: {e}")))?;
        let mut buffered = io::BufReader::new(raw);
        let head =
            io::BufRead::fill_buf(&mut buffered).map_err(|e| InputError::new(name, 1, format!("cannot read: {e}")))?;
        if head.starts_with(b"PK\x03\x04") {
            return Err(InputError::new(name, 1, zip_advice(source)));
        }
        open_limited(name, buffered, None, limits)
    };
    Ok(match source {
        EventSource::Mattermost => Box::new(mattermost::Export::new(text(&open)?, notes)),
        EventSource::MattermostAudit => {
            let names = mattermost::audit_names(text(&open)?)?;
            Box::new(mattermost::AuditLog::new(text(&open)?, names, notes))
        }
        EventSource::M365Audit => Box::new(m365_audit::AuditLog::new(text(&open)?, notes)?),
        EventSource::Zulip => {
            let reopen: zulip::Reopen = Box::new(move || open());
            let unpack: zulip::Unpack = Box::new(move |raw| gunzip(raw, limits));
            Box::new(zulip::Export::new(name, reopen, unpack, notes))
        }
    })
}

/// What a ZIP given for a text source is told.
fn zip_advice(source: EventSource) -> String {
    match source {
        EventSource::Mattermost => "this ZIP archive does not hold exactly one .jsonl file (the archive of \
             `mmctl export create` holds import.jsonl); import that archive, or the .jsonl file itself"
            .to_string(),
        other => {
            format!("this is a ZIP archive, not the {}; extract the file inside it and import that", other.label())
        }
    }
}
