//! A real OpenID Connect provider for the tests: `tests/oidc/provider.js`
//! (the `oidc-provider` package from npm) run by Node on a free port. It
//! skips, with a message, unless `tests/oidc/node_modules` is installed
//! (`npm ci` in tests/oidc); in CI it must be (see `ensure_oidc_provider`
//! in .ci/run).

use std::fs::File;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use super::web::Client;

pub const CLIENT_ID: &str = "undercurrent";
pub const CLIENT_SECRET: &str = "test-secret";

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether Node and the provider's packages are there; in CI they must be.
pub fn available() -> bool {
    let installed = folder().join("node_modules/oidc-provider").is_dir()
        && Command::new("node").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    if !installed && std::env::var("CI").is_ok() {
        panic!("CI must have the test OpenID Connect provider (see ensure_oidc_provider in .ci/run)");
    }
    if !installed {
        eprintln!("skipping the OpenID Connect test: run `npm ci` in tests/oidc (Node 20+) to run it");
    }
    installed
}

pub struct OidcProvider {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl OidcProvider {
    /// Starts the provider for an app at `app_base` whose provider is named
    /// `slug`; `users` is the people's JSON (login → e-mail, groups).
    pub fn start(app_base: &str, slug: &str, users: &str) -> Option<OidcProvider> {
        if !available() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = File::create(dir.path().join("provider.log")).unwrap();
        let child = Command::new("node")
            .arg(folder().join("provider.js"))
            .current_dir(folder())
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_REDIRECT_URI", format!("{app_base}/auth/oidc/{slug}/callback"))
            .env("OIDC_POST_LOGOUT_URI", format!("{app_base}/login"))
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_USERS", users)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting node tests/oidc/provider.js");
        let mut server = OidcProvider { child, port, dir };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Some(server);
            }
            let exited = server.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                panic!("the OpenID Connect provider did not listen on {addr} ({exited:?}):\n{}", server.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("provider.log")).unwrap_or_default()
    }

    async fn control(&self, path: &str) {
        let r = reqwest::Client::new().post(format!("{}{path}", self.issuer())).send().await.unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// The next ID tokens come with one claim wrong (see provider.js).
    pub async fn misbehave(&self, mode: &str) {
        self.control(&format!("/__test/mode/{mode}")).await;
    }

    /// A new signing key, published next to the old one and used from now.
    pub async fn rotate_keys(&self) {
        self.control("/__test/rotate").await;
    }

    /// Signs in to the app through the provider as `login`, as a browser
    /// would: the app's start, the provider's login and consent forms, and
    /// the app's callback. Returns the callback's status, body and Location.
    pub async fn sign_in(&self, c: &mut Client, slug: &str, login: &str) -> (StatusCode, String, Option<String>) {
        let (status, _, location) = c.get_full(&format!("/auth/oidc/{slug}/start")).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "start");
        let mut url = location.unwrap();
        assert!(url.starts_with(&self.issuer()), "the start sends the browser to the provider: {url}");
        for _ in 0..20 {
            if url.starts_with(&c.base) {
                return c.get_full(&url[c.base.len()..]).await;
            }
            let r = c.http.get(&url).send().await.unwrap();
            let (status, next) = (r.status(), location_of(&r));
            let body = r.text().await.unwrap();
            url = match next {
                Some(next) if status.is_redirection() => self.absolute(&next),
                _ => {
                    assert_eq!(status, StatusCode::OK, "{url}: {body}\n{}", self.log());
                    let prompt = if body.contains("value=\"login\"") { "login" } else { "consent" };
                    let form = [("prompt", prompt), ("login", login), ("password", "any")];
                    let r = c.http.post(&url).form(&form).send().await.unwrap();
                    assert!(r.status().is_redirection(), "{prompt} at {url}: {}\n{}", r.status(), self.log());
                    self.absolute(&location_of(&r).unwrap())
                }
            };
        }
        panic!("the sign-in did not come back to the app");
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http") { location.to_string() } else { format!("{}{location}", self.issuer()) }
    }
}

fn location_of(r: &reqwest::Response) -> Option<String> {
    r.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string)
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
