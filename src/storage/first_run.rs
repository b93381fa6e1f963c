//! What a new install holds, counted in one query for the first run's
//! checklist.

use anyhow::Result;
use sqlx::Row;

use super::Db;
use crate::domain::first_run::Holdings;
use crate::on_db;

/// Counts, with activity as "any at all" (a bounded scan, not a count of
/// millions of events).
pub async fn holdings(db: &Db) -> Result<Holdings> {
    let sql = "SELECT \
        (SELECT COUNT(*) FROM people WHERE in_directory = 1) AS directory_people, \
        (SELECT COUNT(*) FROM (SELECT 1 AS one FROM events LIMIT 1) e) \
          + (SELECT COUNT(*) FROM (SELECT 1 AS one FROM person_facts LIMIT 1) f) AS activity_records, \
        (SELECT COUNT(*) FROM accounts) AS accounts, \
        (SELECT COUNT(*) FROM account_invitations) AS account_invitations, \
        (SELECT COUNT(*) FROM studies) AS studies";
    on_db!(db, pool => {
        let r = sqlx::query(sql).fetch_one(pool).await?;
        Ok(Holdings {
            directory_people: r.try_get("directory_people")?,
            activity_records: r.try_get("activity_records")?,
            accounts: r.try_get("accounts")?,
            account_invitations: r.try_get("account_invitations")?,
            studies: r.try_get("studies")?,
        })
    })
}
