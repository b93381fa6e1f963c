//! Interviews: a study's codebook, the record of one interview (consent,
//! notes, root cause, follow-up, codes) and its quotes. Saves are
//! versioned: a save made from an older version never overwrites a newer
//! one (the caller shows both), and a repeated save of the same content is
//! not a conflict.

use anyhow::Result;

use super::{Db, Tx};
use crate::domain::codebook::{Consent, DEFAULT_CODES};
pub use crate::domain::interview::Record;
use crate::domain::interview::StaleSave;
use crate::domain::state::UnknownState;
use crate::{on_db, on_tx};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Code {
    pub id: i64,
    pub study_id: i64,
    pub key: String,
    pub label_en: String,
    pub label_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub position: i64,
    pub archived: i64,
}

const CODE_COLUMNS: &str = "id, study_id, key, label_en, label_zh, description_en, description_zh, position, archived";

/// A study's codes in order; the default codebook is copied in on first use.
/// For each code of a study that is used: (code id, interviews filed
/// under it, quotes filed under it).
pub async fn code_use(db: &Db, study_id: i64) -> Result<Vec<(i64, i64, i64)>> {
    let sql = "SELECT c.id, \
               (SELECT COUNT(*) FROM interview_codes ic WHERE ic.code_id = c.id) AS interviews, \
               (SELECT COUNT(*) FROM quotes q WHERE q.code_id = c.id) AS quotes \
               FROM study_codes c WHERE c.study_id = $1";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(study_id).fetch_all(pool).await?))
}

pub async fn codes(db: &Db, study_id: i64) -> Result<Vec<Code>> {
    let sql = format!("SELECT {CODE_COLUMNS} FROM study_codes WHERE study_id = $1 ORDER BY position, id");
    let found: Vec<Code> =
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?);
    if !found.is_empty() {
        return Ok(found);
    }
    let insert = "INSERT INTO study_codes (study_id, key, label_en, label_zh, description_en, description_zh, position) \
                  VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (study_id, key) DO NOTHING";
    for (i, c) in DEFAULT_CODES.iter().enumerate() {
        on_db!(db, pool => sqlx::query(insert).bind(study_id).bind(c.key).bind(c.label_en).bind(c.label_zh)
            .bind(c.description_en).bind(c.description_zh).bind(i as i64).execute(pool).await.map(drop)?);
    }
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(study_id).fetch_all(pool).await?))
}

/// Adds a code to a study's codebook; false when the key is taken.
pub async fn add_code(
    db: &Db,
    study_id: i64,
    key: &str,
    label_en: &str,
    label_zh: &str,
    description: &str,
) -> Result<bool> {
    let sql = "INSERT INTO study_codes (study_id, key, label_en, label_zh, description_en, description_zh, position) \
               VALUES ($1, $2, $3, $4, $5, $5, (SELECT COALESCE(MAX(position), 0) + 1 FROM study_codes WHERE study_id = $1)) \
               ON CONFLICT (study_id, key) DO NOTHING";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(study_id).bind(key).bind(label_en).bind(label_zh).bind(description)
        .execute(pool).await?.rows_affected() == 1))
}

/// A code as edited by a researcher.
pub struct CodeEdit<'a> {
    pub label_en: &'a str,
    pub label_zh: &'a str,
    pub description_en: &'a str,
    pub description_zh: &'a str,
    /// Archived codes stay on past interviews but are not offered.
    pub archived: bool,
}

pub async fn update_code(db: &Db, study_id: i64, id: i64, e: &CodeEdit<'_>) -> Result<bool> {
    let sql = "UPDATE study_codes SET label_en = $1, label_zh = $2, description_en = $3, description_zh = $4, \
               archived = $5 WHERE id = $6 AND study_id = $7";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(e.label_en).bind(e.label_zh).bind(e.description_en)
        .bind(e.description_zh).bind(i64::from(e.archived)).bind(id).bind(study_id).execute(pool).await?.rows_affected() == 1))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interview {
    pub id: i64,
    pub booking_id: i64,
    pub consent: Option<Consent>,
    pub consent_on: Option<String>,
    pub notes: String,
    pub root_cause: String,
    pub follow_up: String,
    pub version: i64,
    pub updated_at: i64,
}

/// An interview as stored: its consent parsed as the row is read, so that
/// an unknown stored value is a typed error ([`UnknownState`]) here.
#[derive(sqlx::FromRow)]
struct InterviewRow {
    id: i64,
    booking_id: i64,
    consent: Option<String>,
    consent_on: Option<String>,
    notes: String,
    root_cause: String,
    follow_up: String,
    version: i64,
    updated_at: i64,
}

impl TryFrom<InterviewRow> for Interview {
    type Error = UnknownState;

    fn try_from(r: InterviewRow) -> Result<Interview, UnknownState> {
        Ok(Interview {
            id: r.id,
            booking_id: r.booking_id,
            consent: r.consent.map(Consent::try_from).transpose()?,
            consent_on: r.consent_on,
            notes: r.notes,
            root_cause: r.root_cause,
            follow_up: r.follow_up,
            version: r.version,
            updated_at: r.updated_at,
        })
    }
}

const COLUMNS: &str = "id, booking_id, consent, consent_on, notes, root_cause, follow_up, version, updated_at";

/// The interview of a booking, created empty on first use.
pub async fn for_booking(db: &Db, booking_id: i64, now: i64) -> Result<Interview> {
    let insert = "INSERT INTO interviews (booking_id, updated_at) VALUES ($1, $2) ON CONFLICT (booking_id) DO NOTHING";
    on_db!(db, pool => sqlx::query(insert).bind(booking_id).bind(now).execute(pool).await.map(drop)?);
    let sql = format!("SELECT {COLUMNS} FROM interviews WHERE booking_id = $1");
    let row: InterviewRow =
        on_db!(db, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(booking_id).fetch_one(pool).await?);
    Ok(Interview::try_from(row)?)
}

async fn get_in(tx: &mut Tx, id: i64) -> Result<Interview> {
    let sql = format!("SELECT {COLUMNS} FROM interviews WHERE id = $1");
    let row: InterviewRow =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_one(&mut *c).await?);
    Ok(Interview::try_from(row)?)
}

#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    /// Stored; the new version.
    Saved(i64),
    /// Someone saved something else meanwhile: the record as it is now.
    Conflict(Box<(Interview, Vec<i64>)>),
}

pub async fn codes_of(db: &Db, interview_id: i64) -> Result<Vec<i64>> {
    let sql = "SELECT code_id FROM interview_codes WHERE interview_id = $1 ORDER BY code_id";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(interview_id).fetch_all(pool).await?))
}

async fn codes_in(tx: &mut Tx, interview_id: i64) -> Result<Vec<i64>> {
    let sql = "SELECT code_id FROM interview_codes WHERE interview_id = $1 ORDER BY code_id";
    on_tx!(tx, c => Ok(sqlx::query_scalar(sql).bind(interview_id).fetch_all(&mut *c).await?))
}

/// The stored record, as the domain compares it.
fn record_of(i: &Interview, codes: Vec<i64>) -> Record {
    Record {
        consent: i.consent,
        consent_on: i.consent_on.clone(),
        notes: i.notes.clone(),
        root_cause: i.root_cause.clone(),
        follow_up: i.follow_up.clone(),
        codes,
    }
}

/// Saves a record made from `base_version`, as the domain's consent rule
/// stores it ([`Record::as_stored`]): withdrawn or refused consent clears
/// every free-text field and deletes the quotes in the same transaction.
/// A save that lost a race is decided by [`Record::stale_save`].
pub async fn save(db: &Db, id: i64, base_version: i64, r: &Record, by: i64, now: i64) -> Result<Saved> {
    let mut tx = db.begin().await?;
    // The write first: on SQLite the transaction is a writer from the start.
    let sql = "UPDATE interviews SET consent = $1, consent_on = $2, notes = $3, root_cause = $4, follow_up = $5, \
               version = version + 1, updated_at = $6, updated_by = $7 WHERE id = $8 AND version = $9";
    let stored = r.as_stored();
    let changed = on_tx!(&mut tx, c => sqlx::query(sql).bind(stored.consent.map(Consent::as_str)).bind(&stored.consent_on)
        .bind(&stored.notes).bind(&stored.root_cause).bind(&stored.follow_up).bind(now).bind(by).bind(id)
        .bind(base_version).execute(&mut *c).await?.rows_affected() == 1);
    if !changed {
        let current = get_in(&mut tx, id).await?;
        let codes = codes_in(&mut tx, id).await?;
        tx.rollback().await?;
        return Ok(match r.stale_save(&record_of(&current, codes.clone())) {
            StaleSave::AlreadySaved => Saved::Saved(current.version),
            StaleSave::Conflict => Saved::Conflict(Box::new((current, codes))),
        });
    }
    on_tx!(&mut tx, c => {
        sqlx::query("DELETE FROM interview_codes WHERE interview_id = $1").bind(id).execute(&mut *c).await?;
        for code in &stored.codes {
            sqlx::query("INSERT INTO interview_codes (interview_id, code_id) VALUES ($1, $2)")
                .bind(id).bind(code).execute(&mut *c).await?;
        }
        if !stored.keeps_free_text() {
            sqlx::query("DELETE FROM quotes WHERE interview_id = $1").bind(id).execute(&mut *c).await?;
        }
    });
    let version = get_in(&mut tx, id).await?.version;
    tx.commit().await?;
    Ok(Saved::Saved(version))
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Quote {
    pub id: i64,
    pub interview_id: i64,
    pub text: String,
    pub shareable: i64,
    pub code_id: Option<i64>,
    pub created_at: i64,
}

pub async fn quotes(db: &Db, interview_id: i64) -> Result<Vec<Quote>> {
    let sql = "SELECT id, interview_id, text, shareable, code_id, created_at FROM quotes WHERE interview_id = $1 \
               ORDER BY id";
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(interview_id).fetch_all(pool).await?))
}

/// Adds a quote; a repeated submit of the same text adds nothing.
pub async fn add_quote(
    db: &Db,
    interview_id: i64,
    text: &str,
    shareable: bool,
    code_id: Option<i64>,
    by: i64,
    now: i64,
) -> Result<bool> {
    let sql = "INSERT INTO quotes (interview_id, text, shareable, code_id, created_at, created_by) \
               SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS \
               (SELECT 1 FROM quotes WHERE interview_id = $1 AND text = $2)";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(interview_id).bind(text).bind(i64::from(shareable)).bind(code_id)
        .bind(now).bind(by).execute(pool).await?.rows_affected() == 1))
}

pub async fn delete_quote(db: &Db, interview_id: i64, quote_id: i64) -> Result<bool> {
    let sql = "DELETE FROM quotes WHERE id = $1 AND interview_id = $2";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(quote_id).bind(interview_id).execute(pool).await?.rows_affected() == 1))
}

/// Every interview of a study with a recorded consent: the participant's
/// tier frozen at draw time and the keys of its codes (refused or
/// withdrawn consent keeps the codes for counts, nothing else).
pub async fn coded_for_study(db: &Db, study_id: i64) -> Result<Vec<(String, Vec<String>)>> {
    let sql = "SELECT iv.id, inv.tier, c.key FROM interviews iv JOIN bookings b ON b.id = iv.booking_id \
               JOIN invitations inv ON inv.id = b.invitation_id \
               LEFT JOIN interview_codes ic ON ic.interview_id = iv.id LEFT JOIN study_codes c ON c.id = ic.code_id \
               WHERE inv.study_id = $1 AND iv.consent IS NOT NULL ORDER BY iv.id";
    let rows: Vec<(i64, String, Option<String>)> =
        on_db!(db, pool => sqlx::query_as(sql).bind(study_id).fetch_all(pool).await?);
    let mut out: Vec<(i64, String, Vec<String>)> = Vec::new();
    for (id, tier, code) in rows {
        if out.last().is_none_or(|l| l.0 != id) {
            out.push((id, tier, Vec::new()));
        }
        if let (Some(code), Some(last)) = (code, out.last_mut()) {
            last.2.push(code);
        }
    }
    Ok(out.into_iter().map(|(_, t, c)| (t, c)).collect())
}

/// A study's quotes with the tier frozen at draw time and the code key.
pub async fn quotes_for_study(db: &Db, study_id: i64) -> Result<Vec<(String, String, Option<String>, i64)>> {
    let sql = "SELECT q.text, inv.tier, c.key, q.shareable FROM quotes q JOIN interviews iv ON iv.id = q.interview_id \
               JOIN bookings b ON b.id = iv.booking_id JOIN invitations inv ON inv.id = b.invitation_id \
               LEFT JOIN study_codes c ON c.id = q.code_id WHERE inv.study_id = $1 AND iv.consent = $2 \
               ORDER BY q.id";
    let yes = Consent::Yes.as_str();
    on_db!(db, pool => Ok(sqlx::query_as(sql).bind(study_id).bind(yes).fetch_all(pool).await?))
}
