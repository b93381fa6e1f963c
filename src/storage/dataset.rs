//! Reading what the activity engine needs for one window.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use chrono::NaiveDate;
use sqlx::Row;

use super::Db;
use crate::domain::dataset::{Dataset, Event, Person};
use crate::on_db;

/// A person's directory details beyond what the engine needs.
#[derive(Clone, Debug, Default)]
pub struct PersonDetails {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub location: Option<String>,
}

/// Loads every person (sorted by user id) and the events between `from`
/// (inclusive) and `to` (exclusive).
pub async fn load(db: &Db, from: i64, to: i64) -> Result<(Dataset, Vec<i64>)> {
    // People created by an import still running are not counted yet.
    let people_sql = "SELECT id, user_id, department, start_date, first_event_ts FROM people \
                      WHERE pending_import IS NULL ORDER BY user_id";
    let rows: Vec<(i64, Person)> = on_db!(db, pool => {
        sqlx::query(people_sql).fetch_all(pool).await?.into_iter().map(|r| {
            let start: Option<String> = r.try_get("start_date")?;
            Ok((r.try_get("id")?, Person {
                user_id: r.try_get("user_id")?,
                department: r.try_get("department")?,
                start_date: start.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
                first_event: r.try_get("first_event_ts")?,
                ..Person::default()
            }))
        }).collect::<Result<Vec<_>>>()?
    });
    // Byte order, the same on both databases (PostgreSQL's ORDER BY follows
    // its collation).
    let mut rows = rows;
    rows.sort_by(|a, b| a.1.user_id.cmp(&b.1.user_id));
    let mut index: HashMap<i64, u32> = HashMap::with_capacity(rows.len());
    let mut ids = Vec::with_capacity(rows.len());
    let mut people = Vec::with_capacity(rows.len());
    for (i, (id, person)) in rows.into_iter().enumerate() {
        index.insert(id, i as u32);
        ids.push(id);
        people.push(person);
    }

    let events = match db {
        Db::Sqlite(pool) => {
            let running: HashSet<i64> = super::imports::uncounted(db).await?.into_iter().collect();
            let mut conn = pool.acquire().await?;
            super::sqlite_fast::window_events(&mut conn, from, to, &index, &running).await?
        }
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            super::postgres_fast::window_events(&mut conn, from, to, &index).await?
        }
    };
    // Facts: a little wider than the span (dates are local); the engine
    // picks those ending inside each window.
    let first =
        chrono::DateTime::from_timestamp(from, 0).map(|d| d.date_naive()).unwrap_or_default() - chrono::Days::new(2);
    let last =
        chrono::DateTime::from_timestamp(to, 0).map(|d| d.date_naive()).unwrap_or_default() + chrono::Days::new(2);
    let facts = super::facts::ending_between(db, first, last, &index).await?;
    load_presence(db, from, to, &index, &mut people).await?;
    Ok((Dataset { people, events, facts }, ids))
}

/// Finished imports of raw events with their source and period.
const EVENT_IMPORTS_SQL: &str = "SELECT id, source, first_ts, last_ts FROM imports \
     WHERE status = 'done' AND first_ts IS NOT NULL AND last_ts IS NOT NULL AND events_added > 0";

/// Fills each person's [`Presence`](crate::domain::dataset::Presence) for
/// the span `[from, to)`: nothing to do (one small query) unless an import
/// of a messages-only source has events in the span.
async fn load_presence(db: &Db, from: i64, to: i64, index: &HashMap<i64, u32>, people: &mut [Person]) -> Result<()> {
    use crate::domain::coverage::messages_only_source;
    let imports: Vec<(i64, String, i64, i64)> = on_db!(db, pool => {
        sqlx::query(EVENT_IMPORTS_SQL).fetch_all(pool).await?.into_iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("source")?, r.try_get("first_ts")?, r.try_get("last_ts")?)))
            .collect::<Result<Vec<_>>>()?
    });
    let in_span = |a: i64, b: i64| a < to && b >= from;
    let messages_only: Vec<(i64, &'static str)> = imports
        .iter()
        .filter(|(_, _, a, b)| in_span(*a, *b))
        .filter_map(|(id, source, _, _)| messages_only_source(source).map(|s| (*id, s)))
        .collect();
    if messages_only.is_empty() {
        return Ok(());
    }
    let list = |ids: &mut dyn Iterator<Item = i64>| ids.map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    // Ids are integers from the database: safe to write into the SQL.
    let sql = format!(
        "SELECT person_id, import_id, MIN(ts) AS first, MAX(ts) AS last FROM events \
         WHERE ts >= $1 AND ts < $2 AND import_id IN ({}) GROUP BY person_id, import_id",
        list(&mut messages_only.iter().map(|(id, _)| *id))
    );
    let rows: Vec<(i64, i64, i64, i64)> = on_db!(db, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(from).bind(to).fetch_all(pool).await?.into_iter()
            .map(|r| Ok((r.try_get("person_id")?, r.try_get("import_id")?, r.try_get("first")?, r.try_get("last")?)))
            .collect::<Result<Vec<_>>>()?
    });
    for (person, import, first, last) in rows {
        let (Some(&i), Some(&(_, source))) = (index.get(&person), messages_only.iter().find(|(id, _)| *id == import))
        else {
            continue;
        };
        let p = &mut people[i as usize].presence;
        p.messages_only = Some(match p.messages_only {
            Some((s, a, b)) => (s, a.min(first), b.max(last)),
            None => (source, first, last),
        });
    }
    let presence: Vec<&(i64, String, i64, i64)> =
        imports.iter().filter(|(_, source, a, b)| in_span(*a, *b) && messages_only_source(source).is_none()).collect();
    if presence.is_empty() {
        return Ok(());
    }
    // With the pairs a retention run noted before deleting old events.
    let ids = list(&mut presence.iter().map(|(id, ..)| *id));
    let sql = format!(
        "SELECT DISTINCT person_id, import_id FROM events WHERE import_id IN ({ids}) \
         UNION SELECT person_id, import_id FROM retained_presence WHERE import_id IN ({ids})"
    );
    let rows: Vec<(i64, i64)> = on_db!(db, pool => {
        sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?.into_iter()
            .map(|r| Ok((r.try_get("person_id")?, r.try_get("import_id")?)))
            .collect::<Result<Vec<_>>>()?
    });
    for (person, import) in rows {
        let (Some(&i), Some((_, _, a, b))) = (index.get(&person), presence.iter().find(|(id, ..)| *id == import))
        else {
            continue;
        };
        let p = &mut people[i as usize].presence;
        if p.messages_only.is_some() {
            p.covered.push((*a, *b));
        }
    }
    Ok(())
}

/// The latest event of a finished import (the events of an import running or
/// being removed are not counted); newest first along the window index, so it stops at
/// the first counted row.
const LAST_EVENT_SQL: &str = "SELECT MAX(ts) AS ts FROM (SELECT ts FROM events \
     WHERE import_id NOT IN (SELECT id FROM imports WHERE status IN ('running', 'removing')) \
     ORDER BY ts DESC LIMIT 1) AS last";

/// The latest event instant, if any.
pub async fn last_event_ts(db: &Db) -> Result<Option<i64>> {
    let ts: Option<i64> = on_db!(db, pool => sqlx::query(LAST_EVENT_SQL).fetch_one(pool).await?.try_get("ts")?);
    Ok(ts)
}

/// Names of the custom event kinds, by id.
pub async fn kind_names(db: &Db) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = on_db!(db, pool => {
        sqlx::query("SELECT name, id FROM event_kinds").fetch_all(pool).await?.into_iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("id")?))).collect::<Result<Vec<_>>>()?
    });
    Ok(rows.into_iter().collect())
}

/// How much is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub people: i64,
    pub events: i64,
    pub channels: i64,
}

pub async fn totals(db: &Db) -> Result<Totals> {
    let sql = "SELECT (SELECT COUNT(*) FROM people WHERE pending_import IS NULL) AS people, \
               (SELECT COUNT(*) FROM events \
               WHERE import_id NOT IN (SELECT id FROM imports WHERE status IN ('running', 'removing'))) AS events, \
               (SELECT COUNT(*) FROM channels) AS channels";
    on_db!(db, pool => {
        let r = sqlx::query(sql).fetch_one(pool).await?;
        Ok(Totals { people: r.try_get("people")?, events: r.try_get("events")?, channels: r.try_get("channels")? })
    })
}

/// One person's events with `from <= ts < to`, in time order, as the engine
/// sees them (`person` set to `person_no`, their index in a dataset): the
/// person page reads them instead of a whole window's.
pub async fn person_events(db: &Db, person_id: i64, person_no: u32, from: i64, to: i64) -> Result<Vec<Event>> {
    let sql = "SELECT ts, kind_id, channel_id, channel_type FROM events \
               WHERE person_id = $1 AND ts >= $2 AND ts < $3 \
               AND import_id NOT IN (SELECT id FROM imports WHERE status IN ('running', 'removing')) \
               ORDER BY ts, kind_id, channel_id, channel_type";
    on_db!(db, pool => {
        sqlx::query(sql).bind(person_id).bind(from).bind(to).fetch_all(pool).await?.into_iter().map(|r| {
            Ok(super::events::event(
                person_no,
                r.try_get("ts")?,
                r.try_get("kind_id")?,
                r.try_get("channel_id")?,
                r.try_get("channel_type")?,
            ))
        }).collect()
    })
}
