//! The holdout of a study: people set aside when a round was drawn, never
//! contacted by that study.

use std::collections::HashSet;

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx};
use crate::{on_db, on_tx};

/// One person held out, with the tier and department at draw time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldOut {
    pub round_id: i64,
    pub person_id: i64,
    pub user_id: String,
    pub tier: String,
    pub department: Option<String>,
}

/// Sets a person aside for a study; false when already held out in it.
pub async fn insert(
    tx: &mut Tx,
    study_id: i64,
    round_id: i64,
    person_id: i64,
    tier: &str,
    department: Option<&str>,
    now: i64,
) -> Result<bool> {
    let sql = "INSERT INTO holdouts (study_id, round_id, person_id, tier, department, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (study_id, person_id) DO NOTHING";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(study_id).bind(round_id).bind(person_id).bind(tier)
        .bind(department).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// The ids of the people a study holds out.
pub async fn people_of(db: &Db, study_id: i64) -> Result<HashSet<i64>> {
    let sql = "SELECT person_id FROM holdouts WHERE study_id = $1";
    let ids: Vec<i64> = on_db!(db, pool => sqlx::query_scalar(sql).bind(study_id).fetch_all(pool).await?);
    Ok(ids.into_iter().collect())
}

/// Whether a study holds a person out (inside a transaction).
pub async fn holds(tx: &mut Tx, study_id: i64, person_id: i64) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM holdouts WHERE study_id = $1 AND person_id = $2";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(study_id).bind(person_id).fetch_one(&mut *c).await?);
    Ok(n > 0)
}

/// A study's holdout, by round then user id.
pub async fn for_study(db: &Db, study_id: i64) -> Result<Vec<HeldOut>> {
    let sql = "SELECT h.round_id, h.person_id, p.user_id, h.tier, h.department FROM holdouts h \
               JOIN people p ON p.id = h.person_id WHERE h.study_id = $1 ORDER BY h.round_id, p.user_id";
    on_db!(db, pool => {
        sqlx::query(sql).bind(study_id).fetch_all(pool).await?.into_iter().map(|r| Ok(HeldOut {
            round_id: r.try_get("round_id")?,
            person_id: r.try_get("person_id")?,
            user_id: r.try_get("user_id")?,
            tier: r.try_get("tier")?,
            department: r.try_get("department")?,
        })).collect()
    })
}

/// People held out per round of a study: NULL (as many as the round
/// invites) or a number.
pub async fn size_of(db: &Db, study_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT holdout_size FROM studies WHERE id = $1";
    on_db!(db, pool => Ok(sqlx::query_scalar::<_, Option<i64>>(sql).bind(study_id).fetch_optional(pool).await?.flatten()))
}

/// Sets the holdout size of a study (None: as many as the round invites).
pub async fn set_size(db: &Db, study_id: i64, size: Option<i64>) -> Result<()> {
    let sql = "UPDATE studies SET holdout_size = $2 WHERE id = $1";
    on_db!(db, pool => sqlx::query(sql).bind(study_id).bind(size).execute(pool).await.map(drop)?);
    Ok(())
}
