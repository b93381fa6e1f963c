//! Deleting raw events older than the retention horizon, in batches.
//! Facts, people (with `first_event_ts`), imports and history are kept;
//! which people each import held is kept in `retained_presence`.

use anyhow::Result;

use super::Db;
use crate::on_tx;

/// Events of imports still running or being removed are left alone: they
/// are not counted yet, and a failed import removes its own.
const COUNTED: &str = "import_id NOT IN (SELECT id FROM imports WHERE status IN ('running', 'removing'))";

/// Whether any counted event is older than `before`.
pub async fn any_before(db: &Db, before: i64) -> Result<bool> {
    let sql = format!("SELECT 1 AS one FROM events WHERE ts < $1 AND {COUNTED} LIMIT 1");
    let found: Option<i32> = crate::on_db!(db, pool =>
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())).bind(before).fetch_optional(pool).await?);
    Ok(found.is_some())
}

/// Deletes about `limit` of the oldest counted events before `before` (rows
/// sharing the last instant go with the batch) in one short transaction,
/// after noting which people each import held; returns how many were
/// deleted (0: none is left).
pub async fn delete_batch(db: &Db, before: i64, limit: i64) -> Result<u64> {
    let mut tx = db.begin().await?;
    // Along the window index (time first), earliest first.
    let last_sql =
        format!("SELECT MAX(ts) FROM (SELECT ts FROM events WHERE ts < $1 AND {COUNTED} ORDER BY ts LIMIT $2) AS b");
    let last: Option<i64> = on_tx!(&mut tx, conn =>
        sqlx::query_scalar(sqlx::AssertSqlSafe(last_sql.as_str())).bind(before).bind(limit).fetch_one(conn).await?);
    let Some(last) = last else {
        tx.rollback().await?;
        return Ok(0);
    };
    let keep = format!(
        "INSERT INTO retained_presence (import_id, person_id) \
         SELECT DISTINCT import_id, person_id FROM events WHERE ts <= $1 AND {COUNTED} \
         ON CONFLICT (import_id, person_id) DO NOTHING"
    );
    let delete = format!("DELETE FROM events WHERE ts <= $1 AND {COUNTED}");
    let n = on_tx!(&mut tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(keep.as_str())).bind(last).execute(&mut *conn).await?;
        sqlx::query(sqlx::AssertSqlSafe(delete.as_str())).bind(last).execute(&mut *conn).await?.rows_affected()
    });
    tx.commit().await?;
    Ok(n)
}

/// Claims the periodic run for one instance: true when no instance
/// claimed it since `not_after` (then the claim is `now`). Several `serve`
/// instances with the worker thus run it once per period between them.
pub async fn claim(db: &Db, now: i64, not_after: i64) -> Result<bool> {
    let sql = "INSERT INTO settings (key, value) VALUES ('_retention.claimed_at', $1) ON CONFLICT (key) \
               DO UPDATE SET value = excluded.value WHERE CAST(settings.value AS BIGINT) <= $2";
    let n = crate::on_db!(db, pool =>
        sqlx::query(sql).bind(now.to_string()).bind(not_after).execute(pool).await?.rows_affected());
    Ok(n > 0)
}
