//! POST /imports/mapping/import: the whole file imported through the
//! mapping, all-or-nothing.

use super::*;

pub(super) fn count(n: u64) -> String {
    i18n::integer(i64::try_from(n).unwrap_or(i64::MAX))
}

pub(super) fn succeeded(t: &Catalog, lang: Lang, tz: Tz, s: &ImportSummary) -> Outcome {
    let stat = |key: &str, value: String| (t.get(key).to_string(), value);
    let mut stats = vec![stat("imports.rows_read", count(s.rows_read))];
    if s.source == "events" {
        stats.push(stat("imports.events_added", count(s.events_added)));
        stats.push(stat("imports.duplicates_skipped", count(s.duplicates_skipped)));
        stats.push(stat("imports.people_created", count(s.people_created)));
        let range = match (s.first_ts, s.last_ts) {
            (Some(a), Some(b)) => format!("{} – {}", i18n::instant(lang, a, tz), i18n::instant(lang, b, tz)),
            _ => "–".into(),
        };
        stats.push(stat("imports.time_range", range));
    } else {
        stats.push(stat("imports.people_created", count(s.people_created)));
        stats.push(stat("imports.people_updated", count(s.people_updated)));
    }
    stats.extend(super::super::imports::detail_stats(t, &s.details).into_iter().map(|s| (s.label, s.value)));
    Outcome {
        headline: t.fill("imports.result.done", &[("file", &s.file_name)]),
        stats,
        unknown_kinds: s.unknown_kinds.iter().map(|(k, n)| (k.clone(), count(*n))).collect(),
        error: None,
        advice: t.get("mapping.imported_hint").to_string(),
    }
}

pub(super) fn audit_detail(s: &ImportSummary) -> String {
    format!("{} (column mapping)", super::super::imports::audit_detail(s))
}

/// POST /imports/mapping/import: the real import, all or nothing.
pub async fn import(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let Step { tz, s, path, sample } = match step(&viewer, &state, &form).await? {
        Ok(step) => step,
        Err(page) => return Ok(page),
    };
    let t = viewer.lang.catalog();
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
                outcome: Some(succeeded(t, viewer.lang, tz, &summary)),
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
