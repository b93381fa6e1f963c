//! Bookings: a participant's reserved slot with an interviewer. Never
//! deleted: rescheduled (same row, same calendar UID, SEQUENCE + 1) or
//! cancelled, with every change kept in `booking_changes`.

use anyhow::Result;

use super::{Db, Tx};
use crate::domain::state::{BookingStatus, State};
use crate::{on_db, on_tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Booking {
    pub id: i64,
    pub invitation_id: i64,
    pub interviewer_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    #[sqlx(try_from = "String")]
    pub status: BookingStatus,
    pub uid: String,
    pub sequence: i64,
    pub participant_timezone: String,
    pub created_at: i64,
    pub cancelled_by: Option<String>,
}

impl Booking {
    pub fn is_active(&self) -> bool {
        self.status.is_active()
    }
}

const COLUMNS: &str = "id, invitation_id, interviewer_id, starts_at, ends_at, status, uid, sequence, \
    participant_timezone, created_at, cancelled_by";

/// Takes the interviewer's booking lock for the rest of the transaction: a
/// write to their profile row, which PostgreSQL row-locks and SQLite turns
/// into the database's write lock. The overlap check that follows then sees
/// every committed booking and no other booking can start meanwhile.
pub async fn lock_interviewer(tx: &mut Tx, account_id: i64) -> Result<bool> {
    let sql = "UPDATE interviewer_profiles SET booking_lock = booking_lock + 1 WHERE account_id = $1";
    on_tx!(tx, c => Ok(sqlx::query(sql).bind(account_id).execute(&mut *c).await?.rows_affected() == 1))
}

/// The interviewer's active bookings overlapping [from, until), as
/// (start, end), excluding one booking (the one being moved).
pub async fn busy(tx: &mut Tx, account_id: i64, from: i64, until: i64, except: Option<i64>) -> Result<Vec<(i64, i64)>> {
    let sql = "SELECT starts_at, ends_at FROM bookings WHERE interviewer_id = $1 AND status = 'booked' \
               AND starts_at < $2 AND ends_at > $3 AND id <> $4 ORDER BY starts_at";
    on_tx!(tx, c => Ok(sqlx::query_as(sql).bind(account_id).bind(until).bind(from).bind(except.unwrap_or(-1))
        .fetch_all(&mut *c).await?))
}

/// Same as `busy`, outside a transaction (for showing free slots).
pub async fn busy_now(db: &Db, account_id: i64, from: i64, until: i64) -> Result<Vec<(i64, i64)>> {
    let sql = "SELECT starts_at, ends_at FROM bookings WHERE interviewer_id = $1 AND status = 'booked' \
               AND starts_at < $2 AND ends_at > $3 ORDER BY starts_at";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(account_id).bind(until).bind(from).fetch_all(pool).await?))
}

pub struct NewBooking<'a> {
    pub invitation_id: i64,
    pub interviewer_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub uid: &'a str,
    pub participant_timezone: &'a str,
}

/// Inserts a booking; `Ok(None)` when the slot (or the invitation) already
/// holds an active booking: the unique indexes are the last word.
pub async fn insert(tx: &mut Tx, b: &NewBooking<'_>, now: i64) -> Result<Option<i64>> {
    let sql = "INSERT INTO bookings (invitation_id, interviewer_id, starts_at, ends_at, status, uid, sequence, \
               participant_timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, 'booked', $5, 0, $6, $7, $7) \
               ON CONFLICT DO NOTHING RETURNING id";
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(b.invitation_id).bind(b.interviewer_id).bind(b.starts_at).bind(b.ends_at).bind(b.uid)
        .bind(b.participant_timezone).bind(now).fetch_optional(&mut *c).await?);
    if let Some(id) = id {
        record_change(tx, id, "booked", b.starts_at, "participant", now).await?;
    }
    Ok(id)
}

/// Moves an active booking; `Ok(false)` when the new slot is taken.
pub async fn reschedule(
    tx: &mut Tx,
    id: i64,
    interviewer_id: i64,
    starts_at: i64,
    ends_at: i64,
    timezone: &str,
    now: i64,
) -> Result<bool> {
    // SQLite has no ON CONFLICT for UPDATE: check the slot (under the
    // interviewer's lock) and let the unique index refuse what slips by.
    let taken: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM bookings WHERE interviewer_id = $1 AND starts_at = $2 AND status = 'booked' AND id <> $3")
        .bind(interviewer_id).bind(starts_at).bind(id).fetch_optional(&mut *c).await?);
    if taken.is_some() {
        return Ok(false);
    }
    let sql = "UPDATE bookings SET interviewer_id = $1, starts_at = $2, ends_at = $3, participant_timezone = $4, \
               sequence = sequence + 1, updated_at = $5 WHERE id = $6 AND status = 'booked'";
    let changed = on_tx!(tx, c => sqlx::query(sql).bind(interviewer_id).bind(starts_at).bind(ends_at).bind(timezone)
        .bind(now).bind(id).execute(&mut *c).await?.rows_affected() == 1);
    if changed {
        record_change(tx, id, "rescheduled", starts_at, "participant", now).await?;
    }
    Ok(changed)
}

/// Cancels an active booking (SEQUENCE + 1); false when it was not active.
pub async fn cancel(tx: &mut Tx, id: i64, by: &str, reason: Option<&str>, now: i64) -> Result<bool> {
    let sql = "UPDATE bookings SET status = 'cancelled', sequence = sequence + 1, cancelled_at = $1, \
               cancelled_by = $2, cancel_reason = $3, updated_at = $1 WHERE id = $4 AND status = 'booked'";
    let changed = on_tx!(tx, c => sqlx::query(sql).bind(now).bind(by).bind(reason).bind(id)
        .execute(&mut *c).await?.rows_affected() == 1);
    if changed {
        let start: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT starts_at FROM bookings WHERE id = $1")
            .bind(id).fetch_one(&mut *c).await?);
        record_change(tx, id, "cancelled", start, by, now).await?;
    }
    Ok(changed)
}

/// Records what happened: completed, or a no-show by either side. Only for
/// a booking that is active (or already had an outcome, to correct it).
pub async fn set_outcome(tx: &mut Tx, id: i64, outcome: BookingStatus, by: &str, now: i64) -> Result<bool> {
    anyhow::ensure!(BookingStatus::OUTCOMES.contains(&outcome), "`{outcome}` is not an interview's outcome");
    let sql = format!(
        "UPDATE bookings SET status = $1, updated_at = $2 WHERE id = $3 AND status IN ({})",
        super::state_list(outcome.sources())
    );
    let changed = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(outcome.as_str()).bind(now)
        .bind(id).execute(&mut *c).await?.rows_affected() == 1);
    if changed {
        let start: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT starts_at FROM bookings WHERE id = $1")
            .bind(id).fetch_one(&mut *c).await?);
        record_change(tx, id, outcome.as_str(), start, by, now).await?;
    }
    Ok(changed)
}

async fn record_change(tx: &mut Tx, id: i64, change: &str, starts_at: i64, by: &str, now: i64) -> Result<()> {
    let sql = "INSERT INTO booking_changes (booking_id, at, change, starts_at, by_whom) VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).bind(change).bind(starts_at).bind(by)
        .execute(&mut *c).await.map(drop)?);
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Booking>> {
    let sql = format!("SELECT {COLUMNS} FROM bookings WHERE id = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<Booking>> {
    let sql = format!("SELECT {COLUMNS} FROM bookings WHERE id = $1");
    on_tx!(tx, c => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(&mut *c).await?))
}

/// The invitation's bookings, newest first.
pub async fn for_invitation(db: &Db, invitation_id: i64) -> Result<Vec<Booking>> {
    let sql = format!("SELECT {COLUMNS} FROM bookings WHERE invitation_id = $1 ORDER BY id DESC");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(invitation_id).fetch_all(pool).await?))
}

pub async fn active_for_invitation(tx: &mut Tx, invitation_id: i64) -> Result<Option<Booking>> {
    let sql = format!("SELECT {COLUMNS} FROM bookings WHERE invitation_id = $1 AND status = 'booked'");
    on_tx!(tx, c => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(invitation_id).fetch_optional(&mut *c).await?))
}

/// A booking with what the interviewer's calendar shows of it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CalendarEntry {
    pub id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    #[sqlx(try_from = "String")]
    pub status: BookingStatus,
    pub study_id: i64,
    pub study_title: String,
    pub user_id: String,
    pub name: Option<String>,
    pub tier: String,
    pub department: Option<String>,
    pub interviewer_id: i64,
}

const CALENDAR_SELECT: &str = "SELECT b.id, b.starts_at, b.ends_at, b.status, s.id AS study_id, \
    s.title AS study_title, p.user_id, p.name, i.tier, i.department, b.interviewer_id \
    FROM bookings b JOIN invitations i ON i.id = b.invitation_id JOIN studies s ON s.id = i.study_id \
    JOIN people p ON p.id = i.person_id";

/// An interviewer's bookings from `from` on (active and with outcomes).
pub async fn calendar(db: &Db, account_id: Option<i64>, from: i64) -> Result<Vec<CalendarEntry>> {
    let sql = format!(
        "{CALENDAR_SELECT} WHERE ($1 < 0 OR b.interviewer_id = $1) AND b.ends_at >= $2 AND b.status <> 'cancelled' \
         ORDER BY b.starts_at LIMIT 500"
    );
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(account_id.unwrap_or(-1)).bind(from)
        .fetch_all(pool).await?))
}

/// Every booking of a study, latest first.
pub async fn for_study(db: &Db, study_id: i64) -> Result<Vec<CalendarEntry>> {
    let sql = format!("{CALENDAR_SELECT} WHERE s.id = $1 ORDER BY b.starts_at DESC");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?))
}
