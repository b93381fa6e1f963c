//! Reading numbers back (scope `read`): one person's export row, and the
//! overall and per-department summary. Both are the command line's JSON
//! (`metrics export --format json`, `metrics summary --format json`) for the
//! same as-of date, made by the same functions, from an evaluation computed
//! once per data and settings version (the pages' cache).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::{ApiError, authenticate, json_response};
use crate::app::export::{write_json, write_summary_json};
use crate::storage::api_tokens::Scope;
use crate::storage::audit;
use crate::web::cache::Snapshot;
use crate::web::state::AppState;

/// One snapshot's export as JSON: the context (`as_of`, `window_days`,
/// `timezone`, `profile`) and each listed person's row by user id.
pub struct ExportRows {
    pub context: Map<String, Value>,
    pub people: HashMap<String, Value>,
}

impl ExportRows {
    /// Exactly what `metrics export --format json` writes, split by person.
    pub fn of(snapshot: &Snapshot) -> anyhow::Result<ExportRows> {
        let mut out = Vec::new();
        write_json(&snapshot.computed, &mut out)?;
        let Value::Object(mut context) = serde_json::from_slice(&out)? else {
            anyhow::bail!("the export is not a JSON object");
        };
        let people = match context.remove("people") {
            Some(Value::Array(rows)) => rows,
            _ => Vec::new(),
        };
        let people =
            people.into_iter().filter_map(|row| Some((row.get("user_id")?.as_str()?.to_string(), row))).collect();
        Ok(ExportRows { context, people })
    }
}

/// `as_of` from the query: a date (YYYY-MM-DD), or absent for the latest
/// day with data. Present but empty is an error, not a default.
pub fn as_of(req: &HttpRequest) -> Result<Option<NaiveDate>, ApiError> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map_err(|e| ApiError::bad_request(format!("the query string cannot be read ({e})")))?;
    let Some(text) = query.get("as_of") else {
        return Ok(None);
    };
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 10 && bytes[4] == b'-' && bytes[7] == b'-';
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|_| well_formed)
        .map(Some)
        .ok_or_else(|| ApiError::bad_request(format!("as_of `{text}` is not a date; expected YYYY-MM-DD")))
}

/// `GET /api/v1/people/{user_id}/metrics`: the person's export row. Reading
/// it is audited, as viewing a person page is.
pub async fn person_metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
    user_id: Result<web::Path<String>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    let token = authenticate(&req, &state, Scope::Read).await?;
    let as_of = as_of(&req)?;
    let not_found = || ApiError::NotFound("no listed person with this user_id on that date".into());
    // User ids are compared trimmed and lower-cased, as imports store them.
    let given = user_id.map_err(|_| not_found())?.trim().to_lowercase();
    // An e-mail or alias names the person too.
    let wanted = crate::storage::identity::user_id_of(&state.db, &given).await?.unwrap_or(given);
    if let Some(gone) = crate::app::retention::check(&state.db, as_of, None).await? {
        return Err(ApiError::bad_request(gone.describe()));
    }
    let snapshot = state.cache.get_weeks(&state.db, as_of, None, 1).await?;
    let rows = state.export_rows.get(&snapshot.snapshot, ExportRows::of)?;
    let person = rows.people.get(&wanted).ok_or_else(not_found)?;
    let c = &snapshot.computed;
    if let Some(db_id) = c.data.people.iter().position(|p| p.user_id == wanted).and_then(|i| c.person_ids.get(i)) {
        audit::record(
            &state.db,
            None,
            "person.view",
            Some(&format!("person:{db_id}")),
            Some(&format!("api token:{}", token.id)),
        )
        .await?;
    }
    let mut doc = rows.context.clone();
    doc.insert("person".into(), person.clone());
    Ok(json_response(StatusCode::OK, &Value::Object(doc)))
}

/// `GET /api/v1/summary`: exactly `metrics summary --format json`.
pub async fn summary(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authenticate(&req, &state, Scope::Read).await?;
    let as_of = as_of(&req)?;
    if let Some(gone) = crate::app::retention::check(&state.db, as_of, None).await? {
        return Err(ApiError::bad_request(gone.describe()));
    }
    let snapshot = state.cache.get_weeks(&state.db, as_of, None, 1).await?;
    let mut out = Vec::new();
    write_summary_json(&snapshot.computed, &mut out)?;
    let doc: Value = serde_json::from_slice(&out).map_err(anyhow::Error::from)?;
    Ok(json_response(StatusCode::OK, &doc))
}
