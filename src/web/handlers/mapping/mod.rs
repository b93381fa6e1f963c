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

use actix_multipart::Multipart;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::DateTime;
use chrono_tz::Tz;
use encoding_rs::Encoding;
use futures_util::StreamExt;

use super::{html, see_other};
use crate::app::import::{ImportError, disk_full_text, import_mapped};
use crate::app::settings;
use crate::domain::account::Permission;
use crate::domain::dataset::ChannelType;
use crate::domain::kind::{KNOWN_KINDS, Kind};
use crate::domain::mapping::{
    COMMON_PATTERNS, Field, Mapping, MappingProblem, Target, TimeFormat, is_content_column, offered_columns,
    parse_value_map, pattern_example, value_map_text,
};
use crate::ingest::InputError;
use crate::ingest::mapped::{MappedEvents, MappedPeople, Sample, sample};
use crate::ingest::source::{in_browser, open_as, open_limited, parse_encoding};
use crate::storage::audit;
use crate::storage::imports::ImportSummary;
use crate::storage::mappings::{self, Preset};
use crate::web::error::WebError;
use crate::web::i18n::{self, Catalog, Lang};
use crate::web::page::Page;
use crate::web::session::{Viewer, random_token};
use crate::web::state::AppState;
use crate::web::upload::{
    MAX_FILE_BYTES, SpoolError, display_name, size_limit, spool, sweep_old_uploads, text_part, upload_path,
};

mod apply;
mod import;
mod presets;
mod preview;
mod upload;

pub use apply::apply;
pub use import::import;
pub use presets::{delete_preset, save_preset};
pub use preview::preview;
pub use upload::upload;

/// Rows of the file shown before mapping, and mapped records in a preview.
const SAMPLE_ROWS: usize = 20;
/// Problems listed in a preview.
const PREVIEW_ERRORS: usize = 10;
/// Distinct event kinds counted in a preview.
const PREVIEW_KINDS: usize = 100;
const MAX_PRESET_NAME: usize = 80;

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
    /// When some rows' event kinds are outside the activity model: they
    /// import, but count as passive (no login, no message).
    pub kinds_warning: Option<String>,
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
            updated: i18n::instant(viewer.lang, p.updated_at, tz),
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

/// A step after the upload: who asks (checked), the organisation's zone,
/// the submitted form and its upload read; `Err` holds the page to answer
/// with when the upload is gone or unreadable.
struct Step {
    tz: Tz,
    s: Submitted,
    path: PathBuf,
    sample: Sample,
}

async fn step(
    viewer: &Viewer,
    state: &AppState,
    form: &[(String, String)],
) -> Result<Result<Step, HttpResponse>, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(state).await?;
    let s = submitted(form);
    match loaded(&state.upload_dir, viewer.lang.catalog(), &s) {
        Ok((path, sample)) => Ok(Ok(Step { tz, s, path, sample })),
        Err(message) => Ok(Err(render(viewer, state, tz, failed_view(message)).await?)),
    }
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
