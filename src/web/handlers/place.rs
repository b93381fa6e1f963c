//! An interviewer's own meeting place (`/availability/place`): where their
//! interviews happen for every study, winning over each study's place.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::studies::place_error;
use super::{html, see_other};
use crate::domain::account::Permission;
use crate::domain::meeting::{Place, PlaceKind};
use crate::storage::{audit, places};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "place.html")]
struct PlacePage {
    page: Page,
    kind: String,
    detail: String,
    kinds: Vec<&'static str>,
    saved: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PlaceForm {
    kind: String,
    detail: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Saved {
    saved: Option<String>,
}

fn render(
    viewer: &Viewer,
    kind: String,
    detail: String,
    saved: bool,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "availability", "place.yours");
    let kinds = PlaceKind::ALL.iter().map(|k| k.as_str()).collect();
    html(&PlacePage { page, kind, detail, kinds, saved, error })
}

/// GET /availability/place
pub async fn page(viewer: Viewer, state: web::Data<AppState>, q: web::Query<Saved>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let place = places::of(&state.db, viewer.account.id).await?;
    let (kind, detail) = place.map(|p| (p.kind.as_str().to_string(), p.detail)).unwrap_or_default();
    render(&viewer, kind, detail, q.saved.is_some(), None)
}

/// POST /availability/place
pub async fn save(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<PlaceForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    match Place::parse(&form.kind, &form.detail) {
        Err(e) => {
            let error = place_error(&Page::new(&viewer, "availability", "place.yours"), &e);
            render(&viewer, form.kind.clone(), form.detail.clone(), false, Some(error))
        }
        Ok(place) => {
            let place = place.map(|p| Place { detail: p.detail.chars().take(500).collect(), ..p });
            places::set(&state.db, viewer.account.id, place.as_ref()).await?;
            let detail = place.as_ref().map(|p| p.kind.as_str()).unwrap_or("none");
            audit::record(&state.db, viewer.audit_actor(), "place.save", None, Some(detail)).await?;
            Ok(see_other("/availability/place?saved=1"))
        }
    }
}
