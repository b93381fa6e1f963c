//! Adoption by department (HR and IT): login rate and deep rate by weeks
//! since each department's rollout, day 0 aligned, the grace period shaded;
//! a comparison table; a CSV download; rollout dates set by hand.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::dashboard::AsOfQuery;
use super::{html, see_other};
use crate::csv_out::{Cell, CsvOut};
use crate::domain::account::Permission;
use crate::domain::adoption::{CurvePoint, curve, default_rollouts, grace_weeks};
use crate::domain::evaluation::Summary;
use crate::domain::first_run::first_event_day;
use crate::domain::privacy::plan;
use crate::storage::{audit, rollouts};
use crate::web::cache::Snapshot;
use crate::web::charts::{self, ChartText, Series};
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

/// The longest history shown, in weeks.
const MAX_WEEKS: u32 = 52;

struct DepartmentCurve {
    name: String,
    /// The people list filtered to the department, for roles that may see people.
    people_href: Option<String>,
    rollout: NaiveDate,
    rollout_is_default: bool,
    /// Today's people, or a dash when the department is not shown alone today.
    people: String,
    login_rate: String,
    deep_rate: String,
    /// People behind the deep rate and the gap (those whose depth their
    /// source can measure), or a dash.
    deep_base: String,
    /// Who is counted apart, when anyone is.
    coverage: Option<String>,
    gap: String,
    weeks_since: i64,
    svg: String,
    rows: Vec<(String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "adoption.html")]
struct AdoptionPage {
    page: Page,
    as_of: NaiveDate,
    window: u32,
    departments: Vec<DepartmentCurve>,
    hidden: usize,
    privacy_floor: u32,
    can_set_rollout: bool,
    /// Where an empty page leads: the imports page, for roles that may import.
    can_import: bool,
    legend: String,
    /// How to get better data, when some people's depth is not measurable.
    advice: Vec<String>,
}

fn rate(r: Option<crate::domain::decimal::Ratio>) -> Option<f64> {
    r.map(|r| r.to_f64())
}

/// The snapshot with enough weeks to reach back to the earliest rollout,
/// and each department's rollout date (set by hand, else from the data).
async fn load(
    state: &AppState,
    q: &AsOfQuery,
) -> Result<(std::sync::Arc<Snapshot>, BTreeMap<String, (NaiveDate, bool)>), WebError> {
    let first = state.cache.get(&state.db, q.as_of, q.window).await?;
    let tz = first.settings.timezone;
    let mut dates: BTreeMap<String, (NaiveDate, bool)> =
        default_rollouts(&first.computed.data.people, tz).into_iter().map(|(d, date)| (d, (date, true))).collect();
    for (dept, date) in rollouts::all(&state.db).await? {
        dates.insert(dept, (date, false));
    }
    let as_of = first.computed.evaluation.window.as_of;
    let earliest = dates.values().map(|(d, _)| *d).min().unwrap_or(as_of);
    let weeks = (((as_of - earliest).num_days().max(0) / 7) as u32 + 1).min(MAX_WEEKS);
    let snapshot = state.cache.get_weeks(&state.db, Some(as_of), q.window, weeks).await?;
    Ok((snapshot, dates))
}

fn department_points(snapshot: &Snapshot, dept: &str, rollout: NaiveDate) -> Vec<CurvePoint> {
    let weekly: Vec<(NaiveDate, Summary)> = snapshot
        .weekly
        .iter()
        .filter_map(|w| w.departments.get(&Some(dept.to_string())).map(|s| (w.as_of, s.clone())))
        .collect();
    curve(rollout, &weekly)
}

/// Which departments each week may show alone: the privacy floor's one plan
/// over all departments of that week (the overview and the report follow
/// the same plan for the latest week), so that no department merged
/// elsewhere is shown alone here. None for readers without the floor.
fn alone_by_week(snapshot: &Snapshot, floor: Option<u32>) -> Option<BTreeMap<NaiveDate, Vec<Option<String>>>> {
    floor.map(|f| {
        snapshot
            .weekly
            .iter()
            .map(|w| (w.as_of, plan(w.departments.iter().map(|(d, s)| (d.clone(), s.listed)), Some(f)).alone))
            .collect()
    })
}

/// A department's points that the reader may see: under the floor, those
/// of the weeks in which the department is shown alone.
fn shown_points(
    snapshot: &Snapshot,
    alone: &Option<BTreeMap<NaiveDate, Vec<Option<String>>>>,
    dept: &str,
    rollout: NaiveDate,
) -> Vec<CurvePoint> {
    let key = Some(dept.to_string());
    let mut points = department_points(snapshot, dept, rollout);
    if let Some(alone) = alone {
        points.retain(|p| alone.get(&p.as_of).is_some_and(|a| a.contains(&key)));
    }
    points
}

pub async fn show(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAdoption)?;
    let (snapshot, dates) = load(&state, &q).await?;
    let page = Page::new(&viewer, "adoption", "adoption.title");
    let floor = snapshot.settings.privacy_floor;
    let private = viewer.role().applies_privacy_floor();
    let may_list = viewer.role().may(Permission::ViewPeople);
    let alone = alone_by_week(&snapshot, private.then_some(floor));
    let grace = grace_weeks(snapshot.computed.profile.grace_days);
    let latest = snapshot.weekly.last();
    // Weeks ending before the first event have no data (a rollout set by
    // hand may come before it): gaps, not weeks of everyone dormant.
    let first_day = first_event_day(&snapshot.computed.data.people, snapshot.settings.timezone);
    let measured = |p: &CurvePoint| first_day.is_none_or(|d| p.as_of >= d);
    let mut hidden = 0;
    let mut departments = Vec::new();
    for (name, (rollout, is_default)) in &dates {
        let points = shown_points(&snapshot, &alone, name, *rollout);
        // Today's figures only when the department is shown alone today.
        let now = latest
            .filter(|w| points.last().is_some_and(|p| p.as_of == w.as_of) || alone.is_none())
            .and_then(|w| w.departments.get(&Some(name.clone())));
        if alone.is_some() && points.is_empty() {
            hidden += 1;
            continue;
        }
        let people = now.map(|s| i18n::integer(i64::from(s.listed))).unwrap_or_else(|| "–".into());
        let max_week = points.last().map(|p| p.week).unwrap_or(0).max(0) as usize;
        let labels: Vec<String> = (0..=max_week).map(|w| w.to_string()).collect();
        // One value per week since rollout; a week without a point, or
        // without a rate (everyone still in the grace period), is a gap, as
        // in the table, never a zero.
        let mut login = vec![None; max_week + 1];
        let mut deep = vec![None; max_week + 1];
        for p in &points {
            if let Ok(i) = usize::try_from(p.week)
                && measured(p)
            {
                login[i] = rate(p.summary.login_rate());
                deep[i] = rate(p.summary.deep_rate());
            }
        }
        let series = [
            Series { name: page.t("dashboard.login_rate"), class: "s1".into(), values: login },
            Series { name: page.t("dashboard.deep_rate"), class: "tier-deep".into(), values: deep },
        ];
        let text = ChartText {
            title: page.tf("adoption.chart_title", &[("department", name)]),
            desc: page.t("adoption.chart_desc"),
            x_label: page.t("adoption.weeks_since"),
            y_label: page.t("chart.share"),
            empty: page.t("firstrun.adoption_chart_empty"),
        };
        let shade = (grace > 0).then(|| (0, grace.min(labels.len()), page.t("adoption.grace")));
        let svg = charts::line_chart(&text, &labels, &series, true, shade);
        let rows = points
            .iter()
            .map(|p| {
                (
                    p.week.to_string(),
                    page.date(&p.as_of),
                    rate(p.summary.login_rate())
                        .filter(|_| measured(p))
                        .map(i18n::percent)
                        .unwrap_or_else(|| "–".into()),
                    rate(p.summary.deep_rate())
                        .filter(|_| measured(p))
                        .map(i18n::percent)
                        .unwrap_or_else(|| "–".into()),
                )
            })
            .collect();
        let (login_rate, deep_rate, gap) = match now {
            Some(s) => (
                rate(s.login_rate()).map(i18n::percent).unwrap_or_else(|| "–".into()),
                rate(s.deep_rate()).map(i18n::percent).unwrap_or_else(|| "–".into()),
                s.gap_points().map(|g| crate::domain::decimal::display_f64(g, 1)).unwrap_or_else(|| "–".into()),
            ),
            None => ("–".into(), "–".into(), "–".into()),
        };
        let as_of = snapshot.computed.evaluation.window.as_of;
        let deep_base = now.map(|s| i18n::integer(i64::from(s.measurable_base()))).unwrap_or_else(|| "–".into());
        let coverage = now.and_then(|s| crate::web::coverage::note(&page, s)).map(|n| n.sentence);
        departments.push(DepartmentCurve {
            deep_base,
            coverage,
            people_href: may_list.then(|| crate::web::query::with_query("/people", &[("department", name.clone())])),
            name: name.clone(),
            rollout: *rollout,
            rollout_is_default: *is_default,
            people,
            login_rate,
            deep_rate,
            gap,
            weeks_since: (as_of - *rollout).num_days().max(0) / 7,
            svg,
            rows,
        });
    }
    let legend = charts::legend(&[
        (page.t("dashboard.login_rate"), "s1".to_string()),
        (page.t("dashboard.deep_rate"), "tier-deep".to_string()),
    ]);
    let window = &snapshot.computed.evaluation.window;
    let advice = if departments.iter().any(|d| d.coverage.is_some()) {
        latest.and_then(|w| crate::web::coverage::note(&page, &w.overall)).map(|n| n.advice).unwrap_or_default()
    } else {
        Vec::new()
    };
    let template = AdoptionPage {
        advice,
        as_of: window.as_of,
        window: window.days,
        departments,
        hidden,
        privacy_floor: floor,
        can_set_rollout: viewer.role().may(Permission::SetRollout),
        can_import: viewer.role().may(Permission::Import),
        legend,
        page,
    };
    html(&template)
}

pub async fn download(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAdoption)?;
    let (snapshot, dates) = load(&state, &q).await?;
    let private = viewer.role().applies_privacy_floor();
    let alone = alone_by_week(&snapshot, private.then_some(snapshot.settings.privacy_floor));
    let mut w = CsvOut::new(Vec::new());
    let fail = |e: csv::Error| WebError::Internal(e.into());
    w.text_row([
        "department",
        "rollout_date",
        "week_since_rollout",
        "as_of",
        "people",
        "login_rate",
        "deep_rate",
        "deep_rate_base",
        "depth_unmeasurable",
    ])
    .map_err(fail)?;
    for (name, (rollout, _)) in &dates {
        for p in shown_points(&snapshot, &alone, name, *rollout) {
            let fmt = |r: Option<f64>| r.map(|r| format!("{r:.4}")).unwrap_or_default();
            w.row([
                Cell::text(name.as_str()),
                Cell::text(rollout.to_string()),
                Cell::number(p.week.to_string()),
                Cell::text(p.as_of.to_string()),
                Cell::number(p.summary.listed.to_string()),
                Cell::number(fmt(rate(p.summary.login_rate()))),
                Cell::number(fmt(rate(p.summary.deep_rate()))),
                Cell::number(p.summary.measurable_base().to_string()),
                Cell::number(p.summary.coverage.unmeasurable_total().to_string()),
            ])
            .map_err(fail)?;
        }
    }
    let body = w.into_inner()?;
    audit::record(&state.db, viewer.audit_actor(), "adoption.export", None, None).await?;
    let as_of = snapshot.computed.evaluation.window.as_of;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"adoption-{as_of}.csv\"")))
        .body(body))
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RolloutForm {
    department: String,
    /// Empty: back to the date derived from the data.
    date: String,
}

pub async fn set_rollout(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<RolloutForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::SetRollout)?;
    let department = form.department.trim();
    if department.is_empty() {
        return Err(WebError::BadRequest("department".into()));
    }
    let date = match form.date.trim() {
        "" => None,
        d => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| WebError::BadRequest("date".into()))?),
    };
    rollouts::set(&state.db, department, date).await?;
    let detail = date.map(|d| d.to_string()).unwrap_or_else(|| "default".into());
    audit::record(
        &state.db,
        viewer.audit_actor(),
        "rollout.set",
        Some(&format!("department:{department}")),
        Some(&detail),
    )
    .await?;
    Ok(see_other("/adoption"))
}
