//! Accounts and their sessions.

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx, now};
use crate::domain::account::Role;
use crate::{on_db, on_tx};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
}

/// A signed-in session with its account.
#[derive(Clone, Debug)]
pub struct Session {
    pub account: Account,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen: i64,
}

fn account(r: &impl SqlRow) -> Result<Account> {
    let role: String = r.get_str("role")?;
    Ok(Account {
        id: r.get_i64("id")?,
        email: r.get_str("email")?,
        name: r.get_str("name")?,
        role: Role::parse(&role).unwrap_or(Role::Manager),
        disabled: r.get_i64("disabled")? != 0,
    })
}

/// Reads the same columns from either backend's rows.
trait SqlRow {
    fn get_str(&self, c: &str) -> Result<String>;
    fn get_i64(&self, c: &str) -> Result<i64>;
}

impl SqlRow for sqlx::sqlite::SqliteRow {
    fn get_str(&self, c: &str) -> Result<String> {
        Ok(self.try_get(c)?)
    }
    fn get_i64(&self, c: &str) -> Result<i64> {
        Ok(self.try_get(c)?)
    }
}

impl SqlRow for sqlx::postgres::PgRow {
    fn get_str(&self, c: &str) -> Result<String> {
        Ok(self.try_get(c)?)
    }
    fn get_i64(&self, c: &str) -> Result<i64> {
        Ok(self.try_get(c)?)
    }
}

const ACCOUNT_COLUMNS: &str = "id, email, name, role, disabled";

pub async fn count(db: &Db) -> Result<i64> {
    on_db!(db, pool => Ok(sqlx::query("SELECT COUNT(*) AS n FROM accounts").fetch_one(pool).await?.try_get("n")?))
}

/// Creates an account; `Ok(None)` when the e-mail is taken.
pub async fn create(db: &Db, email: &str, name: &str, role: Role, password_hash: &str) -> Result<Option<i64>> {
    let sql = "INSERT INTO accounts (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (email) DO NOTHING RETURNING id";
    on_db!(db, pool => {
        let row = sqlx::query(sql).bind(email).bind(name).bind(role.as_str()).bind(password_hash).bind(now())
            .fetch_optional(pool).await?;
        Ok(match row { Some(r) => Some(r.try_get("id")?), None => None })
    })
}

/// [`create`] inside a transaction.
pub async fn create_in(tx: &mut Tx, email: &str, name: &str, role: Role, password_hash: &str) -> Result<Option<i64>> {
    let sql = "INSERT INTO accounts (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (email) DO NOTHING RETURNING id";
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(email).bind(name).bind(role.as_str())
        .bind(password_hash).bind(now()).fetch_optional(&mut *c).await?);
    Ok(id)
}

/// The account and its password hash, by e-mail.
pub async fn find_for_login(db: &Db, email: &str) -> Result<Option<(Account, String)>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE email = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(email).fetch_optional(pool).await? {
            Some(r) => Ok(Some((account(&r)?, r.try_get("password_hash")?))),
            None => Ok(None),
        }
    })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await? {
            Some(r) => Ok(Some(account(&r)?)),
            None => Ok(None),
        }
    })
}

pub async fn list(db: &Db) -> Result<Vec<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY email");
    on_db!(db, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?.iter().map(account).collect()
    })
}

pub async fn set_role(db: &Db, id: i64, role: Role) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET role = $1 WHERE id = $2").bind(role.as_str()).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn set_disabled(db: &Db, id: i64, disabled: bool) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET disabled = $1 WHERE id = $2").bind(i64::from(disabled)).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn set_password(db: &Db, id: i64, password_hash: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2").bind(password_hash).bind(id).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn create_session(db: &Db, token_hash: &str, account_id: i64, csrf_token: &str) -> Result<()> {
    let sql =
        "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)";
    on_db!(db, pool => sqlx::query(sql).bind(token_hash).bind(account_id).bind(csrf_token).bind(now()).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn session(db: &Db, token_hash: &str) -> Result<Option<Session>> {
    let sql = "SELECT a.id, a.email, a.name, a.role, a.disabled, s.csrf_token, s.created_at, s.last_seen \
               FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1";
    on_db!(db, pool => {
        match sqlx::query(sql).bind(token_hash).fetch_optional(pool).await? {
            Some(r) => Ok(Some(Session {
                account: account(&r)?,
                csrf_token: r.try_get("csrf_token")?,
                created_at: r.try_get("created_at")?,
                last_seen: r.try_get("last_seen")?,
            })),
            None => Ok(None),
        }
    })
}

pub async fn touch_session(db: &Db, token_hash: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2").bind(now()).bind(token_hash).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await.map(drop)?);
    Ok(())
}

/// Ends every session of an account (role change, disabling).
pub async fn delete_sessions_of(db: &Db, account_id: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM sessions WHERE account_id = $1").bind(account_id).execute(pool).await.map(drop)?);
    Ok(())
}

/// Ends every session of an account but one (after a password change).
pub async fn delete_other_sessions(db: &Db, account_id: i64, keep_token_hash: &str) -> Result<()> {
    let sql = "DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2";
    on_db!(db, pool => sqlx::query(sql).bind(account_id).bind(keep_token_hash).execute(pool).await.map(drop)?);
    Ok(())
}
