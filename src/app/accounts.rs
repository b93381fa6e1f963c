//! Accounts: creating them (set-up page, `user add`, the accounts page) and
//! checking passwords. Hashes are argon2id.

use anyhow::{Context, Result, anyhow};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::domain::account::{Role, check_password, parse_email};
use crate::storage::{Db, accounts, audit};

pub fn hash_password(password: &str) -> Result<String> {
    Ok(Argon2::default().hash_password(password.as_bytes()).map_err(|e| anyhow!("hashing: {e}"))?.to_string())
}

/// Checks a password against a stored hash; false for a malformed hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// [`hash_password`] on a blocking thread: argon2 takes tens of
/// milliseconds of CPU, which must not stall the server's other requests.
pub async fn hash_password_off_thread(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&password)).await?
}

/// [`verify_password`] on a blocking thread (see [`hash_password_off_thread`]).
pub async fn verify_password_off_thread(password: &str, hash: &str) -> bool {
    let (password, hash) = (password.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
}

/// Why an account could not be created: a catalog key for the message.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateError {
    Email(String),
    Password(&'static str),
    Taken,
}

pub async fn create(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
    by: Option<(i64, &str)>,
) -> Result<Result<i64, CreateError>> {
    let email = match parse_email(email) {
        Ok(e) => e,
        Err(m) => return Ok(Err(CreateError::Email(m))),
    };
    if let Err(key) = check_password(password) {
        return Ok(Err(CreateError::Password(key)));
    }
    let hash = hash_password_off_thread(password).await?;
    match accounts::create(db, &email, name.trim(), role, &hash).await.context("accounts::create")? {
        Some(id) => {
            audit::record(db, by, "account.create", Some(&format!("account:{id}")), Some(role.as_str()))
                .await
                .context("audit::record")?;
            Ok(Ok(id))
        }
        None => Ok(Err(CreateError::Taken)),
    }
}

/// How long the link of an invitation to create an account works.
pub const INVITATION_DAYS: i64 = 7;

/// An invitation's message: subject and body, the body with `{link}` where
/// the one-time link goes.
pub struct InvitationText {
    pub subject: String,
    pub body: String,
}

/// Invites someone to create an account with `role`: records the
/// invitation and queues a message with a one-time link (derived from the
/// links' secret and the invitation's id; only its hash is stored, the
/// queued message keeps a placeholder). Returns the invitation's id.
#[allow(clippy::too_many_arguments)]
pub async fn invite(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    text: &InvitationText,
    links_base: &str,
    from: &str,
    by: Option<(i64, &str)>,
    now: i64,
) -> Result<Result<i64, CreateError>> {
    use super::secrets::{link_placeholder, link_token, random_token, token_hash};
    use crate::storage::{account_invitations, outbox};
    let email = match parse_email(email) {
        Ok(e) => e,
        Err(m) => return Ok(Err(CreateError::Email(m))),
    };
    if accounts::find_for_login(db, &email).await.context("accounts::find_for_login")?.is_some() {
        return Ok(Err(CreateError::Taken));
    }
    let mut tx = db.begin().await?;
    let expires = now + INVITATION_DAYS * 86_400;
    let by_id = by.map(|(id, _)| id);
    let stand_in = token_hash(&random_token());
    let id = account_invitations::insert(&mut tx, &email, name.trim(), role.as_str(), &stand_in, by_id, now, expires)
        .await?;
    account_invitations::set_token_hash(&mut tx, id, &token_hash(&link_token("a", id)))
        .await
        .context("account_invitations::set_token_hash")?;
    let link = format!("{}/welcome/{}", links_base.trim_end_matches('/'), link_placeholder("a", id));
    let message = outbox::NewMessage {
        kind: "account_invitation".into(),
        to_addr: email.clone(),
        subject: text.subject.clone(),
        body: text.body.replace("{link}", &link),
        message_id: super::messages::message_id(from, "account"),
        not_before: now,
        expires_at: Some(expires),
        ..outbox::NewMessage::default()
    };
    outbox::enqueue(&mut tx, &message, now).await.context("outbox::enqueue")?;
    tx.commit().await?;
    audit::record(db, by, "account.invite", Some(&format!("account_invitation:{id}")), Some(role.as_str()))
        .await
        .context("audit::record")?;
    Ok(Ok(id))
}

/// Why an invitation's link did not create an account.
#[derive(Debug, PartialEq, Eq)]
pub enum AcceptError {
    /// Unknown, used, withdrawn or expired.
    Invalid,
    Password(&'static str),
    Taken,
}

/// The open invitation a link's token names, if any.
pub async fn invitation_of(
    db: &Db,
    token: &str,
    now: i64,
) -> Result<Option<crate::storage::account_invitations::AccountInvitation>> {
    if !super::secrets::looks_like_token(token) {
        return Ok(None);
    }
    let found = crate::storage::account_invitations::by_token_hash(db, &super::secrets::token_hash(token)).await?;
    Ok(found.filter(|i| i.used_at.is_none() && i.expires_at > now))
}

/// Creates the invited account with the password its owner chose, using the
/// link once. Returns the account's id.
pub async fn accept(db: &Db, token: &str, password: &str, now: i64) -> Result<Result<i64, AcceptError>> {
    use crate::storage::account_invitations;
    let Some(inv) = invitation_of(db, token, now).await? else { return Ok(Err(AcceptError::Invalid)) };
    if let Err(key) = check_password(password) {
        return Ok(Err(AcceptError::Password(key)));
    }
    let role = Role::parse(&inv.role).ok_or_else(|| anyhow!("an invitation names an unknown role: {}", inv.role))?;
    let hash = hash_password_off_thread(password).await?;
    let mut tx = db.begin().await?;
    let Some(id) =
        accounts::create_in(&mut tx, &inv.email, &inv.name, role, &hash).await.context("accounts::create_in")?
    else {
        tx.rollback().await?;
        return Ok(Err(AcceptError::Taken));
    };
    if !account_invitations::use_once(&mut tx, inv.id, Some(id), now).await.context("account_invitations::use_once")? {
        tx.rollback().await?;
        return Ok(Err(AcceptError::Invalid));
    }
    tx.commit().await?;
    audit::record(db, Some((id, &inv.email)), "account.create", Some(&format!("account:{id}")), Some(role.as_str()))
        .await?;
    Ok(Ok(id))
}
