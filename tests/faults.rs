//! Faults during an import: the process killed (`kill -9`) in the middle of
//! a file leaves the database as it was before that file, and running the
//! import again completes it with the same numbers as an import that was
//! never interrupted.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use undercurrent::storage::dataset;

/// Whether an import is in the middle of writing events.
async fn writing(t: &TestDb) -> bool {
    match &t.db {
        undercurrent::storage::Db::Sqlite(pool) => {
            // Another writer holds the lock while nothing is committed yet:
            // the import's transaction is open (the page cache keeps its
            // pages in memory, so the WAL says nothing before the commit).
            use sqlx::Connection;
            let opts = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(t.url.trim_start_matches("sqlite://"))
                .busy_timeout(Duration::ZERO);
            let Ok(mut c) = sqlx::SqliteConnection::connect_with(&opts).await else { return false };
            let locked = sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.is_err();
            if !locked {
                let _ = sqlx::query("ROLLBACK").execute(&mut c).await;
            }
            let _ = c.close().await;
            let committed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(pool).await.unwrap_or(1);
            locked && committed == 0
        }
        undercurrent::storage::Db::Postgres(p) => {
            let name = t.url.rsplit('/').next().unwrap_or_default().to_string();
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' \
                 AND query ILIKE '%INSERT INTO events%'",
            )
            .bind(name)
            .fetch_one(p)
            .await
            .is_ok_and(|n| n > 0)
        }
    }
}

#[tokio::test]
async fn an_import_killed_midway_leaves_nothing_and_a_second_run_completes_it() {
    let t = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    // A few hundred thousand events: long enough to be killed midway.
    let (code, _, err) =
        common::cli(&t.url, &["demo", "generate", "--people", "600", "--days", "60", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let people = out.join("people.csv");
    let events = out.join("events.csv");
    assert_eq!(common::cli(&t.url, &["import", "people", people.to_str().unwrap()]).0, 0);
    let before = dataset::totals(&t.db).await.unwrap();

    // Kill it while it is writing: the WAL growing (SQLite), or an insert
    // into events running (PostgreSQL).
    let mut child = Command::new(env!("CARGO_BIN_EXE_undercurrent"))
        .args(["--database-url", &t.url, "import", "events", events.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(child.try_wait().unwrap().is_none(), "the import finished before it could be killed");
        assert!(Instant::now() < deadline, "the import never started writing");
        if writing(&t).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let after_kill = dataset::totals(&t.db).await.unwrap();
    assert_eq!(format!("{before:?}"), format!("{after_kill:?}"), "nothing of the killed import is stored");

    let started = Instant::now();
    let (code, _, err) = common::cli(&t.url, &["import", "events", events.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let done = dataset::totals(&t.db).await.unwrap();
    assert!(done.events > 100_000, "{done:?} after {:?}", started.elapsed());
    // Importing the same file again changes nothing.
    assert_eq!(common::cli(&t.url, &["import", "events", events.to_str().unwrap()]).0, 0);
    assert_eq!(format!("{done:?}"), format!("{:?}", dataset::totals(&t.db).await.unwrap()));
    t.finish().await;
}
