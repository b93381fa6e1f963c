//! Every route, in one place, grouped by area. Every mutation is a POST.

use actix_web::web;

use super::handlers::{
    accounts, adoption, audit, auth, dashboard, imports, language, people, person, settings, static_files,
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
}
