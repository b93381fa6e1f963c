//! A large events file commits in bounded batches: other writers get in
//! between them (SQLite has one writer), nothing of the file is counted until
//! its last batch, and a file that fails, or whose process stops, midway is
//! removed as if it had never been imported.

use chrono::NaiveDate;
use undercurrent::app::import::{import_event_records, import_event_records_with_progress};
use undercurrent::domain::dataset::ChannelType;
use undercurrent::ingest::InputError;
use undercurrent::ingest::events::RawEvent;
use undercurrent::storage::imports::{ImportDetails, recent};
use undercurrent::storage::{Db, dataset, settings};

use crate::common::TestDb;

/// Events read per batch by the importer (`app::import::BATCH`).
const BATCH: usize = 8_000;

fn day() -> i64 {
    NaiveDate::from_ymd_opt(2026, 5, 4).unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc().timestamp()
}

/// `n` distinct events spread over `people` people (named `prefix` + index),
/// one a second from `start`.
fn events(prefix: &str, people: usize, n: usize, start: i64) -> Vec<RawEvent> {
    (0..n)
        .map(|i| RawEvent {
            line: i as u64 + 2,
            user_id: format!("{prefix}{}", i % people),
            ts: start + i as i64,
            kind: "message_sent".into(),
            channel: Some("general".into()),
            channel_type: ChannelType::Group,
            duration_seconds: None,
            event_id: None,
        })
        .collect()
}

fn records(events: Vec<RawEvent>) -> impl Iterator<Item = Result<RawEvent, InputError>> + Send + 'static {
    events.into_iter().map(Ok)
}

async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(p).await.unwrap(),
    }
}

async fn execute(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(p) => drop(sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap()),
        Db::Postgres(p) => drop(sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap()),
    }
}

/// What every page counts: people, events, the latest event, and the
/// events and people of a window over everything.
async fn counted(db: &Db) -> (String, Option<i64>, usize, usize) {
    let totals = dataset::totals(db).await.unwrap();
    let (window, _) = dataset::load(db, 0, i64::MAX / 2).await.unwrap();
    (format!("{totals:?}"), dataset::last_event_ts(db).await.unwrap(), window.people.len(), window.events.len())
}

async fn base(db: &Db) {
    let summary = import_event_records(db, "base.csv", ImportDetails::default(), records(events("base", 2, 10, day())))
        .await
        .unwrap();
    assert_eq!(summary.events_added, 10);
}

#[tokio::test]
async fn other_writers_get_in_between_batches_and_nothing_counts_until_the_last() {
    let t = TestDb::new().await;
    base(&t.db).await;
    let before = counted(&t.db).await;

    let (progress, mut stored) = tokio::sync::mpsc::channel(1);
    let db = t.db.clone();
    let big = events("new", 50, 5 * BATCH, day() + 86_400);
    let import = tokio::spawn(async move {
        import_event_records_with_progress(&db, "big.csv", ImportDetails::default(), records(big), Some(progress)).await
    });
    // The first batch is committed; the import waits to report the second
    // (the channel holds one report), so it cannot finish meanwhile.
    assert_eq!(stored.recv().await, Some(BATCH as u64));

    // Another writer is not held up until the file ends.
    settings::set(&t.db, "organisation_name", "Written during an import").await.unwrap();
    let history = recent(&t.db, 5).await.unwrap();
    assert_eq!(history[0].status.as_str(), "running", "the import is still running: {history:?}");
    assert_eq!(history[0].summary.file_name, "big.csv");
    assert!(scalar(&t.db, "SELECT COUNT(*) FROM events").await >= BATCH as i64 + 10, "the first batch is committed");
    // ... but nothing of it is counted: not its events, not its new people.
    assert_eq!(counted(&t.db).await, before, "a running import's rows are counted");

    while stored.recv().await.is_some() {}
    let summary = import.await.unwrap().unwrap();
    assert_eq!((summary.events_added, summary.people_created), (5 * BATCH as u64, 50));
    let (totals, last, people, window) = counted(&t.db).await;
    assert_eq!((people, window), (52, 5 * BATCH + 10), "{totals}");
    assert_eq!(last, Some(day() + 86_400 + 5 * BATCH as i64 - 1));
    assert_eq!(recent(&t.db, 1).await.unwrap()[0].status.as_str(), "done");
    t.finish().await;
}

#[tokio::test]
async fn a_file_that_fails_after_some_batches_leaves_nothing() {
    let t = TestDb::new().await;
    base(&t.db).await;
    let before = counted(&t.db).await;
    let rows_before = scalar(&t.db, "SELECT COUNT(*) FROM people").await;

    // Three batches of good rows, then more new event kinds than an import
    // may add: the fourth batch fails.
    let mut rows = events("new", 30, 3 * BATCH, day() + 86_400);
    let mut odd = events("new", 30, 300, day() + 2 * 86_400);
    for (i, e) in odd.iter_mut().enumerate() {
        e.kind = format!("custom_kind_{i}");
    }
    rows.extend(odd);
    let err = import_event_records(&t.db, "bad.csv", ImportDetails::default(), records(rows)).await.unwrap_err();
    assert!(err.to_string().contains("new event kinds"), "{err}");

    assert_eq!(counted(&t.db).await, before);
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM people").await, rows_before, "its new people are removed");
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM events").await, 10, "its events are removed");
    let history = recent(&t.db, 1).await.unwrap();
    assert_eq!(history[0].status.as_str(), "failed");
    assert!(history[0].error.as_deref().unwrap_or_default().contains("new event kinds"), "{history:?}");
    t.finish().await;
}

/// Starts a big import and stops it after its first batch, as a process
/// that ends would; returns the import's id.
async fn interrupted(db: &Db, file: &str) -> i64 {
    let (progress, mut stored) = tokio::sync::mpsc::channel(1);
    let task_db = db.clone();
    let name = file.to_string();
    let rows = events(file, 40, 4 * BATCH, day() + 86_400);
    let import = tokio::spawn(async move {
        import_event_records_with_progress(&task_db, &name, ImportDetails::default(), records(rows), Some(progress))
            .await
    });
    assert!(stored.recv().await.is_some());
    import.abort();
    assert!(import.await.unwrap_err().is_cancelled());
    let history = recent(db, 1).await.unwrap();
    assert_eq!(history[0].status.as_str(), "running");
    history[0].id
}

#[tokio::test]
async fn an_import_whose_process_stopped_is_removed_by_the_next_one() {
    let t = TestDb::new().await;
    base(&t.db).await;
    let before = counted(&t.db).await;

    // Stopped on this machine: its process (a pid that cannot exist) is gone.
    let first = interrupted(&t.db, "first.csv").await;
    let owner: String = match &t.db {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT owner FROM imports WHERE id = $1").bind(first).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_scalar("SELECT owner FROM imports WHERE id = $1").bind(first).fetch_one(p).await,
    }
    .unwrap();
    let machine = owner.rsplit_once('/').unwrap().0;
    execute(&t.db, &format!("UPDATE imports SET owner = '{machine}/4194305' WHERE id = {first}")).await;
    assert_eq!(counted(&t.db).await, before, "an interrupted import's rows are not counted");

    import_event_records(&t.db, "next.csv", ImportDetails::default(), records(events("base", 2, 5, day() + 7_200)))
        .await
        .unwrap();
    assert_eq!(scalar(&t.db, &format!("SELECT COUNT(*) FROM events WHERE import_id = {first}")).await, 0);
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM people WHERE user_id LIKE 'first.csv%'").await, 0);
    let history = recent(&t.db, 5).await.unwrap();
    let row = history.iter().find(|r| r.id == first).unwrap();
    assert_eq!(row.status.as_str(), "failed");
    assert!(row.error.as_deref().unwrap_or_default().contains("stopped before it finished"), "{row:?}");

    // Stopped elsewhere (another machine): its heartbeat went stale.
    let second = interrupted(&t.db, "second.csv").await;
    execute(&t.db, &format!("UPDATE imports SET owner = 'elsewhere/boot/1', heartbeat_at = 0 WHERE id = {second}"))
        .await;
    import_event_records(&t.db, "again.csv", ImportDetails::default(), records(events("base", 2, 5, day() + 7_200)))
        .await
        .unwrap();
    assert_eq!(scalar(&t.db, &format!("SELECT COUNT(*) FROM events WHERE import_id = {second}")).await, 0);
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM people").await, 2, "only the counted people are left");
    assert_eq!(scalar(&t.db, "SELECT COUNT(*) FROM events").await, 15);
    t.finish().await;
}

/// Whether SQLite has the index by person on events.
async fn has_person_index(db: &Db) -> bool {
    scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_person'").await == 1
}

#[tokio::test]
async fn a_large_import_builds_the_index_by_person_once_at_the_end_and_a_start_restores_a_lost_one() {
    let t = TestDb::new().await;
    let Db::Sqlite(_) = &t.db else { return }; // PostgreSQL keeps its index throughout
    assert!(has_person_index(&t.db).await);
    // Enough events for the import to defer the index.
    let summary =
        import_event_records(&t.db, "large.csv", ImportDetails::default(), records(events("p", 50, 200_000, day())))
            .await
            .unwrap();
    assert_eq!(summary.events_added, 200_000);
    assert!(has_person_index(&t.db).await, "built again at the end");
    // A process that stopped during such an import left it out: the next
    // start builds it.
    execute(&t.db, "DROP INDEX events_person").await;
    t.db.migrate().await.unwrap();
    assert!(has_person_index(&t.db).await);
    t.finish().await;
}
