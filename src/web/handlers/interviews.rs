//! The interview workspace (researchers): for a booked or completed
//! interview, the participant's metrics frozen at draw time beside their
//! current ones, the study's guide, and the record: consent, notes, codes,
//! root cause, follow-up and verbatim quotes.
//!
//! Notes are never lost: saves are versioned (a save from an older version
//! is shown beside the newer one, never written over it; a double submit is
//! recognised), the page keeps a draft in the browser and autosaves, and a
//! session that timed out leaves the draft in the browser to save after
//! signing in again.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{html, see_other};
use crate::app::interviews as app_interviews;
use crate::app::settings;
use crate::app::studies::{FrozenFacts, reason_facts};
use crate::domain::account::Permission;
use crate::domain::codebook::Consent;
use crate::domain::state::BookingStatus;
use crate::storage::interviews::{self, Code, Interview, Record, Saved};
use crate::storage::studies::{self, Study};
use crate::storage::{audit, bookings, invitations};
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

pub struct MetricRow {
    pub label: String,
    pub then: String,
    pub now: String,
}

pub struct CodeChoice {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub description: String,
    pub checked: bool,
}

pub struct QuoteRow {
    pub id: i64,
    pub text: String,
    pub shareable: bool,
    pub code: String,
}

/// The values in the form (as saved, or as just submitted).
pub struct FormValues {
    pub consent: String,
    pub consent_on: String,
    pub notes: String,
    pub root_cause: String,
    pub follow_up: String,
    pub version: i64,
}

use crate::web::url::filters;

#[derive(Template)]
#[template(path = "interview.html")]
struct InterviewPage {
    page: Page,
    booking_id: i64,
    study: Study,
    person: String,
    user_id: String,
    when: String,
    status: String,
    metrics: Vec<MetricRow>,
    recent: Option<String>,
    guide: Vec<String>,
    consent_options: Vec<(&'static str, String)>,
    form: FormValues,
    codes: Vec<CodeChoice>,
    quotes: Vec<QuoteRow>,
    saved: bool,
    conflict: Option<FormValues>,
    error: Option<String>,
}

impl InterviewPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/interviews/{}{tail}", self.booking_id))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: Option<String>,
}

fn label(lang: Lang, c: &Code) -> (String, String) {
    match lang {
        Lang::ZhCn => (c.label_zh.clone(), c.description_zh.clone()),
        Lang::En => (c.label_en.clone(), c.description_en.clone()),
    }
}

fn values(i: &Interview) -> FormValues {
    FormValues {
        consent: i.consent.map(Consent::as_str).unwrap_or_default().to_string(),
        consent_on: i.consent_on.clone().unwrap_or_default(),
        notes: i.notes.clone(),
        root_cause: i.root_cause.clone(),
        follow_up: i.follow_up.clone(),
        version: i.version,
    }
}

struct Loaded {
    booking: bookings::Booking,
    invitation: invitations::Invitation,
    study: Study,
    interview: Interview,
}

async fn load(state: &AppState, booking_id: i64) -> Result<Loaded, WebError> {
    let booking = bookings::get(&state.db, booking_id).await?.ok_or(WebError::NotFound)?;
    if booking.status == BookingStatus::Cancelled {
        return Err(WebError::NotFound);
    }
    let invitation = invitations::get(&state.db, booking.invitation_id).await?.ok_or(WebError::NotFound)?;
    let study = studies::get(&state.db, invitation.study_id).await?.ok_or(WebError::NotFound)?;
    let interview = interviews::for_booking(&state.db, booking.id, Utc::now().timestamp()).await?;
    Ok(Loaded { booking, invitation, study, interview })
}

fn show_facts(page: &Page, tier: &str, f: &FrozenFacts) -> Vec<String> {
    let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_else(|| "—".into());
    vec![
        page.t(&format!("tier.{tier}")),
        format!("{} / {}", opt(f.active_days), f.window_days),
        format!("{} / {}", opt(f.interactive_days), f.window_days),
        opt(f.messages_sent),
        f.feature_breadth.to_string(),
        f.login_depth().map(|r| crate::web::i18n::percent(r.to_f64())).unwrap_or_else(|| "—".into()),
    ]
}

/// What the page shows besides the stored interview.
struct View {
    form: FormValues,
    checked: Vec<i64>,
    saved: bool,
    conflict: Option<FormValues>,
    error: Option<String>,
}

async fn render(viewer: &Viewer, state: &AppState, l: Loaded, v: View) -> Result<HttpResponse, WebError> {
    let View { form, checked, saved, conflict, error } = v;
    let page = Page::new(viewer, "calendar", "interview.title");
    let frozen = FrozenFacts::parse(&l.invitation.facts, l.invitation.id)?;
    let snapshot = state.cache.get(&state.db, None, None).await?;
    let c = &snapshot.computed;
    let current = c
        .result_of(&l.invitation.user_id)
        .map(|(_, r)| (r.tier.as_str(), FrozenFacts::of(&reason_facts(r, c.profile.window_days)), r.counters.clone()));
    // Recent activity in the current window (the person page has the detail).
    let recent = current.as_ref().filter(|(_, _, k)| k.sessions > 0).map(|(_, _, k)| {
        page.tf(
            "interview.recent",
            &[
                ("sessions", &k.sessions.to_string()),
                ("days", &c.profile.window_days.to_string()),
                ("engaged", &k.engaged_sessions.to_string()),
            ],
        )
    });
    let then = show_facts(&page, &l.invitation.tier, &frozen);
    let now = current.map(|(tier, f, _)| show_facts(&page, tier, &f)).unwrap_or_else(|| vec!["—".into(); then.len()]);
    let labels = ["tier", "active_days", "interactive_days", "messages", "breadth", "depth"];
    let metrics = labels
        .iter()
        .zip(then.into_iter().zip(now))
        .map(|(k, (then, now))| MetricRow { label: page.t(&format!("interview.metric.{k}")), then, now })
        .collect();
    let tz = settings::load(&state.db).await?.timezone;
    let at = |ts: i64| DateTime::from_timestamp(ts, 0).map(|d| d.with_timezone(&tz));
    let when = match (at(l.booking.starts_at), at(l.booking.ends_at)) {
        (Some(s), Some(e)) => format!("{}–{} ({})", page.date_time(&s), e.format("%H:%M"), tz.name()),
        _ => String::new(),
    };
    let all_codes = interviews::codes(&state.db, l.study.id).await?;
    let code_label = |id: Option<i64>| {
        id.and_then(|id| all_codes.iter().find(|c| c.id == id)).map(|c| label(page.lang, c).0).unwrap_or_default()
    };
    let quotes = interviews::quotes(&state.db, l.interview.id)
        .await?
        .into_iter()
        .map(|q| QuoteRow { id: q.id, code: code_label(q.code_id), text: q.text, shareable: q.shareable != 0 })
        .collect();
    let codes = all_codes
        .iter()
        .filter(|c| c.archived == 0 || checked.contains(&c.id))
        .map(|c| {
            let (label, description) = label(page.lang, c);
            CodeChoice { id: c.id, key: c.key.clone(), label, description, checked: checked.contains(&c.id) }
        })
        .collect();
    let consent_options =
        Consent::ALL.iter().map(|c| (c.as_str(), page.t(&format!("interview.consent.{}", c.as_str())))).collect();
    let guide = l.study.guide.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    let person = l.invitation.name.clone().unwrap_or_else(|| l.invitation.user_id.clone());
    let status = page.t(&format!("booking.status.{}", l.booking.status));
    html(&InterviewPage {
        page,
        booking_id: l.booking.id,
        person,
        user_id: l.invitation.user_id.clone(),
        study: l.study,
        when,
        status,
        metrics,
        recent,
        guide,
        consent_options,
        form,
        codes,
        quotes,
        saved,
        conflict,
        error,
    })
}

pub async fn show(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    q: web::Query<Flags>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let l = load(&state, *id).await?;
    let checked = interviews::codes_of(&state.db, l.interview.id).await?;
    let form = values(&l.interview);
    audit::record_view(
        &state.db,
        (viewer.account.id, &viewer.account.email),
        "interview.view",
        &format!("booking:{}", l.booking.id),
    )
    .await?;
    render(&viewer, &state, l, View { form, checked, saved: q.saved.is_some(), conflict: None, error: None }).await
}

fn read(pairs: &[(String, String)]) -> (Record, i64) {
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let clip = |s: String, n: usize| s.chars().take(n).collect::<String>();
    let consent = Consent::parse(&one("consent"));
    let consent_on =
        chrono::NaiveDate::parse_from_str(one("consent_on").trim(), "%Y-%m-%d").ok().map(|d| d.to_string());
    let record = Record {
        consent,
        consent_on,
        // Line endings as the browser sends them (CRLF) are kept as LF.
        notes: clip(one("notes").replace("\r\n", "\n"), 100_000),
        root_cause: clip(one("root_cause"), 100),
        follow_up: clip(one("follow_up").replace("\r\n", "\n"), 10_000),
        codes: pairs.iter().filter(|(n, _)| n == "code").filter_map(|(_, v)| v.parse().ok()).collect(),
    };
    (record, one("version").parse().unwrap_or(-1))
}

/// Saves the record. An autosave (`X-Autosave: 1`) gets a short JSON answer
/// instead of a page.
pub async fn save(
    viewer: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let l = load(&state, *id).await?;
    let (mut record, version) = read(&body);
    let autosave = req.headers().get("x-autosave").is_some();
    let now = Utc::now().timestamp();
    let outcome =
        app_interviews::save(&state.db, l.study.id, l.interview.id, version, &mut record, viewer.account.id, now)
            .await?;
    match outcome {
        Saved::Saved(v) => {
            if autosave {
                return Ok(HttpResponse::Ok().json(serde_json::json!({ "saved": true, "version": v })));
            }
            Ok(see_other(&format!("/interviews/{}?saved=1", l.booking.id)))
        }
        Saved::Conflict(current) => {
            let (theirs, _) = *current;
            if autosave {
                return Ok(
                    HttpResponse::Conflict().json(serde_json::json!({ "saved": false, "version": theirs.version }))
                );
            }
            // Keep what was typed; show what was saved meanwhile; the next
            // save (from the newer version) wins.
            let mine = FormValues {
                consent: record.consent.map(Consent::as_str).unwrap_or_default().to_string(),
                consent_on: record.consent_on.clone().unwrap_or_default(),
                notes: record.notes.clone(),
                root_cause: record.root_cause.clone(),
                follow_up: record.follow_up.clone(),
                version: theirs.version,
            };
            let error = viewer.lang.catalog().get("interview.conflict").to_string();
            let checked = record.codes.clone();
            let mut resp = render(
                &viewer,
                &state,
                l,
                View { form: mine, checked, saved: false, conflict: Some(values(&theirs)), error: Some(error) },
            )
            .await?;
            *resp.status_mut() = actix_web::http::StatusCode::CONFLICT;
            Ok(resp)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QuoteForm {
    text: String,
    shareable: Option<String>,
    code: String,
}

pub async fn add_quote(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<QuoteForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let l = load(&state, *id).await?;
    let text: String = form.text.trim().replace("\r\n", "\n").chars().take(5000).collect();
    let consented = l.interview.consent.is_some_and(Consent::allows_records);
    let error = if !consented {
        Some("interview.quote_needs_consent")
    } else if text.is_empty() {
        Some("interview.quote_empty")
    } else {
        None
    };
    if let Some(key) = error {
        let checked = interviews::codes_of(&state.db, l.interview.id).await?;
        let form = values(&l.interview);
        let msg = viewer.lang.catalog().get(key).to_string();
        return render(&viewer, &state, l, View { form, checked, saved: false, conflict: None, error: Some(msg) })
            .await;
    }
    let codes = interviews::codes(&state.db, l.study.id).await?;
    let code = form.code.parse::<i64>().ok().filter(|c| codes.iter().any(|k| k.id == *c));
    interviews::add_quote(
        &state.db,
        l.interview.id,
        &text,
        form.shareable.is_some(),
        code,
        viewer.account.id,
        Utc::now().timestamp(),
    )
    .await?;
    Ok(see_other(&format!("/interviews/{}#quotes", l.booking.id)))
}

pub async fn delete_quote(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let l = load(&state, path.0).await?;
    interviews::delete_quote(&state.db, l.interview.id, path.1).await?;
    Ok(see_other(&format!("/interviews/{}#quotes", l.booking.id)))
}
