//! Answering a pulse survey: by a personal link (one response per
//! invitation; the tier and department at answer time are stored, not the
//! person) or by the anonymous link (a department only when it is at
//! least as large as the privacy floor, and no tier).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::html;
use super::surveys::{option_label, prompt, questions_of};
use crate::app::secrets::token_hash;
use crate::app::settings;
use crate::domain::survey::{self, Kind};
use crate::storage::studies::{self, Study};
use crate::storage::surveys::{self, Survey};
use crate::storage::{CorruptJson, directory, invitations};
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::page::Page;
use crate::web::session::Anonymous;
use crate::web::state::AppState;

pub struct QuestionView {
    pub index: usize,
    pub kind: &'static str,
    pub prompt: String,
    pub required: bool,
    pub options: Vec<String>,
    pub scale: Vec<u8>,
    pub invalid: bool,
}

#[derive(Template)]
#[template(path = "survey_form.html")]
struct FormPage {
    page: Page,
    title: String,
    action: String,
    questions: Vec<QuestionView>,
    departments: Vec<String>,
    anonymous: bool,
    done: bool,
    invalid: bool,
    /// Why an answer by the anonymous link was not taken (already answered
    /// from this browser, too many from this address).
    refused: Option<&'static str>,
}

/// Answers by an anonymous link that one address may give to one survey
/// in an hour (several people may share an office's address).
pub const OPEN_ANSWERS_PER_ADDRESS_PER_HOUR: usize = 30;

/// Counts answers by anonymous links per (survey, client address) over the
/// last hour, in this process's memory only: addresses are never stored.
#[derive(Default)]
pub struct OpenAnswerLimiter {
    seen: std::sync::Mutex<std::collections::HashMap<(i64, String), Vec<std::time::Instant>>>,
}

impl OpenAnswerLimiter {
    /// Records an answer from `address` unless the limit is reached; false
    /// when it is.
    pub fn allow(&self, survey_id: i64, address: &str) -> bool {
        let now = std::time::Instant::now();
        let hour = std::time::Duration::from_secs(3600);
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() > 100_000 {
            seen.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < hour));
        }
        let times = seen.entry((survey_id, address.to_string())).or_default();
        times.retain(|t| now.duration_since(*t) < hour);
        if times.len() >= OPEN_ANSWERS_PER_ADDRESS_PER_HOUR {
            return false;
        }
        times.push(now);
        true
    }
}

/// The cookie that says this browser answered the survey by its anonymous
/// link (it holds nothing else).
fn answered_cookie_name(survey_id: i64) -> String {
    format!("uc_answered_{survey_id}")
}

enum Link {
    Personal(surveys::Invitation),
    Open,
}

async fn lookup(state: &AppState, token: &str, open: bool) -> Result<(Survey, Study, Link), WebError> {
    if !crate::app::secrets::looks_like_token(token) {
        return Err(WebError::NotFound);
    }
    let hash = token_hash(token);
    let (survey, link) = if open {
        (surveys::by_anonymous_hash(&state.db, &hash).await?.ok_or(WebError::NotFound)?, Link::Open)
    } else {
        let inv = surveys::invitation_by_hash(&state.db, &hash).await?.ok_or(WebError::NotFound)?;
        (surveys::get(&state.db, inv.survey_id).await?.ok_or(WebError::NotFound)?, Link::Personal(inv))
    };
    let study = studies::get(&state.db, survey.study_id).await?.filter(Study::is_open).ok_or(WebError::NotFound)?;
    Ok((survey, study, link))
}

fn views(lang: Lang, survey: &Survey, invalid: &[usize]) -> Result<Vec<QuestionView>, CorruptJson> {
    Ok(question_views(lang, &questions_of(survey)?, invalid))
}

/// The questions as a respondent sees them, in `lang`.
pub fn question_views(lang: Lang, questions: &[survey::Question], invalid: &[usize]) -> Vec<QuestionView> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| QuestionView {
            index: i,
            kind: match q.kind {
                Kind::Likert => "likert",
                Kind::Single => "single",
                Kind::Multiple => "multiple",
                Kind::Nps => "nps",
                Kind::Text => "text",
            },
            prompt: prompt(lang, q),
            required: q.required,
            options: q.options.iter().map(|o| option_label(lang, o)).collect(),
            scale: match q.kind {
                Kind::Likert => (1..=5).collect(),
                Kind::Nps => (0..=10).collect(),
                _ => Vec::new(),
            },
            invalid: invalid.contains(&i),
        })
        .collect()
}

async fn page_for(
    anon: &Anonymous,
    state: &AppState,
    token: &str,
    open: bool,
    invalid: Vec<usize>,
    done: bool,
) -> Result<HttpResponse, WebError> {
    page_with(anon, state, token, open, invalid, done, None).await
}

async fn page_with(
    anon: &Anonymous,
    state: &AppState,
    token: &str,
    open: bool,
    invalid: Vec<usize>,
    done: bool,
    refused: Option<&'static str>,
) -> Result<HttpResponse, WebError> {
    let (survey, study, link) = lookup(state, token, open).await?;
    let anon2 = Anonymous { lang: super::participant::lang_for(anon, &study), ..anon.clone() };
    let page = Page::anonymous(&anon2, "surveys.answer_title");
    let answered = matches!(&link, Link::Personal(i) if i.responded_at.is_some());
    let action = if open { format!("/s/open/{token}") } else { format!("/s/{token}") };
    let departments = if open { studies::departments(&state.db).await? } else { Vec::new() };
    let mut resp = html(&FormPage {
        questions: views(page.lang, &survey, &invalid)?,
        page,
        title: survey.title,
        action,
        departments,
        anonymous: open,
        done: done || answered,
        invalid: !invalid.is_empty(),
        refused,
    })?;
    if let Some(c) = anon.cookie(state.secure_cookies) {
        resp.add_cookie(&c).map_err(|e| WebError::Internal(e.into()))?;
    }
    resp.headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    if !invalid.is_empty() {
        *resp.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    if refused == Some("surveys.too_many") {
        *resp.status_mut() = actix_web::http::StatusCode::TOO_MANY_REQUESTS;
    }
    Ok(resp)
}

pub async fn show(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    page_for(&anon, &state, &token, false, Vec::new(), false).await
}

pub async fn show_open(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    page_for(&anon, &state, &token, true, Vec::new(), false).await
}

async fn submit(
    anon: Anonymous,
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    open: bool,
    fields: &[(String, String)],
) -> Result<HttpResponse, WebError> {
    let (survey, _, link) = lookup(state, token, open).await?;
    if open && req.cookie(&answered_cookie_name(survey.id)).is_some() {
        return page_with(&anon, state, token, open, Vec::new(), false, Some("surveys.already_answered")).await;
    }
    let questions = questions_of(&survey)?;
    let answers = match survey::parse_answers(&questions, fields) {
        Ok(a) => a,
        Err(invalid) => return page_for(&anon, state, token, open, invalid, false).await,
    };
    let json = serde_json::to_string(&answers).map_err(anyhow::Error::from)?;
    let now = Utc::now().timestamp();
    match link {
        Link::Personal(inv) => {
            // Tier and department as they are when answering.
            let snapshot = state.cache.get(&state.db, None, None).await?;
            let c = &snapshot.computed;
            let user = directory::get(&state.db, inv.person_id).await?;
            let tier = user.as_ref().and_then(|u| c.result_of(&u.user_id)).map(|(_, r)| r.tier.as_str());
            let department = user.and_then(|u| u.department);
            surveys::respond(
                &state.db,
                survey.id,
                Some(inv.id),
                tier.or(Some(&inv.tier)),
                department.as_deref(),
                &json,
                now,
            )
            .await?;
        }
        Link::Open => {
            if !state.open_answers.allow(survey.id, &super::client_ip(req)) {
                return page_with(&anon, state, token, open, Vec::new(), false, Some("surveys.too_many")).await;
            }
            let floor = i64::from(settings::load(&state.db).await?.privacy_floor);
            let asked = fields.iter().find(|(k, _)| k == "department").map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
            let department = match asked {
                Some(d) if surveys::department_size(&state.db, d).await? >= floor => Some(d.to_string()),
                _ => None,
            };
            surveys::respond(&state.db, survey.id, None, None, department.as_deref(), &json, now).await?;
            let mut resp = page_for(&anon, state, token, open, Vec::new(), true).await?;
            let cookie = actix_web::cookie::Cookie::build(answered_cookie_name(survey.id), "1")
                .path(format!("/s/open/{token}"))
                .http_only(true)
                .secure(state.secure_cookies)
                .same_site(actix_web::cookie::SameSite::Lax)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish();
            resp.add_cookie(&cookie).map_err(|e| WebError::Internal(e.into()))?;
            return Ok(resp);
        }
    }
    page_for(&anon, state, token, open, Vec::new(), true).await
}

pub async fn answer(
    anon: Anonymous,
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    submit(anon, &req, &state, &token, false, &form).await
}

pub async fn answer_open(
    anon: Anonymous,
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    submit(anon, &req, &state, &token, true, &form).await
}

/// Opting out from a survey e-mail stops every research invitation.
pub async fn opt_out(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (_, study, link) = lookup(&state, &token, false).await?;
    let Link::Personal(inv) = link else { return Err(WebError::NotFound) };
    let mut tx = state.db.begin().await?;
    invitations::opt_out(&mut tx, inv.person_id, Some(study.id), None, Utc::now().timestamp()).await?;
    tx.commit().await?;
    let anon2 = Anonymous { lang: super::participant::lang_for(&anon, &study), ..anon.clone() };
    let page = Page::anonymous(&anon2, "participant.opt_out.title");
    html(&OptedOut { page })
}

#[derive(Template)]
#[template(path = "survey_opted_out.html")]
struct OptedOut {
    page: Page,
}
