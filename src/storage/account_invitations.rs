//! Invitations to create an account: the e-mail and role an admin chose,
//! and the hash of the one-time link's token.

use anyhow::Result;

use super::{Db, Tx};
use crate::{on_db, on_tx};

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountInvitation {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub account_id: Option<i64>,
}

const COLUMNS: &str = "id, email, name, role, created_at, expires_at, used_at, account_id";

/// Records an invitation with a stand-in token hash (the real one is
/// derived from the id: [`set_token_hash`]); returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx,
    email: &str,
    name: &str,
    role: &str,
    stand_in_hash: &str,
    invited_by: Option<i64>,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    let sql = "INSERT INTO account_invitations (email, name, role, token_hash, invited_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(email).bind(name).bind(role).bind(stand_in_hash)
        .bind(invited_by).bind(now).bind(expires_at).fetch_one(&mut *c).await?);
    Ok(id)
}

pub async fn set_token_hash(tx: &mut Tx, id: i64, hash: &str) -> Result<()> {
    let sql = "UPDATE account_invitations SET token_hash = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(hash).execute(&mut *c).await.map(drop)?);
    Ok(())
}

pub async fn by_token_hash(db: &Db, hash: &str) -> Result<Option<AccountInvitation>> {
    let sql = format!("SELECT {COLUMNS} FROM account_invitations WHERE token_hash = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(hash).fetch_optional(pool).await?))
}

pub async fn get(db: &Db, id: i64) -> Result<Option<AccountInvitation>> {
    let sql = format!("SELECT {COLUMNS} FROM account_invitations WHERE id = $1");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await?))
}

/// Invitations not used, withdrawn or expired, newest first.
pub async fn open(db: &Db, now: i64) -> Result<Vec<AccountInvitation>> {
    let sql =
        format!("SELECT {COLUMNS} FROM account_invitations WHERE used_at IS NULL AND expires_at > $1 ORDER BY id DESC");
    on_db!(db, pool => Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(now).fetch_all(pool).await?))
}

/// Uses an invitation once, for `account_id`: false when it was used,
/// withdrawn or expired meanwhile.
pub async fn use_once(tx: &mut Tx, id: i64, account_id: Option<i64>, now: i64) -> Result<bool> {
    let sql = "UPDATE account_invitations SET used_at = $2, account_id = $3 \
               WHERE id = $1 AND used_at IS NULL AND expires_at > $2";
    let n =
        on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).bind(account_id).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}
