//! Two `undercurrent serve` processes against one PostgreSQL database
//! behave as one application: a round sent through one is e-mailed once
//! (both workers drain the outbox), fifty participants racing for one slot
//! through both instances get it once, and every message arrives exactly
//! once. PostgreSQL only (SQLite is one process's database).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::TestDb;
use crate::common::outreach::*;
use crate::common::smtp::SmtpServer;
use crate::common::web::{Client, PASSWORD, csrf_of};
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::domain::state::OutboxState;
use undercurrent::storage::{bookings, outbox};

struct Instance {
    child: Child,
    base: String,
    /// What the process logs (warnings and errors, on standard error).
    log: std::path::PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `serve` with its outbox worker looking for due messages every
/// 100 ms (instead of every 5 s), so that waiting for it is short.
async fn start(url: &str, smtp: &str, outbox_dir: &std::path::Path) -> Instance {
    let port = free_port();
    let log = outbox_dir.join(format!("serve-{port}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_undercurrent"))
        .args(["--database-url", url, "serve", "--bind", &format!("127.0.0.1:{port}"), "--outbox-poll-ms", "100"])
        .arg("--outbox-dir")
        .arg(outbox_dir)
        .env("SMTP_URL", smtp)
        .env("UNDERCURRENT_PUBLIC_URL", "http://uc.example")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("starting serve");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("{base}/healthz")).await.is_err() {
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Instance { child, base, log }
}

/// Waits until the outbox has nothing due and nothing being sent: every
/// message is sent, failed or dropped, or waits for a later time.
async fn outbox_settled(db: &undercurrent::storage::Db) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = Utc::now().timestamp();
        let busy =
            outbox::all(db).await.unwrap().into_iter().any(|m| {
                m.state == OutboxState::Sending || (m.state == OutboxState::Pending && m.next_attempt_at <= now)
            });
        if !busy {
            return;
        }
        assert!(Instant::now() < deadline, "the outbox did not settle");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the instance's log has a line containing `text`.
async fn logged(instance: &Instance, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(&instance.log).unwrap_or_default();
        if log.contains(text) {
            return;
        }
        assert!(Instant::now() < deadline, "the log never said `{text}`:\n{log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn client(base: &str) -> Client {
    Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: base.into(),
        csrf: String::new(),
    }
}

fn tokens(mails: &[crate::common::smtp::Received]) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.subject.starts_with("Interview: "))
        .filter_map(|m| m.text.find("/i/").map(|i| m.text[i + 3..i + 67].to_string()))
        .collect()
}

#[tokio::test]
async fn two_instances_send_each_message_once_and_book_each_slot_once() {
    if crate::common::postgres_server().is_none() {
        eprintln!("skipping: two instances need PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let Some(smtp) = SmtpServer::start() else { return };
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 50).await;
    let start_at = (Utc::now() + TimeDelta::days(3)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", start_at, start_at + TimeDelta::hours(1)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let ids: Vec<String> = (0..50).map(|i| format!("p{i:03}")).collect();
    let r = round(&db, &s, &ids.iter().map(String::as_str).collect::<Vec<_>>(), Utc::now()).await;
    undercurrent::app::accounts::create(&db, "res@corp.example", "Res", Role::Researcher, PASSWORD, None)
        .await
        .unwrap()
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let a = start(&t.url, &smtp.url(), dir.path()).await;
    let b = start(&t.url, &smtp.url(), dir.path()).await;

    // The round is sent through instance A; both workers drain the outbox.
    let mut researcher = client(&a.base);
    let (_, page) = researcher.get("/login").await;
    researcher.csrf = csrf_of(&page).unwrap();
    researcher.post("/login", &[("email", "res@corp.example"), ("password", PASSWORD)]).await;
    researcher.get("/account/password").await;
    let (status, _, _) = researcher.post(&format!("/studies/{}/rounds/{}/send", s.id, r.number), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mails = smtp.wait_for(50, Duration::from_secs(60));
    let tokens = tokens(&mails);
    assert_eq!(tokens.len(), 50);

    // Fifty people race for the first slot, half through each instance.
    let slot = format!("{host}:{}", start_at.timestamp());
    let mut tasks = Vec::new();
    for (k, token) in tokens.iter().enumerate() {
        let base = if k % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let (token, slot) = (token.clone(), slot.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = client(&base);
            c.get(&format!("/i/{token}?tz=UTC")).await;
            c.post(&format!("/i/{token}/book"), &[("slot", slot.as_str()), ("tz", "UTC"), ("consent", "yes")]).await.0
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::SEE_OTHER => won += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected answer {other}"),
        }
    }
    assert_eq!(won, 1, "exactly one booking of the slot");
    assert_eq!(bookings::calendar(&db, Some(host), 0).await.unwrap().len(), 1);

    // Everything queued goes out once: 50 invitations, the booking's two
    // confirmations (participant, interviewer).
    smtp.wait_for(52, Duration::from_secs(60));
    // Nothing left to send: a message sent twice has arrived by now (the
    // server stores a message before it accepts it).
    outbox_settled(&db).await;
    let mails = smtp.messages();
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), total, "a message arrived twice");
    let sent = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.state.as_str() == "sent").count();
    assert_eq!(total, sent, "each sent row arrived exactly once");
    assert_eq!(total, 52);
    drop(a);
    drop(b);
    t.finish().await;
}

/// The database goes away: pages answer 503 (with Retry-After) instead of
/// hanging or crashing, and the same process serves again once it returns.
#[tokio::test]
async fn a_database_outage_gives_503_and_the_app_recovers_by_itself() {
    let Some(server) = crate::common::postgres_server() else {
        eprintln!("skipping: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    };
    let Some(smtp) = SmtpServer::start() else { return };
    let t = TestDb::new().await;
    undercurrent::app::accounts::create(&t.db, "res@corp.example", "Res", Role::Researcher, PASSWORD, None)
        .await
        .unwrap()
        .unwrap();
    let name = t.url.rsplit('/').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let app = start(&t.url, &smtp.url(), dir.path()).await;
    let mut c = client(&app.base);
    assert_eq!(c.get("/login").await.0, StatusCode::OK);
    assert_eq!(reqwest::get(format!("{}/readyz", app.base)).await.unwrap().status(), StatusCode::OK);

    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    let outage = |allow: bool| format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}");
    sqlx::query(sqlx::AssertSqlSafe(outage(false))).execute(&admin).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .execute(&admin)
    .await
    .unwrap();
    let r = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers().get("retry-after").unwrap(), "30");
    assert!(r.text().await.unwrap().contains("Try again"));
    // A load balancer sees it too; the process itself is alive.
    assert_eq!(reqwest::get(format!("{}/readyz", app.base)).await.unwrap().status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reqwest::get(format!("{}/healthz", app.base)).await.unwrap().status(), StatusCode::OK);
    // The outbox worker meets the outage too.
    logged(&app, "outbox: ").await;

    sqlx::query(sqlx::AssertSqlSafe(outage(true))).execute(&admin).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = reqwest::get(format!("{}/login", app.base)).await.unwrap().status();
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "still {status} after the database returned");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(reqwest::get(format!("{}/readyz", app.base)).await.unwrap().status(), StatusCode::OK);
    // The worker resumed by itself: a message queued now is sent.
    let message = outbox::NewMessage {
        kind: "invitation".into(),
        to_addr: "after-outage@corp.example".into(),
        subject: "After the outage".into(),
        body: "Hello".into(),
        message_id: "<after-outage@uc.example>".into(),
        not_before: Utc::now().timestamp(),
        ..Default::default()
    };
    let mut tx = t.db.begin().await.unwrap();
    outbox::enqueue(&mut tx, &message, Utc::now().timestamp()).await.unwrap();
    tx.commit().await.unwrap();
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    assert_eq!(mails.len(), 1, "the worker sends again after the outage");
    assert_eq!(mails[0].subject, "After the outage");
    admin.close().await;
    drop(app);
    t.finish().await;
}
