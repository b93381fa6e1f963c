//! Calendars for the busy-time tests: a tiny HTTP server serving one
//! iCalendar text (or failing on demand), and a real CalDAV server
//! (Radicale, run by the test). Radicale skips unless `python3 -m radicale`
//! is importable; in CI it must be (see `ensure_radicale` in .ci/run).

#![allow(dead_code)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the feed server answers: the body with 200, or 500 when `None`.
pub struct FeedServer {
    pub url: String,
    body: Arc<Mutex<Option<String>>>,
    hits: Arc<Mutex<usize>>,
}

impl FeedServer {
    /// Serves `body` as text/calendar at `/cal.ics` (any path, in fact).
    pub async fn start(body: &str) -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/private/cal.ics", listener.local_addr().unwrap());
        let shared = Arc::new(Mutex::new(Some(body.to_string())));
        let hits = Arc::new(Mutex::new(0));
        let (body, count) = (shared.clone(), hits.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                *count.lock().unwrap() += 1;
                let answer = body.lock().unwrap().clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let response = match answer {
                        Some(text) => format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/calendar; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                            text.len()
                        ),
                        None => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .into(),
                    };
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        FeedServer { url, body: shared, hits }
    }

    /// From now on, answer 500.
    pub fn fail(&self) {
        *self.body.lock().unwrap() = None;
    }

    pub fn hits(&self) -> usize {
        *self.hits.lock().unwrap()
    }
}

/// An address where nothing listens.
pub fn unreachable_url() -> String {
    let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/cal.ics")
}

/// Whether Radicale is there; in CI it must be.
pub fn radicale_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import radicale"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found && std::env::var("CI").is_ok() {
        panic!("CI must have Radicale for python3 (see ensure_radicale in .ci/run)");
    }
    if !found {
        eprintln!("skipping the CalDAV test: `python3 -m pip install radicale` to run it");
    }
    found
}

/// A Radicale CalDAV server on a free port, with one user (`alice`,
/// password `secret`) and an empty storage folder.
pub struct Radicale {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";

impl Radicale {
    pub fn start() -> Option<Radicale> {
        if !radicale_available() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::fs::write(dir.path().join("users"), format!("{USER}:{PASSWORD}\n")).unwrap();
        let config = format!(
            "[server]\nhosts = 127.0.0.1:{port}\n\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n\n[storage]\nfilesystem_folder = {storage}\n",
            users = dir.path().join("users").display(),
            storage = dir.path().join("collections").display(),
        );
        std::fs::write(dir.path().join("config"), config).unwrap();
        let log = File::create(dir.path().join("radicale.log")).unwrap();
        let child = Command::new("python3")
            .args(["-m", "radicale", "--config"])
            .arg(dir.path().join("config"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting python3 -m radicale");
        let mut server = Radicale { child, port, dir };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Some(server);
            }
            let exited = server.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(server.dir.path().join("radicale.log")).unwrap_or_default();
                panic!("Radicale did not listen on {addr} ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Makes the calendar collection `/alice/<name>/` and returns its URL.
    pub async fn calendar(&self, name: &str) -> String {
        let url = format!("http://127.0.0.1:{}/{USER}/{name}/", self.port);
        let method = reqwest::Method::from_bytes(b"MKCALENDAR").unwrap();
        let r = reqwest::Client::new().request(method, &url).basic_auth(USER, Some(PASSWORD)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 201, "MKCALENDAR: {}", r.text().await.unwrap());
        url
    }

    /// Stores one event (a whole VCALENDAR text) in a calendar.
    pub async fn put(&self, calendar_url: &str, uid: &str, ics: &str) {
        let r = reqwest::Client::new()
            .put(format!("{calendar_url}{uid}.ics"))
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", "text/calendar")
            .body(ics.to_string())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "PUT: {}", r.status());
    }
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
