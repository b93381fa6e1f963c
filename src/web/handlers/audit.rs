//! The audit log, for admins.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::html;
use crate::app::settings;
use crate::domain::account::Permission;
use crate::storage::audit::{self, AuditEntry};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

const PAGE_SIZE: i64 = 100;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    entries: Vec<Row>,
    /// The organisation's time zone, in which times are shown.
    zone: String,
    next_page: Option<i64>,
}

struct Row {
    when: String,
    who: String,
    action: String,
    target: String,
    /// Where the target can be opened, when it is a page.
    target_link: Option<String>,
    detail: String,
}

/// The action in words; a code no catalog knows (from a newer or older
/// version) is shown as it is.
fn action_words(page: &Page, code: &str) -> String {
    page.tf_known(&format!("audit.action.{code}"), &[]).unwrap_or_else(|| code.to_string())
}

/// A detail in the page's language: one written as a key and values, or a
/// role's name; other (older, free) text as it is.
fn detail_words(page: &Page, action: &str, detail: &str) -> String {
    if let Some((key, args)) = audit::parse_detail(detail) {
        // Counts with the thousands separator; numbers that name things
        // (a round, a seed, a response) as they are.
        let args: Vec<(&str, String)> = args
            .iter()
            .map(|(k, v)| {
                let count = ["n", "queued", "excluded", "added", "refused", "batches"].contains(&k.as_str());
                // A date (ISO in the log) in the reader's format.
                if k == "date" {
                    return (k.as_str(), page.date_text(v));
                }
                (
                    k.as_str(),
                    v.parse::<i64>().ok().filter(|_| count).map_or_else(|| v.clone(), crate::web::i18n::integer),
                )
            })
            .collect();
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return page.tf(&key, &args);
    }
    // A rollout date set, or given back to the data.
    if action == "rollout.set" {
        return if detail == "default" { page.t("audit.detail.rollout_default") } else { page.date_text(detail) };
    }
    action
        .starts_with("account.")
        .then(|| page.tf_known(&format!("role.{detail}"), &[]))
        .flatten()
        .unwrap_or_else(|| detail.to_string())
}

/// A target such as `account:4` in words ("Account #4"), with a link when
/// it names a page.
fn target_words(page: &Page, target: &str) -> (String, Option<String>) {
    let Some((kind, id)) = target.split_once(':') else { return (target.to_string(), None) };
    let Some(words) = page.tf_known(&format!("audit.target.{kind}"), &[("id", id)]) else {
        return (target.to_string(), None);
    };
    let link = match kind {
        "study" => Some(format!("/studies/{id}")),
        _ => None,
    };
    (words, link)
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: i64,
}

pub async fn list(
    viewer: Viewer,
    state: web::Data<AppState>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ReadAuditLog)?;
    let page_no = q.page.clamp(0, 1_000_000);
    let entries = audit::recent(&state.db, PAGE_SIZE + 1, page_no * PAGE_SIZE).await?;
    let more = entries.len() as i64 > PAGE_SIZE;
    let tz = settings::load(&state.db).await?.timezone;
    let page = Page::new(&viewer, "audit", "audit.title");
    let entries = entries
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|e: AuditEntry| {
            let when = page.instant(e.at, tz);
            let (target, target_link) = e.target.as_deref().map_or((String::new(), None), |t| target_words(&page, t));
            Row {
                when,
                who: e.account_email.unwrap_or_default(),
                action: action_words(&page, &e.action),
                target,
                target_link,
                detail: e.detail.as_deref().map(|d| detail_words(&page, &e.action, d)).unwrap_or_default(),
            }
        })
        .collect();
    html(&AuditPage { page, entries, zone: tz.name().to_string(), next_page: more.then_some(page_no + 1) })
}
