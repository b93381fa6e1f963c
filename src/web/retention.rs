//! The page shown instead of numbers for a window that starts before the
//! retention horizon: raw events older than it were deleted, so the
//! window's metrics cannot be measured from them any more.

use actix_web::HttpResponse;
use askama::Template;
use chrono::NaiveDate;

use super::error::WebError;
use super::handlers::html;
use super::page::Page;
use super::session::Viewer;
use super::state::AppState;
use crate::app::retention::{NotMeasurable, check};

#[derive(Template)]
#[template(path = "retention_notice.html")]
struct NoticePage {
    page: Page,
    message: String,
    /// The link to the earliest measurable date, in words.
    earliest: String,
    /// The same page at the earliest measurable date.
    earliest_href: String,
}

/// What a page says instead of its numbers: in the viewer's language.
pub fn message(page: &Page, gone: &NotMeasurable) -> String {
    let kept_from = page.date(&gone.kept_from);
    match gone.days {
        Some(days) => page.tf("retention.not_measurable", &[("days", &days.to_string()), ("date", &kept_from)]),
        None => page.tf("retention.not_measurable_off", &[("date", &kept_from)]),
    }
}

/// The notice page when the window (`as_of`, `window`; defaults as the
/// page's) starts before the horizon; `path` is the page's address, for a
/// link to its earliest measurable date. None: show the page as usual.
pub async fn notice(
    viewer: &Viewer,
    state: &AppState,
    (active, title): (&'static str, &str),
    path: &str,
    as_of: Option<NaiveDate>,
    window: Option<u32>,
) -> Result<Option<HttpResponse>, WebError> {
    let Some(gone) = check(&state.db, as_of, window).await? else { return Ok(None) };
    let page = Page::new(viewer, active, title);
    let mut href = format!("{path}?as_of={}", gone.earliest);
    if let Some(w) = window {
        href.push_str(&format!("&window={w}"));
    }
    let view = NoticePage {
        message: message(&page, &gone),
        earliest: page.tf("retention.earliest", &[("date", &page.date(&gone.earliest))]),
        earliest_href: href,
        page,
    };
    html(&view).map(Some)
}
