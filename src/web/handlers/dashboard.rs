//! The overview: the gap between login rate and deep rate, stated first,
//! then the tier distribution, the tier mix week by week, daily activity,
//! feature breadth, the profile's key indicators, and departments.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::html;
use crate::app::evaluate::Computed;
use crate::app::first_run;
use crate::domain::account::Permission;
use crate::domain::activity_series::breadth_distribution;
use crate::domain::calendar::Window;
use crate::domain::evaluation::Summary;
use crate::domain::first_run::{Holdings, Step, first_event_day};
use crate::domain::privacy::{Group, apply_floor};
use crate::domain::profile::is_share;
use crate::domain::tier::Tier;
use crate::web::cache::Snapshot;
use crate::web::charts::{self, ChartText, Series};
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::page::Page;
use crate::web::query::with_query;
use crate::web::retention;
use crate::web::session::Viewer;
use crate::web::state::AppState;

#[derive(Deserialize, Default)]
pub struct AsOfQuery {
    pub as_of: Option<NaiveDate>,
    pub window: Option<u32>,
}

/// A row of a table: a label and shown values.
pub struct Row {
    pub label: String,
    pub cells: Vec<String>,
    /// Where the row leads (the people list filtered to it), if anywhere.
    pub href: Option<String>,
}

/// A chart with its data table for screen readers and keyboard users.
pub struct Chart {
    pub svg: String,
    pub legend: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

pub struct Headline {
    pub login_rate: String,
    pub deep_rate: String,
    pub gap: String,
    pub sentence: String,
    pub base: String,
    /// People behind the deep rate and the gap (fewer than `base` when some
    /// people's depth is not measurable from their source).
    pub deep_base: String,
    pub coverage: Option<crate::web::coverage::CoverageNote>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    page: Page,
    /// Previous results shown while new ones are computed: why.
    updating: Option<String>,
    as_of: NaiveDate,
    window: u32,
    profile: String,
    headline: Option<Headline>,
    tiers: Chart,
    weekly: Chart,
    daily: Chart,
    breadth: Chart,
    dau: String,
    wau: String,
    mau: String,
    stickiness: String,
    indicators: Vec<Row>,
    departments: Vec<Row>,
    department_columns: Vec<String>,
    hidden_groups: usize,
    privacy_floor: u32,
    /// The organisation's name, when set.
    organisation: Option<String>,
    /// Why the overview has nothing to show, when it has not.
    empty: Option<Empty>,
    /// The first run's steps, until all are done or dismissed.
    checklist: Vec<ChecklistItem>,
    may_dismiss: bool,
}

impl DashboardPage {
    /// Without activity there is no department to compare (an empty
    /// table would only repeat the notice).
    fn shows_departments(&self) -> bool {
        !matches!(self.empty, Some(Empty::NoActivity { .. }))
    }
}

/// Why the overview shows no figures: three different situations, each with
/// its own next step.
pub enum Empty {
    /// Nothing imported yet; the imports page for roles that may import.
    NoActivity { import_href: Option<String> },
    /// The group is smaller than the privacy floor.
    BelowFloor,
    /// Data exists, but no one is measured on this date (before the data,
    /// or everyone still in the grace period).
    NothingOnDate,
}

impl Empty {
    /// The situation's name, as the page marks it.
    pub fn kind(&self) -> &'static str {
        match self {
            Empty::NoActivity { .. } => "no-activity",
            Empty::BelowFloor => "below-floor",
            Empty::NothingOnDate => "nothing-on-date",
        }
    }

    pub fn import_href(&self) -> Option<&str> {
        match self {
            Empty::NoActivity { import_href } => import_href.as_deref(),
            _ => None,
        }
    }
}

/// One step of the first-run checklist.
pub struct ChecklistItem {
    pub id: &'static str,
    pub title: String,
    pub unlocks: String,
    /// Where to do it, for roles that may.
    pub href: Option<String>,
    pub done: bool,
}

/// The checklist as this role reads it: every step, with a link where the
/// role may take it.
fn checklist_items(page: &Page, role: crate::domain::account::Role, h: &Holdings) -> Vec<ChecklistItem> {
    h.steps()
        .into_iter()
        .map(|(step, done)| {
            let (href, permission) = match step {
                Step::Directory => ("/imports#people-title", Permission::Import),
                Step::Activity => ("/imports#events-title", Permission::Import),
                Step::Teammates => ("/accounts", Permission::ManageAccounts),
                Step::Study => ("/studies/new", Permission::RunStudies),
            };
            ChecklistItem {
                id: step.as_str(),
                title: page.t(&format!("firstrun.step.{}", step.as_str())),
                unlocks: page.t(&format!("firstrun.unlocks.{}", step.as_str())),
                href: role.may(permission).then(|| href.to_string()),
                done,
            }
        })
        .collect()
}

/// Whether a role takes part in setting the install up (and so sees the
/// checklist).
fn sets_up(role: crate::domain::account::Role) -> bool {
    [Permission::Import, Permission::ManageAccounts, Permission::RunStudies].into_iter().any(|p| role.may(p))
}

/// A department's summary as a privacy-floor group.
struct DeptGroup(String, Summary);

impl Group for DeptGroup {
    fn size(&self) -> u32 {
        self.1.listed
    }

    fn absorb(&mut self, other: Self) {
        let (a, b) = (&mut self.1, other.1);
        a.listed += b.listed;
        a.base += b.base;
        a.logged_in += b.logged_in;
        a.deep += b.deep;
        a.coverage.absorb(b.coverage);
        for (tier, n) in b.tier_counts {
            *a.tier_counts.entry(tier).or_default() += n;
        }
        a.indicators.clear();
    }
}

fn share(r: Option<crate::domain::decimal::Ratio>) -> String {
    r.map(|r| i18n::percent(r.to_f64())).unwrap_or_else(|| "–".into())
}

fn tier_classes() -> Vec<String> {
    Tier::ALL.iter().map(|t| format!("tier-{}", t.as_str())).collect()
}

/// The departments table (people, tier mix, login and deep rates): its
/// columns, rows, and how many groups the privacy floor merged away (only
/// when `private`).
pub fn department_table(page: &Page, c: &Computed, private: bool, floor: u32) -> (Vec<String>, Vec<Row>, usize) {
    let (groups, hidden_groups) = department_summaries(page, c, private, floor);
    let (columns, rows) = department_row_cells(page, &groups);
    (columns, rows, hidden_groups)
}

/// The departments table's columns and rows for these summaries.
pub fn department_row_cells(page: &Page, groups: &[(String, Summary)]) -> (Vec<String>, Vec<Row>) {
    let rows: Vec<Row> = groups.iter().map(|(label, s)| department_row(label.clone(), s)).collect();
    let mut columns = vec![page.t("dashboard.department"), page.t("chart.people")];
    columns.extend(Tier::ALL.iter().map(|t| page.t(&format!("tier.{}", t.as_str()))));
    columns.push(page.t("dashboard.login_rate"));
    columns.push(page.t("dashboard.deep_rate"));
    columns.push(page.t("coverage.deep_base"));
    (columns, rows)
}

/// Each department's summary as a reader may see it (the departments the
/// floor merges last, as "Other groups"), and how many were merged.
pub fn department_summaries(page: &Page, c: &Computed, private: bool, floor: u32) -> (Vec<(String, Summary)>, usize) {
    let groups: Vec<DeptGroup> = c
        .evaluation
        .by_department(&c.data, &c.profile)
        .into_iter()
        .map(|(d, s)| (d.map(str::to_string).unwrap_or_else(|| page.t("dashboard.no_department")), s))
        .map(|(d, s)| DeptGroup(d, s))
        .collect();
    let (kept, other, hidden_groups) = if private { apply_floor(groups, floor) } else { (groups, None, 0) };
    let mut out: Vec<(String, Summary)> = kept.into_iter().map(|g| (g.0, g.1)).collect();
    if let Some(o) = other {
        out.push((page.t("dashboard.other_groups"), o.1));
    }
    (out, hidden_groups)
}

fn department_row(label: String, s: &Summary) -> Row {
    let mut cells = vec![i18n::integer(i64::from(s.listed))];
    cells.extend(Tier::ALL.iter().map(|t| i18n::integer(i64::from(s.tier_counts.get(t).copied().unwrap_or(0)))));
    cells.push(share(s.login_rate()));
    cells.push(share(s.deep_rate()));
    // The deep rate's n: fewer than the people past their grace period when
    // some people's depth is not measurable from their source.
    cells.push(i18n::integer(i64::from(s.measurable_base())));
    Row { label, cells, href: None }
}

pub async fn show(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<AsOfQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewAggregates)?;
    let notice = retention::notice(&viewer, &state, ("dashboard", "dashboard.title"), "/", q.as_of, q.window);
    if let Some(notice) = notice.await? {
        return Ok(notice);
    }
    let snapshot = state.cache.get(&state.db, q.as_of, q.window).await?;
    let overview = first_run::overview(&state.db, sets_up(viewer.role())).await?;
    let page = Page::new(&viewer, "dashboard", "dashboard.title");
    let c = &snapshot.computed;
    let window = &c.evaluation.window;
    let summary = c.evaluation.summary(&c.profile);
    let floor = snapshot.settings.privacy_floor;
    let private = viewer.role().applies_privacy_floor();
    let visible = !private || summary.listed >= floor;
    let first_day = first_event_day(&c.data.people, snapshot.settings.timezone);
    // A date before the first event: everyone would read as dormant.
    let before_data = first_day.is_some_and(|d| window.as_of < d);
    let may_import = viewer.role().may(Permission::Import);
    let (empty, blank) = empty_state(&page, may_import, &overview.holdings, &summary, visible, floor, before_data);
    let checklist = overview.checklist.map(|h| checklist_items(&page, viewer.role(), &h)).unwrap_or_default();
    let tier_names: Vec<String> = Tier::ALL.iter().map(|t| page.t(&format!("tier.{}", t.as_str()))).collect();

    let headline = empty.is_none().then(|| headline_of(&page, &summary, window));
    let links = PeopleLinks::new(&viewer, &q);
    let tiers = tier_chart(&page, &summary, visible, &tier_names, blank.as_deref(), &links);
    // Weeks whose window starts before the retention horizon are gaps too.
    let measurable_from = crate::app::retention::earliest(&state.db, window.days, snapshot.settings.timezone).await?;
    let from = first_day.max(measurable_from);
    let weekly = weekly_chart(&page, &snapshot, &tier_names, private.then_some(floor), from, blank.as_deref());

    // Daily active people, DAU / WAU / MAU.
    let daily_counts = &snapshot.daily_active;
    let daily = daily_chart(&page, daily_counts, window, visible, first_day, blank.as_deref());
    let dau = *daily_counts.last().unwrap_or(&0);
    let (wau, mau) = (snapshot.weekly_active, snapshot.monthly_active);
    let figures = visible && blank.is_none();
    let hide = |n: u32| if figures { i18n::integer(i64::from(n)) } else { "–".into() };
    let stickiness = if figures && mau > 0 { i18n::percent(f64::from(dau) / f64::from(mau)) } else { "–".into() };

    let breadth = breadth_chart(&page, c, visible, blank.as_deref());

    let indicators = if figures { indicator_rows(&page, c, &summary) } else { Vec::new() };

    let (department_columns, departments, hidden_groups) = linked_departments(&page, c, private, floor, &links);

    let template = DashboardPage {
        updating: snapshot.note(&page),
        as_of: window.as_of,
        window: window.days,
        profile: page.t(&format!("profile.{}", c.profile.id.as_str())),
        headline,
        tiers,
        weekly,
        daily,
        breadth,
        dau: hide(dau),
        wau: hide(wau),
        mau: hide(mau),
        stickiness,
        indicators,
        departments,
        department_columns,
        hidden_groups,
        privacy_floor: floor,
        organisation: overview.organisation,
        empty,
        checklist,
        may_dismiss: viewer.role().may(Permission::ChangeSettings),
        page,
    };
    html(&template)
}

/// The department table, each named department linking to its people.
fn linked_departments(
    page: &Page,
    c: &Computed,
    private: bool,
    floor: u32,
    links: &PeopleLinks,
) -> (Vec<String>, Vec<Row>, usize) {
    let (columns, mut departments, hidden_groups) = department_table(page, c, private, floor);
    let unfiltered = [page.t("dashboard.no_department"), page.t("dashboard.other_groups")];
    for row in departments.iter_mut().filter(|r| !unfiltered.contains(&r.label)) {
        row.href = links.href("department", &row.label);
    }
    (columns, departments, hidden_groups)
}

/// Why the overview has nothing to show, if so, and what its empty charts
/// say then: no activity at all, a group too small, or a date before the
/// data.
fn empty_state(
    page: &Page,
    may_import: bool,
    holdings: &Holdings,
    summary: &Summary,
    visible: bool,
    floor: u32,
    before_data: bool,
) -> (Option<Empty>, Option<String>) {
    let empty = if !holdings.has_activity() {
        Some(Empty::NoActivity { import_href: may_import.then(|| "/imports".to_string()) })
    } else if !visible {
        Some(Empty::BelowFloor)
    } else if summary.base == 0 || before_data {
        Some(Empty::NothingOnDate)
    } else {
        None
    };
    let blank = match &empty {
        Some(Empty::NoActivity { .. }) => Some(page.t("firstrun.no_activity")),
        Some(Empty::BelowFloor) => Some(page.tf("firstrun.below_floor", &[("floor", &floor.to_string())])),
        Some(Empty::NothingOnDate) if before_data => Some(page.t("firstrun.chart_empty")),
        _ => None,
    };
    (empty, blank)
}

/// Links to the people list filtered to a tier or a department, for roles
/// that may see people, keeping an explicit date and window.
struct PeopleLinks {
    may_list: bool,
    explicit: Vec<(&'static str, String)>,
}

impl PeopleLinks {
    fn new(viewer: &Viewer, q: &AsOfQuery) -> PeopleLinks {
        let explicit = q
            .as_of
            .map(|d| ("as_of", d.to_string()))
            .into_iter()
            .chain(q.window.map(|w| ("window", w.to_string())))
            .collect();
        PeopleLinks { may_list: viewer.role().may(Permission::ViewPeople), explicit }
    }

    fn href(&self, key: &'static str, value: &str) -> Option<String> {
        let mut params = vec![(key, value.to_string())];
        params.extend(self.explicit.iter().cloned());
        self.may_list.then(|| with_query("/people", &params))
    }
}

/// The tier distribution, each bar leading to the people list of its tier.
fn tier_chart(
    page: &Page,
    summary: &Summary,
    visible: bool,
    tier_names: &[String],
    blank: Option<&str>,
    links: &PeopleLinks,
) -> Chart {
    let counts: Vec<f64> =
        Tier::ALL.iter().map(|t| if visible { f64::from(summary.tier_counts[t]) } else { 0.0 }).collect();
    let text = ChartText {
        title: page.t("chart.tiers.title"),
        desc: page.t("chart.tiers.desc"),
        x_label: page.t("chart.tier"),
        y_label: page.t("chart.people"),
        empty: blank.map(str::to_string).unwrap_or_default(),
    };
    let tier_links: Vec<Option<String>> = Tier::ALL.iter().map(|t| links.href("tier", t.as_str())).collect();
    Chart {
        svg: charts::bar_chart_linked(
            &text,
            if blank.is_some() { &[] } else { tier_names },
            &counts,
            &tier_classes(),
            &|v| i18n::integer(v.round() as i64),
            &tier_links,
        ),
        legend: String::new(),
        columns: vec![page.t("chart.tier"), page.t("chart.people")],
        rows: tier_names
            .iter()
            .take(if blank.is_some() { 0 } else { tier_names.len() })
            .zip(&counts)
            .zip(&tier_links)
            .map(|((n, v), href)| Row { label: n.clone(), cells: vec![i18n::integer(*v as i64)], href: href.clone() })
            .collect(),
    }
}

/// The headline: the login and deep rates, the gap and the sentence that
/// reads them (for the measured people only, when some are not).
fn headline_of(page: &Page, summary: &Summary, window: &Window) -> Headline {
    let login = share(summary.login_rate());
    let deep = share(summary.deep_rate());
    let gap = summary.gap_points().map(|g| crate::domain::decimal::display_f64(g, 1));
    let sentence = match &gap {
        // Nobody's depth is measurable: no deep rate, no gap, only the
        // login rate and the coverage note.
        None if summary.partial_coverage() => {
            page.tf("dashboard.headline_unmeasured", &[("login", &login), ("days", &window.days.to_string())])
        }
        // Some people's depth is not measurable: the sentence speaks of
        // the measured people only, and names how many they are.
        _ if summary.partial_coverage() => page.tf(
            "dashboard.headline_partial",
            &[
                ("n", &i18n::integer(i64::from(summary.measurable_base()))),
                ("login", &share(summary.measurable_login_rate())),
                ("deep", &deep),
                ("gap", gap.as_deref().unwrap_or_default()),
                ("days", &window.days.to_string()),
            ],
        ),
        _ => page.tf(
            "dashboard.headline",
            &[
                ("login", &share(summary.measurable_login_rate())),
                ("deep", &deep),
                ("gap", gap.as_deref().unwrap_or_default()),
                ("days", &window.days.to_string()),
            ],
        ),
    };
    Headline {
        login_rate: login,
        deep_rate: deep,
        gap: gap.unwrap_or_else(|| "–".into()),
        sentence,
        base: i18n::integer(i64::from(summary.base)),
        deep_base: i18n::integer(i64::from(summary.measurable_base())),
        coverage: crate::web::coverage::note(page, summary),
    }
}

/// The tier mix week by week (shares of listed people); with a manager's
/// `floor`, each week under it by its own size.
///
/// Weeks ending before the first event have no data: they are gaps, not
/// weeks of everyone dormant.
fn weekly_chart(
    page: &Page,
    snapshot: &Snapshot,
    tier_names: &[String],
    floor: Option<u32>,
    first_day: Option<NaiveDate>,
    blank: Option<&str>,
) -> Chart {
    let shown = |w: &crate::web::cache::WeekPoint| {
        blank.is_none() && floor.is_none_or(|f| w.overall.listed >= f) && first_day.is_none_or(|d| w.as_of >= d)
    };
    let weeks: Vec<String> = snapshot.weekly.iter().map(|w| page.short_date(&w.as_of)).collect();
    let series: Vec<Series> = Tier::ALL
        .iter()
        .zip(tier_names)
        .map(|(t, name)| Series {
            name: name.clone(),
            class: format!("tier-{}", t.as_str()),
            values: snapshot.weekly.iter().map(|w| shown(w).then(|| f64::from(w.overall.tier_counts[t]))).collect(),
        })
        .collect();
    let text = ChartText {
        title: page.t("chart.weekly.title"),
        desc: page.t("chart.weekly.desc"),
        x_label: page.t("chart.week_ending"),
        y_label: page.t("chart.share"),
        empty: blank.map(str::to_string).unwrap_or_else(|| page.t("firstrun.chart_empty")),
    };
    Chart {
        svg: charts::stacked_bars(&text, &weeks, &series, true),
        // No legend for an empty state: there is nothing to tell apart.
        legend: match blank {
            Some(_) => String::new(),
            None => charts::legend(&series.iter().map(|s| (s.name.clone(), s.class.clone())).collect::<Vec<_>>()),
        },
        columns: std::iter::once(page.t("chart.week_ending")).chain(tier_names.iter().cloned()).collect(),
        rows: snapshot
            .weekly
            .iter()
            .map(|w| Row {
                label: page.date(&w.as_of),
                cells: Tier::ALL
                    .iter()
                    .map(|t| if shown(w) { i18n::integer(i64::from(w.overall.tier_counts[t])) } else { "–".into() })
                    .collect(),
                href: None,
            })
            .collect(),
    }
}

/// People active on each day of the window.
/// Days before the first event are gaps.
fn daily_chart(
    page: &Page,
    daily_counts: &[u32],
    window: &Window,
    visible: bool,
    first_day: Option<NaiveDate>,
    blank: Option<&str>,
) -> Chart {
    let dates: Vec<NaiveDate> =
        (0..window.days).map(|i| window.first_day() + chrono::Days::new(u64::from(i))).collect();
    let days: Vec<String> = dates.iter().map(|d| page.short_date(d)).collect();
    let text = ChartText {
        title: page.t("chart.daily.title"),
        desc: page.t("chart.daily.desc"),
        x_label: page.t("chart.day"),
        y_label: page.t("chart.people"),
        empty: blank.map(str::to_string).unwrap_or_else(|| page.t("firstrun.chart_empty")),
    };
    let values: Vec<Option<f64>> = daily_counts
        .iter()
        .zip(&dates)
        .map(|(&n, d)| (visible && blank.is_none() && first_day.is_none_or(|f| *d >= f)).then(|| f64::from(n)))
        .collect();
    let daily_series = [Series { name: page.t("chart.active_people"), class: "s0".into(), values: values.clone() }];
    Chart {
        svg: charts::line_chart(&text, &days, &daily_series, false, None),
        legend: String::new(),
        columns: vec![page.t("chart.day"), page.t("chart.active_people")],
        rows: days
            .iter()
            .zip(&values)
            .map(|(d, v)| Row {
                label: d.clone(),
                cells: vec![v.map(|v| i18n::integer(v as i64)).unwrap_or_else(|| "–".into())],
                href: None,
            })
            .collect(),
    }
}

/// People by the number of feature families they used.
fn breadth_chart(page: &Page, c: &Computed, visible: bool, blank: Option<&str>) -> Chart {
    let breadth_counts = breadth_distribution(c.evaluation.results.iter());
    let labels: Vec<String> = (0..=5).map(|n| n.to_string()).collect();
    let values: Vec<f64> = breadth_counts.iter().map(|&n| if visible { f64::from(n) } else { 0.0 }).collect();
    let text = ChartText {
        title: page.t("chart.breadth.title"),
        desc: page.t("chart.breadth.desc"),
        x_label: page.t("chart.families"),
        y_label: page.t("chart.people"),
        empty: blank.map(str::to_string).unwrap_or_default(),
    };
    Chart {
        svg: charts::bar_chart(
            &text,
            if blank.is_some() { &[] } else { &labels },
            &values,
            &vec!["s0".to_string(); 6],
            &|v| i18n::integer(v.round() as i64),
        ),
        legend: String::new(),
        columns: vec![page.t("chart.families"), page.t("chart.people")],
        rows: labels
            .iter()
            .take(if blank.is_some() { 0 } else { labels.len() })
            .zip(&values)
            .map(|(l, v)| Row { label: l.clone(), cells: vec![i18n::integer(*v as i64)], href: None })
            .collect(),
    }
}

/// The profile's key indicators; where nobody is measured by events, an
/// empty one is not available from the sources, not merely without data.
fn indicator_rows(page: &Page, c: &Computed, summary: &Summary) -> Vec<Row> {
    let by_events = c.evaluation.results.iter().any(|r| r.tier != Tier::New && r.aggregated.is_none());
    summary
        .indicators
        .iter()
        .map(|i| {
            let shown = match i.value.parse::<f64>() {
                _ if i.value.is_empty() && !by_events => page.t("people.not_available"),
                _ if i.value.is_empty() => "–".to_string(),
                Ok(share) if is_share(i.key) => i18n::percent(share),
                _ => i.value.clone(),
            };
            Row { label: page.t(&format!("indicator.{}", i.key)), cells: vec![shown], href: None }
        })
        .collect()
}
