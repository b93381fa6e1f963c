//! `undercurrent settings set|get|unset|list`.

use std::process::ExitCode;

use anyhow::Result;

use super::SettingsCommand;
use crate::app::settings::{load, set, stored};
use crate::domain::settings::{KIND_PREFIX, SETTINGS};
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
            match effective.into_iter().find(|(k, _, _)| *k == key) {
                Some((_, v, _)) => println!("{v}"),
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
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_known(key: &str) -> bool {
    SETTINGS.iter().any(|s| s.key == key) || (key.starts_with(KIND_PREFIX) && key.len() > KIND_PREFIX.len())
}
