//! Every route, in one place, grouped by area. Every mutation is a POST.

use actix_web::web;

use super::handlers::{
    accounts, add_to_study, adoption, audit, auth, calendar, calendar_feed, codebook, dashboard, first_run, identity,
    imports, interviews, language, mapping, oidc, participant, people, person, place, report, rights, rounds, settings,
    static_files, studies, survey_response, surveys, tokens, welcome,
};
use super::{api, scim};

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Assets and health.
    cfg.route("/static/{file}", web::get().to(static_files::serve));
    cfg.route("/healthz", web::get().to(static_files::health));
    cfg.route("/readyz", web::get().to(static_files::ready));
    cfg.route("/metrics", web::get().to(super::metrics::scrape));

    // Signing in and out, first-run set-up, language.
    cfg.route("/login", web::get().to(auth::login_form));
    cfg.route("/login", web::post().to(auth::login));
    cfg.route("/logout", web::post().to(auth::logout));
    cfg.route("/setup", web::get().to(auth::setup_form));
    cfg.route("/setup", web::post().to(auth::setup));
    // An invitation's one-time link: the invitee sets their own password.
    cfg.route("/welcome/{token}", web::get().to(welcome::form));
    cfg.route("/welcome/{token}", web::post().to(welcome::accept));
    cfg.route("/language", web::post().to(language::switch));
    // Signing in with an OpenID Connect provider (GETs by the protocol; the
    // state, bound to the browser and used once, stands for the CSRF token).
    cfg.route("/auth/oidc/{slug}/start", web::get().to(oidc::start));
    cfg.route("/auth/oidc/{slug}/callback", web::get().to(oidc::callback));

    // Reading the numbers.
    cfg.route("/", web::get().to(dashboard::show));
    cfg.route("/first-run/dismiss", web::post().to(first_run::dismiss));
    cfg.route("/adoption", web::get().to(adoption::show));
    cfg.route("/adoption.csv", web::get().to(adoption::download));
    cfg.route("/adoption/rollout", web::post().to(adoption::set_rollout));

    // People: per-person data, for the roles that need it.
    cfg.route("/people", web::get().to(people::list));
    cfg.route("/people.csv", web::get().to(people::download));
    cfg.route("/people/{user_id}", web::get().to(person::show));
    cfg.route("/people/{user_id}/export.json", web::get().to(rights::export));
    cfg.route("/people/{user_id}/erase", web::post().to(rights::erase));

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

    // Outreach: studies, rounds, availability and interviews (researchers).
    cfg.route("/studies", web::get().to(studies::list));
    cfg.route("/studies", web::post().to(studies::create));
    cfg.route("/studies/new", web::get().to(studies::new_form));
    cfg.route("/studies/add-people", web::get().to(add_to_study::form));
    cfg.route("/studies/add-people", web::post().to(add_to_study::add));
    cfg.route("/studies/{id}", web::get().to(studies::show));
    cfg.route("/studies/{id}/edit", web::get().to(studies::edit_form));
    cfg.route("/studies/{id}/edit", web::post().to(studies::save));
    cfg.route("/studies/{id}/close", web::post().to(studies::close));
    cfg.route("/report", web::get().to(report::overall));
    cfg.route("/report.csv", web::get().to(report::overall_csv));
    cfg.route("/report.json", web::get().to(report::overall_json));
    cfg.route("/report.print.css", web::get().to(report::overall_print_css));
    cfg.route("/studies/{id}/report", web::get().to(report::show));
    cfg.route("/studies/{id}/report.csv", web::get().to(report::csv));
    cfg.route("/studies/{id}/report.json", web::get().to(report::json));
    cfg.route("/studies/{id}/report.print.css", web::get().to(report::print_css));
    cfg.route("/studies/{id}/surveys", web::get().to(surveys::list));
    cfg.route("/studies/{id}/surveys", web::post().to(surveys::create));
    cfg.route("/studies/{id}/surveys/preview", web::post().to(surveys::preview));
    cfg.route("/studies/{id}/surveys/{survey}", web::get().to(surveys::show));
    cfg.route("/studies/{id}/surveys/{survey}/send", web::post().to(surveys::send));
    cfg.route("/studies/{id}/surveys/{survey}/anonymous", web::post().to(surveys::anonymous));
    cfg.route("/studies/{id}/surveys/{survey}/answers", web::get().to(surveys::answers));
    cfg.route(
        "/studies/{id}/surveys/{survey}/answers/{response}/{question}/clear",
        web::post().to(surveys::clear_answer),
    );
    cfg.route("/studies/{id}/codebook", web::get().to(codebook::show));
    cfg.route("/studies/{id}/codebook", web::post().to(codebook::add));
    cfg.route("/studies/{id}/codebook/{code}", web::post().to(codebook::edit));
    cfg.route("/studies/{id}/rounds", web::post().to(rounds::draw));
    cfg.route("/studies/{id}/rounds/{n}", web::get().to(rounds::show));
    cfg.route("/studies/{id}/rounds/{n}/add", web::post().to(rounds::add));
    cfg.route("/studies/{id}/rounds/{n}/send", web::post().to(rounds::send));
    cfg.route("/studies/{id}/invitations/{inv}/drop", web::post().to(rounds::drop_person));
    cfg.route("/availability", web::get().to(calendar::page));
    cfg.route("/availability", web::post().to(calendar::save_profile));
    cfg.route("/availability/place", web::get().to(place::page));
    cfg.route("/availability/place", web::post().to(place::save));
    cfg.route("/availability/weekly", web::post().to(calendar::add_weekly));
    cfg.route("/availability/one-off", web::post().to(calendar::add_one_off));
    cfg.route("/availability/feed", web::post().to(calendar::issue_feed));
    cfg.route("/availability/feed/revoke", web::post().to(calendar::revoke_feed));
    cfg.route("/availability/busy-calendar", web::post().to(calendar::connect_busy_calendar));
    cfg.route("/availability/busy-calendar/refresh", web::post().to(calendar::refresh_busy_calendar));
    cfg.route("/availability/busy-calendar/remove", web::post().to(calendar::remove_busy_calendar));
    cfg.route("/availability/{kind}/{id}/delete", web::post().to(calendar::delete));
    cfg.route("/calendar", web::get().to(calendar::calendar));
    cfg.route("/bookings/{id}/outcome", web::post().to(calendar::outcome));
    cfg.route("/bookings/{id}/cancel", web::post().to(calendar::cancel));
    cfg.route("/interviews/{id}", web::get().to(interviews::show));
    cfg.route("/interviews/{id}", web::post().to(interviews::save));
    cfg.route("/interviews/{id}/quotes", web::post().to(interviews::add_quote));
    cfg.route("/interviews/{id}/quotes/{quote}/delete", web::post().to(interviews::delete_quote));

    // Participants: no account, a token in the link.
    cfg.route("/i/{token}", web::get().to(participant::show));
    cfg.route("/i/{token}/book", web::post().to(participant::book));
    cfg.route("/i/{token}/cancel", web::post().to(participant::cancel));
    cfg.route("/i/{token}/decline", web::post().to(participant::decline));
    cfg.route("/i/{token}/opt-out", web::get().to(participant::opt_out_form));
    cfg.route("/i/{token}/opt-out", web::post().to(participant::opt_out));
    cfg.route("/o/{token}", web::get().to(participant::opt_out_link));
    cfg.route("/o/{token}", web::post().to(participant::opt_out_by_link));
    cfg.route("/s/open/{token}", web::get().to(survey_response::show_open));
    cfg.route("/s/open/{token}", web::post().to(survey_response::answer_open));
    cfg.route("/s/{token}", web::get().to(survey_response::show));
    cfg.route("/s/{token}", web::post().to(survey_response::answer));
    cfg.route("/feeds/{file}", web::get().to(calendar_feed::serve));
    cfg.route("/s/{token}/opt-out", web::post().to(survey_response::opt_out));

    // Administration.
    cfg.route("/settings", web::get().to(settings::page));
    cfg.route("/settings", web::post().to(settings::save));
    cfg.route("/settings/identity", web::get().to(identity::page));
    cfg.route("/settings/identity/providers", web::post().to(identity::create));
    cfg.route("/settings/identity/providers/{id}", web::get().to(identity::edit_form));
    cfg.route("/settings/identity/providers/{id}", web::post().to(identity::update));
    cfg.route("/settings/identity/providers/{id}/delete", web::post().to(identity::delete));
    cfg.route("/settings/identity/passwords", web::post().to(identity::passwords));
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

    // SCIM 2.0 directory sync for identity providers: bearer tokens with the
    // `scim` scope, no cookies (so no CSRF); SCIM JSON answers.
    cfg.route("/scim/v2/ServiceProviderConfig", web::get().to(scim::discovery::service_provider_config));
    cfg.route("/scim/v2/ResourceTypes", web::get().to(scim::discovery::list_resource_types));
    cfg.route("/scim/v2/ResourceTypes/{id}", web::get().to(scim::discovery::resource_type));
    cfg.route("/scim/v2/Schemas", web::get().to(scim::discovery::list_schemas));
    cfg.route("/scim/v2/Schemas/{id}", web::get().to(scim::discovery::schema));
    cfg.route("/scim/v2/Users", web::get().to(scim::users::list));
    cfg.route("/scim/v2/Users", web::post().to(scim::users::create));
    cfg.route("/scim/v2/Users/{id}", web::get().to(scim::users::show));
    cfg.route("/scim/v2/Users/{id}", web::put().to(scim::users::replace));
    cfg.route("/scim/v2/Users/{id}", web::patch().to(scim::users::patch));
    cfg.route("/scim/v2/Users/{id}", web::delete().to(scim::users::delete));
    cfg.route("/scim/v2/Groups", web::get().to(scim::groups::list));
    cfg.route("/scim/v2/Groups", web::post().to(scim::groups::create));
    cfg.route("/scim/v2/Groups/{id}", web::get().to(scim::groups::show));
    cfg.route("/scim/v2/Groups/{id}", web::put().to(scim::groups::replace));
    cfg.route("/scim/v2/Groups/{id}", web::patch().to(scim::groups::patch));
    cfg.route("/scim/v2/Groups/{id}", web::delete().to(scim::groups::delete));
    cfg.route("/scim/{tail:.*}", web::route().to(scim::not_found));
}
