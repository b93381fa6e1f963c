//! Security headers on every response. Each is added only when the handler
//! set none, so that static assets keep their own `Cache-Control`; every
//! other answer (pages, downloads, errors, redirects) may carry personal
//! data or be a signed-in user's, and is never stored by a browser or proxy.

use actix_web::middleware::DefaultHeaders;

/// No inline scripts or styles anywhere: every asset comes from `/static`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

#[allow(non_snake_case)]
pub fn Headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cache-Control", "no-store"))
}
