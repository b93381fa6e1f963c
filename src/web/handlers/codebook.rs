//! A study's codebook (researchers): the default reasons, renamed,
//! described in both languages, archived, or added to.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{html, see_other};
use crate::domain::account::Permission;
use crate::domain::codebook::key_from;
use crate::storage::interviews::{self, Code, CodeEdit};
use crate::storage::studies::{self, Study};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "codebook.html")]
struct CodebookPage {
    page: Page,
    study: Study,
    /// Each code with how often it is used: (code, interviews, quotes).
    codes: Vec<(Code, i64, i64)>,
    error: Option<String>,
}

impl CodebookPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}/codebook{tail}", self.study.id))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    label_en: String,
    label_zh: String,
    description_en: String,
    description_zh: String,
    archived: Option<String>,
}

async fn study_of(state: &AppState, id: i64) -> Result<Study, WebError> {
    studies::get(&state.db, id).await?.ok_or(WebError::NotFound)
}

async fn render(
    viewer: &Viewer,
    state: &AppState,
    study: Study,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "studies", "codebook.title");
    let used = interviews::code_use(&state.db, study.id).await?;
    let codes = interviews::codes(&state.db, study.id)
        .await?
        .into_iter()
        .map(|c| {
            let (n, q) = used.iter().find(|u| u.0 == c.id).map_or((0, 0), |u| (u.1, u.2));
            (c, n, q)
        })
        .collect();
    html(&CodebookPage { page, study, codes, error })
}

pub async fn show(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    render(&viewer, &state, study, None).await
}

fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

pub async fn add(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    let (en, zh) = (clip(&form.label_en, 100), clip(&form.label_zh, 100));
    if en.is_empty() && zh.is_empty() {
        let msg = viewer.lang.catalog().get("codebook.label_required").to_string();
        return render(&viewer, &state, study, Some(msg)).await;
    }
    // Codes need a label in each language: one stands in for the other.
    let label_en = if en.is_empty() { zh.clone() } else { en.clone() };
    let label_zh = if zh.is_empty() { en } else { zh };
    // The default codebook first, so that a new code comes after it.
    interviews::codes(&state.db, study.id).await?;
    let key = key_from(&label_en);
    let description = clip(&form.description_en, 500);
    if !interviews::add_code(&state.db, study.id, &key, &label_en, &label_zh, &description).await? {
        let msg = viewer.lang.catalog().get("codebook.exists").to_string();
        return render(&viewer, &state, study, Some(msg)).await;
    }
    Ok(see_other(&format!("/studies/{}/codebook", study.id)))
}

pub async fn edit(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, path.0).await?;
    let (en, zh) = (clip(&form.label_en, 100), clip(&form.label_zh, 100));
    if en.is_empty() || zh.is_empty() {
        let msg = viewer.lang.catalog().get("codebook.label_required").to_string();
        return render(&viewer, &state, study, Some(msg)).await;
    }
    let edit = CodeEdit {
        label_en: &en,
        label_zh: &zh,
        description_en: &clip(&form.description_en, 500),
        description_zh: &clip(&form.description_zh, 500),
        archived: form.archived.is_some(),
    };
    if !interviews::update_code(&state.db, study.id, path.1, &edit).await? {
        return Err(WebError::NotFound);
    }
    Ok(see_other(&format!("/studies/{}/codebook", study.id)))
}
