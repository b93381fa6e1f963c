//! The web application over HTTP: signing in, roles on every route, CSRF,
//! throttling, the privacy floor, escaping, and the dashboard's numbers.

use crate::common::cli;
use crate::common::web::{PASSWORD, TestApp, import_fixture};
use reqwest::StatusCode;
use undercurrent::app::import::{import_events, import_people};
use undercurrent::app::settings;
use undercurrent::domain::account::Role;
use undercurrent::ingest::source::open;

/// Every page, and who may open it.
const PAGES: &[(&str, &[Role])] = &[
    ("/?as_of=2026-05-29", &[Role::Admin, Role::Researcher, Role::Analyst, Role::Manager]),
    ("/adoption?as_of=2026-05-29", &[Role::Admin, Role::Analyst, Role::Manager]),
    ("/adoption.csv?as_of=2026-05-29", &[Role::Admin, Role::Analyst, Role::Manager]),
    ("/people?as_of=2026-05-29", &[Role::Admin, Role::Researcher, Role::Analyst]),
    ("/people.csv?as_of=2026-05-29", &[Role::Admin, Role::Researcher, Role::Analyst]),
    ("/people/u0000@corp.example?as_of=2026-05-29", &[Role::Admin, Role::Researcher, Role::Analyst]),
    ("/imports", &[Role::Admin, Role::Analyst]),
    ("/settings", &[Role::Admin]),
    ("/settings/identity", &[Role::Admin]),
    ("/accounts", &[Role::Admin]),
    ("/audit", &[Role::Admin]),
    ("/account/password", &[Role::Admin, Role::Researcher, Role::Analyst, Role::Manager]),
    ("/studies", &[Role::Admin, Role::Researcher]),
    ("/studies/new?scenario=social&language=zh-CN", &[Role::Admin, Role::Researcher]),
    ("/availability", &[Role::Admin, Role::Researcher]),
    ("/calendar", &[Role::Admin, Role::Researcher]),
];

/// Every action, and who may take it (the form is empty: an allowed role
/// gets past the role check to validation, a forbidden one gets 403).
const ACTIONS: &[(&str, &[Role])] = &[
    ("/adoption/rollout", &[Role::Admin, Role::Analyst]),
    ("/imports/people", &[Role::Admin, Role::Analyst]),
    ("/imports/events", &[Role::Admin, Role::Analyst]),
    ("/settings", &[Role::Admin]),
    ("/settings/identity/providers", &[Role::Admin]),
    ("/settings/identity/providers/1", &[Role::Admin]),
    ("/settings/identity/providers/1/delete", &[Role::Admin]),
    ("/settings/identity/passwords", &[Role::Admin]),
    ("/accounts", &[Role::Admin]),
    ("/accounts/1/role", &[Role::Admin]),
    ("/accounts/1/disable", &[Role::Admin]),
    ("/studies", &[Role::Admin, Role::Researcher]),
    ("/studies/1/rounds", &[Role::Admin, Role::Researcher]),
    ("/studies/1/close", &[Role::Admin, Role::Researcher]),
    ("/availability", &[Role::Admin, Role::Researcher]),
    ("/availability/weekly", &[Role::Admin, Role::Researcher]),
    ("/bookings/1/outcome", &[Role::Admin, Role::Researcher]),
    ("/bookings/1/cancel", &[Role::Admin, Role::Researcher]),
];

#[tokio::test]
async fn every_route_checks_the_role_and_anonymous_visitors_are_sent_to_sign_in() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let mut anonymous = app.client();
    for (path, _) in PAGES {
        let (status, _, location) = anonymous.get_full(path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "anonymous GET {path}");
        assert!(location.unwrap_or_default().starts_with("/login?next="), "anonymous GET {path}");
    }
    for role in Role::ALL {
        let mut c = app.signed_in(role).await;
        for (path, allowed) in PAGES {
            let (status, body) = c.get(path).await;
            if allowed.contains(&role) {
                assert_eq!(status, StatusCode::OK, "{role} GET {path}: {body}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} GET {path}");
            }
        }
        for (path, allowed) in ACTIONS {
            if role == Role::Admin && path.starts_with("/accounts/1") {
                continue; // The admin acting on itself is refused for another reason.
            }
            let (status, body, _) = c.post(path, &[]).await;
            if allowed.contains(&role) {
                assert_ne!(status, StatusCode::FORBIDDEN, "{role} POST {path}: {body}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} POST {path}");
            }
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn first_run_set_up_creates_the_administrator_once() {
    let app = TestApp::spawn().await;
    let mut c = app.client();
    let (status, _, location) = c.get_full("/login").await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/setup")));
    let (status, page) = c.get("/setup").await;
    assert_eq!(status, StatusCode::OK);
    c.csrf = crate::common::web::csrf_of(&page).unwrap();
    let (status, body, _) = c.post("/setup", &[("email", "boss@corp.example"), ("password", "short")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("at least 10 characters"), "{body}");
    let (status, _, location) = c.post("/setup", &[("email", "boss@corp.example"), ("password", PASSWORD)]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    // Signed in as the new administrator; set-up is closed now.
    let (status, _) = c.get("/accounts").await;
    assert_eq!(status, StatusCode::OK);
    let mut other = app.client();
    let (_, _, location) = other.get_full("/setup").await;
    assert_eq!(location.as_deref(), Some("/login"));
    app.finish().await;
}

#[tokio::test]
async fn state_changing_requests_need_the_session_token() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let new_account = [("email", "x@corp.example"), ("role", "manager"), ("password", PASSWORD)];
    let (status, _, _) = admin.post_raw("/accounts", &new_account).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");
    let (status, _, _) = admin.post_raw("/accounts?csrf=0000", &new_account).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "wrong token");
    // Another session's token is not this session's.
    let other = app.signed_in(Role::Admin).await;
    let (status, _, _) = admin.post_raw(&format!("/accounts?csrf={}", other.csrf), &new_account).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another session's token");
    let (status, _, _) = admin.post("/accounts", &new_account).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "with the token");
    // A cross-origin post is refused even with the token.
    let r = admin
        .http
        .post(format!("{}/logout?csrf={}", admin.base, admin.csrf))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Signing in needs the visitor token too.
    let mut visitor = app.client();
    let (status, _, _) = visitor.post_raw("/login", &[("email", "admin@test.example"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.finish().await;
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled() {
    // Behind a trusted proxy, each attempt from another address: the limit
    // is the account's, wherever the guesses come from.
    let localhost = std::net::IpAddr::from([127, 0, 0, 1]);
    let app =
        TestApp::serve(crate::common::TestDb::new().await, |s| s.trusted_proxies = std::sync::Arc::from([localhost]));
    app.add_accounts().await;
    let from = |i: u8| {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", format!("198.51.100.{i}").parse().unwrap());
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .unwrap();
        crate::common::web::Client { http, base: app.base.clone(), csrf: String::new() }
    };
    for i in 0..5 {
        let (status, body) = from(i).sign_in("analyst@test.example", "wrong password 1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("do not match"), "{body}");
    }
    // Even the right password is refused now.
    let (status, body) = from(9).sign_in("analyst@test.example", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Other accounts are unaffected.
    let fresh = app.signed_in(Role::Manager).await;
    assert!(!fresh.csrf.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn sessions_end_on_sign_out_and_on_role_change() {
    let app = TestApp::with_accounts().await;
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (status, _, _) = analyst.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = analyst.get_full("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out");

    let mut manager = app.signed_in(Role::Manager).await;
    let mut admin = app.signed_in(Role::Admin).await;
    let accounts = undercurrent::storage::accounts::list(&app.t.db).await.unwrap();
    let id = accounts.iter().find(|a| a.email == "manager@test.example").unwrap().id;
    let (status, _, _) = admin.post(&format!("/accounts/{id}/role"), &[("role", "analyst")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = manager.get_full("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the role change ended the session");
    let audit = undercurrent::storage::audit::recent(&app.t.db, 50, 0).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "account.role" && e.detail.as_deref() == Some("analyst")));
    app.finish().await;
}

#[tokio::test]
async fn the_dashboard_shows_the_same_numbers_as_metrics_summary() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let (code, json, err) = cli(&app.t.url, &["metrics", "summary", "--as-of", "2026-05-29", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let s: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pct = |v: f64| format!("{}%", undercurrent::domain::decimal::display_f64(v * 100.0, 1));
    let mut c = app.signed_in(Role::Analyst).await;
    let (status, page) = c.get("/?as_of=2026-05-29").await;
    assert_eq!(status, StatusCode::OK);
    let login = pct(s["overall"]["login_rate"].as_f64().unwrap());
    let deep = pct(s["overall"]["deep_rate"].as_f64().unwrap());
    assert!(page.contains(&format!("id=\"login-rate\">{login}<")), "login rate {login}");
    assert!(page.contains(&format!("id=\"deep-rate\">{deep}<")), "deep rate {deep}");
    let gap = undercurrent::domain::decimal::display_f64(s["overall"]["gap_points"].as_f64().unwrap(), 1);
    assert!(page.contains(&format!("id=\"gap\">{gap}<")), "gap {gap}");
    for tier in ["deep", "shallow", "silent", "dormant", "new"] {
        let n = s["overall"]["tiers"][tier].as_u64().unwrap();
        assert!(page.contains(&format!("<td class=\"num\">{n}</td>")), "tier {tier} count {n}");
    }
    app.finish().await;
}

#[tokio::test]
async fn managers_never_see_groups_below_the_privacy_floor() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    // Departments of the fixture have 8 to 25 people; a floor of 15 hides some.
    settings::set(&app.t.db, "privacy_floor", "15").await.unwrap();
    let (_, json, _) = cli(&app.t.url, &["metrics", "summary", "--as-of", "2026-05-29", "--format", "json"]);
    let s: serde_json::Value = serde_json::from_str(&json).unwrap();
    let depts: Vec<(String, u64)> = s["departments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["group"].as_str().unwrap().to_string(), d["people"].as_u64().unwrap()))
        .collect();
    let small: Vec<_> = depts.iter().filter(|(_, n)| *n < 15).collect();
    let large: Vec<_> = depts.iter().filter(|(_, n)| *n >= 15).collect();
    assert!(!small.is_empty() && !large.is_empty(), "the fixture has small and large departments: {depts:?}");

    let mut manager = app.signed_in(Role::Manager).await;
    let (_, page) = manager.get("/?as_of=2026-05-29").await;
    let table = &page[page.find("id=\"departments\"").unwrap()..];
    for (name, _) in &small {
        assert!(!table.contains(&format!(">{name}<")), "{name} is below the floor but shown to a manager");
    }
    for (name, _) in &large {
        assert!(table.contains(&format!(">{name}<")), "{name} is above the floor");
    }
    let (_, adoption) = manager.get("/adoption?as_of=2026-05-29").await;
    for (name, _) in &small {
        assert!(!adoption.contains(&format!(">{name}<")), "{name} on the adoption page");
    }
    let (_, csv) = manager.get("/adoption.csv?as_of=2026-05-29").await;
    for (name, _) in &small {
        assert!(!csv.lines().any(|l| l.starts_with(&format!("{name},"))), "{name} in the adoption CSV");
    }
    // An analyst sees every department.
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/?as_of=2026-05-29").await;
    for (name, _) in &small {
        assert!(page.contains(&format!(">{name}<")), "{name} for an analyst");
    }
    app.finish().await;
}

#[tokio::test]
async fn imported_names_are_rendered_inert() {
    let app = TestApp::with_accounts().await;
    let db = &app.t.db;
    let people = "user_id,name,department\nx1,<script>alert(1)</script>,<img src=x onerror=alert(2)>\n";
    import_people(db, open("p.csv", std::io::Cursor::new(people.as_bytes().to_vec())).unwrap()).await.unwrap();
    let events = "user_id,timestamp,event\nx1,2026-05-20T10:00:00Z,login\n";
    let tz = settings::load(db).await.unwrap().timezone;
    import_events(db, tz, open("e.csv", std::io::Cursor::new(events.as_bytes().to_vec())).unwrap()).await.unwrap();
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, page) = admin.get("/?as_of=2026-05-29").await;
    assert!(!page.contains("<img src=x"), "department rendered raw");
    let escaped = ["&lt;img src=x onerror=alert(2)&gt;", "&#60;img src=x onerror=alert(2)&#62;"];
    assert!(escaped.iter().any(|e| page.contains(e)), "the department is shown, escaped");
    app.finish().await;
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::spawn().await;
    let r = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    let h = r.headers();
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert!(h.get("referrer-policy").is_some());
    let cookie = h.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    app.finish().await;
}

#[tokio::test]
async fn the_language_follows_the_browser_and_the_choice_is_remembered() {
    let app = TestApp::with_accounts().await;
    let r = reqwest::Client::new()
        .get(format!("{}/login", app.base))
        .header("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("lang=\"zh-CN\"") && body.contains("登录"), "Chinese from Accept-Language");
    let mut c = app.signed_in(Role::Manager).await;
    let (status, _, location) = c.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    let (_, page) = c.get("/account/password").await;
    assert!(page.contains("修改密码"), "remembered choice");
    app.finish().await;
}

#[tokio::test]
async fn absurd_dates_and_foreign_redirects_are_harmless() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let mut manager = app.signed_in(Role::Manager).await;
    for path in ["/?as_of=%2B262142-12-31", "/adoption?as_of=-262143-01-01", "/?as_of=2026-05-29&window=4000000000"] {
        let (status, _) = manager.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let mut visitor = app.client();
    let (_, page) = visitor.get("/login?next=%2F%09%2Fevil.example").await;
    visitor.csrf = crate::common::web::csrf_of(&page).unwrap();
    let (status, _, location) = visitor
        .post("/login", &[("email", "manager@test.example"), ("password", PASSWORD), ("next", "/\t/evil.example")])
        .await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/")));
    app.finish().await;
}

#[tokio::test]
async fn metrics_are_served_only_when_enabled_and_never_name_a_person() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let mut c = app.signed_in(Role::Admin).await;
    assert_eq!(c.get("/metrics").await.0, StatusCode::NOT_FOUND, "off by default");
    settings::set(&app.t.db, "metrics.enabled", "true").await.unwrap();
    c.get("/people/u0001@corp.example?as_of=2026-05-29").await;
    c.get("/nowhere").await;
    let (status, body) = c.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("undercurrent_http_requests_total{route=\"/people/{user_id}\",method=\"GET\",status=\"200\"} 1"),
        "{body}"
    );
    assert!(body.contains("route=\"unmatched\""), "{body}");
    assert!(
        body.contains("undercurrent_http_request_duration_seconds_bucket{route=\"/people/{user_id}\",le=\"+Inf\"} 1")
    );
    assert!(
        body.contains("undercurrent_imports_total{status=\"done\"}")
            || body.contains("undercurrent_imports_total{status="),
        "{body}"
    );
    assert!(body.contains("# TYPE undercurrent_outbox_messages gauge"));
    assert!(!body.contains("u0001@corp.example"), "no person in a label");
    app.finish().await;
}

#[tokio::test]
async fn every_answer_names_its_request_id_for_the_log() {
    let app = TestApp::with_accounts().await;
    let mut ids = Vec::new();
    for path in ["/login", "/healthz", "/no-such-page", "/static/app.css"] {
        let r = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        let id = r.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string());
        let id = id.unwrap_or_else(|| panic!("{path}: no x-request-id"));
        assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{path}: {id}");
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "one id per request");
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_address_gets_the_apps_not_found_page() {
    let app = TestApp::with_accounts().await;
    let r = reqwest::get(format!("{}/no-such-page", app.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body = r.text().await.unwrap();
    assert!(body.contains("Not found") && !body.contains("未找到"), "in English by default: {body}");
    assert!(body.contains("/static/app.css"), "styled as the app");
    // In the reader's language: the browser's, or the one they chose.
    let zh = reqwest::Client::new()
        .get(format!("{}/no-such-page", app.base))
        .header("Accept-Language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    let body = zh.text().await.unwrap();
    assert!(body.contains("lang=\"zh-CN\"") && body.contains("未找到") && !body.contains("Not found"), "{body}");
    let mut manager = app.signed_in(Role::Manager).await;
    manager.post("/language", &[("lang", "zh-CN"), ("back", "/")]).await;
    let (status, body) = manager.get("/accounts").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("无权访问") && !body.contains("Forbidden"), "{body}");
    let (status, body) = manager.get("/studies/99999/report").await;
    assert!(status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN, "{status}");
    assert!(!body.contains("Not found") && !body.contains("Forbidden"), "{body}");
    // A known address with a method it does not take still says so.
    let r = reqwest::Client::new().delete(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    app.finish().await;
}

/// The navigation marks the section a page belongs to, and only that one:
/// the overall report is Report, not Studies.
#[tokio::test]
async fn the_navigation_marks_the_pages_own_section() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    for (path, section) in [
        ("/", "/"),
        ("/report", "/report"),
        ("/studies", "/studies"),
        ("/people", "/people"),
        ("/audit", "/audit"),
        ("/calendar", "/calendar"),
    ] {
        let (status, page) = admin.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let nav = &page[page.find("<nav").unwrap()..];
        let nav = &nav[..nav.find("</nav>").unwrap()];
        let marked: Vec<&str> = nav
            .split("<a ")
            .filter(|a| a.contains("aria-current=\"page\""))
            .filter_map(|a| a.split("href=\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(marked, vec![section], "{path}: {nav}");
    }
    app.finish().await;
}
