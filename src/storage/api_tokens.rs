//! API tokens for the push API. Only a token's SHA-256 is stored; it is the
//! key a presented token is looked up by. Tokens are revoked, never deleted,
//! so the list keeps their history.

use anyhow::Result;
use sqlx::Row;

use super::{Db, now};
use crate::on_db;

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Push events (`POST /api/v1/events`).
    Ingest,
    /// Read metrics and summaries.
    Read,
    /// Provision people and groups by SCIM 2.0 (`/scim/v2`).
    Scim,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Ingest, Scope::Read, Scope::Scim];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Scim => "scim",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token as listed (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    /// The e-mail of the account that created it, while that account exists.
    pub created_by: Option<String>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiToken {
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

fn scopes_text(scopes: &[Scope]) -> String {
    let mut s: Vec<Scope> = scopes.to_vec();
    s.sort();
    s.dedup();
    s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split_whitespace().filter_map(Scope::parse).collect()
}

const COLUMNS: &str = "t.id, t.name, t.scopes, t.created_at, a.email AS created_by, t.last_used_at, t.revoked_at \
                       FROM api_tokens t LEFT JOIN accounts a ON a.id = t.created_by";

macro_rules! token_of {
    ($r:expr) => {{
        let r = $r;
        let scopes: String = r.try_get("scopes")?;
        ApiToken {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            scopes: parse_scopes(&scopes),
            created_at: r.try_get("created_at")?,
            created_by: r.try_get("created_by")?,
            last_used_at: r.try_get("last_used_at")?,
            revoked_at: r.try_get("revoked_at")?,
        }
    }};
}

/// Stores a new token by its hash; returns its id.
pub async fn create(db: &Db, name: &str, scopes: &[Scope], token_hash: &str, created_by: Option<i64>) -> Result<i64> {
    let sql = "INSERT INTO api_tokens (name, token_hash, scopes, created_at, created_by) \
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let scopes = scopes_text(scopes);
    on_db!(db, pool => {
        let r = sqlx::query(sql).bind(name).bind(token_hash).bind(&scopes).bind(now()).bind(created_by)
            .fetch_one(pool).await?;
        Ok(r.try_get("id")?)
    })
}

/// Every token, newest first.
pub async fn list(db: &Db) -> Result<Vec<ApiToken>> {
    let sql = format!("SELECT {COLUMNS} ORDER BY t.id DESC");
    on_db!(db, pool => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(token_of!(r));
        }
        Ok(out)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<ApiToken>> {
    let sql = format!("SELECT {COLUMNS} WHERE t.id = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await? {
            Some(r) => Ok(Some(token_of!(&r))),
            None => Ok(None),
        }
    })
}

/// The token with this hash, revoked or not. The hash is the key: the
/// lookup is an index search, so nothing compares the secret byte by byte.
/// Whether the account that created a token may still hand out access: it
/// exists, is enabled and is an administrator. Tokens created outside the
/// web app (no creator) are not tied to an account.
pub async fn creator_still_admin(db: &Db, token_id: i64) -> Result<bool> {
    let sql = "SELECT a.disabled, a.role FROM api_tokens t JOIN accounts a ON a.id = t.created_by WHERE t.id = $1";
    let creator_sql = "SELECT created_by FROM api_tokens WHERE id = $1";
    on_db!(db, pool => {
        let created_by: Option<i64> = match sqlx::query(creator_sql).bind(token_id).fetch_optional(pool).await? {
            Some(r) => r.try_get("created_by")?,
            None => return Ok(false),
        };
        if created_by.is_none() {
            return Ok(true);
        }
        match sqlx::query(sql).bind(token_id).fetch_optional(pool).await? {
            Some(r) => {
                let disabled: i64 = r.try_get("disabled")?;
                let role: String = r.try_get("role")?;
                Ok(disabled == 0 && role == "admin")
            }
            None => Ok(false),
        }
    })
}

pub async fn find_by_hash(db: &Db, token_hash: &str) -> Result<Option<ApiToken>> {
    let sql = format!("SELECT {COLUMNS} WHERE t.token_hash = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash).fetch_optional(pool).await? {
            Some(r) => Ok(Some(token_of!(&r))),
            None => Ok(None),
        }
    })
}

/// Revokes a token; `false` when it was already revoked (or is unknown).
pub async fn revoke(db: &Db, id: i64) -> Result<bool> {
    let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
    let n = on_db!(db, pool => sqlx::query(sql).bind(now()).bind(id).execute(pool).await?.rows_affected());
    Ok(n > 0)
}

/// Notes a use of the token, at most once a minute.
pub async fn touch(db: &Db, id: i64) -> Result<()> {
    let sql = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)";
    let t = now();
    on_db!(db, pool => sqlx::query(sql).bind(t).bind(id).bind(t - 60).execute(pool).await.map(drop)?);
    Ok(())
}
