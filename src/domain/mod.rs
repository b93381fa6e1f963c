//! The pure domain core: the activity model and its rules. Plain types and
//! functions; no I/O, no database, no clock.

pub mod account;
pub mod activity_series;
pub mod adoption;
pub mod aggregated;
pub mod calendar;
pub mod chunked;
pub mod codebook;
pub mod coverage;
pub mod dataset;
pub mod decimal;
pub mod demo;
pub mod effect;
pub mod evaluation;
pub mod facts;
pub mod first_run;
pub mod interview;
pub mod kind;
pub mod mapping;
pub mod meeting;
pub mod metrics;
pub mod oidc;
pub mod privacy;
pub mod profile;
pub mod report;
pub mod retention;
pub mod sampling;
pub mod scheduling;
pub mod scim;
pub mod settings;
pub mod state;
pub mod study;
pub mod survey;
pub mod survey_text;
pub mod tier;
pub mod timestamp;

#[cfg(test)]
mod metrics_tests;
