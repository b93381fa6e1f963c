//! The test harness itself: what a failing test leaves behind.

use crate::common::{TestDb, postgres_server};

#[tokio::test]
async fn a_test_database_never_finished_is_dropped_with_its_test() {
    let Some(server) = postgres_server() else {
        eprintln!("skipping: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    };
    let t = TestDb::new().await;
    let name = t.url.rsplit('/').next().unwrap().to_string();
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    let exists = async |name: &str| -> bool {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
            .bind(name)
            .fetch_one(&admin)
            .await
            .unwrap()
            == 1
    };
    assert!(exists(&name).await);
    // As a panicking test does: the database goes out of scope unfinished.
    drop(t);
    assert!(!exists(&name).await, "{name} was left behind");
    admin.close().await;
}
