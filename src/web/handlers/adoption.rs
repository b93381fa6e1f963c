//! Adoption by department since each department's rollout.

use actix_web::HttpResponse;

use crate::web::error::WebError;
use crate::web::session::Viewer;

pub async fn show(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn download(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn set_rollout(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
