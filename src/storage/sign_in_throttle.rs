//! The sign-in throttle's counters, shared by every instance: one row per
//! key, incremented in one statement (`INSERT ... ON CONFLICT DO UPDATE ...
//! RETURNING`) so that concurrent attempts each see their own number.

use anyhow::Result;
use sqlx::Row;

use super::Db;
use crate::on_db;

/// Counts one attempt against `key`: a new window starts when the current
/// one began before `window_start_after`. Returns the attempts in the
/// window, this one included, and the key's `not_before`.
pub async fn count(db: &Db, key: &str, now: i64, window_start_after: i64) -> Result<(i64, i64)> {
    let sql = "INSERT INTO sign_in_throttle (key, attempts, window_start, not_before) VALUES ($1, 1, $2, 0) \
               ON CONFLICT (key) DO UPDATE SET \
                 attempts = CASE WHEN sign_in_throttle.window_start < $3 THEN 1 ELSE sign_in_throttle.attempts + 1 END, \
                 not_before = CASE WHEN sign_in_throttle.window_start < $3 THEN 0 ELSE sign_in_throttle.not_before END, \
                 window_start = CASE WHEN sign_in_throttle.window_start < $3 THEN $2 ELSE sign_in_throttle.window_start END \
               RETURNING attempts, not_before";
    on_db!(db, pool => {
        let r = sqlx::query(sql).bind(key).bind(now).bind(window_start_after).fetch_one(pool).await?;
        Ok((r.try_get("attempts")?, r.try_get("not_before")?))
    })
}

/// Gives one counted attempt back (it succeeded, so it uses up nothing).
pub async fn uncount(db: &Db, key: &str) -> Result<()> {
    let sql = "UPDATE sign_in_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0";
    on_db!(db, pool => sqlx::query(sql).bind(key).execute(pool).await.map(drop)?);
    Ok(())
}

/// When the key may next be tried (0: now); none is counted.
pub async fn not_before(db: &Db, key: &str, window_start_after: i64) -> Result<i64> {
    let sql = "SELECT not_before FROM sign_in_throttle WHERE key = $1 AND window_start >= $2";
    on_db!(db, pool => {
        let r = sqlx::query(sql).bind(key).bind(window_start_after).fetch_optional(pool).await?;
        Ok(match r { Some(r) => r.try_get("not_before")?, None => 0 })
    })
}

pub async fn set_not_before(db: &Db, key: &str, at: i64) -> Result<()> {
    let sql = "UPDATE sign_in_throttle SET not_before = $2 WHERE key = $1";
    on_db!(db, pool => sqlx::query(sql).bind(key).bind(at).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn clear(db: &Db, key: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1").bind(key).execute(pool).await.map(drop)?);
    Ok(())
}

/// Forgets windows that began before `before` (they no longer count).
pub async fn prune(db: &Db, before: i64) -> Result<()> {
    let sql = "DELETE FROM sign_in_throttle WHERE window_start < $1 AND not_before < $1";
    on_db!(db, pool => sqlx::query(sql).bind(before).execute(pool).await.map(drop)?);
    Ok(())
}
