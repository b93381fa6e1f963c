//! The first run: the organisation's name, zone and profile asked at set-up,
//! and the overview's checklist until every step is done or it is dismissed.

use anyhow::{Context, Result};

use super::settings::{self, SetError};
use crate::domain::first_run::Holdings;
use crate::domain::profile::ProfileId;
use crate::storage::{Db, first_run as store, settings as settings_store};

/// Internal key (never shown as a setting): the checklist was dismissed.
const DISMISSED_KEY: &str = "_first_run.dismissed";

/// The zone and profile set-up proposes (the page's script replaces the
/// zone with the browser's).
pub const DEFAULT_TIMEZONE: &str = "UTC";
pub const DEFAULT_PROFILE: ProfileId = ProfileId::InternalCollaboration;

/// The organisation as set-up asks for it.
pub struct Organisation<'a> {
    pub name: &'a str,
    pub timezone: &'a str,
    pub profile: &'a str,
}

impl<'a> Organisation<'a> {
    /// As a form gives it: an empty zone or profile (a form not from the
    /// page) keeps the default.
    pub fn new(name: &'a str, timezone: &'a str, profile: &'a str) -> Organisation<'a> {
        let or = |v: &'a str, default: &'a str| if v.trim().is_empty() { default } else { v };
        Organisation { name, timezone: or(timezone, DEFAULT_TIMEZONE), profile: or(profile, DEFAULT_PROFILE.as_str()) }
    }
}

/// Checks the organisation's settings without storing them: the first
/// error, in words for the user (so that set-up creates no account for a
/// form it will show again).
pub fn check(org: &Organisation) -> Result<(), SetError> {
    use crate::domain::settings::validate;
    if !org.name.trim().is_empty() {
        validate("org_name", org.name).map_err(SetError::Invalid)?;
    }
    validate("timezone", org.timezone).map_err(SetError::Invalid)?;
    validate("profile", org.profile).map_err(SetError::Invalid)?;
    Ok(())
}

/// Stores the organisation's settings (an empty name is left unset).
pub async fn save(db: &Db, org: &Organisation<'_>) -> Result<(), SetError> {
    if !org.name.trim().is_empty() {
        settings::set(db, "org_name", org.name).await?;
    }
    settings::set(db, "timezone", org.timezone).await?;
    settings::set(db, "profile", org.profile).await?;
    Ok(())
}

/// The organisation's name, when set-up or the settings gave one.
pub async fn organisation_name(db: &Db) -> Result<Option<String>> {
    Ok(settings::stored(db).await?.remove("org_name").filter(|n| !n.trim().is_empty()))
}

/// What the install holds.
pub async fn holdings(db: &Db) -> Result<Holdings> {
    store::holdings(db).await
}

/// The checklist to show: `None` once every step is done or it was dismissed.
pub async fn checklist(db: &Db, holdings: &Holdings) -> Result<Option<Holdings>> {
    if holdings.all_done() || settings_store::all(db).await?.contains_key(DISMISSED_KEY) {
        return Ok(None);
    }
    Ok(Some(*holdings))
}

/// What the overview shows of the first run: what the install holds, the
/// checklist (only when `with_checklist`, for a role that takes part in
/// setting up) and the organisation's name.
pub struct Overview {
    pub holdings: Holdings,
    pub checklist: Option<Holdings>,
    pub organisation: Option<String>,
}

pub async fn overview(db: &Db, with_checklist: bool) -> Result<Overview> {
    let holdings = holdings(db).await.context("reading what the install holds")?;
    let checklist = match with_checklist {
        true => checklist(db, &holdings).await.context("reading the first-run checklist")?,
        false => None,
    };
    let organisation = organisation_name(db).await.context("reading the organisation's name")?;
    Ok(Overview { holdings, checklist, organisation })
}

pub async fn dismiss(db: &Db) -> Result<()> {
    settings_store::set(db, DISMISSED_KEY, "1").await
}
