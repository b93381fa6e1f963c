//! A person's rights (administrators): download everything held about
//! them as JSON, or erase them. Erasing asks for the user id typed again.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::app::rights;
use crate::domain::account::Permission;
use crate::web::error::WebError;
use crate::web::session::Viewer;
use crate::web::state::AppState;

pub async fn export(
    viewer: Viewer,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ExerciseRights)?;
    let data = rights::export(&state.db, &user_id, viewer.audit_actor()).await?.ok_or(WebError::NotFound)?;
    let body = serde_json::to_string_pretty(&data).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"person.json\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EraseForm {
    confirm: String,
}

pub async fn erase(
    viewer: Viewer,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
    form: web::Form<EraseForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ExerciseRights)?;
    if form.confirm.trim() != user_id.trim() {
        return Err(WebError::BadRequest(viewer.lang.catalog().get("rights.confirm_mismatch").to_string()));
    }
    if !rights::erase(&state.db, &user_id, viewer.audit_actor()).await? {
        return Err(WebError::NotFound);
    }
    Ok(see_other("/people"))
}
