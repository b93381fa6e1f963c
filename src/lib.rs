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

/// Makes ring the process's TLS crypto provider, as the mail transport
/// uses: rustls needs one chosen, and every reqwest client (the calendar
/// reader's, and the tests') builds its TLS settings from it. Safe to call
/// more than once.
pub fn install_tls_provider() {
    // Err only when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
