//! Signing in with an OpenID Connect provider: `/auth/oidc/{slug}/start`
//! sends the browser to the provider; `/auth/oidc/{slug}/callback` is where
//! it comes back. Both are GETs by the protocol; the state (bound to this
//! browser by a cookie, kept server-side, used once) stands in for the
//! CSRF token.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::{safe_next, start_session};
use super::{html, see_other};
use crate::app::oidc::{self as service, Callback};
use crate::storage::{audit, oidc as store};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::{ANON_COOKIE, Anonymous, cookie, removal};
use crate::web::state::AppState;

/// The cookie holding the state of this browser's sign-in under way.
pub const STATE_COOKIE: &str = "uc_oidc_state";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartQuery {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    state: String,
    code: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "oidc_refused.html")]
struct RefusedPage {
    page: Page,
    message: String,
}

/// This site's address as providers know it: the `public_url` setting,
/// else the address the server was started on.
pub async fn site_base(state: &AppState) -> Result<String, WebError> {
    let public = crate::app::settings::public_url(&state.db).await?;
    public
        .or_else(|| state.base_url.as_deref().map(str::to_string))
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("no public_url is set, so no redirect URI can be given")))
}

pub async fn start(
    anon: Anonymous,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    q: web::Query<StartQuery>,
) -> Result<HttpResponse, WebError> {
    let provider = store::by_slug(&state.db, &slug).await?.ok_or(WebError::NotFound)?;
    let base = site_base(&state).await?;
    let started = match service::start(&state.db, &state.oidc, &provider, &base, &safe_next(&q.next)).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(provider = %provider.settings.slug, "the provider cannot be reached: {e:#}");
            return refused(&anon, "oidc.refused.unreachable", actix_web::http::StatusCode::BAD_GATEWAY);
        }
    };
    let mut response = see_other(&started.url);
    let mut c = cookie(STATE_COOKIE, started.state, state.secure_cookies, true);
    c.set_max_age(actix_web::cookie::time::Duration::seconds(service::LOGIN_SECONDS));
    response.add_cookie(&c).map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}

fn refused(anon: &Anonymous, key: &str, status: actix_web::http::StatusCode) -> Result<HttpResponse, WebError> {
    let page = RefusedPage {
        page: Page::anonymous(anon, "oidc.refused.title"),
        message: anon.lang.catalog().get(key).to_string(),
    };
    let mut response = html(&page)?;
    *response.status_mut() = status;
    response.add_cookie(&removal(STATE_COOKIE)).map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}

pub async fn callback(
    req: HttpRequest,
    anon: Anonymous,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    q: web::Query<CallbackQuery>,
) -> Result<HttpResponse, WebError> {
    let provider = store::by_slug(&state.db, &slug).await?.ok_or(WebError::NotFound)?;
    let base = site_base(&state).await?;
    let browser_state = req.cookie(STATE_COOKIE).map(|c| c.value().to_string());
    let back = Callback {
        state: &q.state,
        code: q.code.as_deref(),
        error: q.error.as_deref(),
        browser_state: browser_state.as_deref(),
    };
    let signed_in = match service::finish(&state.db, &state.oidc, &provider, &base, back).await? {
        Ok(s) => s,
        Err(refusal) => return refused(&anon, refusal.key(), actix_web::http::StatusCode::FORBIDDEN),
    };
    audit::record(
        &state.db,
        Some((signed_in.account_id, &signed_in.email)),
        "sign_in",
        Some(&provider.settings.slug),
        None,
    )
    .await?;
    let mut response = see_other(&safe_next(&signed_in.next));
    let token_hash = start_session(&state.db, state.secure_cookies, signed_in.account_id, &mut response).await?;
    store::remember_session(&state.db, &token_hash, signed_in.provider_id, &signed_in.id_token).await?;
    response.add_cookie(&removal(ANON_COOKIE)).map_err(|e| WebError::Internal(e.into()))?;
    response.add_cookie(&removal(STATE_COOKIE)).map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}

/// Where the browser goes after signing out of a session a provider opened:
/// the provider's end-session endpoint when it has one (RP-initiated
/// logout), else the sign-in page.
pub async fn after_sign_out(state: &AppState, session_token_hash: &str) -> Result<String, WebError> {
    let Some((provider_id, id_token)) = store::take_session(&state.db, session_token_hash).await? else {
        return Ok("/login".into());
    };
    let base = site_base(state).await?;
    let after = format!("{}/login", base.trim_end_matches('/'));
    match service::logout_url(&state.db, &state.oidc, provider_id, &id_token, &after).await {
        Ok(Some(url)) => Ok(url),
        Ok(None) => Ok("/login".into()),
        Err(e) => {
            tracing::warn!("the provider's logout address is unknown: {e:#}");
            Ok("/login".into())
        }
    }
}
