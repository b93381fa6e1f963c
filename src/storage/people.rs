//! People: directory rows and people first seen in events.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::Result;
use sqlx::Row;

use super::{Tx, identity, now, placeholders};
use crate::ingest::people::DirectoryRow;
use crate::on_tx;

/// Known directory columns, as stored.
pub const DIRECTORY_COLUMNS: [&str; 6] = ["name", "email", "department", "title", "location", "start_date"];

/// Which columns a directory file carries: only those are overwritten when
/// a person is already known (a blank value clears it).
#[derive(Clone, Debug, Default)]
pub struct DirectoryShape {
    pub columns: Vec<&'static str>,
    pub attribute_columns: Vec<String>,
}

fn column_value(row: &DirectoryRow, column: &str) -> Option<String> {
    match column {
        "name" => row.name.clone(),
        "email" => row.email.clone(),
        "department" => row.department.clone(),
        "title" => row.title.clone(),
        "location" => row.location.clone(),
        "start_date" => row.start_date.map(|d| d.to_string()),
        _ => None,
    }
}

/// Existing attributes of some people, by user id.
async fn existing_attributes(tx: &mut Tx, user_ids: &[&str]) -> Result<HashMap<String, String>> {
    let sql = format!(
        "SELECT user_id, attributes FROM people WHERE user_id IN ({})",
        placeholders(tx.is_postgres(), 1, user_ids.len())
    );
    let rows: Vec<(String, String)> = on_tx!(tx, conn => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for id in user_ids {
            q = q.bind(*id);
        }
        q.fetch_all(conn).await?.into_iter()
            .map(|r| Ok((r.try_get("user_id")?, r.try_get("attributes")?)))
            .collect::<Result<Vec<_>>>()?
    });
    Ok(rows.into_iter().collect())
}

/// Creates or updates a batch of directory rows (unique user ids). Returns
/// (created, updated).
pub async fn upsert_directory(tx: &mut Tx, shape: &DirectoryShape, rows: &[DirectoryRow]) -> Result<(u64, u64)> {
    if rows.is_empty() {
        return Ok((0, 0));
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    let existing = existing_attributes(tx, &ids).await?;
    let created_at = now();
    let mut created = 0;
    for row in rows {
        // Stored attributes that do not read are an error, not a reason to
        // write over them.
        let mut attributes: BTreeMap<String, String> = match existing.get(&row.user_id) {
            Some(json) => super::read_json(json, || format!("the attributes of `{}`", row.user_id))?,
            None => BTreeMap::new(),
        };
        for column in &shape.attribute_columns {
            match row.attributes.get(column) {
                Some(v) => attributes.insert(column.clone(), v.clone()),
                None => attributes.remove(column),
            };
        }
        let attributes = serde_json::to_string(&attributes)?;
        let mut columns = vec!["user_id", "attributes", "in_directory", "created_at"];
        columns.extend(shape.columns.iter().copied());
        let updates: Vec<String> =
            columns[1..3].iter().chain(shape.columns.iter()).map(|c| format!("{c} = excluded.{c}")).collect();
        let sql = format!(
            "INSERT INTO people ({}) VALUES ({}) ON CONFLICT (user_id) DO UPDATE SET {}",
            columns.join(", "),
            placeholders(tx.is_postgres(), 1, columns.len()),
            updates.join(", ")
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(&row.user_id).bind(&attributes).bind(1i64).bind(created_at);
            for column in &shape.columns {
                q = q.bind(column_value(row, column));
            }
            q.execute(conn).await.map(drop)?;
        });
        created += u64::from(!existing.contains_key(&row.user_id));
    }
    Ok((created, rows.len() as u64 - created))
}

/// People found or created for a set of ids.
#[derive(Debug, Default)]
pub struct Resolved {
    /// Database id by the id as given.
    pub ids: HashMap<String, i64>,
    /// People created.
    pub created: u64,
    /// The ids given that named a known person by an e-mail or alias, not
    /// by their user id.
    pub by_alias: HashSet<String>,
}

/// Finds people by any identifier (user id, e-mail or alias, trimmed and
/// case-insensitive) or creates them, keyed by the id as given. People
/// created for an import still `pending` are not counted until it finishes.
pub async fn ensure(tx: &mut Tx, user_ids: &HashSet<&str>, pending: Option<i64>) -> Result<Resolved> {
    let pg = tx.is_postgres();
    let wanted: Vec<(&str, String)> = user_ids.iter().map(|u| (*u, identity::normalise(u))).collect();
    let keys: Vec<&str> = wanted.iter().map(|(_, k)| k.as_str()).filter(|k| !k.is_empty()).collect();
    // Most are usually known: look them up first, insert only the rest.
    let owners = identity::owners(tx, &keys).await?;
    let mut out = Resolved::default();
    let mut missing: Vec<&str> = Vec::new();
    for (given, key) in &wanted {
        match owners.get(key) {
            Some(o) => {
                out.ids.insert(given.to_string(), o.person_id);
                if o.kind != identity::USER_ID {
                    out.by_alias.insert(given.to_string());
                }
            }
            None if !missing.contains(&key.as_str()) => missing.push(key.as_str()),
            None => {}
        }
    }
    for chunk in missing.chunks(1000) {
        let values =
            (0..chunk.len()).map(|i| format!("({})", placeholders(pg, 3 * i + 1, 3))).collect::<Vec<_>>().join(", ");
        let insert = format!(
            "INSERT INTO people (user_id, created_at, pending_import) VALUES {values} ON CONFLICT (user_id) DO NOTHING"
        );
        let ts = now();
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.as_str()));
            for id in chunk {
                q = q.bind(*id).bind(ts).bind(pending);
            }
            out.created += q.execute(&mut *conn).await?.rows_affected();
        });
    }
    let created = lookup(tx, &missing).await?;
    let pairs: Vec<(&str, i64)> = created.iter().map(|(u, id)| (u.as_str(), *id)).collect();
    identity::add_user_ids(tx, &pairs).await?;
    for (given, key) in &wanted {
        if let Some(id) = created.get(key) {
            out.ids.insert(given.to_string(), *id);
        }
    }
    Ok(out)
}

/// Ids of known people by user id.
pub async fn lookup(tx: &mut Tx, user_ids: &[&str]) -> Result<HashMap<String, i64>> {
    if let Tx::Postgres(t) = tx {
        let ids: Vec<String> = user_ids.iter().map(|s| s.to_string()).collect();
        let rows = sqlx::query("SELECT id, user_id FROM people WHERE user_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut **t)
            .await?;
        return rows.into_iter().map(|r| Ok((r.try_get("user_id")?, r.try_get("id")?))).collect();
    }
    let pg = false;
    let mut out = HashMap::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(1000) {
        let select = format!("SELECT id, user_id FROM people WHERE user_id IN ({})", placeholders(pg, 1, chunk.len()));
        let rows: Vec<(i64, String)> = on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(select.as_str()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *conn).await?.into_iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("user_id")?)))
                .collect::<Result<Vec<_>>>()?
        });
        out.extend(rows.into_iter().map(|(id, user)| (user, id)));
    }
    Ok(out)
}

/// Lowers people's first-event instants where new events are earlier, a
/// thousand people a statement.
pub async fn note_first_events(tx: &mut Tx, first: &HashMap<i64, i64>) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        let (ids, times): (Vec<i64>, Vec<i64>) = first.iter().map(|(p, ts)| (*p, *ts)).unzip();
        let sql = "UPDATE people SET first_event_ts = v.ts FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS v (id, ts) \
                   WHERE people.id = v.id AND (people.first_event_ts IS NULL OR people.first_event_ts > v.ts)";
        sqlx::query(sql).bind(&ids).bind(&times).execute(&mut **t).await?;
        return Ok(());
    }
    let pg = false;
    let pairs: Vec<(i64, i64)> = first.iter().map(|(p, t)| (*p, *t)).collect();
    for chunk in pairs.chunks(1000) {
        let values =
            (0..chunk.len()).map(|i| format!("({})", placeholders(pg, 2 * i + 1, 2))).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "WITH v (id, ts) AS (VALUES {values}) UPDATE people SET first_event_ts = v.ts FROM v \
             WHERE people.id = v.id AND (people.first_event_ts IS NULL OR people.first_event_ts > v.ts)"
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (person, ts) in chunk {
                q = q.bind(*person).bind(*ts);
            }
            q.execute(conn).await.map(drop)?;
        });
    }
    Ok(())
}
