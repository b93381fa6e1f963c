//! The people list (filter, sort, paginate, CSV) and the person page.
//!
//! Everything measured comes from the shared cached snapshot. Directory
//! details (name, e-mail, title, location, free-form attributes) are read in
//! one query and kept until the data version changes (every import changes
//! it); filtering, sorting and paging then happen in memory, so a request
//! costs no query per row even with tens of thousands of people.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::html;
use crate::app::evaluate::Computed;
use crate::app::export::{LEADING_COLUMNS, shown_metrics};
use crate::app::people_list::{Column, Filters, Item, select};
use crate::csv_out::{Cell, CsvOut};
use crate::domain::account::Permission;
use crate::domain::tier::Tier;
use crate::storage::audit;
use crate::storage::directory::Directory;
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::page::Page;
use crate::web::query::{or_dash, parse_as_of, parse_window, set, with_query};
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url;

/// Rows per page of the list.
pub const PAGE_SIZE: usize = 50;
/// Sessions listed on a person page.
pub const RECENT_SESSIONS: usize = 30;

/// Everyone's directory details as of the current data version.
async fn directory_of(state: &AppState) -> Result<Arc<Directory>, WebError> {
    Ok(state.directories.get(&state.db).await?)
}

// ---------------------------------------------------------------------------
// Query parameters.

/// The list's query, as sent: every field text, so that an empty form field
/// means "not set" rather than a bad request.
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    as_of: Option<String>,
    window: Option<String>,
    q: Option<String>,
    tier: Option<String>,
    department: Option<String>,
    attr: Option<String>,
    value: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
}

/// The list's query, checked.
fn parse_filters(q: &ListQuery) -> Result<Filters, WebError> {
    let text = |v: &Option<String>| set(v).unwrap_or_default().to_string();
    Ok(Filters {
        as_of: parse_as_of(&q.as_of)?,
        window: parse_window(&q.window)?,
        q: text(&q.q),
        tier: set(&q.tier).and_then(Tier::parse),
        department: text(&q.department),
        attr: text(&q.attr),
        value: text(&q.value),
        sort: set(&q.sort).and_then(Column::parse).filter(|c| *c != Column::UserId),
        desc: set(&q.dir) == Some("desc"),
        page: set(&q.page).and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1),
    })
}

/// Links to the list.
trait ListLink {
    /// The list with these filters, a sort and a page.
    fn href(&self, path: &str, column: Column, desc: bool, page: usize) -> String;
}

impl ListLink for Filters {
    fn href(&self, path: &str, column: Column, desc: bool, page: usize) -> String {
        with_query(path, &self.params(column, desc, page))
    }
}

/// The person page of a user id, keeping an explicit date and window.
fn person_href(user_id: &str, window_params: &[(&'static str, String)]) -> String {
    with_query(&format!("/people/{}", url::segment(user_id)), window_params)
}

// ---------------------------------------------------------------------------
// The list.

/// A choice of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A column heading with its sort link.
pub struct Head {
    pub label: String,
    pub href: String,
    /// `ascending`, `descending` or empty.
    pub aria_sort: &'static str,
    pub arrow: &'static str,
    /// What following the link does, for screen readers.
    pub hint: String,
    pub numeric: bool,
}

/// A tier with how many matching people are in it, as a quick filter.
pub struct TierChip {
    pub tier: &'static str,
    pub label: String,
    pub count: String,
    pub href: String,
    pub current: bool,
}

pub struct ListRow {
    pub user_id: String,
    pub href: String,
    pub name: String,
    /// Deactivated by directory sync (kept, with their history).
    pub deactivated: bool,
    pub department: String,
    pub tier: &'static str,
    pub tier_label: String,
    pub numbers: Vec<String>,
}

/// A page link; `number` 0 is a gap.
pub struct PageLink {
    pub number: usize,
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    page: Page,
    /// Previous results shown while new ones are computed: why.
    updating: Option<String>,
    /// The viewer may add chosen people to a study.
    can_add: bool,
    as_of: NaiveDate,
    window: u32,
    context: String,
    q: String,
    value: String,
    sort: String,
    dir: String,
    tiers: Vec<Choice>,
    departments: Vec<Choice>,
    attributes: Vec<Choice>,
    chips: Vec<TierChip>,
    all_tiers_href: String,
    all_tiers_current: bool,
    heads: Vec<Head>,
    rows: Vec<ListRow>,
    showing: String,
    pages: Vec<PageLink>,
    prev: Option<String>,
    next: Option<String>,
    csv_href: String,
    csv_label: String,
    clear_href: Option<String>,
    listed: usize,
    can_import: bool,
    /// Who is counted apart because their source cannot measure depth.
    coverage: Option<crate::web::coverage::CoverageNote>,
}

/// Page numbers to show: the first, the last, and two either side of the
/// current one; 0 marks a gap.
fn page_numbers(current: usize, pages: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for n in 1..=pages {
        if n == 1 || n == pages || n.abs_diff(current) <= 2 {
            out.push(n);
        } else if out.last() != Some(&0) {
            out.push(0);
        }
    }
    out
}

fn choices(values: impl IntoIterator<Item = (String, String)>, current: &str) -> Vec<Choice> {
    values.into_iter().map(|(value, label)| Choice { selected: value == current, value, label }).collect()
}

pub async fn list(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewPeople)?;
    let f = parse_filters(&q)?;
    if let Some(notice) =
        crate::web::retention::notice(&viewer, &state, ("people", "people.title"), "/people", f.as_of, f.window).await?
    {
        return Ok(notice);
    }
    let snapshot = state.cache.get(&state.db, f.as_of, f.window).await?;
    let directory = directory_of(&state).await?;
    let page = Page::new(&viewer, "people", "people.title");
    let c = &snapshot.computed;
    let window = &c.evaluation.window;
    let selection = select(&snapshot.computed, &directory, &f);
    let total = selection.items.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let current = f.page.min(pages);
    let column = f.sort_column();
    let window_params = f.window_params();

    let rows = list_rows(&page, &selection.items, current, &window_params);

    let heads = heads(&page, &f, column);

    let without_tier = Filters { tier: None, ..f.clone() };
    let chips = tier_chips(&page, &f, &selection.tier_counts, column);

    let (tiers, departments, attributes) = filter_choices(&page, c, &directory, &f);

    let (showing, page_links) = paging(&page, &f, column, current, total);
    let prev = (current > 1).then(|| f.href("/people", column, f.desc, current - 1));
    let next = (current < pages).then(|| f.href("/people", column, f.desc, current + 1));
    let csv_href = f.href("/people.csv", column, f.desc, 1);
    let csv_label = page.tf("people.download", &[("n", &i18n::integer(total as i64))]);
    let clear_href = f.narrows().then(|| with_query("/people", &window_params));
    let all_tiers_href = without_tier.href("/people", column, f.desc, 1);

    let template = PeoplePage {
        updating: snapshot.note(&page),
        as_of: window.as_of,
        window: window.days,
        context: page.tf(
            "people.context",
            &[
                ("date", &page.date(&window.as_of)),
                ("days", &window.days.to_string()),
                ("profile", &page.t(&format!("profile.{}", c.profile.id.as_str()))),
            ],
        ),
        q: f.q.clone(),
        value: f.value.clone(),
        sort: if column == Column::UserId { String::new() } else { column.key().to_string() },
        dir: if f.desc { "desc".to_string() } else { String::new() },
        tiers,
        departments,
        attributes,
        chips,
        all_tiers_href,
        all_tiers_current: f.tier.is_none(),
        heads,
        rows,
        showing,
        pages: page_links,
        prev,
        next,
        csv_href,
        csv_label,
        clear_href,
        listed: selection.listed,
        coverage: crate::web::coverage::note(&page, &c.evaluation.summary(&c.profile)),
        can_import: viewer.role().may(Permission::Import),
        can_add: viewer.role().may(Permission::RunStudies),
        page,
    };
    html(&template)
}

/// A person's metrics as the pages show them: [`shown_metrics`], with the
/// login depth (a share) as a percentage; downloads keep the ratio.
pub(super) fn shown_on_pages(r: &crate::domain::evaluation::PersonResult) -> [Option<String>; 8] {
    let mut shown = shown_metrics(r);
    if r.aggregated.is_none() {
        shown[4] = Some(r.counters.login_depth().map(|d| i18n::percent(d.to_f64())).unwrap_or_default());
    }
    shown
}

/// The rows of one page of the list.
fn list_rows(
    page: &Page,
    items: &[Item<'_>],
    current: usize,
    window_params: &[(&'static str, String)],
) -> Vec<ListRow> {
    items
        .iter()
        .skip((current - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|item| {
            let shown = shown_on_pages(item.result);
            // Whole numbers get separators; what a source lacks shows as a dash.
            let cell = |i: usize| match &shown[i] {
                Some(v) => v.parse::<i64>().map(i18n::integer).unwrap_or_else(|_| or_dash(v.clone())),
                None => "–".to_string(),
            };
            ListRow {
                user_id: item.person.user_id.clone(),
                href: person_href(&item.person.user_id, window_params),
                name: item.name().unwrap_or_default().to_string(),
                deactivated: item.deactivated_at().is_some(),
                department: item.department().unwrap_or_default().to_string(),
                tier: item.result.tier.as_str(),
                tier_label: page.t(&format!("tier.{}", item.result.tier.as_str())),
                numbers: vec![cell(0), cell(1), cell(2), cell(4), cell(5), cell(6), cell(7)],
            }
        })
        .collect()
}

/// The column heads, each a link that sorts by it.
fn heads(page: &Page, f: &Filters, column: Column) -> Vec<Head> {
    Column::ALL
        .iter()
        .map(|&col| {
            let sorted = col == column;
            // A first click sorts numbers from the largest, text from A.
            let next_desc = if sorted { !f.desc } else { col.numeric() };
            Head {
                label: page.t(&col.label_key()),
                href: f.href("/people", col, next_desc, 1),
                aria_sort: match (sorted, f.desc) {
                    (false, _) => "",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
                arrow: match (sorted, f.desc) {
                    (false, _) => "",
                    (true, false) => "▲",
                    (true, true) => "▼",
                },
                hint: page.t(if next_desc { "people.sort.desc" } else { "people.sort.asc" }),
                numeric: col.numeric(),
            }
        })
        .collect()
}

/// One chip per tier with its count among the people matching the other
/// filters.
fn tier_chips(page: &Page, f: &Filters, counts: &BTreeMap<Tier, usize>, column: Column) -> Vec<TierChip> {
    Tier::ALL
        .iter()
        .map(|t| TierChip {
            tier: t.as_str(),
            label: page.t(&format!("tier.{}", t.as_str())),
            count: i18n::integer(counts.get(t).copied().unwrap_or(0) as i64),
            href: Filters { tier: Some(*t), ..f.clone() }.href("/people", column, f.desc, 1),
            current: f.tier == Some(*t),
        })
        .collect()
}

/// The filter form's choices: tiers, departments, attributes.
fn filter_choices(
    page: &Page,
    c: &Computed,
    directory: &Directory,
    f: &Filters,
) -> (Vec<Choice>, Vec<Choice>, Vec<Choice>) {
    let tiers = choices(
        std::iter::once((String::new(), page.t("people.filter.all_tiers")))
            .chain(Tier::ALL.iter().map(|t| (t.as_str().to_string(), page.t(&format!("tier.{}", t.as_str()))))),
        f.tier.map(|t| t.as_str()).unwrap_or_default(),
    );
    let department_names: BTreeSet<&str> = c
        .evaluation
        .results
        .iter()
        .filter_map(|r| c.data.people[r.person].department.as_deref())
        .filter(|d| !d.trim().is_empty())
        .collect();
    let departments = choices(
        std::iter::once((String::new(), page.t("people.filter.all_departments")))
            .chain(department_names.iter().map(|d| (d.to_string(), d.to_string()))),
        &f.department,
    );
    let mut attribute_names: Vec<(String, String)> = vec![
        (String::new(), page.t("people.filter.choose_attribute")),
        ("title".to_string(), page.t("people.field.title")),
        ("location".to_string(), page.t("people.field.location")),
    ];
    attribute_names.extend(
        directory
            .attribute_names
            .iter()
            .filter(|n| !matches!(n.as_str(), "title" | "location"))
            .map(|n| (n.clone(), n.clone())),
    );
    let attributes = choices(attribute_names, &f.attr);
    (tiers, departments, attributes)
}

/// "Showing 51–100 of 230" and the page links.
fn paging(page: &Page, f: &Filters, column: Column, current: usize, total: usize) -> (String, Vec<PageLink>) {
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let showing = if total == 0 {
        String::new()
    } else {
        let first = (current - 1) * PAGE_SIZE + 1;
        let last = (current * PAGE_SIZE).min(total);
        page.tf(
            "people.showing",
            &[
                ("first", &i18n::integer(first as i64)),
                ("last", &i18n::integer(last as i64)),
                ("total", &i18n::integer(total as i64)),
            ],
        )
    };
    let page_links = if pages > 1 {
        page_numbers(current, pages)
            .into_iter()
            .map(|n| PageLink {
                number: n,
                label: if n == 0 { String::new() } else { page.tf("people.page_n", &[("n", &n.to_string())]) },
                href: if n == 0 { String::new() } else { f.href("/people", column, f.desc, n) },
                current: n == current,
            })
            .collect()
    } else {
        Vec::new()
    };
    (showing, page_links)
}

// ---------------------------------------------------------------------------
// The CSV download.

/// A leading column's cell: the user id and tier are text, the metrics are
/// numbers the app computed.
fn leading_cell(column: &str, item: &Item<'_>) -> Cell<'static> {
    match column {
        "user_id" => Cell::text(item.person.user_id.clone()),
        "tier" => Cell::text(item.result.tier.to_string()),
        other => Cell::number(
            LEADING_COLUMNS[2..]
                .iter()
                .position(|c| *c == other)
                .and_then(|i| shown_metrics(item.result)[i].clone())
                .unwrap_or_default(),
        ),
    }
}

pub async fn download(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewPeople)?;
    let f = parse_filters(&q)?;
    if let Some(notice) =
        crate::web::retention::notice(&viewer, &state, ("people", "people.title"), "/people", f.as_of, f.window).await?
    {
        return Ok(notice);
    }
    let snapshot = state.cache.get(&state.db, f.as_of, f.window).await?;
    let directory = directory_of(&state).await?;
    let selection = select(&snapshot.computed, &directory, &f);
    let as_of = snapshot.computed.evaluation.window.as_of;

    let mut w = CsvOut::new(Vec::new());
    let mut header: Vec<&str> = LEADING_COLUMNS.to_vec();
    header.extend(["department", "name", "email", "title", "location"]);
    w.text_row(&header).map_err(anyhow::Error::from)?;
    for item in &selection.items {
        let mut row: Vec<Cell<'_>> = LEADING_COLUMNS.iter().map(|col| leading_cell(col, item)).collect();
        let text = |v: Option<&str>| Cell::text(v.unwrap_or_default().to_string());
        row.push(text(item.department()));
        row.push(text(item.name()));
        row.push(text(item.email()));
        row.push(text(item.entry.and_then(|e| e.title.as_deref())));
        row.push(text(item.entry.and_then(|e| e.location.as_deref())));
        w.row(row).map_err(anyhow::Error::from)?;
    }
    let body = w.into_inner()?;
    let n = selection.items.len();
    audit::record(
        &state.db,
        viewer.audit_actor(),
        "people.export",
        None,
        Some(&audit::detail("audit.detail.rows", &[("n", n.to_string())])),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"people-{as_of}.csv\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_show_ends_and_neighbours() {
        assert_eq!(page_numbers(1, 1), vec![1]);
        assert_eq!(page_numbers(1, 3), vec![1, 2, 3]);
        assert_eq!(page_numbers(6, 20), vec![1, 0, 4, 5, 6, 7, 8, 0, 20]);
        assert_eq!(page_numbers(1, 20), vec![1, 2, 3, 0, 20]);
        assert_eq!(page_numbers(20, 20), vec![1, 0, 18, 19, 20]);
    }

    #[test]
    fn filters_ignore_empty_fields_and_build_links() {
        let q = ListQuery {
            as_of: Some(String::new()),
            q: Some("  ".into()),
            tier: Some("deep".into()),
            department: Some("R&D".into()),
            sort: Some("messages_sent".into()),
            dir: Some("desc".into()),
            page: Some("0".into()),
            ..ListQuery::default()
        };
        let f = parse_filters(&q).unwrap();
        assert_eq!(f.as_of, None);
        assert_eq!(f.page, 1);
        assert!(f.narrows());
        assert_eq!(
            f.href("/people", Column::MessagesSent, true, 2),
            "/people?tier=deep&department=R%26D&sort=messages_sent&dir=desc&page=2"
        );
        assert!(parse_filters(&ListQuery { as_of: Some("yesterday".into()), ..ListQuery::default() }).is_err());
        assert!(parse_filters(&ListQuery { window: Some("0".into()), ..ListQuery::default() }).is_err());
    }
}
