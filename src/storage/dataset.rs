//! Reading what the activity engine needs for one window.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use futures_util::TryStreamExt;
use sqlx::Row;

use super::Db;
use super::events::kind_of;
use crate::domain::metrics::{ChannelType, Dataset, Event, Person};
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
    let people_sql = "SELECT id, user_id, department, start_date, first_event_ts FROM people ORDER BY user_id";
    let rows: Vec<(i64, Person)> = on_db!(db, pool => {
        sqlx::query(people_sql).fetch_all(pool).await?.into_iter().map(|r| {
            let start: Option<String> = r.try_get("start_date")?;
            Ok((r.try_get("id")?, Person {
                user_id: r.try_get("user_id")?,
                department: r.try_get("department")?,
                start_date: start.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
                first_event: r.try_get("first_event_ts")?,
            }))
        }).collect::<Result<Vec<_>>>()?
    });
    let mut index: HashMap<i64, u32> = HashMap::with_capacity(rows.len());
    let mut ids = Vec::with_capacity(rows.len());
    let mut people = Vec::with_capacity(rows.len());
    for (i, (id, person)) in rows.into_iter().enumerate() {
        index.insert(id, i as u32);
        ids.push(id);
        people.push(person);
    }

    let events_sql = "SELECT person_id, ts, kind_id, channel_id, channel_type FROM events WHERE ts >= $1 AND ts < $2";
    let mut events = Vec::new();
    on_db!(db, pool => {
        let mut stream = sqlx::query(events_sql).bind(from).bind(to).fetch(pool);
        while let Some(r) = stream.try_next().await.context("reading events")? {
            let person: i64 = r.try_get(0)?;
            let Some(&person) = index.get(&person) else { continue };
            events.push(Event {
                person,
                ts: r.try_get(1)?,
                kind: kind_of(r.try_get(2)?),
                channel: u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(0),
                channel_type: ChannelType::from_code(r.try_get(4)?),
            });
        }
    });
    Ok((Dataset { people, events }, ids))
}

/// The latest event instant, if any.
pub async fn last_event_ts(db: &Db) -> Result<Option<i64>> {
    let ts: Option<i64> =
        on_db!(db, pool => sqlx::query("SELECT MAX(ts) AS ts FROM events").fetch_one(pool).await?.try_get("ts")?);
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
    let sql = "SELECT (SELECT COUNT(*) FROM people) AS people, (SELECT COUNT(*) FROM events) AS events, \
               (SELECT COUNT(*) FROM channels) AS channels";
    on_db!(db, pool => {
        let r = sqlx::query(sql).fetch_one(pool).await?;
        Ok(Totals { people: r.try_get("people")?, events: r.try_get("events")?, channels: r.try_get("channels")? })
    })
}
