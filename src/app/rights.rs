//! A person's rights: an export of everything held about them, and
//! erasure. The audit log records both by id only.

use anyhow::{Context, Result};
use serde_json::Value;

use crate::storage::{Db, audit, rights};

/// Everything held about the person, or `None` for an unknown user id.
pub async fn export(db: &Db, user_id: &str, actor: Option<(i64, &str)>) -> Result<Option<Value>> {
    let Some(id) = rights::person_id(db, user_id.trim()).await.context("rights::person_id")? else { return Ok(None) };
    let data = rights::export(db, id).await.context("rights::export")?;
    audit::record(db, actor, "person.export", Some(&format!("person:{id}")), None).await.context("audit::record")?;
    Ok(Some(data))
}

/// Erases the person and everything naming them, in one transaction; the
/// data version moves on so every aggregate is computed again. `false` for
/// an unknown user id.
pub async fn erase(db: &Db, user_id: &str, actor: Option<(i64, &str)>) -> Result<bool> {
    let Some(id) = rights::person_id(db, user_id.trim()).await.context("rights::person_id")? else { return Ok(false) };
    let mut tx = db.begin().await?;
    let counts = rights::erase(&mut tx, id, user_id.trim()).await.context("rights::erase")?;
    super::import::bump_data_version(&mut tx).await?;
    // Stored results name them too: none is served again (not even while
    // the next ones are computed).
    crate::storage::results::clear_in(&mut tx).await.context("results::clear_in")?;
    tx.commit().await?;
    let detail = counts.iter().filter(|(_, n)| *n > 0).map(|(t, n)| format!("{t}: {n}")).collect::<Vec<_>>().join(", ");
    audit::record(db, actor, "person.erase", Some("person:erased"), Some(&detail)).await.context("audit::record")?;
    Ok(true)
}
