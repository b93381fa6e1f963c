//! Interviewers' own calendars: where each is read from (address and
//! password sealed by the caller), and the busy times last read from it.

use anyhow::Result;

use super::{Db, Tx};
use crate::{on_db, on_tx};

/// One interviewer's connected calendar.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Connection {
    pub account_id: i64,
    /// `ics` (a published feed) or `caldav`.
    pub kind: String,
    pub url_sealed: String,
    /// The address's scheme and host, to show.
    pub url_shown: String,
    pub username: String,
    pub password_sealed: String,
    /// JSON `[[start, end], ...]` in Unix seconds.
    pub busy: String,
    pub refreshed_at: Option<i64>,
    pub attempted_at: Option<i64>,
    pub last_error: Option<String>,
}

/// What `connect` stores.
pub struct NewConnection<'a> {
    pub kind: &'a str,
    pub url_sealed: &'a str,
    pub url_shown: &'a str,
    pub username: &'a str,
    pub password_sealed: &'a str,
}

/// Connects the account's calendar, replacing any earlier one (and the busy
/// times read from it).
pub async fn connect(db: &Db, account_id: i64, c: &NewConnection<'_>, now: i64) -> Result<()> {
    let sql = "INSERT INTO interviewer_calendars \
               (account_id, kind, url_sealed, url_shown, username, password_sealed, busy, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, '[]', $7) \
               ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, url_sealed = excluded.url_sealed, \
               url_shown = excluded.url_shown, username = excluded.username, \
               password_sealed = excluded.password_sealed, busy = '[]', refreshed_at = NULL, \
               attempted_at = NULL, last_error = NULL, created_at = excluded.created_at";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(c.kind).bind(c.url_sealed).bind(c.url_shown)
        .bind(c.username).bind(c.password_sealed).bind(now).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn remove(db: &Db, account_id: i64) -> Result<bool> {
    let sql = "DELETE FROM interviewer_calendars WHERE account_id = $1";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(account_id).execute(pool).await?.rows_affected() == 1))
}

pub async fn get(db: &Db, account_id: i64) -> Result<Option<Connection>> {
    let sql = "SELECT account_id, kind, url_sealed, url_shown, username, password_sealed, busy, refreshed_at, \
               attempted_at, last_error FROM interviewer_calendars WHERE account_id = $1";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(account_id).fetch_optional(pool).await?))
}

/// Every connected calendar's account.
pub async fn accounts(db: &Db) -> Result<Vec<i64>> {
    let sql = "SELECT account_id FROM interviewer_calendars ORDER BY account_id";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).fetch_all(pool).await?))
}

/// Records a successful read: its busy times (JSON).
pub async fn record_busy(db: &Db, account_id: i64, busy: &str, now: i64) -> Result<()> {
    let sql = "UPDATE interviewer_calendars SET busy = $2, refreshed_at = $3, attempted_at = $3, last_error = NULL \
               WHERE account_id = $1";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(busy).bind(now).execute(pool).await.map(drop)?);
    Ok(())
}

/// Records a failed read; the busy times of the last good one stay.
pub async fn record_error(db: &Db, account_id: i64, error: &str, now: i64) -> Result<()> {
    let sql = "UPDATE interviewer_calendars SET attempted_at = $2, last_error = $3 WHERE account_id = $1";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(now).bind(error).execute(pool).await.map(drop)?);
    Ok(())
}

/// The busy times last read (JSON), inside a booking's transaction.
pub async fn busy_in(tx: &mut Tx, account_id: i64) -> Result<Option<String>> {
    let sql = "SELECT busy FROM interviewer_calendars WHERE account_id = $1";
    on_tx!(tx, c => Ok(sqlx::query_scalar(sql).bind(account_id).fetch_optional(&mut *c).await?))
}
