//! The import history: one row per file, committed with its data (or, for a
//! failed file, on its own, with the error).

use std::collections::BTreeMap;

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx, now};
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
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A row of the import history.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub status: String,
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
            Ok(ImportRecord {
                id: r.try_get("id")?,
                status: r.try_get("status")?,
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
                    unknown_kinds: serde_json::from_str(&unknown).unwrap_or_default(),
                    details: serde_json::from_str(&details).unwrap_or_default(),
                },
            })
        }).collect()
    })
}
