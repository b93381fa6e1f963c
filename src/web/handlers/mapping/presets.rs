//! Saving and deleting named mappings (presets).

use super::*;

/// A preset name: trimmed, 1 to 80 characters, no control characters.
pub(super) fn preset_name(raw: &str) -> Option<String> {
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
