//! Switching the language; the choice is remembered in a cookie.

use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::see_other;
use crate::web::error::WebError;
use crate::web::i18n::Lang;
use crate::web::session::{Anonymous, LANG_COOKIE, Viewer, cookie};
use crate::web::state::AppState;

#[derive(Deserialize)]
pub struct Choice {
    lang: String,
    #[serde(default)]
    back: String,
}

/// Anyone may switch: signed-in users present their session's token,
/// visitors their cookie's.
pub async fn switch(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<Choice>,
) -> Result<HttpResponse, WebError> {
    let allowed = match Viewer::extract(&req).await {
        Ok(_) => true,
        Err(WebError::Csrf) => false,
        Err(_) => Anonymous::extract(&req).await.is_ok(),
    };
    if !allowed {
        return Err(WebError::Csrf);
    }
    let lang = Lang::parse(&form.lang).ok_or_else(|| WebError::BadRequest("unknown language".into()))?;
    let back = super::auth::safe_next(&form.back);
    let mut response = see_other(&back);
    let mut c = cookie(LANG_COOKIE, lang.code().to_string(), state.secure_cookies, false);
    c.set_max_age(actix_web::cookie::time::Duration::days(365));
    response.add_cookie(&c).map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}
