//! OpenID Connect providers, the accounts linked to their subjects, the
//! sign-ins under way, and which provider opened a session.

use anyhow::Result;
use sqlx::Row;

use super::{Db, now};
use crate::domain::account::Role;
use crate::domain::oidc::{ProviderSettings, RoleMapping};
use crate::on_db;

/// A stored provider. The sealed secret is only ever opened to talk to the
/// provider; pages show whether one is set.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: i64,
    pub settings: ProviderSettings,
    pub secret_sealed: String,
    pub secret_env: String,
}

impl Provider {
    pub fn secret_set(&self) -> bool {
        !self.secret_sealed.is_empty() || !self.secret_env.is_empty()
    }
}

const COLUMNS: &str = "id, slug, display_name, issuer_url, client_id, client_secret_sealed, client_secret_env, \
    scopes, jit, trust_email, groups_claim, role_mapping, default_role";

macro_rules! provider_of {
    ($r:expr) => {{
        let r = $r;
        let mapping: String = r.try_get("role_mapping")?;
        let default_role: String = r.try_get("default_role")?;
        Provider {
            id: r.try_get("id")?,
            settings: ProviderSettings {
                slug: r.try_get("slug")?,
                display_name: r.try_get("display_name")?,
                issuer_url: r.try_get("issuer_url")?,
                client_id: r.try_get("client_id")?,
                scopes: r.try_get("scopes")?,
                jit: r.try_get::<i64, _>("jit")? != 0,
                trust_email: r.try_get::<i64, _>("trust_email")? != 0,
                groups_claim: r.try_get("groups_claim")?,
                mapping: RoleMapping::parse(&mapping).unwrap_or_default(),
                default_role: Role::parse(&default_role),
            },
            secret_sealed: r.try_get("client_secret_sealed")?,
            secret_env: r.try_get("client_secret_env")?,
        }
    }};
}

pub async fn list(db: &Db) -> Result<Vec<Provider>> {
    let sql = format!("SELECT {COLUMNS} FROM oidc_providers ORDER BY display_name, id");
    on_db!(db, pool => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?;
        rows.iter().map(|r| Ok(provider_of!(r))).collect()
    })
}

pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Provider>> {
    let sql = format!("SELECT {COLUMNS} FROM oidc_providers WHERE slug = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(slug).fetch_optional(pool).await? {
            Some(r) => Ok(Some(provider_of!(&r))),
            None => Ok(None),
        }
    })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Provider>> {
    let sql = format!("SELECT {COLUMNS} FROM oidc_providers WHERE id = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await? {
            Some(r) => Ok(Some(provider_of!(&r))),
            None => Ok(None),
        }
    })
}

fn role_text(role: Option<Role>) -> &'static str {
    role.map(Role::as_str).unwrap_or("")
}

/// Adds a provider; `Ok(None)` when its slug is taken.
pub async fn insert(db: &Db, s: &ProviderSettings, secret_sealed: &str, secret_env: &str) -> Result<Option<i64>> {
    let sql = "INSERT INTO oidc_providers (slug, display_name, issuer_url, client_id, client_secret_sealed, \
        client_secret_env, scopes, jit, groups_claim, role_mapping, default_role, created_at, updated_at, trust_email) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13) ON CONFLICT (slug) DO NOTHING RETURNING id";
    on_db!(db, pool => {
        let id: Option<i64> = sqlx::query_scalar(sql)
            .bind(&s.slug).bind(&s.display_name).bind(&s.issuer_url).bind(&s.client_id).bind(secret_sealed)
            .bind(secret_env).bind(&s.scopes).bind(i64::from(s.jit)).bind(&s.groups_claim)
            .bind(s.mapping.to_text()).bind(role_text(s.default_role)).bind(now()).bind(i64::from(s.trust_email))
            .fetch_optional(pool).await?;
        Ok(id)
    })
}

/// Changes a provider's settings (its slug stays). The secret changes only
/// when `secret` is given: `(sealed, env)`.
pub async fn update(db: &Db, id: i64, s: &ProviderSettings, secret: Option<(&str, &str)>) -> Result<bool> {
    let sql = "UPDATE oidc_providers SET display_name = $1, issuer_url = $2, client_id = $3, scopes = $4, jit = $5, \
        groups_claim = $6, role_mapping = $7, default_role = $8, updated_at = $9, trust_email = $11 WHERE id = $10";
    let changed = on_db!(db, pool => sqlx::query(sql)
        .bind(&s.display_name).bind(&s.issuer_url).bind(&s.client_id).bind(&s.scopes).bind(i64::from(s.jit))
        .bind(&s.groups_claim).bind(s.mapping.to_text()).bind(role_text(s.default_role)).bind(now()).bind(id)
        .bind(i64::from(s.trust_email)).execute(pool).await?.rows_affected());
    if let Some((sealed, env)) = secret {
        let sql = "UPDATE oidc_providers SET client_secret_sealed = $1, client_secret_env = $2 WHERE id = $3";
        on_db!(db, pool => sqlx::query(sql).bind(sealed).bind(env).bind(id).execute(pool).await.map(drop)?);
    }
    Ok(changed > 0)
}

/// Removes a provider with its links and sign-ins under way.
pub async fn delete(db: &Db, id: i64) -> Result<bool> {
    let statements = [
        "DELETE FROM oidc_sessions WHERE provider_id = $1",
        "DELETE FROM oidc_logins WHERE provider_id = $1",
        "DELETE FROM oidc_links WHERE provider_id = $1",
    ];
    for sql in statements {
        on_db!(db, pool => sqlx::query(sql).bind(id).execute(pool).await.map(drop)?);
    }
    let n = on_db!(db, pool => sqlx::query("DELETE FROM oidc_providers WHERE id = $1").bind(id).execute(pool).await?.rows_affected());
    Ok(n > 0)
}

/// The account linked to a provider's subject.
pub async fn linked_account(db: &Db, provider_id: i64, subject: &str) -> Result<Option<i64>> {
    let sql = "SELECT account_id FROM oidc_links WHERE provider_id = $1 AND subject = $2";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(provider_id).bind(subject).fetch_optional(pool).await?))
}

pub async fn link(db: &Db, provider_id: i64, subject: &str, account_id: i64) -> Result<()> {
    let sql = "INSERT INTO oidc_links (provider_id, subject, account_id, created_at) VALUES ($1, $2, $3, $4) \
        ON CONFLICT (provider_id, subject) DO NOTHING";
    on_db!(db, pool => sqlx::query(sql).bind(provider_id).bind(subject).bind(account_id).bind(now())
        .execute(pool).await.map(drop)?);
    Ok(())
}

/// Records a sign-in under way, and forgets those older than `stale_before`.
pub async fn begin_login(db: &Db, state_hash: &str, provider_id: i64, sealed: &str, next: &str) -> Result<()> {
    let sql = "INSERT INTO oidc_logins (state_hash, provider_id, secrets_sealed, next, created_at) \
        VALUES ($1, $2, $3, $4, $5)";
    on_db!(db, pool => sqlx::query(sql).bind(state_hash).bind(provider_id).bind(sealed).bind(next).bind(now())
        .execute(pool).await.map(drop)?);
    Ok(())
}

/// A sign-in under way, taken once: `(provider_id, sealed secrets, next,
/// created_at)`; the row is gone afterwards, so a state works only once.
pub async fn take_login(db: &Db, state_hash: &str) -> Result<Option<(i64, String, String, i64)>> {
    let sql = "DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING provider_id, secrets_sealed, next, created_at";
    on_db!(db, pool => {
        match sqlx::query(sql).bind(state_hash).fetch_optional(pool).await? {
            Some(r) => Ok(Some((r.try_get("provider_id")?, r.try_get("secrets_sealed")?, r.try_get("next")?, r.try_get("created_at")?))),
            None => Ok(None),
        }
    })
}

/// Forgets sign-ins begun before `before` and never finished.
pub async fn prune_logins(db: &Db, before: i64) -> Result<()> {
    on_db!(db, pool => sqlx::query("DELETE FROM oidc_logins WHERE created_at < $1").bind(before).execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn remember_session(db: &Db, session_token_hash: &str, provider_id: i64, id_token: &str) -> Result<()> {
    let sql = "INSERT INTO oidc_sessions (session_token_hash, provider_id, id_token) VALUES ($1, $2, $3)";
    on_db!(db, pool => sqlx::query(sql).bind(session_token_hash).bind(provider_id).bind(id_token).execute(pool).await.map(drop)?);
    Ok(())
}

/// The provider and ID token of a session opened through a provider,
/// forgotten as it is read (the session is ending).
pub async fn take_session(db: &Db, session_token_hash: &str) -> Result<Option<(i64, String)>> {
    let sql = "DELETE FROM oidc_sessions WHERE session_token_hash = $1 RETURNING provider_id, id_token";
    on_db!(db, pool => {
        match sqlx::query(sql).bind(session_token_hash).fetch_optional(pool).await? {
            Some(r) => Ok(Some((r.try_get("provider_id")?, r.try_get("id_token")?))),
            None => Ok(None),
        }
    })
}
