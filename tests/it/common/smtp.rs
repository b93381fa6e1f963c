//! A real SMTP server for mail tests: aiosmtpd storing what it accepts in a
//! Maildir, and a reader that parses those files back with mailparse.
//! Skips unless aiosmtpd is importable by `python3`; in CI it must be (see
//! `ensure_smtp` in .ci/run).

#![allow(dead_code)]

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use mailparse::{DispositionType, MailAddr, MailHeaderMap, ParsedMail};

pub struct SmtpServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

/// One message as the server stored it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The addresses in the To header.
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    /// The first text/plain part, decoded.
    pub text: String,
    /// The text/calendar part of the multipart/alternative, decoded.
    pub calendar: Option<String>,
    /// The `method` parameter of that part's Content-Type.
    pub calendar_method: Option<String>,
    /// (file name, decoded content) of each attachment.
    pub attachments: Vec<(String, String)>,
}

/// Whether aiosmtpd is there; in CI it must be.
pub fn available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found && std::env::var("CI").is_ok() {
        panic!("CI must have aiosmtpd for python3 (see ensure_smtp in .ci/run)");
    }
    if !found {
        eprintln!("skipping the mail test: `python3 -m pip install aiosmtpd` (or Debian's python3-aiosmtpd) to run it");
    }
    found
}

impl SmtpServer {
    /// A fresh server on a free port with an empty Maildir; None (with a
    /// note) where aiosmtpd is missing outside CI.
    pub fn start() -> Option<SmtpServer> {
        if !available() {
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = SmtpServer { child: None, port, dir: tempfile::tempdir().expect("temp dir") };
        server.spawn();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The same port and Maildir, after `stop`.
    pub fn start_again(&mut self) {
        self.stop();
        self.spawn();
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("aiosmtpd.log")
    }

    fn spawn(&mut self) {
        let log = File::options().create(true).append(true).open(self.log()).expect("the server log");
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the server log"))
            .stderr(log)
            .spawn()
            .expect("starting python3 -m aiosmtpd");
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(self.log()).unwrap_or_default();
                panic!("aiosmtpd did not listen on {addr} ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything stored so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<(SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir().join(sub)) else { continue };
            for entry in entries.flatten() {
                let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
                files.push((modified, entry.path()));
            }
        }
        files.sort();
        files.iter().map(|(_, path)| parse_file(path)).collect()
    }

    /// Waits until at least `n` messages are stored; panics after `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() > deadline {
                panic!("{} of {n} messages arrived within {timeout:?}: {messages:#?}", messages.len());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn parse_file(path: &Path) -> Received {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_message(&raw)
}

/// Parses one RFC 5322 message (a Maildir file or an .eml).
pub fn parse_message(raw: &[u8]) -> Received {
    let mail = mailparse::parse_mail(raw).expect("a parsable message");
    let headers = &mail.headers;
    let header = |name: &str| headers.get_first_value(name).unwrap_or_default();
    let to = match headers.get_first_header("To") {
        Some(h) => mailparse::addrparse_header(h).expect("a parsable To header").iter().flat_map(addresses).collect(),
        None => Vec::new(),
    };
    let mut received = Received {
        to,
        subject: header("Subject"),
        message_id: header("Message-ID"),
        text: String::new(),
        calendar: None,
        calendar_method: None,
        attachments: Vec::new(),
    };
    walk(&mail, false, &mut received);
    received
}

fn addresses(addr: &MailAddr) -> Vec<String> {
    match addr {
        MailAddr::Single(single) => vec![single.addr.clone()],
        MailAddr::Group(group) => group.addrs.iter().map(|single| single.addr.clone()).collect(),
    }
}

fn walk(part: &ParsedMail, in_alternative: bool, out: &mut Received) {
    let mime = part.ctype.mimetype.to_ascii_lowercase();
    let disposition = part.get_content_disposition();
    if disposition.disposition == DispositionType::Attachment {
        let name = disposition.params.get("filename").or(part.ctype.params.get("name")).cloned().unwrap_or_default();
        out.attachments.push((name, part.get_body().expect("a decodable attachment")));
    } else if mime == "text/plain" && out.text.is_empty() {
        out.text = part.get_body().expect("a decodable text part");
    } else if mime == "text/calendar" && in_alternative {
        out.calendar = Some(part.get_body().expect("a decodable calendar part"));
        out.calendar_method = part.ctype.params.get("method").cloned();
    }
    for sub in &part.subparts {
        walk(sub, mime == "multipart/alternative", out);
    }
}
