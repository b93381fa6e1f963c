//! The web application: server-rendered pages over the same services as the
//! command line. `routes.rs` lists every route; each handler file serves one
//! page or action; templates live in `templates/`.

pub mod api;
pub mod cache;
pub mod charts;
pub mod coverage;
pub mod error;
pub mod handlers;
pub mod i18n;
pub mod metrics;
pub mod page;
pub mod query;
pub mod report_summary;
pub mod retention;
pub mod routes;
pub mod scim;
pub mod security;
pub mod session;
pub mod state;
pub mod upload;
pub mod url;

use std::net::TcpListener;

use std::time::Instant;

use actix_web::dev::{Server, Service};
use actix_web::{App, HttpServer, middleware, web};

pub use state::AppState;

/// Starts the server on a bound listener (port 0 in tests).
pub fn start(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    crate::install_tls_provider();
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::FormConfig::default().limit(1 << 20).error_handler(|e, _| error::unreadable_input(e)))
            .app_data(web::QueryConfig::default().error_handler(|e, _| error::unreadable_input(e)))
            .app_data(web::JsonConfig::default().error_handler(|e, _| error::unreadable_input(e)))
            .app_data(web::PathConfig::default().error_handler(|e, _| error::unreadable_path(e)))
            .wrap(security::Headers())
            .wrap_fn(|req, srv| {
                // Counted by route pattern, so no person's id reaches a label.
                let started = Instant::now();
                let method = metrics::method_label(req.method().as_str());
                let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.metrics.clone());
                let pattern = req.match_pattern().unwrap_or_else(|| "unmatched".into());
                // Every log line of the request (a 500's cause included)
                // carries its id and route; the answer names the id, so a
                // user's report can be found in the log.
                let request_id = crate::app::secrets::random_token()[..16].to_string();
                let span = tracing::info_span!("request", id = %request_id, method, route = %pattern);
                let fut = tracing::Instrument::instrument(srv.call(req), span);
                async move {
                    let res = fut.await?;
                    // Our error pages, in the reader's language.
                    let texts = res.response().extensions().get::<error::ErrorTexts>().cloned();
                    let mut res = match texts {
                        Some(texts) => {
                            let html = error::localize(&texts, session::language(res.request()));
                            res.map_body(|_, _| actix_web::body::BoxBody::new(html))
                        }
                        None => res.map_into_boxed_body(),
                    };
                    if let Some(m) = metrics {
                        m.observe(&pattern, method, res.status().as_u16(), started.elapsed());
                    }
                    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&request_id) {
                        res.headers_mut()
                            .insert(actix_web::http::header::HeaderName::from_static("x-request-id"), value);
                    }
                    Ok(res)
                }
            })
            .wrap(middleware::Compress::default())
            .configure(routes::configure)
            // An address no route knows: the app's own not-found page, not
            // an empty answer; a known address asked with a method it does
            // not take: 405, as before.
            .default_service(web::to(|req: actix_web::HttpRequest| async move {
                match req.match_pattern() {
                    Some(_) => Ok(actix_web::HttpResponse::MethodNotAllowed().finish()),
                    None => Err(error::WebError::NotFound),
                }
            }))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
