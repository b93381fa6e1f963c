//! Importing files in the browser, and the import history.

use actix_web::HttpResponse;

use crate::web::error::WebError;
use crate::web::session::Viewer;

pub async fn page(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn upload_people(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn upload_events(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
