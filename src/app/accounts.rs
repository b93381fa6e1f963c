//! Accounts: creating them (set-up page, `user add`, the accounts page) and
//! checking passwords. Hashes are argon2id.

use anyhow::{Result, anyhow};
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
    match accounts::create(db, &email, name.trim(), role, &hash).await? {
        Some(id) => {
            audit::record(db, by, "account.create", Some(&format!("account:{id}")), Some(role.as_str())).await?;
            Ok(Ok(id))
        }
        None => Ok(Err(CreateError::Taken)),
    }
}
