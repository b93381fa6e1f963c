//! Invitations (one person in one round), opt-outs, and the contact
//! history the contact rules are checked against.

use std::collections::HashMap;

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{Db, Tx};
use crate::domain::sampling::ContactHistory;
use crate::domain::state::{InvitationStatus, State};
use crate::{on_db, on_tx};

/// An invitation with the person it is for.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub round_id: i64,
    pub study_id: i64,
    pub person_id: i64,
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub tier: String,
    pub department: Option<String>,
    pub facts: String,
    pub reason: String,
    pub added_by_hand: i64,
    #[sqlx(try_from = "String")]
    pub status: InvitationStatus,
    pub exclusion: Option<String>,
    pub reschedules: i64,
    pub invited_at: Option<i64>,
    pub opened_at: Option<i64>,
    pub responded_at: Option<i64>,
    pub decline_reason: Option<String>,
    /// The SHA-256 of the opt-out token (which can only opt the person out
    /// and goes in every message to them); set once the invitation is sent.
    pub opt_out_hash: Option<String>,
}

const COLUMNS: &str = "i.id, i.round_id, i.study_id, i.person_id, p.user_id, p.name, p.email, i.tier, i.department, \
    i.facts, i.reason, i.added_by_hand, i.status, i.exclusion, i.reschedules, i.invited_at, i.opened_at, \
    i.responded_at, i.decline_reason, i.opt_out_hash";

pub struct NewInvitation<'a> {
    pub round_id: i64,
    pub study_id: i64,
    pub person_id: i64,
    pub tier: &'a str,
    pub department: Option<&'a str>,
    pub facts: String,
    pub reason: &'a str,
    pub added_by_hand: bool,
}

/// Adds a drawn person; false when they are already in the round.
pub async fn insert(tx: &mut Tx, n: &NewInvitation<'_>, now: i64) -> Result<bool> {
    let sql = "INSERT INTO invitations (round_id, study_id, person_id, tier, department, facts, reason, added_by_hand, \
               status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'drawn', $9) \
               ON CONFLICT (round_id, person_id) DO NOTHING";
    on_tx!(tx, c => Ok(sqlx::query(sql)
        .bind(n.round_id).bind(n.study_id).bind(n.person_id).bind(n.tier).bind(n.department).bind(&n.facts)
        .bind(n.reason).bind(i64::from(n.added_by_hand)).bind(now)
        .execute(&mut *c).await?.rows_affected() == 1))
}

pub async fn for_round(db: &Db, round_id: i64) -> Result<Vec<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id WHERE i.round_id = $1 \
         ORDER BY i.tier, i.department, p.user_id"
    );
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(pool).await?))
}

pub async fn for_study(db: &Db, study_id: i64) -> Result<Vec<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id WHERE i.study_id = $1 ORDER BY i.id"
    );
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Invitation>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id WHERE i.id = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
}

pub async fn get_in(tx: &mut Tx, id: i64) -> Result<Option<Invitation>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id WHERE i.id = $1");
    on_tx!(tx, c => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(&mut *c).await?))
}

/// The invitation of a link token's hash (links sent before tokens were
/// derived keep working by their old hash).
pub async fn by_token_hash(db: &Db, hash: &str) -> Result<Option<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id \
         WHERE i.token_hash = $1 OR i.legacy_token_hash = $1 LIMIT 1"
    );
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(hash).fetch_optional(pool).await?))
}

/// Moves the invitation to `to`, only from a state the transition table
/// allows (so that two racing changes cannot both apply); returns whether
/// it changed.
pub async fn set_status(tx: &mut Tx, id: i64, to: InvitationStatus) -> Result<bool> {
    let list = super::state_list(to.sources());
    let sql = format!("UPDATE invitations SET status = $1 WHERE id = $2 AND status IN ({list})");
    on_tx!(tx, c => Ok(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to.as_str()).bind(id)
        .execute(&mut *c).await?.rows_affected() == 1))
}

/// Marks an invitation sent (its tokens' hashes stored), only from `drawn`.
pub async fn mark_invited(tx: &mut Tx, id: i64, token_hash: &str, opt_out_hash: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE invitations SET status = 'invited', token_hash = $1, opt_out_hash = $2, invited_at = $3 \
               WHERE id = $4 AND status = 'drawn'";
    on_tx!(tx, c => Ok(sqlx::query(sql).bind(token_hash).bind(opt_out_hash).bind(now).bind(id)
        .execute(&mut *c).await?.rows_affected() == 1))
}

/// The invitation of an opt-out token's hash.
pub async fn by_opt_out_hash(db: &Db, hash: &str) -> Result<Option<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id \
         WHERE i.opt_out_hash = $1 OR i.legacy_opt_out_hash = $1 LIMIT 1"
    );
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(hash).fetch_optional(pool).await?))
}

/// Invitations sent before link tokens were derived (a token hash but no
/// opt-out hash), with the opt-out token some of them still hold in plain
/// text: (id, token hash, opt-out token).
pub async fn sent_before_derived_tokens(db: &Db) -> Result<Vec<(i64, String, Option<String>)>> {
    let sql = "SELECT id, token_hash, opt_out_token FROM invitations \
               WHERE token_hash IS NOT NULL AND opt_out_hash IS NULL ORDER BY id";
    on_db!(db, pool => Ok(sqlx::query_as(sql).fetch_all(pool).await?))
}

/// Moves one such invitation to derived tokens: the old hashes keep the
/// links already sent working; the plain opt-out token goes.
pub async fn upgrade_tokens(
    db: &Db,
    id: i64,
    token_hash: &str,
    opt_out_hash: &str,
    legacy_token_hash: &str,
    legacy_opt_out_hash: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE invitations SET token_hash = $1, opt_out_hash = $2, legacy_token_hash = $3, \
               legacy_opt_out_hash = $4, opt_out_token = NULL WHERE id = $5";
    on_db!(db, pool => sqlx::query(sql).bind(token_hash).bind(opt_out_hash).bind(legacy_token_hash)
        .bind(legacy_opt_out_hash).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn mark_excluded(tx: &mut Tx, id: i64, exclusion: &str) -> Result<()> {
    let sql = "UPDATE invitations SET status = 'excluded', exclusion = $1 WHERE id = $2 AND status = 'drawn'";
    on_tx!(tx, c => sqlx::query(sql).bind(exclusion).bind(id).execute(&mut *c).await.map(drop)?);
    Ok(())
}

pub async fn mark_opened(db: &Db, id: i64, now: i64) -> Result<()> {
    let sql = "UPDATE invitations SET opened_at = $1 WHERE id = $2 AND opened_at IS NULL";
    on_db!(db, pool => sqlx::query(sql).bind(now).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn mark_responded(tx: &mut Tx, id: i64, reason: Option<&str>, now: i64) -> Result<()> {
    let sql = "UPDATE invitations SET responded_at = $1, decline_reason = COALESCE($2, decline_reason) WHERE id = $3";
    on_tx!(tx, c => sqlx::query(sql).bind(now).bind(reason).bind(id).execute(&mut *c).await.map(drop)?);
    Ok(())
}

pub async fn count_reschedule(tx: &mut Tx, id: i64) -> Result<()> {
    let sql = "UPDATE invitations SET reschedules = reschedules + 1 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(drop)?);
    Ok(())
}

/// Records a person's wish not to be contacted again (kept if already set).
pub async fn opt_out(tx: &mut Tx, person_id: i64, study_id: Option<i64>, reason: Option<&str>, now: i64) -> Result<()> {
    let sql = "INSERT INTO opt_outs (person_id, at, reason, study_id) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (person_id) DO NOTHING";
    on_tx!(tx, c => sqlx::query(sql).bind(person_id).bind(now).bind(reason).bind(study_id).execute(&mut *c).await.map(drop)?);
    Ok(())
}

/// Invitations still waiting to be sent in a round.
pub async fn drawn_in_round(tx: &mut Tx, round_id: i64) -> Result<Vec<Invitation>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations i JOIN people p ON p.id = i.person_id \
         WHERE i.round_id = $1 AND i.status = 'drawn' ORDER BY i.id"
    );
    on_tx!(tx, c => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(round_id).fetch_all(&mut *c).await?))
}

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// The contact history of every person research has touched, by person id.
/// Contacts are sent invitations; interviews are completed bookings; only a
/// participant's no-show counts against them (not the host's). People
/// deactivated by directory sync are never contacted.
pub async fn histories(db: &Db) -> Result<HashMap<i64, ContactHistory>> {
    let mut out: HashMap<i64, ContactHistory> = HashMap::new();
    let opted: Vec<i64> =
        on_db!(db, pool => sqlx::query_scalar("SELECT person_id FROM opt_outs").fetch_all(pool).await?);
    // Survey invitations are contacts too.
    let invited: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT person_id, invited_at FROM invitations WHERE invited_at IS NOT NULL \
         UNION ALL SELECT person_id, sent_at FROM survey_invitations").fetch_all(pool).await?);
    let interviews: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT i.person_id, b.starts_at FROM bookings b JOIN invitations i ON i.id = b.invitation_id \
         WHERE b.status = 'completed'").fetch_all(pool).await?);
    let no_shows: Vec<(i64, i64)> = on_db!(db, pool => sqlx::query_as(
        "SELECT i.person_id, COUNT(*) FROM bookings b JOIN invitations i ON i.id = b.invitation_id \
         WHERE b.status = 'no_show_participant' GROUP BY i.person_id").fetch_all(pool).await?);
    for p in opted {
        out.entry(p).or_default().opted_out = true;
    }
    let deactivated: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(
        "SELECT id FROM people WHERE deactivated_at IS NOT NULL").fetch_all(pool).await?);
    for p in deactivated {
        out.entry(p).or_default().deactivated = true;
    }
    for (p, ts) in invited {
        let h = out.entry(p).or_default();
        let t = at(ts);
        h.invitations.push(t);
        h.last_contacted = Some(h.last_contacted.map_or(t, |l| l.max(t)));
    }
    for (p, ts) in interviews {
        out.entry(p).or_default().interviews.push(at(ts).date_naive());
    }
    for (p, n) in no_shows {
        out.entry(p).or_default().no_shows = u32::try_from(n).unwrap_or(u32::MAX);
    }
    Ok(out)
}

/// People ids by `user_id`, with name and e-mail, for adding by hand.
pub async fn person_by_user_id(db: &Db, user_id: &str) -> Result<Option<(i64, Option<String>)>> {
    let sql = "SELECT id, email FROM people WHERE user_id = $1";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(user_id).fetch_optional(pool).await?))
}

/// `user_id` -> (person id, e-mail) for everyone.
pub async fn people_index(db: &Db) -> Result<HashMap<String, (i64, Option<String>)>> {
    let rows: Vec<(String, i64, Option<String>)> =
        on_db!(db, pool => sqlx::query_as("SELECT user_id, id, email FROM people").fetch_all(pool).await?);
    Ok(rows.into_iter().map(|(u, id, e)| (u, (id, e))).collect())
}
