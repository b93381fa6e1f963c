//! Importing Slack's per-event files: the workspace export (a ZIP) and the
//! audit log, through the one events pipeline ([`import_event_source`]):
//! all-or-nothing per file, duplicates skipped, people matched by e-mail
//! or Slack id.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::import::{EventSource, ImportError, ReadNotes, import_event_source};
use crate::ingest::InputError;
use crate::ingest::events::RawEvent;
use crate::ingest::source::Input;
use crate::ingest::vendor::slack_audit::{self, SlackAudit};
use crate::ingest::vendor::slack_export::{self, SlackExport};
use crate::storage::imports::{self, ImportDetails, ImportSummary};
use crate::storage::{Db, now};

/// A Slack file recognised by its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlackFile {
    /// The workspace export ZIP.
    Export,
    /// Audit Logs API entries.
    AuditLog,
}

/// What a file on disk is, from its first bytes: a ZIP is taken for a
/// workspace export (its contents are checked on import) unless it wraps
/// one JSON-lines file (a Mattermost export); Audit Logs API
/// entries (maybe gzipped) for an audit log. `None`: neither.
pub fn recognise(path: &Path) -> Option<SlackFile> {
    use std::io::Read;
    let mut head = Vec::with_capacity(64 * 1024);
    let file = std::fs::File::open(path).ok()?;
    file.take(64 * 1024).read_to_end(&mut head).ok()?;
    if slack_export::is_zip(&head) {
        // A ZIP around one JSON-lines file is a Mattermost export, not Slack's.
        let wrapped = crate::ingest::zip_member::jsonl_member(path).ok().flatten();
        return wrapped.is_none().then_some(SlackFile::Export);
    }
    let text = if head.starts_with(&[0x1f, 0x8b]) {
        let mut inflated = Vec::new();
        let _ = flate2::read::MultiGzDecoder::new(&head[..]).take(64 * 1024).read_to_end(&mut inflated);
        inflated
    } else {
        head
    };
    slack_audit::looks_like(&text).then_some(SlackFile::AuditLog)
}

/// A reader that hands what it learnt to `notes` once it ends.
struct Noting<I, F> {
    inner: I,
    take: F,
    notes: Arc<Mutex<ReadNotes>>,
}

impl<I, F> Iterator for Noting<I, F>
where
    I: Iterator<Item = Result<RawEvent, InputError>>,
    F: Fn(&I) -> ReadNotes,
{
    type Item = Result<RawEvent, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.inner.next();
        if next.is_none() {
            let read = (self.take)(&self.inner);
            *self.notes.lock().unwrap_or_else(|p| p.into_inner()) = read;
        }
        next
    }
}

async fn failed(db: &Db, source: &str, file: &str, e: InputError) -> Result<ImportSummary, ImportError> {
    let _ = imports::record_failure(db, source, file, now(), &e.to_string()).await;
    Err(e.into())
}

/// `details` with the records the reader skipped, once the file was read.
fn skipped_from(notes: &Arc<Mutex<ReadNotes>>, details: ImportDetails) -> Box<dyn FnOnce() -> ImportDetails + Send> {
    let notes = notes.clone();
    Box::new(move || {
        let read =
            notes.lock().map(|n| n.records_skipped.clone()).unwrap_or_else(|p| p.into_inner().records_skipped.clone());
        ImportDetails { records_skipped: read, ..details }
    })
}

/// Imports a Slack workspace export ZIP at `path`, named `file` in messages
/// and the history.
pub async fn import_slack_export(
    db: &Db,
    file: &str,
    path: &Path,
    progress: Option<tokio::sync::mpsc::Sender<u64>>,
) -> Result<ImportSummary, ImportError> {
    let export = match slack_export::open_file(file, path) {
        Ok(export) => export,
        Err(e) => return failed(db, slack_export::SOURCE, file, e).await,
    };
    let notes = Arc::new(Mutex::new(ReadNotes::default()));
    let records = Noting {
        inner: export,
        take: |e: &SlackExport<_>| {
            let n = e.notes();
            ReadNotes {
                records_skipped: n.left_out.clone(),
                people: n.people.iter().map(|p| (p.key.clone(), vec![p.slack_id.clone()])).collect(),
            }
        },
        notes: notes.clone(),
    };
    let source = EventSource {
        name: slack_export::SOURCE,
        details: skipped_from(&notes, ImportDetails::default()),
        read: Some(notes),
    };
    import_event_source(db, file, source, records, progress).await
}

/// Imports a Slack audit log (NDJSON, a JSON array, or Audit Logs API
/// responses; maybe gzipped).
pub async fn import_slack_audit(db: &Db, input: Input) -> Result<ImportSummary, ImportError> {
    let file = input.name.clone();
    let encoding = input.encoding_name();
    let audit = match SlackAudit::new(input) {
        Ok(audit) => audit,
        Err(e) => return failed(db, slack_audit::SOURCE, &file, e).await,
    };
    let notes = Arc::new(Mutex::new(ReadNotes::default()));
    let records = Noting {
        inner: audit,
        take: |a: &SlackAudit| ReadNotes {
            records_skipped: a.left_out().clone(),
            people: a.people().iter().map(|(email, id)| (email.clone(), vec![id.clone()])).collect(),
        },
        notes: notes.clone(),
    };
    let details = ImportDetails { encoding, ..Default::default() };
    let source = EventSource { name: slack_audit::SOURCE, details: skipped_from(&notes, details), read: Some(notes) };
    import_event_source(db, &file, source, records, None).await
}
