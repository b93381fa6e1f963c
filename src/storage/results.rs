//! Stored results (`result_snapshots`): one row per computed snapshot,
//! written whole once computed.

use anyhow::Result;
use sqlx::Row;

use super::Db;
use crate::on_db;

/// What identifies a stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultKey {
    pub version: String,
    /// `YYYY-MM-DD`.
    pub as_of: String,
    pub window_days: i64,
    pub weeks: i64,
}

/// A stored snapshot's row.
#[derive(Clone, Debug)]
pub struct StoredResult {
    pub id: i64,
    pub key: ResultKey,
    pub is_default: bool,
    pub computed_at: i64,
    pub data_changed_at: Option<i64>,
    pub payload: Vec<u8>,
}

const COLUMNS: &str = "id, version, as_of, window_days, weeks, is_default, computed_at, data_changed_at, payload";

/// A row of `COLUMNS` as a `StoredResult` (a macro: the row type differs
/// between the databases).
macro_rules! stored {
    ($r:expr) => {{
        let r = $r;
        let is_default: i64 = r.try_get("is_default")?;
        anyhow::Ok(StoredResult {
            id: r.try_get("id")?,
            key: ResultKey {
                version: r.try_get("version")?,
                as_of: r.try_get("as_of")?,
                window_days: r.try_get::<i64, _>("window_days")?,
                weeks: r.try_get::<i64, _>("weeks")?,
            },
            is_default: is_default != 0,
            computed_at: r.try_get("computed_at")?,
            data_changed_at: r.try_get("data_changed_at")?,
            payload: r.try_get("payload")?,
        })
    }};
}

/// The snapshot stored under a key, if any.
pub async fn find(db: &Db, key: &ResultKey) -> Result<Option<StoredResult>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM result_snapshots WHERE version = $1 AND as_of = $2 AND window_days = $3 AND weeks = $4"
    );
    on_db!(db, pool => {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&key.version).bind(&key.as_of)
            .bind(key.window_days).bind(key.weeks).fetch_optional(pool).await?;
        row.map(|r| stored!(r)).transpose()
    })
}

/// The id and version of the latest stored default view, without its
/// payload (asked on every page while a recomputation runs).
pub async fn latest_default_id(db: &Db) -> Result<Option<(i64, String)>> {
    let sql =
        "SELECT id, version FROM result_snapshots WHERE is_default = 1 ORDER BY computed_at DESC, id DESC LIMIT 1";
    on_db!(db, pool => {
        let row = sqlx::query(sql).fetch_optional(pool).await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("version")?))).transpose()
    })
}

/// A stored snapshot by id.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<StoredResult>> {
    let sql = format!("SELECT {COLUMNS} FROM result_snapshots WHERE id = $1");
    on_db!(db, pool => {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
        row.map(|r| stored!(r)).transpose()
    })
}

/// Stores a snapshot (replacing one under the same key), and once the
/// default view of its version is stored, removes every other version's:
/// they can never be served again.
pub async fn store(
    db: &Db,
    key: &ResultKey,
    is_default: bool,
    computed_at: i64,
    data_changed_at: Option<i64>,
    payload: &[u8],
) -> Result<()> {
    let delete = "DELETE FROM result_snapshots WHERE version = $1 AND as_of = $2 AND window_days = $3 AND weeks = $4";
    let insert = "INSERT INTO result_snapshots \
                  (version, as_of, window_days, weeks, is_default, computed_at, data_changed_at, payload) \
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let prune = "DELETE FROM result_snapshots WHERE version <> $1 AND EXISTS \
                 (SELECT 1 FROM result_snapshots d WHERE d.version = $1 AND d.is_default = 1)";
    let mut tx = db.begin().await?;
    crate::on_tx!(&mut tx, conn => {
        sqlx::query(delete).bind(&key.version).bind(&key.as_of).bind(key.window_days).bind(key.weeks)
            .execute(&mut *conn).await?;
        sqlx::query(insert).bind(&key.version).bind(&key.as_of).bind(key.window_days).bind(key.weeks)
            .bind(i64::from(is_default)).bind(computed_at).bind(data_changed_at).bind(payload)
            .execute(&mut *conn).await?;
        sqlx::query(prune).bind(&key.version).execute(&mut *conn).await?;
    });
    tx.commit().await?;
    Ok(())
}

/// Removes every stored result (a person's erasure: no stored row may
/// still name them).
pub async fn clear_in(tx: &mut super::Tx) -> Result<()> {
    crate::on_tx!(tx, conn => sqlx::query("DELETE FROM result_snapshots").execute(conn).await.map(drop))?;
    Ok(())
}
