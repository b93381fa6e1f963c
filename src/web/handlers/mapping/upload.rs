//! POST /imports/mapping/upload: a file arrives, its first rows are read
//! and a mapping is suggested (or a preset's applied).

use super::*;

/// POST /imports/mapping/upload (multipart: `file`, `target`, `preset`).
pub async fn upload(viewer: Viewer, state: web::Data<AppState>, payload: Multipart) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::Import)?;
    let tz = org_zone(&state).await?;
    let t = viewer.lang.catalog();
    sweep_old_uploads(&state.upload_dir);
    let form = receive(&state, payload).await?;
    if let Some(name) = &form.disk_full {
        return render(&viewer, &state, tz, failed_view(disk_full_text(name))).await;
    }
    let view = match &form.file {
        None if form.too_large => {
            View { form_error: Some(t.fill("mapping.too_large", &[("size", &size_limit())])), ..View::default() }
        }
        None => View { form_error: Some(t.get("mapping.no_file").to_string()), ..View::default() },
        Some((token, name)) => sample_view(&state, t, tz, &form, token, name).await?,
    };
    render(&viewer, &state, tz, view).await
}

/// What the upload form sent.
struct Received {
    target: Target,
    preset: Option<i64>,
    /// The spooled file's token and its name.
    file: Option<(String, String)>,
    encoding: String,
    too_large: bool,
    /// The disk filled while spooling the file of this name (the rest of
    /// the form is not read).
    disk_full: Option<String>,
}

/// Reads the form, spooling its first file.
async fn receive(state: &AppState, mut payload: Multipart) -> Result<Received, WebError> {
    let mut form = Received {
        target: Target::Events,
        preset: None,
        file: None,
        encoding: String::new(),
        too_large: false,
        disk_full: None,
    };
    while let Some(part) = payload.next().await {
        let mut part = part.map_err(|e| WebError::BadRequest(format!("the upload broke off: {e}")))?;
        let field = part.name().unwrap_or_default().to_string();
        let file_name = part.content_disposition().and_then(|cd| cd.get_filename()).map(display_name);
        match file_name {
            Some(name) if !name.is_empty() && form.file.is_none() => {
                let token = random_token();
                let path = upload_path(&state.upload_dir, &token).expect("random tokens are hex");
                match spool(&mut part, &path, MAX_FILE_BYTES).await {
                    Ok(_) => form.file = Some((token, name)),
                    Err(SpoolError::TooLarge) => {
                        let _ = std::fs::remove_file(&path);
                        form.too_large = true;
                    }
                    Err(SpoolError::Upload(e)) => {
                        let _ = std::fs::remove_file(&path);
                        return Err(WebError::BadRequest(format!("the upload broke off: {e}")));
                    }
                    Err(SpoolError::DiskFull) => {
                        let _ = std::fs::remove_file(&path);
                        form.disk_full = Some(name);
                        return Ok(form);
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
                    "target" => form.target = Target::parse(&value).unwrap_or(Target::Events),
                    "preset" => form.preset = value.trim().parse().ok(),
                    "encoding" => form.encoding = value.trim().to_string(),
                    _ => {}
                }
            }
        }
    }
    Ok(form)
}

/// The file's first rows with a suggested mapping (or the chosen preset,
/// saying at once whether it fits), or why the file cannot be read.
async fn sample_view(
    state: &AppState,
    t: &Catalog,
    tz: Tz,
    form: &Received,
    token: &str,
    name: &str,
) -> Result<View, WebError> {
    let path = upload_path(&state.upload_dir, token).expect("checked");
    let sample = match forced_encoding(name, &form.encoding).and_then(|forced| read_sample(&path, name, forced)) {
        Ok(sample) => sample,
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            let e = in_browser(&e.to_string());
            return Ok(View { form_error: Some(format!("{} {e}", t.get("mapping.unreadable"))), ..View::default() });
        }
    };
    let chosen = match form.preset {
        Some(id) => mappings::get(&state.db, id).await?,
        None => None,
    };
    let mapping = match &chosen {
        Some(p) => p.mapping.clone(),
        None => Mapping::suggest(form.target, &sample.header, &sample.rows),
    };
    let mut file = file_view(t, (token, name, &form.encoding), &sample, &mapping);
    if let Some(p) = &chosen {
        file.preset_name = p.name.clone();
        // Say at once whether the preset fits this file.
        if let Err(problems) = mapping.bind(&sample.header, tz) {
            file.problems = problems.iter().map(|p| problem_text(t, p)).collect();
        }
    }
    Ok(View { file: Some(file), ..View::default() })
}
