//! What every handler shares.

use std::sync::Arc;

use crate::storage::Db;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Set the `Secure` flag on cookies (on unless serving plain HTTP on a
    /// loopback address).
    pub secure_cookies: bool,
    pub cache: Arc<super::handlers::cache::EvaluationCache>,
}

impl AppState {
    pub fn new(db: Db, secure_cookies: bool) -> AppState {
        AppState { db, secure_cookies, cache: Arc::default() }
    }
}
