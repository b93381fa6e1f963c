//! Push API benchmark (`cargo bench --bench api`): the app in this process
//! on a loopback port, clients posting 1,000-event NDJSON batches of new
//! events, on SQLite and, with TEST_DATABASE_URL=postgres://..., on
//! PostgreSQL. Reports events stored per second. Target: 50,000 events/s.
//! A benchmark: prints figures, asserts only that every event was stored.

use std::net::TcpListener;
use std::time::Instant;

use undercurrent::storage::Db;
use undercurrent::storage::api_tokens::Scope;
use undercurrent::storage::dataset::totals;
use undercurrent::web::{AppState, api, start};

const BATCH: usize = 1_000;
const BATCHES: usize = 300;
const CLIENTS: usize = 4;

/// A batch of distinct events: batch `b`, `BATCH` lines.
fn batch(b: usize) -> String {
    let kinds = ["message_sent", "message_read", "reaction", "login", "notification_read"];
    let mut out = String::with_capacity(BATCH * 150);
    for i in 0..BATCH {
        let n = b * BATCH + i;
        let user = n % 5_000;
        let ts = 1_777_000_000 + (n as i64) * 7;
        let kind = kinds[n % kinds.len()];
        out.push_str(&format!(
            "{{\"event_id\":\"bench-{n}\",\"user_id\":\"p{user}@bench.example\",\"timestamp\":{ts},\"event\":\"{kind}\",\"channel\":\"c{}\",\"channel_type\":\"group\"}}\n",
            n % 400
        ));
    }
    out
}

async fn run(label: &str, url: &str) {
    let db = Db::connect(url).await.expect("database");
    let (_, token) = api::issue(&db, "bench", &[Scope::Ingest], None).await.expect("token");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    tokio::spawn(start(AppState::new(db.clone(), false), listener).unwrap());
    let bodies: Vec<String> = (0..BATCHES).map(batch).collect();
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let mine: Vec<String> = bodies.iter().skip(c).step_by(CLIENTS).cloned().collect();
        tasks.push(tokio::spawn(async move {
            for body in mine {
                let r = client
                    .post(format!("{base}/api/v1/events"))
                    .bearer_auth(&token)
                    .header("Content-Type", "application/x-ndjson")
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stored = totals(&db).await.unwrap().events;
    assert_eq!(stored as usize, BATCH * BATCHES, "every event stored once");
    println!(
        "{label:<9} {} events in {BATCHES} batches of {BATCH}, {CLIENTS} clients: {elapsed:.2} s, {:.0} events/s (target >= 50000)",
        BATCH * BATCHES,
        (BATCH * BATCHES) as f64 / elapsed
    );
    db.close().await;
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    run("sqlite", &format!("sqlite://{}", dir.path().join("api.db").display())).await;
    match std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres")) {
        Some(server) => {
            let admin = sqlx::PgPool::connect(&server).await.unwrap();
            let _ = sqlx::query("DROP DATABASE IF EXISTS uc_bench_api WITH (FORCE)").execute(&admin).await;
            sqlx::query("CREATE DATABASE uc_bench_api").execute(&admin).await.unwrap();
            let (base, _) = server.rsplit_once('/').unwrap();
            run("postgres", &format!("{base}/uc_bench_api")).await;
            let _ = sqlx::query("DROP DATABASE IF EXISTS uc_bench_api WITH (FORCE)").execute(&admin).await;
        }
        None => println!("postgres: skipped (set TEST_DATABASE_URL=postgres://... to include it)"),
    }
}
