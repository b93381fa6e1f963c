//! The server's own secret keys, generated at the first start and shared
//! by every instance that serves the database.

use anyhow::Result;
use sqlx::Row;

use super::Db;
use crate::on_db;

/// The stored value of `name`, storing `candidate` first when there is
/// none (the first instance to start wins; the others read its value).
pub async fn get_or_insert(db: &Db, name: &str, candidate: &str) -> Result<String> {
    let insert = "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
    let select = "SELECT value FROM server_secrets WHERE name = $1";
    on_db!(db, pool => {
        sqlx::query(insert).bind(name).bind(candidate).execute(pool).await?;
        Ok(sqlx::query(select).bind(name).fetch_one(pool).await?.try_get("value")?)
    })
}
