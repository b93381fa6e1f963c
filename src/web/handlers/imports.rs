//! Importing files in the browser, and the import history.
//!
//! Each uploaded file is streamed, chunk by chunk, to a private temporary
//! file (never held in memory), then imported from there exactly as the
//! command line imports a file: all-or-nothing, duplicates skipped. Files of
//! one upload are independent: one failing does not undo the others.

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use futures_util::StreamExt;

use super::html;
use crate::app::import::{ImportError, disk_full_text, import_events, import_people};
use crate::app::import_facts::import_facts;
use crate::app::import_slack::{SlackFile, import_slack_audit, import_slack_export, recognise};
use crate::app::settings;
use crate::app::vendor_events::{self, file_opener, import_event_source};
use crate::domain::account::Permission;
use crate::domain::facts::FactSource;
use crate::domain::state::ImportStatus;
use crate::ingest::InputError;
use crate::ingest::source::{in_browser, open_limited, parse_encoding};
use crate::ingest::vendor::{DateOrder, EventSource, VendorOptions};
use crate::storage::imports::{self, ImportDetails, ImportRecord, ImportSummary};
use crate::storage::{audit, now};
use crate::web::error::WebError;
use crate::web::i18n::{self, Catalog, Lang};
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::upload::{MAX_FILE_BYTES, SpoolError, TempUpload, display_name, drain, size_limit, small_text, spool};
use crate::web::url::filters;

/// Rows of history shown.
const HISTORY_ROWS: i64 = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    People,
    Events,
    /// Platform exports: Teams, Slack, Feishu, Google Chat.
    Exports,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::People => "people",
            Source::Events => "events",
            Source::Exports => "exports",
        }
    }
}

/// How a stored import counts: events (files and the push API), facts
/// from platform exports, or directory rows.
fn counts_events(source: &str) -> bool {
    matches!(source, "events" | "api" | "slack_export" | "slack_audit")
        || FactSource::parse(source).is_some()
        || EventSource::parse(source).is_some()
}

/// A label and a shown value: text, or a list of items when `items` is
/// not empty (`value` then holds the same in plain text).
pub struct Stat {
    pub label: String,
    pub value: String,
    pub items: Vec<StatItem>,
}

impl Stat {
    pub(super) fn listed(label: &str, items: Vec<StatItem>) -> Stat {
        let value = items.iter().map(StatItem::plain).collect::<Vec<_>>().join(", ");
        Stat { label: label.to_string(), value, items }
    }
}

/// One counted thing in a list: words around an optional vendor's name
/// (shown as code), and its count.
pub struct StatItem {
    pub before: String,
    pub code: Option<String>,
    pub after: String,
    pub count: String,
}

impl StatItem {
    pub(super) fn code(name: &str, n: u64) -> StatItem {
        StatItem { before: String::new(), code: Some(name.to_string()), after: String::new(), count: count(n) }
    }

    fn plain(&self) -> String {
        format!("{}{}{}: {}", self.before, self.code.as_deref().unwrap_or_default(), self.after, self.count)
    }
}

/// What happened to one uploaded file, shown at the top of the page.
pub struct Outcome {
    pub file: String,
    /// One sentence: imported, or not imported and nothing stored.
    pub headline: String,
    pub stats: Vec<Stat>,
    /// Unknown event kinds with counts.
    pub unknown_kinds: Vec<(String, String)>,
    /// The error text (`FILE:LINE: column ...: message`) for a failed file.
    pub error: Option<String>,
    /// What to do about the failure.
    pub advice: Option<String>,
}

/// A row of the import history, ready to show.
pub struct HistoryRow {
    /// Date and time of day the import started.
    pub when: (String, String),
    pub source: String,
    pub file: String,
    pub failed: bool,
    pub status: String,
    pub rows_read: String,
    pub events_added: String,
    pub duplicates_skipped: String,
    pub people_created: String,
    pub people_updated: String,
    /// First and last event, in the organisation's zone.
    pub time_range: Option<(String, String)>,
    pub unknown_kinds: Vec<(String, String)>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    page: Page,
    outcomes: Vec<Outcome>,
    /// A problem with the upload as a whole (no file chosen).
    form_error: Option<String>,
    history: Vec<HistoryRow>,
    timezone: String,
    max_size: String,
    can_change_settings: bool,
}

impl ImportsPage {
    fn imported(&self) -> usize {
        self.outcomes.iter().filter(|o| o.error.is_none()).count()
    }

    fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.error.is_some()).count()
    }
}

const DASH: &str = "–";

/// A Unix time in the organisation's zone as (date, time of day).
fn local_date_time(lang: Lang, tz: Tz, ts: i64) -> (String, String) {
    match DateTime::from_timestamp(ts, 0) {
        Some(d) => {
            let d = d.with_timezone(&tz);
            (i18n::date(lang, d.date_naive()), d.format("%H:%M").to_string())
        }
        None => (DASH.into(), String::new()),
    }
}

fn span(lang: Lang, tz: Tz, first: Option<i64>, last: Option<i64>) -> Option<(String, String)> {
    Some((i18n::instant(lang, first?, tz), i18n::instant(lang, last?, tz)))
}

fn time_range(lang: Lang, tz: Tz, first: Option<i64>, last: Option<i64>) -> String {
    span(lang, tz, first, last).map(|(a, b)| format!("{a} – {b}")).unwrap_or_else(|| DASH.into())
}

pub(super) fn count(n: u64) -> String {
    i18n::integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn unknown_kinds(s: &ImportSummary) -> Vec<(String, String)> {
    s.unknown_kinds.iter().map(|(k, n)| (k.clone(), count(*n))).collect()
}

fn source_label(t: &Catalog, source: &str) -> String {
    match source {
        "people" => t.get("imports.source.people"),
        "events" => t.get("imports.source.events"),
        "api" => t.get("imports.source.api"),
        "teams" => t.get("imports.source.teams"),
        "slack_dashboard" | "slack_api" => t.get("imports.source.slack"),
        "slack_export" => t.get("imports.source.slack_export"),
        "slack_audit" => t.get("imports.source.slack_audit"),
        "feishu" => t.get("imports.source.feishu"),
        "google_chat" => t.get("imports.source.google_chat"),
        "mattermost" => t.get("imports.source.mattermost"),
        "mattermost_audit" => t.get("imports.source.mattermost_audit"),
        "zulip" => t.get("imports.source.zulip"),
        "m365_audit" => t.get("imports.source.m365_audit"),
        other => other,
    }
    .to_string()
}

fn status_label(t: &Catalog, status: ImportStatus) -> String {
    t.get(&format!("imports.status.{status}")).to_string()
}

fn history_row(t: &Catalog, lang: Lang, tz: Tz, r: ImportRecord) -> HistoryRow {
    let s = &r.summary;
    let failed = r.status.is_failed();
    let events = counts_events(&s.source);
    let shown = |applies: bool, n: u64| if applies && !failed { count(n) } else { DASH.to_string() };
    HistoryRow {
        when: local_date_time(lang, tz, r.started_at),
        source: source_label(t, &s.source),
        file: s.file_name.clone(),
        failed,
        status: status_label(t, r.status),
        rows_read: shown(true, s.rows_read),
        events_added: shown(events, s.events_added),
        duplicates_skipped: shown(events, s.duplicates_skipped),
        people_created: shown(true, s.people_created),
        people_updated: shown(!events, s.people_updated),
        time_range: if failed { None } else { span(lang, tz, s.first_ts, s.last_ts) },
        unknown_kinds: if failed { Vec::new() } else { unknown_kinds(s) },
        error: r.error.as_deref().map(in_browser),
    }
}

pub(super) fn succeeded(t: &Catalog, lang: Lang, tz: Tz, s: &ImportSummary) -> Outcome {
    let stat = |key: &str, value: String| Stat { label: t.get(key).to_string(), value, items: Vec::new() };
    let mut stats = vec![stat("imports.rows_read", count(s.rows_read))];
    if FactSource::parse(&s.source).is_some() {
        stats.push(stat("imports.facts_added", count(s.events_added)));
        stats.push(stat("imports.facts_known", count(s.duplicates_skipped)));
        stats.push(stat("imports.people_created", count(s.people_created)));
        stats.push(stat("imports.time_range", time_range(lang, tz, s.first_ts, s.last_ts)));
        stats.push(stat("imports.source_label", source_label(t, &s.source)));
        stats.push(stat("imports.not_available", t.get("imports.not_available_value").to_string()));
    } else if counts_events(&s.source) {
        stats.push(stat("imports.events_added", count(s.events_added)));
        stats.push(stat("imports.duplicates_skipped", count(s.duplicates_skipped)));
        stats.push(stat("imports.people_created", count(s.people_created)));
        stats.push(stat("imports.time_range", time_range(lang, tz, s.first_ts, s.last_ts)));
        if s.source != "events" {
            stats.push(stat("imports.source_label", source_label(t, &s.source)));
        }
    } else {
        stats.push(stat("imports.people_created", count(s.people_created)));
        stats.push(stat("imports.people_updated", count(s.people_updated)));
    }
    stats.extend(detail_stats(t, &s.details));
    Outcome {
        file: s.file_name.clone(),
        headline: t.fill("imports.result.done", &[("file", &s.file_name)]),
        stats,
        unknown_kinds: unknown_kinds(s),
        error: None,
        advice: None,
    }
}

/// How the file was read and its people matched, where there is something to say.
pub(super) fn detail_stats(t: &Catalog, d: &ImportDetails) -> Vec<Stat> {
    let stat = |key: &str, value: String| Stat { label: t.get(key).to_string(), value, items: Vec::new() };
    let mut stats = Vec::new();
    if d.facts_replaced > 0 {
        stats.push(stat("imports.facts_replaced", count(d.facts_replaced)));
    }
    if d.people_matched_by_alias > 0 {
        stats.push(stat("imports.people_matched_by_alias", count(d.people_matched_by_alias)));
    }
    if d.people_merged > 0 {
        stats.push(stat("imports.people_merged", count(d.people_merged)));
    }
    if let Some(encoding) = &d.encoding {
        stats.push(stat("imports.encoding", t.fill("imports.encoding_value", &[("encoding", encoding)])));
    }
    if let Some(line) = d.header_line {
        stats.push(stat("imports.header_line", t.fill("imports.header_line_value", &[("line", &line.to_string())])));
    }
    if let Some(order) = &d.date_order {
        let key = if order == "day-first" { "imports.date_order.day_first" } else { "imports.date_order.month_first" };
        stats.push(stat("imports.date_order", t.get(key).to_string()));
    }
    stats.extend(super::import_notes::source_note_stats(t, d));
    stats
}

fn failed(t: &Catalog, file: &str, failure: Failure) -> Outcome {
    let (headline, error, advice) = match failure {
        Failure::TooLarge => (
            t.fill("imports.result.too_large", &[("file", file)]),
            too_large_message(file),
            t.fill("imports.too_large_hint", &[("size", &size_limit())]),
        ),
        Failure::Input(e) => {
            (t.fill("imports.result.failed", &[("file", file)]), e, t.get("imports.fix_hint").to_string())
        }
        Failure::DiskFull(e) => {
            (t.fill("imports.result.failed", &[("file", file)]), e, t.get("imports.disk_full_hint").to_string())
        }
        Failure::Storage(e) => {
            (t.fill("imports.result.failed", &[("file", file)]), e, t.get("imports.storage_hint").to_string())
        }
    };
    Outcome {
        file: file.to_string(),
        headline,
        stats: Vec::new(),
        unknown_kinds: Vec::new(),
        error: Some(error),
        advice: Some(advice),
    }
}

fn too_large_message(file: &str) -> String {
    format!("{file}: the file is larger than {}; compress it with gzip or split it into smaller files", size_limit())
}

async fn render(
    viewer: &Viewer,
    state: &AppState,
    tz: Tz,
    outcomes: Vec<Outcome>,
    form_error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let t = viewer.lang.catalog();
    let history = imports::recent(&state.db, HISTORY_ROWS)
        .await?
        .into_iter()
        .map(|r| history_row(t, viewer.lang, tz, r))
        .collect();
    let page = Page::new(viewer, "imports", "imports.title");
    let can_change_settings = page.can(Permission::ChangeSettings);
    html(&ImportsPage {
        page,
        outcomes,
        form_error,
        history,
        timezone: tz.name().to_string(),
        max_size: size_limit(),
        can_change_settings,
    })
}

pub async fn page(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = settings::load(&state.db).await?.timezone;
    render(&viewer, &state, tz, Vec::new(), None).await
}

pub async fn upload_people(
    viewer: Viewer,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, WebError> {
    receive(viewer, state, payload, Source::People).await
}

pub async fn upload_events(
    viewer: Viewer,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, WebError> {
    receive(viewer, state, payload, Source::Events).await
}

pub async fn upload_exports(
    viewer: Viewer,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, WebError> {
    receive(viewer, state, payload, Source::Exports).await
}

/// Receives an upload form, importing each file as soon as it has arrived.
async fn receive(
    viewer: Viewer,
    state: web::Data<AppState>,
    mut payload: Multipart,
    source: Source,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = settings::load(&state.db).await?.timezone;
    let t = viewer.lang.catalog();
    let broken = |e: String| WebError::BadRequest(format!("the upload broke off: {e}"));
    let drained = |e: SpoolError| WebError::BadRequest(e.to_string());
    let mut outcomes = Vec::new();
    // A Slack dashboard export's period, when its file name lacks it; the
    // form sends these fields before the files.
    let (mut period_from, mut period_to) = (None, None);
    // How to read slashed dates (`5/6/2025`) when a file does not show it.
    let mut date_order = None;
    // The Encoding select (empty: detect), sent before the files too.
    let mut encoding = String::new();
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(|e| broken(e.to_string()))?;
        let file_name = part.content_disposition().and_then(|cd| cd.get_filename()).map(display_name);
        let file_name = match file_name {
            Some(name) if !name.is_empty() => name,
            // Not a file, or a file input left empty.
            _ => {
                let field = part.content_disposition().and_then(|cd| cd.get_name()).unwrap_or_default().to_string();
                if field == "period_from" || field == "period_to" {
                    let value = small_text(&mut part).await.map_err(drained)?;
                    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok();
                    if field == "period_from" { period_from = date } else { period_to = date }
                } else if field == "date_order" {
                    date_order = DateOrder::parse(&small_text(&mut part).await.map_err(drained)?);
                } else if field == "encoding" {
                    encoding = small_text(&mut part).await.map_err(drained)?;
                } else {
                    drain(&mut part).await.map_err(drained)?;
                }
                continue;
            }
        };
        let options = VendorOptions { period: period_from.zip(period_to).filter(|(a, b)| a <= b), date_order };
        let outcome = match import_part(&state, tz, source, &file_name, &mut part, &options, &encoding).await? {
            Ok(summary) => {
                let detail = audit_detail(&summary);
                audit::record(&state.db, viewer.audit_actor(), "import", Some(&target(source)), Some(&detail)).await?;
                succeeded(t, viewer.lang, tz, &summary)
            }
            Err(failure) => {
                let message = match &failure {
                    Failure::TooLarge => {
                        let message = too_large_message(&file_name);
                        let _ = imports::record_failure(&state.db, source.as_str(), &file_name, now(), &message).await;
                        message
                    }
                    Failure::Input(m) | Failure::DiskFull(m) | Failure::Storage(m) => m.clone(),
                };
                audit_failure(&state, &viewer, source, &file_name, &message).await?;
                failed(t, &file_name, failure)
            }
        };
        outcomes.push(outcome);
    }
    let form_error = outcomes.is_empty().then(|| t.get("imports.no_file").to_string());
    render(&viewer, &state, tz, outcomes, form_error).await
}

enum Failure {
    TooLarge,
    /// The file is wrong; the text names the file and line.
    Input(String),
    /// The disk (the database's or the upload's) is full.
    DiskFull(String),
    /// The database failed.
    Storage(String),
}

fn target(source: Source) -> String {
    format!("import:{}", source.as_str())
}

/// What the audit log says of an import.
pub(super) fn audit_detail(s: &ImportSummary) -> String {
    if counts_events(&s.source) {
        format!(
            "{}: {} rows read, {} events added, {} duplicates skipped, {} people created",
            s.file_name, s.rows_read, s.events_added, s.duplicates_skipped, s.people_created
        )
    } else {
        format!(
            "{}: {} rows read, {} people created, {} people updated",
            s.file_name, s.rows_read, s.people_created, s.people_updated
        )
    }
}

async fn audit_failure(
    state: &AppState,
    viewer: &Viewer,
    source: Source,
    file_name: &str,
    message: &str,
) -> Result<(), WebError> {
    let detail = format!("{file_name}: failed: {message}");
    audit::record(&state.db, viewer.audit_actor(), "import", Some(&target(source)), Some(&detail)).await?;
    Ok(())
}

/// Stores one uploaded file in a temporary file, then imports it.
async fn import_part(
    state: &AppState,
    tz: Tz,
    source: Source,
    file_name: &str,
    part: &mut actix_multipart::Field,
    options: &VendorOptions,
    encoding: &str,
) -> Result<Result<ImportSummary, Failure>, WebError> {
    let temp = TempUpload::new(&state.upload_dir);
    match spool(part, &temp.0, MAX_FILE_BYTES).await {
        Ok(_) => {}
        Err(SpoolError::TooLarge) => return Ok(Err(Failure::TooLarge)),
        Err(SpoolError::DiskFull) => {
            let message = disk_full_text(file_name);
            let _ = imports::record_failure(&state.db, source.as_str(), file_name, now(), &message).await;
            return Ok(Err(Failure::DiskFull(message)));
        }
        Err(SpoolError::Upload(e)) => return Err(WebError::BadRequest(format!("the upload broke off: {e}"))),
        Err(SpoolError::Io(e)) => {
            return Err(anyhow::Error::new(e).context("storing an upload in a temporary file").into());
        }
    }
    let slack = if source == Source::Exports { recognise(&temp.0) } else { None };
    if slack == Some(SlackFile::Export) {
        let result = import_slack_export(&state.db, file_name, &temp.0, None).await;
        drop(temp);
        return Ok(result.map_err(failure));
    }
    let limits = crate::app::settings::inflate_limits(&state.db).await?;
    if source == Source::Exports {
        // A per-event export (some are archives, some are read twice): from the file itself.
        let opener = file_opener(temp.0.clone(), limits);
        if let Some(event_source) = vendor_events::detect(file_name, &opener) {
            let result = import_event_source(&state.db, event_source, file_name, opener, limits, None).await;
            drop(temp);
            return Ok(result.map_err(failure));
        }
    }
    let file = std::fs::File::open(&temp.0).map_err(|e| anyhow::Error::new(e).context("reopening an upload"))?;
    let opened = parse_encoding(encoding)
        .map_err(|m| InputError::new(file_name, 0, m))
        .and_then(|forced| open_limited(file_name, file, forced, limits));
    let input = match opened {
        Ok(input) => input,
        Err(e) => {
            let message = in_browser(&e.to_string());
            let _ = imports::record_failure(&state.db, source.as_str(), file_name, now(), &message).await;
            return Ok(Err(Failure::Input(message)));
        }
    };
    let result = match source {
        Source::People => import_people(&state.db, input).await,
        Source::Events => import_events(&state.db, tz, input).await,
        Source::Exports if slack == Some(SlackFile::AuditLog) => import_slack_audit(&state.db, input).await,
        Source::Exports => import_facts(&state.db, input, None, options).await,
    };
    drop(temp);
    if result.is_ok() {
        // The results of the new data, computed while the pages show the
        // previous ones.
        state.cache.refresh(state.db.clone());
    }
    Ok(result.map_err(failure))
}

/// How a failed import is shown.
fn failure(e: ImportError) -> Failure {
    match e {
        ImportError::Input(_) => Failure::Input(in_browser(&e.to_string())),
        ImportError::DiskFull { .. } => Failure::DiskFull(e.to_string()),
        ImportError::Storage { .. } => Failure::Storage(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_too_large_is_explained_in_both_languages() {
        for lang in crate::web::i18n::Lang::ALL {
            let o = failed(lang.catalog(), "big.csv", Failure::TooLarge);
            assert!(o.headline.contains("big.csv") && !o.headline.contains("imports."), "{}", o.headline);
            assert!(o.advice.is_some_and(|a| a.contains("2 GiB")));
            assert!(o.error.is_some_and(|e| e.starts_with("big.csv: ")));
        }
    }
}
