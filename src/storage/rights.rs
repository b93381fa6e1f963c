//! A person's rights: everything held about them, and erasing it. The
//! erasure reaches every table that names the person (directory row,
//! events, platform facts, invitations, bookings and their history,
//! interviews with codes and quotes, queued and sent messages with their
//! attempts, opt-outs) and the user id inside stored draw reports.

use anyhow::Result;
use serde_json::{Value, json};
use sqlx::Row;

use super::{Db, Tx};
use crate::{on_db, on_tx};

/// The person's database id by `user_id`.
pub async fn person_id(db: &Db, user_id: &str) -> Result<Option<i64>> {
    let sql = "SELECT id FROM people WHERE user_id = $1";
    on_db!(db, pool => Ok(sqlx::query_scalar(sql).bind(user_id).fetch_optional(pool).await?))
}

/// Rows of a query as JSON objects (every column read as text or number).
macro_rules! rows_json {
    ($pool:expr, $sql:expr, $id:expr) => {{
        let rows = sqlx::query(sqlx::AssertSqlSafe($sql)).bind($id).fetch_all($pool).await?;
        let mut out = Vec::new();
        for r in rows {
            let mut o = serde_json::Map::new();
            for (i, c) in sqlx::Row::columns(&r).iter().enumerate() {
                let name = sqlx::Column::name(c).to_string();
                let v = if let Ok(Some(n)) = r.try_get::<Option<i64>, _>(i) {
                    json!(n)
                } else if let Ok(Some(f)) = r.try_get::<Option<f64>, _>(i) {
                    json!(f)
                } else if let Ok(Some(s)) = r.try_get::<Option<String>, _>(i) {
                    json!(s)
                } else {
                    Value::Null
                };
                o.insert(name, v);
            }
            out.push(Value::Object(o));
        }
        Value::Array(out)
    }};
}

/// Everything held about one person, as JSON.
pub async fn export(db: &Db, id: i64) -> Result<Value> {
    let invitation_ids = "SELECT id FROM invitations WHERE person_id = $1";
    let booking_ids = format!("SELECT id FROM bookings WHERE invitation_id IN ({invitation_ids})");
    let interview_ids = format!("SELECT id FROM interviews WHERE booking_id IN ({booking_ids})");
    let queries: Vec<(&str, String)> = vec![
        ("person", "SELECT user_id, name, email, department, title, location, start_date, attributes, created_at, deactivated_at FROM people WHERE id = $1".into()),
        ("directory_sync", "SELECT user_name, external_id, given_name, family_name, employee_number, created_at, updated_at \
                            FROM scim_users WHERE person_id = $1".into()),
        ("directory_groups", "SELECT g.display_name FROM scim_group_members m JOIN scim_groups g ON g.id = m.group_id \
                              JOIN scim_users s ON s.id = m.user_id WHERE s.person_id = $1 ORDER BY g.display_name".into()),
        ("events", "SELECT e.ts, k.name AS kind, c.name AS channel, e.channel_type, e.duration_seconds, e.event_id FROM events e \
                    JOIN event_kinds k ON k.id = e.kind_id LEFT JOIN channels c ON c.id = e.channel_id \
                    WHERE e.person_id = $1 ORDER BY e.ts".into()),
        ("identifiers", "SELECT identifier, kind FROM person_identifiers WHERE person_id = $1 ORDER BY identifier".into()),
        ("platform_facts", "SELECT * FROM person_facts WHERE person_id = $1".into()),
        ("opt_out", "SELECT at, reason, study_id FROM opt_outs WHERE person_id = $1".into()),
        ("invitations", "SELECT i.id, s.title AS study, i.tier, i.department, i.facts, i.reason, i.status, i.exclusion, \
                         i.invited_at, i.opened_at, i.responded_at, i.decline_reason FROM invitations i \
                         JOIN studies s ON s.id = i.study_id WHERE i.person_id = $1 ORDER BY i.id".into()),
        ("bookings", format!("SELECT id, invitation_id, starts_at, ends_at, status, uid, sequence, participant_timezone, \
                              cancelled_at, cancelled_by, cancel_reason FROM bookings WHERE invitation_id IN ({invitation_ids})")),
        ("interviews", format!("SELECT id, booking_id, consent, consent_on, notes, root_cause, follow_up, updated_at \
                                FROM interviews WHERE booking_id IN ({booking_ids})")),
        ("interview_codes", format!("SELECT ic.interview_id, c.key, c.label_en FROM interview_codes ic \
                                     JOIN study_codes c ON c.id = ic.code_id WHERE ic.interview_id IN ({interview_ids})")),
        ("quotes", format!("SELECT interview_id, text, shareable, created_at FROM quotes WHERE interview_id IN ({interview_ids})")),
        ("holdouts", "SELECT h.round_id, s.title AS study, h.tier, h.department, h.created_at FROM holdouts h \
                      JOIN studies s ON s.id = h.study_id WHERE h.person_id = $1".into()),
        ("survey_invitations", "SELECT survey_id, tier, department, sent_at, responded_at FROM survey_invitations \
                                WHERE person_id = $1".into()),
        ("messages", format!("SELECT kind, to_addr, subject, state, created_at, finished_at FROM outbox \
                              WHERE invitation_id IN ({invitation_ids}) ORDER BY id")),
    ];
    let mut out = serde_json::Map::new();
    for (name, sql) in queries {
        let v = on_db!(db, pool => rows_json!(pool, sql.clone(), id));
        out.insert(name.to_string(), v);
    }
    Ok(Value::Object(out))
}

/// Erases the person `id` (known by `user_id` in stored reports) inside a
/// transaction; returns how many rows went, table by table.
pub async fn erase(tx: &mut Tx, id: i64, user_id: &str) -> Result<Vec<(&'static str, u64)>> {
    let invitation_ids = "SELECT id FROM invitations WHERE person_id = $1";
    let booking_ids = format!("SELECT id FROM bookings WHERE invitation_id IN ({invitation_ids})");
    let interview_ids = format!("SELECT id FROM interviews WHERE booking_id IN ({booking_ids})");
    let outbox_ids = format!(
        "SELECT id FROM outbox WHERE invitation_id IN ({invitation_ids}) OR booking_id IN ({booking_ids}) \
         OR to_addr = (SELECT email FROM people WHERE id = $1)"
    );
    let steps: Vec<(&'static str, String)> = vec![
        ("outbox_attempts", format!("DELETE FROM outbox_attempts WHERE outbox_id IN ({outbox_ids})")),
        ("outbox", format!("DELETE FROM outbox WHERE id IN ({outbox_ids})")),
        ("quotes", format!("DELETE FROM quotes WHERE interview_id IN ({interview_ids})")),
        ("interview_codes", format!("DELETE FROM interview_codes WHERE interview_id IN ({interview_ids})")),
        ("interviews", format!("DELETE FROM interviews WHERE id IN ({interview_ids})")),
        ("booking_changes", format!("DELETE FROM booking_changes WHERE booking_id IN ({booking_ids})")),
        ("bookings", format!("DELETE FROM bookings WHERE id IN ({booking_ids})")),
        ("invitations", "DELETE FROM invitations WHERE person_id = $1".into()),
        ("holdouts", "DELETE FROM holdouts WHERE person_id = $1".into()),
        ("survey_invitations", "DELETE FROM survey_invitations WHERE person_id = $1".into()),
        ("opt_outs", "DELETE FROM opt_outs WHERE person_id = $1".into()),
        ("person_facts", "DELETE FROM person_facts WHERE person_id = $1".into()),
        ("events", "DELETE FROM events WHERE person_id = $1".into()),
        ("retained_presence", "DELETE FROM retained_presence WHERE person_id = $1".into()),
        ("person_identifiers", "DELETE FROM person_identifiers WHERE person_id = $1".into()),
        // Group memberships go with the SCIM user.
        ("scim_users", "DELETE FROM scim_users WHERE person_id = $1".into()),
        ("people", "DELETE FROM people WHERE id = $1".into()),
    ];
    let mut counts = Vec::new();
    for (table, sql) in steps {
        let n = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut *c).await?.rows_affected());
        counts.push((table, n));
    }
    // Channel names may carry the person's id (direct messages are often
    // named after both people): such channels keep their events (the other
    // person's metrics need them) under a neutral name.
    let channels: Vec<(i64, String)> = on_tx!(tx, c => sqlx::query_as("SELECT id, name FROM channels WHERE name LIKE $1")
        .bind(format!("%{user_id}%")).fetch_all(&mut *c).await?);
    let mut renamed = 0;
    for (channel, _) in channels.into_iter().filter(|(_, name)| name.contains(user_id)) {
        on_tx!(tx, c => sqlx::query("UPDATE channels SET name = $1 WHERE id = $2")
            .bind(format!("erased-channel-{channel}")).bind(channel).execute(&mut *c).await.map(drop)?);
        renamed += 1;
    }
    counts.push(("channels renamed", renamed));
    // The audit log keeps what was done, not to whom: earlier entries about
    // this person lose their target.
    let n = on_tx!(tx, c => sqlx::query("UPDATE audit_log SET target = 'person:erased' WHERE target = $1")
        .bind(format!("person:{id}")).execute(&mut *c).await?.rows_affected());
    counts.push(("audit_log targets", n));
    // Draw reports list who the contact rules kept out, by user id.
    let rounds: Vec<(i64, String)> = on_tx!(tx, c => sqlx::query("SELECT id, excluded FROM rounds WHERE excluded <> '[]'")
        .fetch_all(&mut *c).await?.into_iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("excluded")?))).collect::<Result<Vec<_>>>()?);
    for (round, excluded) in rounds {
        let Ok(Value::Array(list)) = serde_json::from_str::<Value>(&excluded) else { continue };
        let kept: Vec<Value> = list.into_iter().filter(|e| e["user_id"].as_str() != Some(user_id)).collect();
        let text = serde_json::to_string(&kept)?;
        on_tx!(tx, c => sqlx::query("UPDATE rounds SET excluded = $1 WHERE id = $2").bind(text).bind(round)
            .execute(&mut *c).await.map(drop)?);
    }
    Ok(counts)
}
