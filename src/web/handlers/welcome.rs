//! The page an invitation's one-time link opens: the invitee chooses their
//! own password, which creates their account and signs them in.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::auth::start_session;
use super::{html, see_other};
use crate::app::accounts::{self as account_service, AcceptError};
use crate::storage::now;
use crate::web::error::WebError;
use crate::web::page::Page;
use crate::web::session::{ANON_COOKIE, Anonymous, removal};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    page: Page,
    token: String,
    email: String,
    role: String,
    error: Option<String>,
}

impl WelcomePage {
    fn action(&self) -> String {
        format!("/welcome/{}", self.token)
    }
}

/// Every field defaults, so that an empty form reaches the handler.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WelcomeForm {
    password: String,
}

fn invalid(anon: &Anonymous) -> Result<HttpResponse, WebError> {
    let page = WelcomePage {
        page: Page::anonymous(anon, "welcome.title"),
        token: String::new(),
        email: String::new(),
        role: String::new(),
        error: Some(anon.lang.catalog().get("welcome.invalid").to_string()),
    };
    let body = page.render()?;
    Ok(HttpResponse::NotFound().content_type("text/html; charset=utf-8").body(body))
}

pub async fn form(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let Some(inv) = account_service::invitation_of(&state.db, &token, now()).await? else { return invalid(&anon) };
    let t = anon.lang.catalog();
    let page = WelcomePage {
        page: Page::anonymous(&anon, "welcome.title"),
        token: token.into_inner(),
        email: inv.email,
        role: t.get(&format!("role.{}", inv.role)).to_string(),
        error: None,
    };
    let mut response = html(&page)?;
    if let Some(c) = anon.cookie(state.secure_cookies) {
        response.add_cookie(&c).map_err(|e| WebError::Internal(e.into()))?;
    }
    Ok(response)
}

pub async fn accept(
    anon: Anonymous,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<WelcomeForm>,
) -> Result<HttpResponse, WebError> {
    let t = anon.lang.catalog();
    let Some(inv) = account_service::invitation_of(&state.db, &token, now()).await? else { return invalid(&anon) };
    let error = match account_service::accept(&state.db, &token, &form.password, now()).await? {
        Ok(id) => {
            let mut response = see_other("/");
            start_session(&state.db, state.secure_cookies, id, &mut response).await?;
            response.add_cookie(&removal(ANON_COOKIE)).map_err(|e| WebError::Internal(e.into()))?;
            return Ok(response);
        }
        Err(AcceptError::Invalid) => return invalid(&anon),
        Err(AcceptError::Password(key)) => t.get(key).to_string(),
        Err(AcceptError::Taken) => t.get("account.taken").to_string(),
    };
    html(&WelcomePage {
        page: Page::anonymous(&anon, "welcome.title"),
        token: token.into_inner(),
        email: inv.email,
        role: t.get(&format!("role.{}", inv.role)).to_string(),
        error: Some(error),
    })
}
