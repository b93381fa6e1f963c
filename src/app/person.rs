//! One person's page: what is read for it besides the engine's figures,
//! and the audit entry that records each visit.

use anyhow::{Context, Result};

use crate::storage::directory::{self, DirectoryEntry};
use crate::storage::person_history::{self, HistoryRow};
use crate::storage::{Db, audit, identity};

/// What the person page shows from storage.
pub struct PersonRecord {
    /// Directory details and attributes (empty when the directory has none).
    pub entry: DirectoryEntry,
    /// The person's other identifiers (e-mails, aliases) and their kinds.
    pub known_as: Vec<(String, String)>,
    /// The person's part in studies, for roles that run them.
    pub history: Option<Vec<HistoryRow>>,
}

/// Reads a person's record for `viewer` (account id and e-mail) and
/// records the visit in the audit log.
pub async fn open(db: &Db, viewer: (i64, &str), person_id: i64, with_history: bool) -> Result<PersonRecord> {
    let entry =
        directory::get(db, person_id).await.context("reading the person's directory entry")?.unwrap_or_default();
    audit::record_view(db, viewer, "person.view", &format!("person:{person_id}"))
        .await
        .context("recording the visit in the audit log")?;
    let known_as = identity::known_as(db, person_id).await.context("reading the person's other identifiers")?;
    let history = match with_history {
        true => Some(person_history::of_person(db, person_id).await.context("reading the person's study history")?),
        false => None,
    };
    Ok(PersonRecord { entry, known_as, history })
}

/// The user id of the person an e-mail address or alias names, if any.
pub async fn user_id_of(db: &Db, identifier: &str) -> Result<Option<String>> {
    identity::user_id_of(db, identifier).await.context("looking up an e-mail address or alias")
}
