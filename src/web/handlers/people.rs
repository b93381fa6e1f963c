//! The people list (filter, sort, paginate, CSV) and the person page.

use actix_web::HttpResponse;

use crate::web::error::WebError;
use crate::web::session::Viewer;

pub async fn list(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn download(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}

pub async fn show(_viewer: Viewer) -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
