//! The web application: server-rendered pages over the same services as the
//! command line. `routes.rs` lists every route; each handler file serves one
//! page or action; templates live in `templates/`.

pub mod api;
pub mod charts;
pub mod error;
pub mod handlers;
pub mod i18n;
pub mod page;
pub mod routes;
pub mod security;
pub mod session;
pub mod state;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};

pub use state::AppState;

/// Starts the server on a bound listener (port 0 in tests).
pub fn start(state: AppState, listener: TcpListener) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::FormConfig::default().limit(1 << 20))
            .wrap(security::Headers())
            .wrap(middleware::Compress::default())
            .configure(routes::configure)
    })
    .listen(listener)?
    .run();
    Ok(server)
}
