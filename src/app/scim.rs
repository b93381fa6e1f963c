//! SCIM 2.0 directory sync: an identity provider (Entra ID, Okta) creates,
//! replaces, patches and deactivates people and groups.
//!
//! A SCIM user is the same person CSV imports and events name: its
//! userName, e-mails and employeeNumber are looked up among every
//! identifier people are known by (`storage::identity`), so a person first
//! seen in events and then provisioned is one person; a new person is
//! created only when none of them is known. Deactivating (`active: false`
//! or DELETE) keeps the person and their history: they are marked
//! deactivated, listed as such, and still count in past windows. DELETE
//! also removes the SCIM link (the user is gone for the provider; a later
//! POST for the same person links them again). Every change is audited,
//! naming the token that made it.

use std::collections::HashSet;

use anyhow::Context;
use serde_json::Value;

use crate::domain::scim::{
    self, Filter, Meta, Page, ScimError, ScimGroup, ScimUser, apply_patch, group_from_json, user_from_json,
};
use crate::storage::scim::{GroupFilter, GroupRow, PersonWrite, UserFilter, UserRow, UserWrite};
use crate::storage::{Db, Tx, audit, identity, now, people, scim as store};

/// Why a SCIM request failed: the client's error, or ours.
#[derive(Debug)]
pub enum Failure {
    Scim(ScimError),
    Internal(anyhow::Error),
}

impl From<ScimError> for Failure {
    fn from(e: ScimError) -> Failure {
        Failure::Scim(e)
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Failure {
        Failure::Internal(e)
    }
}

type Outcome<T> = Result<T, Failure>;

/// The API token a change was made with, for the audit log.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub token_id: i64,
    pub token_name: &'a str,
}

async fn audit_change(db: &Db, actor: Actor<'_>, action: &str, target: &str) -> anyhow::Result<()> {
    let detail = audit::detail("scim.audit.by_token", &[("token", actor.token_name.to_string())]);
    audit::record(db, None, action, Some(target), Some(&detail)).await.context("recording a SCIM change")
}

/// The user as SCIM shows it.
pub fn scim_user(row: &UserRow) -> ScimUser {
    ScimUser {
        user_name: row.user_name.clone(),
        external_id: row.external_id.clone(),
        given_name: row.given_name.clone(),
        family_name: row.family_name.clone(),
        display_name: row.name.clone(),
        emails: row.email.iter().cloned().collect(),
        active: row.deactivated_at.is_none(),
        title: row.title.clone(),
        department: row.department.clone(),
        employee_number: row.employee_number.clone(),
    }
}

fn new_id() -> String {
    crate::app::secrets::random_token()[..32].to_string()
}

/// A page of users, and how many match.
pub async fn list_users(db: &Db, filter: Option<&Filter>, page: Page) -> Outcome<(i64, Vec<UserRow>)> {
    let lower = filter.map(|f| identity::normalise(&f.value)).unwrap_or_default();
    let kind = match filter {
        None => UserFilter::All,
        Some(f) => match f.attribute.as_str() {
            "username" => UserFilter::UserName(&lower),
            "emails.value" => UserFilter::Email(&lower),
            "externalid" => UserFilter::ExternalId(&f.value),
            "id" => UserFilter::Id(&f.value),
            other => {
                return Err(
                    ScimError::new(400, Some("invalidFilter"), format!("cannot filter users by `{other}`")).into()
                );
            }
        },
    };
    let mut tx = db.begin().await?;
    let found = store::users(&mut tx, kind, page.offset() as i64, page.count as i64).await?;
    tx.rollback().await?;
    Ok(found)
}

async fn user_in(tx: &mut Tx, id: &str) -> Outcome<UserRow> {
    let (_, mut rows) = store::users(tx, UserFilter::Id(id), 0, 1).await?;
    rows.pop().ok_or_else(|| ScimError::not_found("User", id).into())
}

pub async fn get_user(db: &Db, id: &str) -> Outcome<UserRow> {
    let mut tx = db.begin().await?;
    let row = user_in(&mut tx, id).await;
    tx.rollback().await?;
    row
}

/// The identifiers a SCIM user names a person by, normalised, with kinds.
fn identifiers(user: &ScimUser) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = vec![(identity::normalise(&user.user_name), identity::ALIAS)];
    out.extend(user.emails.iter().map(|e| (identity::normalise(e), identity::EMAIL)));
    out.extend(user.employee_number.iter().map(|e| (identity::normalise(e), identity::ALIAS)));
    let mut seen = HashSet::new();
    out.retain(|(k, _)| !k.is_empty() && seen.insert(k.clone()));
    out
}

/// Gives the person the identifiers no one holds yet (one held by another
/// person is left with them: the directory import's merge settles that).
async fn claim_identifiers(tx: &mut Tx, person_id: i64, user: &ScimUser) -> anyhow::Result<()> {
    let ids = identifiers(user);
    let keys: Vec<&str> = ids.iter().map(|(k, _)| k.as_str()).collect();
    let owners = identity::owners(tx, &keys).await?;
    for (key, kind) in &ids {
        if !owners.contains_key(key) {
            identity::add(tx, key, person_id, kind).await?;
        }
    }
    Ok(())
}

/// The person a new SCIM user is: the one any of its identifiers names
/// (userName first, then e-mails, then employeeNumber), else a new person
/// whose user id is the userName.
async fn person_for(tx: &mut Tx, user: &ScimUser) -> anyhow::Result<i64> {
    let ids = identifiers(user);
    let keys: Vec<&str> = ids.iter().map(|(k, _)| k.as_str()).collect();
    let owners = identity::owners(tx, &keys).await?;
    if let Some(owner) = keys.iter().find_map(|k| owners.get(*k)) {
        return Ok(owner.person_id);
    }
    let wanted: HashSet<&str> = [user.user_name.as_str()].into_iter().collect();
    let resolved = people::ensure(tx, &wanted, None).await?;
    resolved.ids.get(&user.user_name).copied().context("the new person was not created")
}

/// Writes what SCIM holds about a person; whether active changed.
async fn write(tx: &mut Tx, person_id: i64, user: &ScimUser) -> anyhow::Result<bool> {
    let person = PersonWrite {
        name: user.display_name.as_deref(),
        email: user.emails.first().map(String::as_str),
        department: user.department.as_deref(),
        title: user.title.as_deref(),
    };
    store::write_person(tx, person_id, person).await?;
    claim_identifiers(tx, person_id, user).await?;
    store::set_active(tx, person_id, user.active, now()).await
}

fn user_write(user: &ScimUser) -> UserWrite<'_> {
    UserWrite {
        user_name: &user.user_name,
        external_id: user.external_id.as_deref(),
        given_name: user.given_name.as_deref(),
        family_name: user.family_name.as_deref(),
        employee_number: user.employee_number.as_deref(),
    }
}

/// Provisions a user: links (or creates) the person and writes what SCIM
/// holds about them.
pub async fn create_user(db: &Db, actor: Actor<'_>, user: ScimUser) -> Outcome<UserRow> {
    let mut tx = store::begin_write(db).await?;
    if store::user_name_taken(&mut tx, &user.user_name.to_lowercase(), "").await? {
        tx.rollback().await?;
        return Err(ScimError::uniqueness(format!("a user with userName {} exists", user.user_name)).into());
    }
    let person_id = person_for(&mut tx, &user).await?;
    if store::user_of_person(&mut tx, person_id).await?.is_some() {
        tx.rollback().await?;
        return Err(ScimError::uniqueness("this person is already provisioned under another userName").into());
    }
    let id = new_id();
    write(&mut tx, person_id, &user).await?;
    if !store::insert_user(&mut tx, &id, person_id, user_write(&user), now()).await? {
        tx.rollback().await?;
        return Err(ScimError::uniqueness(format!("a user with userName {} exists", user.user_name)).into());
    }
    let row = user_in(&mut tx, &id).await?;
    tx.commit().await?;
    audit_change(db, actor, "scim.user.create", &format!("person:{person_id}")).await?;
    if !user.active {
        audit_change(db, actor, "scim.user.deactivate", &format!("person:{person_id}")).await?;
    }
    Ok(row)
}

/// Replaces a user (PUT, and PATCH once applied).
pub async fn replace_user(db: &Db, actor: Actor<'_>, id: &str, user: ScimUser) -> Outcome<UserRow> {
    let mut tx = store::begin_write(db).await?;
    let before = user_in(&mut tx, id).await?;
    if store::user_name_taken(&mut tx, &user.user_name.to_lowercase(), id).await? {
        tx.rollback().await?;
        return Err(ScimError::uniqueness(format!("a user with userName {} exists", user.user_name)).into());
    }
    let changed = write(&mut tx, before.person_id, &user).await?;
    if !store::update_user(&mut tx, id, user_write(&user), now()).await? {
        tx.rollback().await?;
        return Err(ScimError::uniqueness(format!("a user with userName {} exists", user.user_name)).into());
    }
    let row = user_in(&mut tx, id).await?;
    tx.commit().await?;
    let target = format!("person:{}", before.person_id);
    audit_change(db, actor, "scim.user.update", &target).await?;
    if changed {
        let action = if user.active { "scim.user.reactivate" } else { "scim.user.deactivate" };
        audit_change(db, actor, action, &target).await?;
    }
    Ok(row)
}

const NO_META: Meta<'static> = Meta { resource_type: "", created: "", last_modified: "", location: "" };

/// Applies a PATCH body to a user.
pub async fn patch_user(db: &Db, actor: Actor<'_>, id: &str, body: &Value) -> Outcome<UserRow> {
    let before = get_user(db, id).await?;
    let mut resource = scim::user_json(id, &scim_user(&before), &NO_META);
    // The one stored name is both `displayName` and `name.formatted`; kept
    // once, so that a patch of either one changes it.
    if let Some(o) = resource.as_object_mut() {
        o.remove("displayName");
    }
    apply_patch(&mut resource, body)?;
    replace_user(db, actor, id, user_from_json(&resource)?).await
}

/// DELETE: the person is deactivated and kept with their history; the
/// SCIM link is removed.
pub async fn delete_user(db: &Db, actor: Actor<'_>, id: &str) -> Outcome<()> {
    let mut tx = store::begin_write(db).await?;
    let row = user_in(&mut tx, id).await?;
    store::set_active(&mut tx, row.person_id, false, now()).await?;
    store::delete_user(&mut tx, id).await?;
    tx.commit().await?;
    audit_change(db, actor, "scim.user.delete", &format!("person:{}", row.person_id)).await?;
    Ok(())
}

/// A group with its members as (user id, userName).
pub type GroupRecord = (GroupRow, Vec<(String, String)>);

fn group_filter(filter: Option<&Filter>) -> Result<GroupFilter<'_>, ScimError> {
    let Some(f) = filter else { return Ok(GroupFilter::All) };
    Ok(match f.attribute.as_str() {
        "displayname" => GroupFilter::DisplayName(&f.value),
        "externalid" => GroupFilter::ExternalId(&f.value),
        "id" => GroupFilter::Id(&f.value),
        other => return Err(ScimError::new(400, Some("invalidFilter"), format!("cannot filter groups by `{other}`"))),
    })
}

async fn groups_in(tx: &mut Tx, filter: GroupFilter<'_>, page: Page) -> anyhow::Result<(i64, Vec<GroupRecord>)> {
    let (total, rows) = store::groups(tx, filter, page.offset() as i64, page.count as i64).await?;
    let ids: Vec<&str> = rows.iter().map(|g| g.id.as_str()).collect();
    let members = store::members(tx, &ids).await?;
    let out = rows
        .into_iter()
        .map(|g| {
            let of: Vec<(String, String)> =
                members.iter().filter(|(gid, _, _)| *gid == g.id).map(|(_, u, n)| (u.clone(), n.clone())).collect();
            (g, of)
        })
        .collect();
    Ok((total, out))
}

/// A page of groups, and how many match.
pub async fn list_groups(db: &Db, filter: Option<&Filter>, page: Page) -> Outcome<(i64, Vec<GroupRecord>)> {
    let lowered = filter.map(|f| Filter {
        attribute: f.attribute.clone(),
        value: if f.attribute == "displayname" { f.value.to_lowercase() } else { f.value.clone() },
    });
    let kind = group_filter(lowered.as_ref())?;
    let mut tx = db.begin().await?;
    let found = groups_in(&mut tx, kind, page).await?;
    tx.rollback().await?;
    Ok(found)
}

async fn group_in(tx: &mut Tx, id: &str) -> Outcome<GroupRecord> {
    let (_, mut rows) = groups_in(tx, GroupFilter::Id(id), Page { start_index: 1, count: 1 }).await?;
    rows.pop().ok_or_else(|| ScimError::not_found("Group", id).into())
}

pub async fn get_group(db: &Db, id: &str) -> Outcome<GroupRecord> {
    let mut tx = db.begin().await?;
    let found = group_in(&mut tx, id).await;
    tx.rollback().await?;
    found
}

/// Writes a group (new or not) after checking its name.
async fn write_group(db: &Db, actor: Actor<'_>, id: &str, group: ScimGroup, new: bool) -> Outcome<GroupRecord> {
    let mut tx = store::begin_write(db).await?;
    if !new {
        group_in(&mut tx, id).await?;
    }
    if store::group_name_taken(&mut tx, &group.display_name.to_lowercase(), id).await? {
        tx.rollback().await?;
        return Err(ScimError::uniqueness(format!("a group named {} exists", group.display_name)).into());
    }
    // Ids are the server's: one no user has can never name one, so it is
    // left out rather than refused (clients that add members before they
    // know the outcome of a user's creation go on working).
    let wanted: Vec<&str> = group.members.iter().map(String::as_str).collect();
    let known = store::existing_users(&mut tx, &wanted).await?;
    let members: Vec<String> = group.members.into_iter().filter(|m| known.contains(m)).collect();
    let external_id = group.external_id.as_deref();
    if !store::write_group(&mut tx, id, &group.display_name, external_id, &members, now()).await? {
        tx.rollback().await?;
        return Err(ScimError::uniqueness(format!("a group named {} exists", group.display_name)).into());
    }
    let record = group_in(&mut tx, id).await?;
    tx.commit().await?;
    let action = if new { "scim.group.create" } else { "scim.group.update" };
    audit_change(db, actor, action, &format!("scim_group:{id}")).await?;
    Ok(record)
}

pub async fn create_group(db: &Db, actor: Actor<'_>, group: ScimGroup) -> Outcome<GroupRecord> {
    write_group(db, actor, &new_id(), group, true).await
}

pub async fn replace_group(db: &Db, actor: Actor<'_>, id: &str, group: ScimGroup) -> Outcome<GroupRecord> {
    write_group(db, actor, id, group, false).await
}

/// The group as SCIM shows it.
pub fn scim_group(record: &GroupRecord) -> ScimGroup {
    ScimGroup {
        display_name: record.0.display_name.clone(),
        external_id: record.0.external_id.clone(),
        members: record.1.iter().map(|(id, _)| id.clone()).collect(),
    }
}

/// Applies a PATCH body to a group.
pub async fn patch_group(db: &Db, actor: Actor<'_>, id: &str, body: &Value) -> Outcome<GroupRecord> {
    let before = get_group(db, id).await?;
    let members: Vec<(String, String, String)> =
        before.1.iter().map(|(u, n)| (u.clone(), n.clone(), String::new())).collect();
    let mut resource = scim::group_json(id, &scim_group(&before), &members, &NO_META);
    apply_patch(&mut resource, body)?;
    replace_group(db, actor, id, group_from_json(&resource)?).await
}

pub async fn delete_group(db: &Db, actor: Actor<'_>, id: &str) -> Outcome<()> {
    let mut tx = store::begin_write(db).await?;
    if !store::delete_group(&mut tx, id).await? {
        tx.rollback().await?;
        return Err(ScimError::not_found("Group", id).into());
    }
    tx.commit().await?;
    audit_change(db, actor, "scim.group.delete", &format!("scim_group:{id}")).await?;
    Ok(())
}
