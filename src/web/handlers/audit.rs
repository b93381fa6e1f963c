//! The audit log, for admins.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::html;
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
    entries: Vec<(String, AuditEntry)>,
    next_page: Option<i64>,
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
    let entries = entries
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|e| {
            let when = chrono::DateTime::from_timestamp(e.at, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default();
            (when, e)
        })
        .collect();
    html(&AuditPage {
        page: Page::new(&viewer, "audit", "audit.title"),
        entries,
        next_page: more.then_some(page_no + 1),
    })
}
