//! Signing in with OpenID Connect against a real provider (oidc-provider,
//! run by Node; see common/oidc_provider.rs): the flow, account matching
//! and just-in-time creation, the role mapping, and every token the app
//! must refuse (wrong nonce, wrong audience, expired, unknown key), key
//! rotation, the state's single use, the write-only secret, and passwords
//! turned off but for the break-glass administrator.

use reqwest::StatusCode;
use undercurrent::app::oidc_admin::{self, SecretInput};
use undercurrent::domain::account::Role;
use undercurrent::domain::oidc::{ProviderSettings, RoleMapping};
use undercurrent::storage::{accounts, audit};

use crate::common::oidc_provider::{CLIENT_ID, CLIENT_SECRET, OidcProvider};
use crate::common::web::{PASSWORD, TestApp};

pub(crate) const SLUG: &str = "corp";

const USERS: &str = r#"{
  "alice": {"email": "alice@corp.example", "groups": ["uc-admins"]},
  "bob": {"email": "bob@corp.example", "groups": ["uc-hr", "everyone"]},
  "carol": {"email": "carol@corp.example", "groups": ["everyone"]},
  "res": {"email": "researcher@test.example", "groups": []},
  "glass": {"email": "admin@test.example", "groups": ["uc-hr"]},
  "sneaky": {"email": "manager@test.example", "email_verified": false, "groups": ["uc-admins"]}
}"#;

/// The app with one account per role, a provider, and the provider
/// configured in the app as `corp`; `None` when Node is missing (skipped).
pub(crate) async fn setup(jit: bool, default_role: Option<Role>) -> Option<(TestApp, OidcProvider)> {
    let app = TestApp::with_accounts().await;
    let provider = OidcProvider::start(&app.base, SLUG, USERS)?;
    let settings = ProviderSettings {
        slug: SLUG.into(),
        display_name: "Corp SSO".into(),
        issuer_url: provider.issuer(),
        client_id: CLIENT_ID.into(),
        scopes: "openid email profile".into(),
        jit,
        trust_email: false,
        groups_claim: "groups".into(),
        mapping: RoleMapping::parse("uc-admins = admin\nuc-hr = analyst").unwrap(),
        default_role,
    };
    let secret = SecretInput::Value(CLIENT_SECRET.into());
    oidc_admin::save(&app.t.db, None, None, settings, secret).await.unwrap().unwrap();
    Some((app, provider))
}

async fn signed_in_as(c: &mut crate::common::web::Client) -> Option<String> {
    let (status, body) = c.get("/account/password").await;
    (status == StatusCode::OK).then_some(body)
}

async fn account_role(app: &TestApp, email: &str) -> Option<Role> {
    accounts::find_for_login(&app.t.db, email).await.unwrap().map(|(a, _)| a.role)
}

#[tokio::test]
async fn a_person_signs_in_through_the_provider_and_gets_an_account_just_in_time() {
    let Some((app, provider)) = setup(true, Some(Role::Manager)).await else { return };
    let mut c = app.client();
    let (_, login_page) = c.get("/login").await;
    assert!(login_page.contains("Sign in with Corp SSO"), "{login_page}");
    let (status, body, location) = provider.sign_in(&mut c, SLUG, "bob").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")), "{body}\n{}", provider.log());
    assert!(signed_in_as(&mut c).await.is_some(), "a session was started");
    assert_eq!(account_role(&app, "bob@corp.example").await, Some(Role::Analyst), "the role from the uc-hr group");
    let log = audit::recent(&app.t.db, 50, 0).await.unwrap();
    assert!(log.iter().any(|e| e.action == "oidc_account_created"), "{log:?}");
    assert!(log.iter().any(|e| e.action == "sign_in" && e.target.as_deref() == Some(SLUG)));

    // Signing out ends the session here and goes on to the provider's
    // end-session endpoint (RP-initiated logout).
    let (_, page) = c.get("/account/password").await;
    c.csrf = crate::common::web::csrf_of(&page).unwrap();
    let (status, page, _) = c.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::OK, "a page sends the browser on to the provider");
    let location = page.split("id=\"provider-sign-out\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(location.starts_with(&format!("{}/session/end?", provider.issuer())), "{location}");
    assert!(location.contains("id_token_hint=") && location.contains("post_logout_redirect_uri="), "{location}");
    assert!(signed_in_as(&mut c).await.is_none(), "the local session ended");

    // The second sign-in finds the account by its subject: no second account.
    let (status, _, _) = provider.sign_in(&mut c, SLUG, "bob").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(accounts::count(&app.t.db).await.unwrap(), 5);
    app.finish().await;
}

#[tokio::test]
async fn accounts_are_matched_by_verified_email_and_unknown_people_are_refused_without_jit() {
    let Some((app, provider)) = setup(false, Some(Role::Manager)).await else { return };
    let mut c = app.client();
    let (status, body, _) = provider.sign_in(&mut c, SLUG, "res").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let page = signed_in_as(&mut c).await.expect("signed in");
    assert!(page.contains("researcher@test.example"), "the existing account");
    assert_eq!(account_role(&app, "researcher@test.example").await, Some(Role::Researcher), "no group maps: kept");

    let mut stranger = app.client();
    let (status, body, _) = provider.sign_in(&mut stranger, SLUG, "carol").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("You have no account here"), "{body}");
    assert!(account_role(&app, "carol@corp.example").await.is_none());

    // An e-mail the provider has not verified opens no account, whatever
    // its groups say.
    let mut sneaky = app.client();
    let (status, body, _) = provider.sign_in(&mut sneaky, SLUG, "sneaky").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("verified e-mail"), "{body}");
    assert_eq!(account_role(&app, "manager@test.example").await, Some(Role::Manager));
    assert!(signed_in_as(&mut sneaky).await.is_none());

    // A provider marked as owning its addresses (Entra ID, Feishu send no
    // email_verified) is taken at its word, groups included.
    let p = undercurrent::storage::oidc::by_slug(&app.t.db, SLUG).await.unwrap().unwrap();
    let trusted = ProviderSettings { trust_email: true, ..p.settings.clone() };
    oidc_admin::save(&app.t.db, None, Some(p.id), trusted, SecretInput::Keep).await.unwrap().unwrap();
    let mut trusting = app.client();
    let (status, body, _) = provider.sign_in(&mut trusting, SLUG, "sneaky").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(account_role(&app, "manager@test.example").await, Some(Role::Admin), "the mapped group's role");
    app.finish().await;
}

#[tokio::test]
async fn a_person_without_a_mapped_group_is_refused_or_gets_the_least_role_as_configured() {
    let Some((app, provider)) = setup(true, None).await else { return };
    let mut c = app.client();
    let (status, body, _) = provider.sign_in(&mut c, SLUG, "carol").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("None of your groups gives access"), "{body}");
    assert!(account_role(&app, "carol@corp.example").await.is_none(), "no account made");
    // Another browser (this one holds carol's session at the provider).
    let mut c = app.client();
    let (status, _, _) = provider.sign_in(&mut c, SLUG, "alice").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(account_role(&app, "alice@corp.example").await, Some(Role::Admin));
    app.finish().await;

    let Some((app, provider)) = setup(true, Some(Role::Manager)).await else { return };
    let mut c = app.client();
    let (status, _, _) = provider.sign_in(&mut c, SLUG, "carol").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(account_role(&app, "carol@corp.example").await, Some(Role::Manager), "the least privileged role");
    app.finish().await;
}

#[tokio::test]
async fn id_tokens_with_a_wrong_nonce_audience_expiry_or_key_are_refused() {
    let Some((app, provider)) = setup(true, Some(Role::Manager)).await else { return };
    for mode in ["wrong-nonce", "wrong-audience", "expired", "unpublished-key"] {
        provider.misbehave(mode).await;
        let mut c = app.client();
        let (status, body, _) = provider.sign_in(&mut c, SLUG, "bob").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{mode}: {body}");
        assert!(body.contains("could not be verified"), "{mode}: {body}");
        assert!(signed_in_as(&mut c).await.is_none(), "{mode}: no session");
    }
    assert!(account_role(&app, "bob@corp.example").await.is_none(), "no account was made from a bad token");
    let log = audit::recent(&app.t.db, 50, 0).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "oidc_refused").count(), 4, "{log:?}");
    // The same provider behaving again signs in.
    provider.misbehave("normal").await;
    let mut c = app.client();
    let (status, _, _) = provider.sign_in(&mut c, SLUG, "bob").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.finish().await;
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_when_a_token_names_it() {
    let Some((app, provider)) = setup(true, Some(Role::Manager)).await else { return };
    let mut c = app.client();
    let (status, _, _) = provider.sign_in(&mut c, SLUG, "bob").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the first key, cached");
    provider.rotate_keys().await;
    let mut c = app.client();
    let (status, body, _) = provider.sign_in(&mut c, SLUG, "bob").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the new key was read from the JWKS: {body}");
    assert!(signed_in_as(&mut c).await.is_some());
    app.finish().await;
}

#[tokio::test]
async fn the_state_works_once_and_only_in_the_browser_that_began() {
    let Some((app, _provider)) = setup(true, Some(Role::Manager)).await else { return };
    let mut a = app.client();
    let (_, _, location) = a.get_full(&format!("/auth/oidc/{SLUG}/start")).await;
    let location = location.unwrap();
    let state = location.split("state=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let callback = format!("/auth/oidc/{SLUG}/callback?state={state}&code=anything");
    let mut b = app.client();
    let (status, body) = b.get(&callback).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another browser: {body}");
    let (status, body) = a.get(&callback).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the state was used up: {body}");
    assert!(body.contains("used already"), "{body}");
    let (status, _) = a.get(&format!("/auth/oidc/{SLUG}/callback?state=made-up&code=x")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = a.get("/auth/oidc/nobody/start").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.finish().await;
}

#[tokio::test]
async fn the_client_secret_is_never_shown_after_saving_and_changes_are_audited() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, _) = admin.get("/settings/identity").await;
    assert_eq!(status, StatusCode::OK);
    let secret = "Super-Secret-Value-91";
    let form = [
        ("slug", "okta"),
        ("display_name", "Okta"),
        ("issuer_url", "https://corp.okta.example"),
        ("client_id", "0oa1"),
        ("secret_source", "value"),
        ("client_secret", secret),
        ("scopes", "openid email profile groups"),
        ("jit", "1"),
        ("groups_claim", "groups"),
        ("role_mapping", "Undercurrent Admins = admin"),
        ("default_role", ""),
    ];
    let (status, body, location) = admin.post("/settings/identity/providers", &form).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/settings/identity?saved=1")), "{body}");
    let (_, list) = admin.get("/settings/identity").await;
    assert!(list.contains("/auth/oidc/okta/callback") && list.contains("Set"), "{list}");
    let p = undercurrent::storage::oidc::by_slug(&app.t.db, "okta").await.unwrap().unwrap();
    let (_, edit) = admin.get(&format!("/settings/identity/providers/{}", p.id)).await;
    for page in [&list, &edit] {
        assert!(!page.contains(secret), "the secret is not shown");
    }
    assert!(!p.secret_sealed.contains(secret) && !p.secret_sealed.is_empty(), "stored sealed");
    // Saving again without a secret keeps it.
    let keep = [
        ("display_name", "Okta Corp"),
        ("issuer_url", "https://corp.okta.example"),
        ("client_id", "0oa1"),
        ("secret_source", "keep"),
    ];
    admin.get(&format!("/settings/identity/providers/{}", p.id)).await;
    let (status, _, _) = admin.post(&format!("/settings/identity/providers/{}", p.id), &keep).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let after = undercurrent::storage::oidc::get(&app.t.db, p.id).await.unwrap().unwrap();
    assert_eq!(
        (after.settings.display_name.as_str(), after.secret_sealed.as_str()),
        ("Okta Corp", p.secret_sealed.as_str())
    );
    assert_eq!(after.settings.default_role, None, "unmapped people refused");
    // Without the session's token, nothing changes.
    let (status, _, _) = admin.post_raw(&format!("/settings/identity/providers/{}/delete", p.id), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    admin.get("/settings/identity").await;
    let (status, _, _) = admin.post(&format!("/settings/identity/providers/{}/delete", p.id), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let log = audit::recent(&app.t.db, 50, 0).await.unwrap();
    for action in ["oidc_provider_added", "oidc_provider_changed", "oidc_provider_removed"] {
        let entry = log.iter().find(|e| e.action == action).unwrap_or_else(|| panic!("{action}: {log:?}"));
        assert!(!entry.detail.as_deref().unwrap_or_default().contains(secret));
    }
    // The audit page says it in both languages.
    let (_, page) = admin.get("/audit").await;
    assert!(page.contains("added an identity provider"), "{page}");
    app.finish().await;
}

#[tokio::test]
async fn passwords_can_be_turned_off_for_all_but_the_break_glass_administrator() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, body, _) = admin.post("/settings/identity/passwords", &[("passwords", "off"), ("break_glass", "")]).await;
    assert!(body.contains("at least one break-glass"), "refused without a break-glass account: {body}");
    admin.get("/settings/identity").await;
    let form = [("passwords", "off"), ("break_glass", "admin@test.example")];
    let (status, _, _) = admin.post("/settings/identity/passwords", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut analyst = app.client();
    let (status, body) = analyst.sign_in("analyst@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("Passwords are turned off"), "{body}");
    let mut glass = app.client();
    let (status, _) = glass.sign_in("admin@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the break-glass administrator keeps the password");
    // The page and the sign-in page speak Chinese too.
    glass.get("/account/password").await;
    glass.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    let (_, page) = glass.get("/settings/identity").await;
    assert!(page.contains("添加身份提供商") && page.contains("关闭密码登录"), "{page}");
    let visitor = app.client();
    let r = visitor.http.get(format!("{}/login", app.base)).header("Accept-Language", "zh-CN").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("只有应急管理员保留密码"));
    app.finish().await;
}

#[tokio::test]
async fn a_break_glass_administrator_signing_in_through_the_provider_keeps_the_role() {
    let Some((app, provider)) = setup(false, None).await else { return };
    let p = undercurrent::storage::oidc::by_slug(&app.t.db, SLUG).await.unwrap().unwrap();
    let trusted = ProviderSettings { trust_email: true, ..p.settings.clone() };
    oidc_admin::save(&app.t.db, None, Some(p.id), trusted, SecretInput::Keep).await.unwrap().unwrap();
    oidc_admin::set_password_policy(&app.t.db, None, false, "admin@test.example").await.unwrap().unwrap();
    // The provider's groups map this e-mail to analyst; the break-glass
    // administrator stays an administrator.
    let mut c = app.client();
    let (status, body, _) = provider.sign_in(&mut c, SLUG, "glass").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(account_role(&app, "admin@test.example").await, Some(Role::Admin));
    // Anyone else matched by e-mail takes the mapped role.
    oidc_admin::set_password_policy(&app.t.db, None, true, "").await.unwrap().unwrap();
    let mut again = app.client();
    provider.sign_in(&mut again, SLUG, "glass").await;
    assert_eq!(account_role(&app, "admin@test.example").await, Some(Role::Analyst), "no longer break-glass");
    app.finish().await;
}
