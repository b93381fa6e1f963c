//! Signing in and out, and the first-run set-up of an administrator.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{client_ip, html, see_other};
use crate::app::accounts::{self as account_service, CreateError, verify_password_off_thread};
use crate::app::first_run::{self, Organisation};
use crate::app::oidc_admin;
use crate::app::sign_in::{self as throttle, Attempt};
use crate::domain::account::Role;
use crate::storage::{Db, accounts, audit, now};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::{ANON_COOKIE, Anonymous, SESSION_COOKIE, Viewer, cookie, random_token, removal, token_hash};
use crate::web::state::AppState;

pub use crate::app::sign_in::{MAX_FAILURES, THROTTLE_SECONDS};

/// A hash to verify against when the e-mail is unknown, so that both cases
/// take the same time.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| account_service::hash_password("no such account").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_local_paths_are_followed() {
        assert_eq!(super::safe_next("/people?tier=deep"), "/people?tier=deep");
        for bad in ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example", "/a b", ""] {
            assert_eq!(super::safe_next(bad), "/", "{bad:?}");
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    email: String,
    next: String,
    error: Option<String>,
    /// "Sign in with ..." buttons: the provider's slug and name.
    providers: Vec<(String, String)>,
    /// Local passwords are off (for all but the break-glass accounts).
    passwords_off: bool,
}

/// The providers' buttons and whether passwords are off, for the page.
async fn sign_in_options(db: &Db) -> Result<(Vec<(String, String)>, bool), WebError> {
    let providers =
        crate::storage::oidc::list(db).await?.into_iter().map(|p| (p.settings.slug, p.settings.display_name)).collect();
    let (on, _) = oidc_admin::password_policy(db).await?;
    Ok((providers, !on))
}

/// The page that sends a signed-out browser on to its identity provider.
#[derive(Template)]
#[template(path = "oidc_sign_out.html")]
struct ProviderSignOut {
    lang: &'static str,
    title: String,
    link: String,
    url: String,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    page: Page,
    email: String,
    name: String,
    organisation: String,
    /// The chosen zone; the page's script replaces the default with the
    /// browser's zone.
    timezone: String,
    /// The zone was chosen (a form shown again): the script leaves it.
    zone_chosen: bool,
    timezones: Vec<&'static str>,
    profile: String,
    /// Each profile: its id and its name in the reader's language.
    profiles: Vec<(&'static str, String)>,
    error: Option<String>,
}

impl SetupPage {
    /// The form, empty or as submitted.
    fn new(anon: &Anonymous, form: &SetupForm, error: Option<String>) -> SetupPage {
        let page = Page::anonymous(anon, "setup.title");
        let profiles = crate::domain::profile::ProfileId::ALL
            .iter()
            .map(|p| (p.as_str(), page.t(&format!("profile.{}", p.as_str()))))
            .collect();
        let org = Organisation::new(&form.organisation, &form.timezone, &form.profile);
        SetupPage {
            email: form.email.clone(),
            name: form.name.clone(),
            organisation: form.organisation.clone(),
            timezone: org.timezone.to_string(),
            zone_chosen: !form.timezone.trim().is_empty(),
            timezones: chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect(),
            profile: org.profile.to_string(),
            profiles,
            error,
            page,
        }
    }
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupForm {
    email: String,
    name: String,
    password: String,
    organisation: String,
    timezone: String,
    profile: String,
}

/// Only local paths: no open redirect. Browsers drop tabs and newlines from
/// URLs (`/\t/evil` becomes `//evil`), so any control character, space or
/// backslash disqualifies a path.
pub fn safe_next(next: &str) -> String {
    let local =
        next.starts_with('/') && !next.starts_with("//") && !next.bytes().any(|b| b <= 0x20 || b == 0x7f || b == b'\\');
    if local { next.to_string() } else { "/".into() }
}

fn with_anon_cookie(mut response: HttpResponse, anon: &Anonymous, state: &AppState) -> Result<HttpResponse, WebError> {
    if let Some(c) = anon.cookie(state.secure_cookies) {
        response.add_cookie(&c).map_err(|e| WebError::Internal(e.into()))?;
    }
    Ok(response)
}

pub async fn login_form(
    anon: Anonymous,
    state: web::Data<AppState>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    if accounts::count(&state.db).await? == 0 {
        return Ok(see_other("/setup"));
    }
    let (providers, passwords_off) = sign_in_options(&state.db).await?;
    let page = LoginPage {
        page: Page::anonymous(&anon, "login.title"),
        email: String::new(),
        next: safe_next(&q.next),
        error: None,
        providers,
        passwords_off,
    };
    with_anon_cookie(html(&page)?, &anon, &state)
}

/// Starts a new session for the account: a new token, set as the cookie
/// on `response` (every sign-in, and every password change, gets one).
/// Returns the token's hash (the session's name in the database).
pub async fn start_session(
    db: &Db,
    secure: bool,
    account_id: i64,
    response: &mut HttpResponse,
) -> Result<String, WebError> {
    let token = random_token();
    let hash = token_hash(&token);
    accounts::create_session(db, &hash, account_id, &random_token()).await?;
    response.add_cookie(&cookie(SESSION_COOKIE, token, secure, true)).map_err(|e| WebError::Internal(e.into()))?;
    Ok(hash)
}

/// Starts a new session and redirects.
async fn sign_in(state: &AppState, account_id: i64, next: &str) -> Result<HttpResponse, WebError> {
    let mut response = see_other(&safe_next(next));
    start_session(&state.db, state.secure_cookies, account_id, &mut response).await?;
    response.add_cookie(&removal(ANON_COOKIE)).map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}

pub async fn login(
    req: HttpRequest,
    anon: Anonymous,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let email = form.email.trim().to_lowercase();
    let ip = client_ip(&req);
    let t = anon.lang.catalog();
    let (providers, passwords_off) = sign_in_options(&state.db).await?;
    let retry = |error: String| LoginPage {
        page: Page::anonymous(&anon, "login.title"),
        email: email.clone(),
        next: safe_next(&form.next),
        error: Some(error),
        providers: providers.clone(),
        passwords_off,
    };
    // Passwords off: only the break-glass accounts may use theirs.
    if !oidc_admin::password_allowed(&state.db, &email).await? {
        let body = retry(t.get("login.passwords_off").to_string()).render()?;
        return Ok(HttpResponse::Forbidden().content_type("text/html; charset=utf-8").body(body));
    }
    // Counted before the password is checked, so that parallel guesses get
    // no more checks than the limit.
    let at = now();
    let refusal = match throttle::begin(&state.db, &email, Some(&ip), at).await? {
        Attempt::Allowed => None,
        Attempt::SlowDown => Some("login.slow_down"),
        Attempt::Locked => Some("login.throttled"),
    };
    if let Some(key) = refusal {
        let body = retry(t.get(key).to_string()).render()?;
        return Ok(HttpResponse::TooManyRequests().content_type("text/html; charset=utf-8").body(body));
    }
    let found = accounts::find_for_login(&state.db, &email).await?;
    let hash = found.as_ref().map(|(_, h)| h.as_str()).unwrap_or(dummy_hash());
    let password_ok = verify_password_off_thread(&form.password, hash).await;
    match found {
        Some((account, _)) if password_ok && !account.disabled => {
            throttle::succeeded(&state.db, &email, Some(&ip), at).await?;
            audit::record(&state.db, Some((account.id, &account.email)), "sign_in", None, None).await?;
            sign_in(&state, account.id, &form.next).await
        }
        _ => {
            throttle::failed(&state.db, &email, Some(&ip), at).await?;
            html(&retry(t.get("login.failed").to_string()))
        }
    }
}

pub async fn logout(viewer: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    // A session a provider opened ends at the provider too, when it offers
    // RP-initiated logout.
    let after = super::oidc::after_sign_out(&state, &viewer.token_hash).await?;
    accounts::delete_session(&state.db, &viewer.token_hash).await?;
    audit::record(&state.db, viewer.audit_actor(), "sign_out", None, None).await?;
    // The provider is another origin: a form's redirect there would break
    // the form-action 'self' policy, so a page sends the browser on.
    let mut response = if after.starts_with('/') {
        see_other(&after)
    } else {
        let t = viewer.lang.catalog();
        html(&ProviderSignOut {
            lang: viewer.lang.code(),
            title: t.get("oidc.signing_out").to_string(),
            link: t.get("oidc.signing_out_link").to_string(),
            url: after,
        })?
    };
    response.add_cookie(&removal(SESSION_COOKIE)).map_err(|e| WebError::Internal(e.into()))?;
    // Interview drafts kept in this browser go with the session (the page's
    // script clears them too, for browsers without this header).
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("clear-site-data"),
        actix_web::http::header::HeaderValue::from_static("\"storage\""),
    );
    Ok(response)
}

pub async fn setup_form(anon: Anonymous, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    if accounts::count(&state.db).await? > 0 {
        return Ok(see_other("/login"));
    }
    let page = SetupPage::new(&anon, &SetupForm::default(), None);
    with_anon_cookie(html(&page)?, &anon, &state)
}

pub async fn setup(
    anon: Anonymous,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, WebError> {
    if accounts::count(&state.db).await? > 0 {
        return Ok(see_other("/login"));
    }
    let t = anon.lang.catalog();
    // The organisation is checked first, so that no account is created
    // for a form shown again.
    let org = Organisation::new(&form.organisation, &form.timezone, &form.profile);
    if first_run::check(&org).is_err() {
        return html(&SetupPage::new(&anon, &form, Some(t.get("firstrun.setup_invalid").to_string())));
    }
    let error =
        match account_service::create(&state.db, &form.email, &form.name, Role::Admin, &form.password, None).await? {
            Ok(id) => {
                first_run::save(&state.db, &org).await.map_err(|e| WebError::Internal(anyhow::anyhow!("{e}")))?;
                return sign_in(&state, id, "/").await;
            }
            Err(CreateError::Email(_)) => t.get("account.bad_email").to_string(),
            Err(CreateError::Password(key)) => t.get(key).to_string(),
            Err(CreateError::Taken) => t.get("account.taken").to_string(),
        };
    html(&SetupPage::new(&anon, &form, Some(error)))
}
