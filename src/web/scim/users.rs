//! `/scim/v2/Users`: list (with `filter` and pages), create, read, replace,
//! patch and delete (which deactivates the person and keeps them).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::{Error, actor, authenticate, base, date_time, json_body, list_query, respond};
use crate::app::scim::{self, scim_user};
use crate::domain::scim::{Meta, list_json, parse_filter, user_from_json, user_json};
use crate::storage::scim::UserRow;
use crate::web::state::AppState;

/// A user's JSON; `base` is the SCIM address.
fn resource(base: &str, row: &UserRow) -> Value {
    let (created, modified) = (date_time(row.created_at), date_time(row.updated_at));
    let location = format!("{base}/Users/{}", row.id);
    let meta = Meta { resource_type: "User", created: &created, last_modified: &modified, location: &location };
    user_json(&row.id, &scim_user(row), &meta)
}

fn answer(status: StatusCode, base: &str, row: &UserRow) -> HttpResponse {
    let body = resource(base, row);
    let mut response = respond(status, &body);
    if status == StatusCode::CREATED
        && let Ok(v) = header::HeaderValue::from_str(&format!("{base}/Users/{}", row.id))
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let (filter, page) = list_query(&req)?;
    let filter = filter.as_deref().map(parse_filter).transpose()?;
    let (total, rows) = scim::list_users(&state.db, filter.as_ref(), page).await?;
    let base = base(&req, &state).await?;
    let resources = rows.iter().map(|r| resource(&base, r)).collect();
    Ok(respond(StatusCode::OK, &list_json(total as usize, page.start_index, resources)))
}

pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let token = authenticate(&req, &state).await?;
    let user = user_from_json(&json_body(&req, payload).await?)?;
    let row = scim::create_user(&state.db, actor(&token), user).await?;
    Ok(answer(StatusCode::CREATED, &base(&req, &state).await?, &row))
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let row = scim::get_user(&state.db, &id).await?;
    Ok(answer(StatusCode::OK, &base(&req, &state).await?, &row))
}

pub async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let token = authenticate(&req, &state).await?;
    let user = user_from_json(&json_body(&req, payload).await?)?;
    let row = scim::replace_user(&state.db, actor(&token), &id, user).await?;
    Ok(answer(StatusCode::OK, &base(&req, &state).await?, &row))
}

pub async fn patch(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let token = authenticate(&req, &state).await?;
    let body = json_body(&req, payload).await?;
    let row = scim::patch_user(&state.db, actor(&token), &id, &body).await?;
    Ok(answer(StatusCode::OK, &base(&req, &state).await?, &row))
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let token = authenticate(&req, &state).await?;
    scim::delete_user(&state.db, actor(&token), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
