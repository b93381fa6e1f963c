//! Storage: one database handle over SQLite (the embedded default) or
//! PostgreSQL. The SQL is written once and runs on both (`$1` placeholders
//! work on each); `on_db!` expands a body once per backend so the typed sqlx
//! calls stay plain. Backend-specific paths exist only where they pay.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub mod account_invitations;
pub mod accounts;
pub mod api_tokens;
pub mod audit;
pub mod availability;
pub mod backup;
pub mod bookings;
pub mod dataset;
pub mod directory;
pub mod event_insert;
pub mod events;
pub mod facts;
pub mod first_run;
pub mod holdouts;
pub mod identity;
pub mod imports;
pub mod interviewer_calendars;
pub mod interviewer_feeds;
pub mod interviews;
pub mod invitations;
pub mod mappings;
pub mod oidc;
pub mod outbox;
pub mod people;
pub mod person_history;
pub mod places;
mod postgres_fast;
pub mod results;
pub mod retention;
pub mod rights;
pub mod rollouts;
pub mod scim;
pub mod server_secrets;
pub mod settings;
pub mod sign_in_throttle;
mod sqlite_fast;
pub mod studies;
pub mod surveys;

/// States as a SQL list (`'drawn', 'invited'`), for `status IN (...)`: the
/// states' own names, never user input.
pub(crate) fn state_list<S: crate::domain::state::State>(states: &[S]) -> String {
    states.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// A JSON column that does not read as what it should hold (a study's
/// target or rules, a round's strata, a survey's questions, an import's
/// summary): an error naming the record, instead of an empty default that
/// would show an empty page or draw with default rules.
#[derive(Debug, thiserror::Error)]
#[error("{what} is not readable: {source}")]
pub struct CorruptJson {
    pub what: String,
    #[source]
    pub source: serde_json::Error,
}

/// Reads a stored JSON value; `what` names it for the error.
pub fn read_json<T: serde::de::DeserializeOwned>(json: &str, what: impl FnOnce() -> String) -> Result<T, CorruptJson> {
    serde_json::from_str(json).map_err(|source| CorruptJson { what: what(), source })
}

/// The default database: a SQLite file under `data/`, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/undercurrent.db";

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite($pool) => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://...`), creating a
    /// SQLite file and its folder when missing, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Db> {
        let db = Db::connect_without_migrating(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn connect_without_migrating(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).context("reading the PostgreSQL URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .with_context(|| format!("connecting to PostgreSQL at {}", redact(url)))?;
            return Ok(Db::Postgres(pool));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).with_context(|| {
            format!("unsupported database URL `{}`: use sqlite://PATH or postgres://...", redact(url))
        })?;
        let path = path.split('?').next().unwrap_or(path);
        if let Some(dir) = Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).with_context(|| format!("creating the folder {}", dir.display()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the SQLite database {path}"))?;
        Ok(Db::Sqlite(pool))
    }

    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
        .context("applying database migrations")?;
        // A large import drops this index while it runs: a process that
        // stopped during one left it out.
        events::restore_person_index(self).await
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_db!(self, pool => pool.close().await)
    }

    /// Whether the database answers a query now.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))?;
        Ok(())
    }
}

/// Hides a password in a database URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Whether an error is a full disk: SQLite's SQLITE_FULL (13), PostgreSQL's
/// `disk_full` (53100), or a file write that found no space (ENOSPC).
pub fn disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io_disk_full(io);
        }
        match cause.downcast_ref::<sqlx::Error>() {
            Some(sqlx::Error::Database(d)) => d.code().is_some_and(|c| c == "13" || c == "53100"),
            Some(sqlx::Error::Io(io)) => io_disk_full(io),
            _ => false,
        }
    })
}

/// Whether a file write failed for want of space.
pub fn io_disk_full(e: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(ENOSPC)
}

/// Seconds since the Unix epoch, for bookkeeping columns.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A transaction on either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::storage::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::storage::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Postgres(_))
    }
}

/// `n` parameters, comma-separated, numbered from `start`: `$1, $2` on
/// PostgreSQL; `?, ?` on SQLite, where numbered parameters make binding
/// quadratic in their count (SQLite looks each name up in a list).
pub fn placeholders(postgres: bool, start: usize, n: usize) -> String {
    if postgres {
        (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
    } else {
        vec!["?"; n].join(", ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}

#[cfg(test)]
mod json_tests {
    use super::read_json;

    #[test]
    fn unreadable_json_is_an_error_naming_the_record_not_a_default() {
        let ok: Vec<u32> = read_json("[1, 2]", || "the strata of round 1".into()).unwrap();
        assert_eq!(ok, vec![1, 2]);
        for bad in ["", "{", "{\"a\": 1}"] {
            let err = read_json::<Vec<u32>>(bad, || "the strata of round 7".into()).unwrap_err();
            assert!(err.to_string().starts_with("the strata of round 7 is not readable: "), "{err}");
        }
    }
}
