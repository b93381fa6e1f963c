//! Interviewers: their availability (zone, buffer, notice, weekly hours,
//! one-off windows) and their calendar of upcoming interviews, where they
//! record outcomes or cancel.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::participant::{NO_LINK_BASE, outreach_of};
use super::{html, see_other};
use crate::app::interviewer_calendar::{self, Source};
use crate::app::{participant, settings};
use crate::domain::account::Permission;
use crate::domain::scheduling::parse_hours;
use crate::storage::{availability, bookings, interviewer_feeds};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

pub struct WeeklyRow {
    pub id: i64,
    pub day: String,
    pub hours: String,
}

pub struct OneOffRow {
    pub id: i64,
    pub window: String,
}

#[derive(Template)]
#[template(path = "availability.html")]
struct AvailabilityPage {
    page: Page,
    timezone: &'static str,
    buffer: i64,
    notice: i64,
    weekly: Vec<WeeklyRow>,
    one_off: Vec<OneOffRow>,
    zones: Vec<&'static str>,
    days: Vec<(u8, String)>,
    error: Option<String>,
    configured: bool,
    /// When the private feed was issued (in the interviewer's zone).
    feed_issued: Option<String>,
    /// The feed's URL, shown once right after it is issued.
    feed_url: Option<String>,
    /// The interviewer's own calendar, read for busy times.
    busy_calendar: Option<BusyCalendarRow>,
}

/// What the page shows of a connected calendar.
pub struct BusyCalendarRow {
    pub kind: String,
    pub url: String,
    pub username: String,
    /// The last good read, in the interviewer's zone.
    pub refreshed: Option<String>,
    pub error: Option<String>,
    pub busy_count: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ProfileForm {
    timezone: String,
    buffer_minutes: String,
    min_notice_hours: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WeeklyForm {
    weekday: String,
    hours: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OneOffForm {
    start: String,
    end: String,
}

const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

async fn render(viewer: &Viewer, state: &AppState, error: Option<String>) -> Result<HttpResponse, WebError> {
    render_with_feed(viewer, state, error, None).await
}

async fn render_with_feed(
    viewer: &Viewer,
    state: &AppState,
    error: Option<String>,
    feed_url: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "calendar", "availability.title");
    let id = viewer.account.id;
    let profile = availability::profile(&state.db, id).await?;
    let org_tz = settings::load(&state.db).await?.timezone;
    let tz: Tz = profile.as_ref().and_then(|p| p.timezone.parse().ok()).unwrap_or(org_tz);
    let hm = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    let weekly = availability::weekly(&state.db, id)
        .await?
        .into_iter()
        .map(|w| WeeklyRow {
            id: w.id,
            day: page.t(&format!("day.{}", DAY_KEYS[usize::try_from(w.weekday).unwrap_or(0).min(6)])),
            hours: format!("{}–{}", hm(w.start_minute), hm(w.end_minute)),
        })
        .collect();
    let local = |ts: i64| page.instant(ts, tz);
    let one_off = availability::one_off(&state.db, id)
        .await?
        .into_iter()
        .map(|o| OneOffRow { id: o.id, window: format!("{} – {}", local(o.starts_at), local(o.ends_at)) })
        .collect();
    let feed_issued = interviewer_feeds::issued_at(&state.db, id).await?.map(local);
    let busy_calendar = interviewer_calendar::status(&state.db, id).await?.map(|c| {
        let count = c.busy_count.to_string();
        BusyCalendarRow {
            kind: page.t(if c.kind == "caldav" { "busy_calendar.caldav" } else { "busy_calendar.feed" }),
            url: c.shown,
            username: c.username,
            refreshed: c.refreshed_at.map(local),
            error: c.error,
            busy_count: page.tf("busy_calendar.busy_count", &[("count", count.as_str())]),
        }
    });
    let days = DAY_KEYS.iter().enumerate().map(|(i, k)| (i as u8, page.t(&format!("day.{k}")))).collect();
    html(&AvailabilityPage {
        page,
        timezone: tz.name(),
        buffer: profile.as_ref().map_or(10, |p| p.buffer_minutes),
        notice: profile.as_ref().map_or(12, |p| p.min_notice_minutes / 60),
        configured: profile.is_some(),
        weekly,
        one_off,
        zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        days,
        error,
        feed_issued,
        feed_url,
        busy_calendar,
    })
}

pub async fn page(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    render(&viewer, &state, None).await
}

pub async fn save_profile(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let t = viewer.lang.catalog();
    let tz = form.timezone.trim().parse::<Tz>();
    let buffer = form.buffer_minutes.trim().parse::<i64>().ok().filter(|b| (0..=240).contains(b));
    let notice = form.min_notice_hours.trim().parse::<i64>().ok().filter(|n| (0..=24 * 30).contains(n));
    let (Ok(tz), Some(buffer), Some(notice)) = (tz, buffer, notice) else {
        return render(&viewer, &state, Some(t.get("availability.error.profile").to_string())).await;
    };
    let p = availability::Profile {
        account_id: viewer.account.id,
        timezone: tz.name().into(),
        buffer_minutes: buffer,
        min_notice_minutes: notice * 60,
    };
    availability::save_profile(&state.db, &p).await?;
    Ok(see_other("/availability"))
}

async fn ensure_profile(state: &AppState, account_id: i64) -> Result<(), WebError> {
    if availability::profile(&state.db, account_id).await?.is_none() {
        let tz = settings::load(&state.db).await?.timezone;
        let p = availability::Profile {
            account_id,
            timezone: tz.name().into(),
            buffer_minutes: 10,
            min_notice_minutes: 12 * 60,
        };
        availability::save_profile(&state.db, &p).await?;
    }
    Ok(())
}

pub async fn add_weekly(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<WeeklyForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let day = form.weekday.trim().parse::<i64>().ok().filter(|d| (0..7).contains(d));
    let (Some(day), Ok((start, end))) = (day, parse_hours(&form.hours)) else {
        let msg = parse_hours(&form.hours)
            .err()
            .unwrap_or_else(|| viewer.lang.catalog().get("availability.error.day").to_string());
        return render(&viewer, &state, Some(msg)).await;
    };
    ensure_profile(&state, viewer.account.id).await?;
    let minutes = |t: chrono::NaiveTime| i64::from(chrono::Timelike::num_seconds_from_midnight(&t) / 60);
    availability::add_weekly(&state.db, viewer.account.id, day, minutes(start), minutes(end)).await?;
    Ok(see_other("/availability"))
}

fn parse_local(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok()?;
    crate::domain::calendar::local_instant(tz, naive)
}

pub async fn add_one_off(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<OneOffForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    ensure_profile(&state, viewer.account.id).await?;
    let tz = participant::availability_of(&state.db, viewer.account.id).await?.map_or(chrono_tz::UTC, |a| a.timezone);
    match (parse_local(&form.start, tz), parse_local(&form.end, tz)) {
        (Some(s), Some(e)) if s < e && e - s <= chrono::TimeDelta::days(1) => {
            availability::add_one_off(&state.db, viewer.account.id, s.timestamp(), e.timestamp()).await?;
            Ok(see_other("/availability"))
        }
        _ => render(&viewer, &state, Some(viewer.lang.catalog().get("availability.error.one_off").to_string())).await,
    }
}

pub async fn delete(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let weekly = match path.0.as_str() {
        "weekly" => true,
        "one-off" => false,
        _ => return Err(WebError::NotFound),
    };
    availability::delete(&state.db, viewer.account.id, weekly, path.1).await?;
    Ok(see_other("/availability"))
}

/// Issues a new URL (the old one stops working) and shows it once.
pub async fn issue_feed(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let base = settings::links_base(&state.db, state.base_url.as_deref()).await?.unwrap_or_default();
    let token =
        crate::app::interviewer_feed::issue(&state.db, (viewer.account.id, &viewer.account.email), Utc::now()).await?;
    render_with_feed(&viewer, &state, None, Some(crate::app::interviewer_feed::url(&base, &token))).await
}

pub async fn revoke_feed(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    crate::app::interviewer_feed::revoke(&state.db, (viewer.account.id, &viewer.account.email)).await?;
    Ok(see_other("/availability"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BusyCalendarForm {
    kind: String,
    url: String,
    username: String,
    password: String,
}

/// Connects the interviewer's own calendar (replacing any earlier one) and
/// reads it once; the page then shows the result.
pub async fn connect_busy_calendar(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<BusyCalendarForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let form = form.into_inner();
    let source = match form.kind.as_str() {
        "caldav" => Source::CalDav { url: form.url, username: form.username, password: form.password },
        _ => Source::Feed { url: form.url },
    };
    let account = (viewer.account.id, viewer.account.email.as_str());
    match interviewer_calendar::connect(&state.db, account, source, Utc::now()).await? {
        Ok(()) => Ok(see_other("/availability")),
        Err(refusal) => render(&viewer, &state, Some(viewer.lang.catalog().get(refusal.key()).to_string())).await,
    }
}

pub async fn refresh_busy_calendar(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    interviewer_calendar::refresh(&state.db, viewer.account.id, Utc::now()).await?;
    Ok(see_other("/availability"))
}

pub async fn remove_busy_calendar(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    interviewer_calendar::remove(&state.db, (viewer.account.id, &viewer.account.email)).await?;
    Ok(see_other("/availability"))
}

pub struct EntryRow {
    pub id: i64,
    pub when: String,
    pub study_id: i64,
    pub study: String,
    pub person: String,
    pub tier: String,
    pub department: String,
    pub status: String,
    pub active: bool,
    pub past: bool,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    page: Page,
    entries: Vec<EntryRow>,
    timezone: String,
    everyone: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CalendarQuery {
    all: Option<String>,
}

pub async fn calendar(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<CalendarQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let page = Page::new(&viewer, "calendar", "calendar.title");
    let tz = match participant::availability_of(&state.db, viewer.account.id).await? {
        Some(a) => a.timezone,
        None => settings::load(&state.db).await?.timezone,
    };
    let everyone = q.all.is_some();
    let now = Utc::now().timestamp();
    let who = (!everyone).then_some(viewer.account.id);
    let entries = bookings::calendar(&state.db, who, now - 7 * 86_400)
        .await?
        .into_iter()
        .map(|e| {
            let fmt = |ts: i64| {
                DateTime::from_timestamp(ts, 0)
                    .map(|d| crate::web::i18n::day_and_time(page.lang, &d.with_timezone(&tz)))
                    .unwrap_or_default()
            };
            EntryRow {
                id: e.id,
                when: format!(
                    "{}–{}",
                    fmt(e.starts_at),
                    DateTime::from_timestamp(e.ends_at, 0)
                        .map(|d| d.with_timezone(&tz).format("%H:%M").to_string())
                        .unwrap_or_default()
                ),
                study_id: e.study_id,
                study: e.study_title,
                person: e.name.unwrap_or(e.user_id),
                tier: page.t(&format!("tier.{}", e.tier)),
                department: e.department.unwrap_or_default(),
                status: page.t(&format!("booking.status.{}", e.status)),
                active: e.status.is_active(),
                past: e.starts_at <= now,
            }
        })
        .collect();
    html(&CalendarPage { page, entries, timezone: tz.name().to_string(), everyone })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OutcomeForm {
    outcome: String,
}

pub async fn outcome(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<OutcomeForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    if !participant::set_outcome(&state.db, *id, &form.outcome, "interviewer", Utc::now()).await? {
        return Err(WebError::BadRequest("that outcome cannot be recorded for this booking".into()));
    }
    Ok(see_other("/calendar"))
}

pub async fn cancel(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let out = outreach_of(&state).await?.ok_or_else(|| WebError::BadRequest(NO_LINK_BASE.into()))?;
    participant::cancel(&state.db, &out, None, *id, "interviewer", None, Utc::now())
        .await?
        .map_err(|r| WebError::BadRequest(r.key().into()))?;
    state.wake_outbox();
    Ok(see_other("/calendar"))
}
