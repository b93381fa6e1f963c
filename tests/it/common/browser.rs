//! A small W3C WebDriver client for browser tests: Debian's chromedriver
//! driving headless Chromium, no browser download. Just the commands the
//! tests use.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

/// Whether browser tests can run here; in CI they must.
pub fn available() -> bool {
    let found = Path::new("/usr/bin/chromedriver").exists() && Path::new("/usr/bin/chromium").exists();
    if !found && std::env::var("CI").is_ok() {
        panic!("CI must have chromium and chromium-driver (see .ci/run)");
    }
    if !found {
        eprintln!("skipping the browser test: install Debian's chromium and chromium-driver to run it");
    }
    found
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                     "--window-size=1300,1800", format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let r: Value = http.post(format!("{base}/session")).json(&caps).send().await.unwrap().json().await.unwrap();
        let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        Browser { driver, http, base, session, _profile: profile }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        if r["value"].get("error").is_some() {
            panic!("WebDriver {path}: {}", r["value"]);
        }
        r["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v[ELEMENT_KEY].as_str().unwrap().to_string()
    }

    pub async fn count(&self, css: &str) -> usize {
        let v =
            self.call(reqwest::Method::POST, "/elements", Some(json!({"using": "css selector", "value": css}))).await;
        v.as_array().map(Vec::len).unwrap_or(0)
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), Some(json!({}))).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    /// Types without clearing (file inputs take a path this way).
    pub async fn send_keys(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), Some(json!({}))).await;
    }

    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None).await.as_str().unwrap_or("").to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None).await.as_str().unwrap_or("").to_string()
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None).await.as_str().unwrap_or("").to_string()
    }

    /// Resizes the window to `width` CSS pixels (a phone: 390).
    pub async fn set_width(&self, width: u32) {
        self.call(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": 900}))).await;
    }

    /// How many CSS pixels the page is wider than the window (0: it fits),
    /// and the elements that stick out (for the failure message).
    pub async fn overflow_x(&self) -> (i64, String) {
        let js = "const W = document.documentElement.clientWidth; const out = [];
            for (const e of document.querySelectorAll('body *')) {
              const r = e.getBoundingClientRect();
              if (r.right > W + 1 && e.children.length < 3) out.push(e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(r.right));
            }
            return [document.documentElement.scrollWidth - W, out.slice(0, 10).join(', ')];";
        let v = self.script(js).await;
        (v[0].as_i64().unwrap_or(i64::MAX), v[1].as_str().unwrap_or_default().to_string())
    }

    /// Runs a script in the page and returns its value.
    pub async fn script(&self, js: &str) -> Value {
        self.call(reqwest::Method::POST, "/execute/sync", Some(json!({"script": js, "args": []}))).await
    }

    /// Waits until a CSS selector matches (pages load after clicks).
    pub async fn wait_for(&self, css: &str) {
        for _ in 0..100 {
            if self.count(css).await > 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {css} on {}", self.url().await);
    }

    /// Saves a PNG screenshot under target/screenshots.
    pub async fn screenshot(&self, name: &str) {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), base64_decode(v.as_str().unwrap())).unwrap();
    }

    pub async fn quit(mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Standard base64 (what WebDriver returns for screenshots).
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(value) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

impl Browser {
    /// Waits until the page's address contains `part` (a redirect after a
    /// form whose result page has the same elements as the page before).
    pub async fn wait_for_url(&self, part: &str) {
        for _ in 0..100 {
            if self.url().await.contains(part) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for an address with {part}: {}", self.url().await);
    }

    /// The current value of a form field (what the person would submit).
    pub async fn value(&self, css: &str) -> String {
        let css = serde_json::to_string(css).unwrap();
        self.script(&format!("return document.querySelector({css}).value")).await.as_str().unwrap_or("").to_string()
    }

    /// The texts of every element a CSS selector matches, in page order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let css = serde_json::to_string(css).unwrap();
        let v =
            self.script(&format!("return [...document.querySelectorAll({css})].map(e => e.innerText.trim())")).await;
        v.as_array().map(|a| a.iter().map(|t| t.as_str().unwrap_or("").to_string()).collect()).unwrap_or_default()
    }

    /// Saves a PNG of the whole page, below the window too (Chromium's
    /// DevTools through chromedriver), under target/screenshots.
    pub async fn screenshot_full(&self, name: &str) {
        let size =
            self.script("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]").await;
        let (width, height) = (size[0].as_f64().unwrap_or(1300.0), size[1].as_f64().unwrap_or(1800.0));
        let params = json!({"format": "png", "captureBeyondViewport": true,
                            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}});
        let v = self
            .call(
                reqwest::Method::POST,
                "/goog/cdp/execute",
                Some(json!({"cmd": "Page.captureScreenshot", "params": params})),
            )
            .await;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), base64_decode(v["data"].as_str().unwrap())).unwrap();
    }
}

impl Browser {
    /// Signs in through the login form and waits for the signed-in header.
    pub async fn sign_in(&self, base: &str, email: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_into("input[name=email]", email).await;
        self.type_into("input[name=password]", password).await;
        self.click("form.stack button").await;
        self.wait_for("header nav").await;
    }

    /// Signs out with the header's button and waits for the login page.
    pub async fn sign_out(&self) {
        self.click("header .who form button").await;
        self.wait_for("input[name=password]").await;
        assert_eq!(self.count("header nav").await, 0, "signed out");
    }

    /// Waits until a CSS selector matches exactly `n` elements (a form that
    /// returns to the same page with one more row).
    pub async fn wait_for_count(&self, css: &str, n: usize) {
        for _ in 0..100 {
            if self.count(css).await == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {n} of {css} on {}: {} found", self.url().await, self.count(css).await);
    }

    /// Sets a form field's value as the browser's own picker would, with
    /// the input and change events (date fields take typed keys in the
    /// browser's locale's order, which a test cannot rely on).
    pub async fn set_value(&self, css: &str, value: &str) {
        let (css, value) = (serde_json::to_string(css).unwrap(), serde_json::to_string(value).unwrap());
        self.script(&format!(
            "const e = document.querySelector({css}); e.value = {value};
             e.dispatchEvent(new Event('input', {{bubbles: true}}));
             e.dispatchEvent(new Event('change', {{bubbles: true}}));"
        ))
        .await;
    }

    /// Prints the current page to PDF on A4 paper (W3C WebDriver "Print
    /// Page", which goes through Chromium's own print path with the page's
    /// print stylesheet and the session's cookies), saves it as
    /// target/screenshots/{name}.pdf and returns its bytes.
    pub async fn print_pdf(&self, name: &str) -> Vec<u8> {
        // Sizes are in centimetres; chromedriver ignores keys it does not
        // know (a flat `pageWidth` prints US Letter), so the W3C shape.
        let params = json!({"page": {"width": 21.0, "height": 29.7}, "background": false});
        let v = self.call(reqwest::Method::POST, "/print", Some(params)).await;
        let pdf = base64_decode(v.as_str().unwrap());
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.pdf")), &pdf).unwrap();
        pdf
    }
}

impl Browser {
    /// Makes the page's clock read in `zone` (Chromium's DevTools
    /// emulation), as a browser in that zone would.
    pub async fn emulate_timezone(&self, zone: &str) {
        let body = json!({"cmd": "Emulation.setTimezoneOverride", "params": {"timezoneId": zone}});
        self.call(reqwest::Method::POST, "/goog/cdp/execute", Some(body)).await;
    }
}
