//! An interviewer's own meeting place (`domain::meeting`), which wins over
//! the study's.

use anyhow::Result;

use super::{Db, Tx};
use crate::domain::meeting::{Place, PlaceKind};
use crate::{on_db, on_tx};

const SELECT: &str = "SELECT kind, detail FROM interviewer_places WHERE account_id = $1";

/// A stored row as a place (an unknown stored kind reads as none).
fn place(row: Option<(String, String)>) -> Option<Place> {
    row.and_then(|(kind, detail)| PlaceKind::parse(&kind).map(|kind| Place { kind, detail }))
}

/// The interviewer's place, if they set one.
pub async fn of(db: &Db, account_id: i64) -> Result<Option<Place>> {
    Ok(place(on_db!(db, pool => sqlx::query_as(SELECT).bind(account_id).fetch_optional(pool).await?)))
}

/// [`of`], inside a transaction.
pub async fn of_in(tx: &mut Tx, account_id: i64) -> Result<Option<Place>> {
    Ok(place(on_tx!(tx, c => sqlx::query_as(SELECT).bind(account_id).fetch_optional(&mut *c).await?)))
}

/// Sets (or, with `None`, clears) the interviewer's place.
pub async fn set(db: &Db, account_id: i64, place: Option<&Place>) -> Result<()> {
    match place {
        Some(p) => {
            let sql = "INSERT INTO interviewer_places (account_id, kind, detail) VALUES ($1, $2, $3) \
                       ON CONFLICT (account_id) DO UPDATE SET kind = excluded.kind, detail = excluded.detail";
            on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(p.kind.as_str()).bind(&p.detail)
                .execute(pool).await.map(drop)?);
        }
        None => {
            let sql = "DELETE FROM interviewer_places WHERE account_id = $1";
            on_db!(db, pool => sqlx::query(sql).bind(account_id).execute(pool).await.map(drop)?);
        }
    }
    Ok(())
}
