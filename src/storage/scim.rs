//! SCIM users and groups: a SCIM user is a link to one person (`people`),
//! with what SCIM carries beyond the directory's columns; groups and their
//! members are their own tables. Deactivating marks the person
//! (`people.deactivated_at`), never deletes them.

use anyhow::Result;
use sqlx::Row;

use super::{Db, Tx, placeholders};
use crate::on_tx;

/// A transaction that will write. On SQLite it takes the write lock at
/// once: a transaction that read first and wrote second would fail when
/// another wrote in between (its snapshot is stale), where this one waits
/// its turn (the busy timeout) and then reads what the other wrote. On
/// PostgreSQL the unique indexes settle races (see `insert_user`).
pub async fn begin_write(db: &Db) -> Result<Tx> {
    let mut tx = db.begin().await?;
    if let Tx::Sqlite(t) = &mut tx {
        sqlx::query("UPDATE scim_groups SET id = id WHERE 1 = 0").execute(&mut **t).await?;
    }
    Ok(tx)
}

/// A SCIM user with the person's directory columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: String,
    pub person_id: i64,
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub employee_number: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub deactivated_at: Option<i64>,
}

/// Which users a list reads.
#[derive(Clone, Copy, Debug)]
pub enum UserFilter<'a> {
    All,
    Id(&'a str),
    /// The lower-cased userName.
    UserName(&'a str),
    ExternalId(&'a str),
    /// A lower-cased e-mail address.
    Email(&'a str),
}

impl<'a> UserFilter<'a> {
    fn clause(self) -> (&'static str, Option<&'a str>) {
        match self {
            UserFilter::All => ("", None),
            UserFilter::Id(v) => ("WHERE s.id = $1", Some(v)),
            UserFilter::UserName(v) => ("WHERE s.user_name_key = $1", Some(v)),
            UserFilter::ExternalId(v) => ("WHERE s.external_id = $1", Some(v)),
            UserFilter::Email(v) => (
                "WHERE EXISTS (SELECT 1 FROM person_identifiers i WHERE i.person_id = s.person_id \
                 AND i.identifier = $1 AND i.kind = 'email')",
                Some(v),
            ),
        }
    }
}

const USER_COLUMNS: &str = "s.id, s.person_id, s.user_name, s.external_id, s.given_name, s.family_name, \
    s.employee_number, s.created_at, s.updated_at, p.name, p.email, p.department, p.title, p.deactivated_at \
    FROM scim_users s JOIN people p ON p.id = s.person_id";

macro_rules! user_of {
    ($r:expr) => {{
        let r = $r;
        UserRow {
            id: r.try_get("id")?,
            person_id: r.try_get("person_id")?,
            user_name: r.try_get("user_name")?,
            external_id: r.try_get("external_id")?,
            given_name: r.try_get("given_name")?,
            family_name: r.try_get("family_name")?,
            employee_number: r.try_get("employee_number")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            name: r.try_get("name")?,
            email: r.try_get("email")?,
            department: r.try_get("department")?,
            title: r.try_get("title")?,
            deactivated_at: r.try_get("deactivated_at")?,
        }
    }};
}

/// A page of users, oldest first (a stable order, so pages do not overlap),
/// and how many match in all.
pub async fn users(tx: &mut Tx, filter: UserFilter<'_>, offset: i64, limit: i64) -> Result<(i64, Vec<UserRow>)> {
    let (clause, value) = filter.clause();
    let n = if value.is_some() { 2 } else { 1 };
    let sql = format!("SELECT {USER_COLUMNS} {clause} ORDER BY s.created_at, s.person_id LIMIT ${n} OFFSET ${}", n + 1);
    let count = format!("SELECT COUNT(*) FROM scim_users s {clause}");
    on_tx!(tx, conn => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        let mut c = sqlx::query_scalar(sqlx::AssertSqlSafe(count.as_str()));
        if let Some(v) = value {
            q = q.bind(v);
            c = c.bind(v);
        }
        let total: i64 = c.fetch_one(&mut *conn).await?;
        let rows = q.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(user_of!(r));
        }
        Ok((total, out))
    })
}

/// The SCIM user linked to a person, if any.
pub async fn user_of_person(tx: &mut Tx, person_id: i64) -> Result<Option<String>> {
    let sql = "SELECT id FROM scim_users WHERE person_id = $1";
    on_tx!(tx, conn => Ok(sqlx::query_scalar(sql).bind(person_id).fetch_optional(&mut *conn).await?))
}

/// Whether another SCIM user has this (lower-cased) userName.
pub async fn user_name_taken(tx: &mut Tx, key: &str, except: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM scim_users WHERE user_name_key = $1 AND id <> $2";
    let n: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(key).bind(except).fetch_one(&mut *conn).await?);
    Ok(n > 0)
}

/// What a SCIM user row holds beyond the person.
#[derive(Clone, Copy, Debug)]
pub struct UserWrite<'a> {
    pub user_name: &'a str,
    pub external_id: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub employee_number: Option<&'a str>,
}

/// `false` for a statement refused by a unique index (a request racing
/// another for the same userName, person or group name).
fn unique_violation(r: std::result::Result<(), sqlx::Error>) -> Result<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Stores a SCIM user; `false` when the userName or the person is taken.
pub async fn insert_user(tx: &mut Tx, id: &str, person_id: i64, w: UserWrite<'_>, at: i64) -> Result<bool> {
    let sql = "INSERT INTO scim_users (id, person_id, user_name, user_name_key, external_id, given_name, \
               family_name, employee_number, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
    let written = on_tx!(tx, conn => sqlx::query(sql)
        .bind(id).bind(person_id).bind(w.user_name).bind(w.user_name.to_lowercase()).bind(w.external_id)
        .bind(w.given_name).bind(w.family_name).bind(w.employee_number).bind(at)
        .execute(&mut *conn).await.map(drop));
    unique_violation(written)
}

/// Updates a SCIM user; `false` when the userName is taken.
pub async fn update_user(tx: &mut Tx, id: &str, w: UserWrite<'_>, at: i64) -> Result<bool> {
    let sql = "UPDATE scim_users SET user_name = $2, user_name_key = $3, external_id = $4, given_name = $5, \
               family_name = $6, employee_number = $7, updated_at = $8 WHERE id = $1";
    let written = on_tx!(tx, conn => sqlx::query(sql)
        .bind(id).bind(w.user_name).bind(w.user_name.to_lowercase()).bind(w.external_id).bind(w.given_name)
        .bind(w.family_name).bind(w.employee_number).bind(at)
        .execute(&mut *conn).await.map(drop));
    unique_violation(written)
}

/// Removes a SCIM user (the link, never the person); `false` when unknown.
pub async fn delete_user(tx: &mut Tx, id: &str) -> Result<bool> {
    let sql = "DELETE FROM scim_users WHERE id = $1";
    let n = on_tx!(tx, conn => sqlx::query(sql).bind(id).execute(&mut *conn).await?.rows_affected());
    Ok(n > 0)
}

/// The directory columns SCIM sets on a person.
#[derive(Clone, Copy, Debug)]
pub struct PersonWrite<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub department: Option<&'a str>,
    pub title: Option<&'a str>,
}

/// Writes a person's directory columns; they are in the directory from now on.
pub async fn write_person(tx: &mut Tx, person_id: i64, w: PersonWrite<'_>) -> Result<()> {
    let sql = "UPDATE people SET name = $2, email = $3, department = $4, title = $5, in_directory = 1, \
               pending_import = NULL WHERE id = $1";
    on_tx!(tx, conn => sqlx::query(sql)
        .bind(person_id).bind(w.name).bind(w.email).bind(w.department).bind(w.title)
        .execute(&mut *conn).await.map(drop))?;
    Ok(())
}

/// Marks a person active or deactivated (at `at`); whether that changed
/// anything.
pub async fn set_active(tx: &mut Tx, person_id: i64, active: bool, at: i64) -> Result<bool> {
    let n = on_tx!(tx, conn => match active {
        true => sqlx::query("UPDATE people SET deactivated_at = NULL WHERE id = $1 AND deactivated_at IS NOT NULL")
            .bind(person_id).execute(&mut *conn).await?.rows_affected(),
        false => sqlx::query("UPDATE people SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL")
            .bind(person_id).bind(at).execute(&mut *conn).await?.rows_affected(),
    });
    Ok(n > 0)
}

/// A SCIM group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which groups a list reads.
#[derive(Clone, Copy, Debug)]
pub enum GroupFilter<'a> {
    All,
    Id(&'a str),
    /// The lower-cased displayName.
    DisplayName(&'a str),
    ExternalId(&'a str),
}

/// A page of groups, oldest first, and how many match in all.
pub async fn groups(tx: &mut Tx, filter: GroupFilter<'_>, offset: i64, limit: i64) -> Result<(i64, Vec<GroupRow>)> {
    let (clause, value) = match filter {
        GroupFilter::All => ("", None),
        GroupFilter::Id(v) => ("WHERE id = $1", Some(v)),
        GroupFilter::DisplayName(v) => ("WHERE display_name_key = $1", Some(v)),
        GroupFilter::ExternalId(v) => ("WHERE external_id = $1", Some(v)),
    };
    let n = if value.is_some() { 2 } else { 1 };
    let sql = format!(
        "SELECT id, display_name, external_id, created_at, updated_at FROM scim_groups {clause} \
         ORDER BY created_at, id LIMIT ${n} OFFSET ${}",
        n + 1
    );
    let count = format!("SELECT COUNT(*) FROM scim_groups {clause}");
    on_tx!(tx, conn => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        let mut c = sqlx::query_scalar(sqlx::AssertSqlSafe(count.as_str()));
        if let Some(v) = value {
            q = q.bind(v);
            c = c.bind(v);
        }
        let total: i64 = c.fetch_one(&mut *conn).await?;
        let rows = q.bind(limit).bind(offset).fetch_all(&mut *conn).await?;
        let out = rows.iter().map(|r| Ok(GroupRow {
            id: r.try_get("id")?,
            display_name: r.try_get("display_name")?,
            external_id: r.try_get("external_id")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })).collect::<Result<Vec<_>>>()?;
        Ok((total, out))
    })
}

/// The members of some groups as (group id, user id, userName), in one query.
pub async fn members(tx: &mut Tx, group_ids: &[&str]) -> Result<Vec<(String, String, String)>> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT m.group_id, m.user_id, s.user_name FROM scim_group_members m JOIN scim_users s ON s.id = m.user_id \
         WHERE m.group_id IN ({}) ORDER BY m.group_id, s.user_name_key",
        placeholders(tx.is_postgres(), 1, group_ids.len())
    );
    on_tx!(tx, conn => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for id in group_ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut *conn).await?.iter()
            .map(|r| Ok((r.try_get("group_id")?, r.try_get("user_id")?, r.try_get("user_name")?)))
            .collect()
    })
}

/// Which of these SCIM user ids exist.
pub async fn existing_users(tx: &mut Tx, ids: &[&str]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT id FROM scim_users WHERE id IN ({})", placeholders(tx.is_postgres(), 1, ids.len()));
    on_tx!(tx, conn => {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()));
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(&mut *conn).await?)
    })
}

/// Whether another group has this (lower-cased) displayName.
pub async fn group_name_taken(tx: &mut Tx, key: &str, except: &str) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM scim_groups WHERE display_name_key = $1 AND id <> $2";
    let n: i64 = on_tx!(tx, conn => sqlx::query_scalar(sql).bind(key).bind(except).fetch_one(&mut *conn).await?);
    Ok(n > 0)
}

/// Creates or updates a group with these members; `false` when another
/// group has its name.
pub async fn write_group(
    tx: &mut Tx,
    id: &str,
    display_name: &str,
    external_id: Option<&str>,
    members: &[String],
    at: i64,
) -> Result<bool> {
    let upsert = "INSERT INTO scim_groups (id, display_name, display_name_key, external_id, created_at, updated_at) \
                  VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, \
                  display_name_key = excluded.display_name_key, external_id = excluded.external_id, \
                  updated_at = excluded.updated_at";
    let written = on_tx!(tx, conn => sqlx::query(upsert)
        .bind(id).bind(display_name).bind(display_name.to_lowercase()).bind(external_id).bind(at)
        .execute(&mut *conn).await.map(drop));
    if !unique_violation(written)? {
        return Ok(false);
    }
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM scim_group_members WHERE group_id = $1").bind(id).execute(&mut *conn).await?;
        for user in members {
            sqlx::query("INSERT INTO scim_group_members (group_id, user_id) VALUES ($1, $2)")
                .bind(id).bind(user).execute(&mut *conn).await?;
        }
    });
    Ok(true)
}

/// Deletes a group and its memberships; `false` when unknown.
pub async fn delete_group(tx: &mut Tx, id: &str) -> Result<bool> {
    let sql = "DELETE FROM scim_groups WHERE id = $1";
    let n = on_tx!(tx, conn => sqlx::query(sql).bind(id).execute(&mut *conn).await?.rows_affected());
    Ok(n > 0)
}
