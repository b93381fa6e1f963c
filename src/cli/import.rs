//! `undercurrent import people|events`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use chrono::DateTime;
use indicatif::{ProgressBar, ProgressStyle};

use super::ImportCommand;
use crate::app::import::{ImportError, import_events, import_mapped, import_people};
use crate::app::import_facts::import_facts;
use crate::app::import_slack::{SlackFile, import_slack_audit, import_slack_export, recognise};
use crate::app::settings;
use crate::app::vendor_events::{self, file_opener, import_event_source};
use crate::domain::mapping::{Mapping, Target, describe};
use crate::domain::settings::InflateLimits;
use crate::ingest::InputError;
use crate::ingest::source::{Input, open_limited};
use crate::ingest::vendor::skipped::Reason;
use crate::ingest::vendor::{DateOrder, EventSource, VendorFormat, VendorOptions, m365_audit};
use crate::storage::imports::{ImportDetails, ImportSummary};
use crate::storage::{Db, mappings};
use chrono::NaiveDate;
use encoding_rs::Encoding;

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

fn open_file(
    path: &Path,
    encoding: Option<&'static Encoding>,
    limits: InflateLimits,
) -> Result<(Input, ProgressBar), InputError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| InputError::new(&name, 0, format!("cannot open: {e}")))?;
    let bar = progress(path);
    let input = open_limited(&name, bar.wrap_read(file), encoding, limits)?;
    Ok((input, bar))
}

/// A spinner counting the events a Slack export has stored so far, drawn
/// only on a terminal (the archive is read by entries, not as a stream of bytes).
fn slack_progress(name: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} events stored ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(name.to_string());
    bar
}

fn time(ts: Option<i64>) -> String {
    ts.and_then(|t| DateTime::from_timestamp(t, 0)).map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into())
}

fn print_summary(s: &ImportSummary) {
    println!("{}: {} rows read", s.file_name, s.rows_read);
    if matches!(s.source.as_str(), "events" | "slack_export" | "slack_audit") || EventSource::parse(&s.source).is_some()
    {
        if let Some(source) = EventSource::parse(&s.source) {
            println!("  source              {} ({})", source.label(), s.source);
        } else if s.source != "events" {
            println!("  source              {}", s.source);
        }
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
    } else if s.source == "people" {
        println!("  people created      {}", s.people_created);
        println!("  people updated      {}", s.people_updated);
    } else {
        println!("  source              {}", s.source);
        println!("  facts added         {}", s.events_added);
        println!("  facts already known {}", s.duplicates_skipped);
        println!("  people created      {}", s.people_created);
        println!("  period covered      {} .. {}", time(s.first_ts), time(s.last_ts));
        println!("  sessions, login depth and reply speed are not available from this source");
    }
    print_details(&s.details);
    print_source_notes(&s.details);
}

/// What a per-event export held beyond its events.
fn print_source_notes(d: &ImportDetails) {
    if !d.source_records.is_empty() {
        println!("  records in the file (the source's own names):");
        for (name, n) in &d.source_records {
            println!("    {name}: {n}");
        }
    }
    if !d.records_skipped.is_empty() {
        println!("  records skipped:");
        for (why, n) in &d.records_skipped {
            println!("    {}: {n}", Reason::parse(why).english());
        }
    }
    for missing in &d.not_recorded {
        match missing.as_str() {
            m365_audit::NO_MESSAGES => println!(
                "  no message events: Microsoft logs messages sent only with Audit (Premium) or through the Graph API; \
                 messages sent, reply speed and engaged sessions are not measurable from this file"
            ),
            m365_audit::ONLY_LINK_MESSAGES => println!(
                "  only messages with a link (MessageCreatedHasLink): MessageSent is logged only with Audit (Premium); \
                 messages sent and reply speed count only those messages"
            ),
            other => println!("  not recorded by this source: {other}"),
        }
    }
}

/// How the file was read and its people matched, where there is something to say.
fn print_details(d: &ImportDetails) {
    if d.facts_replaced > 0 {
        println!("  facts replaced      {} (an earlier import of the same report and period)", d.facts_replaced);
    }
    if d.people_matched_by_alias > 0 {
        println!("  matched by alias    {} (found by e-mail or alias, not by user id)", d.people_matched_by_alias);
    }
    if d.people_merged > 0 {
        println!("  people merged       {} (stored separately before, one person by the directory)", d.people_merged);
    }
    if let Some(encoding) = &d.encoding {
        println!("  encoding            {encoding} (converted to UTF-8)");
    }
    if let Some(line) = d.header_line {
        println!("  header found        on line {line} (the lines above it were skipped)");
    }
    if let Some(order) = &d.date_order {
        println!("  dates read as       {order}");
    }
}

/// What a command imports.
#[derive(Clone, Copy)]
enum Kind<'a> {
    People,
    Events,
    /// A CSV file in any layout, through a column mapping preset.
    Mapped(&'a Mapping),
    Slack,
    /// A Slack workspace export (ZIP) or audit log, or `None`: recognised.
    SlackEvents(Option<SlackFile>),
    /// A platform export, of this format or detected.
    Vendor(Option<VendorFormat>),
    /// A per-event export (Mattermost, Zulip, Microsoft 365 audit log).
    PerEvent(EventSource),
}

/// `FROM..TO` as two dates.
fn parse_period(s: &str) -> Result<(NaiveDate, NaiveDate), String> {
    let (a, b) = s.split_once("..").ok_or_else(|| format!("`{s}` is not a period; expected YYYY-MM-DD..YYYY-MM-DD"))?;
    let date = |d: &str| {
        NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| format!("`{d}` is not a date (YYYY-MM-DD)"))
    };
    let (from, to) = (date(a)?, date(b)?);
    if from > to {
        return Err(format!("the period {s} ends before it starts"));
    }
    Ok((from, to))
}

/// What a subcommand imports: its files, their kind, a period and a date
/// order where the format has them.
fn what(cmd: &ImportCommand) -> (Vec<PathBuf>, Kind<'static>, Option<String>, Option<DateOrder>) {
    let (files, kind, period) = match cmd {
        ImportCommand::People { file, .. } => (vec![file.clone()], Kind::People, None),
        ImportCommand::Events { files, .. } => (files.clone(), Kind::Events, None),
        ImportCommand::Teams { files, period, .. } => {
            (files.clone(), Kind::Vendor(Some(VendorFormat::Teams)), period.clone())
        }
        ImportCommand::Slack { files, period, .. } => (files.clone(), Kind::Slack, period.clone()),
        ImportCommand::Feishu { files, .. } => (files.clone(), Kind::Vendor(Some(VendorFormat::Feishu)), None),
        ImportCommand::GoogleChat { files, .. } => (files.clone(), Kind::Vendor(Some(VendorFormat::GoogleChat)), None),
        ImportCommand::Auto { files, period, .. } => (files.clone(), Kind::Vendor(None), period.clone()),
        ImportCommand::Mattermost { files } => (files.clone(), Kind::PerEvent(EventSource::Mattermost), None),
        ImportCommand::MattermostAudit { files } => (files.clone(), Kind::PerEvent(EventSource::MattermostAudit), None),
        ImportCommand::Zulip { files } => (files.clone(), Kind::PerEvent(EventSource::Zulip), None),
        ImportCommand::M365Audit { files } => (files.clone(), Kind::PerEvent(EventSource::M365Audit), None),
        ImportCommand::SlackExport { files } => (files.clone(), Kind::SlackEvents(Some(SlackFile::Export)), None),
        ImportCommand::SlackAudit { files } => (files.clone(), Kind::SlackEvents(Some(SlackFile::AuditLog)), None),
    };
    let date_order = match cmd {
        ImportCommand::Teams { date_order, .. }
        | ImportCommand::Slack { date_order, .. }
        | ImportCommand::Feishu { date_order, .. }
        | ImportCommand::GoogleChat { date_order, .. }
        | ImportCommand::Auto { date_order, .. } => *date_order,
        ImportCommand::People { .. }
        | ImportCommand::Events { .. }
        | ImportCommand::Mattermost { .. }
        | ImportCommand::MattermostAudit { .. }
        | ImportCommand::Zulip { .. }
        | ImportCommand::M365Audit { .. }
        | ImportCommand::SlackExport { .. }
        | ImportCommand::SlackAudit { .. } => None,
    };
    (files, kind, period, date_order)
}

/// Imports a file that is read in place rather than through a text reader
/// (the per-event exports, a Slack workspace export with its progress
/// bar); `None` for every other kind.
async fn import_streamed(
    db: &Db,
    kind: Kind<'_>,
    path: &std::path::Path,
    limits: InflateLimits,
) -> Option<Result<ImportSummary, ImportError>> {
    let name = path.display().to_string();
    let event_source = match kind {
        Kind::PerEvent(source) => Some(source),
        Kind::Vendor(None) => vendor_events::detect(&name, &file_opener(path.to_path_buf(), limits)),
        _ => None,
    };
    if let Some(source) = event_source {
        return Some(
            import_event_source(db, source, &name, file_opener(path.to_path_buf(), limits), limits, None).await,
        );
    }
    let Kind::SlackEvents(Some(SlackFile::Export)) = kind else { return None };
    let bar = slack_progress(&name);
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<u64>(4);
    let shown = bar.clone();
    let ticker = tokio::spawn(async move {
        while let Some(n) = receiver.recv().await {
            shown.set_position(n);
        }
    });
    let result = import_slack_export(db, &name, path, Some(sender)).await;
    let _ = ticker.await;
    bar.finish_and_clear();
    Some(result)
}

/// Runs an import subcommand; `encoding` forces the files' encoding.
pub async fn run(db: &Db, cmd: ImportCommand, encoding: Option<&'static Encoding>) -> Result<ExitCode> {
    let (files, kind, period, date_order) = what(&cmd);
    let period = match period.as_deref().map(parse_period).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --period: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let options = VendorOptions { period, date_order };
    let tz = settings::load(db).await?.timezone;
    let limits = settings::inflate_limits(db).await?;
    let mapping = match &cmd {
        ImportCommand::People { mapping: Some(name), .. } => Some(load_mapping(db, name, Target::People).await?),
        ImportCommand::Events { mapping: Some(name), .. } => Some(load_mapping(db, name, Target::Events).await?),
        _ => None,
    };
    let mapping = match mapping {
        Some(Err(e)) => {
            eprintln!("error: --mapping: {e}");
            return Ok(ExitCode::FAILURE);
        }
        Some(Ok(m)) => Some(m),
        None => None,
    };
    let kind = mapping.as_ref().map_or(kind, Kind::Mapped);
    for path in files {
        let name = path.display().to_string();
        // `import auto` takes Slack's per-event files by their content.
        let kind = match kind {
            Kind::Vendor(None) => recognise(&path).map_or(kind, |f| Kind::SlackEvents(Some(f))),
            _ => kind,
        };
        let streamed = import_streamed(db, kind, &path, limits).await;
        if let Some(result) = streamed {
            if !reported(result, &path) {
                return Ok(ExitCode::FAILURE);
            }
            continue;
        }
        let result = match open_file(&path, encoding, limits) {
            Err(e) => Err(ImportError::Input(e)),
            Ok((input, bar)) => {
                let r = match kind {
                    Kind::People => import_people(db, input).await,
                    Kind::Events => import_events(db, tz, input).await,
                    Kind::Mapped(mapping) => import_mapped(db, tz, input, mapping).await,
                    Kind::Slack => {
                        // Either Slack format: the dashboard CSV or the API rows.
                        let format = if path.to_string_lossy().to_lowercase().contains(".csv") {
                            VendorFormat::SlackDashboard
                        } else {
                            VendorFormat::SlackApi
                        };
                        import_facts(db, input, Some(format), &options).await
                    }
                    Kind::Vendor(format) => import_facts(db, input, format, &options).await,
                    Kind::PerEvent(source) => {
                        import_event_source(db, source, &name, file_opener(path.clone(), limits), limits, None).await
                    }
                    Kind::SlackEvents(_) => import_slack_audit(db, input).await,
                };
                bar.finish_and_clear();
                r
            }
        };
        if !reported(result, &path) {
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints an import's summary, or its error; whether it succeeded.
fn reported(result: Result<ImportSummary, ImportError>, path: &Path) -> bool {
    match result {
        Ok(summary) => {
            print_summary(&summary);
            true
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing of {} was stored", path.display());
            false
        }
    }
}

/// The mapping preset `name`, checked to be valid and to map files of
/// `target`; the reason it cannot be used otherwise.
async fn load_mapping(db: &Db, name: &str, target: Target) -> Result<Result<Mapping, String>> {
    let Some(preset) = mappings::find(db, name).await? else {
        let names: Vec<String> = mappings::list(db).await?.into_iter().map(|p| format!("`{}`", p.name)).collect();
        let known = if names.is_empty() {
            "none is saved yet; save one in the browser (Imports, Map the columns of another file)".to_string()
        } else {
            format!("the saved presets are {}", names.join(", "))
        };
        return Ok(Err(format!("no column mapping preset is named `{name}`; {known}")));
    };
    if preset.target != target {
        return Ok(Err(format!(
            "the column mapping preset `{name}` maps {} files, not {target}; use `undercurrent import {} --mapping {name}`",
            preset.target, preset.target
        )));
    }
    if let Err(problems) = preset.mapping.validate() {
        return Ok(Err(format!("the column mapping preset `{name}` is not valid: {}", describe(&problems))));
    }
    Ok(Ok(preset.mapping))
}
