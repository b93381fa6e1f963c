//! The participant's pages behind an invitation link: no account, a long
//! random token in the path (only its hash is stored), CSRF by a cookie
//! token like the sign-in form. The link stops working when the study
//! closes. Times are shown in the participant's zone, which they can pick.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::{html, see_other};
use crate::app::outreach::Outreach;
use crate::app::participant::{self, Refusal, Slot};
use crate::app::settings;
use crate::domain::scheduling;
use crate::domain::state::InvitationStatus;
use crate::domain::study::Language;
use crate::storage::bookings::{self, Booking};
use crate::storage::directory;
use crate::storage::invitations::{self, Invitation};
use crate::storage::studies::Study;
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::page::Page;
use crate::web::session::Anonymous;
use crate::web::state::AppState;
use crate::web::url::{self, filters};

/// One day of free slots, in the participant's zone.
pub struct Day {
    pub label: String,
    /// The day in a few characters, for the day strip.
    pub short: String,
    pub slots: Vec<SlotChoice>,
}

pub struct SlotChoice {
    pub value: String,
    pub label: String,
}

/// A study as the people it invites see it.
struct Face {
    title: String,
    description: String,
    interview_minutes: i64,
    consent: String,
}

impl Face {
    fn of(study: &Study) -> Face {
        let lang = Language::parse(&study.language).unwrap_or(Language::En);
        Face {
            title: crate::domain::study::participant_title(&study.participant_title, lang),
            description: study.participant_description.clone(),
            interview_minutes: study.interview_minutes,
            consent: study.consent.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "participant.html")]
struct ParticipantPage {
    page: Page,
    token: String,
    /// What the study shows invited people (never its internal title or
    /// goal, which the page is not given).
    face: Face,
    /// Where and with whom: for the booking, or the study's place before one.
    place: Option<String>,
    interviewer: Option<String>,
    name: String,
    status: InvitationStatus,
    timezone: &'static str,
    zones: Vec<&'static str>,
    booking: Option<String>,
    can_reschedule: bool,
    can_cancel: bool,
    days: Vec<Day>,
    done: Option<String>,
    error: Option<String>,
}

impl ParticipantPage {
    /// A form action under this participant's link, with the CSRF token.
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/i/{}{tail}", url::segment(&self.token)))
    }
}

impl OptOutPage {
    fn act(&self) -> String {
        self.page.action(&self.action)
    }
}

#[derive(Template)]
#[template(path = "participant_opt_out.html")]
struct OptOutPage {
    page: Page,
    /// Where the opt-out form posts: `/i/TOKEN/opt-out` or `/o/TOKEN`.
    action: String,
    /// Back to the invitation, when the visitor came from it.
    back: Option<String>,
    study_title: String,
    done: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct View {
    tz: Option<String>,
    done: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SlotForm {
    slot: String,
    tz: String,
    /// The consent checkbox ("yes" when ticked).
    consent: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReasonForm {
    reason: String,
}

/// The language of a page for participants: the one the visitor chose,
/// else the one their browser asks for (Accept-Language), else the
/// study's.
pub fn lang_for(anon: &Anonymous, study: &Study) -> Lang {
    if anon.chose_language || anon.browser_language {
        anon.lang
    } else if Language::parse(&study.language) == Some(Language::ZhCn) {
        Lang::ZhCn
    } else {
        Lang::En
    }
}

fn page(anon: &Anonymous, study: &Study, title_key: &str) -> Page {
    let anon = Anonymous { lang: lang_for(anon, study), ..anon.clone() };
    Page::anonymous(&anon, title_key)
}

fn respond(anon: &Anonymous, state: &AppState, body: Result<HttpResponse, WebError>) -> Result<HttpResponse, WebError> {
    let mut r = body?;
    if let Some(c) = anon.cookie(state.secure_cookies) {
        r.add_cookie(&c).map_err(|e| WebError::Internal(e.into()))?;
    }
    // The page holds the participant's token: keep it out of caches and
    // out of the Referer of any link followed from it.
    r.headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The outreach configuration, with links' base from `public_url` or the
/// address the server was configured with, never from a request's headers
/// (a client's `Host` or `X-Forwarded-Host` must not decide where the
/// links in e-mails point); `None` when neither is known.
pub async fn outreach_of(state: &AppState) -> Result<Option<Outreach>, WebError> {
    let Some(base) = settings::links_base(&state.db, state.base_url.as_deref()).await? else { return Ok(None) };
    Ok(Some(settings::outreach(&state.db, &base).await?.0))
}

/// The outreach configuration for a change that must happen even when no
/// address is known for links (opting out): links then point nowhere
/// (`about:invalid`) rather than at an address a request chose.
async fn outreach_or_none(state: &AppState) -> Result<Outreach, WebError> {
    match outreach_of(state).await? {
        Some(o) => Ok(o),
        None => Ok(settings::outreach(&state.db, "about:invalid").await?.0),
    }
}

/// The refusal to send when links' address is unknown, in words.
pub const NO_LINK_BASE: &str =
    "no address is known for the links in e-mails: set public_url (or UNDERCURRENT_PUBLIC_URL), then send again";

async fn lookup(state: &AppState, token: &str) -> Result<(Invitation, Study), WebError> {
    participant::find(&state.db, token).await?.ok_or(WebError::NotFound)
}

/// The invitation behind a form posted from the page: a person's action,
/// so the page counts as opened.
async fn lookup_acting(state: &AppState, token: &str) -> Result<(Invitation, Study), WebError> {
    let found = lookup(state, token).await?;
    invitations::mark_opened(&state.db, found.0.id, Utc::now().timestamp()).await?;
    Ok(found)
}

fn parse_tz(s: Option<&str>) -> Option<Tz> {
    s.map(str::trim).filter(|s| !s.is_empty()).and_then(|s| s.parse::<Tz>().ok())
}

/// The zone to show: the one asked for, else the booking's, else the
/// directory's `timezone` attribute, else the organisation's.
async fn zone(
    state: &AppState,
    inv: &Invitation,
    asked: Option<&str>,
    booking: Option<&Booking>,
) -> Result<Tz, WebError> {
    if let Some(tz) = parse_tz(asked) {
        return Ok(tz);
    }
    if let Some(tz) = booking.and_then(|b| b.participant_timezone.parse::<Tz>().ok()) {
        return Ok(tz);
    }
    if let Some(e) = directory::get(&state.db, inv.person_id).await?
        && let Some(tz) = parse_tz(e.attributes.get("timezone").or(e.attributes.get("time_zone")).map(String::as_str))
    {
        return Ok(tz);
    }
    Ok(settings::load(&state.db).await?.timezone)
}

fn when(lang: Lang, b: &Booking, tz: Tz) -> String {
    let language = if lang == Lang::ZhCn { Language::ZhCn } else { Language::En };
    let at = |ts| DateTime::from_timestamp(ts, 0).unwrap_or_default();
    crate::app::messages::when(language, at(b.starts_at), at(b.ends_at), tz)
}

fn days(lang: Lang, slots: &[Slot], tz: Tz) -> Vec<Day> {
    let mut out: Vec<Day> = Vec::new();
    let mut last = None;
    for s in slots {
        let local = s.start.with_timezone(&tz);
        let date = local.date_naive();
        if last != Some(date) {
            last = Some(date);
            let label = match lang {
                Lang::En => local.format("%A %-d %B %Y").to_string(),
                Lang::ZhCn => {
                    format!("{} {}", local.format("%Y年%-m月%-d日"), crate::app::messages::zh_weekday(local.weekday()))
                }
            };
            let short = match lang {
                Lang::En => local.format("%a %-d %b").to_string(),
                Lang::ZhCn => {
                    format!("{} {}", local.format("%-m月%-d日"), crate::app::messages::zh_weekday(local.weekday()))
                }
            };
            out.push(Day { label, short, slots: Vec::new() });
        }
        if let Some(day) = out.last_mut() {
            day.slots.push(SlotChoice {
                value: format!("{}:{}", s.interviewer_id, s.start.timestamp()),
                label: local.format("%H:%M").to_string(),
            });
        }
    }
    out
}

async fn render(
    anon: &Anonymous,
    state: &AppState,
    token: &str,
    asked_tz: Option<&str>,
    done: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let (inv, study) = lookup(state, token).await?;
    let now = Utc::now();
    let active = bookings::for_invitation(&state.db, inv.id).await?.into_iter().find(Booking::is_active);
    let tz = zone(state, &inv, asked_tz, active.as_ref()).await?;
    let page = page(anon, &study, "participant.title");
    let policy = participant::policy_of(&study);
    let reschedules = u32::try_from(inv.reschedules).unwrap_or(u32::MAX);
    let at = |ts| DateTime::from_timestamp(ts, 0).unwrap_or_default();
    let can_reschedule = active
        .as_ref()
        .is_some_and(|b| scheduling::may_reschedule(&policy, true, reschedules, at(b.starts_at), now).is_ok());
    let can_cancel = active.as_ref().is_some_and(|b| scheduling::may_cancel(true, at(b.starts_at), now).is_ok());
    let open_to_book = inv.status.may_become(InvitationStatus::Booked);
    let days = if open_to_book || can_reschedule {
        days(page.lang, &participant::free_slots(&state.db, &study, now, participant::horizon(&inv, now)).await?, tz)
    } else {
        Vec::new()
    };
    let name = inv.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_default();
    let booking = active.as_ref().map(|b| when(page.lang, b, tz));
    let (place, interviewer) = match &active {
        Some(b) => {
            let host = crate::storage::accounts::get(&state.db, b.interviewer_id).await?;
            let place =
                participant::place_of(&state.db, &study, b.interviewer_id).await?.map(|p| p.for_booking(&b.uid));
            (place, host.map(|h| if h.name.trim().is_empty() { h.email } else { h.name }))
        }
        None => (study.place(), None),
    };
    // Before a booking, only how (a video address may still be a template).
    let place = place.map(|p| match &active {
        Some(_) => page.tf(&format!("place.{}", p.kind.as_str()), &[("detail", &p.detail)]),
        None => page.t(&format!("place.kind.{}", p.kind.as_str())),
    });
    html(&ParticipantPage {
        page,
        token: token.to_string(),
        status: inv.status,
        face: Face::of(&study),
        place,
        interviewer,
        name,
        timezone: tz.name(),
        zones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
        booking,
        can_reschedule,
        can_cancel,
        days,
        done,
        error,
    })
}

pub async fn show(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    q: web::Query<View>,
) -> Result<HttpResponse, WebError> {
    let (inv, _) = lookup(&state, &token).await?;
    // "Opened" counts a person using the page, not a mail scanner fetching
    // the link: the zone form (which adds `tz`) or any form posted.
    if q.tz.is_some() {
        invitations::mark_opened(&state.db, inv.id, Utc::now().timestamp()).await?;
    }
    let done = q.done.as_deref().filter(|d| DONE.contains(d)).map(|d| format!("participant.done.{d}"));
    let body = render(&anon, &state, &token, q.tz.as_deref(), done, None).await;
    respond(&anon, &state, body)
}

const DONE: [&str; 4] = ["booked", "rescheduled", "cancelled", "declined"];

fn parse_slot(value: &str) -> Option<(i64, DateTime<Utc>)> {
    let (who, ts) = value.split_once(':')?;
    Some((who.parse().ok()?, DateTime::from_timestamp(ts.parse().ok()?, 0)?))
}

fn back(token: &str, tz: &str, done: &str) -> HttpResponse {
    let tz: String = tz.chars().filter(|c| c.is_ascii_alphanumeric() || "/_-+".contains(*c)).collect();
    let (token, tz, done) = (url::segment(token), url::query_value(&tz), url::query_value(done));
    if done.is_empty() {
        return see_other(&format!("/i/{token}?tz={tz}"));
    }
    see_other(&format!("/i/{token}?tz={tz}&done={done}"))
}

async fn refused(
    anon: &Anonymous,
    state: &AppState,
    token: &str,
    tz: &str,
    r: Refusal,
) -> Result<HttpResponse, WebError> {
    let body = render(anon, state, token, Some(tz), None, Some(r.key().to_string())).await;
    respond(
        anon,
        state,
        body.map(|mut resp| {
            *resp.status_mut() = actix_web::http::StatusCode::CONFLICT;
            resp
        }),
    )
}

pub async fn book(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<SlotForm>,
) -> Result<HttpResponse, WebError> {
    let (inv, study) = lookup_acting(&state, &token).await?;
    let Some((interviewer, start)) = parse_slot(&form.slot) else {
        return refused(&anon, &state, &token, &form.tz, Refusal::Slot(scheduling::SlotRefusal::OutsideAvailability))
            .await;
    };
    let tz = parse_tz(Some(&form.tz)).unwrap_or(chrono_tz::UTC);
    let Some(out) = outreach_of(&state).await? else {
        return refused(&anon, &state, &token, &form.tz, Refusal::MailUnavailable).await;
    };
    let current = bookings::for_invitation(&state.db, inv.id).await?.into_iter().find(Booking::is_active);
    if current.as_ref().is_some_and(|b| b.interviewer_id == interviewer && b.starts_at == start.timestamp()) {
        // The same booking form posted again: nothing changes; show it.
        return Ok(back(&token, tz.name(), ""));
    }
    let active = current.is_some();
    // A study that asks for consent has it accepted before a first booking.
    if !active && !study.consent.trim().is_empty() && form.consent.trim().is_empty() {
        let error = Some("participant.error.consent".to_string());
        return respond(&anon, &state, render(&anon, &state, &token, Some(&form.tz), None, error).await);
    }
    let result = if active {
        participant::reschedule(&state.db, &out, &token, &inv, &study, interviewer, start, tz, Utc::now()).await?
    } else {
        participant::book(&state.db, &out, &token, &inv, &study, interviewer, start, tz, Utc::now()).await?
    };
    state.wake_outbox();
    match result {
        Ok(_) => Ok(back(&token, tz.name(), if active { "rescheduled" } else { "booked" })),
        Err(r) => refused(&anon, &state, &token, &form.tz, r).await,
    }
}

pub async fn cancel(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<SlotForm>,
) -> Result<HttpResponse, WebError> {
    let (inv, _) = lookup_acting(&state, &token).await?;
    let Some(out) = outreach_of(&state).await? else {
        return refused(&anon, &state, &token, &form.tz, Refusal::MailUnavailable).await;
    };
    let Some(b) = bookings::for_invitation(&state.db, inv.id).await?.into_iter().find(Booking::is_active) else {
        return refused(&anon, &state, &token, &form.tz, Refusal::NotBooked).await;
    };
    let result = participant::cancel(&state.db, &out, Some(&token), b.id, "participant", None, Utc::now()).await?;
    state.wake_outbox();
    match result {
        Ok(()) => Ok(back(&token, &form.tz, "cancelled")),
        Err(r) => refused(&anon, &state, &token, &form.tz, r).await,
    }
}

fn reason(form: &ReasonForm) -> Option<String> {
    let r: String = form.reason.trim().chars().take(1000).collect();
    (!r.is_empty()).then_some(r)
}

pub async fn decline(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, WebError> {
    let (inv, _) = lookup_acting(&state, &token).await?;
    let Some(out) = outreach_of(&state).await? else {
        return refused(&anon, &state, &token, "", Refusal::MailUnavailable).await;
    };
    let result = participant::decline(&state.db, &out, &token, &inv, reason(&form).as_deref(), Utc::now()).await?;
    state.wake_outbox();
    match result {
        Ok(()) => Ok(back(&token, "", "declined")),
        Err(r) => refused(&anon, &state, &token, "", r).await,
    }
}

/// The opt-out page: asking, or confirming it was done.
fn opt_out_page(
    anon: &Anonymous,
    state: &AppState,
    study: Study,
    action: String,
    back: Option<String>,
    done: bool,
) -> Result<HttpResponse, WebError> {
    let page = page(anon, &study, "participant.opt_out.title");
    let body = html(&OptOutPage { page, action, back, study_title: Face::of(&study).title, done });
    respond(anon, state, body)
}

pub async fn opt_out_form(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (inv, study) = lookup(&state, &token).await?;
    let back = Some(format!("/i/{}", url::segment(&token)));
    opt_out_page(
        &anon,
        &state,
        study,
        format!("/i/{}/opt-out", url::segment(&token)),
        back,
        inv.status == InvitationStatus::OptedOut,
    )
}

pub async fn opt_out(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, WebError> {
    let (inv, study) = lookup_acting(&state, &token).await?;
    // Opting out never waits for mail: without links' address the booking
    // is still cancelled, its messages carry no links.
    let out = outreach_or_none(&state).await?;
    participant::opt_out(&state.db, &out, Some(&token), &inv, reason(&form).as_deref(), Utc::now()).await?;
    state.wake_outbox();
    opt_out_page(&anon, &state, study, format!("/i/{token}/opt-out"), Some(format!("/i/{token}")), true)
}

/// The opt-out link in every message (`/o/TOKEN`): a token that can do
/// nothing else, valid as long as the person exists.
async fn opt_out_target(state: &AppState, token: &str) -> Result<(Invitation, Study), WebError> {
    if !crate::app::secrets::looks_like_token(token) {
        return Err(WebError::NotFound);
    }
    let inv = invitations::by_opt_out_hash(&state.db, &crate::app::secrets::token_hash(token))
        .await?
        .ok_or(WebError::NotFound)?;
    let study = crate::storage::studies::get(&state.db, inv.study_id).await?.ok_or(WebError::NotFound)?;
    Ok((inv, study))
}

pub async fn opt_out_link(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let (inv, study) = opt_out_target(&state, &token).await?;
    opt_out_page(&anon, &state, study, format!("/o/{token}"), None, inv.status == InvitationStatus::OptedOut)
}

pub async fn opt_out_by_link(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, WebError> {
    let (inv, study) = opt_out_target(&state, &token).await?;
    let out = outreach_or_none(&state).await?;
    // The same as from the booking page: an active booking is cancelled too.
    participant::opt_out(&state.db, &out, None, &inv, reason(&form).as_deref(), Utc::now()).await?;
    state.wake_outbox();
    opt_out_page(&anon, &state, study, format!("/o/{token}"), None, true)
}
