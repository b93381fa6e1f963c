//! Adding people chosen on the people list to a study: GET shows each
//! chosen person's verdict for a study and round (or a new round) under
//! the study's contact rules; POST adds those who pass and opens the round.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;

use super::rounds::refusal_text;
use super::{html, see_other};
use crate::app::add_people::{self, Destination, Verdict};
use crate::domain::account::Permission;
use crate::storage::audit;
use crate::storage::studies::{self, Study};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;
use crate::web::url::filters;

/// At most this many people are added at once.
pub const MAX_PEOPLE: usize = 500;

/// A destination to choose: a study's unsent round, or a new round.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct Group {
    pub study: String,
    pub choices: Vec<Choice>,
}

pub struct VerdictRow {
    pub user_id: String,
    pub ok: bool,
    pub text: String,
}

#[derive(Template)]
#[template(path = "add_to_study.html")]
struct AddPage {
    page: Page,
    people: Vec<String>,
    groups: Vec<Group>,
    to: String,
    verdicts: Vec<VerdictRow>,
    passing: usize,
    error: Option<String>,
}

/// The chosen people (`person`, repeated) and the destination (`to`) of a
/// query or form.
fn chosen(pairs: &[(String, String)]) -> Result<(Vec<String>, String), WebError> {
    let mut people: Vec<String> = Vec::new();
    let mut to = String::new();
    for (k, v) in pairs {
        match k.as_str() {
            "person" if !v.trim().is_empty() => {
                let v = v.trim().to_string();
                if !people.contains(&v) {
                    people.push(v);
                }
            }
            "to" => to = v.trim().to_string(),
            _ => {}
        }
    }
    if people.len() > MAX_PEOPLE {
        return Err(WebError::BadRequest(format!("choose at most {MAX_PEOPLE} people at once")));
    }
    Ok((people, to))
}

/// `STUDY:ROUND` or `STUDY:new`.
fn destination(to: &str) -> Option<(i64, Destination)> {
    let (study, round) = to.split_once(':')?;
    let study = study.parse().ok()?;
    let d = match round {
        "new" => Destination::NewRound,
        n => Destination::Round(n.parse().ok()?),
    };
    Some((study, d))
}

/// Every open study with its unsent rounds and a new round.
async fn groups(state: &AppState, page: &Page, to: &str) -> Result<Vec<Group>, WebError> {
    let mut out = Vec::new();
    for study in studies::list(&state.db).await?.into_iter().filter(Study::is_open) {
        let mut choices = Vec::new();
        for r in studies::rounds(&state.db, study.id).await?.into_iter().filter(|r| r.sent_at.is_none()) {
            let value = format!("{}:{}", study.id, r.number);
            choices.push(Choice {
                selected: value == to,
                label: page.tf("add.round", &[("n", &r.number.to_string())]),
                value,
            });
        }
        let value = format!("{}:new", study.id);
        choices.push(Choice { selected: value == to, label: page.t("add.new_round"), value });
        out.push(Group { study: study.title.clone(), choices });
    }
    Ok(out)
}

fn rows(page: &Page, verdicts: &[Verdict]) -> Vec<VerdictRow> {
    verdicts
        .iter()
        .map(|v| VerdictRow {
            user_id: v.user_id.clone(),
            ok: v.outcome.is_ok(),
            text: match &v.outcome {
                Ok(()) => page.t("add.will_be_added"),
                Err(r) => refusal_text(page, r, &v.user_id),
            },
        })
        .collect()
}

/// GET /studies/add-people?person=…&person=…[&to=STUDY:ROUND|STUDY:new]
pub async fn form(
    viewer: Viewer,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (people, to) = chosen(&query)?;
    let page = Page::new(&viewer, "people", "add.title");
    let groups = groups(&state, &page, &to).await?;
    let mut verdicts = Vec::new();
    let mut error = None;
    if let Some((study_id, d)) = destination(&to) {
        let study = studies::get(&state.db, study_id).await?.filter(Study::is_open).ok_or(WebError::NotFound)?;
        match add_people::verdicts(&state.db, &study, d, &people, Utc::now()).await? {
            Ok(v) => verdicts = rows(&page, &v),
            Err(r) => error = Some(refusal_text(&page, &r, "")),
        }
    }
    let passing = verdicts.iter().filter(|v| v.ok).count();
    html(&AddPage { page, people, groups, to, verdicts, passing, error })
}

/// POST /studies/add-people (form: `person`, repeated, and `to`).
pub async fn add(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::RunStudies)?;
    let (people, to) = chosen(&form)?;
    let (study_id, d) = destination(&to).ok_or_else(|| WebError::BadRequest("choose a study and a round".into()))?;
    let study = studies::get(&state.db, study_id).await?.ok_or(WebError::NotFound)?;
    let page = Page::new(&viewer, "people", "add.title");
    match add_people::add(&state.db, &study, d, &people, Some(viewer.account.id), Utc::now()).await? {
        Err(r) => {
            let groups = groups(&state, &page, &to).await?;
            let error = Some(refusal_text(&page, &r, ""));
            html(&AddPage { page, people, groups, to, verdicts: Vec::new(), passing: 0, error })
        }
        Ok(added) if added.added.is_empty() => {
            let groups = groups(&state, &page, &to).await?;
            let verdicts = rows(&page, &added.refused);
            let error = Some(page.t("add.nobody"));
            html(&AddPage { page, people, groups, to, verdicts, passing: 0, error })
        }
        Ok(added) => {
            audit::record(
                &state.db,
                viewer.audit_actor(),
                "study.add_people",
                Some(&audit::detail(
                    "audit.detail.add_people",
                    &[
                        ("round", added.round_number.to_string()),
                        ("added", added.added.len().to_string()),
                        ("refused", added.refused.len().to_string()),
                    ],
                )),
                Some(&format!(
                    "round {}: {} added, {} not added",
                    added.round_number,
                    added.added.len(),
                    added.refused.len()
                )),
            )
            .await?;
            Ok(see_other(&format!("/studies/{}/rounds/{}", study.id, added.round_number)))
        }
    }
}
