//! One file per page or action. Every handler has the same shape: who is
//! asking, may they, parse, do, render or redirect.

pub mod accounts;
pub mod adoption;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod codebook;
pub mod dashboard;
pub mod imports;
pub mod interviews;
pub mod language;
pub mod mapping;
pub mod participant;
pub mod people;
pub mod person;
pub mod report;
pub mod rights;
pub mod rounds;
pub mod settings;
pub mod static_files;
pub mod studies;
pub mod survey_response;
pub mod surveys;
pub mod tokens;

use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;

use super::error::WebError;

/// Renders a template as an HTML page.
pub fn html(template: &impl Template) -> Result<HttpResponse, WebError> {
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(template.render()?))
}

/// Redirects after a successful post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_string())).finish()
}

/// The peer address for throttling and the audit log.
pub fn client_ip(req: &actix_web::HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}
