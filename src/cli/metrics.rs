//! `undercurrent metrics export|summary`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{ExportFormat, MetricsCommand, SummaryFormat};
use crate::app::evaluate::compute;
use crate::app::export::{write_csv, write_json, write_summary_json, write_summary_text};
use crate::app::settings::load;
use crate::storage::Db;

pub async fn run(db: &Db, cmd: MetricsCommand) -> Result<ExitCode> {
    let settings = load(db).await?;
    let (MetricsCommand::Export { as_of, window, .. } | MetricsCommand::Summary { as_of, window, .. }) = &cmd;
    if let Some(gone) = crate::app::retention::check(db, *as_of, *window).await? {
        eprintln!("error: {}", gone.describe());
        return Ok(ExitCode::FAILURE);
    }
    match cmd {
        MetricsCommand::Export { as_of, window, format, output } => {
            let computed = compute(db, &settings, as_of, window).await?;
            let out: Box<dyn Write> = match &output {
                Some(path) => Box::new(File::create(path).with_context(|| format!("creating {}", path.display()))?),
                None => Box::new(std::io::stdout().lock()),
            };
            let out = BufWriter::new(out);
            match format {
                ExportFormat::Csv => write_csv(&computed, out)?,
                ExportFormat::Json => write_json(&computed, out)?,
            }
        }
        MetricsCommand::Summary { as_of, window, format } => {
            let computed = compute(db, &settings, as_of, window).await?;
            let out = BufWriter::new(std::io::stdout().lock());
            match format {
                SummaryFormat::Text => write_summary_text(&computed, out)?,
                SummaryFormat::Json => write_summary_json(&computed, out)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
