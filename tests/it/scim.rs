//! SCIM 2.0 directory sync over HTTP: conformance (scim-sanity, from PyPI,
//! against a server started here), identity matching with imports and
//! events, deactivation keeping history, filters, pages, PATCH as Entra ID
//! and Okta send it, and the token's scope.

use crate::common::web::{TestApp, import_fixture};
use reqwest::StatusCode;
use serde_json::{Value, json};
use undercurrent::domain::account::Role;
use undercurrent::storage::api_tokens::Scope;
use undercurrent::storage::{audit, dataset, directory, identity, invitations};
use undercurrent::web::api::issue;

const SCIM: &str = "application/scim+json";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn token(app: &TestApp, scopes: &[Scope]) -> String {
    issue(&app.t.db, "entra", scopes, None).await.unwrap().1
}

struct Scim<'a> {
    app: &'a TestApp,
    token: String,
}

impl Scim<'_> {
    async fn new(app: &TestApp) -> Scim<'_> {
        Scim { app, token: token(app, &[Scope::Scim]).await }
    }

    /// Sends a request; the status and the JSON body (Null when empty).
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r =
            reqwest::Client::new().request(method, format!("{}/scim/v2{path}", self.app.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.header("content-type", SCIM).body(b.to_string());
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let content_type = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        let text = r.text().await.unwrap();
        if text.is_empty() {
            return (status, Value::Null);
        }
        assert_eq!(content_type.as_deref(), Some(SCIM), "{status} {path}: {text}");
        (status, serde_json::from_str(&text).unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, ops: Value) -> (StatusCode, Value) {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
}

fn user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true,
        "title": "Engineer",
        ENTERPRISE: {"department": "Platform", "employeeNumber": format!("E-{user_name}")},
    })
}

#[tokio::test]
async fn scim_sanity_finds_the_server_conformant() {
    let Ok(out) = std::process::Command::new("scim-sanity").arg("--version").output() else {
        eprintln!("skipped: scim-sanity is not installed (python3 -m pip install scim-sanity; .ci/run does)");
        return;
    };
    assert!(out.status.success());
    let app = TestApp::spawn().await;
    let token = token(&app, &[Scope::Scim]).await;
    let url = format!("{}/scim/v2", app.base);
    let probe = tokio::task::spawn_blocking(move || {
        std::process::Command::new("scim-sanity")
            .args(["probe", &url, "--token", &token, "--i-accept-side-effects", "--timeout", "30"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&probe.stdout), String::from_utf8_lossy(&probe.stderr));
    assert!(probe.status.success(), "scim-sanity failed:\n{report}");
    assert!(!report.contains("[FAIL]") && !report.contains("[ERROR]"), "{report}");
    if let Some(summary) = report.lines().find(|l| l.contains(" passed, ")) {
        eprintln!("scim-sanity: {}", summary.trim());
    }
    app.finish().await;
}

/// The tier a person page shows.
fn tier_of(page: &str) -> String {
    let at = page.find("tier-badge tier-").expect("a tier badge") + "tier-badge tier-".len();
    page[at..].chars().take_while(|c| c.is_ascii_alphabetic()).collect()
}

async fn person_count(app: &TestApp) -> i64 {
    dataset::totals(&app.t.db).await.unwrap().people
}

/// Imports events for `user_id` (one a day for three days).
async fn import_events_of(app: &TestApp, user_id: &str) {
    use undercurrent::app::import::import_events;
    use undercurrent::ingest::source::open;
    let mut csv = String::from("event_id,user_id,timestamp,event,channel,channel_type\n");
    for day in 1..=3 {
        csv += &format!("x-{user_id}-{day},{user_id},2026-05-0{day}T09:00:00Z,message_sent,g-1,group\n");
    }
    let input = open("events.csv", std::io::Cursor::new(csv.into_bytes())).unwrap();
    import_events(&app.t.db, chrono_tz::UTC, input).await.unwrap();
}

#[tokio::test]
async fn a_person_seen_in_events_or_imported_and_then_provisioned_is_one_person() {
    let app = TestApp::spawn().await;
    import_fixture(&app.t.db).await;
    import_events_of(&app, "seen.only@corp.example").await;
    let scim = Scim::new(&app).await;
    let before = person_count(&app).await;
    let events = dataset::totals(&app.t.db).await.unwrap().events;

    // Seen only in events: the userName is their user id.
    let (status, seen) = scim.post("/Users", user("Seen.Only@corp.example", "seen.only@corp.example")).await;
    assert_eq!(status, StatusCode::CREATED, "{seen}");
    // In the directory file: a different userName (a UPN), their e-mail.
    let (status, upn) = scim.post("/Users", user("p1@corp.onmicrosoft.example", "U0001@corp.example")).await;
    assert_eq!(status, StatusCode::CREATED, "{upn}");
    assert_eq!(person_count(&app).await, before, "nobody was created twice");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap().events, events);
    let user_id = |id: &str| {
        let db = app.t.db.clone();
        let id = id.to_string();
        async move { identity::user_id_of(&db, &id).await.unwrap() }
    };
    assert_eq!(user_id("p1@corp.onmicrosoft.example").await.as_deref(), Some("u0001@corp.example"));
    assert_eq!(user_id("E-p1@corp.onmicrosoft.example").await.as_deref(), Some("u0001@corp.example"));
    assert_eq!(user_id("seen.only@corp.example").await.as_deref(), Some("seen.only@corp.example"));
    // What SCIM says is the directory's from now on.
    let id = identity::user_id_of(&app.t.db, "u0001@corp.example").await.unwrap().unwrap();
    let dir = directory::load(&app.t.db).await.unwrap();
    let person = (0..10_000).filter_map(|i| dir.get(i)).find(|e| e.user_id == id).unwrap();
    assert_eq!(person.department.as_deref(), Some("Platform"));
    assert_eq!(person.name.as_deref(), Some("Given Family"));

    // Provisioned first, then seen in events: still one person.
    let (status, _) = scim.post("/Users", user("new.hire@corp.example", "new.hire@corp.example")).await;
    assert_eq!(status, StatusCode::CREATED);
    let with_new = person_count(&app).await;
    assert_eq!(with_new, before + 1);
    import_events_of(&app, "New.Hire@corp.example").await;
    assert_eq!(person_count(&app).await, with_new);

    // The same userName twice, or another userName for a person already
    // provisioned: 409 uniqueness.
    let (status, e) = scim.post("/Users", user("NEW.HIRE@corp.example", "x@corp.example")).await;
    assert_eq!((status, e["scimType"].as_str()), (StatusCode::CONFLICT, Some("uniqueness")), "{e}");
    let (status, e) = scim.post("/Users", user("other@corp.example", "u0001@corp.example")).await;
    assert_eq!((status, e["scimType"].as_str()), (StatusCode::CONFLICT, Some("uniqueness")), "{e}");
    app.finish().await;
}

#[tokio::test]
async fn deactivation_keeps_the_person_and_their_history_and_shows_it() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let scim = Scim::new(&app).await;
    let totals = dataset::totals(&app.t.db).await.unwrap();
    let mut analyst = app.signed_in(Role::Analyst).await;
    let (_, page) = analyst.get("/people/u0001@corp.example?as_of=2026-05-29").await;
    let tier = tier_of(&page);
    let (_, created) = scim.post("/Users", user("u0001@corp.example", "u0001@corp.example")).await;
    let id = created["id"].as_str().unwrap().to_string();

    // Entra ID deactivates with a string.
    let (status, patched) =
        scim.patch(&format!("/Users/{id}"), json!([{"op": "Replace", "path": "active", "value": "False"}])).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["active"], false);
    let (_, read) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(read["active"], false);
    assert_eq!(dataset::totals(&app.t.db).await.unwrap(), totals, "no person and no event is gone");
    // Nobody writes to someone who left: studies never draw them.
    let (person, _) = invitations::person_by_user_id(&app.t.db, "u0001@corp.example").await.unwrap().unwrap();
    assert!(invitations::histories(&app.t.db).await.unwrap()[&person].deactivated);

    let (status, page) = analyst.get("/people/u0001@corp.example?as_of=2026-05-29").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"deactivated\""), "the person page says so");
    let (_, list) = analyst.get("/people?as_of=2026-05-29&q=u0001").await;
    assert!(list.contains("Deactivated"), "the list says so");
    // The past window still counts their events.
    assert_eq!(tier_of(&page), tier);

    // Okta reactivates with a path-less value.
    let (_, back) = scim.patch(&format!("/Users/{id}"), json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(back["active"], true);
    let (_, page) = analyst.get("/people/u0001@corp.example?as_of=2026-05-29").await;
    assert!(!page.contains("id=\"deactivated\""));

    // DELETE: the SCIM user is gone, the person is kept, deactivated.
    let r = reqwest::Client::new()
        .delete(format!("{}/scim/v2/Users/{id}", app.base))
        .bearer_auth(&scim.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, e) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(e["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    assert_eq!(e["status"], "404");
    assert_eq!(dataset::totals(&app.t.db).await.unwrap(), totals);
    let (status, page) = analyst.get("/people/u0001@corp.example?as_of=2026-05-29").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"deactivated\""));

    // Every change is in the audit log, with the token's name.
    let actions: Vec<String> = audit::recent(&app.t.db, 50, 0).await.unwrap().into_iter().map(|e| e.action).collect();
    for a in ["scim.user.create", "scim.user.deactivate", "scim.user.reactivate", "scim.user.delete"] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, log) = admin.get("/audit").await;
    assert!(log.contains("Directory sync deactivated a person") && log.contains("entra"), "{log}");
    app.finish().await;
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn filters_and_pages() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app).await;
    for i in 0..5 {
        let (status, _) =
            scim.post("/Users", user(&format!("user{i}@corp.example"), &format!("mail{i}@corp.example"))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, all) = scim.get("/Users").await;
    assert_eq!(all["totalResults"], 5);
    assert_eq!(all["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
    let (_, page) = scim.get("/Users?startIndex=2&count=2").await;
    assert_eq!(
        (page["totalResults"].as_i64(), page["startIndex"].as_i64(), page["itemsPerPage"].as_i64()),
        (Some(5), Some(2), Some(2))
    );
    assert_eq!(ids(&page), vec!["user1@corp.example", "user2@corp.example"]);
    let (_, none) = scim.get("/Users?count=0").await;
    assert_eq!((none["totalResults"].as_i64(), ids(&none).len()), (Some(5), 0));
    let (_, last) = scim.get("/Users?startIndex=5&count=10").await;
    assert_eq!(ids(&last), vec!["user4@corp.example"]);

    let filter = |f: &str| format!("/Users?filter={}", urlencoding(f));
    let (_, found) = scim.get(&filter("userName eq \"USER3@corp.example\"")).await;
    assert_eq!(ids(&found), vec!["user3@corp.example"], "userName is matched without regard to case");
    let (_, found) = scim.get(&filter("externalId eq \"ext-user2@corp.example\"")).await;
    assert_eq!(ids(&found), vec!["user2@corp.example"]);
    let (_, found) = scim.get(&filter("emails.value eq \"mail4@corp.example\"")).await;
    assert_eq!(ids(&found), vec!["user4@corp.example"]);
    let (_, found) = scim.get(&filter("userName eq \"nobody@corp.example\"")).await;
    assert_eq!((found["totalResults"].as_i64(), ids(&found).len()), (Some(0), 0));
    let (status, e) = scim.get(&filter("userName sw \"user\"")).await;
    assert_eq!((status, e["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some("invalidFilter")));
    let (status, e) = scim.get(&filter("title eq \"Engineer\"")).await;
    assert_eq!((status, e["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some("invalidFilter")));
    let (status, _) = scim.get("/Users?count=many").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for name in ["Sales", "Engineering"] {
        let (status, _) = scim.post("/Groups", json!({"displayName": name, "externalId": format!("g-{name}")})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, g) = scim.get(&format!("/Groups?filter={}", urlencoding("displayName eq \"sales\""))).await;
    assert_eq!(g["totalResults"], 1);
    assert_eq!(g["Resources"][0]["displayName"], "Sales");
    let (_, g) = scim.get(&format!("/Groups?filter={}", urlencoding("externalId eq \"g-Engineering\""))).await;
    assert_eq!(g["Resources"][0]["displayName"], "Engineering");
    let (status, e) = scim.post("/Groups", json!({"displayName": "SALES"})).await;
    assert_eq!((status, e["scimType"].as_str()), (StatusCode::CONFLICT, Some("uniqueness")));
    app.finish().await;
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn patch_as_entra_id_and_okta_send_it() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app).await;
    let (_, ada) = scim.post("/Users", user("ada@corp.example", "ada@corp.example")).await;
    let (_, bob) = scim.post("/Users", user("bob@corp.example", "bob@corp.example")).await;
    let (ada, bob) = (ada["id"].as_str().unwrap().to_string(), bob["id"].as_str().unwrap().to_string());

    // Entra ID: one path per operation, the extension by its URN, a filtered e-mail.
    let ops = json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada.l@corp.example"},
        {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Maths"},
        {"op": "Replace", "path": "name.familyName", "value": "Lovelace"},
        {"op": "Remove", "path": "title"},
    ]);
    let (status, u) = scim.patch(&format!("/Users/{ada}"), ops).await;
    assert_eq!(status, StatusCode::OK, "{u}");
    assert_eq!(u["emails"][0]["value"], "ada.l@corp.example");
    assert_eq!(u[ENTERPRISE]["department"], "Maths");
    assert_eq!(u[ENTERPRISE]["employeeNumber"], "E-ada@corp.example");
    assert_eq!(u["name"]["familyName"], "Lovelace");
    assert!(u.get("title").is_none());
    assert_eq!(
        identity::user_id_of(&app.t.db, "ada.l@corp.example").await.unwrap().as_deref(),
        Some("ada@corp.example")
    );

    // Okta: path-less values.
    let ops = json!([{"op": "replace", "value": {"title": "Countess", "name.givenName": "Augusta"}}]);
    let (_, u) = scim.patch(&format!("/Users/{ada}"), ops).await;
    assert_eq!((u["title"].as_str(), u["name"]["givenName"].as_str()), (Some("Countess"), Some("Augusta")));
    let (_, u) = scim
        .patch(&format!("/Users/{ada}"), json!([{"op": "replace", "path": "name.formatted", "value": "A. L."}]))
        .await;
    assert_eq!(u["displayName"], "A. L.");
    let (_, u) =
        scim.patch(&format!("/Users/{ada}"), json!([{"op": "replace", "path": "displayName", "value": "Ada"}])).await;
    assert_eq!((u["displayName"].as_str(), u["name"]["formatted"].as_str()), (Some("Ada"), Some("Ada")));

    // Groups: members added, removed by a filter (Okta) and by a list (Entra ID).
    let (_, g) = scim.post("/Groups", json!({"displayName": "Analysts", "members": [{"value": ada}]})).await;
    let group = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["members"][0]["display"], "ada@corp.example");
    let (_, g) = scim
        .patch(&format!("/Groups/{group}"), json!([{"op": "Add", "path": "members", "value": [{"value": bob}]}]))
        .await;
    assert_eq!(g["members"].as_array().unwrap().len(), 2);
    let path = format!("members[value eq \"{ada}\"]");
    let (_, g) = scim.patch(&format!("/Groups/{group}"), json!([{"op": "remove", "path": path}])).await;
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    let (_, g) = scim
        .patch(&format!("/Groups/{group}"), json!([{"op": "Remove", "path": "members", "value": [{"value": bob}]}]))
        .await;
    assert!(g["members"].as_array().unwrap().is_empty());
    let (_, g) = scim
        .patch(
            &format!("/Groups/{group}"),
            json!([{"op": "replace", "value": {"id": group, "displayName": "Analysts 2"}}]),
        )
        .await;
    assert_eq!(g["displayName"], "Analysts 2");

    // Refused: an unknown op, a remove without a path, a bad path, not JSON.
    for (ops, scim_type) in [
        (json!([{"op": "copy", "path": "title"}]), "invalidSyntax"),
        (json!([{"op": "remove"}]), "noTarget"),
        (json!([{"op": "add", "path": "emails[type", "value": "x"}]), "invalidPath"),
        (json!([{"op": "replace", "path": "active", "value": "maybe"}]), "invalidValue"),
    ] {
        let (status, e) = scim.patch(&format!("/Users/{ada}"), ops).await;
        assert_eq!((status, e["scimType"].as_str()), (StatusCode::BAD_REQUEST, Some(scim_type)), "{e}");
    }
    let r = reqwest::Client::new()
        .patch(format!("{}/scim/v2/Users/{ada}", app.base))
        .bearer_auth(&scim.token)
        .header("content-type", SCIM)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (status, _) = scim.patch("/Users/nobody", json!([{"op": "replace", "path": "active", "value": false}])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.finish().await;
}

/// Every SCIM route (as `src/web/routes.rs` registers them).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/ServiceProviderConfig"),
    ("GET", "/ResourceTypes"),
    ("GET", "/ResourceTypes/User"),
    ("GET", "/Schemas"),
    ("GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"),
    ("GET", "/Users"),
    ("POST", "/Users"),
    ("GET", "/Users/x"),
    ("PUT", "/Users/x"),
    ("PATCH", "/Users/x"),
    ("DELETE", "/Users/x"),
    ("GET", "/Groups"),
    ("POST", "/Groups"),
    ("GET", "/Groups/x"),
    ("PUT", "/Groups/x"),
    ("PATCH", "/Groups/x"),
    ("DELETE", "/Groups/x"),
];

#[test]
fn the_route_list_is_every_scim_route() {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/routes.rs")).unwrap();
    let registered = source.lines().filter(|l| l.contains("cfg.route(\"/scim/v2/")).count();
    assert_eq!(registered, ROUTES.len(), "a SCIM route is missing from ROUTES");
}

#[tokio::test]
async fn only_a_token_with_the_scim_scope_gets_in_and_cookies_do_not() {
    let app = TestApp::with_accounts().await;
    let read = token(&app, &[Scope::Read, Scope::Ingest]).await;
    let (id, scim_token) = issue(&app.t.db, "okta", &[Scope::Scim], None).await.unwrap();
    let url = |p: &str| format!("{}/scim/v2{p}", app.base);
    let c = reqwest::Client::new();
    // A signed-in administrator's cookies (and CSRF token) are not a token.
    let admin = app.signed_in(Role::Admin).await;
    let body = user("a@b.example", "a@b.example").to_string();
    for (method, path) in ROUTES {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let send = |client: &reqwest::Client, token: Option<&str>| {
            let mut r = client
                .request(method.clone(), format!("{}?csrf={}", url(path), admin.csrf))
                .header("content-type", SCIM)
                .body(body.clone());
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send()
        };
        let r = send(&c, None).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "no token: {method} {path}");
        assert!(r.headers().get("www-authenticate").is_some());
        assert_eq!(r.headers().get("content-type").unwrap(), SCIM);
        let error: Value = r.json().await.unwrap();
        assert_eq!(error["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        let r = send(&c, Some(&read)).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "read token: {method} {path}");
        let r = send(&admin.http, None).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "admin's cookies: {method} {path}");
    }
    let r = c.get(url("/Users")).bearer_auth(&scim_token).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["totalResults"], 0, "nothing was written");

    // The right token, until it is revoked.
    let r = c.get(url("/ServiceProviderConfig")).bearer_auth(&scim_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let config: Value = r.json().await.unwrap();
    assert_eq!(config["patch"]["supported"], true);
    let (_, types) = {
        let r = c.get(url("/ResourceTypes")).bearer_auth(&scim_token).send().await.unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(types["totalResults"], 2);
    let r = c
        .get(url("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"))
        .bearer_auth(&scim_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c.get(url("/Nothing")).bearer_auth(&scim_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = c.post(url("/ServiceProviderConfig")).bearer_auth(&scim_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    undercurrent::storage::api_tokens::revoke(&app.t.db, id).await.unwrap();
    let r = c.get(url("/Users")).bearer_auth(&scim_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn the_tokens_page_creates_a_scim_token() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (_, page) = admin.get("/tokens").await;
    assert!(page.contains("name=\"scope_scim\""));
    let r = admin
        .http
        .post(format!("{}/tokens?csrf={}", app.base, admin.csrf))
        .form(&[("name", "Entra ID"), ("scope_scim", "1")])
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    let at = body.find("uc_").expect("the new token is shown");
    let token: String = body[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let r = reqwest::Client::new().get(format!("{}/scim/v2/Users", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r =
        reqwest::Client::new().get(format!("{}/api/v1/summary", app.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a SCIM token reads no metrics");
    app.finish().await;
}

#[tokio::test]
async fn racing_creations_of_one_user_give_one_user_and_conflicts() {
    let app = TestApp::spawn().await;
    let scim = Scim::new(&app).await;
    let tries = (0..6).map(|_| scim.post("/Users", user("race@corp.example", "race@corp.example")));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(tries).await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [StatusCode::CREATED, StatusCode::CONFLICT].contains(s)), "{statuses:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_persons_export_carries_what_sync_holds_and_erasure_removes_it() {
    let app = TestApp::with_accounts().await;
    import_fixture(&app.t.db).await;
    let scim = Scim::new(&app).await;
    let (_, u) = scim.post("/Users", user("u0002@corp.example", "u0002@corp.example")).await;
    let id = u["id"].as_str().unwrap().to_string();
    let (status, _) = scim.post("/Groups", json!({"displayName": "VPN users", "members": [{"value": id}]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, body) = admin.get("/people/u0002@corp.example/export.json").await;
    assert_eq!(status, StatusCode::OK);
    let export: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(export["directory_sync"][0]["employee_number"], "E-u0002@corp.example", "{export}");
    assert_eq!(export["directory_groups"][0]["display_name"], "VPN users");
    let (status, _, _) = admin.post("/people/u0002@corp.example/erase", &[("confirm", "u0002@corp.example")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, groups) = scim.get("/Groups").await;
    assert!(groups["Resources"][0]["members"].as_array().unwrap().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_provisioned_person_merged_by_a_directory_file_keeps_the_scim_user() {
    use undercurrent::app::import::import_people;
    use undercurrent::ingest::source::open;
    let app = TestApp::spawn().await;
    import_events_of(&app, "awu").await;
    import_events_of(&app, "EMP001").await;
    let scim = Scim::new(&app).await;
    let (status, u) = scim.post("/Users", user("awu", "awu@corp.example")).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = u["id"].as_str().unwrap().to_string();
    // The directory names Alex by an employee id, with awu as an alias:
    // awu's person is merged into the directory's.
    let csv = "user_id,name,email,aliases\nEMP001,Alex Wu,alex.wu@corp.example,awu\n";
    import_people(&app.t.db, open("people.csv", std::io::Cursor::new(csv.as_bytes().to_vec())).unwrap()).await.unwrap();
    assert_eq!(person_count(&app).await, 1);
    let (status, u) = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(status, StatusCode::OK, "the SCIM user followed the merge");
    assert_eq!(u["userName"], "awu");
    app.finish().await;
}
