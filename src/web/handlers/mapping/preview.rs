//! POST /imports/mapping/preview: the first mapped records and what would
//! be refused, without storing anything.

use super::*;
use crate::ingest::events::RawEvent;
use crate::ingest::people::DirectoryRow;

/// What a preview found, before it is put into words.
pub(super) struct PreviewData {
    rows_read: u64,
    errors: Vec<String>,
    error_count: u64,
    stopped: bool,
    records: Vec<Vec<String>>,
    kinds: BTreeMap<String, u64>,
}

pub(super) fn channel_type_name(c: ChannelType) -> &'static str {
    match c {
        ChannelType::Unknown => "",
        ChannelType::Direct => "direct",
        ChannelType::Group => "group",
        ChannelType::Broadcast => "broadcast",
    }
}

/// Counts a problem; whether it ends the reading (a problem with the file
/// itself, not with one value).
pub(super) fn note_error(data: &mut PreviewData, e: InputError) -> bool {
    data.error_count += 1;
    if data.errors.len() < PREVIEW_ERRORS {
        data.errors.push(in_browser(&e.to_string()));
    }
    e.column.is_none()
}

/// A mapped event as a preview row: line, user, local time, kind,
/// channel, channel type, duration and event id.
fn event_cells(e: RawEvent, tz: Tz, lang: Lang) -> Vec<String> {
    let when = DateTime::from_timestamp(e.ts, 0)
        .map(|d| {
            // The time as read, to the second and with its offset, so that
            // a wrong zone or format shows.
            let d = d.with_timezone(&tz);
            format!("{} {}", i18n::date(lang, d.date_naive()), d.format("%H:%M:%S %:z"))
        })
        .unwrap_or_default();
    vec![
        e.line.to_string(),
        e.user_id,
        when,
        e.kind,
        e.channel.unwrap_or_default(),
        channel_type_name(e.channel_type).to_string(),
        e.duration_seconds.map(|d| d.to_string()).unwrap_or_default(),
        e.event_id.unwrap_or_default(),
    ]
}

/// A mapped directory row as a preview row, its attributes last.
fn person_cells(p: DirectoryRow, lang: Lang) -> Vec<String> {
    let attributes = p.attributes.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
    vec![
        p.line.to_string(),
        p.user_id,
        p.name.unwrap_or_default(),
        p.email.unwrap_or_default(),
        p.department.unwrap_or_default(),
        p.title.unwrap_or_default(),
        p.location.unwrap_or_default(),
        p.start_date.map(|d| i18n::date(lang, d)).unwrap_or_default(),
        attributes,
    ]
}

/// Reads the whole file through the mapping, storing nothing.
pub(super) fn run_preview(
    path: PathBuf,
    name: String,
    forced: Option<&'static Encoding>,
    mapping: Mapping,
    tz: Tz,
    lang: Lang,
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
                            data.records.push(event_cells(e, tz, lang));
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
                            data.records.push(person_cells(p, lang));
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

pub(super) fn preview_view(t: &Catalog, target: Target, tz: Tz, result: Result<PreviewData, InputError>) -> Preview {
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
                kinds_warning: None,
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
    let kinds: Vec<KindCount> = data
        .kinds
        .iter()
        .map(|(kind, n)| KindCount {
            known: Kind::known(kind).is_some(),
            kind: kind.clone(),
            count: i18n::integer(*n as i64),
        })
        .collect();
    let unknown_rows: u64 = data.kinds.iter().filter(|(k, _)| Kind::known(k).is_none()).map(|(_, n)| *n).sum();
    let all_rows: u64 = data.kinds.values().sum();
    let kinds_warning = (unknown_rows > 0).then(|| {
        let key = if unknown_rows == all_rows { "mapping.preview.all_unknown" } else { "mapping.preview.some_unknown" };
        t.fill(key, &[("rows", &i18n::integer(unknown_rows as i64)), ("of", &i18n::integer(all_rows as i64))])
    });
    let ok = data.error_count == 0;
    if ok && kinds_warning.is_some() {
        sentence = t.fill("mapping.preview.ok_but", &[("rows", &rows)]);
    }
    Preview {
        sentence,
        ok: ok && kinds_warning.is_none(),
        columns,
        rows: data.records,
        errors: data.errors,
        kinds,
        kinds_warning,
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
    let Step { tz, s, path, sample } = match step(&viewer, &state, &form).await? {
        Ok(step) => step,
        Err(page) => return Ok(page),
    };
    let t = viewer.lang.catalog();
    let (mut file, ok) = checked_view(t, &s, &sample, tz);
    if ok {
        let (name, mapping) = (s.name.clone(), s.mapping.clone());
        let forced = parse_encoding(&s.encoding).ok().flatten();
        let lang = viewer.lang;
        let result = tokio::task::spawn_blocking(move || run_preview(path, name, forced, mapping, tz, lang))
            .await
            .map_err(|e| anyhow::anyhow!("the preview failed: {e}"))?;
        file.preview = Some(preview_view(t, s.mapping.target, tz, result));
    }
    render(&viewer, &state, tz, View { file: Some(file), ..View::default() }).await
}
