//! Assets, embedded in the binary: the app runs on intranets with no CDN.

use actix_web::{HttpResponse, web};

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../../static/app.js")),
    ("favicon.svg", "image/svg+xml", include_bytes!("../../../static/favicon.svg")),
];

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    match FILES.iter().find(|(name, _, _)| *name == file.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(*bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

/// Liveness: the process answers.
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness, for a load balancer: the database answers too.
pub async fn ready(state: web::Data<crate::web::AppState>) -> HttpResponse {
    match state.db.ping().await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("ready"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            HttpResponse::ServiceUnavailable()
                .insert_header(("Retry-After", "30"))
                .content_type("text/plain")
                .body("the database does not answer")
        }
    }
}
