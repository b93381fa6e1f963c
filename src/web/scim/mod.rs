//! SCIM 2.0 at `/scim/v2` (RFC 7643/7644): the identity provider's side of
//! directory sync. Clients authenticate with an API token that has the
//! `scim` scope (`Authorization: Bearer uc_...`); cookies are never read
//! here, so a signed-in browser has no access and the pages' CSRF rules do
//! not apply. Answers are `application/scim+json`; errors carry the SCIM
//! error schema, status and `scimType`.

pub mod discovery;
pub mod groups;
pub mod users;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::Value;

use super::api::{self, ApiError};
use super::state::AppState;
use crate::app::scim::{Actor, Failure};
use crate::app::settings;
use crate::domain::scim::{Page, ScimError};
use crate::storage::api_tokens::{ApiToken, Scope};

/// Where SCIM lives under the server's address.
pub const PREFIX: &str = "/scim/v2";

pub const CONTENT_TYPE: &str = "application/scim+json";

/// A SCIM request's failure, answered with the SCIM error body.
#[derive(Debug)]
pub enum Error {
    Scim(ScimError),
    Internal(anyhow::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Scim(e) => write!(f, "{e}"),
            Error::Internal(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<ScimError> for Error {
    fn from(e: ScimError) -> Error {
        Error::Scim(e)
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Error {
        Error::Internal(e)
    }
}

impl From<Failure> for Error {
    fn from(e: Failure) -> Error {
        match e {
            Failure::Scim(e) => Error::Scim(e),
            Failure::Internal(e) => Error::Internal(e),
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        let status = e.status_code().as_u16();
        match e {
            ApiError::Internal(e) => Error::Internal(e),
            ApiError::Forbidden(_) => Error::Scim(ScimError::new(status, None, "this token lacks the `scim` scope")),
            other => Error::Scim(ScimError::new(status, None, other.to_string())),
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::Scim(e) => StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            Error::Scim(e) => e.body(),
            Error::Internal(e) => {
                tracing::error!(error = crate::app::secrets::mask_emails(&format!("{e:#}")), "SCIM request failed");
                ScimError::new(500, None, "internal error; it was logged").body()
            }
        };
        let mut response = respond(self.status_code(), &body);
        let challenge = match self.status_code() {
            StatusCode::UNAUTHORIZED => Some("Bearer realm=\"undercurrent\""),
            StatusCode::FORBIDDEN => {
                Some("Bearer realm=\"undercurrent\", error=\"insufficient_scope\", scope=\"scim\"")
            }
            _ => None,
        };
        if let Some(c) = challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        response
    }
}

/// A SCIM answer; never cached.
pub fn respond(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// The token presented, which must have the `scim` scope.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<ApiToken, Error> {
    Ok(api::authenticate(req, state, Scope::Scim).await?)
}

pub fn actor(token: &ApiToken) -> Actor<'_> {
    Actor { token_id: token.id, token_name: &token.name }
}

/// The server's address, for resources' `location`: the configured public
/// address, else the one the request came to.
pub async fn base(req: &HttpRequest, state: &AppState) -> Result<String, Error> {
    let configured = settings::links_base(&state.db, state.base_url.as_deref()).await?;
    Ok(match configured.filter(|b| !b.is_empty()) {
        Some(b) => format!("{}{PREFIX}", b.trim_end_matches('/')),
        None => {
            let info = req.connection_info();
            format!("{}://{}{PREFIX}", info.scheme(), info.host())
        }
    })
}

/// A Unix time as SCIM's `dateTime`.
pub fn date_time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The JSON body of a request (at most the API's size limit).
pub async fn json_body(req: &HttpRequest, mut payload: web::Payload) -> Result<Value, Error> {
    let bytes = api::read_body(req, &mut payload).await?;
    serde_json::from_slice(&bytes).map_err(|e| ScimError::invalid_syntax(format!("the body is not JSON: {e}")).into())
}

/// A list request's `filter` and page.
pub fn list_query(req: &HttpRequest) -> Result<(Option<String>, Page), Error> {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map_err(|_| ScimError::invalid_syntax("the query string cannot be read"))?;
    let get = |name: &str| query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let page = Page::parse(get("startIndex"), get("count"))?;
    Ok((get("filter").map(str::to_string).filter(|f| !f.trim().is_empty()), page))
}

/// Anything else under `/scim`: 405 for a SCIM endpoint asked with a method
/// it does not take, else 404; SCIM errors either way.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, Error> {
    let known = req
        .path()
        .strip_prefix(&format!("{PREFIX}/"))
        .and_then(|rest| rest.split('/').next())
        .is_some_and(|r| ["Users", "Groups", "ServiceProviderConfig", "Schemas", "ResourceTypes"].contains(&r));
    match known {
        true => Err(ScimError::new(405, None, "this endpoint does not take this method").into()),
        false => Err(ScimError::new(404, None, format!("no SCIM endpoint at {}", req.path())).into()),
    }
}
