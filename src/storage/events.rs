//! Events: the de-duplicating batch insert, and the lookup tables for event
//! kinds and channels.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use sqlx::Row;

use super::{Db, Tx, placeholders};
use crate::domain::dataset::{ChannelType, Event};
use crate::domain::kind::{FIRST_CUSTOM_KIND_ID, Kind};
use crate::on_tx;

/// An event ready to store: every name already resolved to an id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub person_id: i64,
    pub ts: i64,
    pub kind_id: i64,
    pub channel_id: i64,
    pub channel_type: i64,
    pub duration_seconds: Option<i64>,
    pub event_id: Option<String>,
}

/// Every event kind by name.
pub async fn kinds(tx: &mut Tx) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = on_tx!(tx, conn => {
        sqlx::query("SELECT name, id FROM event_kinds").fetch_all(conn).await?.into_iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("id")?))).collect::<Result<Vec<_>>>()?
    });
    Ok(rows.into_iter().collect())
}

/// Adds a custom event kind; returns its id.
pub async fn add_kind(tx: &mut Tx, name: &str) -> Result<i64> {
    let next: i64 = on_tx!(tx, conn => {
        sqlx::query("SELECT COALESCE(MAX(id), 0) AS max FROM event_kinds").fetch_one(conn).await?.try_get("max")?
    });
    let id = next.max(i64::from(FIRST_CUSTOM_KIND_ID) - 1) + 1;
    anyhow::ensure!(id <= i64::from(u16::MAX), "too many distinct event kinds");
    on_tx!(tx, conn => sqlx::query("INSERT INTO event_kinds (id, name) VALUES ($1, $2)").bind(id).bind(name).execute(conn).await.map(drop)?);
    Ok(id)
}

/// Finds or creates channels by name.
pub async fn ensure_channels(tx: &mut Tx, names: &HashSet<&str>) -> Result<HashMap<String, i64>> {
    let names: Vec<&str> = names.iter().copied().collect();
    if let Tx::Postgres(t) = tx {
        // One array-bound statement each: long parameter lists cost
        // PostgreSQL more to parse and plan than the work itself.
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        sqlx::query("INSERT INTO channels (name) SELECT n FROM UNNEST($1::TEXT[]) AS n ON CONFLICT (name) DO NOTHING")
            .bind(&names)
            .execute(&mut **t)
            .await?;
        let rows =
            sqlx::query("SELECT id, name FROM channels WHERE name = ANY($1)").bind(&names).fetch_all(&mut **t).await?;
        return rows.into_iter().map(|r| Ok((r.try_get("name")?, r.try_get("id")?))).collect();
    }
    let pg = false;
    let mut out = HashMap::with_capacity(names.len());
    for chunk in names.chunks(1000) {
        let insert = format!(
            "INSERT INTO channels (name) VALUES {} ON CONFLICT (name) DO NOTHING",
            (1..=chunk.len()).map(|i| format!("({})", placeholders(pg, i, 1))).collect::<Vec<_>>().join(", ")
        );
        let select = format!("SELECT id, name FROM channels WHERE name IN ({})", placeholders(pg, 1, chunk.len()));
        let rows: Vec<(i64, String)> = on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.as_str()));
            for n in chunk {
                q = q.bind(*n);
            }
            q.execute(&mut *conn).await.map(drop)?;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(select.as_str()));
            for n in chunk {
                q = q.bind(*n);
            }
            q.fetch_all(&mut *conn).await?.into_iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("name")?))).collect::<Result<Vec<_>>>()?
        });
        out.extend(rows.into_iter().map(|(id, name)| (name, id)));
    }
    Ok(out)
}

/// The duplicate test (PostgreSQL's; SQLite's is the same in
/// `sqlite_fast`): `v` is the candidate row.
pub(super) const NOT_STORED: &str = "NOT EXISTS (SELECT 1 FROM events e WHERE e.ts = v.ts AND e.person_id = v.person_id \
     AND e.kind_id = v.kind_id AND e.channel_id = v.channel_id AND (v.event_id IS NULL OR e.event_id IS NULL))";

/// Removes the duplicates within a batch, by the same rule as
/// `event_insert::insert_batch`, keeping the first of each. Returns how many were removed.
pub fn dedup_within(batch: &mut Vec<NewEvent>) -> usize {
    let before = batch.len();
    let keep: Vec<bool> = {
        let mut with_id: HashSet<(i64, i64, i64, i64)> = HashSet::new();
        let mut without_id: HashSet<(i64, i64, i64, i64)> = HashSet::new();
        let mut ids: HashSet<&str> = HashSet::new();
        batch
            .iter()
            .map(|e| {
                let identity = (e.person_id, e.ts, e.kind_id, e.channel_id);
                match &e.event_id {
                    Some(id) => {
                        if without_id.contains(&identity) || !ids.insert(id) {
                            return false;
                        }
                        with_id.insert(identity);
                        true
                    }
                    None => !with_id.contains(&identity) && without_id.insert(identity),
                }
            })
            .collect()
    };
    let mut keep = keep.into_iter();
    batch.retain(|_| keep.next().unwrap_or(true));
    before - batch.len()
}

pub fn kind_of(id: i64) -> Kind {
    Kind(u16::try_from(id).unwrap_or(0))
}

/// An engine event from stored columns.
pub fn event(person: u32, ts: i64, kind_id: i64, channel_id: i64, channel_type: i64) -> Event {
    Event {
        person,
        ts,
        kind: kind_of(kind_id),
        channel: u32::try_from(channel_id).unwrap_or(0),
        channel_type: ChannelType::from_code(channel_type),
    }
}

/// The index by person (one person's events for the person page) costs a
/// large import more than half its time on SQLite: every batch touches
/// pages all over it. A large import drops it first and builds it once at
/// the end (`restore_person_index`), a sort that takes about a second per
/// million events. Returns whether it was dropped (SQLite only; PostgreSQL
/// keeps it). Reads stay right without it, only slower.
pub async fn defer_person_index(db: &Db) -> Result<bool> {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("DROP INDEX IF EXISTS events_person").execute(pool).await.context("dropping events_person")?;
            Ok(true)
        }
        Db::Postgres(_) => Ok(false),
    }
}

/// Builds the index by person again (also at every start, in case a
/// process stopped during a large import).
pub async fn restore_person_index(db: &Db) -> Result<()> {
    if let Db::Sqlite(pool) = db {
        let mut conn = pool.acquire().await.context("a connection to build events_person")?;
        // The sort spills to a temporary file rather than memory (the
        // connections keep temporary data in memory otherwise), so memory
        // stays flat whatever the number of events.
        sqlx::query("PRAGMA temp_store = FILE").execute(&mut *conn).await?;
        let built = sqlx::query("CREATE INDEX IF NOT EXISTS events_person ON events (person_id, ts)")
            .execute(&mut *conn)
            .await
            .context("building events_person");
        sqlx::query("PRAGMA temp_store = MEMORY").execute(&mut *conn).await?;
        built?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, id: Option<&str>) -> NewEvent {
        NewEvent {
            person_id: 1,
            ts,
            kind_id: 1,
            channel_id: 0,
            channel_type: 0,
            duration_seconds: None,
            event_id: id.map(str::to_string),
        }
    }

    #[test]
    fn duplicates_within_a_batch_follow_the_spec() {
        // Same id: duplicate. No id and same identity as anything: duplicate.
        // Two different ids with the same identity: both kept.
        let mut batch =
            vec![ev(1, Some("a")), ev(2, Some("a")), ev(1, None), ev(1, Some("b")), ev(3, None), ev(3, None)];
        assert_eq!(dedup_within(&mut batch), 3);
        assert_eq!(batch, vec![ev(1, Some("a")), ev(1, Some("b")), ev(3, None)]);
        // An identified event after an unidentified one with its identity.
        let mut batch = vec![ev(5, None), ev(5, Some("c"))];
        assert_eq!(dedup_within(&mut batch), 1);
    }
}
