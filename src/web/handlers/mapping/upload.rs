//! POST /imports/mapping/upload: a file arrives, its first rows are read
//! and a mapping is suggested (or a preset's applied).

use super::*;

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
