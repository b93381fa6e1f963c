//! Pulse surveys, the research team's side: write one (questions as text),
//! send it to a sampled group, share an anonymous link, read results
//! (distributions as stacked bars beside their tables) and response rates by
//! tier, read the free-text answers and clear them for managers.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::participant::{NO_LINK_BASE, outreach_of};
use super::survey_response::question_views;
use super::{html, see_other};
use crate::app::{secrets, surveys as app_surveys};
use crate::domain::account::Permission;
use std::collections::HashSet;

use crate::domain::survey::{self, Answer, Kind, NPS_MIN_ANSWERS, Question, TierResult};
use crate::domain::survey_text::{self, TextAnswer, TextAnswers};
use crate::domain::tier::Tier;
use crate::storage::studies::{self, Study};
use crate::storage::surveys::{self, Survey};
use crate::storage::{CorruptJson, read_json};
use crate::web::charts::{self, ChartText, Series};
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::i18n::Lang;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

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
    /// The survey being written, as a respondent will see it.
    preview: Option<Vec<super::survey_response::QuestionView>>,
}

impl ListPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}/surveys{tail}", self.study.id))
    }
}

/// One question's results, as a table (the data of its chart).
pub struct ResultTable {
    pub prompt: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    pub hidden: String,
    /// The distribution as stacked bars (SVG and legend, escaped); empty
    /// for questions without one (text) or without answers.
    pub chart: String,
    /// An NPS from fewer than [`NPS_MIN_ANSWERS`] answers: says so, naming
    /// each group with its n.
    pub caution: Option<String>,
}

/// A free-text answer as a page, the CSV and the JSON show it.
#[derive(serde::Serialize)]
pub struct TextShown {
    #[serde(skip)]
    pub response: i64,
    pub question: usize,
    pub prompt: String,
    pub text: String,
    pub tier: String,
    /// The research team only.
    pub department: Option<String>,
    pub cleared: bool,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    page: Page,
    study: Study,
    survey: Survey,
    results: Vec<ResultTable>,
    rates: Vec<(String, u32, u32, String)>,
    responses: usize,
    /// Free-text answers, on their own page.
    text_answers: usize,
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
    preview: Option<Vec<super::survey_response::QuestionView>>,
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
    html(&ListPage { page, study, surveys: rows, title, definition, error, preview })
}

pub async fn list(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    let preview = survey::parse_definition(EXAMPLE).ok().map(|q| question_views(viewer.lang, &q, &[]));
    render_list(&viewer, &state, study, String::new(), EXAMPLE.into(), None, preview).await
}

/// The survey as it is being written, as a respondent will see it (or the
/// line that does not parse): the list page again, the form as it was.
/// The page's script asks for it as the text changes.
pub async fn preview(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NewSurvey>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    let (preview, error) = match survey::parse_definition(&form.definition) {
        Ok(q) => (Some(question_views(viewer.lang, &q, &[])), None),
        Err((line, msg)) => (None, Some(definition_error(viewer.lang.catalog(), line, &msg))),
    };
    let title: String = form.title.trim().chars().take(200).collect();
    render_list(&viewer, &state, study, title, form.definition.clone(), error, preview).await
}

/// A survey text's line that does not read, with its number.
fn definition_error(t: &crate::web::i18n::Catalog, line: usize, msg: &str) -> String {
    t.fill("surveys.definition_error", &[("line", &line.to_string()), ("message", msg)])
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
        (Err((line, msg)), _) => Some(definition_error(t, *line, msg)),
        _ => None,
    };
    match (parsed, error) {
        (Ok(questions), None) => {
            let json = serde_json::to_string(&questions).map_err(anyhow::Error::from)?;
            let sid =
                surveys::insert(&state.db, study.id, &title, &json, viewer.account.id, Utc::now().timestamp()).await?;
            Ok(see_other(&format!("/studies/{}/surveys/{sid}", study.id)))
        }
        (_, error) => {
            let preview = survey::parse_definition(&form.definition).ok().map(|q| question_views(viewer.lang, &q, &[]));
            render_list(&viewer, &state, study, title, form.definition.clone(), error, preview).await
        }
    }
}

fn tier_label(page: &Page, t: Option<Tier>) -> String {
    match t {
        Some(t) => page.t(&format!("tier.{}", t.as_str())),
        None => page.t("surveys.anonymous"),
    }
}

/// "60% (3 of 5)": every share with its n; a dash when n is 0.
pub fn share_cell(page: &Page, x: u32, n: u32) -> String {
    if n == 0 {
        return "–".into();
    }
    page.tf(
        "surveys.share_of",
        &[
            ("pct", &i18n::percent(f64::from(x) / f64::from(n))),
            ("x", &i18n::integer(i64::from(x))),
            ("n", &i18n::integer(i64::from(n))),
        ],
    )
}

/// The labels of a question's distribution (Likert values, NPS groups,
/// options), empty for text.
fn distribution_labels(page: &Page, q: &Question) -> Vec<String> {
    match q.kind {
        Kind::Likert => (1..=5).map(|v| v.to_string()).collect(),
        Kind::Nps => {
            ["detractors", "passives", "promoters"].iter().map(|k| page.t(&format!("surveys.nps.{k}"))).collect()
        }
        Kind::Single | Kind::Multiple => q.options.iter().map(|o| option_label(page.lang, o)).collect(),
        Kind::Text => Vec::new(),
    }
}

fn distribution(q: &Question, t: &TierResult) -> Vec<u32> {
    if q.kind.is_choice() { t.option_counts.clone() } else { t.scale_counts.clone() }
}

/// Stacked bars, one per group: shares of the answers (Likert, single,
/// NPS groups), or numbers of picks for a multiple question (where one
/// person may pick several options).
fn distribution_chart(page: &Page, q: &Question, groups: &[(String, &TierResult)]) -> String {
    let labels = distribution_labels(page, q);
    if labels.is_empty() || groups.iter().all(|(_, t)| t.answered == 0) {
        return String::new();
    }
    let categories: Vec<String> = groups.iter().map(|(l, t)| format!("{l} (n = {})", t.answered)).collect();
    let series: Vec<Series> = labels
        .iter()
        .enumerate()
        .map(|(i, name)| Series {
            name: name.clone(),
            class: String::new(),
            values: groups
                .iter()
                .map(|(_, t)| Some(f64::from(distribution(q, t).get(i).copied().unwrap_or(0))))
                .collect(),
        })
        .collect();
    let multiple = q.kind == Kind::Multiple;
    let text = ChartText {
        title: prompt(page.lang, q),
        desc: page.t(if multiple { "surveys.chart_desc_multiple" } else { "surveys.chart_desc" }),
        x_label: page.t("studies.tier"),
        y_label: page.t(if multiple { "surveys.picks" } else { "chart.share" }),
        empty: page.t("firstrun.chart_empty"),
    };
    let svg = charts::stacked_bars(&text, &categories, &series, !multiple);
    let legend = charts::legend(&series.iter().map(|s| (s.name.clone(), s.class.clone())).collect::<Vec<_>>());
    format!("{svg}{legend}")
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
                Kind::Single | Kind::Multiple | Kind::Text => {}
            }
            columns.extend(distribution_labels(page, q));
            let merged = r.merged.as_ref().map(|m| {
                let tiers = m.tiers.iter().map(|t| tier_label(page, *t)).collect::<Vec<_>>();
                (page.tf("report.tiers_together", &[("tiers", &tiers.join(", "))]), &m.result)
            });
            let groups: Vec<(String, &TierResult)> =
                r.by_tier.iter().map(|t| (tier_label(page, t.tier), t)).chain(merged).collect();
            let chart = distribution_chart(page, q, &groups);
            let small: Vec<String> = groups
                .iter()
                .filter(|(_, t)| t.nps_caution())
                .map(|(label, t)| format!("{label} (n = {})", t.answered))
                .collect();
            let caution = (!small.is_empty()).then(|| {
                page.tf("surveys.nps_caution", &[("min", &NPS_MIN_ANSWERS.to_string()), ("groups", &small.join(", "))])
            });
            let rows = groups
                .iter()
                .map(|(label, t)| {
                    let mut cells = vec![t.respondents.to_string(), t.answered.to_string()];
                    match q.kind {
                        Kind::Likert => cells.push(t.mean.map(|m| format!("{m:.1}")).unwrap_or_else(|| "–".into())),
                        Kind::Nps => {
                            cells.push(t.mean.map(|m| format!("{m:.1}")).unwrap_or_else(|| "–".into()));
                            cells.push(t.nps.map(|n| format!("{n:+.0}")).unwrap_or_else(|| "–".into()));
                        }
                        Kind::Single | Kind::Multiple | Kind::Text => {}
                    }
                    // Shares of those who answered (a multiple question's
                    // shares may add up to more than 100%).
                    cells.extend(distribution(q, t).into_iter().map(|x| share_cell(page, x, t.answered)));
                    (label.clone(), cells)
                })
                .collect();
            let hidden = r.hidden.iter().map(|t| tier_label(page, *t)).collect::<Vec<_>>().join(", ");
            Some(ResultTable { prompt: prompt(page.lang, q), columns, rows, hidden, chart, caution })
        })
        .collect()
}

/// A survey's stored responses, parsed (unreadable ones are left out).
pub async fn stored_responses(state: &AppState, survey_id: i64) -> Result<Vec<survey_text::Response>, WebError> {
    // A response whose answers do not read is an error naming the survey,
    // never a response quietly left out of the results.
    let mut out = Vec::new();
    for r in surveys::responses_with_ids(&state.db, survey_id).await? {
        let answers = read_json(&r.answers, || format!("a response to survey {survey_id}"))?;
        out.push(survey_text::Response {
            id: r.id,
            tier: r.tier.as_deref().and_then(Tier::parse),
            department: r.department,
            answers,
        });
    }
    Ok(out)
}

/// Responses as the results want them.
pub fn for_results(responses: &[survey_text::Response]) -> Vec<(Option<Tier>, Vec<Option<Answer>>)> {
    responses.iter().map(|r| (r.tier, r.answers.clone())).collect()
}

/// A survey's responses as the results want them.
pub async fn parsed_responses(
    state: &AppState,
    survey_id: i64,
) -> Result<Vec<(Option<Tier>, Vec<Option<Answer>>)>, WebError> {
    Ok(for_results(&stored_responses(state, survey_id).await?))
}

/// The free-text answers a reader sees (`manager_floor`: None for the
/// research team) and how many cleared ones the floor holds back.
pub async fn text_answers(
    state: &AppState,
    survey_id: i64,
    questions: &[Question],
    responses: &[survey_text::Response],
    manager_floor: Option<u32>,
) -> Result<TextAnswers, WebError> {
    let cleared: HashSet<(i64, usize)> = surveys::clearings(&state.db, survey_id)
        .await?
        .into_iter()
        .filter_map(|(r, q)| Some((r, usize::try_from(q).ok()?)))
        .collect();
    Ok(survey_text::text_answers(questions, responses, &cleared, manager_floor))
}

pub fn text_shown(page: &Page, questions: &[Question], answers: Vec<TextAnswer>) -> Vec<TextShown> {
    answers
        .into_iter()
        .map(|a| TextShown {
            response: a.response_id,
            question: a.question,
            prompt: questions.get(a.question).map(|q| prompt(page.lang, q)).unwrap_or_default(),
            tier: tier_label(page, a.tier),
            department: a.department,
            text: a.text,
            cleared: a.cleared,
        })
        .collect()
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
    let stored = stored_responses(state, survey.id).await?;
    let text_answers = survey_text::text_answers(&questions, &stored, &HashSet::new(), None).shown.len();
    let responses = for_results(&stored);
    let results = result_tables(&page, &questions, &responses, None);
    let invited: Vec<(Tier, bool)> = surveys::invitations(&state.db, survey.id)
        .await?
        .into_iter()
        .filter_map(|i| Some((Tier::parse(&i.tier)?, i.responded_at.is_some())))
        .collect();
    let rates = survey::response_rates(&invited)
        .into_iter()
        .map(|(t, n, r)| (page.t(&format!("tier.{}", t.as_str())), n, r, share_cell(&page, r, n)))
        .collect();
    let count = responses.len();
    html(&SurveyPage { page, study, survey, results, rates, responses: count, text_answers, anonymous_link, message })
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
    let message = q.sent.map(|n| viewer.lang.catalog().fill("surveys.sent", &[("n", &i18n::integer(i64::from(n)))]));
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

#[derive(Template)]
#[template(path = "survey_answers.html")]
struct AnswersPage {
    page: Page,
    study: Study,
    survey: Survey,
    answers: Vec<TextShown>,
}

impl AnswersPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}/surveys/{}/answers{tail}", self.study.id, self.survey.id))
    }
}

/// The free-text answers with the tier and department at answer time, each
/// with its clearing for managers.
pub async fn answers(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (study, survey) = both(&state, path.0, path.1).await?;
    let page = Page::new(&viewer, "studies", "surveys.text_answers");
    let questions = questions_of(&survey)?;
    let stored = stored_responses(&state, survey.id).await?;
    let shown = text_answers(&state, survey.id, &questions, &stored, None).await?.shown;
    let answers = text_shown(&page, &questions, shown);
    html(&AnswersPage { page, study, survey, answers })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ClearForm {
    /// "1": cleared for managers; anything else: not.
    cleared: String,
}

/// Clears one free-text answer for managers, or withdraws its clearing.
pub async fn clear_answer(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64, i64, i64)>,
    form: web::Form<ClearForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (study_id, survey_id, response, question) = path.into_inner();
    let (study, survey) = both(&state, study_id, survey_id).await?;
    let questions = questions_of(&survey)?;
    let is_text =
        usize::try_from(question).ok().and_then(|i| questions.get(i).map(|q| q.kind == Kind::Text)).unwrap_or(false);
    if !is_text {
        return Err(WebError::NotFound);
    }
    let cleared = form.cleared == "1";
    let now = Utc::now().timestamp();
    if !surveys::set_cleared(&state.db, survey.id, response, question, cleared, viewer.account.id, now).await? {
        return Err(WebError::NotFound);
    }
    crate::storage::audit::record(
        &state.db,
        viewer.audit_actor(),
        if cleared { "survey_answer.clear" } else { "survey_answer.withdraw" },
        Some(&format!("survey:{}", survey.id)),
        Some(&crate::storage::audit::detail(
            "audit.detail.survey_answer",
            &[("response", response.to_string()), ("question", (question + 1).to_string())],
        )),
    )
    .await?;
    Ok(see_other(&format!("/studies/{}/surveys/{}/answers#answer-{response}-{question}", study.id, survey.id)))
}
