//! Identifiers: every id a person is known by (their user id, a directory
//! e-mail, aliases such as a UPN, a Slack User ID, a Feishu open_id or an
//! employee number), trimmed and lower-cased, so that every import finds
//! one person whatever id its file keys them by. Merging two people who
//! turn out to be one moves everything held about one to the other.

use std::collections::HashMap;

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx, placeholders};
use crate::{on_db, on_tx};

/// The person's own user id.
pub const USER_ID: &str = "user_id";
/// A directory e-mail.
pub const EMAIL: &str = "email";
/// Any other id: a directory alias, or the user id of a person merged in.
pub const ALIAS: &str = "alias";

/// An identifier as stored: trimmed and lower-cased.
pub fn normalise(id: &str) -> String {
    id.trim().to_lowercase()
}

/// The person an identifier belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub person_id: i64,
    pub user_id: String,
    pub in_directory: bool,
    /// How the identifier names them: user_id, email or alias.
    pub kind: String,
}

/// The owners of some identifiers (normalised); unknown ones are absent.
/// A person stored without their user id as an identifier (a row written
/// by an older version) gets it on the way.
pub async fn owners(tx: &mut Tx, ids: &[&str]) -> Result<HashMap<String, Owner>> {
    let pg = tx.is_postgres();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT i.identifier, i.person_id, i.kind, p.user_id, p.in_directory FROM person_identifiers i \
             JOIN people p ON p.id = i.person_id WHERE i.identifier IN ({})",
            placeholders(pg, 1, chunk.len())
        );
        let rows: Vec<(String, Owner)> = on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *conn).await?.into_iter().map(|r| {
                Ok((r.try_get("identifier")?, Owner {
                    person_id: r.try_get("person_id")?,
                    user_id: r.try_get("user_id")?,
                    in_directory: r.try_get::<i64, _>("in_directory")? != 0,
                    kind: r.try_get("kind")?,
                }))
            }).collect::<Result<Vec<_>>>()?
        });
        out.extend(rows);
        let missing: Vec<&str> = chunk.iter().copied().filter(|id| !out.contains_key(*id)).collect();
        if missing.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT id, user_id, in_directory FROM people WHERE user_id IN ({})",
            placeholders(pg, 1, missing.len())
        );
        let found: Vec<(i64, String, bool)> = on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for id in &missing {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *conn).await?.into_iter().map(|r| {
                Ok((r.try_get("id")?, r.try_get("user_id")?, r.try_get::<i64, _>("in_directory")? != 0))
            }).collect::<Result<Vec<_>>>()?
        });
        for (person_id, user_id, in_directory) in found {
            add(tx, &user_id, person_id, USER_ID).await?;
            out.insert(user_id.clone(), Owner { person_id, user_id, in_directory, kind: USER_ID.into() });
        }
    }
    Ok(out)
}

/// Gives an identifier to a person (taking it from whoever had it).
pub async fn add(tx: &mut Tx, identifier: &str, person_id: i64, kind: &str) -> Result<()> {
    let sql = "INSERT INTO person_identifiers (identifier, person_id, kind) VALUES ($1, $2, $3) \
               ON CONFLICT (identifier) DO UPDATE SET person_id = excluded.person_id, kind = excluded.kind";
    on_tx!(tx, conn => sqlx::query(sql).bind(identifier).bind(person_id).bind(kind).execute(conn).await.map(drop))?;
    Ok(())
}

/// Gives identifiers to people (taking them from whoever had them), a
/// thousand a statement; each identifier once.
pub async fn add_many(tx: &mut Tx, rows: &[(&str, i64, &str)]) -> Result<()> {
    let pg = tx.is_postgres();
    for chunk in rows.chunks(1000) {
        let values =
            (0..chunk.len()).map(|i| format!("({})", placeholders(pg, 3 * i + 1, 3))).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "INSERT INTO person_identifiers (identifier, person_id, kind) VALUES {values} \
             ON CONFLICT (identifier) DO UPDATE SET person_id = excluded.person_id, kind = excluded.kind"
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (id, person, kind) in chunk {
                q = q.bind(*id).bind(*person).bind(*kind);
            }
            q.execute(&mut *conn).await.map(drop)?;
        });
    }
    Ok(())
}

/// Records new people's user ids as their identifiers, a thousand a statement.
pub async fn add_user_ids(tx: &mut Tx, people: &[(&str, i64)]) -> Result<()> {
    let pg = tx.is_postgres();
    for chunk in people.chunks(1000) {
        let values =
            (0..chunk.len()).map(|i| format!("({}, 'user_id')", placeholders(pg, 2 * i + 1, 2))).collect::<Vec<_>>();
        let sql = format!(
            "INSERT INTO person_identifiers (identifier, person_id, kind) VALUES {} ON CONFLICT (identifier) DO NOTHING",
            values.join(", ")
        );
        on_tx!(tx, conn => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (id, person) in chunk {
                q = q.bind(*id).bind(*person);
            }
            q.execute(&mut *conn).await.map(drop)?;
        });
    }
    Ok(())
}

/// Gives a person a new user id; the old one stays as an alias.
pub async fn rename(tx: &mut Tx, person_id: i64, user_id: &str) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2").bind(user_id).bind(person_id).execute(&mut *conn).await?;
        sqlx::query("UPDATE person_identifiers SET kind = 'alias' WHERE person_id = $1 AND kind = 'user_id'")
            .bind(person_id).execute(&mut *conn).await?;
    });
    add(tx, user_id, person_id, USER_ID).await
}

/// Why two people could not be merged: both hold something that cannot be
/// held twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeConflict {
    /// Both have a platform fact under one key, with different figures.
    Facts { source: String, report: String, start: String, end: String },
    /// Both were drawn into the same round of a study.
    Round,
    /// Both were invited to the same survey.
    Survey,
}

impl MergeConflict {
    pub fn describe(&self) -> String {
        match self {
            MergeConflict::Facts { source, report, start, end } => format!(
                "both have {source} figures ({report}) for {start}..{end} and they differ, so they cannot be added \
                 up or one chosen"
            ),
            MergeConflict::Round => "both were drawn into the same round of a study".into(),
            MergeConflict::Survey => "both were invited to the same survey".into(),
        }
    }
}

const FACT_COLUMNS: &str = "source, report, period_start, period_end, refreshed, active_days, messages, reactions, \
                            calls, meetings, files, docs, reads, passive, anonymised, deleted, last_active";

type FactKey = (String, String, String, String, String);
type FactValues = (Vec<Option<i64>>, Option<String>);

async fn facts_of(tx: &mut Tx, person: i64) -> Result<HashMap<FactKey, FactValues>> {
    let sql = format!("SELECT {FACT_COLUMNS} FROM person_facts WHERE person_id = $1");
    on_tx!(tx, conn => {
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(person).fetch_all(&mut *conn).await?;
        rows.into_iter().map(|r| {
            let key = (r.try_get("source")?, r.try_get("report")?, r.try_get("period_start")?,
                r.try_get("period_end")?, r.try_get("refreshed")?);
            let mut counts = Vec::with_capacity(11);
            for c in ["active_days", "messages", "reactions", "calls", "meetings", "files", "docs", "reads"] {
                counts.push(r.try_get::<Option<i64>, _>(c)?);
            }
            for c in ["passive", "anonymised", "deleted"] {
                counts.push(Some(r.try_get::<i64, _>(c)?));
            }
            Ok((key, (counts, r.try_get("last_active")?)))
        }).collect::<Result<HashMap<_, _>>>()
    })
}

/// Merges person `from` into person `into`: events (the same event held by
/// both is kept once), platform facts (the same fact held by both is kept
/// once), invitations, survey invitations, the opt-out, the earliest event
/// and every identifier move; `from` is deleted. Refused, changing
/// nothing, when both hold something that cannot be held twice.
pub async fn merge(tx: &mut Tx, from: i64, into: i64) -> Result<Result<(), MergeConflict>> {
    let theirs = facts_of(tx, from).await?;
    let ours = facts_of(tx, into).await?;
    let mut same: Vec<&FactKey> = Vec::new();
    for (key, values) in &theirs {
        match ours.get(key) {
            Some(v) if v == values => same.push(key),
            Some(_) => {
                let (source, report, start, end, _) = key.clone();
                return Ok(Err(MergeConflict::Facts { source, report, start, end }));
            }
            None => {}
        }
    }
    let clash = |table: &str, column: &str| {
        format!(
            "SELECT COUNT(*) FROM {table} a JOIN {table} b ON a.{column} = b.{column} \
             WHERE a.person_id = $1 AND b.person_id = $2"
        )
    };
    let (rounds, surveys) = (clash("invitations", "round_id"), clash("survey_invitations", "survey_id"));
    let (round_clash, survey_clash): (i64, i64) = on_tx!(tx, conn => (
        sqlx::query_scalar(sqlx::AssertSqlSafe(rounds.as_str())).bind(from).bind(into).fetch_one(&mut *conn).await?,
        sqlx::query_scalar(sqlx::AssertSqlSafe(surveys.as_str())).bind(from).bind(into).fetch_one(&mut *conn).await?,
    ));
    if round_clash > 0 {
        return Ok(Err(MergeConflict::Round));
    }
    if survey_clash > 0 {
        return Ok(Err(MergeConflict::Survey));
    }
    on_tx!(tx, conn => {
        for (source, report, start, end, refreshed) in same {
            sqlx::query(
                "DELETE FROM person_facts WHERE person_id = $1 AND source = $2 AND report = $3 \
                 AND period_start = $4 AND period_end = $5 AND refreshed = $6",
            )
            .bind(from).bind(source).bind(report).bind(start).bind(end).bind(refreshed)
            .execute(&mut *conn).await?;
        }
        let statements = [
            "UPDATE person_facts SET person_id = $2 WHERE person_id = $1",
            "DELETE FROM events WHERE person_id = $1 AND EXISTS (SELECT 1 FROM events o WHERE o.person_id = $2 \
             AND o.ts = events.ts AND o.kind_id = events.kind_id AND o.channel_id = events.channel_id \
             AND o.channel_type = events.channel_type)",
            "UPDATE events SET person_id = $2 WHERE person_id = $1",
            "DELETE FROM retained_presence WHERE person_id = $1 AND EXISTS (SELECT 1 FROM retained_presence o \
             WHERE o.person_id = $2 AND o.import_id = retained_presence.import_id)",
            "UPDATE retained_presence SET person_id = $2 WHERE person_id = $1",
            // A holdout stays one only if the merged person was never
            // contacted by that study.
            "DELETE FROM holdouts WHERE person_id = $1 AND (\
             EXISTS (SELECT 1 FROM holdouts h WHERE h.person_id = $2 AND h.study_id = holdouts.study_id) \
             OR EXISTS (SELECT 1 FROM invitations i WHERE i.person_id = $2 AND i.study_id = holdouts.study_id))",
            "DELETE FROM holdouts WHERE person_id = $2 \
             AND EXISTS (SELECT 1 FROM invitations i WHERE i.person_id = $1 AND i.study_id = holdouts.study_id)",
            "UPDATE holdouts SET person_id = $2 WHERE person_id = $1",
            "UPDATE invitations SET person_id = $2 WHERE person_id = $1",
            "UPDATE survey_invitations SET person_id = $2 WHERE person_id = $1",
            "DELETE FROM opt_outs WHERE person_id = $1 AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.person_id = $2)",
            "UPDATE opt_outs SET person_id = $2 WHERE person_id = $1",
            "UPDATE people SET first_event_ts = (SELECT MIN(first_event_ts) FROM people WHERE id IN ($1, $2)) \
             WHERE id = $2",
            "UPDATE person_identifiers SET person_id = $2, \
             kind = CASE WHEN kind = 'user_id' THEN 'alias' ELSE kind END WHERE person_id = $1",
            // A SCIM link follows the person, unless the other has one.
            "UPDATE scim_users SET person_id = $2 WHERE person_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM scim_users s WHERE s.person_id = $2)",
            "DELETE FROM people WHERE id = $1",
        ];
        for sql in statements {
            sqlx::query(sql).bind(from).bind(into).execute(&mut *conn).await?;
        }
    });
    Ok(Ok(()))
}

/// The identifiers a person is known by besides their user id, with their
/// kinds, e-mails first.
pub async fn known_as(db: &Db, person_id: i64) -> Result<Vec<(String, String)>> {
    let sql = "SELECT identifier, kind FROM person_identifiers WHERE person_id = $1 AND kind <> 'user_id' \
               ORDER BY kind DESC, identifier";
    on_db!(db, pool => {
        let rows = sqlx::query(sql).bind(person_id).fetch_all(pool).await?;
        rows.into_iter().map(|r| Ok((r.try_get("identifier")?, r.try_get("kind")?))).collect()
    })
}

/// The user id of the person an identifier (user id, e-mail or alias)
/// names, if any.
pub async fn user_id_of(db: &Db, identifier: &str) -> Result<Option<String>> {
    let sql = "SELECT p.user_id FROM person_identifiers i JOIN people p ON p.id = i.person_id WHERE i.identifier = $1";
    let id = normalise(identifier);
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(&id).fetch_optional(pool).await?))
}
