//! A study's rounds: draw one (a fresh seed, or a recorded one to
//! reproduce a draw), review it with each person's frozen metrics and the
//! reason they were chosen, drop or add people, and send.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use super::participant::{NO_LINK_BASE, outreach_of};
use super::{html, see_other};
use crate::app::add_people::{self, AddRefusal};
use crate::app::studies::{self as outreach, ExcludedJson, FrozenFacts, StratumJson};
use crate::domain::account::Permission;
use crate::domain::sampling::Exclusion;
use crate::domain::state::{InvitationStatus, RoundState};
use crate::domain::tier::Tier;
use crate::storage::studies::{self, Round, Study};
use crate::storage::{audit, invitations, read_json};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

pub struct PersonRow {
    pub id: i64,
    pub user_id: String,
    pub name: String,
    pub tier: String,
    pub department: String,
    pub reason: String,
    pub facts: FrozenFacts,
    pub status: String,
    /// Still in the draw of an unsent round: a researcher may drop them.
    pub droppable: bool,
    pub exclusion: Option<String>,
    pub by_hand: bool,
}

pub struct StratumRow {
    pub tier: String,
    pub department: String,
    pub eligible: u32,
    pub quota: u32,
    pub drawn: u32,
    pub shortfall: u32,
}

#[derive(Template)]
#[template(path = "round.html")]
struct RoundPage {
    page: Page,
    study: Study,
    rnd: Round,
    people: Vec<PersonRow>,
    strata: Vec<StratumRow>,
    /// (user_id, why in the page's language).
    excluded: Vec<(String, String)>,
    message: Option<String>,
    error: Option<String>,
}

impl RoundPage {
    fn act(&self, tail: &str) -> String {
        self.page.action(&format!("/studies/{}{tail}", self.study.id))
    }

    fn round_path(&self, tail: &str) -> String {
        format!("/rounds/{}{tail}", self.rnd.number)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DrawForm {
    as_of: String,
    seed: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AddForm {
    user_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flash {
    sent: Option<u32>,
    excluded: Option<u32>,
}

async fn study_of(state: &AppState, id: i64) -> Result<Study, WebError> {
    studies::get(&state.db, id).await?.ok_or(WebError::NotFound)
}

async fn round_of(state: &AppState, study: i64, number: i64) -> Result<Round, WebError> {
    studies::round(&state.db, study, number).await?.ok_or(WebError::NotFound)
}

pub async fn draw(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<DrawForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, *id).await?;
    if !study.is_open() {
        return Err(WebError::BadRequest("the study is closed".into()));
    }
    let as_of = match form.as_of.trim() {
        "" => None,
        s => Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| WebError::BadRequest(format!("`{s}` is not a date (YYYY-MM-DD)")))?,
        ),
    };
    // A date whose window starts before the retention horizon cannot be
    // measured: no draw on numbers that are not there.
    if let Some(gone) = crate::app::retention::check(&state.db, as_of, None).await? {
        return Err(WebError::BadRequest(gone.describe()));
    }
    let seed = match form.seed.trim() {
        "" => None,
        s => Some(s.parse::<u64>().map_err(|_| WebError::BadRequest(format!("`{s}` is not a seed (a whole number)")))?),
    };
    let outcome = outreach::draw_round(&state.db, &study, as_of, seed, Some(viewer.account.id), Utc::now()).await?;
    audit::record(
        &state.db,
        viewer.audit_actor(),
        "study.draw",
        Some(&format!("study:{}", study.id)),
        Some(&audit::detail(
            "audit.detail.draw",
            &[("round", outcome.number.to_string()), ("seed", outcome.draw.seed.to_string())],
        )),
    )
    .await?;
    Ok(see_other(&format!("/studies/{}/rounds/{}", study.id, outcome.number)))
}

async fn render(
    viewer: &Viewer,
    state: &AppState,
    study: Study,
    round: Round,
    message: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "studies", "rounds.title");
    let tier = |t: &str| page.t(&format!("tier.{t}"));
    let people = invitations::for_round(&state.db, round.id)
        .await?
        .into_iter()
        .map(|i| {
            let facts = FrozenFacts::parse(&i.facts, i.id)?;
            Ok(PersonRow {
                id: i.id,
                name: i.name.clone().unwrap_or_default(),
                tier: tier(&i.tier),
                department: i.department.clone().unwrap_or_default(),
                reason: Tier::parse(&i.tier).map_or_else(|| i.reason.clone(), |t| reason_text(&page, &facts, t)),
                facts,
                status: page.t(&format!("invitation.status.{}", i.status)),
                droppable: i.status.may_become(InvitationStatus::Dropped) && round.state() == RoundState::Drawn,
                exclusion: i.exclusion.as_deref().map(|stored| stored_exclusion_text(&page, stored)),
                by_hand: i.added_by_hand != 0,
                user_id: i.user_id,
            })
        })
        .collect::<Result<Vec<_>, crate::storage::CorruptJson>>()?;
    let strata = read_json::<Vec<StratumJson>>(&round.strata, || format!("the strata of round {}", round.id))?
        .into_iter()
        .map(|s| StratumRow {
            tier: tier(&s.tier),
            department: s.department.unwrap_or_else(|| page.t("rounds.no_department")),
            eligible: s.eligible,
            quota: s.quota,
            drawn: s.drawn,
            shortfall: s.quota.saturating_sub(s.drawn),
        })
        .collect();
    let excluded = read_json::<Vec<ExcludedJson>>(&round.excluded, || format!("the exclusions of round {}", round.id))?
        .into_iter()
        .map(|x| {
            let why = x.rule.as_ref().map_or(x.reason, |rule| exclusion_text(&page, rule));
            (x.user_id, why)
        })
        .collect();
    html(&RoundPage { page, study, rnd: round, people, strata, excluded, message, error })
}

pub async fn show(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    q: web::Query<Flash>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, path.0).await?;
    let round = round_of(&state, study.id, path.1).await?;
    let message = q.sent.map(|n| {
        let ex = crate::web::i18n::integer(i64::from(q.excluded.unwrap_or(0)));
        Page::new(&viewer, "studies", "rounds.title")
            .tf("rounds.sent_done", &[("n", &crate::web::i18n::integer(i64::from(n))), ("excluded", &ex)])
    });
    render(&viewer, &state, study, round, message, None).await
}

pub async fn add(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, path.0).await?;
    let round = round_of(&state, study.id, path.1).await?;
    let page = Page::new(&viewer, "studies", "rounds.title");
    match add_people::add_person(&state.db, &study, &round, &form.user_id, Utc::now()).await? {
        Ok(()) => Ok(see_other(&format!("/studies/{}/rounds/{}", study.id, round.number))),
        Err(refusal) => {
            let error = refusal_text(&page, &refusal, form.user_id.trim());
            render(&viewer, &state, study, round, None, Some(error)).await
        }
    }
}

/// Why a person cannot be added, in words.
pub(super) fn refusal_text(page: &Page, refusal: &AddRefusal, user_id: &str) -> String {
    match refusal {
        AddRefusal::UnknownPerson => page.tf("rounds.add.unknown", &[("user", user_id)]),
        AddRefusal::AlreadySent => page.t("rounds.add.sent"),
        AddRefusal::AlreadyInRound => page.t("rounds.add.already"),
        AddRefusal::HeldOut => page.t("rounds.add.held_out"),
        AddRefusal::Rule(e) => page.tf("rounds.add.rule", &[("why", &exclusion_text(page, e))]),
        AddRefusal::InStudy(n) => page.tf("rounds.add.in_study", &[("n", &n.to_string())]),
        AddRefusal::NoSuchRound => page.t("rounds.add.no_round"),
        AddRefusal::StudyClosed => page.t("rounds.add.closed"),
    }
}

pub async fn drop_person(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, path.0).await?;
    let inv =
        invitations::get(&state.db, path.1).await?.filter(|i| i.study_id == study.id).ok_or(WebError::NotFound)?;
    outreach::drop_invitation(&state.db, inv.id).await?;
    let round = studies::rounds(&state.db, study.id)
        .await?
        .into_iter()
        .find(|r| r.id == inv.round_id)
        .ok_or(WebError::NotFound)?;
    Ok(see_other(&format!("/studies/{}/rounds/{}", study.id, round.number)))
}

pub async fn send(
    viewer: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let study = study_of(&state, path.0).await?;
    let round = round_of(&state, study.id, path.1).await?;
    let out = outreach_of(&state).await?.ok_or_else(|| WebError::BadRequest(NO_LINK_BASE.into()))?;
    let outcome = outreach::send_round(&state.db, &study, &round, &out.links, &out.from, Utc::now()).await?;
    state.wake_outbox();
    if !outcome.already_sent {
        audit::record(
            &state.db,
            viewer.audit_actor(),
            "study.send",
            Some(&format!("study:{}", study.id)),
            Some(&audit::detail(
                "audit.detail.send",
                &[
                    ("round", round.number.to_string()),
                    ("queued", outcome.queued.to_string()),
                    ("excluded", outcome.excluded.len().to_string()),
                ],
            )),
        )
        .await?;
    }
    Ok(see_other(&format!(
        "/studies/{}/rounds/{}?sent={}&excluded={}",
        study.id,
        round.number,
        outcome.queued,
        outcome.excluded.len()
    )))
}

/// Why a person fits the study, from the metrics frozen at the draw, in
/// the page's language: the facts and order of `sampling::reason`.
pub fn reason_text(page: &Page, f: &FrozenFacts, tier: Tier) -> String {
    let days = f.window_days.to_string();
    if tier == Tier::Dormant {
        return page.tf("reason.dormant", &[("days", &days)]);
    }
    let count = |key: &str, n: u32| {
        page.tf(&format!("{key}.{}", if n == 1 { "one" } else { "other" }), &[("n", &n.to_string())])
    };
    let mut parts = vec![match f.active_days {
        Some(n) => page.tf("reason.active", &[("n", &n.to_string()), ("days", &days)]),
        None => page.t("reason.active_unknown"),
    }];
    // Silent people interact on no day by definition.
    if tier != Tier::Silent
        && let Some(n) = f.interactive_days
    {
        parts.push(count("reason.interactive", n));
    }
    parts.push(match f.messages_sent {
        Some(n) => count("reason.messages", n),
        None => page.t("reason.messages_unknown"),
    });
    parts.push(count("reason.families", f.feature_breadth));
    if tier != Tier::Silent
        && let Some(depth) = f.login_depth()
    {
        parts.push(page.tf("reason.depth", &[("depth", &depth.display(2))]));
    }
    let text = parts.join(&page.t("reason.separator"));
    match tier {
        Tier::New => page.tf("reason.new", &[("text", &text)]),
        Tier::Unmeasured => page.tf("reason.unmeasured", &[("text", &text)]),
        _ => text,
    }
}

/// An exclusion as stored with an invitation, in the page's language; text
/// stored before exclusions were kept as rules is shown as it is.
fn stored_exclusion_text(page: &Page, stored: &str) -> String {
    serde_json::from_str::<Exclusion>(stored).map_or_else(|_| stored.to_string(), |e| exclusion_text(page, &e))
}

/// A contact rule's verdict in the page's language.
pub fn exclusion_text(page: &Page, e: &Exclusion) -> String {
    let n = |v: i64| v.to_string();
    match *e {
        Exclusion::Deactivated | Exclusion::OptedOut | Exclusion::HeldOut | Exclusion::NoAddress => page.t(e.key()),
        Exclusion::NoShow { no_shows } => page.tf(e.key(), &[("n", &n(no_shows.into()))]),
        Exclusion::ContactedRecently { days_ago, min_days } => {
            let key = if days_ago <= 0 { "exclusion.contacted_today" } else { e.key() };
            page.tf(key, &[("days", &n(days_ago)), ("min", &n(min_days.into()))])
        }
        Exclusion::WeeklyLimit { invitations, limit } => {
            page.tf(e.key(), &[("n", &n(invitations.into())), ("limit", &n(limit.into()))])
        }
        Exclusion::YearlyLimit { interviews, limit } => {
            page.tf(e.key(), &[("n", &n(interviews.into())), ("limit", &n(limit.into()))])
        }
    }
}
