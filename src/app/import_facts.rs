//! Importing aggregated exports (Teams, Slack, Feishu, Google Chat): each
//! file is all-or-nothing. A fact is keyed by person, source, report, period
//! and refresh date: the same file twice changes nothing, a corrected
//! re-download replaces the values it corrects (counted as replaced), and
//! no report or period overwrites another.

use std::collections::HashSet;

use super::import::{ImportError, note_failure, spool_records, transactional};
use crate::domain::facts::PeriodFact;
use crate::ingest::source::Input;
use crate::ingest::vendor::{VendorFormat, VendorOptions, VendorReader};
use crate::storage::imports::{self, ImportSummary};
use crate::storage::{Db, Tx, facts as fact_store, now, people};

const BATCH: usize = 2_000;

crate::spool_as_json!(PeriodFact);

/// Imports one vendor export; `format` None detects it from the content.
pub async fn import_facts(
    db: &Db,
    input: Input,
    format: Option<VendorFormat>,
    options: &VendorOptions,
) -> Result<ImportSummary, ImportError> {
    let file = input.name.clone();
    let encoding = input.encoding_name();
    let mut reader = match VendorReader::new(input, format, options) {
        Ok(r) => r,
        Err(e) => {
            let _ = imports::record_failure(db, "vendor", &file, now(), &e.to_string()).await;
            return Err(e.into());
        }
    };
    let source = reader.format().source();
    let label = source.as_str();
    let file_name = file.clone();
    // The whole file is read before the transaction opens: no other writer
    // waits on parsing.
    let started_at = now();
    let spooled = spool_records(&file, reader.by_ref(), None);
    note_failure(db, label, &file, started_at, &spooled).await;
    let spool = spooled?;
    let header_line = reader.header_line();
    let date_order = reader.date_order().map(|o| o.as_str().to_string());
    transactional(db, label, &file, async move |tx: &mut Tx, import_id: i64| {
        let storage = |e: anyhow::Error| ImportError::storage(&file_name, e);
        let mut summary =
            ImportSummary { source: label.to_string(), file_name: file_name.clone(), ..Default::default() };
        summary.details.encoding = encoding;
        // Ids matched by e-mail or alias, counted once however many rows name them.
        let mut by_alias: HashSet<String> = HashSet::new();
        for batch in spool.batches(BATCH).map_err(storage)? {
            let batch: Vec<PeriodFact> = batch.map_err(storage)?;
            summary.rows_read += batch.len() as u64;
            let ids: HashSet<&str> = batch.iter().map(|f| f.user_id.as_str()).collect();
            let found = people::ensure(tx, &ids, None).await.map_err(storage)?;
            summary.people_created += found.created;
            by_alias.extend(found.by_alias);
            let known = found.ids;
            for f in &batch {
                let first = f.start.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
                summary.first_ts = first.map(|t| summary.first_ts.map_or(t, |s| s.min(t)));
                let last = f.end.and_hms_opt(23, 59, 59).map(|t| t.and_utc().timestamp());
                summary.last_ts = last.map(|t| summary.last_ts.map_or(t, |s| s.max(t)));
            }
            let rows: Vec<(i64, PeriodFact)> =
                batch.into_iter().filter_map(|f| known.get(&f.user_id).map(|id| (*id, f))).collect();
            let done = fact_store::upsert(tx, import_id, source, source.report(), &rows).await.map_err(storage)?;
            // New facts are counted as "events added", the same facts again
            // as "duplicates" ("facts already known"), corrected ones apart.
            summary.events_added += done.added;
            summary.duplicates_skipped += done.unchanged;
            summary.details.facts_replaced += done.replaced;
        }
        summary.details.people_matched_by_alias = by_alias.len() as u64;
        summary.details.header_line = header_line;
        summary.details.date_order = date_order;
        Ok(summary)
    })
    .await
}
