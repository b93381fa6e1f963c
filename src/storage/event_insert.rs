//! Storing an import's events: each backend's bulk path (`sqlite_fast`,
//! `postgres_fast`) behind one call.

use anyhow::Result;

use super::Tx;
use super::events::NewEvent;

/// Stores a batch of events, skipping duplicates (spec section 1): the same
/// `event_id` as a stored event, or, where either has no `event_id`, the same
/// person, time, kind and channel. The batch must already be free of
/// duplicates among itself. Returns how many rows were added.
pub async fn insert_batch(tx: &mut Tx, import_id: i64, batch: &[NewEvent]) -> Result<u64> {
    match tx {
        Tx::Postgres(t) => super::postgres_fast::insert_events(t, import_id, batch).await,
        Tx::Sqlite(t) => super::sqlite_fast::insert_events(t, import_id, batch).await,
    }
}
