//! Configuring OpenID Connect providers (the settings page and
//! `undercurrent oidc`), and the rule that turns local passwords off for
//! everyone but the break-glass administrators. Every change is audited;
//! a client secret is sealed when saved and never shown again.

use anyhow::Result;

use crate::app::secrets::seal;
use crate::domain::oidc::{ProviderSettings, is_env_name, secret_context};
use crate::storage::oidc::{self as store, Provider};
use crate::storage::{Db, audit, settings as settings_store};

/// A new secret for a provider, or the one it has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretInput {
    /// Keep what is stored (an edit whose secret field was left empty).
    Keep,
    /// No secret: a public client, PKCE alone.
    None,
    /// The secret itself, sealed before it is stored.
    Value(String),
    /// The name of the environment variable holding it.
    Env(String),
}

/// Why a provider was not saved: a catalog key.
pub type SaveError = &'static str;

/// Adds a provider, or changes the one with `id`; returns its id.
pub async fn save(
    db: &Db,
    actor: Option<(i64, &str)>,
    id: Option<i64>,
    settings: ProviderSettings,
    secret: SecretInput,
) -> Result<Result<i64, SaveError>> {
    let mut settings = settings;
    if let Some(id) = id {
        // The slug is the provider's address: it stays what it was.
        let Some(old) = store::get(db, id).await? else { return Ok(Err("oidc.invalid.missing")) };
        settings.slug = old.settings.slug.clone();
    }
    let settings = match settings.check() {
        Ok(s) => s,
        Err(key) => return Ok(Err(key)),
    };
    let sealed = match &secret {
        SecretInput::Keep => None,
        SecretInput::None => Some((String::new(), String::new())),
        SecretInput::Value(v) if v.trim().is_empty() => Some((String::new(), String::new())),
        SecretInput::Value(v) => Some((seal(v.trim(), &secret_context(&settings.slug)), String::new())),
        SecretInput::Env(name) if is_env_name(name.trim()) => Some((String::new(), name.trim().to_string())),
        SecretInput::Env(_) => return Ok(Err("oidc.invalid.env")),
    };
    let (action, id) = match id {
        Some(id) => {
            store::update(db, id, &settings, sealed.as_ref().map(|(s, e)| (s.as_str(), e.as_str()))).await?;
            ("oidc_provider_changed", id)
        }
        None => {
            let (s, e) = sealed.unwrap_or_default();
            match store::insert(db, &settings, &s, &e).await? {
                Some(id) => ("oidc_provider_added", id),
                None => return Ok(Err("oidc.invalid.taken")),
            }
        }
    };
    let secret_word = match secret {
        SecretInput::Keep => "kept",
        SecretInput::None => "none",
        SecretInput::Value(v) if v.trim().is_empty() => "none",
        SecretInput::Value(_) => "changed",
        SecretInput::Env(_) => "environment",
    };
    let detail = audit::detail(
        "audit.detail.oidc_provider",
        &[("issuer", settings.issuer_url.clone()), ("jit", settings.jit.to_string()), ("secret", secret_word.into())],
    );
    audit::record(db, actor, action, Some(&settings.slug), Some(&detail)).await?;
    Ok(Ok(id))
}

/// Removes a provider (its accounts stay; they sign in by password, if
/// they have one, or not at all).
pub async fn remove(db: &Db, actor: Option<(i64, &str)>, provider: &Provider) -> Result<()> {
    store::delete(db, provider.id).await?;
    audit::record(db, actor, "oidc_provider_removed", Some(&provider.settings.slug), None).await
}

/// The setting that turns local passwords off, and the one naming who
/// keeps theirs.
// Kept with the internal keys (not `settings list`): the identity page and
// `undercurrent oidc passwords` change them, with their own checks.
pub const PASSWORDS_KEY: &str = "_auth.local_passwords";
pub const BREAK_GLASS_KEY: &str = "_auth.break_glass";

/// Whether local passwords are on, and the break-glass accounts' e-mails.
pub async fn password_policy(db: &Db) -> Result<(bool, Vec<String>)> {
    let all = settings_store::all(db).await?;
    let on = all.get(PASSWORDS_KEY).is_none_or(|v| v != "off");
    let glass = all
        .get(BREAK_GLASS_KEY)
        .map(|v| v.split([',', ' ', '\n']).map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()).collect())
        .unwrap_or_default();
    Ok((on, glass))
}

/// Whether the account with `email` may sign in with its password.
pub async fn password_allowed(db: &Db, email: &str) -> Result<bool> {
    let (on, glass) = password_policy(db).await?;
    Ok(on || glass.iter().any(|g| g == email))
}

/// Turns local passwords on or off; `break_glass` lists the e-mails that
/// keep theirs. Turning them off needs at least one break-glass account.
pub async fn set_password_policy(
    db: &Db,
    actor: Option<(i64, &str)>,
    on: bool,
    break_glass: &str,
) -> Result<Result<(), SaveError>> {
    let mut glass = Vec::new();
    for e in break_glass.split([',', ' ', '\n']).map(str::trim).filter(|e| !e.is_empty()) {
        match crate::domain::account::parse_email(e) {
            Ok(e) => glass.push(e),
            Err(_) => return Ok(Err("oidc.invalid.break_glass")),
        }
    }
    if !on && glass.is_empty() {
        return Ok(Err("oidc.invalid.break_glass_needed"));
    }
    settings_store::set(db, PASSWORDS_KEY, if on { "on" } else { "off" }).await?;
    settings_store::set(db, BREAK_GLASS_KEY, &glass.join(",")).await?;
    let detail = audit::detail(
        "audit.detail.password_policy",
        &[("passwords", if on { "on" } else { "off" }.into()), ("break_glass", glass.join(", "))],
    );
    audit::record(db, actor, "password_policy", None, Some(&detail)).await?;
    Ok(Ok(()))
}
