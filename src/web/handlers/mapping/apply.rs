//! POST /imports/mapping/apply: the mapping form checked against the
//! uploaded file's columns.

use super::*;

/// POST /imports/mapping/apply: a preset, or a fresh guess for a target.
pub async fn apply(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    let Step { tz, s, path: _, sample } = match step(&viewer, &state, &form).await? {
        Ok(step) => step,
        Err(page) => return Ok(page),
    };
    let t = viewer.lang.catalog();
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
