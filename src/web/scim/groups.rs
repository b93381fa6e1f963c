//! `/scim/v2/Groups`: list (with `filter` and pages), create, read, replace,
//! patch and delete. Members are users by their SCIM id.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::{Error, actor, authenticate, base, date_time, json_body, list_query, respond};
use crate::app::scim::{self, GroupRecord, scim_group};
use crate::domain::scim::{Meta, group_from_json, group_json, list_json, parse_filter};

use crate::web::state::AppState;

/// A group's JSON; `base` is the SCIM address.
fn resource(base: &str, record: &GroupRecord) -> Value {
    let (row, members) = record;
    let (created, modified) = (date_time(row.created_at), date_time(row.updated_at));
    let location = format!("{base}/Groups/{}", row.id);
    let meta = Meta { resource_type: "Group", created: &created, last_modified: &modified, location: &location };
    let members: Vec<(String, String, String)> =
        members.iter().map(|(id, name)| (id.clone(), name.clone(), format!("{base}/Users/{id}"))).collect();
    group_json(&row.id, &scim_group(record), &members, &meta)
}

fn answer(status: StatusCode, base: &str, row: &GroupRecord) -> HttpResponse {
    let body = resource(base, row);
    let mut response = respond(status, &body);
    if status == StatusCode::CREATED
        && let Ok(v) = header::HeaderValue::from_str(&format!("{base}/Groups/{}", row.0.id))
    {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let (filter, page) = list_query(&req)?;
    let filter = filter.as_deref().map(parse_filter).transpose()?;
    let (total, rows) = scim::list_groups(&state.db, filter.as_ref(), page).await?;
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
    let group = group_from_json(&json_body(&req, payload).await?)?;
    let row = scim::create_group(&state.db, actor(&token), group).await?;
    Ok(answer(StatusCode::CREATED, &base(&req, &state).await?, &row))
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>, id: web::Path<String>) -> Result<HttpResponse, Error> {
    authenticate(&req, &state).await?;
    let row = scim::get_group(&state.db, &id).await?;
    Ok(answer(StatusCode::OK, &base(&req, &state).await?, &row))
}

pub async fn replace(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let token = authenticate(&req, &state).await?;
    let group = group_from_json(&json_body(&req, payload).await?)?;
    let row = scim::replace_group(&state.db, actor(&token), &id, group).await?;
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
    let row = scim::patch_group(&state.db, actor(&token), &id, &body).await?;
    Ok(answer(StatusCode::OK, &base(&req, &state).await?, &row))
}

pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let token = authenticate(&req, &state).await?;
    scim::delete_group(&state.db, actor(&token), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
