//! Undercurrent: measures real activity under an enterprise messaging tool's
//! login rate. See the README's code tour for where to start reading.

pub mod app;
pub mod cli;
pub mod csv_out;
pub mod domain;
pub mod ingest;
pub mod mail;
pub mod storage;
pub mod web;
