//! Per-person facts from aggregated sources.

use std::collections::HashMap;

use anyhow::Result;
use chrono::NaiveDate;
use sqlx::Row;

use super::{Db, Tx};
use crate::domain::aggregated::FactRow;
use crate::domain::facts::{FactSource, PeriodFact};
use crate::{on_db, on_tx};

fn opt(v: Option<u32>) -> Option<i64> {
    v.map(i64::from)
}

/// Stores facts (one per person, source and period); a fact already stored
/// for the same person, source and period is replaced by the new values.
/// Returns how many rows were new.
pub async fn upsert(tx: &mut Tx, import_id: i64, source: FactSource, facts: &[(i64, PeriodFact)]) -> Result<u64> {
    let sql = "INSERT INTO person_facts (person_id, source, period_start, period_end, active_days, messages, reactions, \
               calls, meetings, files, docs, reads, passive, anonymised, deleted, last_active, import_id) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
               ON CONFLICT (person_id, source, period_start, period_end) DO UPDATE SET \
               active_days = excluded.active_days, messages = excluded.messages, reactions = excluded.reactions, \
               calls = excluded.calls, meetings = excluded.meetings, files = excluded.files, docs = excluded.docs, \
               reads = excluded.reads, passive = excluded.passive, anonymised = excluded.anonymised, \
               deleted = excluded.deleted, last_active = excluded.last_active";
    let exists = "SELECT 1 AS one FROM person_facts WHERE person_id = $1 AND source = $2 AND period_start = $3 AND period_end = $4";
    let mut added = 0;
    for (person, f) in facts {
        let (start, end) = (f.start.to_string(), f.end.to_string());
        on_tx!(tx, conn => {
            let known = sqlx::query(exists).bind(*person).bind(source.as_str()).bind(&start).bind(&end)
                .fetch_optional(&mut *conn).await?.is_some();
            added += u64::from(!known);
            sqlx::query(sql)
                .bind(*person).bind(source.as_str()).bind(&start).bind(&end)
                .bind(opt(f.active_days)).bind(opt(f.messages)).bind(opt(f.reactions)).bind(opt(f.calls))
                .bind(opt(f.meetings)).bind(opt(f.files)).bind(opt(f.docs)).bind(opt(f.reads))
                .bind(i64::from(f.passive)).bind(i64::from(f.anonymised)).bind(i64::from(f.deleted))
                .bind(f.last_active.map(|d| d.to_string())).bind(import_id)
                .execute(&mut *conn).await.map(drop)?;
        });
    }
    Ok(added)
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
}

fn count(v: Option<i64>) -> Option<u32> {
    v.map(|n| u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

/// Facts whose period ends between two dates (inclusive), for the people in
/// `index` (database id to dataset index).
pub async fn ending_between(
    db: &Db,
    from: NaiveDate,
    to: NaiveDate,
    index: &HashMap<i64, u32>,
) -> Result<Vec<FactRow>> {
    let sql = "SELECT person_id, source, period_start, period_end, active_days, messages, reactions, calls, meetings, \
               files, docs, reads, passive FROM person_facts WHERE period_end >= $1 AND period_end <= $2";
    on_db!(db, pool => {
        let rows = sqlx::query(sql).bind(from.to_string()).bind(to.to_string()).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(&person) = index.get(&r.try_get::<i64, _>("person_id")?) else { continue };
            let source: String = r.try_get("source")?;
            out.push(FactRow {
                person,
                source: FactSource::parse(&source),
                start: date(&r.try_get::<String, _>("period_start")?),
                end: date(&r.try_get::<String, _>("period_end")?),
                active_days: count(r.try_get("active_days")?),
                messages: count(r.try_get("messages")?),
                reactions: count(r.try_get("reactions")?),
                calls: count(r.try_get("calls")?),
                meetings: count(r.try_get("meetings")?),
                files: count(r.try_get("files")?),
                docs: count(r.try_get("docs")?),
                reads: count(r.try_get("reads")?),
                passive: r.try_get::<i64, _>("passive")? != 0,
            });
        }
        Ok(out)
    })
}
