//! Pulse surveys, the research team's side: write one (questions as text),
//! send it to a sampled group, share an anonymous link, read results and
//! response rates by tier.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::participant::{NO_LINK_BASE, outreach_of};
use super::{html, see_other};
use crate::app::{secrets, surveys as app_surveys};
use crate::domain::account::Permission;
use crate::domain::survey::{self, Answer, Kind, Question};
use crate::domain::tier::Tier;
use crate::storage::studies::{self, Study};
use crate::storage::surveys::{self, Survey};
use crate::storage::{CorruptJson, read_json};
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

pub const EXAMPLE: &str = "likert* How useful is the tool for your daily work? | 这个工具对您的日常工作有多大帮助？
single* Where do most of your work conversations happen? | 您的工作沟通主要在哪里进行？
- In this tool | 在这个工具里
- Another chat app | 其他聊天应用
- E-mail | 邮件
- Phone or face to face | 电话或当面
nps How likely are you to recommend the tool to a colleague? | 您向同事推荐这个工具的可能性有多大？
text What would make you use it more? | 怎样才能让您更多地使用它？";

pub struct SurveyRow {
    pub id: i64,
    pub title: String,
    pub questions: usize,
    pub invited: usize,
    pub responses: usize,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    page: Page,
    study: Study,
    surveys: Vec<SurveyRow>,
    title: String,
    definition: String,
    error: Option<String>,
}

impl ListPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}/surveys{tail}", self.study.id))
    }
}

/// One question's results, as a table.
pub struct ResultTable {
    pub prompt: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    pub hidden: String,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    page: Page,
    study: Study,
    survey: Survey,
    results: Vec<ResultTable>,
    rates: Vec<(String, u32, u32)>,
    responses: usize,
    anonymous_link: Option<String>,
    message: Option<String>,
}

impl SurveyPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}/surveys/{}{tail}", self.study.id, self.survey.id))
    }
}

pub fn prompt(lang: Lang, q: &Question) -> String {
    if lang == Lang::ZhCn { q.prompt_zh.clone() } else { q.prompt_en.clone() }
}

pub fn option_label(lang: Lang, o: &(String, String)) -> String {
    if lang == Lang::ZhCn { o.1.clone() } else { o.0.clone() }
}

pub fn questions_of(s: &Survey) -> Result<Vec<Question>, CorruptJson> {
    read_json(&s.questions, || format!("the questions of survey {}", s.id))
}

async fn study_of(state: &AppState, id: i64) -> Result<Study, WebError> {
    studies::get(&state.db, id).await?.ok_or(WebError::NotFound)
}

async fn render_list(
    viewer: &Viewer,
    state: &AppState,
    study: Study,
    title: String,
    definition: String,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "studies", "surveys.title");
    let mut rows = Vec::new();
    for s in surveys::for_study(&state.db, study.id).await? {
        rows.push(SurveyRow {
            id: s.id,
            questions: questions_of(&s)?.len(),
            invited: surveys::invitations(&state.db, s.id).await?.len(),
            responses: surveys::responses(&state.db, s.id).await?.len(),
            title: s.title,
        });
    }
    html(&ListPage { page, study, surveys: rows, title, definition, error })
}

pub async fn list(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    render_list(&viewer, &state, study, String::new(), EXAMPLE.into(), None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewSurvey {
    title: String,
    definition: String,
}

pub async fn create(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NewSurvey>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    let title: String = form.title.trim().chars().take(200).collect();
    let t = viewer.lang.catalog();
    let parsed = survey::parse_definition(&form.definition);
    let error = match (&parsed, title.is_empty()) {
        (_, true) => Some(t.get("surveys.title_required").to_string()),
        (Err((line, msg)), _) => {
            Some(t.fill("surveys.definition_error", &[("line", &line.to_string()), ("message", msg)]))
        }
        _ => None,
    };
    match (parsed, error) {
        (Ok(questions), None) => {
            let json = serde_json::to_string(&questions).map_err(anyhow::Error::from)?;
            let sid =
                surveys::insert(&state.db, study.id, &title, &json, viewer.account.id, Utc::now().timestamp()).await?;
            Ok(see_other(&format!("/studies/{}/surveys/{sid}", study.id)))
        }
        (_, error) => render_list(&viewer, &state, study, title, form.definition.clone(), error).await,
    }
}

fn tier_label(page: &Page, t: Option<Tier>) -> String {
    match t {
        Some(t) => page.t(&format!("tier.{}", t.as_str())),
        None => page.t("surveys.anonymous"),
    }
}

/// Results by tier as tables; `floor` for managers (tiers below it are
/// counted together in a last row, or not at all, and named in `hidden`).
pub fn result_tables(
    page: &Page,
    questions: &[Question],
    responses: &[(Option<Tier>, Vec<Option<Answer>>)],
    floor: Option<u32>,
) -> Vec<ResultTable> {
    survey::results_by_tier(questions, responses, floor)
        .into_iter()
        .filter_map(|r| {
            let q = questions.get(r.index)?;
            let mut columns = vec![page.t("studies.tier"), page.t("surveys.respondents"), page.t("surveys.answered")];
            match q.kind {
                Kind::Likert => columns.push(page.t("surveys.mean")),
                Kind::Nps => {
                    columns.push(page.t("surveys.mean"));
                    columns.push("NPS".into());
                }
                Kind::Single | Kind::Multiple => columns.extend(q.options.iter().map(|o| option_label(page.lang, o))),
                Kind::Text => {}
            }
            let merged = r.merged.as_ref().map(|m| {
                let tiers = m.tiers.iter().map(|t| tier_label(page, *t)).collect::<Vec<_>>();
                (page.tf("report.tiers_together", &[("tiers", &tiers.join(", "))]), &m.result)
            });
            let rows = r
                .by_tier
                .iter()
                .map(|t| (tier_label(page, t.tier), t))
                .chain(merged)
                .map(|(label, t)| {
                    let mut cells = vec![t.respondents.to_string(), t.answered.to_string()];
                    match q.kind {
                        Kind::Likert => cells.push(t.mean.map(|m| format!("{m:.1}")).unwrap_or_else(|| "–".into())),
                        Kind::Nps => {
                            cells.push(t.mean.map(|m| format!("{m:.1}")).unwrap_or_else(|| "–".into()));
                            cells.push(t.nps.map(|n| format!("{n:+.0}")).unwrap_or_else(|| "–".into()));
                        }
                        Kind::Single | Kind::Multiple => cells.extend(t.option_counts.iter().map(u32::to_string)),
                        Kind::Text => {}
                    }
                    (label, cells)
                })
                .collect();
            let hidden = r.hidden.iter().map(|t| tier_label(page, *t)).collect::<Vec<_>>().join(", ");
            Some(ResultTable { prompt: prompt(page.lang, q), columns, rows, hidden })
        })
        .collect()
}

/// A survey's responses as the results want them.
pub async fn parsed_responses(
    state: &AppState,
    survey_id: i64,
) -> Result<Vec<(Option<Tier>, Vec<Option<Answer>>)>, WebError> {
    let mut out = Vec::new();
    for (tier, _, answers) in surveys::responses(&state.db, survey_id).await? {
        let answers = read_json(&answers, || format!("a response to survey {survey_id}"))?;
        out.push((tier.as_deref().and_then(Tier::parse), answers));
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flash {
    sent: Option<u32>,
}

async fn render(
    viewer: &Viewer,
    state: &AppState,
    study: Study,
    survey: Survey,
    anonymous_link: Option<String>,
    message: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "studies", "surveys.title");
    let questions = questions_of(&survey)?;
    let responses = parsed_responses(state, survey.id).await?;
    let results = result_tables(&page, &questions, &responses, None);
    let invited: Vec<(Tier, bool)> = surveys::invitations(&state.db, survey.id)
        .await?
        .into_iter()
        .filter_map(|i| Some((Tier::parse(&i.tier)?, i.responded_at.is_some())))
        .collect();
    let rates = survey::response_rates(&invited)
        .into_iter()
        .map(|(t, n, r)| (page.t(&format!("tier.{}", t.as_str())), n, r))
        .collect();
    let count = responses.len();
    html(&SurveyPage { page, study, survey, results, rates, responses: count, anonymous_link, message })
}

async fn both(state: &AppState, study: i64, survey: i64) -> Result<(Study, Survey), WebError> {
    let study = study_of(state, study).await?;
    let survey = surveys::get(&state.db, survey).await?.filter(|s| s.study_id == study.id).ok_or(WebError::NotFound)?;
    Ok((study, survey))
}

pub async fn show(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    q: web::Query<Flash>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (study, survey) = both(&state, path.0, path.1).await?;
    let message = q.sent.map(|n| viewer.lang.catalog().fill("surveys.sent", &[("n", &n.to_string())]));
    render(&viewer, &state, study, survey, None, message).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SendForm {
    size: String,
}

pub async fn send(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    form: web::Form<SendForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (study, survey) = both(&state, path.0, path.1).await?;
    let size = form
        .size
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| WebError::BadRequest("the number of people must be 1 to 10000".into()))?;
    let out = outreach_of(&state).await?.ok_or_else(|| WebError::BadRequest(NO_LINK_BASE.into()))?;
    let sent = app_surveys::send(&state.db, &study, &survey, size, &out.links, &out.from, Utc::now()).await?;
    state.wake_outbox();
    Ok(see_other(&format!("/studies/{}/surveys/{}?sent={}", study.id, survey.id, sent.queued)))
}

/// Makes a new anonymous link (an older one stops working); shown once.
pub async fn anonymous(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (study, survey) = both(&state, path.0, path.1).await?;
    // The address first: without one, the link in use stays as it is.
    let out = outreach_of(&state).await?.ok_or_else(|| WebError::BadRequest(NO_LINK_BASE.into()))?;
    let token = secrets::random_token();
    surveys::set_anonymous(&state.db, survey.id, &secrets::token_hash(&token)).await?;
    let link = format!("{}/s/open/{token}", out.links.base.trim_end_matches('/'));
    let mut resp = render(&viewer, &state, study, survey, Some(link), None).await?;
    resp.headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(resp)
}
