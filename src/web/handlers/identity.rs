//! Settings → Identity: the OpenID Connect providers (add, edit, remove)
//! and whether local passwords stay on. Admins only. A client secret is
//! write-only: the page says whether one is set, never what it is.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{html, see_other};
use crate::app::oidc::redirect_uri;
use crate::app::oidc_admin::{self as service, SecretInput};
use crate::domain::account::{Permission, Role};
use crate::domain::oidc::{ProviderSettings, RoleMapping};
use crate::storage::oidc::{self as store, Provider};
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

/// A provider as the list shows it.
struct Row {
    id: i64,
    slug: String,
    display_name: String,
    issuer_url: String,
    client_id: String,
    secret: &'static str,
    jit: bool,
    redirect_uri: String,
}

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    page: Page,
    providers: Vec<Row>,
    /// The form: a new provider's (no id) or the one edited.
    form: ProviderForm,
    editing: Option<i64>,
    /// The edited provider has a secret (the field may be left empty).
    secret_set: bool,
    passwords_on: bool,
    break_glass: String,
    error: Option<String>,
    saved: bool,
    roles: Vec<&'static str>,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ProviderForm {
    slug: String,
    display_name: String,
    issuer_url: String,
    client_id: String,
    /// keep, value, env or none.
    secret_source: String,
    client_secret: String,
    client_secret_env: String,
    scopes: String,
    jit: Option<String>,
    trust_email: Option<String>,
    groups_claim: String,
    role_mapping: String,
    /// A role, or empty to refuse people whose groups map to none.
    default_role: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordsForm {
    passwords: String,
    break_glass: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: Option<String>,
}

impl ProviderForm {
    fn fresh() -> ProviderForm {
        ProviderForm {
            scopes: "openid email profile".into(),
            groups_claim: "groups".into(),
            default_role: Role::Manager.as_str().into(),
            secret_source: "value".into(),
            ..ProviderForm::default()
        }
    }

    fn of(p: &Provider) -> ProviderForm {
        let s = &p.settings;
        ProviderForm {
            slug: s.slug.clone(),
            display_name: s.display_name.clone(),
            issuer_url: s.issuer_url.clone(),
            client_id: s.client_id.clone(),
            secret_source: "keep".into(),
            client_secret: String::new(),
            client_secret_env: p.secret_env.clone(),
            scopes: s.scopes.clone(),
            jit: s.jit.then(|| "1".into()),
            trust_email: s.trust_email.then(|| "1".into()),
            groups_claim: s.groups_claim.clone(),
            role_mapping: s.mapping.to_text(),
            default_role: s.default_role.map(|r| r.as_str().to_string()).unwrap_or_default(),
        }
    }

    /// The settings and the secret as entered, or the catalog key of what
    /// is wrong.
    fn parse(&self) -> Result<(ProviderSettings, SecretInput), &'static str> {
        let mapping = RoleMapping::parse(&self.role_mapping).map_err(|_| "oidc.invalid.mapping")?;
        let default_role = match self.default_role.trim() {
            "" => None,
            r => Some(Role::parse(r).ok_or("oidc.invalid.mapping")?),
        };
        let secret = match self.secret_source.as_str() {
            "keep" => SecretInput::Keep,
            "env" => SecretInput::Env(self.client_secret_env.clone()),
            "none" => SecretInput::None,
            _ => SecretInput::Value(self.client_secret.clone()),
        };
        let settings = ProviderSettings {
            slug: self.slug.clone(),
            display_name: self.display_name.clone(),
            issuer_url: self.issuer_url.clone(),
            client_id: self.client_id.clone(),
            scopes: self.scopes.clone(),
            jit: self.jit.is_some(),
            trust_email: self.trust_email.is_some(),
            groups_claim: self.groups_claim.clone(),
            mapping,
            default_role,
        };
        Ok((settings, secret))
    }
}

struct View {
    form: ProviderForm,
    editing: Option<i64>,
    error: Option<String>,
    saved: bool,
}

async fn render(viewer: &Viewer, state: &AppState, view: View) -> Result<HttpResponse, WebError> {
    let page = Page::new(viewer, "settings", "oidc.title");
    let base = super::oidc::site_base(state).await.unwrap_or_else(|_| "https://undercurrent.example".into());
    let all = store::list(&state.db).await?;
    let secret_set = view.editing.and_then(|id| all.iter().find(|p| p.id == id)).is_some_and(Provider::secret_set);
    let providers = all
        .into_iter()
        .map(|p| Row {
            id: p.id,
            redirect_uri: redirect_uri(&base, &p.settings.slug),
            secret: match (p.secret_env.is_empty(), p.secret_sealed.is_empty()) {
                (false, _) => "oidc.secret.env",
                (true, false) => "oidc.secret.set",
                (true, true) => "oidc.secret.none",
            },
            slug: p.settings.slug,
            display_name: p.settings.display_name,
            issuer_url: p.settings.issuer_url,
            client_id: p.settings.client_id,
            jit: p.settings.jit,
        })
        .collect();
    let (passwords_on, glass) = service::password_policy(&state.db).await?;
    let mut response = html(&IdentityPage {
        page,
        providers,
        form: view.form,
        editing: view.editing,
        secret_set,
        passwords_on,
        break_glass: glass.join(", "),
        error: view.error,
        saved: view.saved,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    })?;
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn page(viewer: Viewer, state: web::Data<AppState>, q: web::Query<Flags>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    let view = View { form: ProviderForm::fresh(), editing: None, error: None, saved: q.saved.is_some() };
    render(&viewer, &state, view).await
}

pub async fn edit_form(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    let provider = store::get(&state.db, *id).await?.ok_or(WebError::NotFound)?;
    let view = View { form: ProviderForm::of(&provider), editing: Some(provider.id), error: None, saved: false };
    render(&viewer, &state, view).await
}

async fn save(viewer: Viewer, state: &AppState, id: Option<i64>, form: ProviderForm) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    if let Some(id) = id {
        store::get(&state.db, id).await?.ok_or(WebError::NotFound)?;
    }
    let outcome = match form.parse() {
        Ok((settings, secret)) => service::save(&state.db, viewer.audit_actor(), id, settings, secret).await?,
        Err(key) => Err(key),
    };
    match outcome {
        Ok(_) => Ok(see_other("/settings/identity?saved=1")),
        Err(key) => {
            let error = Some(viewer.lang.catalog().get(key).to_string());
            // The secret typed is not sent back to the page.
            let form = ProviderForm { client_secret: String::new(), ..form };
            render(&viewer, state, View { form, editing: id, error, saved: false }).await
        }
    }
}

pub async fn create(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<ProviderForm>,
) -> Result<HttpResponse, WebError> {
    save(viewer, &state, None, form.into_inner()).await
}

pub async fn update(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<ProviderForm>,
) -> Result<HttpResponse, WebError> {
    save(viewer, &state, Some(*id), form.into_inner()).await
}

pub async fn delete(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    let provider = store::get(&state.db, *id).await?.ok_or(WebError::NotFound)?;
    service::remove(&state.db, viewer.audit_actor(), &provider).await?;
    Ok(see_other("/settings/identity?saved=1"))
}

pub async fn passwords(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<PasswordsForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ChangeSettings)?;
    let on = form.passwords != "off";
    match service::set_password_policy(&state.db, viewer.audit_actor(), on, &form.break_glass).await? {
        Ok(()) => Ok(see_other("/settings/identity?saved=1")),
        Err(key) => {
            let error = Some(viewer.lang.catalog().get(key).to_string());
            render(&viewer, &state, View { form: ProviderForm::fresh(), editing: None, error, saved: false }).await
        }
    }
}
