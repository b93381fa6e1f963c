//! The push API over HTTP: tokens and scopes, pushing events (retries,
//! rejected lines, JSON arrays, the size limit), reading metrics back, the
//! OpenAPI document, and the tokens page.

use std::collections::BTreeSet;

use crate::common::web::{TestApp, import_fixture};
use reqwest::StatusCode;
use serde_json::{Value, json};
use undercurrent::app::evaluate::compute;
use undercurrent::app::export::{table, write_json, write_summary_json};
use undercurrent::app::settings;
use undercurrent::domain::account::Role;
use undercurrent::storage::api_tokens::{self, Scope};
use undercurrent::storage::{dataset, imports};
use undercurrent::web::api::issue;
use undercurrent::web::session::token_hash;

const NDJSON: &str = "application/x-ndjson";

struct Answer {
    status: StatusCode,
    json: Value,
    challenge: Option<String>,
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status();
    let challenge = r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let text = r.text().await.unwrap();
    assert!(content_type.starts_with("application/json"), "{status}: content type {content_type}: {text}");
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    Answer { status, json, challenge }
}

async fn push(app: &TestApp, token: Option<&str>, content_type: &str, body: impl Into<reqwest::Body>) -> Answer {
    let mut r = reqwest::Client::new()
        .post(format!("{}/api/v1/events", app.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    answer(r.send().await.unwrap()).await
}

async fn get(app: &TestApp, token: Option<&str>, path: &str) -> Answer {
    let mut r = reqwest::Client::new().get(format!("{}{path}", app.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    answer(r.send().await.unwrap()).await
}

async fn token(app: &TestApp, scopes: &[Scope]) -> String {
    issue(&app.t.db, "test client", scopes, None).await.unwrap().1
}

async fn events_stored(app: &TestApp) -> i64 {
    dataset::totals(&app.t.db).await.unwrap().events
}

const KINDS: [&str; 4] = ["message_sent", "login", "reaction", "meeting"];

/// `n` distinct events as NDJSON lines, each with an `event_id`.
fn batch(n: usize) -> String {
    (0..n)
        .map(|i| {
            json!({
                "user_id": format!("u{:04}@corp.example", i % 37),
                "timestamp": 1_779_000_000 + i as i64 * 61,
                "event": KINDS[i % 4],
                "channel": format!("g-{}", i % 5),
                "channel_type": "group",
                "event_id": format!("push-{i}"),
            })
            .to_string()
                + "\n"
        })
        .collect()
}

#[tokio::test]
async fn tokens_are_required_and_scopes_are_enforced() {
    let app = TestApp::spawn().await;
    let ingest = token(&app, &[Scope::Ingest]).await;
    let read = token(&app, &[Scope::Read]).await;
    let body = batch(2);

    let a = push(&app, None, NDJSON, body.clone()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.challenge.as_deref().unwrap_or_default().starts_with("Bearer"), "{:?}", a.challenge);
    assert!(a.json["error"].as_str().unwrap().contains("Authorization"));

    let wrong = format!("uc_{}", "0".repeat(64));
    for bad in [wrong.as_str(), "not-a-token", &ingest[..ingest.len() - 1]] {
        let a = push(&app, Some(bad), NDJSON, body.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert!(a.challenge.unwrap().contains("invalid_token"));
    }
    // Another scheme with the right token is refused too.
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/events", app.base))
        .header("authorization", format!("Basic {ingest}"))
        .header("content-type", NDJSON)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The scope: read cannot push, ingest cannot read.
    let a = push(&app, Some(&read), NDJSON, body.clone()).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(a.challenge.unwrap().contains("insufficient_scope"));
    assert_eq!(events_stored(&app).await, 0);
    for path in ["/api/v1/summary", "/api/v1/people/u0001@corp.example/metrics"] {
        assert_eq!(get(&app, Some(&ingest), path).await.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(get(&app, None, path).await.status, StatusCode::UNAUTHORIZED, "{path}");
    }

    let a = push(&app, Some(&ingest), NDJSON, body.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(events_stored(&app).await, 2);

    // Only the hash is stored, and it is the key; use is noted.
    let list = api_tokens::list(&app.t.db).await.unwrap();
    let used = list.iter().find(|t| t.scopes == vec![Scope::Ingest]).unwrap();
    assert!(used.last_used_at.is_some());
    assert_eq!(api_tokens::find_by_hash(&app.t.db, &token_hash(&ingest)).await.unwrap().unwrap().id, used.id);
    assert!(api_tokens::find_by_hash(&app.t.db, &ingest).await.unwrap().is_none());

    // A token made by an administrator who is later disabled is refused.
    let admin_id = undercurrent::app::accounts::create(
        &app.t.db,
        "creator@test.example",
        "",
        undercurrent::domain::account::Role::Admin,
        "Creator-Password-1",
        None,
    )
    .await
    .unwrap()
    .unwrap();
    let (_, made_by_admin) =
        undercurrent::web::api::issue(&app.t.db, "by admin", &[Scope::Ingest], Some(admin_id)).await.unwrap();
    assert_eq!(push(&app, Some(&made_by_admin), NDJSON, body.clone()).await.status, StatusCode::OK);
    undercurrent::storage::accounts::set_disabled(&app.t.db, admin_id, true).await.unwrap();
    assert_eq!(push(&app, Some(&made_by_admin), NDJSON, body.clone()).await.status, StatusCode::UNAUTHORIZED);
    undercurrent::storage::accounts::set_disabled(&app.t.db, admin_id, false).await.unwrap();

    // A revoked token is refused.
    assert!(api_tokens::revoke(&app.t.db, used.id).await.unwrap());
    let a = push(&app, Some(&ingest), NDJSON, body).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(events_stored(&app).await, 2);
    app.finish().await;
}

#[tokio::test]
async fn a_retried_batch_stores_nothing_twice() {
    let app = TestApp::spawn().await;
    let t = token(&app, &[Scope::Ingest]).await;
    // 1,000 events: most with an event_id, the last 100 without (matched by
    // person, time, kind and channel instead).
    let body: String = batch(1000)
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut v: Value = serde_json::from_str(line).unwrap();
            if i >= 900 {
                v.as_object_mut().unwrap().remove("event_id");
            }
            v.to_string() + "\n"
        })
        .collect();

    let first = push(&app, Some(&t), NDJSON, body.clone()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json, json!({"accepted": 1000, "stored": 1000, "duplicates": 0, "rejected": 0, "errors": []}));
    let totals = dataset::totals(&app.t.db).await.unwrap();
    assert_eq!(totals.events, 1000);

    // The response was lost; the client sends the same batch again.
    let retry = push(&app, Some(&t), NDJSON, body).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert_eq!(retry.json, json!({"accepted": 1000, "stored": 0, "duplicates": 1000, "rejected": 0, "errors": []}));
    let after = dataset::totals(&app.t.db).await.unwrap();
    assert_eq!((after.events, after.people, after.channels), (totals.events, totals.people, totals.channels));

    // Both requests are in the import history, as source `api`.
    let history = imports::recent(&app.t.db, 10).await.unwrap();
    assert_eq!(history.len(), 2);
    for (h, added) in history.iter().zip([0, 1000]) {
        assert_eq!((h.summary.source.as_str(), h.status.as_str()), ("api", "done"));
        assert_eq!((h.summary.rows_read, h.summary.events_added), (1000, added));
        assert!(h.summary.file_name.contains("test client"), "{}", h.summary.file_name);
    }
    app.finish().await;
}

#[tokio::test]
async fn bad_lines_are_reported_and_the_others_stored() {
    let app = TestApp::spawn().await;
    let t = token(&app, &[Scope::Ingest]).await;
    let body = [
        r#"{"user_id": "a@corp.example", "timestamp": "2026-05-01T09:00:00Z", "event": "login", "event_id": "l1"}"#,
        r#"{"user_id": "a@corp.example", "timestamp": 1777626000, "event": "message_sent", "event_id": "l2"}"#,
        r#"{"user_id": "b@corp.example", "timestamp": "yesterday", "event": "login", "event_id": "l3"}"#,
        r#"{"user_id": "b@corp.example", "timestamp": "2026-05-01 10:00:00", "event": "login", "event_id": "l4"}"#,
        r#"{"user_id": "c@corp.example", "timestamp": "#,
        r#"{"user_id": "c@corp.example", "timestamp": 1777630000, "event": "meeting", "duration_seconds": 600}"#,
    ]
    .join("\n");
    let a = push(&app, Some(&t), NDJSON, body.clone()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!((a.json["accepted"].as_u64(), a.json["stored"].as_u64()), (Some(4), Some(4)));
    assert_eq!(a.json["rejected"], 2);
    let errors = a.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!((errors[0]["line"].as_u64(), errors[0]["column"].as_str()), (Some(3), Some("timestamp")));
    assert!(errors[0]["message"].as_str().unwrap().contains("yesterday"), "{}", errors[0]);
    assert_eq!((errors[1]["line"].as_u64(), &errors[1]["column"]), (Some(5), &Value::Null));
    assert!(errors[1]["message"].as_str().unwrap().contains("not a JSON object"), "{}", errors[1]);
    assert_eq!(events_stored(&app).await, 4);
    // The same body again: the four are duplicates, the two still rejected.
    let a = push(&app, Some(&t), NDJSON, body).await;
    assert_eq!((a.json["stored"].as_u64(), a.json["duplicates"].as_u64()), (Some(0), Some(4)));
    assert_eq!(a.json["errors"].as_array().unwrap().len(), 2);
    let history = imports::recent(&app.t.db, 1).await.unwrap();
    assert!(history[0].summary.file_name.contains("2 lines rejected"), "{}", history[0].summary.file_name);

    // Nothing readable: 400, with the lines.
    let a = push(&app, Some(&t), NDJSON, "this is not JSON\nnor this\n").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.json["errors"].as_array().unwrap().len(), 2);
    assert!(a.json["error"].as_str().is_some());
    // Nothing at all: nothing to do.
    let before = imports::recent(&app.t.db, 50).await.unwrap().len();
    for blank in ["", "\n  \n"] {
        let a = push(&app, Some(&t), NDJSON, blank).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.json, json!({"accepted": 0, "stored": 0, "duplicates": 0, "rejected": 0, "errors": []}));
    }
    assert_eq!(imports::recent(&app.t.db, 50).await.unwrap().len(), before);
    // Every line a valid object with a bad field: read, so 200, nothing stored.
    let a = push(&app, Some(&t), NDJSON, r#"{"user_id": "", "timestamp": 1777630000, "event": "login"}"#).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!((a.json["accepted"].as_u64(), a.json["errors"][0]["column"].as_str()), (Some(0), Some("user_id")));
    let failed = imports::recent(&app.t.db, 1).await.unwrap();
    assert_eq!((failed[0].status.as_str(), failed[0].summary.source.as_str()), ("failed", "api"));
    assert_eq!(events_stored(&app).await, 4);
    app.finish().await;
}

#[tokio::test]
async fn a_json_array_body_works() {
    let app = TestApp::spawn().await;
    let t = token(&app, &[Scope::Ingest]).await;
    let body = json!([
        {"user_id": "A@corp.example ", "timestamp": "2026-05-01T09:00:00+08:00", "event": "login", "event_id": "j1"},
        {"user_id": "a@corp.example", "timestamp": 1777626000, "event": "meeting", "duration_seconds": -5},
        {"user_id": "a@corp.example", "timestamp": 1777626100, "event": "message_sent", "channel": "d-1",
         "channel_type": "direct", "event_id": "j3", "text": "ignored, never stored"},
        "not an object",
        {"user_id": "b@corp.example", "timestamp": 1777626200, "event": "reaction", "channel_type": "radio"}
    ]);
    let a = push(&app, Some(&t), "application/json; charset=utf-8", body.to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!((a.json["accepted"].as_u64(), a.json["stored"].as_u64()), (Some(2), Some(2)));
    let lines: Vec<(u64, Option<&str>)> = a.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["column"].as_str()))
        .collect();
    assert_eq!(lines, vec![(2, Some("duration_seconds")), (4, None), (5, Some("channel_type"))]);
    assert_eq!(events_stored(&app).await, 2);

    let a = push(&app, Some(&t), "application/json", "[]").await;
    assert_eq!((a.status, a.json["accepted"].as_u64()), (StatusCode::OK, Some(0)));
    for bad in [r#"{"user_id": "a"}"#, "[{\"user_id\": ", "nonsense"] {
        let a = push(&app, Some(&t), "application/json", bad).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(a.json["error"].as_str().unwrap().contains("JSON array"), "{}", a.json);
    }
    // An array sent as NDJSON is refused with a hint.
    let a = push(&app, Some(&t), NDJSON, body.to_string()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json["error"].as_str().unwrap().contains("application/json"));
    // Other media types are not guessed at.
    let a = push(&app, Some(&t), "text/csv", "user_id,timestamp,event\n").await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(events_stored(&app).await, 2);
    app.finish().await;
}

#[tokio::test]
async fn bodies_over_10_mib_are_refused() {
    let app = TestApp::spawn().await;
    let t = token(&app, &[Scope::Ingest]).await;
    let limit = undercurrent::web::api::MAX_BODY_BYTES;
    assert_eq!(limit, 10 * 1024 * 1024);
    let line = batch(1);
    let mut body = line.repeat(limit / line.len() + 1);
    body.truncate(limit + 1);
    let a = push(&app, Some(&t), NDJSON, body.clone()).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.json["error"].as_str().unwrap().contains("10 MiB"), "{}", a.json);
    // Without a declared length (chunked), the limit holds as well.
    let (status, response) = post_chunked(&app, &t, body.into_bytes()).await;
    assert_eq!(status, 413, "{response}");
    assert!(response.contains("10 MiB"), "{response}");
    assert_eq!(events_stored(&app).await, 0);
    // Just under the limit is accepted.
    let mut body = batch(1).repeat(limit / line.len());
    body.truncate(body.len() - line.len());
    assert!(body.len() <= limit);
    let a = push(&app, Some(&t), NDJSON, body).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json["stored"], 1);
    app.finish().await;
}

/// POSTs a body with `Transfer-Encoding: chunked` (no Content-Length) over a
/// plain socket; returns the status and the whole response.
async fn post_chunked(app: &TestApp, token: &str, body: Vec<u8>) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = app.base.trim_start_matches("http://").to_string();
    let token = token.to_string();
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        for chunk in body.chunks(64 * 1024) {
            if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
                || s.write_all(chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut response = String::new();
        let _ = s.read_to_string(&mut response);
        let status = response.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, response)
    })
    .await
    .unwrap()
}

/// Whether an API value is what `metrics export` shows: the same number,
/// null for an empty cell, else the same text.
fn same_value(api: &Value, shown: &str) -> bool {
    match api {
        Value::Null => shown.is_empty(),
        Value::Number(n) => shown.parse::<f64>().ok() == n.as_f64(),
        Value::String(s) => s == shown,
        _ => false,
    }
}

#[tokio::test]
async fn metrics_and_summary_are_the_export_s_numbers() {
    let app = TestApp::spawn().await;
    import_fixture(&app.t.db).await;
    let t = token(&app, &[Scope::Read]).await;
    let settings = settings::load(&app.t.db).await.unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2026, 5, 29).unwrap();
    let computed = compute(&app.t.db, &settings, Some(as_of), None).await.unwrap();
    let (header, rows) = table(&computed);
    let mut export = Vec::new();
    write_json(&computed, &mut export).unwrap();
    let export: Value = serde_json::from_slice(&export).unwrap();
    assert!(rows.len() > 20);
    for (row, exported) in rows.iter().zip(export["people"].as_array().unwrap()) {
        let a = get(&app, Some(&t), &format!("/api/v1/people/{}/metrics?as_of=2026-05-29", row[0])).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json);
        assert_eq!(a.json["as_of"], "2026-05-29");
        assert_eq!(a.json["timezone"], "Asia/Shanghai");
        let person = a.json["person"].as_object().unwrap();
        assert_eq!(person.keys().cloned().collect::<BTreeSet<_>>(), header.iter().cloned().collect::<BTreeSet<_>>());
        for (column, shown) in header.iter().zip(row) {
            assert!(same_value(&person[column], shown), "{} {column}: {} vs {shown:?}", row[0], person[column]);
        }
        assert!(person["active_days"].is_u64() && person["tier"].is_string());
        // The same object as `metrics export --format json`.
        assert_eq!(&a.json["person"], exported);
    }
    // User ids are matched as imports store them.
    let upper = rows[0][0].to_uppercase();
    let a = get(&app, Some(&t), &format!("/api/v1/people/{upper}/metrics?as_of=2026-05-29")).await;
    assert_eq!(a.json["person"]["user_id"], json!(rows[0][0]));
    let audit = undercurrent::storage::audit::recent(&app.t.db, 5, 0).await.unwrap();
    assert!(audit.iter().all(|e| e.action == "person.view" && e.detail.as_deref().unwrap().starts_with("api token:")));

    let a = get(&app, Some(&t), "/api/v1/people/nobody@corp.example/metrics?as_of=2026-05-29").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json["error"].is_string());
    for bad in ["29/05/2026", "2026-13-01", "yesterday", "", "2026-5-9"] {
        let a = get(&app, Some(&t), &format!("/api/v1/summary?as_of={bad}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(a.json["error"].as_str().unwrap().contains("as_of"));
        let a = get(&app, Some(&t), &format!("/api/v1/people/{}/metrics?as_of={bad}", rows[0][0])).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // The summary is `metrics summary --format json`.
    let mut expected = Vec::new();
    write_summary_json(&computed, &mut expected).unwrap();
    let expected: Value = serde_json::from_slice(&expected).unwrap();
    let a = get(&app, Some(&t), "/api/v1/summary?as_of=2026-05-29").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json, expected);
    let (code, cli_json, err) =
        crate::common::cli(&app.t.url, &["metrics", "summary", "--as-of", "2026-05-29", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(a.json, serde_json::from_str::<Value>(&cli_json).unwrap());
    assert!(a.json["departments"].as_array().unwrap().len() > 1);
    // Without as_of: the latest day with data, as the export.
    let latest = compute(&app.t.db, &settings, None, None).await.unwrap();
    let a = get(&app, Some(&t), "/api/v1/summary").await;
    assert_eq!(a.json["as_of"], json!(latest.evaluation.window.as_of.to_string()));
    app.finish().await;
}

/// The API routes registered in `src/web/routes.rs`: (method, path).
fn registered_api_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/routes.rs")).unwrap();
    source
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("cfg.route(\"/api/v1/")?;
            let path = format!("/api/v1/{}", &rest[..rest.find('"')?]);
            let method = rest.split("web::").nth(1)?.split('(').next()?.to_string();
            Some((method, path))
        })
        .collect()
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = TestApp::spawn().await;
    let a = get(&app, None, "/api/v1/openapi.json").await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json;
    assert_eq!(doc["openapi"], "3.0.3");
    let routes = registered_api_routes();
    assert_eq!(routes.len(), 4, "{routes:?}");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    assert_eq!(documented, routes);
    assert_eq!(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"], "bearer");
    let push = &doc["paths"]["/api/v1/events"]["post"];
    let statuses: BTreeSet<&str> = push["responses"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(statuses, BTreeSet::from(["200", "400", "401", "403", "413", "415", "507"]));
    assert_eq!(push["requestBody"]["content"]["application/x-ndjson"]["schema"]["type"], "string");
    let event = &doc["components"]["schemas"]["Event"]["properties"];
    assert_eq!(event["channel_type"]["enum"], json!(["direct", "group", "broadcast"]));
    assert_eq!(event["duration_seconds"]["minimum"], 0);
    // Every reference resolves.
    let text = doc.to_string();
    for (i, _) in text.match_indices("\"$ref\":\"#/") {
        let rest = &text[i + 9..];
        let pointer = &rest[..rest.find('"').unwrap()];
        assert!(doc.pointer(pointer).is_some(), "dangling {pointer}");
    }
    // Unknown API paths answer JSON too; known ones asked with another
    // method answer 405 with the method they take.
    let a = get(&app, None, "/api/v1/nothing-here").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let http = reqwest::Client::new();
    for (method, path) in &routes {
        let path = path.replace("{user_id}", "someone@corp.example");
        for other in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if other.eq_ignore_ascii_case(method) {
                continue;
            }
            let r = http.request(other.parse().unwrap(), format!("{}{path}", app.base)).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{other} {path}");
            assert_eq!(r.headers()["allow"].to_str().unwrap(), method.to_uppercase(), "{other} {path}");
            assert!(answer(r).await.json["error"].is_string());
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn admins_create_and_revoke_tokens_on_the_tokens_page() {
    let app = TestApp::with_accounts().await;
    let mut admin = app.signed_in(Role::Admin).await;
    let (status, page) = admin.get("/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("href=\"/tokens\""), "the nav links the page");
    assert!(page.contains("name=\"scope_ingest\" value=\"1\" checked"), "both scopes ticked by default");

    // Refused forms keep the page.
    let (status, page, _) = admin.post("/tokens", &[("name", " "), ("scope_ingest", "1")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Give the token a name."));
    let (_, page, _) = admin.post("/tokens", &[("name", "relay")]).await;
    assert!(page.contains("Choose at least one scope."));
    // Without the session's token the post is refused.
    let (status, _, _) = admin.post_raw("/tokens", &[("name", "relay"), ("scope_ingest", "1")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let r = admin
        .http
        .post(format!("{}/tokens?csrf={}", admin.base, admin.csrf))
        .form(&[("name", "Feishu relay"), ("scope_ingest", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store");
    let page = r.text().await.unwrap();
    let at = page.find("uc_").expect("the new token is shown");
    let token: String = page[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    assert_eq!(token.len(), 3 + 64, "{token}");
    assert!(page.contains("shown only this once"));

    // The token works for its scope only; the database holds its hash only.
    let a = push(&app, Some(&token), NDJSON, batch(3)).await;
    assert_eq!((a.status, a.json["stored"].as_u64()), (StatusCode::OK, Some(3)));
    assert_eq!(get(&app, Some(&token), "/api/v1/summary").await.status, StatusCode::FORBIDDEN);
    let stored = api_tokens::find_by_hash(&app.t.db, &token_hash(&token)).await.unwrap().unwrap();
    assert_eq!((stored.name.as_str(), stored.scopes.as_slice()), ("Feishu relay", &[Scope::Ingest][..]));
    assert_eq!(stored.created_by.as_deref(), Some("admin@test.example"));

    // Listed, with its last use, never shown again.
    let (_, page) = admin.get("/tokens").await;
    assert!(page.contains("Feishu relay"));
    assert!(!page.contains(&token));
    assert!(!page.contains("shown only this once"));

    let (status, _, location) = admin.post(&format!("/tokens/{}/revoke", stored.id), &[]).await;
    assert_eq!((status, location.as_deref()), (StatusCode::SEE_OTHER, Some("/tokens?revoked=1")));
    let (_, page) = admin.get("/tokens?revoked=1").await;
    assert!(page.contains("The token was revoked"));
    assert!(page.contains("Revoked "));
    assert_eq!(push(&app, Some(&token), NDJSON, batch(3)).await.status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = admin.post("/tokens/999999/revoke", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let audit = undercurrent::storage::audit::recent(&app.t.db, 50, 0).await.unwrap();
    let target = format!("token:{}", stored.id);
    for action in ["token.create", "token.revoke"] {
        let e = audit.iter().find(|e| e.action == action).unwrap_or_else(|| panic!("{action} audited"));
        assert_eq!(
            (e.target.as_deref(), e.account_email.as_deref()),
            (Some(target.as_str()), Some("admin@test.example"))
        );
    }
    assert!(!audit.iter().any(|e| e.detail.as_deref().unwrap_or_default().contains(&token)));

    // Other roles can neither see nor use the page, nor find it in the nav.
    for role in [Role::Researcher, Role::Analyst, Role::Manager] {
        let mut c = app.signed_in(role).await;
        let (_, home) = c.get("/account/password").await;
        assert!(!home.contains("href=\"/tokens\""), "{role} nav");
        assert_eq!(c.get("/tokens").await.0, StatusCode::FORBIDDEN, "{role}");
        let (status, _, _) = c.post("/tokens", &[("name", "x"), ("scope_read", "1")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
        let (status, _, _) = c.post(&format!("/tokens/{}/revoke", stored.id), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}");
    }
    // The Chinese page has its own words.
    let r = admin.http.get(format!("{}/tokens", admin.base)).header("accept-language", "zh-CN").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("API 令牌"));
    app.finish().await;
}

/// Peak resident memory of this process so far, in KiB (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn ten_mib_of_bad_lines() -> Vec<u8> {
    b"1\n".repeat(10 * 1024 * 1024 / 2)
}

#[tokio::test]
async fn a_body_of_millions_of_bad_lines_keeps_only_the_first_errors_and_counts_the_rest() {
    use undercurrent::web::api::events::{BodyFormat, MAX_LISTED_ERRORS, parse};
    let body = ten_mib_of_bad_lines();
    let lines = body.len() as u64 / 2;
    // Not one line is an object: refused as a whole, with the first errors listed.
    let Err(undercurrent::web::api::ApiError::BadRequest { errors, rejected, .. }) =
        parse(BodyFormat::Ndjson, body, chrono_tz::UTC)
    else {
        panic!("a body of numbers is refused");
    };
    assert_eq!((errors.len(), rejected), (MAX_LISTED_ERRORS, lines));
    // One good line among them: stored, the rest counted.
    let mut body = batch(1).into_bytes();
    body.extend(ten_mib_of_bad_lines());
    let parsed = parse(BodyFormat::Ndjson, body, chrono_tz::UTC).unwrap();
    assert_eq!(parsed.events.len(), 1);
    assert_eq!((parsed.errors.len(), parsed.rejected), (MAX_LISTED_ERRORS, lines));
    assert_eq!(parsed.errors[0].line, 2);
    // The same through HTTP: the answer lists 1,000 and counts them all.
    let app = TestApp::spawn().await;
    let token = token(&app, &[Scope::Ingest]).await;
    let mut body = batch(1).into_bytes();
    body.extend(b"1\n".repeat(100_000));
    let a = push(&app, Some(&token), NDJSON, body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.json);
    assert_eq!(a.json["rejected"], 100_000);
    assert_eq!(a.json["errors"].as_array().unwrap().len(), MAX_LISTED_ERRORS);
    app.finish().await;
}

/// Peak memory of parsing four 10 MiB bodies of bad lines, NDJSON and JSON
/// arrays: `cargo test --test api -- --ignored --nocapture peak_memory`.
/// Run alone: the peak is the process's.
#[tokio::test]
#[ignore = "measures the process's peak memory; run alone"]
async fn peak_memory_of_four_bad_bodies_stays_a_small_multiple_of_their_size() {
    use undercurrent::web::api::events::{BodyFormat, parse};
    let before = peak_rss_kib().unwrap();
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let (format, body) = if i % 2 == 0 {
                    (BodyFormat::Ndjson, ten_mib_of_bad_lines())
                } else {
                    let mut body = b"[".to_vec();
                    body.extend(b"1,".repeat(10 * 1024 * 1024 / 2 - 1));
                    body.extend(b"1]");
                    (BodyFormat::Array, body)
                };
                let _ = parse(format, body, chrono_tz::UTC);
            })
        })
        .collect();
    for t in tasks {
        t.join().unwrap();
    }
    let grown = peak_rss_kib().unwrap().saturating_sub(before);
    println!("peak RSS grew by {} MiB for four 10 MiB bodies", grown / 1024);
    assert!(grown < 4 * 10 * 1024 * 8, "grew by {grown} KiB");
}
