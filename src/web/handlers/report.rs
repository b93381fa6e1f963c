//! The combined report of a study: the surface-vs-depth numbers, the tier
//! mix by department, why people stay silent or shallow (codes by tier)
//! with quotes cleared for sharing, whether those interviewed moved tier
//! compared with similar people who were not, and suggested actions.
//! Written to be read top to bottom, the summary first; prints to A4 with
//! the page number, date and population on every page.
//! Managers read it under the privacy floor; only the research team sees
//! quotes not cleared for sharing.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Serialize;

use super::dashboard::{Row, department_row_cells, department_summaries};
use super::html;
use super::surveys::TextShown;
use crate::csv_out::{Cell, CsvOut};
use crate::domain::account::Permission;
use crate::domain::effect::{Effect, Verdict};
use crate::domain::evaluation::Summary;
use crate::domain::report;
use crate::domain::tier::Tier;
use crate::storage::studies::{self, Study};
use crate::storage::{audit, interviews};
use crate::web::error::WebError;
use crate::web::i18n::{self, Lang};
use crate::web::page::Page;
use crate::web::report_summary::{self, ReportChart, TierReasons};
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

#[derive(Serialize, Clone)]
pub struct QuoteShown {
    pub text: String,
    pub tier: String,
    pub code: String,
    pub shareable: bool,
}

/// The effect of a study's outreach, as the report shows it.
#[derive(Serialize)]
pub struct EffectShown {
    pub study: String,
    /// Sentences: what is compared, or why nothing can be.
    pub lines: Vec<String>,
    /// Contacted and holdout: group, n, share moving deeper, mean
    /// interactive days.
    pub rows: Vec<[String; 4]>,
    /// The difference with its interval, and what it means.
    pub difference: Option<String>,
    pub verdict: Option<String>,
}

/// A share with its n, or a dash when the group is smaller than `min`.
fn share_of(x: u32, n: u32, min: u32) -> String {
    if n < min || n == 0 {
        return "–".into();
    }
    i18n::percent(f64::from(x) / f64::from(n))
}

fn points(x: f64) -> String {
    format!("{:+.1}", x * 100.0)
}

fn effect_shown(page: &Page, study: &str, effect: &Effect, floor: Option<u32>) -> EffectShown {
    let date = |d: NaiveDate| page.date(&d);
    let mut shown =
        EffectShown { study: study.to_string(), lines: Vec::new(), rows: Vec::new(), difference: None, verdict: None };
    match effect {
        Effect::NoHoldout => shown.lines.push(page.t("report.effect.no_holdout")),
        Effect::NotContacted => shown.lines.push(page.t("report.effect.not_contacted")),
        Effect::NeedsData { first_contact, needs_until, data_end } => shown.lines.push(page.tf(
            "report.effect.needs_data",
            &[("first", &date(*first_contact)), ("until", &date(*needs_until)), ("end", &date(*data_end))],
        )),
        Effect::Measured { first_contact, contacted, holdout, deeper } => {
            shown.lines.push(page.tf("report.effect.intro", &[("first", &date(*first_contact))]));
            // No share for a group too small to tell, or below the floor.
            let min = report_summary::effect_min(floor);
            for (key, o) in [("report.effect.contacted", contacted), ("report.effect.holdout", holdout)] {
                let days = o.mean_interactive_days.filter(|_| o.people >= min).map(|d| format!("{d:.1}"));
                // Under the floor a group's size is not given either.
                let n = match floor {
                    Some(f) if o.people < f => page.tf("report.fewer_than", &[("n", &f.to_string())]),
                    _ => i18n::integer(i64::from(o.people)),
                };
                shown.rows.push([
                    page.t(key),
                    n,
                    share_of(o.deeper, o.people, min),
                    days.unwrap_or_else(|| "–".into()),
                ]);
            }
            let verdict = Verdict::of(deeper.as_ref(), min);
            if let (Some(d), false) = (deeper, verdict == Verdict::TooFew) {
                shown.difference = Some(page.tf(
                    "report.effect.difference",
                    &[("diff", &points(d.estimate)), ("low", &points(d.low)), ("high", &points(d.high))],
                ));
            }
            shown.verdict = Some(match verdict {
                Verdict::ClearMore => page.t("report.effect.clear_more"),
                Verdict::ClearLess => page.t("report.effect.clear_less"),
                Verdict::Unclear => page.t("report.effect.unclear"),
                Verdict::TooFew => page.tf("report.effect.too_few", &[("min", &min.to_string())]),
            });
        }
    }
    shown
}

#[derive(Serialize)]
pub struct SurveyShown {
    pub title: String,
    pub responses: usize,
    pub questions: Vec<SurveyTable>,
    /// Free-text answers: every one for the research team (with the
    /// department at answer time); for managers only those cleared, from
    /// tiers shown on their own, without the department.
    pub text_answers: Vec<TextShown>,
    /// Cleared answers the floor keeps from this reader.
    pub text_withheld: u32,
    /// Response rates by tier (under the floor for managers): group,
    /// invited, the rate with its n.
    pub rates: Vec<[String; 3]>,
    /// Whether the survey has a free-text question at all.
    #[serde(skip)]
    pub has_text: bool,
}

#[derive(Serialize)]
pub struct SurveyTable {
    pub prompt: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    pub hidden: String,
    /// The stacked bars of the distribution (the table is its data).
    #[serde(skip)]
    pub chart: String,
    /// An NPS from too few answers, said with each group's n.
    pub caution: Option<String>,
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
    /// None for a manager when everyone together is below the floor.
    pub base: Option<u32>,
    pub deep_base: Option<u32>,
    /// Who is counted apart and why, and how to get better data.
    pub coverage: Option<String>,
    pub coverage_advice: Vec<String>,
    pub department_columns: Vec<String>,
    pub departments: Vec<Vec<String>>,
    pub hidden_groups: usize,
    /// Interviews broken down by tier (merged tiers included).
    pub interviews: u32,
    /// Every coded interview, whether the floor lets it be broken down or not.
    pub interviews_coded: u32,
    /// Coded interviews exist, but too few for any breakdown under the floor.
    pub interviews_not_broken_down: bool,
    /// Quotes cleared for sharing that the floor keeps from this reader.
    pub quotes_withheld: u32,
    pub tier_columns: Vec<String>,
    pub codes: Vec<CodeRow>,
    pub hidden_tiers: Vec<String>,
    pub quotes: Vec<QuoteShown>,
    pub effects: Vec<EffectShown>,
    pub surveys: Vec<SurveyShown>,
    pub actions: Vec<String>,
    pub privacy_floor: Option<u32>,
    /// The summary: three findings in words (the department with the
    /// widest gap, the top reason among silent people, the effect of
    /// outreach), the top reasons by tier and up to three quotes.
    pub findings: Vec<String>,
    pub top_reasons: Vec<TierReasons>,
    pub summary_quotes: Vec<QuoteShown>,
    /// People in the numbers (None for a manager under the floor).
    pub people: Option<u32>,
    /// The date of the numbers and the people in them.
    pub meta: String,
    #[serde(skip)]
    pub departments_chart: ReportChart,
    #[serde(skip)]
    pub reasons_chart: ReportChart,
    #[serde(skip)]
    pub effect_chart: ReportChart,
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
/// The codes by tier: the column heads (each tier with its n, small tiers
/// together) and a row per code, most frequent first.
fn code_table(page: &Page, by_tier: &report::CodesByTier, codes: &[interviews::Code]) -> (Vec<String>, Vec<CodeRow>) {
    let shown_tiers: Vec<Tier> = by_tier.interviews.keys().copied().collect();
    let tier_name = |t: Tier| page.t(&format!("tier.{}", t.as_str()));
    let tier_list = |tiers: &[Tier]| tiers.iter().map(|t| tier_name(*t)).collect::<Vec<_>>().join(", ");
    let mut tier_columns: Vec<String> =
        shown_tiers.iter().map(|t| format!("{} (n = {})", tier_name(*t), by_tier.interviews[t])).collect();
    // Tiers too small on their own, together ("Silent, Shallow together").
    if let Some(m) = &by_tier.merged {
        let label = page.tf("report.tiers_together", &[("tiers", &tier_list(&m.tiers))]);
        tier_columns.push(format!("{label} (n = {})", m.interviews));
    }
    tier_columns.insert(0, page.t("report.code"));
    let code_rows: Vec<CodeRow> = by_tier
        .ranked()
        .into_iter()
        .map(|(key, total)| CodeRow {
            label: code_label(page.lang, codes, &key),
            cells: shown_tiers
                .iter()
                .map(|t| format!("{} ({})", by_tier.count(&key, *t), pct(by_tier.share(&key, *t))))
                .chain(by_tier.merged.iter().map(|m| format!("{} ({})", m.count(&key), pct(m.share(&key)))))
                .collect(),
            total,
            key,
        })
        .collect();

    (tier_columns, code_rows)
}

/// Each survey's results as a reader may see them (`floor`: a manager's;
/// `text_floor`: for anyone outside the research team, who reads only
/// cleared answers above it).
async fn surveys_shown(
    state: &AppState,
    page: &Page,
    study_surveys: &[crate::storage::surveys::Survey],
    floor: Option<u32>,
    text_floor: Option<u32>,
) -> Result<Vec<SurveyShown>, WebError> {
    let tier_name = |t: Tier| page.t(&format!("tier.{}", t.as_str()));
    let tier_list = |tiers: &[Tier]| tiers.iter().map(|t| tier_name(*t)).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    for s in study_surveys {
        let questions = super::surveys::questions_of(s)?;
        let stored = super::surveys::stored_responses(state, s.id).await?;
        let responses = super::surveys::for_results(&stored);
        let tables = super::surveys::result_tables(page, &questions, &responses, floor);
        // Managers read cleared answers only; the research team reads all.
        let texts = super::surveys::text_answers(state, s.id, &questions, &stored, text_floor).await?;
        let invited: Vec<(Tier, bool)> = crate::storage::surveys::invitations(&state.db, s.id)
            .await?
            .into_iter()
            .filter_map(|i| Some((Tier::parse(&i.tier)?, i.responded_at.is_some())))
            .collect();
        let (alone, merged) = crate::domain::survey::response_rates_under_floor(&invited, floor);
        let rates = alone
            .into_iter()
            .map(|(t, n, r)| (tier_name(t), n, r))
            .chain(
                merged.map(|(tiers, n, r)| (page.tf("report.tiers_together", &[("tiers", &tier_list(&tiers))]), n, r)),
            )
            .map(|(label, n, r)| [label, n.to_string(), super::surveys::share_cell(page, r, n)])
            .collect();
        out.push(SurveyShown {
            rates,
            title: s.title.clone(),
            responses: responses.len(),
            questions: tables
                .into_iter()
                .map(|t| SurveyTable {
                    prompt: t.prompt,
                    columns: t.columns,
                    rows: t.rows,
                    hidden: t.hidden,
                    chart: t.chart,
                    caution: t.caution,
                })
                .collect(),
            text_answers: super::surveys::text_shown(page, &questions, texts.shown),
            text_withheld: texts.withheld,
            has_text: questions.iter().any(|q| q.kind == crate::domain::survey::Kind::Text),
        });
    }

    Ok(out)
}

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
    let (department_groups, hidden_groups) = department_summaries(page, c, private, floor);
    let (department_columns, departments) = department_cells(page, &department_groups);

    // Why: codes by tier, under the floor for managers.
    let crate::app::report::Evidence { codes, coded, quotes, surveys: study_surveys } =
        crate::app::report::evidence(&state.db, scope).await?;
    let by_tier = report::codes_by_tier(&coded, private.then_some(floor));
    let (tier_columns, code_rows) = code_table(page, &by_tier, &codes);

    // Voices.
    let (shown_quotes, quotes_withheld) = quotes_shown(page, &quotes, &by_tier, &codes, research_team);

    // After outreach: the contacted against each study's holdout.
    let measured = crate::app::report::effects(&state.db, scope, c, snapshot.settings.timezone).await?;

    // Surveys by tier, under the floor for managers.
    let surveys_shown =
        surveys_shown(state, page, &study_surveys, private.then_some(floor), (!research_team).then_some(floor)).await?;

    // The whole organisation below the floor: a manager reads no rate of it.
    let below_floor = private && summary.listed < floor;
    let coverage = crate::web::coverage::note(page, &summary).filter(|_| !below_floor);
    let shown = |v: String| if below_floor { "–".to_string() } else { v };
    // The summary, from what this reader may see.
    let label = |k: &str| code_label(page.lang, &codes, k);
    let min = report_summary::effect_min(private.then_some(floor));
    let people = (!below_floor).then_some(summary.listed);
    Ok(Report {
        findings: vec![
            report_summary::gap_finding(page, &department_groups, min),
            report_summary::silent_finding(page, &by_tier, &label, private.then_some(floor)),
            report_summary::outreach_finding(page, &measured, min),
        ],
        top_reasons: report_summary::top_reasons(page, &by_tier, &label),
        summary_quotes: summary_quotes(&shown_quotes),
        people,
        meta: report_summary::coverage_line(page, c.evaluation.window.as_of, people, floor),
        departments_chart: report_summary::departments_chart(page, &department_groups),
        reasons_chart: report_summary::reasons_chart(page, &by_tier, &label),
        effect_chart: report_summary::effect_chart(page, &measured, min),
        study: title,
        as_of: c.evaluation.window.as_of,
        headline: headline_of(page, &summary, below_floor, floor, coded.len()),
        login_rate: shown(pct(summary.login_rate().map(|r| r.to_f64()))),
        deep_rate: shown(pct(summary.deep_rate().map(|r| r.to_f64()))),
        gap_points: shown(summary.gap_points().map(|g| format!("{g:.1}")).unwrap_or_else(|| "–".into())),
        base: (!below_floor).then_some(summary.base),
        deep_base: (!below_floor).then_some(summary.measurable_base()),
        coverage_advice: coverage.as_ref().map(|n| n.advice.clone()).unwrap_or_default(),
        coverage: coverage.map(|n| n.sentence),
        department_columns,
        departments,
        hidden_groups,
        interviews: by_tier.interviews.values().sum::<u32>() + by_tier.merged.as_ref().map_or(0, |m| m.interviews),
        interviews_coded: by_tier.total,
        interviews_not_broken_down: by_tier.all_hidden(),
        quotes_withheld,
        tier_columns,
        actions: actions(page, &code_rows),
        codes: code_rows,
        hidden_tiers: by_tier.hidden_tiers.iter().map(|t| page.t(&format!("tier.{}", t.as_str()))).collect(),
        quotes: shown_quotes,
        effects: measured.iter().map(|(t, e)| effect_shown(page, t, e, private.then_some(floor))).collect(),
        surveys: surveys_shown,
        privacy_floor: private.then_some(floor),
    })
}

/// The representative quotes this reader may see, and how many cleared
/// quotes a manager does not see: their tier is not shown on its own (a
/// quote from a small group points at a person).
fn quotes_shown(
    page: &Page,
    quotes: &[report::ReportQuote],
    by_tier: &report::CodesByTier,
    codes: &[interviews::Code],
    research_team: bool,
) -> (Vec<QuoteShown>, u32) {
    let withheld = if research_team {
        0
    } else {
        quotes.iter().filter(|q| q.shareable && !by_tier.interviews.contains_key(&q.tier)).count() as u32
    };
    let shown = report::representative_quotes(quotes, by_tier, !research_team, 3)
        .into_iter()
        .map(|q| QuoteShown {
            tier: page.t(&format!("tier.{}", q.tier.as_str())),
            code: q.code.as_deref().map(|k| code_label(page.lang, codes, k)).unwrap_or_default(),
            text: q.text,
            shareable: q.shareable,
        })
        .collect();
    (shown, withheld)
}

/// The departments table's columns and rows, each row its label first.
fn department_cells(page: &Page, groups: &[(String, Summary)]) -> (Vec<String>, Vec<Vec<String>>) {
    let (columns, rows): (Vec<String>, Vec<Row>) = department_row_cells(page, groups);
    (columns, rows.into_iter().map(|r| std::iter::once(r.label).chain(r.cells).collect()).collect())
}

/// The suggested actions for the three most frequent codes.
fn actions(page: &Page, code_rows: &[CodeRow]) -> Vec<String> {
    code_rows
        .iter()
        .take(3)
        .map(|r| {
            page.tf_known(&format!("report.action.{}", r.key), &[])
                .unwrap_or_else(|| page.tf("report.action.other", &[("code", &r.label)]))
        })
        .collect()
}

/// The summary's quotes: those cleared for sharing first (the summary
/// travels furthest), three at most.
fn summary_quotes(shown: &[QuoteShown]) -> Vec<QuoteShown> {
    let mut quotes: Vec<QuoteShown> = shown.iter().filter(|q| q.shareable).cloned().collect();
    quotes.extend(shown.iter().filter(|q| !q.shareable).cloned());
    quotes.truncate(3);
    quotes
}

/// The report's first sentence: the login and deep rates and the number of
/// interviews (no rate for an organisation below the floor).
fn headline_of(page: &Page, summary: &Summary, below_floor: bool, floor: u32, interviews: usize) -> String {
    if below_floor {
        page.tf(
            "report.headline_below_floor",
            &[("floor", &floor.to_string()), ("interviews", &interviews.to_string())],
        )
    } else if summary.partial_coverage() && summary.deep_rate().is_none() {
        page.tf(
            "report.headline_unmeasured",
            &[("login", &pct(summary.login_rate().map(|r| r.to_f64()))), ("interviews", &interviews.to_string())],
        )
    } else {
        page.tf(
            "report.headline",
            &[
                ("login", &pct(summary.measurable_login_rate().map(|r| r.to_f64()))),
                ("deep", &pct(summary.deep_rate().map(|r| r.to_f64()))),
                ("interviews", &interviews.to_string()),
            ],
        )
    }
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
    let mut page = Page::new(&viewer, "report", "report.title");
    let (studies, title) = scope(state, id, &page).await?;
    page.title = format!("{} · {title}", page.title);
    let r = build(&viewer, state, &studies, title, &page).await?;
    let target = id.map(|i| format!("study:{i}")).unwrap_or_else(|| "studies:all".into());
    audit::record_view(&state.db, (viewer.account.id, &viewer.account.email), "report.view", &target).await?;
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

/// The report's print stylesheet: the line at the foot of every printed
/// page (study, date, people), in the reader's language. A stylesheet of
/// its own, because `@page` margin boxes take their text from CSS only and
/// the policy allows no inline styles; the page numbers are app.css's.
async fn print_css_scope(viewer: Viewer, state: &AppState, id: Option<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAggregates)?;
    let page = Page::new(&viewer, "report", "report.title");
    let (_, title) = scope(state, id, &page).await?;
    let snapshot = state.cache.get(&state.db, None, None).await?;
    let c = &snapshot.computed;
    let listed = c.evaluation.summary(&c.profile).listed;
    let floor = snapshot.settings.privacy_floor;
    let people = (!viewer.role().applies_privacy_floor() || listed >= floor).then_some(listed);
    let line = report_summary::footer(&page, &title, c.evaluation.window.as_of, people, floor);
    let body = format!("@page {{ @bottom-left {{ content: {}; }} }}\n", report_summary::css_string(&line));
    Ok(HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

pub async fn print_css(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    print_css_scope(viewer, &state, Some(*id)).await
}

pub async fn overall_print_css(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    print_css_scope(viewer, &state, None).await
}

async fn json_scope(viewer: Viewer, state: &AppState, id: Option<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAggregates)?;
    let page = Page::new(&viewer, "report", "report.title");
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
    let page = Page::new(&viewer, "report", "report.title");
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
    // Survey results: one row per question and group, the distribution's
    // cells as the page shows them (each share with its n); then the
    // free-text answers this reader may see.
    for s in &r.surveys {
        for t in &s.questions {
            w.text_row(
                ["survey_columns", s.title.as_str(), t.prompt.as_str()]
                    .into_iter()
                    .chain(t.columns.iter().map(String::as_str)),
            )
            .map_err(io)?;
            for (label, cells) in &t.rows {
                let head = [
                    Cell::text("survey_results"),
                    Cell::text(s.title.as_str()),
                    Cell::text(t.prompt.as_str()),
                    Cell::text(label.as_str()),
                ];
                w.row(head.into_iter().chain(cells.iter().map(|c| Cell::number(c.as_str())))).map_err(io)?;
            }
            if let Some(c) = &t.caution {
                w.text_row(["survey_caution", s.title.as_str(), t.prompt.as_str(), c.as_str()]).map_err(io)?;
            }
        }
        for [label, n, rate] in &s.rates {
            w.text_row(["survey_rates", s.title.as_str(), label.as_str(), n.as_str(), rate.as_str()]).map_err(io)?;
        }
        for a in &s.text_answers {
            let cleared = if a.cleared { "cleared" } else { "research_team_only" };
            w.text_row([
                "survey_text",
                s.title.as_str(),
                a.prompt.as_str(),
                a.tier.as_str(),
                a.department.as_deref().unwrap_or(""),
                cleared,
                a.text.as_str(),
            ])
            .map_err(io)?;
        }
        if s.text_withheld > 0 {
            w.text_row(["survey_text_withheld".to_string(), s.title.clone(), s.text_withheld.to_string()])
                .map_err(io)?;
        }
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
