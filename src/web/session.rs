//! Who is asking: the signed-in `Viewer` (a database session named by a
//! random cookie token) or an `Anonymous` visitor, and the CSRF check that
//! both apply to every state-changing request.
//!
//! Every form carries its token in the action URL (`?csrf=...`), so the one
//! check here covers urlencoded and multipart posts alike; the session cookie
//! is also SameSite=Lax and HttpOnly, and cross-origin posts are refused.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::error::WebError;
use super::i18n::Lang;
use super::state::AppState;
use crate::domain::account::{Permission, Role};
use crate::storage::accounts::{self, Account};
use crate::storage::now;

pub const SESSION_COOKIE: &str = "uc_session";
pub const ANON_COOKIE: &str = "uc_anon";
pub const LANG_COOKIE: &str = "uc_lang";

/// A session ends after this long without a request...
pub const IDLE_TIMEOUT_SECONDS: i64 = 12 * 3600;
/// ...and after this long in any case.
pub const ABSOLUTE_TIMEOUT_SECONDS: i64 = 7 * 24 * 3600;

pub use crate::app::secrets::{hex, random_token, same_secret, token_hash};

pub fn cookie(name: &'static str, value: String, secure: bool, http_only: bool) -> Cookie<'static> {
    Cookie::build(name, value).path("/").http_only(http_only).secure(secure).same_site(SameSite::Lax).finish()
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut c = Cookie::build(name, "").path("/").finish();
    c.make_removal();
    c.set_max_age(CookieDuration::ZERO);
    c
}

/// The language: the remembered choice, else Accept-Language, else English.
pub fn language(req: &HttpRequest) -> Lang {
    req.cookie(LANG_COOKIE)
        .and_then(|c| Lang::parse(c.value()))
        .or_else(|| {
            req.headers()
                .get(actix_web::http::header::ACCEPT_LANGUAGE)
                .and_then(|h| h.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The token a state-changing request presents.
fn presented_token(req: &HttpRequest) -> Option<String> {
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|h| h.to_str().ok()) {
        return Some(h.to_string());
    }
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("csrf").cloned())
}

/// Refuses a state-changing request from another origin, or without the
/// expected token.
fn check_csrf(req: &HttpRequest, expected: &str) -> Result<(), WebError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    if let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = req.connection_info().host().to_string();
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin != "null" && origin_host != host {
            return Err(WebError::Csrf);
        }
    }
    match presented_token(req) {
        Some(t) if !expected.is_empty() && same_secret(&t, expected) => Ok(()),
        _ => Err(WebError::Csrf),
    }
}

/// A signed-in account.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub account: Account,
    pub csrf: String,
    pub lang: Lang,
    pub token_hash: String,
}

impl Viewer {
    pub fn role(&self) -> Role {
        self.account.role
    }

    pub fn require(&self, p: Permission) -> Result<(), WebError> {
        if self.account.role.may(p) { Ok(()) } else { Err(WebError::Forbidden) }
    }

    pub fn audit_actor(&self) -> Option<(i64, &str)> {
        Some((self.account.id, self.account.email.as_str()))
    }
}

fn next_path(req: &HttpRequest) -> String {
    if is_safe(req.method()) {
        req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
    } else {
        "/".into()
    }
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Viewer, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("no app state"))?;
            let sign_in = || WebError::SignIn { next: next_path(&req) };
            let token = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()).ok_or_else(sign_in)?;
            let hash = token_hash(&token);
            let session = accounts::session(&state.db, &hash).await?.ok_or_else(sign_in)?;
            let t = now();
            if session.account.disabled
                || t - session.last_seen > IDLE_TIMEOUT_SECONDS
                || t - session.created_at > ABSOLUTE_TIMEOUT_SECONDS
            {
                accounts::delete_session(&state.db, &hash).await?;
                return Err(sign_in());
            }
            check_csrf(&req, &session.csrf_token)?;
            if t - session.last_seen > 60 {
                accounts::touch_session(&state.db, &hash).await?;
            }
            Ok(Viewer { account: session.account, csrf: session.csrf_token, lang: language(&req), token_hash: hash })
        })
    }
}

/// A visitor who is not signed in: a language and a CSRF token kept in a
/// cookie (double submit) for the sign-in and set-up forms.
#[derive(Clone, Debug)]
pub struct Anonymous {
    pub lang: Lang,
    pub csrf: String,
    /// The token is new and must be set as a cookie on the response.
    pub fresh: bool,
    /// The visitor picked the language themselves (the language cookie).
    pub chose_language: bool,
}

impl Anonymous {
    pub fn cookie(&self, secure: bool) -> Option<Cookie<'static>> {
        self.fresh.then(|| cookie(ANON_COOKIE, self.csrf.clone(), secure, true))
    }
}

impl FromRequest for Anonymous {
    type Error = WebError;
    type Future = std::future::Ready<Result<Anonymous, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let chose_language = req.cookie(LANG_COOKIE).is_some();
        let existing = req.cookie(ANON_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() == 64);
        let result = match existing {
            Some(csrf) => {
                check_csrf(req, &csrf).map(|_| Anonymous { lang: language(req), csrf, fresh: false, chose_language })
            }
            None if is_safe(req.method()) => {
                Ok(Anonymous { lang: language(req), csrf: random_token(), fresh: true, chose_language })
            }
            None => Err(WebError::Csrf),
        };
        std::future::ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_in_full() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &a[..63]));
        assert_eq!(token_hash("x").len(), 64);
    }
}
