//! Per-person facts from aggregated sources.

use std::collections::HashMap;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use sqlx::Row;

use super::{Db, Tx};
use crate::domain::dataset::FactRow;
use crate::domain::facts::{Counts, FactSource, PeriodFact};
use crate::{on_db, on_tx};

fn opt(v: Option<u32>) -> Option<i64> {
    v.map(i64::from)
}

/// What storing a file's facts did: each fact is new, the same as the one
/// stored under its key, or replaces different values stored under it (a
/// corrected re-download of the same report and period).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Upserted {
    pub added: u64,
    pub unchanged: u64,
    pub replaced: u64,
}

/// The values stored for a key, compared to tell a re-import (the same
/// values) from a correction. A new value column goes here, in `VALUES`, and in
/// `upsert`'s read and writes.
#[derive(Debug, PartialEq, Eq)]
struct Values {
    counts: [Option<i64>; 8],
    flags: [i64; 3],
    last_active: Option<String>,
}

const VALUES: &str = "active_days, messages, reactions, calls, meetings, files, docs, reads, passive, anonymised, \
                      deleted, last_active";

impl Values {
    fn of(f: &PeriodFact) -> Values {
        Values {
            counts: [
                f.counts.active_days,
                f.counts.messages,
                f.counts.reactions,
                f.counts.calls,
                f.counts.meetings,
                f.counts.files,
                f.counts.docs,
                f.counts.reads,
            ]
            .map(opt),
            flags: [f.counts.passive, f.anonymised, f.deleted].map(i64::from),
            last_active: f.last_active.map(|d| d.to_string()),
        }
    }
}

/// Stores a file's facts of one source and report. A fact's key is person,
/// source, report, period and refresh date: facts of another report or
/// period are never touched; a fact stored under the same key with the
/// same values is left as it is (importing a file twice changes nothing);
/// one with different values is replaced (a corrected re-download).
pub async fn upsert(
    tx: &mut Tx,
    import_id: i64,
    source: FactSource,
    report: &str,
    facts: &[(i64, PeriodFact)],
) -> Result<Upserted> {
    let key = "person_id = $1 AND source = $2 AND report = $3 AND period_start = $4 AND period_end = $5 \
               AND refreshed = $6";
    let find = format!("SELECT {VALUES} FROM person_facts WHERE {key}");
    let insert = format!(
        "INSERT INTO person_facts (person_id, source, report, period_start, period_end, refreshed, {VALUES}, \
         import_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    );
    let update = format!(
        "UPDATE person_facts SET active_days = $7, messages = $8, reactions = $9, calls = $10, meetings = $11, \
         files = $12, docs = $13, reads = $14, passive = $15, anonymised = $16, deleted = $17, last_active = $18, \
         import_id = $19 WHERE {key}"
    );
    let mut done = Upserted::default();
    for (person, f) in facts {
        let (start, end, refreshed) = (f.start.to_string(), f.end.to_string(), f.refreshed().to_string());
        let new = Values::of(f);
        macro_rules! bound {
            ($sql:expr) => {
                sqlx::query(sqlx::AssertSqlSafe($sql.as_str()))
                    .bind(*person)
                    .bind(source.as_str())
                    .bind(report)
                    .bind(&start)
                    .bind(&end)
                    .bind(&refreshed)
            };
        }
        on_tx!(tx, conn => {
            let old = match bound!(find).fetch_optional(&mut *conn).await? {
                Some(r) => Some(Values {
                    counts: [
                        r.try_get("active_days")?, r.try_get("messages")?, r.try_get("reactions")?,
                        r.try_get("calls")?, r.try_get("meetings")?, r.try_get("files")?, r.try_get("docs")?,
                        r.try_get("reads")?,
                    ],
                    flags: [r.try_get("passive")?, r.try_get("anonymised")?, r.try_get("deleted")?],
                    last_active: r.try_get("last_active")?,
                }),
                None => None,
            };
            let write = match old {
                None => { done.added += 1; Some(&insert) }
                Some(old) if old == new => { done.unchanged += 1; None }
                Some(_) => { done.replaced += 1; Some(&update) }
            };
            if let Some(sql) = write {
                let [a, b, c, d, e, f2, g, h] = new.counts;
                let [p, an, de] = new.flags;
                bound!(sql)
                    .bind(a).bind(b).bind(c).bind(d).bind(e).bind(f2).bind(g).bind(h)
                    .bind(p).bind(an).bind(de).bind(new.last_active.clone()).bind(import_id)
                    .execute(&mut *conn).await?;
            }
        });
    }
    Ok(done)
}

/// A stored date: one this code wrote, so anything else is an error (not
/// the first of January 1970).
fn date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("a stored fact's date `{s}` is not YYYY-MM-DD"))
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
    let sql = "SELECT person_id, source, report, period_start, period_end, refreshed, active_days, messages, reactions, \
               calls, meetings, files, docs, reads, passive FROM person_facts WHERE period_end >= $1 AND period_end <= $2";
    on_db!(db, pool => {
        let rows = sqlx::query(sql).bind(from.to_string()).bind(to.to_string()).fetch_all(pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let Some(&person) = index.get(&r.try_get::<i64, _>("person_id")?) else { continue };
            let source: String = r.try_get("source")?;
            out.push(FactRow {
                person,
                source: FactSource::parse(&source),
                report: r.try_get("report")?,
                start: date(&r.try_get::<String, _>("period_start")?)?,
                end: date(&r.try_get::<String, _>("period_end")?)?,
                refreshed: date(&r.try_get::<String, _>("refreshed")?)?,
                counts: Counts {
                    active_days: count(r.try_get("active_days")?),
                    messages: count(r.try_get("messages")?),
                    reactions: count(r.try_get("reactions")?),
                    calls: count(r.try_get("calls")?),
                    meetings: count(r.try_get("meetings")?),
                    files: count(r.try_get("files")?),
                    docs: count(r.try_get("docs")?),
                    reads: count(r.try_get("reads")?),
                    passive: r.try_get::<i64, _>("passive")? != 0,
                },
            });
        }
        Ok(out)
    })
}
