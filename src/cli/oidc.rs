//! `undercurrent oidc add|list|remove|passwords`: OpenID Connect providers
//! from the command line, audited as the settings page's changes are.

use std::process::ExitCode;

use anyhow::Result;

use super::OidcCommand;
use crate::app::oidc_admin::{self as service, SecretInput};
use crate::domain::account::Role;
use crate::domain::oidc::{ProviderSettings, RoleMapping};
use crate::storage::{Db, oidc as store};

/// Messages for the command line: the English catalog's texts.
fn words(key: &str) -> String {
    crate::web::i18n::Lang::En.catalog().get(key).to_string()
}

pub async fn run(db: &Db, cmd: OidcCommand) -> Result<ExitCode> {
    match cmd {
        OidcCommand::Add(args) => add(db, args).await,
        OidcCommand::List => {
            for p in store::list(db).await? {
                let s = &p.settings;
                let secret = if !p.secret_env.is_empty() {
                    format!("secret from ${}", p.secret_env)
                } else if p.secret_set() {
                    "secret set".into()
                } else {
                    "no secret".into()
                };
                let default = s.default_role.map(Role::as_str).unwrap_or("refuse");
                println!(
                    "{:<16} {:<24} {} client {} ({secret}) scopes \"{}\" jit {} claim {} unmapped {default}",
                    s.slug, s.display_name, s.issuer_url, s.client_id, s.scopes, s.jit, s.groups_claim
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        OidcCommand::Remove { slug } => match store::by_slug(db, &slug).await? {
            Some(p) => {
                service::remove(db, None, &p).await?;
                println!("removed {slug}");
                Ok(ExitCode::SUCCESS)
            }
            None => {
                eprintln!("error: no provider `{slug}`; see `undercurrent oidc list`");
                Ok(ExitCode::FAILURE)
            }
        },
        OidcCommand::Passwords { state, break_glass } => {
            let on = match state.as_str() {
                "on" => true,
                "off" => false,
                _ => {
                    eprintln!("error: expected on or off");
                    return Ok(ExitCode::FAILURE);
                }
            };
            match service::set_password_policy(db, None, on, &break_glass.join(",")).await? {
                Ok(()) => {
                    println!("local passwords {state}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(key) => {
                    eprintln!("error: {}", words(key));
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

async fn add(db: &Db, a: super::OidcAddArgs) -> Result<ExitCode> {
    let mapping = match RoleMapping::parse(&a.map.join("\n")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: --map {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let default_role = match a.unmapped.as_str() {
        "refuse" => None,
        r => match Role::parse(r) {
            Some(r) => Some(r),
            None => {
                eprintln!("error: --unmapped is refuse or a role (admin, researcher, analyst, manager)");
                return Ok(ExitCode::FAILURE);
            }
        },
    };
    let existing = store::by_slug(db, &a.slug.trim().to_ascii_lowercase()).await?.map(|p| p.id);
    // Changing a provider without naming a secret keeps the one it has.
    let secret = match (a.client_secret_env, std::env::var("UNDERCURRENT_OIDC_SECRET").ok()) {
        (Some(name), _) => SecretInput::Env(name),
        (None, Some(value)) if !value.is_empty() => SecretInput::Value(value),
        _ if existing.is_some() => SecretInput::Keep,
        _ => SecretInput::None,
    };
    let settings = ProviderSettings {
        slug: a.slug,
        display_name: a.name,
        issuer_url: a.issuer,
        client_id: a.client_id,
        scopes: a.scopes,
        jit: a.jit,
        trust_email: a.trust_email,
        groups_claim: a.groups_claim,
        mapping,
        default_role,
    };
    match service::save(db, None, existing, settings, secret).await? {
        Ok(_) => {
            println!("{} provider saved", if existing.is_some() { "changed:" } else { "added:" });
            Ok(ExitCode::SUCCESS)
        }
        Err(key) => {
            eprintln!("error: {}", words(key));
            Ok(ExitCode::FAILURE)
        }
    }
}
