//! The integration tests, one binary: each module is one area of the
//! product, driven as a user or a client would (a real server, a real
//! database per test, real files); `common` is the harness.

mod common;

mod account_invitations;
mod api;
mod architecture;
mod browser;
mod browser_first_run;
mod browser_flow;
mod browser_layout;
mod browser_mapping;
mod browser_participant;
mod browser_studies;
mod browser_voices;
mod busy_calendars;
mod calendars;
pub mod chinese;
mod cli;
mod coverage;
mod demo;
mod encodings;
mod faults;
mod first_run;
mod formats;
mod fuzz_regressions;
mod golden;
mod harness;
mod holdout;
mod identity;
mod import_batches;
mod import_errors;
mod instances;
mod mail;
mod mapping;
mod output_safety;
mod outreach;
mod outreach_mail;
mod participant_security;
mod privacy_floor;
mod properties;
mod rights;
mod slack_events;
mod stored_results;
mod upgrade;
mod vendor_events;
mod vendor_import;
mod vendor_parsers;
mod web;
mod web_auth;
mod web_imports;
mod web_interviews;
mod web_people;
mod web_report;
mod web_settings;
mod web_studies;
mod web_surveys;
