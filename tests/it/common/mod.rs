//! Test support: a fresh database per test, SQLite by default or PostgreSQL
//! when TEST_DATABASE_URL names a server (postgres://user@host:port/db); each
//! test then gets its own database on that server.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use undercurrent::storage::Db;

pub mod browser;
pub mod calendar_servers;
pub mod oidc_provider;
pub mod outreach;
pub mod reading;
pub mod smtp;
pub mod web;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
    /// A PostgreSQL tablespace made for this database, dropped with it.
    tablespace: Option<String>,
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| u.starts_with("postgres"))
}

impl TestDb {
    pub async fn new() -> TestDb {
        TestDb::create(None).await
    }

    /// A fresh database whose files live in `dir` (a folder the PostgreSQL
    /// server can reach and own: it becomes a tablespace).
    pub async fn in_folder(dir: &Path) -> TestDb {
        TestDb::create(Some(dir)).await
    }

    async fn create(folder: Option<&Path>) -> TestDb {
        // The tests' HTTP clients use the process's TLS provider.
        undercurrent::install_tls_provider();
        match postgres_server() {
            Some(server) => {
                let name = format!(
                    "uc_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_micros() % 1_000_000
                );
                let admin = sqlx::PgPool::connect(&server).await.expect("connecting to TEST_DATABASE_URL");
                let tablespace = folder.map(|_| format!("{name}_space"));
                let mut create = format!("CREATE DATABASE {name}");
                if let (Some(space), Some(dir)) = (&tablespace, folder) {
                    let location = dir.display().to_string().replace('\'', "''");
                    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLESPACE {space} LOCATION '{location}'")))
                        .execute(&admin)
                        .await
                        .expect("creating a tablespace");
                    create += &format!(" TABLESPACE {space}");
                }
                sqlx::query(sqlx::AssertSqlSafe(create)).execute(&admin).await.expect("creating a test database");
                admin.close().await;
                let (base, _) = server.rsplit_once('/').expect("TEST_DATABASE_URL needs a database name");
                let url = format!("{base}/{name}");
                let db = Db::connect(&url).await.expect("connecting to the test database");
                TestDb { db, url, _dir: None, pg_admin: Some((server, name)), tablespace }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let file = folder.unwrap_or(dir.path()).join("test.db");
                let url = format!("sqlite://{}", file.display());
                let db = Db::connect(&url).await.expect("opening SQLite");
                TestDb { db, url, _dir: Some(dir), pg_admin: None, tablespace: None }
            }
        }
    }

    /// Drops a PostgreSQL test database (SQLite files go with the temp dir).
    pub async fn finish(mut self) {
        self.db.close().await;
        if let Some((server, name)) = self.pg_admin.take() {
            drop_database(&server, &name, self.tablespace.take().as_deref()).await;
        }
    }
}

async fn drop_database(server: &str, name: &str, tablespace: Option<&str>) {
    let Ok(admin) = sqlx::PgPool::connect(server).await else { return };
    let _ =
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await;
    if let Some(space) = tablespace {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLESPACE IF EXISTS {space}"))).execute(&admin).await;
    }
    admin.close().await;
}

impl Drop for TestDb {
    /// A test that failed (or never called `finish`) leaves no PostgreSQL
    /// database behind: it is dropped from a thread of its own, since the
    /// test's runtime may be unwinding.
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg_admin.take() {
            let space = self.tablespace.take();
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(drop_database(&server, &name, space.as_deref()));
                }
            })
            .join();
        }
    }
}

/// A database of its own, not migrated (for upgrade tests): its URL, the
/// PostgreSQL server and database name to drop afterwards, and the SQLite
/// folder that holds it.
pub async fn unmigrated_database(tag: &str) -> (String, Option<(String, String)>, Option<tempfile::TempDir>) {
    match postgres_server() {
        None => {
            let dir = tempfile::tempdir().unwrap();
            (format!("sqlite://{}", dir.path().join("old.db").display()), None, Some(dir))
        }
        Some(server) => {
            let name = format!("uc_{tag}_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&server).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&admin)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
            admin.close().await;
            let (base, _) = server.rsplit_once('/').unwrap();
            (format!("{base}/{name}"), Some((server, name)), None)
        }
    }
}

/// The app's migrations older than `version`, for the database kind given.
pub async fn migrations_before(postgres: bool, version: i64) -> sqlx::migrate::Migrator {
    let folder = if postgres { "postgres" } else { "sqlite" };
    let mut migrator =
        sqlx::migrate::Migrator::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder))
            .await
            .unwrap();
    migrator.migrations =
        migrator.migrations.iter().filter(|m| m.version < version).cloned().collect::<Vec<_>>().into();
    migrator
}

/// Runs the real binary against a database; returns (status, stdout, stderr).
pub fn cli(url: &str, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_undercurrent"))
        .args(["--database-url", url])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("running the binary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
