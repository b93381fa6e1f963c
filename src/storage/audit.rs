//! The audit log: who exported, imported, changed settings or roles, or
//! viewed a person. Targets are ids, never personal details.

use anyhow::Result;
use sqlx::Row;

use super::{Db, now};
use crate::on_db;

#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub account_email: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// A detail that each reader's page can say in its own language: a
/// message key and its values, stored as JSON (`{"key":...,"args":{...}}`).
pub fn detail(key: &str, args: &[(&str, String)]) -> String {
    let args: serde_json::Map<String, serde_json::Value> =
        args.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone()))).collect();
    serde_json::json!({ "key": key, "args": args }).to_string()
}

/// A detail written by `detail`: its key and values; None for free text.
pub fn parse_detail(text: &str) -> Option<(String, Vec<(String, String)>)> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let key = v.get("key")?.as_str()?.to_string();
    let args = v
        .get("args")?
        .as_object()?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
        .collect();
    Some((key, args))
}

pub async fn record(
    db: &Db,
    account: Option<(i64, &str)>,
    action: &str,
    target: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    let sql =
        "INSERT INTO audit_log (at, account_id, account_email, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(now()).bind(account.map(|a| a.0)).bind(account.map(|a| a.1)).bind(action).bind(target).bind(detail)
        .execute(pool).await.map(drop)?);
    Ok(())
}

/// How long a second view of the same thing by the same account counts as
/// the same visit (a page reloaded, saved and shown again).
pub const VIEW_VISIT_SECONDS: i64 = 10 * 60;

/// Records that an account viewed something, once per visit: nothing is
/// written when the same account viewed the same target within
/// `VIEW_VISIT_SECONDS`.
pub async fn record_view(db: &Db, account: (i64, &str), action: &str, target: &str) -> Result<()> {
    let at = now();
    let sql = "INSERT INTO audit_log (at, account_id, account_email, action, target, detail) \
        SELECT $1, $2, $3, $4, $5, NULL WHERE NOT EXISTS (SELECT 1 FROM audit_log \
        WHERE account_id = $2 AND action = $4 AND target = $5 AND at > $6)";
    on_db!(db, pool => sqlx::query(sql)
        .bind(at).bind(account.0).bind(account.1).bind(action).bind(target).bind(at - VIEW_VISIT_SECONDS)
        .execute(pool).await.map(drop)?);
    Ok(())
}

pub async fn recent(db: &Db, limit: i64, offset: i64) -> Result<Vec<AuditEntry>> {
    let sql = "SELECT id, at, account_email, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2";
    on_db!(db, pool => {
        sqlx::query(sql).bind(limit).bind(offset).fetch_all(pool).await?.into_iter().map(|r| Ok(AuditEntry {
            id: r.try_get("id")?,
            at: r.try_get("at")?,
            account_email: r.try_get("account_email")?,
            action: r.try_get("action")?,
            target: r.try_get("target")?,
            detail: r.try_get("detail")?,
        })).collect()
    })
}
