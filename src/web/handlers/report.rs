//! The combined report of a study: the surface-vs-depth numbers, the tier
//! mix by department, why people stay silent or shallow (codes by tier)
//! with quotes cleared for sharing, whether those interviewed moved tier
//! compared with similar people who were not, and suggested actions.
//! Written to be read top to bottom; prints to A4 (one section per page).
//! Managers read it under the privacy floor; only the research team sees
//! quotes not cleared for sharing.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Serialize;

use super::dashboard::{Row, department_table};
use super::html;
use crate::csv_out::{Cell, CsvOut};
use crate::domain::account::Permission;
use crate::domain::report::{self, CodedInterview, Comparison, ReportQuote};
use crate::domain::tier::Tier;
use crate::storage::studies::{self, Study};
use crate::storage::{audit, interviews, invitations};
use crate::web::error::WebError;
use crate::web::i18n::{self, Lang};
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

#[derive(Serialize)]
pub struct CodeRow {
    pub key: String,
    pub label: String,
    /// One cell per shown tier: "count (share)".
    pub cells: Vec<String>,
    pub total: u32,
}

#[derive(Serialize)]
pub struct QuoteShown {
    pub text: String,
    pub tier: String,
    pub code: String,
    pub shareable: bool,
}

#[derive(Serialize)]
pub struct MovementShown {
    pub contacted: u32,
    pub contacted_deeper: String,
    pub others: u32,
    pub others_deeper: String,
}

#[derive(Serialize)]
pub struct SurveyShown {
    pub title: String,
    pub responses: usize,
    pub questions: Vec<SurveyTable>,
}

#[derive(Serialize)]
pub struct SurveyTable {
    pub prompt: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    pub hidden: String,
}

#[derive(Serialize)]
pub struct Report {
    pub study: String,
    pub as_of: NaiveDate,
    pub headline: String,
    pub login_rate: String,
    pub deep_rate: String,
    pub gap_points: String,
    /// People behind the login rate, and behind the deep rate and the gap
    /// (fewer when some people's depth is not measurable from their source).
    pub base: u32,
    pub deep_base: u32,
    /// Who is counted apart and why, and how to get better data.
    pub coverage: Option<String>,
    pub coverage_advice: Vec<String>,
    pub department_columns: Vec<String>,
    pub departments: Vec<Vec<String>>,
    pub hidden_groups: usize,
    pub interviews: u32,
    pub tier_columns: Vec<String>,
    pub codes: Vec<CodeRow>,
    pub hidden_tiers: Vec<String>,
    pub quotes: Vec<QuoteShown>,
    pub movement: Option<MovementShown>,
    pub surveys: Vec<SurveyShown>,
    pub actions: Vec<String>,
    pub privacy_floor: Option<u32>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    page: Page,
    /// The report's own address (its downloads are beside it).
    base: String,
    /// The study page, for a study's report.
    back: Option<String>,
    /// For the overall report: each study's own report.
    per_study: Vec<(i64, String)>,
    r: Report,
    research_team: bool,
}

fn pct(share: Option<f64>) -> String {
    share.map(i18n::percent).unwrap_or_else(|| "–".into())
}

fn code_label(lang: Lang, codes: &[interviews::Code], key: &str) -> String {
    codes
        .iter()
        .find(|c| c.key == key)
        .map(|c| if lang == Lang::ZhCn { c.label_zh.clone() } else { c.label_en.clone() })
        .unwrap_or_else(|| key.to_string())
}

/// The report over some studies (one, or every study for the overall one).
async fn build(
    viewer: &Viewer,
    state: &AppState,
    scope: &[Study],
    title: String,
    page: &Page,
) -> Result<Report, WebError> {
    let private = viewer.role().applies_privacy_floor();
    let research_team = viewer.role().may(Permission::RunStudies);
    let snapshot = state.cache.get(&state.db, None, None).await?;
    let floor = snapshot.settings.privacy_floor;
    let c = &snapshot.computed;
    let summary = c.evaluation.summary(&c.profile);
    let (department_columns, rows, hidden_groups): (Vec<String>, Vec<Row>, usize) =
        department_table(page, c, private, floor);
    let departments = rows.into_iter().map(|r| std::iter::once(r.label).chain(r.cells).collect()).collect();

    // Why: codes by tier, under the floor for managers.
    let mut codes = Vec::new();
    let mut coded: Vec<CodedInterview> = Vec::new();
    let mut raw_quotes = Vec::new();
    let mut invs = Vec::new();
    let mut first_as_of: Option<NaiveDate> = None;
    let mut study_surveys = Vec::new();
    for study in scope {
        codes.extend(interviews::codes(&state.db, study.id).await?);
        coded.extend(
            interviews::coded_for_study(&state.db, study.id)
                .await?
                .into_iter()
                .filter_map(|(t, codes)| Some(CodedInterview { tier: Tier::parse(&t)?, codes })),
        );
        raw_quotes.extend(interviews::quotes_for_study(&state.db, study.id).await?);
        invs.extend(invitations::for_study(&state.db, study.id).await?);
        let first = studies::rounds(&state.db, study.id)
            .await?
            .last()
            .and_then(|r| NaiveDate::parse_from_str(&r.as_of, "%Y-%m-%d").ok());
        first_as_of = match (first_as_of, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        study_surveys.extend(crate::storage::surveys::for_study(&state.db, study.id).await?);
    }
    let by_tier = report::codes_by_tier(&coded, private.then_some(floor));
    let shown_tiers: Vec<Tier> = by_tier.interviews.keys().copied().collect();
    let tier_name = |t: Tier| page.t(&format!("tier.{}", t.as_str()));
    let mut tier_columns: Vec<String> =
        shown_tiers.iter().map(|t| format!("{} (n = {})", tier_name(*t), by_tier.interviews[t])).collect();
    tier_columns.insert(0, page.t("report.code"));
    let code_rows: Vec<CodeRow> = by_tier
        .ranked()
        .into_iter()
        .map(|(key, total)| CodeRow {
            label: code_label(page.lang, &codes, &key),
            cells: shown_tiers
                .iter()
                .map(|t| format!("{} ({})", by_tier.count(&key, *t), pct(by_tier.share(&key, *t))))
                .collect(),
            total,
            key,
        })
        .collect();

    // Voices.
    let quotes: Vec<ReportQuote> = raw_quotes
        .into_iter()
        .filter_map(|(text, tier, code, shareable)| {
            Some(ReportQuote { text, tier: Tier::parse(&tier)?, code, shareable: shareable != 0 })
        })
        .collect();
    let shown_quotes = report::representative_quotes(&quotes, &by_tier, !research_team, 3)
        .into_iter()
        .map(|q| QuoteShown {
            tier: tier_name(q.tier),
            code: q.code.as_deref().map(|k| code_label(page.lang, &codes, k)).unwrap_or_default(),
            text: q.text,
            shareable: q.shareable,
        })
        .collect();

    // After outreach: the interviewed against similar people not contacted.
    let current: HashMap<&str, Tier> =
        c.evaluation.results.iter().map(|r| (c.data.people[r.person].user_id.as_str(), r.tier)).collect();
    // Contacted: interviewed, or answered a survey (tiers as frozen when
    // asked; a person in both counts once, as interviewed).
    let user_of: HashMap<i64, &str> =
        c.person_ids.iter().zip(&c.data.people).map(|(id, p)| (*id, p.user_id.as_str())).collect();
    let mut asked: HashMap<&str, Tier> = HashMap::new();
    let mut surveyed_any: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for s in &study_surveys {
        for i in crate::storage::surveys::invitations(&state.db, s.id).await? {
            let Some(user) = user_of.get(&i.person_id).copied() else { continue };
            surveyed_any.insert(user);
            if i.responded_at.is_some()
                && let Some(t) = Tier::parse(&i.tier)
            {
                asked.insert(user, t);
            }
        }
    }
    for i in invs.iter().filter(|i| i.status == "completed") {
        if let (Some(t), Some(user)) = (Tier::parse(&i.tier), current.get_key_value(i.user_id.as_str()).map(|(k, _)| k))
        {
            asked.insert(user, t);
        }
    }
    let contacted: Vec<(Tier, Tier)> =
        asked.iter().filter_map(|(user, before)| Some((*before, *current.get(user)?))).collect();
    let mut movement = None;
    if let Some(as_of) = first_as_of
        && !contacted.is_empty()
    {
        let then = state.cache.get(&state.db, Some(as_of), None).await?;
        let tc = &then.computed;
        let mut invited: std::collections::HashSet<&str> = invs.iter().map(|i| i.user_id.as_str()).collect();
        invited.extend(surveyed_any.iter().copied());
        let others: Vec<(Tier, Tier)> = tc
            .evaluation
            .results
            .iter()
            .filter_map(|r| {
                let user = tc.data.people[r.person].user_id.as_str();
                (!invited.contains(user)).then_some(())?;
                Some((r.tier, *current.get(user)?))
            })
            .collect();
        let cmp: Comparison = report::compare(&contacted, &others);
        if !private || cmp.contacted.people >= floor {
            movement = Some(MovementShown {
                contacted: cmp.contacted.people,
                contacted_deeper: pct(cmp.contacted.deeper_share()),
                others: cmp.others.people,
                others_deeper: pct(cmp.others_deeper_share),
            });
        }
    }

    // Surveys by tier, under the floor for managers.
    let mut surveys_shown = Vec::new();
    for s in &study_surveys {
        let questions = super::surveys::questions_of(s);
        let responses = super::surveys::parsed_responses(state, s.id).await?;
        let tables = super::surveys::result_tables(page, &questions, &responses, private.then_some(floor));
        surveys_shown.push(SurveyShown {
            title: s.title.clone(),
            responses: responses.len(),
            questions: tables
                .into_iter()
                .map(|t| SurveyTable { prompt: t.prompt, columns: t.columns, rows: t.rows, hidden: t.hidden })
                .collect(),
        });
    }

    let headline = if summary.partial_coverage() && summary.deep_rate().is_none() {
        page.tf(
            "report.headline_unmeasured",
            &[("login", &pct(summary.login_rate().map(|r| r.to_f64()))), ("interviews", &coded.len().to_string())],
        )
    } else {
        page.tf(
            "report.headline",
            &[
                ("login", &pct(summary.measurable_login_rate().map(|r| r.to_f64()))),
                ("deep", &pct(summary.deep_rate().map(|r| r.to_f64()))),
                ("interviews", &coded.len().to_string()),
            ],
        )
    };
    let coverage = crate::web::coverage::note(page, &summary);
    let actions = code_rows
        .iter()
        .take(3)
        .map(|r| {
            let key = format!("report.action.{}", r.key);
            let text = page.t(&key);
            if text == key { page.tf("report.action.other", &[("code", &r.label)]) } else { text }
        })
        .collect();
    Ok(Report {
        study: title,
        as_of: c.evaluation.window.as_of,
        headline,
        login_rate: pct(summary.login_rate().map(|r| r.to_f64())),
        deep_rate: pct(summary.deep_rate().map(|r| r.to_f64())),
        gap_points: summary.gap_points().map(|g| format!("{g:.1}")).unwrap_or_else(|| "–".into()),
        base: summary.base,
        deep_base: summary.measurable_base(),
        coverage_advice: coverage.as_ref().map(|n| n.advice.clone()).unwrap_or_default(),
        coverage: coverage.map(|n| n.sentence),
        department_columns,
        departments,
        hidden_groups,
        interviews: by_tier.interviews.values().sum(),
        tier_columns,
        codes: code_rows,
        hidden_tiers: by_tier.hidden_tiers.iter().map(|t| tier_name(*t)).collect(),
        quotes: shown_quotes,
        movement,
        surveys: surveys_shown,
        actions,
        privacy_floor: private.then_some(floor),
    })
}

async fn study_of(state: &AppState, id: i64) -> Result<Study, WebError> {
    studies::get(&state.db, id).await?.ok_or(WebError::NotFound)
}

/// The studies a report covers: one (`id`), or every study.
async fn scope(state: &AppState, id: Option<i64>, page: &Page) -> Result<(Vec<Study>, String), WebError> {
    match id {
        Some(id) => {
            let study = study_of(state, id).await?;
            let title = study.title.clone();
            Ok((vec![study], title))
        }
        None => Ok((studies::list(&state.db).await?, page.t("report.overall"))),
    }
}

async fn show_scope(viewer: Viewer, state: &AppState, id: Option<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAggregates)?;
    let mut page = Page::new(&viewer, "studies", "report.title");
    let (studies, title) = scope(state, id, &page).await?;
    page.title = format!("{} · {title}", page.title);
    let r = build(&viewer, state, &studies, title, &page).await?;
    let target = id.map(|i| format!("study:{i}")).unwrap_or_else(|| "all studies".into());
    audit::record(&state.db, viewer.audit_actor(), "report.view", Some(&target), None).await?;
    let research_team = viewer.role().may(Permission::RunStudies);
    let base = id.map(|i| format!("/studies/{i}/report")).unwrap_or_else(|| "/report".into());
    // The study page is the research team's; managers go back to all studies.
    let back = match id {
        Some(i) if research_team => Some(format!("/studies/{i}")),
        Some(_) => Some("/report".into()),
        None => None,
    };
    let per_study = if id.is_none() { studies.iter().map(|s| (s.id, s.title.clone())).collect() } else { Vec::new() };
    html(&ReportPage { page, base, back, per_study, r, research_team })
}

pub async fn show(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    show_scope(viewer, &state, Some(*id)).await
}

/// Every study together.
pub async fn overall(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    show_scope(viewer, &state, None).await
}

async fn json_scope(viewer: Viewer, state: &AppState, id: Option<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAggregates)?;
    let page = Page::new(&viewer, "studies", "report.title");
    let (studies, title) = scope(state, id, &page).await?;
    let r = build(&viewer, state, &studies, title, &page).await?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"report.json\"")).json(r))
}

pub async fn json(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    json_scope(viewer, &state, Some(*id)).await
}

pub async fn overall_json(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    json_scope(viewer, &state, None).await
}

async fn csv_scope(viewer: Viewer, state: &AppState, id: Option<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAggregates)?;
    let page = Page::new(&viewer, "studies", "report.title");
    let (studies, title) = scope(state, id, &page).await?;
    let r = build(&viewer, state, &studies, title, &page).await?;
    // Two tables of different widths in one file; the labels are reason
    // and department names, the cells counts and shares.
    let mut w = CsvOut::new(Vec::new());
    let io = |e: csv::Error| WebError::Internal(e.into());
    w.text_row(["table", "row"].iter().map(|s| s.to_string()).chain(r.tier_columns.iter().skip(1).cloned()))
        .map_err(io)?;
    for row in &r.codes {
        let cells = row.cells.iter().map(|c| Cell::number(c.as_str()));
        w.row([Cell::text("codes_by_tier"), Cell::text(row.label.as_str())].into_iter().chain(cells)).map_err(io)?;
    }
    w.text_row(["table".to_string()].into_iter().chain(r.department_columns.iter().cloned())).map_err(io)?;
    for row in &r.departments {
        let mut cells = row.iter();
        let label = cells.next().map(|l| Cell::text(l.as_str()));
        w.row([Cell::text("departments")].into_iter().chain(label).chain(cells.map(|c| Cell::number(c.as_str()))))
            .map_err(io)?;
    }
    let body = w.into_inner()?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"report.csv\""))
        .body(body))
}

pub async fn csv(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    csv_scope(viewer, &state, Some(*id)).await
}

pub async fn overall_csv(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    csv_scope(viewer, &state, None).await
}
