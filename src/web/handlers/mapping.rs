//! Column mapping: importing a CSV file in any layout (a DingTalk or WeCom
//! export, a company's own log). Upload it, see its first rows, match its
//! columns to the model's fields, preview, import; save the mapping as a
//! named preset for the next file (here or with `--mapping NAME`).
//!
//! An upload is streamed to a private temporary file named by a random
//! token; forms carry only that token (checked to be hex), never a path.
//! Uploads are removed once imported, and any left over after a day.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::DateTime;
use chrono_tz::Tz;
use encoding_rs::Encoding;
use futures_util::StreamExt;

use super::imports::{MAX_FILE_BYTES, SpoolError, display_name, spool};
use super::{html, see_other};
use crate::app::import::{ImportError, disk_full_text, import_mapped};
use crate::app::settings;
use crate::domain::account::Permission;
use crate::domain::kind::{KNOWN_KINDS, Kind};
use crate::domain::mapping::{
    COMMON_PATTERNS, Field, Mapping, MappingProblem, Target, TimeFormat, is_content_column, offered_columns,
    parse_value_map, pattern_example, value_map_text,
};
use crate::domain::metrics::ChannelType;
use crate::ingest::InputError;
use crate::ingest::mapped::{MappedEvents, MappedPeople, Sample, sample};
use crate::ingest::source::{in_browser, open_as, open_limited, parse_encoding};
use crate::storage::audit;
use crate::storage::imports::ImportSummary;
use crate::storage::mappings::{self, Preset};
use crate::web::error::WebError;
use crate::web::i18n::{self, Catalog};
use crate::web::page::Page;
use crate::web::session::{Viewer, random_token};
use crate::web::state::AppState;

/// Rows of the file shown before mapping, and mapped records in a preview.
const SAMPLE_ROWS: usize = 20;
/// Problems listed in a preview.
const PREVIEW_ERRORS: usize = 10;
/// Distinct event kinds counted in a preview.
const PREVIEW_KINDS: usize = 100;
/// Uploads older than this are removed.
const KEEP_UPLOADS: Duration = Duration::from_secs(24 * 3600);
const UPLOAD_PREFIX: &str = "undercurrent-mapping-";
const MAX_PRESET_NAME: usize = 80;

/// The temporary file of an upload token; `None` unless the token is the
/// 64 lower-case hex digits `random_token` makes.
fn upload_path(dir: &Path, token: &str) -> Option<PathBuf> {
    let valid = token.len() == 64 && token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    valid.then(|| dir.join(format!("{UPLOAD_PREFIX}{token}")))
}

/// Removes uploads older than a day.
fn sweep_old_uploads(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(UPLOAD_PREFIX) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > KEEP_UPLOADS);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A cell of the sample table; message content is never shown.
pub struct Cell {
    pub text: String,
    pub masked: bool,
}

pub struct SampleRow {
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// One field of the form.
pub struct FieldView {
    pub key: &'static str,
    pub label: String,
    pub help: String,
    pub required: bool,
    /// The chosen column; empty when none.
    pub selected: String,
}

pub struct KindCount {
    pub kind: String,
    pub count: String,
    pub known: bool,
}

/// A preview: the first mapped records and the problems of the whole file.
pub struct Preview {
    pub sentence: String,
    pub ok: bool,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub errors: Vec<String>,
    pub kinds: Vec<KindCount>,
    pub times_note: Option<String>,
}

/// The uploaded file and the mapping form.
pub struct FileView {
    pub token: String,
    pub name: String,
    /// The encoding chosen on upload (a label, empty for automatic), carried
    /// by every form so that each step reads the file the same way.
    pub encoding: String,
    pub target: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<SampleRow>,
    pub more: bool,
    pub content_columns: String,
    pub options: Vec<String>,
    pub fields: Vec<FieldView>,
    pub event_constant: String,
    pub event_values: String,
    pub time_choice: String,
    pub time_pattern: String,
    pub time_choices: Vec<(String, String)>,
    pub timezone: String,
    pub keep_other: bool,
    pub preset_name: String,
    pub problems: Vec<String>,
    pub preview: Option<Preview>,
}

pub struct PresetRow {
    pub id: i64,
    pub delete_path: String,
    pub name: String,
    pub target: String,
    pub summary: String,
    pub updated: String,
}

/// What an import did, shown at the top.
pub struct Outcome {
    pub headline: String,
    pub stats: Vec<(String, String)>,
    pub unknown_kinds: Vec<(String, String)>,
    pub error: Option<String>,
    pub advice: String,
}

#[derive(Template)]
#[template(path = "mapping.html")]
struct MappingPage {
    page: Page,
    org_timezone: String,
    max_size: String,
    message: Option<String>,
    form_error: Option<String>,
    outcome: Option<Outcome>,
    /// After an import: the mapping, as hidden fields, to save it.
    save_after: Option<Vec<(String, String)>>,
    file: Option<FileView>,
    presets: Vec<PresetRow>,
    timezones: Vec<&'static str>,
    known_kinds: String,
}

/// What a page shows besides the presets.
#[derive(Default)]
struct View {
    message: Option<String>,
    form_error: Option<String>,
    outcome: Option<Outcome>,
    save_after: Option<Vec<(String, String)>>,
    file: Option<FileView>,
}

fn size_limit() -> String {
    format!("{} GiB", MAX_FILE_BYTES >> 30)
}

fn local_time(tz: Tz, ts: i64) -> String {
    DateTime::from_timestamp(ts, 0)
        .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn field_label(t: &Catalog, field: Field) -> String {
    t.get(&format!("mapping.field.{}", field.as_str())).to_string()
}

fn target_label(t: &Catalog, target: Target) -> String {
    match target {
        Target::Events => t.get("mapping.target.events"),
        Target::People => t.get("mapping.target.people"),
    }
    .to_string()
}

/// A mapping problem in the reader's language.
fn problem_text(t: &Catalog, p: &MappingProblem) -> String {
    let label = |f: &Field| format!("{} ({})", field_label(t, *f), f.as_str());
    match p {
        MappingProblem::Required(f) => t.fill("mapping.problem.required", &[("field", &label(f))]),
        MappingProblem::WrongTarget { field, .. } => {
            t.fill("mapping.problem.wrong_target", &[("field", &label(field))])
        }
        MappingProblem::UnknownColumn { field, column, available } => t.fill(
            "mapping.problem.unknown_column",
            &[("column", column), ("field", &label(field)), ("columns", &available.join(", "))],
        ),
        MappingProblem::DuplicateColumn { field, column } => {
            t.fill("mapping.problem.duplicate_column", &[("column", column), ("field", &label(field))])
        }
        MappingProblem::ContentColumn { field, column } => {
            t.fill("mapping.problem.content_column", &[("column", column), ("field", &label(field))])
        }
        MappingProblem::EventTwice => t.get("mapping.problem.event_twice").to_string(),
        MappingProblem::EmptyKind { value } => t.fill("mapping.problem.empty_kind", &[("value", value)]),
        MappingProblem::BadValueLine { line, text } => {
            t.fill("mapping.problem.bad_value_line", &[("line", &line.to_string()), ("text", text)])
        }
        MappingProblem::BadPattern { pattern } => t.fill("mapping.problem.bad_pattern", &[("pattern", pattern)]),
        MappingProblem::PatternWithoutDate { pattern } => {
            t.fill("mapping.problem.pattern_without_date", &[("pattern", pattern)])
        }
        MappingProblem::UnknownZone(zone) => t.fill("mapping.problem.unknown_zone", &[("zone", zone)]),
    }
}

/// The time format select: its choices, and the choice and custom pattern
/// for a format.
fn time_choices(t: &Catalog) -> Vec<(String, String)> {
    let mut out = vec![("auto".to_string(), t.get("mapping.time.auto").to_string())];
    for p in COMMON_PATTERNS {
        let example = pattern_example(p).unwrap_or_default();
        out.push((p.to_string(), format!("{p}  →  {example}")));
    }
    out.push(("unix_seconds".into(), t.get("mapping.time.unix_seconds").to_string()));
    out.push(("unix_millis".into(), t.get("mapping.time.unix_millis").to_string()));
    out.push(("custom".into(), t.get("mapping.time.custom").to_string()));
    out
}

fn time_choice(format: &TimeFormat) -> (String, String) {
    match format {
        TimeFormat::Pattern(p) if !COMMON_PATTERNS.contains(&p.as_str()) => ("custom".into(), p.clone()),
        other => (other.as_str().to_string(), String::new()),
    }
}

/// The form's view of an uploaded file and a mapping.
fn file_view(t: &Catalog, (token, name, encoding): (&str, &str, &str), sample: &Sample, mapping: &Mapping) -> FileView {
    let masked: Vec<bool> = sample.header.iter().map(|h| is_content_column(h)).collect();
    let hidden = t.get("mapping.hidden");
    let rows = sample
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| SampleRow {
            line: i + 2,
            cells: r
                .iter()
                .zip(&masked)
                .map(|(text, m)| Cell {
                    text: if *m && !text.is_empty() { hidden.to_string() } else { text.clone() },
                    masked: *m,
                })
                .collect(),
        })
        .collect();
    let content: Vec<String> = sample.header.iter().filter(|h| is_content_column(h)).cloned().collect();
    let fields = mapping
        .target
        .fields()
        .iter()
        .map(|f| FieldView {
            key: f.as_str(),
            label: field_label(t, *f),
            help: t.get(&format!("mapping.help.{}", f.as_str())).to_string(),
            required: f.required(mapping.target),
            selected: mapping
                .column(*f)
                .map(|c| {
                    // Shown as the file writes it, when the file has it.
                    let want = crate::ingest::source::normalise_header(c);
                    sample
                        .header
                        .iter()
                        .find(|h| crate::ingest::source::normalise_header(h) == want)
                        .cloned()
                        .unwrap_or_else(|| c.to_string())
                })
                .unwrap_or_default(),
        })
        .collect();
    let (time_choice, time_pattern) = time_choice(&mapping.timestamp_format);
    FileView {
        token: token.to_string(),
        name: name.to_string(),
        encoding: encoding.to_string(),
        target: mapping.target.as_str(),
        header: sample.header.clone(),
        rows,
        more: sample.more,
        content_columns: content.join(", "),
        options: offered_columns(&sample.header),
        fields,
        event_constant: mapping.event_constant.clone().unwrap_or_default(),
        event_values: value_map_text(&mapping.event_values),
        time_choice,
        time_pattern,
        time_choices: time_choices(t),
        timezone: mapping.timezone.clone().unwrap_or_default(),
        keep_other: mapping.keep_other_columns,
        preset_name: String::new(),
        problems: Vec::new(),
        preview: None,
    }
}

/// A mapping as the hidden fields of a form.
fn hidden_fields(mapping: &Mapping) -> Vec<(String, String)> {
    let mut out = vec![("target".to_string(), mapping.target.as_str().to_string())];
    for f in mapping.target.fields() {
        if let Some(c) = mapping.column(*f) {
            out.push((format!("col_{}", f.as_str()), c.to_string()));
        }
    }
    if let Some(c) = &mapping.event_constant {
        out.push(("event_constant".into(), c.clone()));
    }
    out.push(("event_values".into(), value_map_text(&mapping.event_values)));
    let (choice, pattern) = time_choice(&mapping.timestamp_format);
    out.push(("time_format".into(), choice));
    out.push(("time_pattern".into(), pattern));
    out.push(("timezone".into(), mapping.timezone.clone().unwrap_or_default()));
    if mapping.keep_other_columns {
        out.push(("keep_other".into(), "on".into()));
    }
    out
}

fn preset_summary(t: &Catalog, p: &Preset) -> String {
    let mut parts: Vec<String> = p
        .mapping
        .target
        .fields()
        .iter()
        .filter_map(|f| Some(format!("{} ← {}", f.as_str(), p.mapping.column(*f)?)))
        .collect();
    if let Some(c) = p.mapping.event_constant.as_deref().filter(|c| !c.trim().is_empty()) {
        parts.push(format!("event = {c}"));
    }
    if !p.mapping.event_values.is_empty() {
        parts.push(t.fill("mapping.presets.values", &[("n", &p.mapping.event_values.len().to_string())]));
    }
    if p.target == Target::Events && p.mapping.timestamp_format != TimeFormat::Auto {
        parts.push(p.mapping.timestamp_format.as_str().to_string());
    }
    if let Some(z) = &p.mapping.timezone {
        parts.push(z.clone());
    }
    parts.join(" · ")
}

async fn render(viewer: &Viewer, state: &AppState, tz: Tz, view: View) -> Result<HttpResponse, WebError> {
    let t = viewer.lang.catalog();
    let presets = mappings::list(&state.db)
        .await?
        .into_iter()
        .map(|p| PresetRow {
            id: p.id,
            delete_path: format!("/imports/mapping/presets/{}/delete", p.id),
            name: p.name.clone(),
            target: target_label(t, p.target),
            summary: preset_summary(t, &p),
            updated: local_time(tz, p.updated_at),
        })
        .collect();
    html(&MappingPage {
        page: Page::new(viewer, "imports", "mapping.title"),
        org_timezone: tz.name().to_string(),
        max_size: size_limit(),
        message: view.message,
        form_error: view.form_error,
        outcome: view.outcome,
        save_after: view.save_after,
        file: view.file,
        presets,
        timezones: chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect(),
        known_kinds: known_kinds(),
    })
}

async fn org_zone(state: &AppState) -> Result<Tz, WebError> {
    Ok(settings::load(&state.db).await?.timezone)
}

/// GET /imports/mapping
pub async fn page(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    render(&viewer, &state, tz, View::default()).await
}

/// GET of a form's address (after switching language, say): the page.
pub async fn back(viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    Ok(see_other("/imports/mapping"))
}

/// Reads a small text part of a multipart form.
async fn text_part(part: &mut actix_multipart::Field) -> Result<String, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|e| WebError::BadRequest(format!("the upload broke off: {e}")))?;
        if bytes.len() + chunk.len() > 4096 {
            return Err(WebError::BadRequest("a form field is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads the sample of an upload, converted to UTF-8 (`forced`: the
/// encoding chosen on upload).
fn read_sample(path: &std::path::Path, name: &str, forced: Option<&'static Encoding>) -> Result<Sample, InputError> {
    let file = std::fs::File::open(path).map_err(|e| InputError::new(name, 0, format!("cannot open: {e}")))?;
    sample(open_as(name, file, forced)?, SAMPLE_ROWS)
}

/// The encoding a form's `encoding` field names (empty: detect).
fn forced_encoding(name: &str, label: &str) -> Result<Option<&'static Encoding>, InputError> {
    parse_encoding(label).map_err(|m| InputError::new(name, 0, m))
}

/// POST /imports/mapping/upload (multipart: `file`, `target`, `preset`).
pub async fn upload(
    viewer: Viewer,
    state: web::Data<AppState>,
    mut payload: Multipart,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    let t = viewer.lang.catalog();
    sweep_old_uploads(&state.upload_dir);
    let mut target = Target::Events;
    let mut preset: Option<i64> = None;
    let mut received: Option<(String, String)> = None;
    let mut encoding = String::new();
    let mut too_large = false;
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(|e| WebError::BadRequest(format!("the upload broke off: {e}")))?;
        let field = part.name().unwrap_or_default().to_string();
        let file_name = part.content_disposition().and_then(|cd| cd.get_filename()).map(display_name);
        match file_name {
            Some(name) if !name.is_empty() && received.is_none() => {
                let token = random_token();
                let path = upload_path(&state.upload_dir, &token).expect("random tokens are hex");
                match spool(&mut part, &path, MAX_FILE_BYTES).await {
                    Ok(_) => received = Some((token, name)),
                    Err(SpoolError::TooLarge) => {
                        let _ = std::fs::remove_file(&path);
                        too_large = true;
                    }
                    Err(SpoolError::Upload(e)) => {
                        let _ = std::fs::remove_file(&path);
                        return Err(WebError::BadRequest(format!("the upload broke off: {e}")));
                    }
                    Err(SpoolError::DiskFull) => {
                        let _ = std::fs::remove_file(&path);
                        return render(&viewer, &state, tz, failed_view(disk_full_text(&name))).await;
                    }
                    Err(SpoolError::Io(e)) => {
                        let _ = std::fs::remove_file(&path);
                        return Err(anyhow::Error::new(e).context("storing an upload in a temporary file").into());
                    }
                }
            }
            Some(_) => {
                // An empty file input, or a second file: read and dropped.
                while let Some(chunk) = part.next().await {
                    chunk.map_err(|e| WebError::BadRequest(format!("the upload broke off: {e}")))?;
                }
            }
            None => {
                let value = text_part(&mut part).await?;
                match field.as_str() {
                    "target" => target = Target::parse(&value).unwrap_or(Target::Events),
                    "preset" => preset = value.trim().parse().ok(),
                    "encoding" => encoding = value.trim().to_string(),
                    _ => {}
                }
            }
        }
    }
    let view = match received {
        None if too_large => {
            View { form_error: Some(t.fill("mapping.too_large", &[("size", &size_limit())])), ..View::default() }
        }
        None => View { form_error: Some(t.get("mapping.no_file").to_string()), ..View::default() },
        Some((token, name)) => {
            let path = upload_path(&state.upload_dir, &token).expect("checked");
            match forced_encoding(&name, &encoding).and_then(|forced| read_sample(&path, &name, forced)) {
                Err(e) => {
                    let _ = std::fs::remove_file(&path);
                    let e = in_browser(&e.to_string());
                    View { form_error: Some(format!("{} {e}", t.get("mapping.unreadable"))), ..View::default() }
                }
                Ok(sample) => {
                    let chosen = match preset {
                        Some(id) => mappings::get(&state.db, id).await?,
                        None => None,
                    };
                    let mapping = match &chosen {
                        Some(p) => p.mapping.clone(),
                        None => Mapping::suggest(target, &sample.header, &sample.rows),
                    };
                    let mut file = file_view(t, (&token, &name, &encoding), &sample, &mapping);
                    if let Some(p) = &chosen {
                        file.preset_name = p.name.clone();
                        // Say at once whether the preset fits this file.
                        if let Err(problems) = mapping.bind(&sample.header, tz) {
                            file.problems = problems.iter().map(|p| problem_text(t, p)).collect();
                        }
                    }
                    View { file: Some(file), ..View::default() }
                }
            }
        }
    };
    render(&viewer, &state, tz, view).await
}

/// The mapping form as submitted.
struct Submitted {
    token: String,
    name: String,
    /// The encoding chosen on upload, as its label (empty: detect).
    encoding: String,
    mapping: Mapping,
    /// Problems found in the form itself (value map lines, an empty
    /// custom pattern).
    problems: Vec<MappingProblem>,
    preset_name: String,
    preset: Option<i64>,
}

fn submitted(form: &[(String, String)]) -> Submitted {
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    let target = Target::parse(get("target")).unwrap_or(Target::Events);
    let mut mapping = Mapping::new(target);
    let mut problems = Vec::new();
    for f in target.fields() {
        let column = get(&format!("col_{}", f.as_str())).trim();
        if !column.is_empty() {
            mapping.columns.insert(*f, column.to_string());
        }
    }
    if target == Target::Events {
        let constant = get("event_constant").trim();
        mapping.event_constant = (!constant.is_empty()).then(|| constant.to_string());
        match parse_value_map(get("event_values")) {
            Ok(values) => mapping.event_values = values,
            Err(p) => problems.extend(p),
        }
        mapping.timestamp_format = match get("time_format").trim() {
            "custom" => TimeFormat::Pattern(get("time_pattern").trim().to_string()),
            other => TimeFormat::parse(other),
        };
        if let TimeFormat::Pattern(p) = &mapping.timestamp_format
            && p.is_empty()
        {
            problems.push(MappingProblem::BadPattern { pattern: String::new() });
        }
    }
    let zone = get("timezone").trim();
    mapping.timezone = (!zone.is_empty()).then(|| zone.to_string());
    mapping.keep_other_columns = target == Target::People && get("keep_other") == "on";
    Submitted {
        token: get("file").trim().to_string(),
        name: display_name(get("name")),
        encoding: get("encoding").trim().to_string(),
        mapping,
        problems,
        preset_name: get("preset_name").trim().to_string(),
        preset: get("preset").trim().parse().ok(),
    }
}

impl Submitted {
    /// The upload as `file_view` shows it: token, name and encoding.
    fn upload(&self) -> (&str, &str, &str) {
        (&self.token, &self.name, &self.encoding)
    }
}

/// The upload a form names, with its sample; otherwise what to tell the
/// user (it is gone, or cannot be read).
fn loaded(dir: &Path, t: &Catalog, s: &Submitted) -> Result<(PathBuf, Sample), String> {
    let gone = || t.get("mapping.file_gone").to_string();
    let path = upload_path(dir, &s.token).ok_or_else(gone)?;
    if !path.is_file() {
        return Err(gone());
    }
    let sample = forced_encoding(&s.name, &s.encoding)
        .and_then(|forced| read_sample(&path, &s.name, forced))
        .map_err(|e| format!("{} {}", t.get("mapping.unreadable"), in_browser(&e.to_string())))?;
    Ok((path, sample))
}

/// A page with only an error.
fn failed_view(message: String) -> View {
    View { form_error: Some(message), ..View::default() }
}

/// The form's view with every problem of the mapping against the file.
fn checked_view(t: &Catalog, s: &Submitted, sample: &Sample, tz: Tz) -> (FileView, bool) {
    let mut view = file_view(t, s.upload(), sample, &s.mapping);
    view.preset_name = s.preset_name.clone();
    let mut problems = s.problems.clone();
    if let Err(p) = s.mapping.bind(&sample.header, tz) {
        problems.extend(p);
    }
    view.problems = problems.iter().map(|p| problem_text(t, p)).collect();
    let ok = problems.is_empty();
    (view, ok)
}

/// POST /imports/mapping/apply: a preset, or a fresh guess for a target.
pub async fn apply(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    let t = viewer.lang.catalog();
    let s = submitted(&form);
    let (_, sample) = match loaded(&state.upload_dir, t, &s) {
        Ok(l) => l,
        Err(message) => return render(&viewer, &state, tz, failed_view(message)).await,
    };
    let chosen = match s.preset {
        Some(id) => mappings::get(&state.db, id).await?,
        None => None,
    };
    let view = match chosen {
        Some(p) => {
            let mut file = file_view(t, s.upload(), &sample, &p.mapping);
            file.preset_name = p.name.clone();
            if let Err(problems) = p.mapping.bind(&sample.header, tz) {
                file.problems = problems.iter().map(|x| problem_text(t, x)).collect();
            }
            View { file: Some(file), ..View::default() }
        }
        None if s.preset.is_some() => View {
            form_error: Some(t.get("mapping.preset.unknown").to_string()),
            file: Some(file_view(t, s.upload(), &sample, &s.mapping)),
            ..View::default()
        },
        None => {
            let mapping = Mapping::suggest(s.mapping.target, &sample.header, &sample.rows);
            View { file: Some(file_view(t, s.upload(), &sample, &mapping)), ..View::default() }
        }
    };
    render(&viewer, &state, tz, view).await
}

/// What a preview found, before it is put into words.
struct PreviewData {
    rows_read: u64,
    errors: Vec<String>,
    error_count: u64,
    stopped: bool,
    records: Vec<Vec<String>>,
    kinds: BTreeMap<String, u64>,
}

fn channel_type_name(c: ChannelType) -> &'static str {
    match c {
        ChannelType::Unknown => "",
        ChannelType::Direct => "direct",
        ChannelType::Group => "group",
        ChannelType::Broadcast => "broadcast",
    }
}

/// Counts a problem; whether it ends the reading (a problem with the file
/// itself, not with one value).
fn note_error(data: &mut PreviewData, e: InputError) -> bool {
    data.error_count += 1;
    if data.errors.len() < PREVIEW_ERRORS {
        data.errors.push(in_browser(&e.to_string()));
    }
    e.column.is_none()
}

/// Reads the whole file through the mapping, storing nothing.
fn run_preview(
    path: PathBuf,
    name: String,
    forced: Option<&'static Encoding>,
    mapping: Mapping,
    tz: Tz,
) -> Result<PreviewData, InputError> {
    let file = std::fs::File::open(&path).map_err(|e| InputError::new(&name, 0, format!("cannot open: {e}")))?;
    let input = open_as(&name, file, forced)?;
    let mut data = PreviewData {
        rows_read: 0,
        errors: Vec::new(),
        error_count: 0,
        stopped: false,
        records: Vec::new(),
        kinds: BTreeMap::new(),
    };
    match mapping.target {
        Target::Events => {
            for item in MappedEvents::new(input, &mapping, tz)? {
                data.rows_read += 1;
                match item {
                    Ok(e) => {
                        if data.kinds.len() < PREVIEW_KINDS || data.kinds.contains_key(&e.kind) {
                            *data.kinds.entry(e.kind.clone()).or_default() += 1;
                        }
                        if data.records.len() < SAMPLE_ROWS {
                            let when = DateTime::from_timestamp(e.ts, 0)
                                .map(|d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S %:z").to_string())
                                .unwrap_or_default();
                            data.records.push(vec![
                                e.line.to_string(),
                                e.user_id,
                                when,
                                e.kind,
                                e.channel.unwrap_or_default(),
                                channel_type_name(e.channel_type).to_string(),
                                e.duration_seconds.map(|d| d.to_string()).unwrap_or_default(),
                                e.event_id.unwrap_or_default(),
                            ]);
                        }
                    }
                    Err(e) => {
                        if note_error(&mut data, e) {
                            data.stopped = true;
                            break;
                        }
                    }
                }
            }
        }
        Target::People => {
            for item in MappedPeople::new(input, &mapping, tz)? {
                data.rows_read += 1;
                match item {
                    Ok(p) => {
                        if data.records.len() < SAMPLE_ROWS {
                            let attributes =
                                p.attributes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
                            data.records.push(vec![
                                p.line.to_string(),
                                p.user_id,
                                p.name.unwrap_or_default(),
                                p.email.unwrap_or_default(),
                                p.department.unwrap_or_default(),
                                p.title.unwrap_or_default(),
                                p.location.unwrap_or_default(),
                                p.start_date.map(|d| d.to_string()).unwrap_or_default(),
                                attributes,
                            ]);
                        }
                    }
                    Err(e) => {
                        if note_error(&mut data, e) {
                            data.stopped = true;
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok(data)
}

fn preview_view(t: &Catalog, target: Target, tz: Tz, result: Result<PreviewData, InputError>) -> Preview {
    let mut columns = vec![t.get("mapping.preview.line").to_string()];
    columns.extend(target.fields().iter().map(|f| field_label(t, *f)));
    if target == Target::People {
        columns.push(t.get("mapping.preview.attributes").to_string());
    }
    let data = match result {
        Ok(d) => d,
        Err(e) => {
            return Preview {
                sentence: t.get("mapping.preview.cannot_read").to_string(),
                ok: false,
                columns,
                rows: Vec::new(),
                errors: vec![in_browser(&e.to_string())],
                kinds: Vec::new(),
                times_note: None,
            };
        }
    };
    let rows = i18n::integer(data.rows_read as i64);
    let mut sentence = if data.error_count == 0 {
        t.fill("mapping.preview.ok", &[("rows", &rows)])
    } else {
        t.fill("mapping.preview.errors", &[("rows", &rows), ("errors", &i18n::integer(data.error_count as i64))])
    };
    if data.stopped {
        sentence = format!("{sentence} {}", t.get("mapping.preview.stopped"));
    }
    Preview {
        sentence,
        ok: data.error_count == 0,
        columns,
        rows: data.records,
        errors: data.errors,
        kinds: data
            .kinds
            .into_iter()
            .map(|(kind, n)| KindCount { known: Kind::known(&kind).is_some(), kind, count: i18n::integer(n as i64) })
            .collect(),
        times_note: (target == Target::Events).then(|| t.fill("mapping.preview.times", &[("tz", tz.name())])),
    }
}

/// POST /imports/mapping/preview: the first mapped records and the
/// problems of the whole file; nothing is stored.
pub async fn preview(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    let t = viewer.lang.catalog();
    let s = submitted(&form);
    let (path, sample) = match loaded(&state.upload_dir, t, &s) {
        Ok(l) => l,
        Err(message) => return render(&viewer, &state, tz, failed_view(message)).await,
    };
    let (mut file, ok) = checked_view(t, &s, &sample, tz);
    if ok {
        let (name, mapping) = (s.name.clone(), s.mapping.clone());
        let forced = parse_encoding(&s.encoding).ok().flatten();
        let result = tokio::task::spawn_blocking(move || run_preview(path, name, forced, mapping, tz))
            .await
            .map_err(|e| anyhow::anyhow!("the preview failed: {e}"))?;
        file.preview = Some(preview_view(t, s.mapping.target, tz, result));
    }
    render(&viewer, &state, tz, View { file: Some(file), ..View::default() }).await
}

fn count(n: u64) -> String {
    i18n::integer(i64::try_from(n).unwrap_or(i64::MAX))
}

fn succeeded(t: &Catalog, tz: Tz, s: &ImportSummary) -> Outcome {
    let stat = |key: &str, value: String| (t.get(key).to_string(), value);
    let mut stats = vec![stat("imports.rows_read", count(s.rows_read))];
    if s.source == "events" {
        stats.push(stat("imports.events_added", count(s.events_added)));
        stats.push(stat("imports.duplicates_skipped", count(s.duplicates_skipped)));
        stats.push(stat("imports.people_created", count(s.people_created)));
        let range = match (s.first_ts, s.last_ts) {
            (Some(a), Some(b)) => format!("{} – {}", local_time(tz, a), local_time(tz, b)),
            _ => "–".into(),
        };
        stats.push(stat("imports.time_range", range));
    } else {
        stats.push(stat("imports.people_created", count(s.people_created)));
        stats.push(stat("imports.people_updated", count(s.people_updated)));
    }
    stats.extend(super::imports::detail_stats(t, &s.details).into_iter().map(|s| (s.label, s.value)));
    Outcome {
        headline: t.fill("imports.result.done", &[("file", &s.file_name)]),
        stats,
        unknown_kinds: s.unknown_kinds.iter().map(|(k, n)| (k.clone(), count(*n))).collect(),
        error: None,
        advice: t.get("mapping.imported_hint").to_string(),
    }
}

fn audit_detail(s: &ImportSummary) -> String {
    if s.source == "events" {
        format!(
            "{}: {} rows read, {} events added, {} duplicates skipped, {} people created (column mapping)",
            s.file_name, s.rows_read, s.events_added, s.duplicates_skipped, s.people_created
        )
    } else {
        format!(
            "{}: {} rows read, {} people created, {} people updated (column mapping)",
            s.file_name, s.rows_read, s.people_created, s.people_updated
        )
    }
}

/// POST /imports/mapping/import: the real import, all or nothing.
pub async fn import(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    let t = viewer.lang.catalog();
    let s = submitted(&form);
    let (path, sample) = match loaded(&state.upload_dir, t, &s) {
        Ok(l) => l,
        Err(message) => return render(&viewer, &state, tz, failed_view(message)).await,
    };
    let (file, ok) = checked_view(t, &s, &sample, tz);
    if !ok {
        return render(&viewer, &state, tz, View { file: Some(file), ..View::default() }).await;
    }
    let target = format!("import:{}", s.mapping.target.as_str());
    let opened = std::fs::File::open(&path).map_err(|e| anyhow::Error::new(e).context("reopening an upload"))?;
    let limits = crate::app::settings::inflate_limits(&state.db).await?;
    let result =
        match forced_encoding(&s.name, &s.encoding).and_then(|forced| open_limited(&s.name, opened, forced, limits)) {
            Ok(input) => import_mapped(&state.db, tz, input, &s.mapping).await,
            Err(e) => Err(ImportError::Input(e)),
        };
    let view = match result {
        Ok(summary) => {
            audit::record(&state.db, viewer.audit_actor(), "import", Some(&target), Some(&audit_detail(&summary)))
                .await?;
            // The data is in; the upload (which may hold content) goes.
            let _ = std::fs::remove_file(&path);
            // Offer to save the mapping unless a preset already holds it.
            let saved = mappings::list(&state.db).await?.iter().any(|p| p.mapping == s.mapping);
            View {
                outcome: Some(succeeded(t, tz, &summary)),
                save_after: (!saved).then(|| hidden_fields(&s.mapping)),
                ..View::default()
            }
        }
        Err(e) => {
            let message = in_browser(&e.to_string());
            let detail = format!("{}: failed: {message} (column mapping)", s.name);
            audit::record(&state.db, viewer.audit_actor(), "import", Some(&target), Some(&detail)).await?;
            let advice = match e {
                ImportError::Input(_) => t.get("mapping.fix_hint"),
                ImportError::DiskFull { .. } => t.get("imports.disk_full_hint"),
                ImportError::Storage { .. } => t.get("imports.storage_hint"),
            };
            View {
                outcome: Some(Outcome {
                    headline: t.fill("imports.result.failed", &[("file", &s.name)]),
                    stats: Vec::new(),
                    unknown_kinds: Vec::new(),
                    error: Some(message),
                    advice: advice.to_string(),
                }),
                file: Some(file),
                ..View::default()
            }
        }
    };
    render(&viewer, &state, tz, view).await
}

/// A preset name: trimmed, 1 to 80 characters, no control characters.
fn preset_name(raw: &str) -> Option<String> {
    let name = raw.trim();
    let ok = !name.is_empty() && name.chars().count() <= MAX_PRESET_NAME && !name.chars().any(char::is_control);
    ok.then(|| name.to_string())
}

/// POST /imports/mapping/presets: saves the form's mapping under a name.
pub async fn save_preset(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    let t = viewer.lang.catalog();
    let s = submitted(&form);
    // With the file still here, the mapping is checked against it;
    // after an import, on its own.
    let (mut file, mut problems) = if s.token.is_empty() {
        let mut p = s.problems.clone();
        if let Err(more) = s.mapping.validate() {
            p.extend(more);
        }
        (None, p.iter().map(|x| problem_text(t, x)).collect::<Vec<_>>())
    } else {
        match loaded(&state.upload_dir, t, &s) {
            Ok((_, sample)) => {
                let (view, _) = checked_view(t, &s, &sample, tz);
                let problems = view.problems.clone();
                (Some(view), problems)
            }
            Err(message) => return render(&viewer, &state, tz, failed_view(message)).await,
        }
    };
    let name = preset_name(&s.preset_name);
    if name.is_none() {
        problems.push(t.fill("mapping.preset.name_required", &[("max", &MAX_PRESET_NAME.to_string())]));
    }
    let name = match name {
        Some(n) if problems.is_empty() => n,
        _ => {
            let form_error = Some(format!("{} {}", t.get("mapping.preset.not_saved"), problems.join(" · ")));
            if let Some(f) = file.as_mut() {
                f.problems = problems;
            }
            let save_after = file.is_none().then(|| hidden_fields(&s.mapping));
            return render(&viewer, &state, tz, View { form_error, file, save_after, ..View::default() }).await;
        }
    };
    let (_, created) = mappings::save(&state.db, &name, &s.mapping).await?;
    let detail = format!("{} ({} files): {}", if created { "saved" } else { "replaced" }, s.mapping.target, name);
    audit::record(&state.db, viewer.audit_actor(), "mapping_preset", Some(&format!("preset:{name}")), Some(&detail))
        .await?;
    let key = if created { "mapping.preset.saved" } else { "mapping.preset.updated" };
    if let Some(f) = file.as_mut() {
        f.preset_name = name.clone();
    }
    let view = View { message: Some(t.fill(key, &[("name", &name)])), file, ..View::default() };
    render(&viewer, &state, tz, view).await
}

/// POST /imports/mapping/presets/{id}/delete
pub async fn delete_preset(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let id = path.into_inner();
    let Some(preset) = mappings::get(&state.db, id).await? else { return Err(WebError::NotFound) };
    mappings::delete(&state.db, id).await?;
    let target = format!("preset:{}", preset.name);
    audit::record(&state.db, viewer.audit_actor(), "mapping_preset", Some(&target), Some("deleted")).await?;
    Ok(see_other("/imports/mapping"))
}

/// The model's event kinds, for the value map's hint.
pub fn known_kinds() -> String {
    KNOWN_KINDS.iter().filter(|(k, _, _)| k.is_core()).map(|(_, n, _)| *n).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    #[test]
    fn only_hex_tokens_name_a_file() {
        let token = random_token();
        let dir = std::env::temp_dir();
        let path = upload_path(&dir, &token).unwrap();
        assert!(path.starts_with(&dir));
        assert!(path.file_name().unwrap().to_string_lossy().ends_with(&token));
        for bad in ["", "../../etc/passwd", &token.to_uppercase(), &token[..63], &format!("{}/", &token[..63])] {
            assert!(upload_path(&dir, bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn every_field_and_problem_reads_in_both_languages() {
        for lang in Lang::ALL {
            let t = lang.catalog();
            for f in Field::ALL {
                for key in [format!("mapping.field.{}", f.as_str()), format!("mapping.help.{}", f.as_str())] {
                    assert_ne!(t.get(&key), key, "{} lacks {key}", lang.code());
                }
            }
            let problems = [
                MappingProblem::Required(Field::UserId),
                MappingProblem::WrongTarget { field: Field::Name, target: Target::Events },
                MappingProblem::UnknownColumn { field: Field::Timestamp, column: "x".into(), available: vec![] },
                MappingProblem::DuplicateColumn { field: Field::Event, column: "x".into() },
                MappingProblem::ContentColumn { field: Field::Event, column: "内容".into() },
                MappingProblem::EventTwice,
                MappingProblem::EmptyKind { value: "v".into() },
                MappingProblem::BadValueLine { line: 2, text: "x".into() },
                MappingProblem::BadPattern { pattern: "%Q".into() },
                MappingProblem::PatternWithoutDate { pattern: "%H".into() },
                MappingProblem::UnknownZone("Mars/Olympus".into()),
            ];
            for p in &problems {
                let text = problem_text(t, p);
                assert!(!text.contains("mapping.") && !text.contains('{'), "{}: {text}", lang.code());
            }
        }
    }

    #[test]
    fn a_submitted_form_becomes_a_mapping() {
        let form: Vec<(String, String)> = [
            ("file", "abc"),
            ("name", "C:\\exports\\dingtalk.csv"),
            ("target", "events"),
            ("col_user_id", "用户ID"),
            ("col_timestamp", "时间"),
            ("col_channel", ""),
            ("event_constant", " message_sent "),
            ("event_values", "发送消息 = message_sent\nbroken line"),
            ("time_format", "custom"),
            ("time_pattern", "%Y/%m/%d %H:%M"),
            ("timezone", "Asia/Shanghai"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let s = submitted(&form);
        assert_eq!(s.name, "dingtalk.csv");
        assert_eq!(s.mapping.column(Field::UserId), Some("用户ID"));
        assert_eq!(s.mapping.column(Field::Channel), None);
        assert_eq!(s.mapping.event_constant.as_deref(), Some("message_sent"));
        assert_eq!(s.mapping.timestamp_format, TimeFormat::Pattern("%Y/%m/%d %H:%M".into()));
        assert_eq!(s.mapping.timezone.as_deref(), Some("Asia/Shanghai"));
        assert_eq!(s.problems.len(), 1, "the broken value map line");
        // Hidden fields carry the same mapping.
        let mut clean = s.mapping.clone();
        clean.event_values.insert("签到".into(), "check_in".into());
        let again = submitted(&hidden_fields(&clean));
        assert_eq!(again.mapping, clean);
        assert!(again.problems.is_empty());
    }
}
