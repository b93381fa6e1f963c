//! The outbox: e-mail committed in the same transaction as the change that
//! caused it, then claimed and sent by a worker. Claims are leases: a row in
//! `sending` whose lease ran out (its worker died) is claimed again.
//! PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so several instances
//! drain one outbox without taking the same row; SQLite has one writer, so
//! the claiming UPDATE is enough there.

use anyhow::Result;

use super::{Db, Tx};
use crate::domain::state::OutboxState;
use crate::{on_db, on_tx};

/// What to send, as queued.
#[derive(Clone, Debug, Default)]
pub struct NewMessage {
    pub kind: String,
    pub study_id: Option<i64>,
    pub invitation_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub booking_sequence: Option<i64>,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub ics: Option<String>,
    pub ics_method: Option<String>,
    pub message_id: String,
    pub not_before: i64,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub kind: String,
    pub study_id: Option<i64>,
    pub invitation_id: Option<i64>,
    pub booking_id: Option<i64>,
    pub booking_sequence: Option<i64>,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub ics: Option<String>,
    pub ics_method: Option<String>,
    pub message_id: String,
    #[sqlx(try_from = "String")]
    pub state: OutboxState,
    pub not_before: i64,
    pub expires_at: Option<i64>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// How a sent message left: "smtp" or "folder" (written, not sent).
    pub delivery: Option<String>,
}

const COLUMNS: &str = "id, kind, study_id, invitation_id, booking_id, booking_sequence, to_addr, subject, body, ics, \
    ics_method, message_id, state, not_before, expires_at, attempts, next_attempt_at, last_error, created_at, \
    finished_at, delivery";

pub async fn enqueue(tx: &mut Tx, m: &NewMessage, now: i64) -> Result<i64> {
    let sql = "INSERT INTO outbox (kind, study_id, invitation_id, booking_id, booking_sequence, to_addr, subject, body, \
               ics, ics_method, message_id, state, not_before, expires_at, next_attempt_at, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13, $12, $14) RETURNING id";
    on_tx!(tx, c => Ok(sqlx::query_scalar(sql)
        .bind(&m.kind).bind(m.study_id).bind(m.invitation_id).bind(m.booking_id).bind(m.booking_sequence)
        .bind(&m.to_addr).bind(&m.subject).bind(&m.body).bind(&m.ics).bind(&m.ics_method).bind(&m.message_id)
        .bind(m.not_before).bind(m.expires_at).bind(now)
        .fetch_one(&mut *c).await?))
}

/// Claims up to `limit` due messages for `worker` until `lease_until`.
pub async fn claim(db: &Db, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Message>> {
    let due = "(state = 'pending' AND next_attempt_at <= $3) OR (state = 'sending' AND lease_until < $3)";
    let sql = match db {
        Db::Postgres(_) => format!(
            "UPDATE outbox SET state = 'sending', claimed_by = $1, lease_until = $2 WHERE id IN \
             (SELECT id FROM outbox WHERE {due} ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}"
        ),
        Db::Sqlite(_) => format!(
            "UPDATE outbox SET state = 'sending', claimed_by = $1, lease_until = $2 WHERE id IN \
             (SELECT id FROM outbox WHERE {due} ORDER BY next_attempt_at, id LIMIT $4) RETURNING {COLUMNS}"
        ),
    };
    on_db!(db, pool => {
        let mut rows: Vec<Message> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(worker).bind(lease_until).bind(now).bind(limit).fetch_all(pool).await?;
        rows.sort_by_key(|m| (m.next_attempt_at, m.id));
        Ok(rows)
    })
}

/// Records one delivery attempt.
pub async fn record_attempt(db: &Db, id: i64, worker: &str, ok: bool, error: Option<&str>, now: i64) -> Result<()> {
    let sql = "INSERT INTO outbox_attempts (outbox_id, at, worker, ok, error) VALUES ($1, $2, $3, $4, $5)";
    on_db!(db, pool => sqlx::query(sql).bind(id).bind(now).bind(worker).bind(i64::from(ok)).bind(error)
        .execute(pool).await.map(drop)?);
    Ok(())
}

/// Finishes a claimed message: `sent`, `failed` or `dropped` (with why).
/// Only the worker holding the claim can; false when it lost it.
pub async fn finish(db: &Db, id: i64, worker: &str, state: OutboxState, error: Option<&str>, now: i64) -> Result<bool> {
    finish_as(db, id, worker, state, error, None, now).await
}

/// A sent message, with how it left ("smtp" or "folder").
pub async fn finish_sent(db: &Db, id: i64, worker: &str, delivery: &str, now: i64) -> Result<bool> {
    finish_as(db, id, worker, OutboxState::Sent, None, Some(delivery), now).await
}

async fn finish_as(
    db: &Db,
    id: i64,
    worker: &str,
    state: OutboxState,
    error: Option<&str>,
    delivery: Option<&str>,
    now: i64,
) -> Result<bool> {
    OutboxState::Sending.become_(state)?;
    anyhow::ensure!(state.is_final(), "a claimed message cannot be finished as `{state}`");
    let sql = "UPDATE outbox SET state = $1, last_error = COALESCE($2, last_error), finished_at = $3, \
               attempts = attempts + $4, lease_until = NULL, delivery = $7 \
               WHERE id = $5 AND claimed_by = $6 AND state = 'sending'";
    let attempted = i64::from(state.counts_an_attempt());
    on_db!(db, pool => Ok(sqlx::query(sql).bind(state.as_str()).bind(error).bind(now).bind(attempted).bind(id).bind(worker)
        .bind(delivery).execute(pool).await?.rows_affected() == 1))
}

/// Puts a claimed message back for another attempt at `next_at`.
pub async fn retry_later(db: &Db, id: i64, worker: &str, next_at: i64, error: &str) -> Result<bool> {
    let sql = "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_attempt_at = $1, last_error = $2, \
               lease_until = NULL, claimed_by = NULL WHERE id = $3 AND claimed_by = $4 AND state = 'sending'";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(next_at).bind(error).bind(id).bind(worker)
        .execute(pool).await?.rows_affected() == 1))
}

/// Drops the pending messages of a booking (its reminders, when the
/// booking moved or was cancelled) and says why.
pub async fn drop_for_booking(tx: &mut Tx, booking_id: i64, kind: &str, why: &str, now: i64) -> Result<u64> {
    let sql = "UPDATE outbox SET state = 'dropped', last_error = $1, finished_at = $2 \
               WHERE booking_id = $3 AND kind = $4 AND state = 'pending'";
    on_tx!(tx, c => Ok(sqlx::query(sql).bind(why).bind(now).bind(booking_id).bind(kind)
        .execute(&mut *c).await?.rows_affected()))
}

pub async fn for_study(db: &Db, study_id: i64) -> Result<Vec<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE study_id = $1 ORDER BY id DESC LIMIT 500");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?))
}

pub async fn all(db: &Db) -> Result<Vec<Message>> {
    let sql = format!("SELECT {COLUMNS} FROM outbox ORDER BY id");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?))
}

/// Messages by state, for the outbox's depth and failures.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state";
    on_db!(db, pool => Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}

/// The attempts of one message, oldest first: (at, worker, ok, error).
pub async fn attempts(db: &Db, id: i64) -> Result<Vec<(i64, String, i64, Option<String>)>> {
    let sql = "SELECT at, worker, ok, error FROM outbox_attempts WHERE outbox_id = $1 ORDER BY id";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(id).fetch_all(pool).await?))
}

/// Finished messages whose body may still hold a link token in plain text
/// (queued before tokens became placeholders): (id, body).
pub async fn finished_with_links(db: &Db) -> Result<Vec<(i64, String)>> {
    let sql = "SELECT id, body FROM outbox WHERE state <> 'pending' \
               AND (body LIKE '%/i/%' OR body LIKE '%/o/%' OR body LIKE '%/s/%') ORDER BY id";
    on_db!(db, pool => Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}

pub async fn set_body(db: &Db, id: i64, body: &str) -> Result<()> {
    let sql = "UPDATE outbox SET body = $1 WHERE id = $2";
    on_db!(db, pool => sqlx::query(sql).bind(body).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}
