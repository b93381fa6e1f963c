//! `undercurrent retention run`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use super::RetentionCommand;
use crate::app::retention::run as apply;
use crate::storage::Db;

pub async fn run(db: &Db, cmd: RetentionCommand) -> Result<ExitCode> {
    let RetentionCommand::Run { batch_size, today } = cmd;
    if batch_size < 1 {
        eprintln!("error: --batch-size must be at least 1");
        return Ok(ExitCode::FAILURE);
    }
    let outcome = apply(db, None, batch_size, Duration::ZERO, today).await?;
    match (outcome.days, outcome.horizon) {
        (Some(days), Some(horizon)) => println!(
            "Deleted {} raw events from before {horizon} in {} batches (retention.days = {days}); facts, people and history kept.",
            outcome.deleted, outcome.batches
        ),
        _ => println!(
            "Retention is off: raw events are kept (set it with `undercurrent settings set retention.days N`)."
        ),
    }
    Ok(ExitCode::SUCCESS)
}
