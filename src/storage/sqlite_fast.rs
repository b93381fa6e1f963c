//! The one read that must be fast on SQLite: every event of a window (a
//! million rows or more). Through sqlx each row crosses a channel from the
//! connection's worker thread, about 2 µs a row; stepping the statement
//! directly on the connection's handle is ten times faster.

use std::collections::{HashMap, HashSet};
use std::ffi::CStr;
use std::ptr::{NonNull, null_mut};

use anyhow::{Result, bail};
use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;

use super::events::event;
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
        let mut raw: *mut ffi::sqlite3_stmt = null_mut();
        // SAFETY: `db` is the locked connection's handle, valid for the
        // lifetime of `handle`; the SQL is a NUL-terminated constant.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, WINDOW_SQL.as_ptr(), -1, &mut raw, null_mut()) };
        let Some(stmt) = NonNull::new(raw).filter(|_| rc == ffi::SQLITE_OK) else {
            bail!("preparing the window read: {}", error_message(db));
        };
        let stmt = Statement(stmt);
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
