//! API tokens (admins): list, create, revoke. A new token is shown once, on
//! the page that answers the creating post; only its SHA-256 is stored.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Tz;
use serde::Deserialize;

use super::{html, see_other};
use crate::app::settings;
use crate::domain::account::Permission;
use crate::storage::api_tokens::{self, ApiToken, Scope};
use crate::storage::audit;
use crate::web::api;
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

/// The longest token name accepted, in characters.
const MAX_NAME_CHARS: usize = 100;

/// A token as listed.
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scopes: String,
    pub created: String,
    pub created_by: Option<String>,
    pub last_used: Option<String>,
    pub revoked: Option<String>,
}

/// The token just created: shown on this one page, never again.
pub struct NewToken {
    pub name: String,
    pub token: String,
}

/// The create form as last submitted (kept when it is refused).
pub struct FormValues {
    pub name: String,
    pub ingest: bool,
    pub read: bool,
    pub scim: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    page: Page,
    tokens: Vec<TokenRow>,
    new_token: Option<NewToken>,
    error: Option<String>,
    revoked: bool,
    form: FormValues,
    timezone: String,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewTokenForm {
    name: String,
    scope_ingest: Option<String>,
    scope_read: Option<String>,
    scope_scim: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    revoked: Option<String>,
}

fn scope_label(page: &Page, scope: Scope) -> String {
    match scope {
        Scope::Ingest => page.t("tokens.scope.ingest"),
        Scope::Read => page.t("tokens.scope.read"),
        Scope::Scim => page.t("scim.scope"),
    }
}

fn row(page: &Page, tz: Tz, t: ApiToken) -> TokenRow {
    TokenRow {
        id: t.id,
        scopes: t.scopes.iter().map(|s| scope_label(page, *s)).collect::<Vec<_>>().join(", "),
        created: page.instant(t.created_at, tz),
        created_by: t.created_by,
        last_used: t.last_used_at.map(|ts| page.instant(ts, tz)),
        revoked: t.revoked_at.map(|ts| page.instant(ts, tz)),
        name: t.name,
    }
}

async fn render(
    viewer: &Viewer,
    state: &AppState,
    new_token: Option<NewToken>,
    error: Option<String>,
    revoked: bool,
    form: FormValues,
) -> Result<HttpResponse, WebError> {
    let tz = settings::load(&state.db).await?.timezone;
    let page = Page::new(viewer, "tokens", "tokens.title");
    let tokens = api_tokens::list(&state.db).await?.into_iter().map(|t| row(&page, tz, t)).collect();
    let shows_secret = new_token.is_some();
    let mut response =
        html(&TokensPage { page, tokens, new_token, error, revoked, form, timezone: tz.name().to_string() })?;
    if shows_secret {
        // The page carries the token: keep it out of every cache.
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

fn fresh_form() -> FormValues {
    FormValues { name: String::new(), ingest: true, read: true, scim: false }
}

pub async fn list(viewer: Viewer, state: web::Data<AppState>, q: web::Query<Flags>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    render(&viewer, &state, None, None, q.revoked.is_some(), fresh_form()).await
}

pub async fn create(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<NewTokenForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    let t = viewer.lang.catalog();
    let name = form.name.trim().to_string();
    let mut scopes = Vec::new();
    if form.scope_ingest.is_some() {
        scopes.push(Scope::Ingest);
    }
    if form.scope_read.is_some() {
        scopes.push(Scope::Read);
    }
    if form.scope_scim.is_some() {
        scopes.push(Scope::Scim);
    }
    let error = if name.is_empty() {
        Some(t.get("tokens.name_required"))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(t.get("tokens.name_too_long"))
    } else if scopes.is_empty() {
        Some(t.get("tokens.scope_required"))
    } else {
        None
    };
    if let Some(error) = error {
        let values = FormValues {
            name,
            ingest: form.scope_ingest.is_some(),
            read: form.scope_read.is_some(),
            scim: form.scope_scim.is_some(),
        };
        return render(&viewer, &state, None, Some(error.to_string()), false, values).await;
    }
    let (id, token) = api::issue(&state.db, &name, &scopes, Some(viewer.account.id)).await?;
    let scope_names = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    audit::record(
        &state.db,
        viewer.audit_actor(),
        "token.create",
        Some(&format!("token:{id}")),
        Some(&format!("{name} ({scope_names})")),
    )
    .await?;
    render(&viewer, &state, Some(NewToken { name, token }), None, false, fresh_form()).await
}

pub async fn revoke(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    let token = api_tokens::get(&state.db, *id).await?.ok_or(WebError::NotFound)?;
    if api_tokens::revoke(&state.db, token.id).await? {
        audit::record(
            &state.db,
            viewer.audit_actor(),
            "token.revoke",
            Some(&format!("token:{}", token.id)),
            Some(&token.name),
        )
        .await?;
    }
    Ok(see_other("/tokens?revoked=1"))
}
