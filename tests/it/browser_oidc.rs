//! In headless Chromium: signing in through the identity provider's pages
//! (oidc-provider run by the test) from the sign-in page's button, and
//! signing out at the provider too. Screenshots under
//! target/screenshots/oidc-*.png.

use undercurrent::domain::account::Role;

use crate::common::browser::{Browser, available};
use crate::oidc::setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_button_leads_through_the_provider_and_back() {
    if !available() {
        return;
    }
    let Some((app, provider)) = setup(true, Some(Role::Manager)).await else { return };
    let b = Browser::start().await;
    let base = &app.base;
    b.goto(&format!("{base}/login?next=/account/password")).await;
    b.wait_for("#sign-in-providers a").await;
    assert_eq!(b.text("#sign-in-providers a").await, "Sign in with Corp SSO");
    // The provider's button spans the form, above "or with your e-mail and password".
    let widths = b.script("return [document.querySelector('#sign-in-providers a').offsetWidth, document.querySelector('section.narrow form button').offsetWidth]").await;
    assert_eq!(widths[0], widths[1], "the provider's button is as wide as the form's: {widths:?}");
    assert!(b.text("#sign-in-or").await.contains("e-mail and password"));
    b.screenshot("oidc-sign-in").await;
    b.click("#sign-in-providers a").await;

    // The provider's own pages: its login form, then its consent.
    b.wait_for("input[name=login]").await;
    assert!(b.url().await.starts_with(&provider.issuer()), "{}", b.url().await);
    b.type_into("input[name=login]", "alice").await;
    b.type_into("input[name=password]", "any").await;
    b.click("button.login-submit").await;
    b.wait_for("input[name=prompt][value=consent]").await;
    b.click("button.login-submit").await;

    // Back at the app, signed in, on the page asked for.
    b.wait_for("header nav").await;
    assert!(b.url().await.starts_with(&format!("{base}/account/password")), "{}", b.url().await);
    assert!(b.text("header").await.contains("alice@corp.example"), "{}", b.text("header").await);
    b.screenshot("oidc-signed-in").await;

    // Signing out goes on to the provider, which comes back to the sign-in page.
    b.click("header .who form button").await;
    b.wait_for("button[name=logout]").await;
    assert!(b.url().await.starts_with(&provider.issuer()), "{}", b.url().await);
    b.click("button[name=logout]").await;
    b.wait_for("#sign-in-providers").await;
    assert!(b.url().await.starts_with(&format!("{base}/login")), "{}", b.url().await);
    assert_eq!(b.count("header nav").await, 0, "signed out");
    b.quit().await;
    app.finish().await;
}
