//! Every route, in one place, grouped by area. Every mutation is a POST.

use actix_web::web;

use super::api;
use super::handlers::{
    accounts, adoption, audit, auth, dashboard, imports, language, mapping, people, person, settings, static_files,
    tokens,
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Assets and health.
    cfg.route("/static/{file}", web::get().to(static_files::serve));
    cfg.route("/healthz", web::get().to(static_files::health));

    // Signing in and out, first-run set-up, language.
    cfg.route("/login", web::get().to(auth::login_form));
    cfg.route("/login", web::post().to(auth::login));
    cfg.route("/logout", web::post().to(auth::logout));
    cfg.route("/setup", web::get().to(auth::setup_form));
    cfg.route("/setup", web::post().to(auth::setup));
    cfg.route("/language", web::post().to(language::switch));

    // Reading the numbers.
    cfg.route("/", web::get().to(dashboard::show));
    cfg.route("/adoption", web::get().to(adoption::show));
    cfg.route("/adoption.csv", web::get().to(adoption::download));
    cfg.route("/adoption/rollout", web::post().to(adoption::set_rollout));

    // People: per-person data, for the roles that need it.
    cfg.route("/people", web::get().to(people::list));
    cfg.route("/people.csv", web::get().to(people::download));
    cfg.route("/people/{user_id}", web::get().to(person::show));

    // Bringing data in.
    cfg.route("/imports", web::get().to(imports::page));
    cfg.route("/imports/people", web::post().to(imports::upload_people));
    cfg.route("/imports/events", web::post().to(imports::upload_events));
    cfg.route("/imports/exports", web::post().to(imports::upload_exports));

    // Column mapping.
    cfg.route("/imports/mapping", web::get().to(mapping::page));
    cfg.route("/imports/mapping/upload", web::post().to(mapping::upload));
    cfg.route("/imports/mapping/apply", web::post().to(mapping::apply));
    cfg.route("/imports/mapping/preview", web::post().to(mapping::preview));
    cfg.route("/imports/mapping/import", web::post().to(mapping::import));
    cfg.route("/imports/mapping/presets", web::post().to(mapping::save_preset));
    cfg.route("/imports/mapping/presets/{id}/delete", web::post().to(mapping::delete_preset));
    cfg.route("/imports/mapping/{tail:.*}", web::get().to(mapping::back));

    // Administration.
    cfg.route("/settings", web::get().to(settings::page));
    cfg.route("/settings", web::post().to(settings::save));
    cfg.route("/accounts", web::get().to(accounts::list));
    cfg.route("/accounts", web::post().to(accounts::create));
    cfg.route("/accounts/{id}/role", web::post().to(accounts::set_role));
    cfg.route("/accounts/{id}/disable", web::post().to(accounts::disable));
    cfg.route("/account/password", web::get().to(accounts::password_form));
    cfg.route("/account/password", web::post().to(accounts::change_password));
    cfg.route("/audit", web::get().to(audit::list));
    cfg.route("/tokens", web::get().to(tokens::list));
    cfg.route("/tokens", web::post().to(tokens::create));
    cfg.route("/tokens/{id}/revoke", web::post().to(tokens::revoke));

    // The push API. Bearer tokens, JSON answers; described by its OpenAPI
    // document (a test checks that it lists every route here).
    cfg.route("/api/v1/events", web::post().to(api::events::push));
    cfg.route("/api/v1/people/{user_id}/metrics", web::get().to(api::read::person_metrics));
    cfg.route("/api/v1/summary", web::get().to(api::read::summary));
    cfg.route("/api/v1/openapi.json", web::get().to(api::openapi::document));
    cfg.route("/api/{tail:.*}", web::route().to(api::not_found));
}
