//! Interviewers' private calendar feeds: one hashed token per account.

use anyhow::Result;

use super::Db;
use crate::on_db;

/// Stores the hash of the account's new feed token, replacing any earlier
/// one (whose URL stops working).
pub async fn replace(db: &Db, account_id: i64, token_hash: &str, now: i64) -> Result<()> {
    let sql = "INSERT INTO interviewer_feeds (account_id, token_hash, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (account_id) DO UPDATE SET token_hash = excluded.token_hash, \
               created_at = excluded.created_at";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(token_hash).bind(now).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn revoke(db: &Db, account_id: i64) -> Result<bool> {
    let sql = "DELETE FROM interviewer_feeds WHERE account_id = $1";
    on_db!(db, pool => Ok(sqlx::query(sql).bind(account_id).execute(pool).await?.rows_affected() == 1))
}

/// When the account's current feed was issued, if it has one.
pub async fn issued_at(db: &Db, account_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT created_at FROM interviewer_feeds WHERE account_id = $1";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(account_id).fetch_optional(pool).await?))
}

/// The account whose feed token hashes to `token_hash`.
pub async fn account_of(db: &Db, token_hash: &str) -> Result<Option<i64>> {
    let sql = "SELECT account_id FROM interviewer_feeds WHERE token_hash = $1";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(token_hash).fetch_optional(pool).await?))
}
