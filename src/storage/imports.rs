//! The import history: one row per file, committed with its data (or, for a
//! failed file, on its own, with the error).

use std::collections::BTreeMap;

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx, now};
use crate::domain::state::ImportStatus;
use crate::{on_db, on_tx};

/// What one import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub source: String,
    pub file_name: String,
    pub rows_read: u64,
    pub events_added: u64,
    pub duplicates_skipped: u64,
    pub people_created: u64,
    pub people_updated: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// Event kinds outside the activity model, with counts.
    pub unknown_kinds: BTreeMap<String, u64>,
    /// How the file was read and its people matched, beyond the counts.
    pub details: ImportDetails,
}

/// What an import says about how it read its file, stored as JSON beside
/// the counts. Defaults mean "nothing to say": UTF-8, header on line 1.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ImportDetails {
    /// The encoding the file was converted from, when not UTF-8 (e.g. `GBK`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// The line the header row was found on, when lines above it were
    /// skipped (a title row, PowerShell's `#TYPE` line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_line: Option<u64>,
    /// How ambiguous dates such as `5/1/2025` were read: `day-first` or
    /// `month-first`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_order: Option<String>,
    /// Facts of an earlier import of the same report and period that this
    /// file replaced with different values.
    #[serde(skip_serializing_if = "is_zero")]
    pub facts_replaced: u64,
    /// People found by their e-mail or an alias rather than their user id.
    #[serde(skip_serializing_if = "is_zero")]
    pub people_matched_by_alias: u64,
    /// People found to be one: a directory row linking ids that earlier
    /// files had stored as separate people, merged into the row's person.
    #[serde(skip_serializing_if = "is_zero")]
    pub people_merged: u64,
    /// Records of the file the import leaves out, by reason (a Slack
    /// export's reactions, which carry no time; system messages).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A row of the import history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub status: ImportStatus,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: i64,
    pub summary: ImportSummary,
}

/// Reserves an id for an import, inside its transaction.
/// Makes imports run one at a time on PostgreSQL (a transaction-scoped
/// advisory lock), so that de-duplication sees every row; SQLite's single
/// writer does this by itself.
pub async fn serialise(tx: &mut Tx) -> Result<()> {
    if tx.is_postgres() {
        on_tx!(tx, conn => sqlx::query("SELECT pg_advisory_xact_lock(727274)").execute(conn).await.map(drop))?;
    }
    Ok(())
}

/// The imports whose rows are not counted: still running, or being
/// removed after a failure.
pub const UNCOUNTED: &str = "SELECT id FROM imports WHERE status IN ('running', 'removing')";

/// A batched import (or the removal of a failed one) in progress: who runs
/// it and when it last gave a sign of life.
#[derive(Clone, Debug)]
pub struct InProgress {
    pub id: i64,
    pub owner: Option<String>,
    pub heartbeat_at: Option<i64>,
}

/// The batched imports and removals in progress, other than `own`. Call
/// inside a transaction that holds the import lock (after [`start`] on
/// SQLite, which takes the write lock; after [`serialise`] on PostgreSQL).
pub async fn in_progress(tx: &mut Tx, own: i64) -> Result<Vec<InProgress>> {
    let sql = "SELECT id, owner, heartbeat_at FROM imports \
               WHERE status IN ('running', 'removing') AND id <> $1 AND heartbeat_at IS NOT NULL";
    on_tx!(tx, conn => {
        sqlx::query(sql).bind(own).fetch_all(conn).await?.into_iter()
            .map(|r| Ok(InProgress { id: r.try_get("id")?, owner: r.try_get("owner")?, heartbeat_at: r.try_get("heartbeat_at")? }))
            .collect()
    })
}

/// Takes over the removal of imports whose process is gone: marked
/// `removing` with `error` (unless they have one), owned by `owner`.
pub async fn claim(tx: &mut Tx, ids: &[i64], owner: &str, error: &str, now: i64) -> Result<()> {
    let sql = "UPDATE imports SET status = 'removing', error = COALESCE(error, $2), owner = $3, heartbeat_at = $4 \
               WHERE id = $1";
    for id in ids {
        on_tx!(tx, conn => sqlx::query(sql).bind(id).bind(error).bind(owner).bind(now).execute(conn).await.map(drop)?);
    }
    Ok(())
}

/// Drops an import's row (one that never stored anything).
pub async fn forget(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, conn => sqlx::query("DELETE FROM imports WHERE id = $1").bind(id).execute(conn).await.map(drop)?);
    Ok(())
}

/// Marks a batched import alive now, run by `owner`. The heartbeat and the
/// owner are what tell a running import from an interrupted one.
pub async fn heartbeat(tx: &mut Tx, id: i64, owner: &str, now: i64) -> Result<()> {
    let sql = "UPDATE imports SET heartbeat_at = $2, owner = $3 WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(id).bind(now).bind(owner).execute(conn).await.map(drop)?);
    Ok(())
}

/// Keeps a removal's import alive (its owner stays).
async fn touch(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let sql = "UPDATE imports SET heartbeat_at = $2 WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(id).bind(now).execute(conn).await.map(drop)?);
    Ok(())
}

/// Ids of the imports whose rows are not counted ([`UNCOUNTED`]).
pub async fn uncounted(db: &Db) -> Result<Vec<i64>> {
    on_db!(db, pool => Ok(sqlx::query_scalar(UNCOUNTED).fetch_all(pool).await?))
}

/// Records that a batched import failed: its rows stay uncounted while they
/// are removed ([`remove_batch`]).
pub async fn mark_removing(db: &Db, id: i64, error: &str) -> Result<()> {
    let sql = "UPDATE imports SET status = 'removing', error = $2, heartbeat_at = $3 WHERE id = $1";
    on_db!(db, pool => sqlx::query(sql).bind(id).bind(error).bind(now()).execute(pool).await.map(drop)?);
    Ok(())
}

/// Removes up to about `limit` events of a failed import at or after
/// `from`, the earliest first, in one short transaction, and returns where
/// the next batch starts; once no event is left, removes the people it
/// created, marks it failed and returns None.
pub async fn remove_batch(db: &Db, id: i64, from: i64, limit: i64) -> Result<Option<i64>> {
    let mut tx = db.begin().await?;
    // Along the window index (which carries the import), earliest first;
    // rows sharing the last instant go with the batch.
    let last_sql =
        "SELECT MAX(ts) FROM (SELECT ts FROM events WHERE import_id = $1 AND ts >= $2 ORDER BY ts LIMIT $3) AS b";
    let last: Option<i64> =
        on_tx!(&mut tx, conn => sqlx::query_scalar(last_sql).bind(id).bind(from).bind(limit).fetch_one(conn).await?);
    match last {
        Some(last) => {
            let delete = "DELETE FROM events WHERE import_id = $1 AND ts >= $2 AND ts <= $3";
            on_tx!(&mut tx, conn => sqlx::query(delete).bind(id).bind(from).bind(last).execute(conn).await.map(drop)?);
            touch(&mut tx, id, now()).await?;
        }
        None => {
            for sql in [
                "DELETE FROM person_identifiers WHERE person_id IN (SELECT id FROM people WHERE pending_import = $1)",
                "DELETE FROM people WHERE pending_import = $1",
            ] {
                on_tx!(&mut tx, conn => sqlx::query(sql).bind(id).execute(conn).await.map(drop)?);
            }
            let failed = "UPDATE imports SET status = 'failed', finished_at = $2 WHERE id = $1";
            on_tx!(&mut tx, conn => sqlx::query(failed).bind(id).bind(now()).execute(conn).await.map(drop)?);
        }
    }
    tx.commit().await?;
    Ok(last.map(|l| l + 1))
}

/// Makes a batched import's people count (its events count once its row
/// says `done`), inside its last transaction.
pub async fn publish_people(tx: &mut Tx, id: i64) -> Result<()> {
    let sql = "UPDATE people SET pending_import = NULL WHERE pending_import = $1";
    on_tx!(tx, conn => sqlx::query(sql).bind(id).execute(conn).await.map(drop)?);
    Ok(())
}

/// Refreshes PostgreSQL's statistics of the events table after a big
/// import, so window reads stay on the index (SQLite: nothing to do).
pub async fn analyze_events(db: &Db) -> Result<()> {
    if let Db::Postgres(pool) = db {
        sqlx::query("ANALYZE events").execute(pool).await?;
    }
    Ok(())
}

/// Imports recorded, by status.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT status, COUNT(*) FROM imports GROUP BY status ORDER BY status";
    on_db!(db, pool => Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}

pub async fn start(tx: &mut Tx, source: &str, file_name: &str, started_at: i64) -> Result<i64> {
    let sql = "INSERT INTO imports (source, file_name, status, started_at, finished_at) VALUES ($1, $2, 'running', $3, $3) RETURNING id";
    let id: i64 = on_tx!(tx, conn => sqlx::query(sql).bind(source).bind(file_name).bind(started_at).fetch_one(conn).await?.try_get("id")?);
    Ok(id)
}

/// Records the outcome of a successful import, inside its transaction.
pub async fn finish(tx: &mut Tx, id: i64, s: &ImportSummary) -> Result<()> {
    let sql = "UPDATE imports SET status = 'done', finished_at = $2, rows_read = $3, events_added = $4, \
               duplicates_skipped = $5, people_created = $6, people_updated = $7, first_ts = $8, last_ts = $9, \
               unknown_kinds = $10, details = $11 WHERE id = $1";
    let unknown = serde_json::to_string(&s.unknown_kinds)?;
    let details = serde_json::to_string(&s.details)?;
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(id).bind(now()).bind(s.rows_read as i64).bind(s.events_added as i64)
        .bind(s.duplicates_skipped as i64).bind(s.people_created as i64).bind(s.people_updated as i64)
        .bind(s.first_ts).bind(s.last_ts).bind(unknown).bind(details)
        .execute(conn).await.map(drop)?);
    Ok(())
}

/// Records a failed import (its data was rolled back).
pub async fn record_failure(db: &Db, source: &str, file_name: &str, started_at: i64, error: &str) -> Result<()> {
    let sql = "INSERT INTO imports (source, file_name, status, error, started_at, finished_at) VALUES ($1, $2, 'failed', $3, $4, $5)";
    on_db!(db, pool => sqlx::query(sql).bind(source).bind(file_name).bind(error).bind(started_at).bind(now()).execute(pool).await.map(drop)?);
    Ok(())
}

/// The most recent imports, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<ImportRecord>> {
    let sql = "SELECT id, source, file_name, status, error, started_at, finished_at, rows_read, events_added, \
               duplicates_skipped, people_created, people_updated, first_ts, last_ts, unknown_kinds, details \
               FROM imports ORDER BY id DESC LIMIT $1";
    on_db!(db, pool => {
        sqlx::query(sql).bind(limit).fetch_all(pool).await?.into_iter().map(|r| {
            let unknown: String = r.try_get("unknown_kinds")?;
            let details: String = r.try_get("details")?;
            let id: i64 = r.try_get("id")?;
            Ok(ImportRecord {
                id,
                status: ImportStatus::parse(&r.try_get::<String, _>("status")?)?,
                error: r.try_get("error")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
                summary: ImportSummary {
                    source: r.try_get("source")?,
                    file_name: r.try_get("file_name")?,
                    rows_read: r.try_get::<i64, _>("rows_read")? as u64,
                    events_added: r.try_get::<i64, _>("events_added")? as u64,
                    duplicates_skipped: r.try_get::<i64, _>("duplicates_skipped")? as u64,
                    people_created: r.try_get::<i64, _>("people_created")? as u64,
                    people_updated: r.try_get::<i64, _>("people_updated")? as u64,
                    first_ts: r.try_get("first_ts")?,
                    last_ts: r.try_get("last_ts")?,
                    unknown_kinds: super::read_json(&unknown, || format!("the unknown kinds of import {id}"))?,
                    details: super::read_json(&details, || format!("the details of import {id}"))?,
                },
            })
        }).collect()
    })
}
