//! The push API under `/api/v1`: JSON over HTTP for programs, next to the
//! pages for people. Clients authenticate with an API token
//! (`Authorization: Bearer uc_...`) that an administrator creates on the
//! tokens page; a token carries scopes (`ingest` to push events, `read` for
//! metrics). No cookies and no sessions, so the pages' CSRF rules do not
//! apply here: a browser cannot attach a bearer token on its own.
//!
//! `openapi.json` (embedded, served at `/api/v1/openapi.json`) describes
//! every endpoint; a test checks that it lists each route registered here.

pub mod events;
pub mod openapi;
pub mod read;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;

use super::session::{random_token, token_hash};
use super::state::AppState;
use crate::storage::api_tokens::{self, ApiToken, Scope};
use crate::storage::{Db, now};

/// Every API token starts with this, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "uc_";

/// The largest request body accepted: 10 MiB.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// After a refused body, at most this much more is read (and dropped) so the
/// client sees the answer rather than a reset connection.
pub const DRAIN_LIMIT: usize = 4 * MAX_BODY_BYTES;

/// A new token: the prefix and 256 random bits as hex.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_token())
}

/// Creates a token and stores its hash; returns its id and the token, which
/// exists nowhere else afterwards.
pub async fn issue(db: &Db, name: &str, scopes: &[Scope], created_by: Option<i64>) -> anyhow::Result<(i64, String)> {
    let token = new_token();
    let id = api_tokens::create(db, name, scopes, &token_hash(&token), created_by).await?;
    Ok((id, token))
}

/// A rejected line of a pushed batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

/// The API's errors, each answered as `{"error": "..."}` with its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, unknown or revoked token.
    #[error("{message}")]
    Unauthorized { message: &'static str, invalid_token: bool },
    /// The token lacks the scope.
    #[error("this token lacks the `{0}` scope")]
    Forbidden(Scope),
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be used; `errors` lists rejected lines, if any.
    #[error("{message}")]
    BadRequest { message: String, errors: Vec<LineError>, rejected: u64 },
    #[error("the request body is larger than {} MiB; send smaller batches", MAX_BODY_BYTES >> 20)]
    TooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The path exists, for another method (the one given).
    #[error("this endpoint answers {0} only")]
    MethodNotAllowed(&'static str),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest { message: message.into(), errors: Vec::new(), rejected: 0 }
    }
}

const REALM: &str = "Bearer realm=\"undercurrent\"";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(e) if crate::storage::disk_full(e) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ApiError::BadRequest { message, errors, rejected } if !errors.is_empty() => {
                json!({ "error": message, "rejected": rejected, "errors": errors })
            }
            ApiError::Internal(e) if crate::storage::disk_full(e) => {
                tracing::error!(error = crate::app::secrets::mask_emails(&format!("{e:#}")), "disk full");
                json!({ "error": "the server's disk is full; nothing of this request was stored. Send it again later" })
            }
            ApiError::Internal(e) => {
                tracing::error!(error = crate::app::secrets::mask_emails(&format!("{e:#}")), "API request failed");
                json!({ "error": "internal error; it was logged" })
            }
            other => json!({ "error": other.to_string() }),
        };
        let mut response = json_response(self.status_code(), &body);
        let challenge = match self {
            ApiError::Unauthorized { invalid_token: false, .. } => Some(REALM.to_string()),
            ApiError::Unauthorized { invalid_token: true, .. } => Some(format!("{REALM}, error=\"invalid_token\"")),
            ApiError::Forbidden(scope) => Some(format!("{REALM}, error=\"insufficient_scope\", scope=\"{scope}\"")),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        if let ApiError::MethodNotAllowed(allow) = self {
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// A JSON answer; never cached (answers can carry per-person data).
pub fn json_response(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body.to_string())
}

/// The token a request presents, checked for `scope`. The token is found by
/// its SHA-256, the table's key, so nothing compares the secret itself.
/// Notes the use (at most once a minute).
pub async fn authenticate(req: &HttpRequest, state: &AppState, scope: Scope) -> Result<ApiToken, ApiError> {
    let missing = ApiError::Unauthorized {
        message: "missing API token; send the header `Authorization: Bearer uc_...`",
        invalid_token: false,
    };
    let invalid = || ApiError::Unauthorized { message: "the API token is unknown or revoked", invalid_token: true };
    let value = req.headers().get(header::AUTHORIZATION).ok_or(missing)?;
    let value = value.to_str().map_err(|_| invalid())?.trim();
    let (scheme, token) = value.split_once(' ').ok_or_else(invalid)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || !token.starts_with(TOKEN_PREFIX) {
        return Err(invalid());
    }
    let found = api_tokens::find_by_hash(&state.db, &token_hash(token)).await?.ok_or_else(invalid)?;
    // A token is worth no more than the administrator who created it.
    if found.revoked() || !api_tokens::creator_still_admin(&state.db, found.id).await? {
        return Err(invalid());
    }
    if found.last_used_at.is_none_or(|t| now() - t >= 60) {
        api_tokens::touch(&state.db, found.id).await?;
    }
    if !found.allows(scope) {
        return Err(ApiError::Forbidden(scope));
    }
    Ok(found)
}

/// Reads and drops up to `limit` more bytes of a body.
pub async fn drain(payload: &mut web::Payload, limit: usize) {
    let mut seen = 0usize;
    while seen < limit {
        match payload.next().await {
            Some(Ok(chunk)) => seen += chunk.len(),
            _ => return,
        }
    }
}

/// The whole body, at most `MAX_BODY_BYTES`.
pub async fn read_body(req: &HttpRequest, payload: &mut web::Payload) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        drain(payload, DRAIN_LIMIT).await;
        return Err(ApiError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared.map_or(64 * 1024, |n| n as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the request body failed: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            drain(payload, DRAIN_LIMIT).await;
            return Err(ApiError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The method an API path answers (as `routes.rs` registers them; a test
/// checks the two agree).
fn allowed_method(path: &str) -> Option<&'static str> {
    let person = |p: &str| {
        p.strip_prefix("/api/v1/people/")
            .and_then(|rest| rest.strip_suffix("/metrics"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    };
    match path {
        "/api/v1/events" => Some("POST"),
        "/api/v1/summary" | "/api/v1/openapi.json" => Some("GET"),
        p if person(p) => Some("GET"),
        _ => None,
    }
}

/// Anything else under `/api`: 405 for a known path asked with another
/// method (each route's method guards its resource, so such requests fall
/// through to here), else 404; JSON either way.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match allowed_method(req.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed(allow)),
        None => Err(ApiError::NotFound(format!("no API endpoint at {}; see /api/v1/openapi.json", req.path()))),
    }
}
