//! Pulse surveys: definitions, invitations (one per person and survey,
//! marked when answered) and responses (tier and department at answer time
//! and the day; never the person, nor a link to their invitation).

use anyhow::Result;

use super::{Db, Tx};
use crate::{on_db, on_tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Survey {
    pub id: i64,
    pub study_id: i64,
    pub title: String,
    pub questions: String,
    pub anonymous_token_hash: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, study_id, title, questions, anonymous_token_hash, created_at";

pub async fn insert(db: &Db, study_id: i64, title: &str, questions: &str, by: i64, now: i64) -> Result<i64> {
    let sql = "INSERT INTO surveys (study_id, title, questions, created_at, created_by) VALUES ($1, $2, $3, $4, $5) \
               RETURNING id";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(study_id).bind(title).bind(questions).bind(now).bind(by)
        .fetch_one(pool).await?))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Survey>> {
    let sql = format!("SELECT {COLUMNS} FROM surveys WHERE id = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
}

pub async fn for_study(db: &Db, study_id: i64) -> Result<Vec<Survey>> {
    let sql = format!("SELECT {COLUMNS} FROM surveys WHERE study_id = $1 ORDER BY id DESC");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?))
}

pub async fn by_anonymous_hash(db: &Db, hash: &str) -> Result<Option<Survey>> {
    let sql = format!("SELECT {COLUMNS} FROM surveys WHERE anonymous_token_hash = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(hash).fetch_optional(pool).await?))
}

/// Sets (or replaces) the anonymous link's token hash.
pub async fn set_anonymous(db: &Db, id: i64, hash: &str) -> Result<()> {
    let sql = "UPDATE surveys SET anonymous_token_hash = $1 WHERE id = $2";
    on_db!(db, pool => sqlx::query(sql).bind(hash).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Invitation {
    pub id: i64,
    pub survey_id: i64,
    pub person_id: i64,
    pub tier: String,
    pub department: Option<String>,
    pub sent_at: i64,
    pub responded_at: Option<i64>,
}

const INVITATION_COLUMNS: &str = "id, survey_id, person_id, tier, department, sent_at, responded_at";

/// Adds an invitation; `None` when the person already has one for this survey.
pub async fn invite(
    tx: &mut Tx,
    survey_id: i64,
    person_id: i64,
    tier: &str,
    department: Option<&str>,
    token_hash: &str,
    now: i64,
) -> Result<Option<i64>> {
    let sql = "INSERT INTO survey_invitations (survey_id, person_id, tier, department, token_hash, sent_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (survey_id, person_id) DO NOTHING RETURNING id";
    on_tx!(tx, c => Ok(sqlx::query_scalar(sql).bind(survey_id).bind(person_id).bind(tier).bind(department)
        .bind(token_hash).bind(now).fetch_optional(&mut *c).await?))
}

/// Sets a survey invitation's token hash (once its id, which the token is
/// derived from, is known).
pub async fn set_token_hash(tx: &mut Tx, id: i64, token_hash: &str) -> Result<()> {
    let sql = "UPDATE survey_invitations SET token_hash = $1 WHERE id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(token_hash).bind(id).execute(&mut *c).await.map(drop)?);
    Ok(())
}

/// The e-mail address of the person a survey invitation is for.
pub async fn invitation_email(db: &Db, id: i64) -> Result<Option<String>> {
    let sql = "SELECT p.email FROM survey_invitations i JOIN people p ON p.id = i.person_id WHERE i.id = $1";
    on_db!(db, pool => Ok(sqlx::query_scalar::<_, Option<String>>(sql).bind(id).fetch_optional(pool).await?.flatten()))
}

pub async fn invitation_by_hash(db: &Db, hash: &str) -> Result<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE token_hash = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(hash).fetch_optional(pool).await?))
}

pub async fn invitations(db: &Db, survey_id: i64) -> Result<Vec<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLUMNS} FROM survey_invitations WHERE survey_id = $1 ORDER BY id");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(survey_id).fetch_all(pool).await?))
}

/// Stores a response with no link to the person who gave it. For an
/// invitation, only the first one counts (`false` when it was already
/// answered): the invitation is marked answered on its own row, and the
/// response carries neither the invitation, nor an exact time (only the
/// day), nor an id in answer order (a random one), so that no join, no
/// timestamp and no row order ties the answers back to the invitation.
pub async fn respond(
    db: &Db,
    survey_id: i64,
    invitation_id: Option<i64>,
    tier: Option<&str>,
    department: Option<&str>,
    answers: &str,
    now: i64,
) -> Result<bool> {
    let mut tx = db.begin().await?;
    if let Some(id) = invitation_id {
        // Answered, but not when: the time would match the response's day
        // on a day with one answer. `responded_at` holds the sending time.
        let sql = "UPDATE survey_invitations SET responded_at = sent_at WHERE id = $1 AND responded_at IS NULL";
        let first = on_tx!(&mut tx, c => sqlx::query(sql).bind(id).execute(&mut *c).await?.rows_affected() == 1);
        if !first {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    let day = now - now.rem_euclid(86_400);
    let sql = "INSERT INTO survey_responses (id, survey_id, invitation_id, tier, department, answers, created_at) \
               VALUES ($1, $2, NULL, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
    let mut stored = false;
    for _ in 0..5 {
        let id = random_id();
        stored = on_tx!(&mut tx, c => sqlx::query(sql).bind(id).bind(survey_id).bind(tier).bind(department)
            .bind(answers).bind(day).execute(&mut *c).await?.rows_affected() == 1);
        if stored {
            break;
        }
    }
    anyhow::ensure!(stored, "no free response id after five tries");
    tx.commit().await?;
    Ok(true)
}

/// A positive random id below 2^53 (exact in JavaScript and JSON too).
fn random_id() -> i64 {
    use rand::TryRngCore;
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    let n = i64::from_le_bytes(bytes) & ((1_i64 << 53) - 1);
    n.max(1)
}

/// A survey's responses: (tier, department, answers JSON).
pub async fn responses(db: &Db, survey_id: i64) -> Result<Vec<(Option<String>, Option<String>, String)>> {
    let sql = "SELECT tier, department, answers FROM survey_responses WHERE survey_id = $1 ORDER BY id";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(survey_id).fetch_all(pool).await?))
}

/// One stored response as the results and the free-text answers read it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Response {
    pub id: i64,
    pub tier: Option<String>,
    pub department: Option<String>,
    /// The answers as JSON (see domain::survey::Answer).
    pub answers: String,
}

/// A survey's responses with their ids (random, so no order of answering).
pub async fn responses_with_ids(db: &Db, survey_id: i64) -> Result<Vec<Response>> {
    let sql = "SELECT id, tier, department, answers FROM survey_responses WHERE survey_id = $1 ORDER BY id";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(survey_id).fetch_all(pool).await?))
}

/// The free-text answers of a survey cleared for managers: (response id,
/// question index).
pub async fn clearings(db: &Db, survey_id: i64) -> Result<Vec<(i64, i64)>> {
    let sql = "SELECT c.response_id, c.question_index FROM survey_answer_clearings c \
               JOIN survey_responses r ON r.id = c.response_id WHERE r.survey_id = $1 \
               ORDER BY c.response_id, c.question_index";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(survey_id).fetch_all(pool).await?))
}

/// Clears (or, with `cleared = false`, withdraws the clearing of) one
/// free-text answer of a response of `survey_id`; `false` when the response
/// is not one of that survey's. Clearing twice changes nothing.
pub async fn set_cleared(
    db: &Db,
    survey_id: i64,
    response_id: i64,
    question_index: i64,
    cleared: bool,
    by: i64,
    now: i64,
) -> Result<bool> {
    let exists = "SELECT COUNT(*) FROM survey_responses WHERE id = $1 AND survey_id = $2";
    let n: i64 =
        on_db!(db, pool => sqlx::query_scalar(exists).bind(response_id).bind(survey_id).fetch_one(pool).await?);
    if n == 0 {
        return Ok(false);
    }
    if cleared {
        let sql = "INSERT INTO survey_answer_clearings (response_id, question_index, cleared_by, cleared_at) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (response_id, question_index) DO NOTHING";
        on_db!(db, pool => sqlx::query(sql).bind(response_id).bind(question_index).bind(by).bind(now)
            .execute(pool).await.map(drop)?);
    } else {
        let sql = "DELETE FROM survey_answer_clearings WHERE response_id = $1 AND question_index = $2";
        on_db!(db, pool => sqlx::query(sql).bind(response_id).bind(question_index).execute(pool).await.map(drop)?);
    }
    Ok(true)
}

/// How many people a department has, for the anonymous link's floor.
pub async fn department_size(db: &Db, department: &str) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM people WHERE department = $1";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(department).fetch_one(pool).await?))
}
