//! Column mapping presets: a mapping saved under a unique name, its body
//! stored as JSON.

use anyhow::{Context, Result};
use sqlx::Row;

use super::{Db, now};
use crate::domain::mapping::{Mapping, Target};
use crate::on_db;

/// A saved mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preset {
    pub id: i64,
    pub name: String,
    pub target: Target,
    pub mapping: Mapping,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, target, body, created_at, updated_at FROM mapping_presets";

macro_rules! preset_of {
    ($r:expr) => {{
        let r = $r;
        let name: String = r.try_get("name")?;
        let body: String = r.try_get("body")?;
        let mapping: Mapping =
            serde_json::from_str(&body).with_context(|| format!("reading the mapping preset `{name}`"))?;
        Preset {
            id: r.try_get("id")?,
            target: mapping.target,
            name,
            mapping,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        }
    }};
}

/// Every preset, by name.
pub async fn list(db: &Db) -> Result<Vec<Preset>> {
    let sql = format!("SELECT {COLUMNS} ORDER BY name, id");
    on_db!(db, pool => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(preset_of!(r));
        }
        Ok(out)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Preset>> {
    let sql = format!("SELECT {COLUMNS} WHERE id = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(pool).await? {
            Some(r) => Ok(Some(preset_of!(&r))),
            None => Ok(None),
        }
    })
}

/// The preset with exactly this name.
pub async fn find(db: &Db, name: &str) -> Result<Option<Preset>> {
    let sql = format!("SELECT {COLUMNS} WHERE name = $1");
    on_db!(db, pool => {
        match sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(name).fetch_optional(pool).await? {
            Some(r) => Ok(Some(preset_of!(&r))),
            None => Ok(None),
        }
    })
}

/// Saves a mapping under a name, replacing a preset of that name. Returns
/// its id and whether it is new.
pub async fn save(db: &Db, name: &str, mapping: &Mapping) -> Result<(i64, bool)> {
    let body = serde_json::to_string(mapping)?;
    let t = now();
    let existed = find(db, name).await.ok().flatten().is_some();
    let sql = "INSERT INTO mapping_presets (name, target, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
               ON CONFLICT (name) DO UPDATE SET target = excluded.target, body = excluded.body, \
               updated_at = excluded.updated_at RETURNING id";
    let id: i64 = on_db!(db, pool => sqlx::query(sql)
        .bind(name).bind(mapping.target.as_str()).bind(&body).bind(t)
        .fetch_one(pool).await?.try_get("id")?);
    Ok((id, !existed))
}

/// Deletes a preset; `false` when there was none.
pub async fn delete(db: &Db, id: i64) -> Result<bool> {
    let sql = "DELETE FROM mapping_presets WHERE id = $1";
    let n = on_db!(db, pool => sqlx::query(sql).bind(id).execute(pool).await?.rows_affected());
    Ok(n > 0)
}
