//! `GET /api/v1/openapi.json`: the API's OpenAPI 3.0.3 description, written
//! by hand next to the code it describes and embedded in the binary. Tests
//! check that it parses and lists every route under `/api/v1`.

use actix_web::HttpResponse;
use actix_web::http::header;

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(DOCUMENT)
}
