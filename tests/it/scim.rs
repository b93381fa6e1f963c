//! SCIM 2.0 directory sync over HTTP: conformance (scim-sanity, from PyPI,
//! against a server started here), identity matching with imports and
//! events, deactivation keeping history, filters, pages, PATCH as Entra ID
//! and Okta send it, and the token's scope.

use crate::common::web::{TestApp, import_fixture};
use reqwest::StatusCode;
use serde_json::{Value, json};
use undercurrent::domain::account::Role;
use undercurrent::storage::api_tokens::Scope;
use undercurrent::storage::{audit, dataset, directory, identity};
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
    app.finish().await;
}
