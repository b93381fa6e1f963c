//! What every handler shares.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::storage::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Set the `Secure` flag on cookies (on unless serving plain HTTP on a
    /// loopback address).
    pub secure_cookies: bool,
    pub cache: Arc<super::cache::EvaluationCache>,
    /// Directory details by data version (the people list and CSV).
    pub directories: Arc<super::cache::DirectoryCache>,
    /// The read API's rows of the latest snapshot.
    pub export_rows: Arc<super::cache::SnapshotMemo<super::api::read::ExportRows>>,
    /// Wakes this process's outbox worker after a change queued e-mail.
    pub outbox: Arc<Notify>,
    /// Where e-mail goes, for the pages that say so.
    pub mail_description: Arc<str>,
    pub mail_to_folder: bool,
    /// Requests served by this process, for `/metrics`.
    pub metrics: Arc<super::metrics::Metrics>,
    /// Where uploads wait while they are imported or mapped (the system's
    /// temporary folder unless `serve --upload-dir` says otherwise; shared
    /// by every instance when several serve one database).
    pub upload_dir: Arc<std::path::Path>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Signs visitors' form tokens (`app::secrets::server_key`; a key of
    /// this process's own until `serve` reads the shared one).
    pub form_key: Arc<[u8]>,
    /// The address the server was configured with (`serve --bind`), for
    /// links in e-mails when no `public_url` is set; `None` when it is not
    /// one participants could reach by (an unspecified bind address).
    /// Never taken from a request's headers.
    pub base_url: Option<Arc<str>>,
    /// Answers by anonymous survey links per client address (in memory).
    pub open_answers: Arc<super::handlers::survey_response::OpenAnswerLimiter>,
    /// OpenID Connect providers' discovery documents and keys.
    pub oidc: Arc<crate::app::oidc::Discovery>,
}

impl AppState {
    pub fn new(db: Db, secure_cookies: bool) -> AppState {
        AppState {
            db,
            secure_cookies,
            cache: Arc::default(),
            directories: Arc::default(),
            export_rows: Arc::default(),
            outbox: Arc::default(),
            mail_description: Arc::from("data/outbox"),
            mail_to_folder: true,
            metrics: Arc::default(),
            upload_dir: Arc::from(std::env::temp_dir()),
            trusted_proxies: Arc::from([]),
            form_key: Arc::from(crate::app::secrets::process_key()),
            base_url: None,
            open_answers: Arc::default(),
            oidc: Arc::default(),
        }
    }

    pub fn wake_outbox(&self) {
        self.outbox.notify_one();
    }
}
