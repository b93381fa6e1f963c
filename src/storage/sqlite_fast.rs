//! What must be fast on SQLite: reading every event of a window (a million
//! rows or more), and storing an import's events. Through sqlx each row
//! crosses a channel from the connection's worker thread, about 2 µs a row;
//! stepping a prepared statement directly on the connection's handle is
//! ten times faster.

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::ptr::{NonNull, null_mut};

use anyhow::{Result, bail};
use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;

use super::events::{NewEvent, event};
use crate::domain::dataset::Event;

const WINDOW_SQL: &CStr =
    c"SELECT person_id, ts, kind_id, channel_id, channel_type, import_id FROM events WHERE ts >= ?1 AND ts < ?2";

/// Finalizes the statement however the read ends.
struct Statement(NonNull<ffi::sqlite3_stmt>);

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared by sqlite3_prepare_v2 and is
        // finalized exactly once, here.
        unsafe {
            ffi::sqlite3_finalize(self.0.as_ptr());
        }
    }
}

fn error_message(db: *mut ffi::sqlite3) -> String {
    // SAFETY: `db` is a live connection handle; sqlite3_errmsg returns a
    // NUL-terminated string owned by SQLite, copied out at once.
    unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)).to_string_lossy().into_owned() }
}

/// Whether an event is stored already by the identity rule of
/// `event_insert::insert_batch`: the same person, time, kind and channel where
/// either has no event id.
const STORED_SQL: &CStr = c"SELECT 1 FROM events e WHERE e.ts = ?2 AND e.person_id = ?1 AND e.kind_id = ?3 \
    AND e.channel_id = ?4 AND (?5 IS NULL OR e.event_id IS NULL) LIMIT 1";

/// One event, unless its event id is stored (the unique index turns it
/// away). A single-row insert, so that SQLite keeps no statement journal:
/// an `INSERT ... SELECT ... WHERE NOT EXISTS` a row copied every page it
/// touched, a third of the import.
const INSERT_SQL: &CStr = c"INSERT INTO events \
    (person_id, ts, kind_id, channel_id, channel_type, duration_seconds, event_id, import_id) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING";

/// Prepares `sql` on `db`.
fn prepare(db: *mut ffi::sqlite3, sql: &CStr, what: &str) -> Result<Statement> {
    let mut raw: *mut ffi::sqlite3_stmt = null_mut();
    // SAFETY: `db` is a locked connection's live handle; `sql` is
    // NUL-terminated.
    let rc = unsafe { ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut raw, null_mut()) };
    match NonNull::new(raw).filter(|_| rc == ffi::SQLITE_OK) {
        Some(stmt) => Ok(Statement(stmt)),
        None => bail!("preparing {what}: {}", error_message(db)),
    }
}

/// Stores `batch` (free of duplicates among itself) with one prepared
/// statement stepped per row, inside the caller's transaction. Returns how
/// many rows were added.
pub async fn insert_events(conn: &mut SqliteConnection, import_id: i64, batch: &[NewEvent]) -> Result<u64> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let write = || -> Result<u64> {
        let stored = prepare(db, STORED_SQL, "the events check")?;
        let insert = prepare(db, INSERT_SQL, "the events insert")?;
        let (q, s) = (stored.0.as_ptr(), insert.0.as_ptr());
        let mut added = 0u64;
        for e in batch {
            // SAFETY: `q` and `s` are prepared statements with five and
            // eight parameters, used only on this thread while the connection
            // is locked. The event id is bound without a copy
            // (SQLITE_STATIC): it outlives the steps, and each statement is
            // reset before the next row binds.
            unsafe {
                let id_len = e.event_id.as_ref().map(|id| i32::try_from(id.len())).transpose()?;
                let bind_id = |stmt: *mut ffi::sqlite3_stmt, at: i32| match (&e.event_id, id_len) {
                    (Some(id), Some(n)) => {
                        ffi::sqlite3_bind_text(stmt, at, id.as_ptr().cast(), n, ffi::SQLITE_STATIC())
                    }
                    _ => ffi::sqlite3_bind_null(stmt, at),
                };
                ffi::sqlite3_bind_int64(q, 1, e.person_id);
                ffi::sqlite3_bind_int64(q, 2, e.ts);
                ffi::sqlite3_bind_int64(q, 3, e.kind_id);
                ffi::sqlite3_bind_int64(q, 4, e.channel_id);
                bind_id(q, 5);
                let found = ffi::sqlite3_step(q);
                ffi::sqlite3_reset(q);
                match found {
                    ffi::SQLITE_ROW => continue,
                    ffi::SQLITE_DONE => {}
                    _ => bail!("storing events: {}", error_message(db)),
                }
                ffi::sqlite3_bind_int64(s, 1, e.person_id);
                ffi::sqlite3_bind_int64(s, 2, e.ts);
                ffi::sqlite3_bind_int64(s, 3, e.kind_id);
                ffi::sqlite3_bind_int64(s, 4, e.channel_id);
                ffi::sqlite3_bind_int64(s, 5, e.channel_type);
                match e.duration_seconds {
                    Some(d) => ffi::sqlite3_bind_int64(s, 6, d),
                    None => ffi::sqlite3_bind_null(s, 6),
                };
                bind_id(s, 7);
                ffi::sqlite3_bind_int64(s, 8, import_id);
                let rc = ffi::sqlite3_step(s);
                if rc != ffi::SQLITE_DONE {
                    let message = error_message(db);
                    ffi::sqlite3_reset(s);
                    bail!("storing events: {message}");
                }
                added += ffi::sqlite3_changes64(db) as u64;
                ffi::sqlite3_reset(s);
            }
        }
        Ok(added)
    };
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(write),
        _ => write(),
    }
}

/// Reads the events with `from <= ts < to` whose person is in `index`,
/// leaving out those of the imports in `running` (not finished yet).
pub async fn window_events(
    conn: &mut SqliteConnection,
    from: i64,
    to: i64,
    index: &HashMap<i64, u32>,
    running: &HashSet<i64>,
) -> Result<Vec<Event>> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let read = || -> Result<Vec<Event>> {
        let stmt = prepare(db, WINDOW_SQL, "the window read")?;
        let s = stmt.0.as_ptr();
        let mut events = Vec::new();
        // SAFETY: `s` is a prepared statement with two parameters and six
        // integer columns; it is only used on this thread while the
        // connection is locked, and finalized by `stmt`'s drop.
        unsafe {
            ffi::sqlite3_bind_int64(s, 1, from);
            ffi::sqlite3_bind_int64(s, 2, to);
            loop {
                match ffi::sqlite3_step(s) {
                    ffi::SQLITE_ROW => {
                        let person = ffi::sqlite3_column_int64(s, 0);
                        let counted = running.is_empty() || !running.contains(&ffi::sqlite3_column_int64(s, 5));
                        if let Some(&person) = index.get(&person).filter(|_| counted) {
                            events.push(event(
                                person,
                                ffi::sqlite3_column_int64(s, 1),
                                ffi::sqlite3_column_int64(s, 2),
                                ffi::sqlite3_column_int64(s, 3),
                                ffi::sqlite3_column_int64(s, 4),
                            ));
                        }
                    }
                    ffi::SQLITE_DONE => break,
                    _ => bail!("reading events: {}", error_message(db)),
                }
            }
        }
        Ok(events)
    };
    // The read blocks for a moment; on a multi-threaded runtime let the
    // other tasks move to another worker meanwhile.
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
        _ => read(),
    }
}
