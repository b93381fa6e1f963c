//! Studies, their interviewers and their rounds (draws).

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx};
use crate::domain::state::{RoundState, StudyStatus};
use crate::{on_db, on_tx};

/// A study as stored. Target and rules are JSON (see `app::studies`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Study {
    pub id: i64,
    pub title: String,
    pub goal: String,
    /// What invited people see instead of the title and goal.
    pub participant_title: String,
    pub participant_description: String,
    /// Where interviews happen (`domain::meeting`): '' when not set.
    pub meeting_kind: String,
    pub meeting_detail: String,
    pub scenario: String,
    pub interview_minutes: i64,
    pub language: String,
    pub invitation_subject: String,
    pub invitation_body: String,
    pub consent: String,
    pub guide: String,
    pub target: String,
    pub rules: String,
    pub round_size: i64,
    pub allocation: String,
    pub recurrence_days: Option<i64>,
    pub next_round_at: Option<i64>,
    pub auto_send: i64,
    pub max_reschedules: i64,
    pub change_notice_hours: i64,
    #[sqlx(try_from = "String")]
    pub status: StudyStatus,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

impl Study {
    /// Where the study's interviews happen, if it says (a stored place that
    /// no longer reads counts as none).
    pub fn place(&self) -> Option<crate::domain::meeting::Place> {
        crate::domain::meeting::Place::parse(&self.meeting_kind, &self.meeting_detail).ok().flatten()
    }

    pub fn is_open(&self) -> bool {
        self.status == StudyStatus::Open
    }
}

/// What a researcher edits.
#[derive(Clone, Debug, Default)]
pub struct StudyFields {
    pub title: String,
    pub goal: String,
    pub participant_title: String,
    pub participant_description: String,
    pub meeting_kind: String,
    pub meeting_detail: String,
    pub scenario: String,
    pub interview_minutes: i64,
    pub language: String,
    pub invitation_subject: String,
    pub invitation_body: String,
    pub consent: String,
    pub guide: String,
    pub target: String,
    pub rules: String,
    pub round_size: i64,
    pub allocation: String,
    pub recurrence_days: Option<i64>,
    pub auto_send: bool,
    pub max_reschedules: i64,
    pub change_notice_hours: i64,
}

const COLUMNS: &str = "id, title, goal, participant_title, participant_description, meeting_kind, meeting_detail, scenario, interview_minutes, language, invitation_subject, invitation_body, \
    consent, guide, target, rules, round_size, allocation, recurrence_days, next_round_at, auto_send, max_reschedules, \
    change_notice_hours, status, created_by, created_at, updated_at, closed_at";

pub async fn insert(db: &Db, f: &StudyFields, created_by: Option<i64>, now: i64) -> Result<i64> {
    let sql = "INSERT INTO studies (title, goal, scenario, interview_minutes, language, invitation_subject, \
               invitation_body, consent, guide, target, rules, round_size, allocation, recurrence_days, next_round_at, \
               auto_send, max_reschedules, change_notice_hours, status, created_by, created_at, updated_at, \
               participant_title, participant_description, meeting_kind, meeting_detail) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'open', $19, $20, $20, \
               $21, $22, $23, $24) \
               RETURNING id";
    let next = f.recurrence_days.map(|d| now + d * 86_400);
    on_db!(db, pool => Ok(sqlx::query(sql)
        .bind(&f.title).bind(&f.goal).bind(&f.scenario).bind(f.interview_minutes).bind(&f.language)
        .bind(&f.invitation_subject).bind(&f.invitation_body).bind(&f.consent).bind(&f.guide).bind(&f.target)
        .bind(&f.rules).bind(f.round_size).bind(&f.allocation).bind(f.recurrence_days).bind(next)
        .bind(i64::from(f.auto_send)).bind(f.max_reschedules).bind(f.change_notice_hours).bind(created_by).bind(now)
        .bind(&f.participant_title).bind(&f.participant_description).bind(&f.meeting_kind).bind(&f.meeting_detail)
        .fetch_one(pool).await?.try_get("id")?))
}

pub async fn update(db: &Db, id: i64, f: &StudyFields, now: i64) -> Result<()> {
    // A changed recurrence restarts its clock; an unchanged one keeps it.
    let sql = "UPDATE studies SET title = $1, goal = $2, scenario = $3, interview_minutes = $4, language = $5, \
               invitation_subject = $6, invitation_body = $7, consent = $8, guide = $9, target = $10, rules = $11, \
               round_size = $12, allocation = $13, \
               next_round_at = CASE WHEN $14 IS NULL THEN NULL \
                    WHEN recurrence_days IS NOT NULL AND recurrence_days = $14 THEN next_round_at \
                    ELSE $15 + $14 * 86400 END, \
               recurrence_days = $14, auto_send = $16, max_reschedules = $17, change_notice_hours = $18, \
               updated_at = $15, participant_title = $20, participant_description = $21, \
               meeting_kind = $22, meeting_detail = $23 WHERE id = $19";
    on_db!(db, pool => sqlx::query(sql)
        .bind(&f.title).bind(&f.goal).bind(&f.scenario).bind(f.interview_minutes).bind(&f.language)
        .bind(&f.invitation_subject).bind(&f.invitation_body).bind(&f.consent).bind(&f.guide).bind(&f.target)
        .bind(&f.rules).bind(f.round_size).bind(&f.allocation).bind(f.recurrence_days).bind(now)
        .bind(i64::from(f.auto_send)).bind(f.max_reschedules).bind(f.change_notice_hours).bind(id)
        .bind(&f.participant_title).bind(&f.participant_description).bind(&f.meeting_kind).bind(&f.meeting_detail)
        .execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Study>> {
    let sql = format!("SELECT {COLUMNS} FROM studies WHERE id = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
}

pub async fn list(db: &Db) -> Result<Vec<Study>> {
    let sql = format!("SELECT {COLUMNS} FROM studies ORDER BY status DESC, id DESC");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?))
}

pub async fn close(db: &Db, id: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE studies SET status = 'closed', closed_at = $1, next_round_at = NULL, updated_at = $1 \
               WHERE id = $2 AND status = 'open'";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(now).bind(id).execute(pool).await?.rows_affected() == 1))
}

pub async fn set_interviewers(db: &Db, study_id: i64, accounts: &[i64]) -> Result<()> {
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => {
        sqlx::query("DELETE FROM study_interviewers WHERE study_id = $1").bind(study_id).execute(&mut *c).await?;
        for a in accounts {
            sqlx::query("INSERT INTO study_interviewers (study_id, account_id) VALUES ($1, $2)")
                .bind(study_id).bind(a).execute(&mut *c).await?;
        }
    });
    tx.commit().await
}

pub async fn interviewers(db: &Db, study_id: i64) -> Result<Vec<i64>> {
    let sql = "SELECT account_id FROM study_interviewers WHERE study_id = $1 ORDER BY account_id";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(study_id).fetch_all(pool).await?))
}

/// Open recurring studies whose next round is due.
pub async fn due_rounds(db: &Db, now: i64) -> Result<Vec<(i64, i64)>> {
    let sql = "SELECT id, next_round_at FROM studies WHERE status = 'open' AND next_round_at IS NOT NULL \
               AND next_round_at <= $1 ORDER BY next_round_at";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(now).fetch_all(pool).await?))
}

/// Moves a due study's clock on; false when another instance did first.
pub async fn claim_due_round(db: &Db, id: i64, due_at: i64, next_at: i64) -> Result<bool> {
    let sql = "UPDATE studies SET next_round_at = $1 WHERE id = $2 AND next_round_at = $3";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(next_at).bind(id).bind(due_at).execute(pool).await?.rows_affected() == 1))
}

/// One draw of a study.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Round {
    pub id: i64,
    pub study_id: i64,
    pub number: i64,
    pub seed: String,
    pub size: i64,
    pub allocation: String,
    pub as_of: String,
    pub drawn_at: i64,
    pub drawn_by: Option<i64>,
    pub strata: String,
    pub excluded: String,
    pub shortfall: i64,
    pub sent_at: Option<i64>,
}

impl Round {
    pub fn state(&self) -> RoundState {
        RoundState::of(self.sent_at)
    }
}

pub struct NewRound<'a> {
    pub study_id: i64,
    pub seed: u64,
    pub size: i64,
    pub allocation: &'a str,
    pub as_of: String,
    pub drawn_by: Option<i64>,
    pub strata: String,
    pub excluded: String,
    pub shortfall: i64,
}

const ROUND_COLUMNS: &str =
    "id, study_id, number, seed, size, allocation, as_of, drawn_at, drawn_by, strata, excluded, shortfall, sent_at";

/// Inserts the next round of a study; returns its id and number.
pub async fn insert_round(tx: &mut Tx, r: &NewRound<'_>, now: i64) -> Result<(i64, i64)> {
    let sql = "INSERT INTO rounds (study_id, number, seed, size, allocation, as_of, drawn_at, drawn_by, strata, \
               excluded, shortfall) \
               VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM rounds WHERE study_id = $1), $2, $3, $4, $5, $6, \
               $7, $8, $9, $10) RETURNING id, number";
    on_tx!(tx, c => Ok(sqlx::query_as(sql)
        .bind(r.study_id).bind(r.seed.to_string()).bind(r.size).bind(r.allocation).bind(&r.as_of).bind(now)
        .bind(r.drawn_by).bind(&r.strata).bind(&r.excluded).bind(r.shortfall)
        .fetch_one(&mut *c).await?))
}

pub async fn rounds(db: &Db, study_id: i64) -> Result<Vec<Round>> {
    let sql = format!("SELECT {ROUND_COLUMNS} FROM rounds WHERE study_id = $1 ORDER BY number DESC");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?))
}

pub async fn round(db: &Db, study_id: i64, number: i64) -> Result<Option<Round>> {
    let sql = format!("SELECT {ROUND_COLUMNS} FROM rounds WHERE study_id = $1 AND number = $2");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).bind(number).fetch_optional(pool).await?))
}

/// Marks a round sent; false when it already was (a double submit).
pub async fn mark_round_sent(tx: &mut Tx, round_id: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE rounds SET sent_at = $1 WHERE id = $2 AND sent_at IS NULL";
    on_tx!(tx, c => Ok(sqlx::query(sql).bind(now).bind(round_id).execute(&mut *c).await?.rows_affected() == 1))
}

/// Every department in the directory, for target filters.
pub async fn departments(db: &Db) -> Result<Vec<String>> {
    let sql = "SELECT DISTINCT department FROM people WHERE department IS NOT NULL ORDER BY department";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).fetch_all(pool).await?))
}
