//! Reading and changing organisation settings.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};

use crate::domain::settings::{OrgSettings, validate};
use crate::storage::{Db, settings as store};

/// Prefix of internal bookkeeping keys, never shown as settings.
pub const INTERNAL_PREFIX: &str = "_";
pub const DATA_VERSION_KEY: &str = "_data_version";

pub async fn load(db: &Db) -> Result<OrgSettings> {
    let map = stored(db).await?;
    OrgSettings::from_map(&map).map_err(|e| anyhow!(e))
}

/// The stored settings, without internal keys.
pub async fn stored(db: &Db) -> Result<BTreeMap<String, String>> {
    let mut map = store::all(db).await?;
    map.retain(|k, _| !k.starts_with(INTERNAL_PREFIX));
    Ok(map)
}

/// Validates and stores a setting; returns the stored value.
pub async fn set(db: &Db, key: &str, value: &str) -> Result<String, String> {
    let value = validate(key, value)?;
    store::set(db, key, &value).await.map_err(|e| format!("storing the setting failed: {e:#}"))?;
    Ok(value)
}
