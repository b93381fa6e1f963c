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

pub use crate::app::secrets::{hex, is_visitor_token, random_token, same_secret, token_hash, visitor_token};

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

/// A web origin: scheme, host and port (the default port when none is
/// written), compared as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute http(s) address (`Origin`, `Referer`,
    /// the `public_url` setting).
    pub fn of_url(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.trim().split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        Origin::new(scheme, authority)
    }

    /// The origin of a scheme and a `host[:port]`.
    pub fn new(scheme: &str, authority: &str) -> Option<Origin> {
        let scheme = scheme.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        if authority.contains(['@', ' ', '\\']) {
            return None;
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']')?;
                (format!("[{host}]"), after)
            }
            None => match authority.split_once(':') {
                Some((host, port)) => (host.to_string(), port),
                None => (authority.to_string(), ""),
            },
        };
        let port = match port {
            "" => default,
            p => p.strip_prefix(':').unwrap_or(p).parse().ok()?,
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        (!host.is_empty() && host != "[]").then_some(Origin { scheme, host, port })
    }
}

/// The origin this request was addressed to: its Host header, over HTTPS
/// when cookies are Secure (the site is then served over HTTPS, usually by a
/// proxy). `X-Forwarded-Proto` and `X-Forwarded-Host` count only from a
/// trusted proxy.
fn own_origin(req: &HttpRequest, state: &AppState) -> Option<Origin> {
    let trusted = req.peer_addr().is_some_and(|a| state.trusted_proxies.contains(&a.ip()));
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let forwarded = |name: &str| if trusted { header(name) } else { None };
    let scheme = forwarded("x-forwarded-proto")
        .unwrap_or_else(|| if state.secure_cookies { "https".into() } else { "http".into() });
    let host = forwarded("x-forwarded-host")
        .or_else(|| header("host"))
        .or_else(|| req.uri().authority().map(|a| a.to_string()))?;
    Origin::new(&scheme, &host)
}

/// Whether a state-changing request comes from one of our own pages: the
/// origin its browser names (`Origin`, else `Referer`) is the one it was
/// sent to or the configured public address. A request naming none (curl,
/// scripts, some privacy settings) passes on its token alone.
async fn same_origin(req: &HttpRequest, state: &AppState) -> Result<bool, WebError> {
    let named = |h: actix_web::http::header::HeaderName| req.headers().get(h).map(|v| v.to_str().unwrap_or(""));
    let claimed = match named(actix_web::http::header::ORIGIN).or_else(|| named(actix_web::http::header::REFERER)) {
        None => return Ok(true),
        Some(value) => match Origin::of_url(value) {
            Some(origin) => origin,
            // "null" (a sandboxed or privacy-stripped page) or junk.
            None => return Ok(false),
        },
    };
    if own_origin(req, state).as_ref() == Some(&claimed) {
        return Ok(true);
    }
    let public = crate::app::settings::public_url(&state.db).await?;
    Ok(public.as_deref().and_then(Origin::of_url).as_ref() == Some(&claimed))
}

/// Refuses a state-changing request from another origin, or without the
/// expected token.
async fn check_csrf(req: &HttpRequest, state: &AppState, expected: &str) -> Result<(), WebError> {
    if is_safe(req.method()) {
        return Ok(());
    }
    if !same_origin(req, state).await? {
        return Err(WebError::Csrf);
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
            check_csrf(&req, state, &session.csrf_token).await?;
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
    /// Without a choice, the browser's Accept-Language named a language
    /// the app speaks.
    pub browser_language: bool,
}

impl Anonymous {
    pub fn cookie(&self, secure: bool) -> Option<Cookie<'static>> {
        self.fresh.then(|| cookie(ANON_COOKIE, self.csrf.clone(), secure, true))
    }
}

impl FromRequest for Anonymous {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Anonymous, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| anyhow::anyhow!("no app state"))?;
            let chose_language = req.cookie(LANG_COOKIE).is_some();
            let browser_language = !chose_language
                && req
                    .headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|h| h.to_str().ok())
                    .and_then(Lang::from_accept_language)
                    .is_some();
            let lang = language(&req);
            // Only a token this server signed counts: one planted in the
            // cookie by someone else (a sibling subdomain) does not.
            let existing =
                req.cookie(ANON_COOKIE).map(|c| c.value().to_string()).filter(|v| is_visitor_token(&state.form_key, v));
            match existing {
                Some(csrf) => {
                    check_csrf(&req, state, &csrf).await?;
                    Ok(Anonymous { lang, csrf, fresh: false, chose_language, browser_language })
                }
                None if is_safe(req.method()) => Ok(Anonymous {
                    lang,
                    csrf: visitor_token(&state.form_key),
                    fresh: true,
                    chose_language,
                    browser_language,
                }),
                None => Err(WebError::Csrf),
            }
        })
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

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let o = |u: &str| Origin::of_url(u);
        assert_eq!(o("http://Example.com"), o("http://example.com:80/path?q"));
        assert_eq!(o("https://example.com/"), o("https://example.com:443"));
        assert_ne!(o("http://example.com"), o("https://example.com"));
        assert_ne!(o("http://example.com:8080"), o("http://example.com"));
        assert_ne!(o("http://example.com.evil.net"), o("http://example.com"));
        assert_eq!(o("http://[::1]:8080/"), Origin::new("http", "[::1]:8080"));
        assert_eq!(Origin::new("http", "127.0.0.1:8080"), o("http://127.0.0.1:8080"));
        for junk in ["null", "", "ftp://example.com", "http://", "http://user@evil.example", "http://example.com:99999"]
        {
            assert_eq!(o(junk), None, "{junk:?}");
        }
    }
}
