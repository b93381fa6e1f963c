//! Interviewers' own calendars, read so that their busy times are never
//! offered as interview slots: a published iCalendar feed (HTTP GET) or a
//! CalDAV calendar (a REPORT calendar-query, RFC 4791 section 7.8). The
//! busy times are kept with the time of the last good read and the last
//! error; a worker refreshes them every quarter hour and the booking page
//! before offering slots when they are older than `FRESH_FOR`, waiting at
//! most `PAGE_WAIT` (then the last good busy times count).
//!
//! The address (a published feed's address is often its only secret) and
//! the CalDAV password are sealed with `secrets::seal`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::outreach::BOOKING_HORIZON_DAYS;
use super::secrets::{open_sealed, seal};
use crate::domain::scheduling::Interval;
use crate::ingest::{busy_ics, caldav};
use crate::storage::interviewer_calendars::{self, NewConnection};
use crate::storage::{Db, Tx, audit, availability};

/// How often the worker reads every connected calendar.
pub const REFRESH_EVERY: Duration = Duration::from_secs(15 * 60);
/// Busy times older than this (seconds) are read again before slots are
/// offered.
pub const FRESH_FOR: i64 = 5 * 60;
/// How long the booking page waits for that read; a slower read finishes
/// in the background and the page uses the last good busy times.
pub const PAGE_WAIT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest answer read (a year of a busy person's calendar is well
/// under a megabyte).
pub const MAX_BODY: usize = 5 * 1024 * 1024;
/// The days read before now (an interview today may meet an event that
/// started yesterday).
const PAST_DAYS: i64 = 1;

/// Where an interviewer's calendar is read from.
pub enum Source {
    /// A published iCalendar feed's address (`webcal://` is read as
    /// `https://`).
    Feed { url: String },
    /// A CalDAV calendar collection's address, with basic authentication.
    CalDav { url: String, username: String, password: String },
}

/// Why a connection was not stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectRefusal {
    /// Not an http(s) (or webcal) address with a host.
    Url,
    /// A CalDAV calendar needs a user name and a password.
    Credentials,
}

impl ConnectRefusal {
    pub fn key(self) -> &'static str {
        match self {
            ConnectRefusal::Url => "busy_calendar.error.url",
            ConnectRefusal::Credentials => "busy_calendar.error.credentials",
        }
    }
}

/// A calendar address as read: http or https with a host; `webcal://`
/// (what calendar apps publish) is https.
pub fn parse_url(text: &str) -> Option<reqwest::Url> {
    let text = text.trim();
    let text = match text.get(..9) {
        Some(scheme) if scheme.eq_ignore_ascii_case("webcal://") => format!("https://{}", &text[9..]),
        _ => text.to_string(),
    };
    let url = reqwest::Url::parse(&text).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())).then_some(url)
}

/// What the page shows of an address: scheme, host and port, no path (a
/// feed's path is often its secret).
fn shown(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

fn url_context(account_id: i64) -> String {
    format!("calendar-url:{account_id}")
}

fn password_context(account_id: i64) -> String {
    format!("calendar-password:{account_id}")
}

/// Connects the account's calendar (replacing any earlier one) and reads it
/// once, so that the page can say at once whether it works.
pub async fn connect(
    db: &Db,
    account: (i64, &str),
    source: Source,
    now: DateTime<Utc>,
) -> Result<Result<(), ConnectRefusal>> {
    let (kind, url, username, password) = match &source {
        Source::Feed { url } => ("ics", url, "", ""),
        Source::CalDav { url, username, password } => {
            if username.trim().is_empty() || password.is_empty() {
                return Ok(Err(ConnectRefusal::Credentials));
            }
            ("caldav", url, username.trim(), password.as_str())
        }
    };
    let Some(url) = parse_url(url) else { return Ok(Err(ConnectRefusal::Url)) };
    let id = account.0;
    let new = NewConnection {
        kind,
        url_sealed: &seal(url.as_str(), &url_context(id)),
        url_shown: &shown(&url),
        username,
        password_sealed: &if password.is_empty() { String::new() } else { seal(password, &password_context(id)) },
    };
    interviewer_calendars::connect(db, id, &new, now.timestamp()).await?;
    audit::record(db, Some(account), "busy_calendar.connect", None, None).await?;
    refresh(db, id, now).await?;
    Ok(Ok(()))
}

pub async fn remove(db: &Db, account: (i64, &str)) -> Result<()> {
    if interviewer_calendars::remove(db, account.0).await? {
        audit::record(db, Some(account), "busy_calendar.remove", None, None).await?;
    }
    Ok(())
}

/// What the availability page shows of a connected calendar.
pub struct Status {
    /// `ics` or `caldav`.
    pub kind: String,
    pub shown: String,
    pub username: String,
    pub refreshed_at: Option<i64>,
    pub error: Option<String>,
    pub busy_count: usize,
}

pub async fn status(db: &Db, account_id: i64) -> Result<Option<Status>> {
    Ok(interviewer_calendars::get(db, account_id).await?.map(|c| Status {
        busy_count: busy_from_json(&c.busy).len(),
        kind: c.kind,
        shown: c.url_shown,
        username: c.username,
        refreshed_at: c.refreshed_at,
        error: c.last_error,
    }))
}

/// The HTTP client for calendars: TLS by rustls with the WebPKI roots (ring,
/// as the mail transport), bounded connect and read times, a few redirects.
fn client() -> Result<&'static reqwest::Client> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    crate::install_tls_provider();
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS settings for calendars")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let built = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(READ_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("Undercurrent/", env!("CARGO_PKG_VERSION"), " (calendar)"))
        .build()
        .context("the HTTP client for calendars")?;
    Ok(CLIENT.get_or_init(|| built))
}

/// Why a calendar could not be read, in words: kept with the connection
/// (its last error) and shown to its owner.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReadError(String);

impl ReadError {
    fn too_large() -> ReadError {
        ReadError(format!("the answer is larger than {} MB", MAX_BODY / (1024 * 1024)))
    }
}

/// Reads an answer's body, at most `MAX_BODY` bytes.
async fn body_of(mut response: reqwest::Response) -> Result<String, ReadError> {
    if response.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ReadError::too_large());
    }
    let mut bytes: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| ReadError(e.without_url().to_string()))? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(ReadError::too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ReadError("the answer is not UTF-8 text".into()))
}

fn http_error(e: reqwest::Error) -> ReadError {
    let e = e.without_url();
    ReadError(if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        // The cause says why (refused, no such host, a certificate).
        let mut text = "could not connect".to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            text = format!("{text}: {c}");
            cause = c.source();
        }
        text
    } else {
        e.to_string()
    })
}

/// The calendar texts of a connection within `[from, until)`.
async fn fetch(
    c: &interviewer_calendars::Connection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<String>, ReadError> {
    let id = c.account_id;
    let unreadable = "the stored address cannot be read (the links' secret changed?): connect the calendar again";
    let url = open_sealed(&c.url_sealed, &url_context(id)).ok_or_else(|| ReadError(unreadable.into()))?;
    let client = client().map_err(|e| ReadError(format!("{e:#}")))?;
    if c.kind == "caldav" {
        let password =
            open_sealed(&c.password_sealed, &password_context(id)).ok_or_else(|| ReadError(unreadable.into()))?;
        let report = reqwest::Method::from_bytes(b"REPORT").map_err(|e| ReadError(e.to_string()))?;
        let response = client
            .request(report, &url)
            .basic_auth(&c.username, Some(password))
            .header("Depth", "1")
            .header("Content-Type", "application/xml; charset=utf-8")
            .body(caldav::calendar_query(from, until))
            .send()
            .await
            .map_err(http_error)?;
        let status = response.status();
        if status.as_u16() != 207 {
            return Err(ReadError(format!("the CalDAV server answered {status}")));
        }
        caldav::calendar_data(&body_of(response).await?).map_err(ReadError)
    } else {
        let response = client.get(&url).header("Accept", "text/calendar").send().await.map_err(http_error)?;
        let status = response.status();
        if !status.is_success() {
            return Err(ReadError(format!("the server answered {status}")));
        }
        let text = body_of(response).await?;
        if !text.contains("BEGIN:VCALENDAR") {
            return Err(ReadError("the answer is not an iCalendar file".into()));
        }
        Ok(vec![text])
    }
}

/// The range read: from a day ago to past the furthest booking horizon.
fn range(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - TimeDelta::days(PAST_DAYS), now + TimeDelta::days(BOOKING_HORIZON_DAYS + 2))
}

/// Reads the account's calendar now and records the busy times (or the
/// error, keeping the last good busy times). `Ok(false)` when the read
/// failed or no calendar is connected; only the database's errors are
/// errors.
pub async fn refresh(db: &Db, account_id: i64, now: DateTime<Utc>) -> Result<bool> {
    let Some(c) = interviewer_calendars::get(db, account_id).await? else { return Ok(false) };
    // Floating times are the interviewer's own.
    let tz: Tz =
        availability::profile(db, account_id).await?.and_then(|p| p.timezone.parse().ok()).unwrap_or(chrono_tz::UTC);
    let (from, until) = range(now);
    match fetch(&c, from, until).await {
        Ok(texts) => {
            let mut busy: Vec<(i64, i64)> = texts
                .iter()
                .flat_map(|t| busy_ics::busy_times(t, tz, from, until).busy)
                .map(|i| (i.start.timestamp(), i.end.timestamp()))
                .collect();
            busy.sort_unstable();
            busy.dedup();
            interviewer_calendars::record_busy(db, account_id, &serde_json::to_string(&busy)?, now.timestamp()).await?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(account = account_id, "reading a calendar: {e}");
            interviewer_calendars::record_error(db, account_id, &e.to_string(), now.timestamp()).await?;
            Ok(false)
        }
    }
}

/// Reads every connected calendar (the worker's round).
pub async fn refresh_all(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let (mut good, mut failed) = (0, 0);
    for id in interviewer_calendars::accounts(db).await? {
        if refresh(db, id, now).await? {
            good += 1;
        } else {
            failed += 1;
        }
    }
    Ok((good, failed))
}

/// Runs until the process ends: reads every calendar every `every`, the
/// first time at once.
pub async fn run(db: Db, every: Duration) {
    loop {
        match refresh_all(&db, Utc::now()).await {
            Ok((good, failed)) if good + failed > 0 => tracing::info!(good, failed, "calendars read"),
            Ok(_) => {}
            Err(e) => tracing::warn!("calendars: {e:#}"),
        }
        tokio::time::sleep(every).await;
    }
}

fn busy_from_json(text: &str) -> Vec<Interval> {
    let pairs: Vec<(i64, i64)> = serde_json::from_str(text).unwrap_or_default();
    pairs
        .into_iter()
        .filter_map(|(s, e)| Interval::new(DateTime::from_timestamp(s, 0)?, DateTime::from_timestamp(e, 0)?))
        .collect()
}

/// The account's busy times from its own calendar, for offering slots: read
/// again first when older than `FRESH_FOR`, waiting at most `PAGE_WAIT`.
pub async fn busy(db: &Db, account_id: i64, now: DateTime<Utc>) -> Result<Vec<Interval>> {
    let Some(c) = interviewer_calendars::get(db, account_id).await? else { return Ok(Vec::new()) };
    let stale = c.attempted_at.is_none_or(|t| now.timestamp() - t > FRESH_FOR);
    if !stale {
        return Ok(busy_from_json(&c.busy));
    }
    // In its own task, so that a read slower than the wait still finishes
    // and is recorded.
    let task = tokio::spawn({
        let db = db.clone();
        async move { refresh(&db, account_id, now).await }
    });
    match tokio::time::timeout(PAGE_WAIT, task).await {
        Ok(Ok(Err(e))) => return Err(e),
        Ok(_) => {}
        Err(_) => tracing::info!(account = account_id, "a calendar read is slow: offering slots from the last one"),
    }
    let c = interviewer_calendars::get(db, account_id).await?;
    Ok(c.map(|c| busy_from_json(&c.busy)).unwrap_or_default())
}

/// The account's busy times as last read (no network), inside a booking's
/// transaction.
pub async fn busy_in(tx: &mut Tx, account_id: i64) -> Result<Vec<Interval>> {
    Ok(interviewer_calendars::busy_in(tx, account_id).await?.map(|b| busy_from_json(&b)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_http_or_https_with_a_host() {
        assert_eq!(parse_url("webcal://cal.example/p/abc.ics").unwrap().as_str(), "https://cal.example/p/abc.ics");
        assert!(parse_url(" https://cal.example/dav/ ").is_some());
        assert!(parse_url("http://127.0.0.1:8080/x.ics").is_some());
        for bad in
            ["", "cal.example/x.ics", "file:///etc/passwd", "ftp://cal.example/x", "https://", "javascript:alert(1)"]
        {
            assert!(parse_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_page_shows_no_path_of_an_address() {
        assert_eq!(shown(&parse_url("https://cal.example/secret-token/basic.ics").unwrap()), "https://cal.example/…");
        assert_eq!(shown(&parse_url("http://127.0.0.1:8080/a").unwrap()), "http://127.0.0.1:8080/…");
    }

    #[test]
    fn stored_busy_times_read_back_and_junk_is_none() {
        let b = busy_from_json("[[1700000000,1700003600]]");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].start.timestamp(), 1_700_000_000);
        assert!(busy_from_json("junk").is_empty());
        assert!(busy_from_json("[[5,1]]").is_empty(), "an interval ending before it starts");
    }
}
