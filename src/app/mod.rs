//! Application services shared by the command line and the web: they tie
//! the pure domain to storage (imports, evaluations, settings).

pub mod accounts;
pub mod add_people;
pub mod demo;
pub mod effect;
pub mod evaluate;
pub mod export;
pub mod first_run;
pub mod import;
pub mod import_facts;
pub mod import_slack;
pub mod interviewer_calendar;
pub mod interviewer_feed;
pub mod interviews;
pub mod messages;
pub mod oidc;
pub mod oidc_admin;
pub mod oidc_http;
pub mod outbox;
pub mod outreach;
pub mod participant;
pub mod people_list;
pub mod person;
pub mod report;
pub mod results;
pub mod retention;
pub mod rights;
pub mod scim;
pub mod secrets;
pub mod settings;
pub mod settings_preview;
pub mod sign_in;
pub mod spool;
pub mod studies;
pub mod surveys;
pub mod vendor_events;
