//! Accounts (admins): list, create, change a role, disable; and every
//! account's own password change.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::start_session;
use super::{html, see_other};
use crate::app::accounts::{
    self as account_service, CreateError, InvitationText, hash_password_off_thread, verify_password_off_thread,
};
use crate::app::sign_in::{self as throttle, Attempt};
use crate::domain::account::{Permission, Role, check_password};
use crate::storage::account_invitations;
use crate::storage::accounts::{self, Account};
use crate::storage::{audit, now};
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::page::Page;
use crate::web::session::Viewer;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    page: Page,
    accounts: Vec<Account>,
    roles: Vec<&'static str>,
    /// Invitations not used yet: e-mail, role, expiry date.
    invited: Vec<(String, &'static str, String)>,
    error: Option<String>,
    created: bool,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    page: Page,
    error: Option<String>,
    changed: bool,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    created: Option<String>,
    changed: Option<String>,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewAccount {
    email: String,
    name: String,
    role: String,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// Every field defaults, so that an empty or partial form reaches the
/// handler (and its role check) rather than failing to parse.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current: String,
    new: String,
}

async fn render_list(
    viewer: &Viewer,
    state: &AppState,
    error: Option<String>,
    created: bool,
) -> Result<HttpResponse, WebError> {
    let tz = crate::app::settings::load(&state.db).await?.timezone;
    let invited = account_invitations::open(&state.db, now())
        .await?
        .into_iter()
        .filter_map(|i| {
            let role = Role::parse(&i.role)?.as_str();
            Some((i.email, role, crate::web::i18n::instant(viewer.lang, i.expires_at, tz)))
        })
        .collect();
    let page = AccountsPage {
        page: Page::new(viewer, "accounts", "accounts.title"),
        accounts: accounts::list(&state.db).await?,
        // Least privileged first: the form's default.
        roles: Role::ALL.iter().rev().map(|r| r.as_str()).collect(),
        invited,
        error,
        created,
    };
    html(&page)
}

pub async fn list(viewer: Viewer, state: web::Data<AppState>, q: web::Query<Flags>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    render_list(&viewer, &state, None, q.created.is_some()).await
}

/// Invites someone by e-mail: they choose their own password through a
/// one-time link sent through the outbox.
pub async fn create(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<NewAccount>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    let t = viewer.lang.catalog();
    let role = Role::parse(&form.role).ok_or_else(|| WebError::BadRequest("unknown role".into()))?;
    let Some(base) = crate::app::settings::links_base(&state.db, state.base_url.as_deref()).await? else {
        return render_list(&viewer, &state, Some(t.get("accounts.no_address").to_string()), false).await;
    };
    let (outreach, _) = crate::app::settings::outreach(&state.db, &base).await?;
    let text = invitation_text(&viewer, role);
    let invited = account_service::invite(
        &state.db,
        &form.email,
        &form.name,
        role,
        &text,
        &base,
        &outreach.from,
        viewer.audit_actor(),
        now(),
    )
    .await?;
    let error = match invited {
        Ok(_) => return Ok(see_other("/accounts?created=1")),
        Err(CreateError::Email(_)) => t.get("account.bad_email"),
        Err(CreateError::Password(key)) => t.get(key),
        Err(CreateError::Taken) => t.get("account.taken"),
    };
    render_list(&viewer, &state, Some(error.to_string()), false).await
}

/// The invitation e-mail, in both languages (the invitee's is unknown).
fn invitation_text(viewer: &Viewer, role: Role) -> InvitationText {
    let inviter = if viewer.account.name.trim().is_empty() { &viewer.account.email } else { &viewer.account.name };
    let days = account_service::INVITATION_DAYS.to_string();
    let part = |lang: Lang| {
        let c = lang.catalog();
        let role_name = c.get(&format!("role.{}", role.as_str())).to_string();
        let fill =
            |key: &str| c.get(key).replace("{inviter}", inviter).replace("{role}", &role_name).replace("{days}", &days);
        (fill("accounts.invite.subject"), fill("accounts.invite.body"))
    };
    let (en, zh) = (part(Lang::En), part(Lang::ZhCn));
    InvitationText { subject: format!("{} / {}", en.0, zh.0), body: format!("{}\n\n---\n\n{}", en.1, zh.1) }
}

pub async fn set_role(
    viewer: Viewer,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    let role = Role::parse(&form.role).ok_or_else(|| WebError::BadRequest("unknown role".into()))?;
    let target = accounts::get(&state.db, *id).await?.ok_or(WebError::NotFound)?;
    if target.id == viewer.account.id && role != Role::Admin {
        return render_list(
            &viewer,
            &state,
            Some(viewer.lang.catalog().get("accounts.self_demote").to_string()),
            false,
        )
        .await;
    }
    accounts::set_role(&state.db, target.id, role).await?;
    // A role change ends the account's sessions: it signs in again.
    accounts::delete_sessions_of(&state.db, target.id).await?;
    audit::record(
        &state.db,
        viewer.audit_actor(),
        "account.role",
        Some(&format!("account:{}", target.id)),
        Some(role.as_str()),
    )
    .await?;
    Ok(see_other("/accounts"))
}

pub async fn disable(viewer: Viewer, state: web::Data<AppState>, id: web::Path<i64>) -> Result<HttpResponse, WebError> {
    viewer.require(Permission::ManageAccounts)?;
    let target = accounts::get(&state.db, *id).await?.ok_or(WebError::NotFound)?;
    if target.id == viewer.account.id {
        return render_list(
            &viewer,
            &state,
            Some(viewer.lang.catalog().get("accounts.self_disable").to_string()),
            false,
        )
        .await;
    }
    accounts::set_disabled(&state.db, target.id, !target.disabled).await?;
    accounts::delete_sessions_of(&state.db, target.id).await?;
    let action = if target.disabled { "account.enable" } else { "account.disable" };
    audit::record(&state.db, viewer.audit_actor(), action, Some(&format!("account:{}", target.id)), None).await?;
    Ok(see_other("/accounts"))
}

pub async fn password_form(viewer: Viewer, q: web::Query<Flags>) -> Result<HttpResponse, WebError> {
    html(&PasswordPage { page: Page::new(&viewer, "", "password.title"), error: None, changed: q.changed.is_some() })
}

/// Changes the signed-in account's own password. The current password is
/// throttled like a sign-in (a stolen session must not become a password
/// oracle), and the change ends every session, this one included, and
/// starts a new one: a session fixed or stolen before the change is gone.
pub async fn change_password(
    viewer: Viewer,
    state: web::Data<AppState>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let t = viewer.lang.catalog();
    let email = viewer.account.email.clone();
    let at = now();
    let render = |error: String| PasswordPage {
        page: Page::new(&viewer, "", "password.title"),
        error: Some(error),
        changed: false,
    };
    if throttle::begin(&state.db, &email, None, at).await? != Attempt::Allowed {
        let body = render(t.get("login.throttled").to_string()).render()?;
        return Ok(HttpResponse::TooManyRequests().content_type("text/html; charset=utf-8").body(body));
    }
    let (_, hash) = accounts::find_for_login(&state.db, &email).await?.ok_or(WebError::NotFound)?;
    if !verify_password_off_thread(&form.current, &hash).await {
        throttle::failed(&state.db, &email, None, at).await?;
        return html(&render(t.get("password.wrong_current").to_string()));
    }
    throttle::succeeded(&state.db, &email, None, at).await?;
    if let Err(key) = check_password(&form.new) {
        return html(&render(t.get(key).to_string()));
    }
    accounts::set_password(&state.db, viewer.account.id, &hash_password_off_thread(&form.new).await?).await?;
    accounts::delete_sessions_of(&state.db, viewer.account.id).await?;
    audit::record(
        &state.db,
        viewer.audit_actor(),
        "account.password",
        Some(&format!("account:{}", viewer.account.id)),
        None,
    )
    .await?;
    let mut response = see_other("/account/password?changed=1");
    start_session(&state.db, state.secure_cookies, viewer.account.id, &mut response).await?;
    Ok(response)
}
