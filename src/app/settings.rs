//! Reading and changing organisation settings.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};

use super::outreach::{Environment, Links, Outreach};
use crate::domain::settings::{InflateLimits, OrgSettings, validate};
use crate::storage::{Db, settings as store};

/// Prefix of internal bookkeeping keys, never shown as settings.
pub const INTERNAL_PREFIX: &str = "_";
pub const DATA_VERSION_KEY: &str = "_data_version";

pub async fn load(db: &Db) -> Result<OrgSettings> {
    let map = stored(db).await?;
    OrgSettings::from_map(&map).map_err(|e| anyhow!(e))
}

/// How far a gzipped import may inflate (`import.max_inflated_mb`,
/// `import.max_ratio`).
pub async fn inflate_limits(db: &Db) -> Result<InflateLimits> {
    Ok(InflateLimits::from_map(&stored(db).await?))
}

/// The stored settings, without internal keys.
pub async fn stored(db: &Db) -> Result<BTreeMap<String, String>> {
    let mut map = store::all(db).await?;
    map.retain(|k, _| !k.starts_with(INTERNAL_PREFIX));
    Ok(map)
}

/// Why a setting was not set.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// The value does not fit the key: what is wrong, in words for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("storing the setting failed: {0:#}")]
    Store(anyhow::Error),
}

/// Validates and stores a setting; returns the stored value.
pub async fn set(db: &Db, key: &str, value: &str) -> Result<String, SetError> {
    let value = validate(key, value).map_err(SetError::Invalid)?;
    store::set(db, key, &value).await.map_err(SetError::Store)?;
    Ok(value)
}

/// The application's public address, when one is configured (the
/// `public_url` setting, else `UNDERCURRENT_PUBLIC_URL`).
pub async fn public_url(db: &Db) -> Result<Option<String>> {
    let stored = stored(db).await?.remove("public_url").filter(|v| !v.trim().is_empty());
    Ok(stored.or_else(|| Environment::get().public_url.clone()))
}

/// The base address of participants' links: the public address, else the
/// address the server was configured with; `None` when none is known (then
/// no message with links may go).
pub async fn links_base(db: &Db, configured: Option<&str>) -> Result<Option<String>> {
    Ok(public_url(db).await?.or_else(|| configured.map(str::to_string)))
}

/// The outreach configuration in force: links' base address (the
/// `public_url` setting, else `UNDERCURRENT_PUBLIC_URL`, else `fallback`),
/// sender and reminders; and the SMTP URL (`SMTP_URL` in the environment
/// wins over the `mail.smtp_url` setting; none: the outbox folder).
pub async fn outreach(db: &Db, fallback_base: &str) -> Result<(Outreach, Option<String>)> {
    let map = stored(db).await?;
    let env = Environment::get();
    let base = map.get("public_url").cloned().or_else(|| env.public_url.clone()).unwrap_or(fallback_base.into());
    let from = map.get("mail.from").cloned().unwrap_or_else(|| "Undercurrent <undercurrent@localhost>".into());
    let reminders = crate::domain::settings::parse_reminders(
        map.get("mail.reminders").map(String::as_str).unwrap_or(crate::domain::settings::DEFAULT_REMINDERS),
    )
    .unwrap_or_default();
    let smtp = env.smtp_url.clone().or_else(|| map.get("mail.smtp_url").cloned());
    let outreach = Outreach { links: Links { base }, from, reminders };
    Ok((outreach, smtp))
}
