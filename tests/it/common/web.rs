//! Test support for the web application: the real app on a random port
//! over a fresh database, and a browser-like client per account (cookie jar,
//! no automatic redirects, CSRF token taken from the page it last read).

#![allow(dead_code)]

use std::net::TcpListener;

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use undercurrent::app::accounts::create;
use undercurrent::domain::account::Role;
use undercurrent::web::{AppState, start};

use super::TestDb;

pub const PASSWORD: &str = "Correct-Horse-42";

/// Imports the activity-small fixture as its README says (Asia/Shanghai).
pub async fn import_fixture(db: &undercurrent::storage::Db) {
    use undercurrent::app::import::{import_events, import_people};
    use undercurrent::app::settings;
    use undercurrent::ingest::source::open;
    settings::set(db, "timezone", "Asia/Shanghai").await.unwrap();
    let dir = super::fixture("activity-small");
    let file = |f: &str| open(f, std::fs::File::open(dir.join(f)).unwrap()).unwrap();
    import_people(db, file("people.csv")).await.unwrap();
    let tz = settings::load(db).await.unwrap().timezone;
    import_events(db, tz, file("events_a.csv")).await.unwrap();
    import_events(db, tz, file("events_b.ndjson")).await.unwrap();
}

pub struct TestApp {
    pub base: String,
    pub t: TestDb,
}

impl TestApp {
    /// Starts the app; the database is empty (no accounts, no data).
    pub async fn spawn() -> TestApp {
        TestApp::serve(TestDb::new().await, |_| {})
    }

    /// Serves `t` with the state as `configure` leaves it.
    pub fn serve(t: TestDb, configure: impl FnOnce(&mut AppState)) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut state = AppState::new(t.db.clone(), false);
        // As `serve` does: links in e-mails use the address bound to.
        state.base_url = Some(format!("http://127.0.0.1:{port}").into());
        configure(&mut state);
        let server = start(state, listener).unwrap();
        tokio::spawn(server);
        TestApp { base: format!("http://127.0.0.1:{port}"), t }
    }

    /// Creates one account of each role in the app's database.
    pub async fn add_accounts(&self) {
        for role in Role::ALL {
            let email = format!("{}@test.example", role.as_str());
            create(&self.t.db, &email, role.as_str(), role, PASSWORD, None).await.unwrap().unwrap();
        }
    }

    /// Starts the app with one account of each role
    /// (`admin@test.example`, `researcher@...`, `analyst@...`, `manager@...`).
    pub async fn with_accounts() -> TestApp {
        let app = TestApp::spawn().await;
        app.add_accounts().await;
        app
    }

    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap(),
            base: self.base.clone(),
            csrf: String::new(),
        }
    }

    /// A client signed in with the account of `role`.
    pub async fn signed_in(&self, role: Role) -> Client {
        let mut c = self.client();
        let response = c.sign_in(&format!("{}@test.example", role.as_str()), PASSWORD).await;
        assert_eq!(response.0, StatusCode::SEE_OTHER, "sign-in as {role} failed: {}", response.1);
        // Read a page to learn the session's CSRF token.
        c.get("/account/password").await;
        c
    }

    pub async fn finish(self) {
        self.t.finish().await;
    }
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    /// The CSRF token of the last page read.
    pub csrf: String,
}

/// The first `csrf=` token in a page.
pub fn csrf_of(body: &str) -> Option<String> {
    let i = body.find("csrf=")?;
    Some(body[i + 5..].chars().take_while(|c| c.is_ascii_hexdigit()).collect())
}

impl Client {
    /// GET; returns status, body and the Location header.
    pub async fn get_full(&mut self, path: &str) -> (StatusCode, String, Option<String>) {
        let r = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status();
        let location = r.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        let body = r.text().await.unwrap();
        if let Some(t) = csrf_of(&body) {
            self.csrf = t;
        }
        (status, body, location)
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let (s, b, _) = self.get_full(path).await;
        (s, b)
    }

    /// POSTs a form with the current CSRF token in the URL, as pages do.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, Option<String>) {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.post_raw(&format!("{path}{sep}csrf={}", self.csrf), form).await
    }

    /// POSTs without adding a token.
    pub async fn post_raw(
        &mut self,
        path_and_query: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, String, Option<String>) {
        let r = self.http.post(format!("{}{path_and_query}", self.base)).form(form).send().await.unwrap();
        let status = r.status();
        let location = r.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        (status, r.text().await.unwrap(), location)
    }

    /// POSTs a multipart form (file uploads) with the CSRF token in the URL.
    pub async fn post_multipart(&mut self, path: &str, form: reqwest::multipart::Form) -> (StatusCode, String) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{sep}csrf={}", self.base, self.csrf);
        let r = self.http.post(url).multipart(form).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Signs in through the login form; returns status and body.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, String) {
        let (_, page) = self.get("/login").await;
        self.csrf = csrf_of(&page).expect("the login form has a token");
        let (s, b, _) = self.post("/login", &[("email", email), ("password", password)]).await;
        (s, b)
    }
}
