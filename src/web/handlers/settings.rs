//! Organisation settings: time zone, profile and thresholds (with a preview
//! of tier changes), privacy floor.

use actix_web::HttpResponse;

use crate::web::error::WebError;
use crate::web::session::Viewer;

pub async fn page(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn save(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
