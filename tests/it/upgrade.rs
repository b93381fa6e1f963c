//! Upgrade safety: a database created by the previous release's migrations
//! (kept in `tests/fixtures/previous-release/`), with data in it, is opened
//! by the current code: the new migrations apply and nothing is lost.

use crate::common::{TestDb, fixture};
use undercurrent::storage::{Db, dataset};

#[tokio::test]
async fn a_database_of_the_previous_release_upgrades_and_keeps_its_data() {
    // A fresh, empty database (TestDb migrates it: start from a new one).
    let t = TestDb::new().await;
    t.db.close().await;
    let (folder, url) = match &t.db {
        Db::Sqlite(_) => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("old.db").display());
            std::mem::forget(dir);
            ("sqlite", url)
        }
        Db::Postgres(_) => {
            // A second database for the old schema beside the test's.
            let server = crate::common::postgres_server().unwrap();
            let name = format!("uc_upgrade_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
            admin.close().await;
            let (base, _) = server.rsplit_once('/').unwrap();
            ("postgres", format!("{base}/{name}"))
        }
    };
    let old = Db::connect_without_migrating(&url).await.unwrap();
    let migrator =
        sqlx::migrate::Migrator::new(fixture("previous-release").join(folder)).await.expect("the old migrations");
    match &old {
        Db::Sqlite(p) => migrator.run(p).await.unwrap(),
        Db::Postgres(p) => migrator.run(p).await.unwrap(),
    }
    // Data as the previous release stored it: rows its own code wrote
    // (`data/*.sql`, see the README beside them), so that the current
    // import code never has to write into the old schema.
    let dump = std::fs::read_to_string(fixture("previous-release").join("data").join(format!("{folder}.sql")))
        .expect("the previous release's data");
    match &old {
        Db::Sqlite(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(dump)).execute(p).await.map(drop).unwrap(),
        Db::Postgres(p) => sqlx::raw_sql(sqlx::AssertSqlSafe(dump)).execute(p).await.map(drop).unwrap(),
    }
    let events_before: i64 = match &old {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(p).await.unwrap(),
        Db::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(p).await.unwrap(),
    };
    assert!(events_before > 100, "the old database has events");
    old.close().await;
    // What the previous release exported from that data.
    let csv_before = std::fs::read_to_string(fixture("previous-release").join("data").join("export.csv")).unwrap();

    // The current code opens it: new tables appear, the data is intact.
    let db = Db::connect(&url).await.expect("upgrading the previous release's database");
    let after = dataset::totals(&db).await.unwrap();
    assert_eq!(after.events, events_before, "{after:?}");
    assert!(undercurrent::storage::studies::list(&db).await.unwrap().is_empty(), "the studies table exists");
    assert!(undercurrent::storage::outbox::all(&db).await.unwrap().is_empty(), "the outbox exists");
    let (code, csv_after, err) = crate::common::cli(&url, &["metrics", "export", "--as-of", "2026-05-29"]);
    assert_eq!(code, 0, "{err}");
    // Every column the previous release exported has the same values (the
    // current release may add columns, such as `depth_gap`).
    assert_eq!(csv_before, only_columns_of(&csv_before, &csv_after), "the same numbers before and after the upgrade");
    db.close().await;
    if let Some(server) = crate::common::postgres_server() {
        let admin = sqlx::PgPool::connect(&server).await.unwrap();
        let name = url.rsplit('/').next().unwrap();
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&admin)
            .await;
        admin.close().await;
    }
    t.finish().await;
}

/// `csv` reduced to the columns of `like`, in `like`'s order.
fn only_columns_of(like: &str, csv_text: &str) -> String {
    let wanted: Vec<String> =
        csv::Reader::from_reader(like.as_bytes()).headers().unwrap().iter().map(String::from).collect();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let index: Vec<usize> =
        wanted.iter().map(|w| header.iter().position(|h| h == w).unwrap_or_else(|| panic!("no column {w}"))).collect();
    let mut out = wanted.join(",") + "\n";
    for record in reader.records() {
        let record = record.unwrap();
        let cells: Vec<String> = index.iter().map(|i| record[*i].to_string()).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}
