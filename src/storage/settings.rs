//! The `settings` table: plain key-value text. Meaning and validation live
//! in `domain::settings`.

use std::collections::BTreeMap;

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx};
use crate::{on_db, on_tx};

pub async fn all(db: &Db) -> Result<BTreeMap<String, String>> {
    let rows = on_db!(db, pool => {
        sqlx::query("SELECT key, value FROM settings").fetch_all(pool).await?
            .into_iter().map(|r| Ok((r.try_get("key")?, r.try_get("value")?))).collect::<Result<Vec<(String, String)>>>()?
    });
    Ok(rows.into_iter().collect())
}

pub async fn set(db: &Db, key: &str, value: &str) -> Result<()> {
    let sql =
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    on_db!(db, pool => sqlx::query(sql).bind(key).bind(value).execute(pool).await.map(drop)?);
    Ok(())
}

/// Sets a setting inside a transaction (e.g. the data version an import bumps).
pub async fn set_in(tx: &mut Tx, key: &str, value: &str) -> Result<()> {
    let sql =
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    on_tx!(tx, conn => sqlx::query(sql).bind(key).bind(value).execute(conn).await.map(drop))?;
    Ok(())
}

pub async fn unset(db: &Db, key: &str) -> Result<bool> {
    let n = on_db!(db, pool => sqlx::query("DELETE FROM settings WHERE key = $1").bind(key).execute(pool).await?.rows_affected());
    Ok(n > 0)
}
