//! `undercurrent settings set|get|unset|list`.

use std::process::ExitCode;

use anyhow::Result;

use super::SettingsCommand;
use crate::app::settings::{load, set, stored};
use crate::domain::settings::{KIND_PREFIX, MAIL_SETTINGS, SETTINGS};
use crate::storage::{Db, settings as store};

pub async fn run(db: &Db, cmd: SettingsCommand) -> Result<ExitCode> {
    match cmd {
        SettingsCommand::Set { key, value } => match set(db, &key, &value).await {
            Ok(v) => println!("{key} = {v}"),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::FAILURE);
            }
        },
        SettingsCommand::Get { key } => {
            let map = stored(db).await?;
            let effective = load(db).await?.effective(&map);
            let mail = MAIL_SETTINGS.iter().any(|s| s.key == key).then(|| shown(&key, map.get(&key)));
            match effective.into_iter().find(|(k, _, _)| *k == key).map(|(_, v, _)| v).or(mail) {
                Some(v) => println!("{v}"),
                None => {
                    eprintln!("error: unknown setting `{key}`; see `undercurrent settings list`");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        SettingsCommand::Unset { key } => {
            if !is_known(&key) {
                eprintln!("error: unknown setting `{key}`; see `undercurrent settings list`");
                return Ok(ExitCode::FAILURE);
            }
            store::unset(db, &key).await?;
            println!("{key} is back to its default");
        }
        SettingsCommand::List => {
            let map = stored(db).await?;
            for (key, value, set) in load(db).await?.effective(&map) {
                let help = SETTINGS.iter().find(|s| s.key == key).map(|s| s.help).unwrap_or("event kind mapping");
                let origin = if set { "set" } else { "default" };
                println!("{key:<28} {value:<24} {origin:<8} {help}");
            }
            for def in MAIL_SETTINGS {
                let origin = if map.contains_key(def.key) { "set" } else { "default" };
                println!("{:<28} {:<24} {origin:<8} {}", def.key, shown(def.key, map.get(def.key)), def.help);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_known(key: &str) -> bool {
    SETTINGS.iter().chain(MAIL_SETTINGS).any(|s| s.key == key)
        || (key.starts_with(KIND_PREFIX) && key.len() > KIND_PREFIX.len())
}

/// A mail setting as shown: its default when unset, a password hidden.
fn shown(key: &str, value: Option<&String>) -> String {
    match (key, value) {
        ("mail.smtp_url", Some(v)) => crate::storage::redact(v),
        ("mail.reminders", None) => crate::domain::settings::DEFAULT_REMINDERS.to_string(),
        ("retention.days", None) => "off".to_string(),
        (_, Some(v)) => v.clone(),
        (_, None) => String::new(),
    }
}
