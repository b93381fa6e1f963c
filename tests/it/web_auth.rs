//! Signing in and protecting requests, over HTTP: the throttle under real
//! concurrency, no address lockout, the password change, caching of
//! personal pages, bounded metrics labels, extractor errors that never
//! echo input, the origin check and the signed visitor token.

use crate::common::outreach::*;
use crate::common::web::{PASSWORD, TestApp, csrf_of, import_fixture};
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use undercurrent::domain::account::Role;
use undercurrent::storage::accounts;
use undercurrent::web::handlers::auth::MAX_FAILURES;

const LOCAL: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// The app behind a "proxy" on 127.0.0.1, so that each request can name
/// its client address in `X-Forwarded-For`.
async fn behind_proxy() -> TestApp {
    let app = TestApp::serve(crate::common::TestDb::new().await, |s| s.trusted_proxies = std::sync::Arc::from([LOCAL]));
    app.add_accounts().await;
    app
}

/// A client with no cookie jar: cookies go by hand, so that tests can see
/// and replay them.
fn bare() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// The value a response sets for a cookie.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        let (pair, _) = v.split_once(';').unwrap_or((v, ""));
        let (n, value) = pair.split_once('=')?;
        (n.trim() == name && !value.is_empty()).then(|| value.to_string())
    })
}

/// A visitor's cookie and form token, as the sign-in page hands them out.
async fn visitor(app: &TestApp) -> (String, String) {
    let r = bare().get(format!("{}/login", app.base)).send().await.unwrap();
    let cookie = set_cookie(&r, "uc_anon").expect("the sign-in page sets the visitor cookie");
    let token = csrf_of(&r.text().await.unwrap()).unwrap();
    (cookie, token)
}

/// One sign-in post as a browser at `address` sends it.
async fn post_login(
    app: &TestApp,
    (cookie, token): &(String, String),
    address: &str,
    email: &str,
    password: &str,
) -> (StatusCode, String) {
    let r = bare()
        .post(format!("{}/login?csrf={token}", app.base))
        .header("Cookie", format!("uc_anon={cookie}"))
        .header("X-Forwarded-For", address)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Signs in by hand; returns the session cookie.
async fn session_of(app: &TestApp, email: &str) -> String {
    let (cookie, token) = visitor(app).await;
    let r = bare()
        .post(format!("{}/login?csrf={token}", app.base))
        .header("Cookie", format!("uc_anon={cookie}"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    set_cookie(&r, "uc_session").unwrap()
}

#[tokio::test]
async fn parallel_guesses_get_no_more_password_checks_than_the_limit() {
    let app = behind_proxy().await;
    let v = visitor(&app).await;
    let email = "analyst@test.example";
    // 49 wrong passwords and the right one, at once, each from its own
    // address (a botnet), so that only the account's limit can stop them.
    let attempts = (0..50).map(|i| {
        let password = if i == 37 { PASSWORD.to_string() } else { format!("wrong password {i}") };
        let address = format!("198.51.100.{}", i + 1);
        let (app, v) = (&app, &v);
        async move { post_login(app, v, &address, email, &password).await }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let count = |s: StatusCode| answers.iter().filter(|(status, _)| *status == s).count();
    let (wrong, right, refused) =
        (count(StatusCode::OK), count(StatusCode::SEE_OTHER), count(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(wrong + right + refused, 50, "{:?}", answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(wrong as i64 <= MAX_FAILURES, "{wrong} wrong passwords were checked");
    assert!(wrong + right <= MAX_FAILURES as usize + 1, "{} passwords were checked", wrong + right);
    // The limit is used up: the right password, from yet another address, is refused.
    let (status, body) = post_login(&app, &v, "203.0.113.77", email, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("Wait 15 minutes"), "{body}");
    // Counted in the database, for every instance to see.
    let key_rows: i64 = match &app.t.db {
        undercurrent::storage::Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_throttle").fetch_one(p).await.unwrap()
        }
        undercurrent::storage::Db::Postgres(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_throttle").fetch_one(p).await.unwrap()
        }
    };
    assert!(key_rows >= 1);
    app.finish().await;
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_out_its_other_users() {
    let app = behind_proxy().await;
    let v = visitor(&app).await;
    // An office NAT (or a proxy without --trusted-proxies): 30 failures
    // from the one address everybody shares.
    for i in 0..30 {
        let (status, _) = post_login(&app, &v, "192.0.2.10", &format!("nobody{i}@test.example"), "guess").await;
        assert_eq!(status, StatusCode::OK, "attempt {i}");
    }
    let (status, body) = post_login(&app, &v, "192.0.2.10", "manager@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the colleague who knows the password signs in: {body}");
    app.finish().await;
}

#[tokio::test]
async fn an_account_and_address_pair_waits_longer_after_each_failure() {
    let app = behind_proxy().await;
    let v = visitor(&app).await;
    let (guesser, elsewhere) = ("192.0.2.66", "198.51.100.5");
    // After two failures the pair waits two seconds: the next guess, at once, is not checked.
    let mut slowed = None;
    for i in 0..3 {
        let (status, body) = post_login(&app, &v, guesser, "analyst@test.example", "wrong password").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            slowed = Some((i, body));
            break;
        }
        assert_eq!(status, StatusCode::OK);
    }
    let (i, body) = slowed.expect("the third guess in a row was checked");
    assert!(i >= 1 && body.contains("Wait a few seconds"), "{i}: {body}");
    // Each wait over, one more wrong guess: the wait doubles each time, to
    // four seconds or more, so that the next request surely falls inside it
    // (waits are whole seconds, and a slow machine takes time between two
    // requests).
    for _ in 0..2 {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            let (status, _) = post_login(&app, &v, guesser, "analyst@test.example", "wrong password").await;
            if status == StatusCode::OK {
                break;
            }
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        }
    }
    let (status, _) = post_login(&app, &v, guesser, "analyst@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the pair waits, whatever the password");
    // The account's owner elsewhere, and colleagues at the same address, are not slowed.
    let (status, _) = post_login(&app, &v, guesser, "manager@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = post_login(&app, &v, elsewhere, "analyst@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    app.finish().await;
}

/// Posts the password form with a session cookie; returns the response.
async fn change_password(app: &TestApp, session: &str, current: &str, new: &str) -> reqwest::Response {
    let page = bare()
        .get(format!("{}/account/password", app.base))
        .header("Cookie", format!("uc_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let token = csrf_of(&page.text().await.unwrap()).unwrap();
    bare()
        .post(format!("{}/account/password?csrf={token}", app.base))
        .header("Cookie", format!("uc_session={session}"))
        .form(&[("current", current), ("new", new)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_current_password_is_throttled_and_a_change_starts_a_new_session() {
    let app = TestApp::with_accounts().await;
    let new = "Another-Horse-43";
    // Someone holding an analyst's session guesses the current password.
    let stolen = session_of(&app, "analyst@test.example").await;
    for i in 0..MAX_FAILURES {
        let r = change_password(&app, &stolen, &format!("guess {i}"), new).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("current password is not right"));
    }
    let r = change_password(&app, &stolen, PASSWORD, new).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the right password after the limit");
    let (hash_now, _) = (accounts::find_for_login(&app.t.db, "analyst@test.example").await.unwrap().unwrap().1, ());
    assert!(undercurrent::app::accounts::verify_password(PASSWORD, &hash_now), "unchanged");

    // A change ends every session, the one it was made in too, and starts a new one.
    let old = session_of(&app, "manager@test.example").await;
    let other_device = session_of(&app, "manager@test.example").await;
    let r = change_password(&app, &old, PASSWORD, new).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let fresh = set_cookie(&r, "uc_session").expect("a new session cookie");
    assert_ne!(fresh, old);
    for (name, session, expected) in [
        ("old", &old, StatusCode::SEE_OTHER),
        ("other", &other_device, StatusCode::SEE_OTHER),
        ("new", &fresh, StatusCode::OK),
    ] {
        let r = bare()
            .get(format!("{}/account/password?changed=1", app.base))
            .header("Cookie", format!("uc_session={session}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected, "{name} session");
    }
    app.finish().await;
}

async fn booked(app: &TestApp) -> i64 {
    let db = &app.t.db;
    people(db, 1).await;
    booked_interview(db, &app.base, "p000").await
}

#[tokio::test]
async fn personal_pages_and_downloads_are_never_stored_and_assets_are() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let interview = booked(&app).await;
    let mut admin = app.signed_in(Role::Admin).await;
    let mut researcher = app.signed_in(Role::Researcher).await;
    let person = "u0001@corp.example";
    let pages = [
        "/",
        "/people",
        &format!("/people/{person}"),
        &format!("/people/{person}/export.json"),
        "/people.csv",
        "/report",
        "/report.csv",
        "/report.json",
        "/audit",
        "/tokens",
        "/accounts",
        "/no-such-page",
    ];
    for path in pages {
        let r = admin.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        let cache = r.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
        assert_eq!(cache.as_deref(), Some("no-store"), "{path} ({})", r.status());
    }
    let r = researcher.http.get(format!("{}/interviews/{interview}", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store", "/interviews/{{id}}");
    let r = bare().get(format!("{}/static/app.css", app.base)).send().await.unwrap();
    assert_eq!(r.headers().get("cache-control").unwrap(), "public, max-age=3600");
    let _ = (admin.get("/").await, researcher.get("/").await);
    app.finish().await;
}

#[tokio::test]
async fn each_new_method_token_does_not_become_a_metrics_series() {
    let app = TestApp::with_accounts().await;
    let c = bare();
    for i in 0..20 {
        let method = reqwest::Method::from_bytes(format!("ZZMETHOD{i}{}", "X".repeat(200)).as_bytes()).unwrap();
        let _ = c.request(method, format!("{}/", app.base)).send().await.unwrap();
    }
    undercurrent::app::settings::set(&app.t.db, "metrics.enabled", "true").await.unwrap();
    let r = c.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(!body.contains("ZZMETHOD"), "a label per method token");
    let other: u64 = body
        .lines()
        .filter(|l| l.starts_with("undercurrent_http_requests_total") && l.contains("method=\"other\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(other, 20, "{body}");
    app.finish().await;
}

#[tokio::test]
async fn unreadable_paths_queries_and_forms_are_answered_without_echoing_them() {
    let app = TestApp::with_accounts().await;
    let mut researcher = app.signed_in(Role::Researcher).await;
    let mut admin = app.signed_in(Role::Admin).await;
    let marker = "zz%3Cb%3EMARKER";
    let (status, body) = researcher.get(&format!("/studies/{marker}/codebook")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("MARKER") && body.contains("Not found"), "{body}");
    let (status, body) = admin.get(&format!("/audit?page={marker}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!body.contains("MARKER") && !body.contains("deserialize") && body.contains("Bad request"), "{body}");
    // A form that is not a form: our page, not the parser's message.
    let r = admin
        .http
        .post(format!("{}/accounts?csrf={}", app.base, admin.csrf))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("email=MARKER&email=MARKER2&role=%FF%FEMARKER")
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(!body.contains("MARKER"), "{status}: {body}");
    app.finish().await;
}

/// A sign-in post with the given extra headers; the status.
async fn login_with(app: &TestApp, headers: &[(&str, String)]) -> StatusCode {
    let (cookie, token) = visitor(app).await;
    let mut r = bare()
        .post(format!("{}/login?csrf={token}", app.base))
        .header("Cookie", format!("uc_anon={cookie}"))
        .form(&[("email", "analyst@test.example"), ("password", PASSWORD)]);
    for (name, value) in headers {
        r = r.header(*name, value.as_str());
    }
    r.send().await.unwrap().status()
}

#[tokio::test]
async fn the_origin_check_compares_scheme_host_and_port_and_believes_only_trusted_proxies() {
    let app = TestApp::with_accounts().await;
    let own = app.base.clone();
    let host = own.trim_start_matches("http://").to_string();
    let ok = StatusCode::SEE_OTHER;
    let refused = StatusCode::FORBIDDEN;
    // curl and some browsers send neither header: the token alone decides.
    assert_eq!(login_with(&app, &[]).await, ok);
    assert_eq!(login_with(&app, &[("Origin", own.clone())]).await, ok);
    assert_eq!(login_with(&app, &[("Referer", format!("{own}/login"))]).await, ok);
    // The same host over another scheme, or on another port, is another origin.
    assert_eq!(login_with(&app, &[("Origin", format!("https://{host}"))]).await, refused);
    assert_eq!(login_with(&app, &[("Origin", "http://127.0.0.1:1".into())]).await, refused);
    assert_eq!(login_with(&app, &[("Origin", "null".into())]).await, refused);
    assert_eq!(login_with(&app, &[("Referer", "http://evil.example/x".into())]).await, refused);
    // A forwarded host counts only from a trusted proxy.
    let forged = [("X-Forwarded-Host", "evil.example".to_string()), ("Origin", "http://evil.example".into())];
    assert_eq!(login_with(&app, &forged).await, refused);
    // The configured public address is ours.
    undercurrent::app::settings::set(&app.t.db, "public_url", "https://uc.example.com").await.unwrap();
    assert_eq!(login_with(&app, &[("Origin", "https://uc.example.com".into())]).await, ok);
    assert_eq!(login_with(&app, &[("Origin", "http://uc.example.com".into())]).await, refused);
    app.finish().await;

    let app = behind_proxy().await;
    let proxied = [
        ("X-Forwarded-Host", "app.example".to_string()),
        ("X-Forwarded-Proto", "https".into()),
        ("Origin", "https://app.example".into()),
    ];
    assert_eq!(login_with(&app, &proxied).await, ok, "behind a trusted proxy");
    app.finish().await;
}

#[tokio::test]
async fn the_visitor_token_must_be_one_the_server_signed() {
    let app = TestApp::with_accounts().await;
    let forged = "a".repeat(64);
    let r = bare()
        .post(format!("{}/login?csrf={forged}", app.base))
        .header("Cookie", format!("uc_anon={forged}"))
        .form(&[("email", "analyst@test.example"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a made-up double-submit pair");
    // The sign-in page replaces a made-up cookie with a signed one.
    let r =
        bare().get(format!("{}/login", app.base)).header("Cookie", format!("uc_anon={forged}")).send().await.unwrap();
    let fresh = set_cookie(&r, "uc_anon").expect("a new visitor cookie");
    assert_ne!(fresh, forged);
    // The real form still works.
    assert_eq!(login_with(&app, &[]).await, StatusCode::SEE_OTHER);
    let mut c = app.client();
    assert_eq!(c.sign_in("analyst@test.example", PASSWORD).await.0, StatusCode::SEE_OTHER);
    app.finish().await;
}
