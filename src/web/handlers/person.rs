//! The person page: one person's metrics for the window, twelve weeks of
//! activity, feature families used and recent sessions. Viewing is audited.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use serde::Deserialize;

use super::html;
use super::people::*;
use crate::app::evaluate::{self, Computed};
use crate::app::person::{self as person_service, PersonRecord};
use crate::domain::account::Permission;
use crate::domain::calendar::{DAY_SECONDS, Window};
use crate::domain::coverage::DepthGap;
use crate::domain::dataset::{Event, Person};
use crate::domain::decimal::{Ratio, display_f64};
use crate::domain::evaluation::PersonResult;
use crate::domain::kind::{Family, KindMap};
use crate::domain::metrics::{Session, sessions_of};
use crate::domain::profile::Profile;
use crate::domain::tier::Tier;
use crate::storage::person_history;
use crate::web::cache::WEEKS;
use crate::web::charts::{self, ChartText, Series};
use crate::web::error::WebError;
use crate::web::i18n;
use crate::web::page::Page;
use crate::web::query::{or_dash, parse_as_of, parse_window, with_query};
use crate::web::session::Viewer;
use crate::web::state::AppState;

/// The as-of date and window of a person page.
#[derive(Deserialize, Default)]
pub struct WindowQuery {
    as_of: Option<String>,
    window: Option<String>,
}

/// A term and its description.
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A chart with its data table (the fields `_chart.html` reads).
pub struct Chart {
    pub svg: String,
    pub legend: String,
    pub columns: Vec<String>,
    pub rows: Vec<ChartRow>,
}

pub struct ChartRow {
    pub label: String,
    pub cells: Vec<String>,
}

pub struct FamilyUse {
    pub label: String,
    pub used: bool,
    /// Used, not used, or not available from this source.
    pub shown: String,
}

pub struct SessionRow {
    /// Machine-readable start, RFC 3339 in the organisation's zone.
    pub iso: String,
    pub start: String,
    pub minutes: String,
    pub engaged: bool,
    pub events: String,
}

use crate::web::url::filters;

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    page: Page,
    user_id: String,
    name: Option<String>,
    context: String,
    back_href: String,
    details: Vec<Fact>,
    attributes: Vec<Fact>,
    tier: &'static str,
    tier_label: String,
    reason: String,
    metrics: Vec<Fact>,
    indicators: Vec<Fact>,
    interactive_chart: Chart,
    sessions_chart: Chart,
    families: Vec<FamilyUse>,
    families_summary: String,
    sessions: Vec<SessionRow>,
    sessions_note: String,
    timezone: String,
    /// The research team's history with the person (None: not shown to
    /// this role).
    history: Option<Vec<HistoryShown>>,
    /// When directory sync deactivated them, in words.
    deactivated: Option<String>,
}

/// One row of a person's outreach history, in words.
pub struct HistoryShown {
    pub date: String,
    pub study: String,
    pub study_href: Option<String>,
    pub what: String,
    pub interview_href: Option<String>,
}

fn history_shown(page: &Page, tz: chrono_tz::Tz, rows: Vec<person_history::HistoryRow>) -> Vec<HistoryShown> {
    rows.into_iter()
        .map(|r| {
            let date = r.at.map(|t| page.instant(t, tz)).unwrap_or_default();
            let state = r.state.clone().unwrap_or_default();
            let round = r.round.unwrap_or_default().to_string();
            let what = match r.what.as_str() {
                "invitation" => page.tf(
                    "person.history.invitation",
                    &[("round", &round), ("state", &page.t(&format!("invitation.status.{state}")))],
                ),
                "booking" => {
                    page.tf("person.history.booking", &[("state", &page.t(&format!("booking.status.{state}")))])
                }
                "survey" => page.tf(
                    &format!("person.history.survey_{state}"),
                    &[("survey", r.detail.as_deref().unwrap_or_default())],
                ),
                "holdout" => page.tf("person.history.holdout", &[("round", &round)]),
                _ => page.t("person.history.opt_out"),
            };
            HistoryShown {
                date,
                study: r.study.clone().unwrap_or_else(|| page.t("person.history.all_studies")),
                study_href: r.study_id.map(|id| format!("/studies/{id}")),
                what,
                interview_href: r.booking_id.map(|id| format!("/interviews/{id}")),
            }
        })
        .collect()
}

/// "half" for 1/2, else a percentage.
fn share_words(page: &Page, r: Ratio) -> String {
    if r.num * 2 == r.den { page.t("people.reason.half") } else { i18n::percent(r.to_f64()) }
}

/// Why a source cannot establish a person's depth, in plain words: "Teams
/// period reports have no day counts".
pub fn gap_words(page: &Page, gap: DepthGap, profile: &Profile) -> String {
    page.tf(&format!("coverage.why.{}", gap.key()), &[("needed", &profile.aggregated.min_feature_breadth.to_string())])
}

/// Why a person is in their tier, in plain words, with the profile's
/// thresholds (spec section 5).
fn tier_reason(page: &Page, r: &PersonResult, profile: &Profile) -> String {
    let c = &r.counters;
    let rule = &profile.deep;
    match r.tier {
        Tier::New => page.tf(
            "people.reason.new",
            &[
                ("date", &r.onboarding.map(|d| page.date(&d)).unwrap_or_default()),
                ("grace", &profile.grace_days.to_string()),
            ],
        ),
        Tier::Dormant => page.t("people.reason.dormant"),
        Tier::Unmeasured => match r.depth_gap {
            Some(gap) => page.tf("people.reason.unmeasured", &[("why", &gap_words(page, gap, profile))]),
            None => page.t("tier.unmeasured"),
        },
        Tier::Silent => page.t("people.reason.silent"),
        Tier::Deep => page.tf(
            "people.reason.deep",
            &[
                ("days", &rule.min_interactive_days.to_string()),
                ("families", &rule.min_feature_breadth.to_string()),
                ("depth", &share_words(page, rule.min_login_depth)),
            ],
        ),
        Tier::Shallow => {
            let mut missing = Vec::new();
            if c.interactive_days < rule.min_interactive_days {
                missing.push(page.tf(
                    "people.reason.short_days",
                    &[("n", &c.interactive_days.to_string()), ("min", &rule.min_interactive_days.to_string())],
                ));
            }
            if c.feature_breadth() < rule.min_feature_breadth {
                missing.push(page.tf(
                    "people.reason.short_families",
                    &[("n", &c.feature_breadth().to_string()), ("min", &rule.min_feature_breadth.to_string())],
                ));
            }
            if c.login_depth().is_none_or(|d| d < rule.min_login_depth) {
                let share = c.login_depth().map(|d| i18n::percent(d.to_f64())).unwrap_or_else(|| "–".into());
                missing.push(page.tf(
                    "people.reason.short_depth",
                    &[("share", &share), ("min", &share_words(page, rule.min_login_depth))],
                ));
            }
            page.tf("people.reason.shallow", &[("missing", &missing.join(&page.t("people.reason.separator")))])
        }
    }
}

/// The person's events that lie in a window, with their sessions.
fn in_window(events: &[Event], w: &Window) -> Vec<Event> {
    events.iter().filter(|e| w.contains(e.ts)).copied().collect()
}

/// Interactive days and sessions in each of the last weeks, oldest first,
/// for the weeks the snapshot's data covers.
fn weekly(events: &[Event], window: &Window, kinds: &KindMap) -> Vec<(NaiveDate, u32, u32)> {
    // The snapshot's data reaches this far back (see `cache`): weeks
    // starting earlier would count missing data as no activity.
    let covered_from = window.start() - i64::from(7 * (WEEKS - 1)) * DAY_SECONDS;
    (0..WEEKS)
        .rev()
        .filter_map(|k| {
            let end = window.as_of.checked_sub_days(Days::new(u64::from(7 * k)))?;
            let week = Window::new(end, 7, window.tz);
            if week.start() < covered_from {
                return None;
            }
            let mut evs = in_window(events, &week);
            let mut days = [false; 7];
            for e in &evs {
                if kinds.class(e.kind).is_interactive()
                    && let Some(d) = week.day_index(e.ts)
                {
                    days[d] = true;
                }
            }
            let interactive_days = days.iter().filter(|d| **d).count() as u32;
            let sessions = sessions_of(&mut evs, kinds).len() as u32;
            Some((end, interactive_days, sessions))
        })
        .collect()
}

/// Weeks ending before the person's first event are gaps, not weeks of
/// nothing (and without any event the chart is an empty state).
fn week_chart(page: &Page, weeks: &[(NaiveDate, u32, u32)], which: usize, first_day: Option<NaiveDate>) -> Chart {
    let (title, desc, name, class) = if which == 0 {
        ("people.chart.interactive.title", "people.chart.interactive.desc", "people.col.interactive_days", "s0")
    } else {
        ("people.chart.sessions.title", "people.chart.sessions.desc", "people.col.sessions", "s1")
    };
    let value =
        |w: &(NaiveDate, u32, u32)| first_day.is_some_and(|d| w.0 >= d).then_some(if which == 0 { w.1 } else { w.2 });
    let categories: Vec<String> = weeks.iter().map(|w| page.short_date(&w.0)).collect();
    let series = [Series {
        name: page.t(name),
        class: class.into(),
        values: weeks.iter().map(|w| value(w).map(f64::from)).collect(),
    }];
    let text = ChartText {
        title: page.t(title),
        desc: page.t(desc),
        x_label: page.t("people.chart.week_ending"),
        y_label: page.t(name),
        empty: page.t("firstrun.chart_empty"),
    };
    Chart {
        svg: charts::line_chart(&text, &categories, &series, false, None),
        legend: String::new(),
        columns: vec![page.t("people.chart.week_ending"), page.t(name)],
        rows: weeks
            .iter()
            .map(|w| ChartRow {
                label: page.date(&w.0),
                cells: vec![value(w).map(|v| i18n::integer(i64::from(v))).unwrap_or_else(|| "–".into())],
            })
            .collect(),
    }
}

impl PersonPage {
    fn erase_path(&self) -> String {
        format!("/people/{}/erase", crate::web::url::segment(&self.user_id))
    }
}

pub async fn show(
    viewer: Viewer,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
    q: web::Query<WindowQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ViewPeople)?;
    let as_of = parse_as_of(&q.as_of)?;
    let window_days = parse_window(&q.window)?;
    if let Some(notice) = retention_notice(&viewer, &state, &user_id, as_of, window_days).await? {
        return Ok(notice);
    }
    let snapshot = state.cache.get(&state.db, as_of, window_days).await?;
    let c = &snapshot.computed;
    // User ids are compared trimmed and lower-cased (spec section 1).
    let wanted = user_id.trim().to_lowercase();
    let Some((index, result)) = c.result_of(&wanted) else {
        return by_identifier(&state, c, &wanted, &q).await;
    };
    let person = &c.data.people[index];
    let db_id = *c.person_ids.get(index).ok_or(WebError::NotFound)?;
    let with_history = viewer.role().may(Permission::RunStudies);
    let record =
        person_service::open(&state.db, (viewer.account.id, &viewer.account.email), db_id, with_history).await?;

    let mut page = Page::new(&viewer, "people", "people.person_title");
    let name = record.entry.name.clone().filter(|n| !n.trim().is_empty());
    page.title = name.clone().unwrap_or_else(|| person.user_id.clone());
    let window = &c.evaluation.window;
    let tz = snapshot.settings.timezone;
    let explicit = explicit_query(as_of, window_days);

    let (details, attributes) = details(&page, person, result, &record);
    let (families, families_summary) = family_use(&page, result);

    // This person's events, for the weekly series and the sessions.
    let events: Vec<Event> = evaluate::person_events(&state.db, c, index).await?;
    let weeks = weekly(&events, window, &c.profile.kinds);
    let first_day = series_from(&state, tz, person.first_event).await?;
    let mut window_events = in_window(&events, window);
    let all_sessions = sessions_of(&mut window_events, &c.profile.kinds);
    let (sessions, sessions_note) = recent_sessions(&page, tz, &all_sessions);

    let template = PersonPage {
        history: record.history.map(|rows| history_shown(&page, tz, rows)),
        deactivated: record
            .entry
            .deactivated_at
            .map(|t| page.tf("scim.deactivated_on", &[("date", &page.instant(t, tz))])),
        user_id: person.user_id.clone(),
        context: page.tf(
            "people.context",
            &[
                ("date", &page.date(&window.as_of)),
                ("days", &window.days.to_string()),
                ("profile", &page.t(&format!("profile.{}", c.profile.id.as_str()))),
            ],
        ),
        back_href: with_query("/people", &explicit),
        details,
        attributes,
        tier: result.tier.as_str(),
        tier_label: page.t(&format!("tier.{}", result.tier.as_str())),
        reason: tier_reason(&page, result, &c.profile),
        metrics: metric_facts(&page, result),
        indicators: indicator_facts(&page, c, result),
        interactive_chart: week_chart(&page, &weeks, 0, first_day),
        sessions_chart: week_chart(&page, &weeks, 1, first_day),
        families,
        families_summary,
        sessions,
        sessions_note,
        timezone: tz.name().to_string(),
        name,
        page,
    };
    html(&template)
}

/// The date and window the page was asked for, to carry back to the list.
fn explicit_query(as_of: Option<NaiveDate>, window_days: Option<u32>) -> Vec<(&'static str, String)> {
    as_of.map(|d| ("as_of", d.to_string())).into_iter().chain(window_days.map(|w| ("window", w.to_string()))).collect()
}

/// The first week end the activity series shows: weeks before the
/// person's first event, or reaching before the retention horizon, are
/// gaps rather than weeks without activity.
async fn series_from(
    state: &AppState,
    tz: chrono_tz::Tz,
    first_event: Option<i64>,
) -> Result<Option<NaiveDate>, WebError> {
    use crate::domain::calendar::local_day;
    let kept = crate::app::retention::deleted_before(&state.db).await?.map(|ts| local_day(tz, ts) + Days::new(6));
    Ok(first_event.map(|ts| local_day(tz, ts).max(kept.unwrap_or(NaiveDate::MIN))))
}

/// What the page says instead of numbers for a window before the retention
/// horizon (None: show the page).
async fn retention_notice(
    viewer: &Viewer,
    state: &AppState,
    user_id: &str,
    as_of: Option<NaiveDate>,
    window: Option<u32>,
) -> Result<Option<HttpResponse>, WebError> {
    let path = format!("/people/{}", crate::web::url::segment(user_id));
    crate::web::retention::notice(viewer, state, ("people", "people.title"), &path, as_of, window).await
}

/// A person asked for by an e-mail or alias: their page is under their
/// user id (keeping the date and window asked for).
async fn by_identifier(
    state: &AppState,
    c: &Computed,
    wanted: &str,
    q: &WindowQuery,
) -> Result<HttpResponse, WebError> {
    match person_service::user_id_of(&state.db, wanted).await? {
        Some(user) if user != wanted && c.result_of(&user).is_some() => {
            let query: Vec<String> = [("as_of", &q.as_of), ("window", &q.window)]
                .iter()
                .filter_map(|(k, v)| v.as_deref().map(|v| format!("{k}={}", crate::web::url::query_value(v))))
                .collect();
            let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
            Ok(super::see_other(&format!("/people/{}{query}", crate::web::url::segment(&user))))
        }
        _ => Err(WebError::NotFound),
    }
}

/// The profile's key indicators for the person.
fn indicator_facts(page: &Page, c: &Computed, result: &PersonResult) -> Vec<Fact> {
    c.profile
        .indicator_keys()
        .iter()
        .zip(c.evaluation.indicators(result, &c.profile))
        .map(|(key, value)| Fact {
            label: page.t(&format!("people.indicator.{key}")),
            // Indicators count events; an export carries none of them.
            value: if result.aggregated.is_some() { page.t("people.not_available") } else { or_dash(value) },
        })
        .collect()
}

/// The person's directory details and free-form attributes.
fn details(page: &Page, person: &Person, result: &PersonResult, record: &PersonRecord) -> (Vec<Fact>, Vec<Fact>) {
    let entry = &record.entry;
    let none = || page.t("people.none");
    let text = |v: Option<&str>| v.filter(|s| !s.trim().is_empty()).map(str::to_string).unwrap_or_else(none);
    let email = entry.email.as_deref().map(|e| e.trim().to_lowercase());
    let known_as: Vec<String> =
        record.known_as.iter().map(|(id, _)| id.clone()).filter(|id| Some(id) != email.as_ref()).collect();
    let mut details = vec![
        Fact { label: page.t("people.col.user_id"), value: person.user_id.clone() },
        Fact { label: page.t("people.field.email"), value: text(entry.email.as_deref()) },
        Fact { label: page.t("people.col.department"), value: text(person.department.as_deref()) },
        Fact { label: page.t("people.field.title"), value: text(entry.title.as_deref()) },
        Fact { label: page.t("people.field.location"), value: text(entry.location.as_deref()) },
        Fact {
            label: page.t("people.field.start_date"),
            value: entry.start_date.or(person.start_date).map(|d| page.date(&d)).unwrap_or_else(none),
        },
        Fact {
            label: page.t("people.field.onboarding"),
            value: result.onboarding.map(|d| page.date(&d)).unwrap_or_else(none),
        },
    ];
    if !known_as.is_empty() {
        details.insert(1, Fact { label: page.t("people.known_as"), value: known_as.join(", ") });
    }
    let attributes =
        entry.attributes.iter().map(|(k, v)| Fact { label: k.clone(), value: or_dash(v.clone()) }).collect();
    (details, attributes)
}

/// The person's metrics, each with what a source cannot measure said so.
fn metric_facts(page: &Page, result: &PersonResult) -> Vec<Fact> {
    let shown = super::people::shown_on_pages(result);
    let labels = [
        "people.col.active_days",
        "people.col.interactive_days",
        "people.col.sessions",
        "people.metric.engaged_sessions",
        "people.col.login_depth",
        "people.col.messages_sent",
        "people.col.feature_breadth",
        "people.col.median_reply_minutes",
    ];
    labels
        .iter()
        .zip(&shown)
        .enumerate()
        .map(|(i, (label, value))| {
            let value = match value {
                None => page.t("people.not_available"),
                Some(v) if i == 6 => page.tf("people.metric.of_five", &[("n", v)]),
                Some(v) => v.parse::<i64>().map(i18n::integer).unwrap_or_else(|_| or_dash(v.clone())),
            };
            // Google Chat counts messages and reactions together.
            let label = match *label {
                "people.col.messages_sent"
                    if result.aggregated.as_ref().is_some_and(|a| a.messages_include_reactions) =>
                {
                    "people.metric.messages_and_reactions"
                }
                other => other,
            };
            Fact { label: page.t(label), value }
        })
        .collect()
}

/// Feature families used, and which ones the person's source can see at all.
fn family_use(page: &Page, result: &PersonResult) -> (Vec<FamilyUse>, String) {
    let m = &result.counters;
    let (used, visible, breadth) = match &result.aggregated {
        Some(a) => (a.families, a.reported_families, a.feature_breadth()),
        None => (m.families, u8::MAX, m.feature_breadth()),
    };
    let families: Vec<FamilyUse> = Family::ALL
        .iter()
        .map(|f| {
            let used = used & f.bit() != 0;
            let shown = match (used, visible & f.bit() != 0) {
                (true, _) => page.t("people.family.used"),
                (false, true) => page.t("people.family.not_used"),
                (false, false) => page.t("people.not_available"),
            };
            FamilyUse { label: page.t(&format!("people.family.{}", f.name())), used, shown }
        })
        .collect();
    let families_summary = page.tf("people.families.summary", &[("n", &breadth.to_string())]);
    (families, families_summary)
}

/// The most recent sessions and a note of how many there are in all.
fn recent_sessions(page: &Page, tz: Tz, all_sessions: &[Session]) -> (Vec<SessionRow>, String) {
    let int = |v: u32| i18n::integer(i64::from(v));
    let sessions: Vec<SessionRow> = all_sessions
        .iter()
        .rev()
        .take(RECENT_SESSIONS)
        .map(|s| {
            let start = chrono::DateTime::from_timestamp(s.start, 0).map(|d| d.with_timezone(&tz));
            SessionRow {
                iso: start.map(|d| d.to_rfc3339()).unwrap_or_default(),
                start: start.map(|d| page.date_time(&d)).unwrap_or_default(),
                minutes: display_f64((s.end - s.start) as f64 / 60.0, 1),
                engaged: s.engaged,
                events: int(s.events),
            }
        })
        .collect();
    let sessions_note = if all_sessions.len() > RECENT_SESSIONS {
        page.tf(
            "people.sessions.some",
            &[("n", &RECENT_SESSIONS.to_string()), ("total", &i18n::integer(all_sessions.len() as i64))],
        )
    } else {
        page.tf("people.sessions.all", &[("total", &i18n::integer(all_sessions.len() as i64))])
    };

    (sessions, sessions_note)
}
