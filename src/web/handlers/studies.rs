//! Studies (researchers): the list, a new study from a scenario template,
//! editing, the study page (rounds, funnel by tier, bookings, outbox) and
//! closing. Rounds have their own file.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::{html, see_other};
use crate::app::settings;
use crate::app::studies::{rules_json, rules_of, target_json, target_of};
use crate::domain::account::Permission;
use crate::domain::meeting::{Place, PlaceError, PlaceKind};
use crate::domain::profile::ProfileId;
use crate::domain::sampling::{ContactRules, Target};
use crate::domain::state::InvitationStatus;
use crate::domain::study::{self, INVITATION_PLACEHOLDERS, Language};
use crate::domain::tier::Tier;
use crate::storage::CorruptJson;
use crate::storage::studies::{self, Study, StudyFields};
use crate::storage::{accounts, audit, bookings, invitations, outbox};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

pub struct StudyRow {
    pub id: i64,
    pub title: String,
    pub open: bool,
    pub scenario: String,
    pub invited: usize,
    pub booked: usize,
    pub completed: usize,
}

#[derive(Template)]
#[template(path = "studies.html")]
struct ListPage {
    page: Page,
    studies: Vec<StudyRow>,
    scenarios: Vec<(&'static str, String)>,
}

/// The study form's values.
pub struct Form {
    pub title: String,
    pub goal: String,
    pub participant_title: String,
    pub participant_description: String,
    pub meeting_kind: String,
    pub meeting_detail: String,
    pub scenario: String,
    pub language: String,
    pub interview_minutes: String,
    pub invitation_subject: String,
    pub invitation_body: String,
    pub consent: String,
    pub guide: String,
    pub tiers: BTreeSet<String>,
    pub departments: BTreeSet<String>,
    pub attributes: String,
    pub min_days: String,
    pub per_week: String,
    pub per_year: String,
    pub no_show: bool,
    pub round_size: String,
    pub allocation: String,
    pub recurrence_days: String,
    pub auto_send: bool,
    pub max_reschedules: String,
    pub change_notice_hours: String,
    pub interviewers: BTreeSet<i64>,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "study_form.html")]
struct FormPage {
    page: Page,
    action: String,
    form: Form,
    errors: Vec<String>,
    scenarios: Vec<(&'static str, String)>,
    tiers: Vec<Choice>,
    departments: Vec<Choice>,
    researchers: Vec<Choice>,
    placeholders: String,
}

impl FormPage {
    /// The kinds of meeting place, by stored name.
    fn place_kinds(&self) -> Vec<&'static str> {
        PlaceKind::ALL.iter().map(|k| k.as_str()).collect()
    }
}

fn scenarios(page: &Page) -> Vec<(&'static str, String)> {
    ProfileId::ALL.iter().map(|p| (p.as_str(), page.t(&format!("profile.{}", p.as_str())))).collect()
}

fn tier_choices(page: &Page) -> Vec<Choice> {
    Tier::ALL
        .iter()
        .map(|t| Choice { value: t.as_str().into(), label: page.t(&format!("tier.{}", t.as_str())), checked: false })
        .collect()
}

async fn researchers(state: &AppState) -> Result<Vec<Choice>, WebError> {
    Ok(accounts::list(&state.db)
        .await?
        .into_iter()
        .filter(|a| !a.disabled && a.role.may(Permission::RunStudies))
        .map(|a| Choice {
            value: a.id.to_string(),
            label: if a.name.is_empty() { a.email } else { format!("{} <{}>", a.name, a.email) },
            checked: false,
        })
        .collect())
}

async fn departments(state: &AppState) -> Result<Vec<String>, WebError> {
    Ok(studies::departments(&state.db).await?)
}

pub async fn list(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let page = Page::new(&viewer, "studies", "studies.title");
    let mut rows = Vec::new();
    for s in studies::list(&state.db).await? {
        let invs = invitations::for_study(&state.db, s.id).await?;
        let count = |f: &dyn Fn(InvitationStatus) -> bool| invs.iter().filter(|i| f(i.status)).count();
        rows.push(StudyRow {
            id: s.id,
            open: s.is_open(),
            scenario: page.t(&format!("profile.{}", s.scenario)),
            invited: invs.iter().filter(|i| i.invited_at.is_some()).count(),
            booked: count(&InvitationStatus::holds_or_held_a_booking),
            completed: count(&|st| st == InvitationStatus::Completed),
            title: s.title,
        });
    }
    let scenarios = scenarios(&page);
    html(&ListPage { page, studies: rows, scenarios })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewQuery {
    scenario: String,
    language: String,
}

fn form_of_template(scenario: ProfileId, lang: Language, me: i64) -> Form {
    let t = study::template(scenario, lang);
    let rules = ContactRules::default();
    Form {
        title: t.title,
        goal: t.goal,
        participant_title: t.participant_title,
        participant_description: t.participant_description,
        meeting_kind: String::new(),
        meeting_detail: String::new(),
        scenario: scenario.as_str().into(),
        language: lang.as_str().into(),
        interview_minutes: t.interview_minutes.to_string(),
        invitation_subject: t.invitation_subject,
        invitation_body: t.invitation_body,
        consent: t.consent,
        guide: t.guide.join("\n"),
        tiers: Target::default().tiers.iter().map(|t| t.as_str().to_string()).collect(),
        departments: BTreeSet::new(),
        attributes: String::new(),
        min_days: rules.min_days_between_contacts.to_string(),
        per_week: rules.max_invitations_per_week.to_string(),
        per_year: rules.max_interviews_per_year.to_string(),
        no_show: rules.exclude_after_no_show,
        round_size: "5".into(),
        allocation: "proportional".into(),
        recurrence_days: String::new(),
        auto_send: false,
        max_reschedules: "2".into(),
        change_notice_hours: "12".into(),
        interviewers: BTreeSet::from([me]),
    }
}

fn form_of_study(s: &Study, interviewers: Vec<i64>) -> Result<Form, CorruptJson> {
    let target = target_of(s)?;
    let rules = rules_of(s)?;
    Ok(Form {
        title: s.title.clone(),
        goal: s.goal.clone(),
        participant_title: s.participant_title.clone(),
        participant_description: s.participant_description.clone(),
        meeting_kind: s.meeting_kind.clone(),
        meeting_detail: s.meeting_detail.clone(),
        scenario: s.scenario.clone(),
        language: s.language.clone(),
        interview_minutes: s.interview_minutes.to_string(),
        invitation_subject: s.invitation_subject.clone(),
        invitation_body: s.invitation_body.clone(),
        consent: s.consent.clone(),
        guide: s.guide.clone(),
        tiers: target.tiers.iter().map(|t| t.as_str().to_string()).collect(),
        departments: target.departments.unwrap_or_default(),
        attributes: target.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("\n"),
        min_days: rules.min_days_between_contacts.to_string(),
        per_week: rules.max_invitations_per_week.to_string(),
        per_year: rules.max_interviews_per_year.to_string(),
        no_show: rules.exclude_after_no_show,
        round_size: s.round_size.to_string(),
        allocation: s.allocation.clone(),
        recurrence_days: s.recurrence_days.map(|d| d.to_string()).unwrap_or_default(),
        auto_send: s.auto_send != 0,
        max_reschedules: s.max_reschedules.to_string(),
        change_notice_hours: s.change_notice_hours.to_string(),
        interviewers: interviewers.into_iter().collect(),
    })
}

async fn render_form(
    viewer: &Viewer,
    state: &AppState,
    action: String,
    form: Form,
    errors: Vec<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "studies", "studies.form_title");
    let scenarios = scenarios(&page);
    let mut tiers = tier_choices(&page);
    for t in &mut tiers {
        t.checked = form.tiers.contains(&t.value);
    }
    let mut researchers = researchers(state).await?;
    for r in &mut researchers {
        r.checked = r.value.parse().is_ok_and(|id: i64| form.interviewers.contains(&id));
    }
    let departments = departments(state)
        .await?
        .into_iter()
        .map(|d| Choice { checked: form.departments.contains(&d), label: d.clone(), value: d })
        .collect();
    html(&FormPage {
        page,
        action,
        form,
        errors,
        scenarios,
        tiers,
        departments,
        researchers,
        placeholders: INVITATION_PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(" "),
    })
}

pub async fn new_form(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let scenario = ProfileId::parse(&q.scenario).unwrap_or(ProfileId::InternalCollaboration);
    let lang = Language::parse(&q.language).unwrap_or(if viewer.lang == crate::web::i18n::Lang::ZhCn {
        Language::ZhCn
    } else {
        Language::En
    });
    let form = form_of_template(scenario, lang, viewer.account.id);
    render_form(&viewer, &state, "/studies".into(), form, Vec::new()).await
}

fn read_form(pairs: &[(String, String)]) -> Form {
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let many = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.clone()).collect::<BTreeSet<_>>();
    Form {
        title: one("title"),
        goal: one("goal"),
        participant_title: one("participant_title"),
        participant_description: one("participant_description"),
        meeting_kind: one("meeting_kind"),
        meeting_detail: one("meeting_detail"),
        scenario: one("scenario"),
        language: one("language"),
        interview_minutes: one("interview_minutes"),
        invitation_subject: one("invitation_subject"),
        invitation_body: one("invitation_body"),
        consent: one("consent"),
        guide: one("guide"),
        tiers: many("tier"),
        departments: many("department"),
        attributes: one("attributes"),
        min_days: one("min_days"),
        per_week: one("per_week"),
        per_year: one("per_year"),
        no_show: !one("no_show").is_empty(),
        round_size: one("round_size"),
        allocation: one("allocation"),
        recurrence_days: one("recurrence_days"),
        auto_send: !one("auto_send").is_empty(),
        max_reschedules: one("max_reschedules"),
        change_notice_hours: one("change_notice_hours"),
        interviewers: many("interviewer").iter().filter_map(|v| v.parse().ok()).collect(),
    }
}

/// Why a meeting place cannot be saved, in words.
pub fn place_error(page: &Page, e: &PlaceError) -> String {
    page.t(match e {
        PlaceError::UnknownKind => "place.error.kind",
        PlaceError::NotAnAddress => "place.error.address",
        PlaceError::Missing => "place.error.missing",
    })
}

/// The form's numbers, each within its bounds (an error said for each
/// that is not, then its minimum).
struct Numbers {
    minutes: i64,
    min_days: i64,
    per_week: i64,
    per_year: i64,
    size: i64,
    max_reschedules: i64,
    notice: i64,
    recurrence: Option<i64>,
}

fn numbers(page: &Page, f: &Form, errors: &mut Vec<String>) -> Numbers {
    let mut number = |value: &str, key: &str, min: i64, max: i64| -> i64 {
        match value.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => n,
            _ => {
                errors.push(page.tf(
                    "studies.error.number",
                    &[("field", &page.t(key)), ("min", &min.to_string()), ("max", &max.to_string())],
                ));
                min
            }
        }
    };
    Numbers {
        minutes: number(&f.interview_minutes, "studies.interview_minutes", 5, 480),
        min_days: number(&f.min_days, "studies.rule.min_days", 0, 3650),
        per_week: number(&f.per_week, "studies.rule.per_week", 1, 50),
        per_year: number(&f.per_year, "studies.rule.per_year", 1, 365),
        size: number(&f.round_size, "studies.round_size", 1, 10_000),
        max_reschedules: number(&f.max_reschedules, "studies.max_reschedules", 0, 20),
        notice: number(&f.change_notice_hours, "studies.change_notice_hours", 0, 24 * 14),
        recurrence: if f.recurrence_days.trim().is_empty() {
            None
        } else {
            Some(number(&f.recurrence_days, "studies.recurrence_days", 1, 366))
        },
    }
}

/// The target's attributes, one `key = value` a line (an error said for
/// each line that is not).
fn attributes(page: &Page, text: &str, errors: &mut Vec<String>) -> Vec<(String, String)> {
    let mut attributes = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => attributes.push((k.trim().to_string(), v.trim().to_string())),
            _ => errors.push(page.tf("studies.error.attribute", &[("line", line)])),
        }
    }
    attributes
}

/// Checks the form; the fields to store, or what is wrong in words.
fn validate(page: &Page, f: &Form, allowed_interviewers: &[i64]) -> Result<StudyFields, Vec<String>> {
    let mut errors = Vec::new();
    let n = numbers(page, f, &mut errors);
    if f.title.trim().is_empty() {
        errors.push(page.t("studies.error.title"));
    }
    let tiers: BTreeSet<Tier> = f.tiers.iter().filter_map(|t| Tier::parse(t)).collect();
    if tiers.is_empty() {
        errors.push(page.t("studies.error.tiers"));
    }
    let scenario = ProfileId::parse(&f.scenario);
    if scenario.is_none() {
        errors.push(page.t("studies.error.scenario"));
    }
    let language = Language::parse(&f.language);
    if language.is_none() {
        errors.push(page.t("studies.error.language"));
    }
    for text in [&f.invitation_subject, &f.invitation_body] {
        for p in study::unknown_placeholders(text, INVITATION_PLACEHOLDERS) {
            errors.push(page.tf("studies.error.placeholder", &[("name", &p)]));
        }
    }
    if !f.invitation_body.contains("{link}") {
        errors.push(page.t("studies.error.link"));
    }
    let attributes = attributes(page, &f.attributes, &mut errors);
    if f.interviewers.is_empty() || !f.interviewers.iter().all(|i| allowed_interviewers.contains(i)) {
        errors.push(page.t("studies.error.interviewers"));
    }
    let place = match Place::parse(&f.meeting_kind, &f.meeting_detail) {
        Ok(place) => place,
        Err(e) => {
            errors.push(place_error(page, &e));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let target = Target { tiers, departments: (!f.departments.is_empty()).then(|| f.departments.clone()), attributes };
    let rules = ContactRules {
        min_days_between_contacts: n.min_days as u32,
        max_invitations_per_week: n.per_week as u32,
        max_interviews_per_year: n.per_year as u32,
        exclude_after_no_show: f.no_show,
    };
    let clip = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
    Ok(StudyFields {
        title: clip(&f.title, 200),
        goal: clip(&f.goal, 2000),
        participant_title: clip(&f.participant_title, 200),
        participant_description: clip(&f.participant_description, 2000),
        meeting_kind: place.as_ref().map(|p| p.kind.as_str()).unwrap_or_default().into(),
        meeting_detail: place.map(|p| p.detail.chars().take(500).collect()).unwrap_or_default(),
        scenario: scenario.map(|s| s.as_str()).unwrap_or_default().into(),
        interview_minutes: n.minutes,
        language: language.map(|l| l.as_str()).unwrap_or("en").into(),
        invitation_subject: clip(&f.invitation_subject, 300),
        invitation_body: clip(&f.invitation_body, 10_000),
        consent: clip(&f.consent, 10_000),
        guide: clip(&f.guide, 20_000),
        target: target_json(&target),
        rules: rules_json(&rules),
        round_size: n.size,
        allocation: if f.allocation == "equal" { "equal".into() } else { "proportional".into() },
        recurrence_days: n.recurrence,
        auto_send: f.auto_send,
        max_reschedules: n.max_reschedules,
        change_notice_hours: n.notice,
    })
}

async fn allowed(state: &AppState) -> Result<Vec<i64>, WebError> {
    Ok(researchers(state).await?.iter().filter_map(|c| c.value.parse().ok()).collect())
}

pub async fn create(
    viewer: Viewer,
    state: web::Data<AppState>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let form = read_form(&body);
    let page = Page::new(&viewer, "studies", "studies.form_title");
    match validate(&page, &form, &allowed(&state).await?) {
        Err(errors) => render_form(&viewer, &state, "/studies".into(), form, errors).await,
        Ok(fields) => {
            let id = studies::insert(&state.db, &fields, Some(viewer.account.id), Utc::now().timestamp()).await?;
            studies::set_interviewers(&state.db, id, &form.interviewers.iter().copied().collect::<Vec<_>>()).await?;
            audit::record(&state.db, viewer.audit_actor(), "study.create", Some(&format!("study:{id}")), None).await?;
            Ok(see_other(&format!("/studies/{id}")))
        }
    }
}

async fn get_study(state: &AppState, id: i64) -> Result<Study, WebError> {
    studies::get(&state.db, id).await?.ok_or(WebError::NotFound)
}

pub async fn edit_form(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let s = get_study(&state, *id).await?;
    let form = form_of_study(&s, studies::interviewers(&state.db, s.id).await?)?;
    render_form(&viewer, &state, format!("/studies/{}/edit", s.id), form, Vec::new()).await
}

pub async fn save(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let s = get_study(&state, *id).await?;
    let form = read_form(&body);
    let page = Page::new(&viewer, "studies", "studies.form_title");
    match validate(&page, &form, &allowed(&state).await?) {
        Err(errors) => render_form(&viewer, &state, format!("/studies/{}/edit", s.id), form, errors).await,
        Ok(fields) => {
            studies::update(&state.db, s.id, &fields, Utc::now().timestamp()).await?;
            studies::set_interviewers(&state.db, s.id, &form.interviewers.iter().copied().collect::<Vec<_>>()).await?;
            audit::record(&state.db, viewer.audit_actor(), "study.update", Some(&format!("study:{}", s.id)), None)
                .await?;
            Ok(see_other(&format!("/studies/{}", s.id)))
        }
    }
}

pub async fn close(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let s = get_study(&state, *id).await?;
    if studies::close(&state.db, s.id, Utc::now().timestamp()).await? {
        audit::record(&state.db, viewer.audit_actor(), "study.close", Some(&format!("study:{}", s.id)), None).await?;
    }
    Ok(see_other(&format!("/studies/{}", s.id)))
}

/// One tier's row of the funnel.
pub struct FunnelRow {
    pub tier: String,
    pub cells: Vec<usize>,
}

pub struct RoundRow {
    pub number: i64,
    pub drawn_at: String,
    pub sent: Option<String>,
    pub people: usize,
}

pub struct BookingRow {
    pub id: i64,
    pub when: String,
    pub person: String,
    pub tier: String,
    pub status: String,
}

pub struct MessageRow {
    pub kind: String,
    pub to: String,
    pub state: &'static str,
    pub state_words: String,
    pub attempts: i64,
    pub when: String,
    /// Why it was dropped, in words.
    pub reason: Option<String>,
    /// What the mail server or the transport said (its own words).
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "study.html")]
struct StudyPage {
    page: Page,
    study: Study,
    scenario: String,
    interviewers: Vec<String>,
    target: String,
    rules: String,
    rounds: Vec<RoundRow>,
    funnel_columns: Vec<String>,
    funnel: Vec<FunnelRow>,
    bookings: Vec<BookingRow>,
    messages: Vec<MessageRow>,
    mail_mode: String,
    mail_to_folder: bool,
    /// No address is known for participants' links: nothing can be sent.
    no_link_base: bool,
    timezone: String,
    guide: Vec<String>,
}

/// A column of the funnel: who counts in it.
#[derive(Clone, Copy)]
enum FunnelColumn {
    Invited,
    Opened,
    BookedEver,
    /// In this state now.
    Now(InvitationStatus),
}

impl FunnelColumn {
    /// The column's catalog key, `studies.funnel.{key}`.
    fn key(self) -> &'static str {
        match self {
            FunnelColumn::Invited => "invited",
            FunnelColumn::Opened => "opened",
            FunnelColumn::BookedEver => "booked",
            FunnelColumn::Now(s) => s.as_str(),
        }
    }
}

/// The funnel's columns: invited, opened the page, booked (ever),
/// declined, opted out, completed, no-show by the participant, by the host.
const FUNNEL: [FunnelColumn; 8] = [
    FunnelColumn::Invited,
    FunnelColumn::Opened,
    FunnelColumn::BookedEver,
    FunnelColumn::Now(InvitationStatus::Declined),
    FunnelColumn::Now(InvitationStatus::OptedOut),
    FunnelColumn::Now(InvitationStatus::Completed),
    FunnelColumn::Now(InvitationStatus::NoShowParticipant),
    FunnelColumn::Now(InvitationStatus::NoShowHost),
];

pub async fn show(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = get_study(&state, *id).await?;
    let page = Page::new(&viewer, "studies", "studies.title");
    let tz = settings::load(&state.db).await?.timezone;
    let local = |ts: i64| page.instant(ts, tz);
    let invs = invitations::for_study(&state.db, study.id).await?;
    let study_bookings = bookings::for_study(&state.db, study.id).await?;
    let funnel = funnel_rows(&page, &invs, &study_bookings);
    let mut rounds = Vec::new();
    for r in studies::rounds(&state.db, study.id).await? {
        let people = invs.iter().filter(|i| i.round_id == r.id && i.status != InvitationStatus::Dropped).count();
        rounds.push(RoundRow { number: r.number, drawn_at: local(r.drawn_at), sent: r.sent_at.map(local), people });
    }
    let mut names = Vec::new();
    for a in studies::interviewers(&state.db, study.id).await? {
        if let Some(acc) = accounts::get(&state.db, a).await? {
            names.push(if acc.name.is_empty() { acc.email } else { acc.name });
        }
    }
    let bookings = study_bookings
        .iter()
        .map(|b| BookingRow {
            id: b.id,
            when: local(b.starts_at),
            person: b.name.clone().unwrap_or_else(|| b.user_id.clone()),
            tier: page.t(&format!("tier.{}", b.tier)),
            status: page.t(&format!("booking.status.{}", b.status)),
        })
        .collect();
    let messages =
        outbox::for_study(&state.db, study.id).await?.into_iter().map(|m| message_row(&page, m, &local)).collect();
    html(&StudyPage {
        scenario: page.t(&format!("profile.{}", study.scenario)),
        target: target_words(&page, &target_of(&study)?),
        rules: rules_words(&page, &rules_of(&study)?),
        funnel_columns: FUNNEL.iter().map(|c| page.t(&format!("studies.funnel.{}", c.key()))).collect(),
        guide: study.guide.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        page,
        study,
        interviewers: names,
        rounds,
        funnel,
        bookings,
        messages,
        mail_mode: state.mail_description.to_string(),
        mail_to_folder: state.mail_to_folder,
        no_link_base: crate::app::settings::links_base(&state.db, state.base_url.as_deref()).await?.is_none(),
        timezone: tz.name().to_string(),
    })
}

/// The funnel by tier (people invited, opened, ever booked, and where they
/// are now), with a total row.
fn funnel_rows(
    page: &Page,
    invs: &[invitations::Invitation],
    study_bookings: &[bookings::CalendarEntry],
) -> Vec<FunnelRow> {
    let booked_ever: BTreeSet<&str> = study_bookings.iter().map(|b| b.user_id.as_str()).collect();
    let mut funnel = Vec::new();
    let mut totals = vec![0usize; FUNNEL.len()];
    for tier in Tier::ALL {
        let of_tier: Vec<_> = invs.iter().filter(|i| i.tier == tier.as_str() && i.invited_at.is_some()).collect();
        if of_tier.is_empty() {
            continue;
        }
        let cells: Vec<usize> = FUNNEL
            .iter()
            .map(|col| {
                of_tier
                    .iter()
                    .filter(|i| match *col {
                        FunnelColumn::Invited => true,
                        FunnelColumn::Opened => i.opened_at.is_some(),
                        FunnelColumn::BookedEver => booked_ever.contains(i.user_id.as_str()),
                        FunnelColumn::Now(s) => i.status == s,
                    })
                    .count()
            })
            .collect();
        for (t, c) in totals.iter_mut().zip(&cells) {
            *t += c;
        }
        funnel.push(FunnelRow { tier: page.t(&format!("tier.{}", tier.as_str())), cells });
    }
    if !funnel.is_empty() {
        funnel.push(FunnelRow { tier: page.t("studies.funnel.total"), cells: totals });
    }
    funnel
}

/// Whom the study targets, in words: tiers · departments · attributes.
fn target_words(page: &Page, target: &Target) -> String {
    let tiers = target.tiers.iter().map(|t| page.t(&format!("tier.{}", t.as_str()))).collect::<Vec<_>>().join(", ");
    let depts = target
        .departments
        .as_ref()
        .map(|d| d.iter().cloned().collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|| page.t("studies.all_departments"));
    let attrs = target.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    [tiers, depts, attrs].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")
}

fn rules_words(page: &Page, r: &ContactRules) -> String {
    let no_show = page.t(if r.exclude_after_no_show { "studies.no_show.excluded" } else { "studies.no_show.allowed" });
    page.tf(
        "studies.rules_summary",
        &[
            ("days", &r.min_days_between_contacts.to_string()),
            ("week", &r.max_invitations_per_week.to_string()),
            ("year", &r.max_interviews_per_year.to_string()),
            ("no_show", &no_show),
        ],
    )
}

/// A message of the study's outbox: its kind and state in words (written
/// to the folder is not "sent"), the address masked.
fn message_row(page: &Page, m: outbox::Message, local: &impl Fn(i64) -> String) -> MessageRow {
    MessageRow {
        kind: page.t(&format!("outbox.kind.{}", m.kind)),
        to: crate::app::secrets::mask_email(&m.to_addr),
        state: m.state.as_str(),
        state_words: match (m.state.as_str(), m.delivery.as_deref()) {
            ("sent", Some("folder")) => page.t("outbox.state.written"),
            (state, _) => page.t(&format!("outbox.state.{state}")),
        },
        attempts: m.attempts,
        when: local(m.finished_at.unwrap_or(m.next_attempt_at.max(m.created_at))),
        reason: m.last_error.as_deref().and_then(|e| {
            crate::app::outbox::DROP_REASONS
                .iter()
                .find(|(text, _)| *text == e)
                .map(|(_, code)| page.t(&format!("outbox.dropped.{code}")))
        }),
        error: m.last_error.filter(|e| !crate::app::outbox::DROP_REASONS.iter().any(|(text, _)| text == e)),
    }
}

impl StudyPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}{tail}", self.study.id))
    }
}
