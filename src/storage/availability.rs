//! Interviewers' availability: their zone, buffers and notice, recurring
//! weekly hours (in their own zone) and one-off windows.

use anyhow::Result;

use super::Db;
use crate::on_db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Profile {
    pub account_id: i64,
    pub timezone: String,
    pub buffer_minutes: i64,
    pub min_notice_minutes: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Weekly {
    pub id: i64,
    pub account_id: i64,
    pub weekday: i64,
    pub start_minute: i64,
    pub end_minute: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OneOff {
    pub id: i64,
    pub account_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn profile(db: &Db, account_id: i64) -> Result<Option<Profile>> {
    let sql = "SELECT account_id, timezone, buffer_minutes, min_notice_minutes FROM interviewer_profiles \
               WHERE account_id = $1";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(account_id).fetch_optional(pool).await?))
}

pub async fn save_profile(db: &Db, p: &Profile) -> Result<()> {
    let sql = "INSERT INTO interviewer_profiles (account_id, timezone, buffer_minutes, min_notice_minutes) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET timezone = excluded.timezone, \
               buffer_minutes = excluded.buffer_minutes, min_notice_minutes = excluded.min_notice_minutes";
    on_db!(db, pool => sqlx::query(sql).bind(p.account_id).bind(&p.timezone).bind(p.buffer_minutes)
        .bind(p.min_notice_minutes).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn weekly(db: &Db, account_id: i64) -> Result<Vec<Weekly>> {
    let sql = "SELECT id, account_id, weekday, start_minute, end_minute FROM availability_weekly \
               WHERE account_id = $1 ORDER BY weekday, start_minute";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?))
}

pub async fn add_weekly(db: &Db, account_id: i64, weekday: i64, start_minute: i64, end_minute: i64) -> Result<()> {
    let sql = "INSERT INTO availability_weekly (account_id, weekday, start_minute, end_minute) VALUES ($1, $2, $3, $4)";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(weekday).bind(start_minute).bind(end_minute)
        .execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn one_off(db: &Db, account_id: i64) -> Result<Vec<OneOff>> {
    let sql = "SELECT id, account_id, starts_at, ends_at FROM availability_one_off WHERE account_id = $1 \
               ORDER BY starts_at";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(account_id).fetch_all(pool).await?))
}

pub async fn add_one_off(db: &Db, account_id: i64, starts_at: i64, ends_at: i64) -> Result<()> {
    let sql = "INSERT INTO availability_one_off (account_id, starts_at, ends_at) VALUES ($1, $2, $3)";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(starts_at).bind(ends_at).execute(pool).await.map(drop)?);
    Ok(())
}

/// Deletes one of the account's weekly or one-off entries (never another's).
pub async fn delete(db: &Db, account_id: i64, weekly: bool, id: i64) -> Result<bool> {
    let sql = if weekly {
        "DELETE FROM availability_weekly WHERE id = $1 AND account_id = $2"
    } else {
        "DELETE FROM availability_one_off WHERE id = $1 AND account_id = $2"
    };
    on_db!(db, pool => Ok(sqlx::query(sql).bind(id).bind(account_id).execute(pool).await?.rows_affected() == 1))
}
