//! The SQL of `backup` and `restore` (SQLite; PostgreSQL has its own tools).

use anyhow::Result;

use super::Db;
use crate::on_db;

/// Writes a consistent copy of a SQLite database to `target` while it is in
/// use (`VACUUM INTO`); PostgreSQL: nothing.
pub async fn write_copy(db: &Db, target: &str) -> Result<()> {
    if let Db::Sqlite(pool) = db {
        sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
    }
    Ok(())
}

/// Whether a database has Undercurrent's migrations and tables.
pub async fn is_undercurrent(db: &Db) -> bool {
    for sql in ["SELECT COUNT(*) FROM _sqlx_migrations", "SELECT COUNT(*) FROM people"] {
        if !on_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.is_ok()) {
            return false;
        }
    }
    true
}
