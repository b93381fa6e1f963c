//! `undercurrent import people|events`.

use std::fs::File;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use chrono::DateTime;
use indicatif::{ProgressBar, ProgressStyle};

use super::ImportCommand;
use crate::app::import::{ImportError, import_events, import_people};
use crate::app::settings;
use crate::ingest::InputError;
use crate::ingest::source::open;
use crate::storage::Db;
use crate::storage::imports::ImportSummary;

/// A progress bar over the file's bytes, drawn only on a terminal.
fn progress(path: &Path) -> ProgressBar {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(path.display().to_string());
    bar
}

fn open_file(path: &Path) -> Result<(crate::ingest::source::Input, ProgressBar), InputError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| InputError::new(&name, 0, format!("cannot open: {e}")))?;
    let bar = progress(path);
    let input = open(&name, bar.wrap_read(file))?;
    Ok((input, bar))
}

fn time(ts: Option<i64>) -> String {
    ts.and_then(|t| DateTime::from_timestamp(t, 0)).map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into())
}

fn print_summary(s: &ImportSummary) {
    println!("{}: {} rows read", s.file_name, s.rows_read);
    if s.source == "events" {
        println!("  events added        {}", s.events_added);
        println!("  duplicates skipped  {}", s.duplicates_skipped);
        println!("  people created      {}", s.people_created);
        println!("  time range          {} .. {}", time(s.first_ts), time(s.last_ts));
        if !s.unknown_kinds.is_empty() {
            println!("  unknown event kinds (kept, counted as passive; map them with `settings set kind.NAME ...`):");
            for (kind, n) in &s.unknown_kinds {
                println!("    {kind}: {n}");
            }
        }
    } else {
        println!("  people created      {}", s.people_created);
        println!("  people updated      {}", s.people_updated);
    }
}

pub async fn run(db: &Db, cmd: ImportCommand) -> Result<ExitCode> {
    let files = match &cmd {
        ImportCommand::People { file } => vec![file.clone()],
        ImportCommand::Events { files } => files.clone(),
    };
    let tz = settings::load(db).await?.timezone;
    for path in files {
        let result = match open_file(&path) {
            Err(e) => Err(ImportError::Input(e)),
            Ok((input, bar)) => {
                let r = match cmd {
                    ImportCommand::People { .. } => import_people(db, input).await,
                    ImportCommand::Events { .. } => import_events(db, tz, input).await,
                };
                bar.finish_and_clear();
                r
            }
        };
        match result {
            Ok(summary) => print_summary(&summary),
            Err(e) => {
                eprintln!("error: {e}");
                eprintln!("nothing of {} was stored", path.display());
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
