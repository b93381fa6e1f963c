//! The interviewer's private calendar feed, served at its secret URL to
//! calendar apps (no session: the token is the key). It is issued and
//! revoked on the availability page (`calendar.rs`).

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use crate::app::interviewer_feed::{self, FeedText};
use crate::app::settings;
use crate::web::error::WebError;
use crate::web::session::language;
use crate::web::state::AppState;

/// `GET /feeds/{token}.ics`: the feed, or 404 for an unknown or revoked
/// token (the same answer either way).
pub async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
    file: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let token = file.strip_suffix(".ics").ok_or(WebError::NotFound)?;
    let base = settings::links_base(&state.db, state.base_url.as_deref()).await?.unwrap_or_default();
    let t = language(&req).catalog();
    let summary = |study: &str| t.fill("calendar_feed.summary", &[("study", study)]);
    let text = FeedText {
        name: t.get("calendar_feed.name"),
        summary: &summary,
        description: t.get("calendar_feed.description"),
    };
    let body = interviewer_feed::render(&state.db, token, &base, &text, Utc::now()).await?.ok_or(WebError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body))
}
