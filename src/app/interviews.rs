//! Saving an interview's record: only the study's own codes are kept, the
//! root cause is one of them (by key) or not judged yet; then the versioned
//! save, whose consent rule and stale-save decision are the domain's
//! (`domain::interview`).

use anyhow::{Context, Result};

use crate::domain::interview::Record;
use crate::storage::Db;
use crate::storage::interviews::{self, Saved};

/// Saves `record` (made from `base_version`) for an interview of
/// `study_id`, after dropping what is not the study's: `record` is left as
/// it was saved, for showing beside a conflict.
pub async fn save(
    db: &Db,
    study_id: i64,
    interview_id: i64,
    base_version: i64,
    record: &mut Record,
    by: i64,
    now: i64,
) -> Result<Saved> {
    let codes = interviews::codes(db, study_id).await.context("interviews::codes")?;
    record.codes.retain(|id| codes.iter().any(|c| c.id == *id));
    if !codes.iter().any(|c| c.key == record.root_cause) {
        record.root_cause.clear();
    }
    interviews::save(db, interview_id, base_version, record, by, now).await
}
