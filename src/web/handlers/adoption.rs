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
use crate::app::results;
use crate::csv_out::{Cell, CsvOut};
use crate::domain::account::Permission;
use crate::domain::adoption::{CurvePoint, curve, grace_weeks};
use crate::domain::evaluation::Summary;
use crate::domain::first_run::first_event_day;
use crate::domain::privacy::plan;
use crate::storage::{audit, rollouts};
use crate::web::cache::{Served, Snapshot};
use crate::web::charts::{self, ChartText, Series};
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

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
    /// Previous results shown while new ones are computed: why.
    updating: Option<String>,
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
async fn load(state: &AppState, q: &AsOfQuery) -> Result<(Served, BTreeMap<String, (NaiveDate, bool)>), WebError> {
    let first = state.cache.get(&state.db, q.as_of, q.window).await?;
    let (weeks, dates) = results::adoption_weeks(&state.db, &first).await?;
    let snapshot = state.cache.longer(&state.db, first, weeks).await?;
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
    measurable_from: Option<NaiveDate>,
) -> Vec<CurvePoint> {
    let key = Some(dept.to_string());
    let mut points = department_points(snapshot, dept, rollout);
    // Weeks whose window starts before the retention horizon: not measured.
    points.retain(|p| measurable_from.is_none_or(|d| p.as_of >= d));
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
    if let Some(notice) =
        crate::web::retention::notice(&viewer, &state, ("adoption", "adoption.title"), "/adoption", q.as_of, q.window)
            .await?
    {
        return Ok(notice);
    }
    let (snapshot, dates) = load(&state, &q).await?;
    let measurable_from = crate::app::retention::earliest(
        &state.db,
        snapshot.computed.evaluation.window.days,
        snapshot.settings.timezone,
    )
    .await?;
    let page = Page::new(&viewer, "adoption", "adoption.title");
    let floor = snapshot.settings.privacy_floor;
    let private = viewer.role().applies_privacy_floor();
    let alone = alone_by_week(&snapshot, private.then_some(floor));
    let latest = snapshot.weekly.last();
    let cx = CurveContext {
        page: &page,
        grace: grace_weeks(snapshot.computed.profile.grace_days),
        first_day: first_event_day(&snapshot.computed.data.people, snapshot.settings.timezone),
        may_list: viewer.role().may(Permission::ViewPeople),
        as_of: snapshot.computed.evaluation.window.as_of,
    };
    let mut hidden = 0;
    let mut departments = Vec::new();
    for (name, (rollout, is_default)) in &dates {
        let points = shown_points(&snapshot, &alone, name, *rollout, measurable_from);
        // Today's figures only when the department is shown alone today.
        let now = latest
            .filter(|w| points.last().is_some_and(|p| p.as_of == w.as_of) || alone.is_none())
            .and_then(|w| w.departments.get(&Some(name.clone())));
        if alone.is_some() && points.is_empty() {
            hidden += 1;
            continue;
        }
        departments.push(cx.department(name, *rollout, *is_default, &points, now));
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
        updating: snapshot.note(&page),
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

/// What every department's curve is drawn with.
struct CurveContext<'a> {
    page: &'a Page,
    /// The grace period, in weeks, shaded on each chart.
    grace: usize,
    /// Weeks ending before the first event have no data (a rollout set by
    /// hand may come before it): gaps, not weeks of everyone dormant.
    first_day: Option<NaiveDate>,
    may_list: bool,
    as_of: NaiveDate,
}

impl CurveContext<'_> {
    fn measured(&self, p: &CurvePoint) -> bool {
        self.first_day.is_none_or(|d| p.as_of >= d)
    }

    /// A department's chart, table and today's figures (`now`, when it is
    /// shown alone today).
    fn department(
        &self,
        name: &str,
        rollout: NaiveDate,
        rollout_is_default: bool,
        points: &[CurvePoint],
        now: Option<&Summary>,
    ) -> DepartmentCurve {
        let dash = || "–".to_string();
        let (login_rate, deep_rate, gap) = match now {
            Some(s) => (
                rate(s.login_rate()).map(i18n::percent).unwrap_or_else(dash),
                rate(s.deep_rate()).map(i18n::percent).unwrap_or_else(dash),
                s.gap_points().map(|g| crate::domain::decimal::display_f64(g, 1)).unwrap_or_else(dash),
            ),
            None => (dash(), dash(), dash()),
        };
        DepartmentCurve {
            deep_base: now.map(|s| i18n::integer(i64::from(s.measurable_base()))).unwrap_or_else(dash),
            coverage: now.and_then(|s| crate::web::coverage::note(self.page, s)).map(|n| n.sentence),
            people_href: self
                .may_list
                .then(|| crate::web::query::with_query("/people", &[("department", name.to_string())])),
            name: name.to_string(),
            rollout,
            rollout_is_default,
            people: now.map(|s| i18n::integer(i64::from(s.listed))).unwrap_or_else(dash),
            login_rate,
            deep_rate,
            gap,
            weeks_since: (self.as_of - rollout).num_days().max(0) / 7,
            svg: self.chart(name, points),
            rows: self.rows(points),
        }
    }

    /// The login and deep rates by week since rollout. One value per week;
    /// a week without a point, or without a rate (everyone still in the
    /// grace period), is a gap, as in the table, never a zero.
    fn chart(&self, name: &str, points: &[CurvePoint]) -> String {
        let page = self.page;
        let max_week = points.last().map(|p| p.week).unwrap_or(0).max(0) as usize;
        let labels: Vec<String> = (0..=max_week).map(|w| w.to_string()).collect();
        let mut login = vec![None; max_week + 1];
        let mut deep = vec![None; max_week + 1];
        for p in points {
            if let Ok(i) = usize::try_from(p.week)
                && self.measured(p)
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
        let shade = (self.grace > 0).then(|| (0, self.grace.min(labels.len()), page.t("adoption.grace")));
        charts::line_chart(&text, &labels, &series, true, shade)
    }

    /// The chart's table: week, date, login rate and deep rate.
    fn rows(&self, points: &[CurvePoint]) -> Vec<(String, String, String, String)> {
        let shown = |p: &CurvePoint, r: Option<f64>| {
            r.filter(|_| self.measured(p)).map(i18n::percent).unwrap_or_else(|| "–".into())
        };
        points
            .iter()
            .map(|p| {
                (
                    p.week.to_string(),
                    self.page.date(&p.as_of),
                    shown(p, rate(p.summary.login_rate())),
                    shown(p, rate(p.summary.deep_rate())),
                )
            })
            .collect()
    }
}

pub async fn download(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAdoption)?;
    if let Some(notice) =
        crate::web::retention::notice(&viewer, &state, ("adoption", "adoption.title"), "/adoption", q.as_of, q.window)
            .await?
    {
        return Ok(notice);
    }
    let (snapshot, dates) = load(&state, &q).await?;
    let measurable_from = crate::app::retention::earliest(
        &state.db,
        snapshot.computed.evaluation.window.days,
        snapshot.settings.timezone,
    )
    .await?;
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
        for p in shown_points(&snapshot, &alone, name, *rollout, measurable_from) {
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
