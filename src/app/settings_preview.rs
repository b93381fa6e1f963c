//! What a settings change would do before it is saved: the same data
//! evaluated under the current and the proposed settings, and who would
//! move from which tier to which.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::app::evaluate::{Computed, compute};
use crate::domain::evaluation::Summary;
use crate::domain::settings::OrgSettings;
use crate::domain::tier::{self, Tier};
use crate::storage::Db;

/// The latest evaluation under both settings.
pub struct TierMoves {
    /// `(from, to, people)`, most people first; `None`: not listed.
    pub moves: Vec<(Option<Tier>, Option<Tier>, u32)>,
    /// People whose tier changes.
    pub moved: u32,
    /// People listed in either evaluation.
    pub listed: usize,
    pub before: Summary,
    pub after: Summary,
    /// The as-of dates (they differ when the change moves the latest day
    /// with data, e.g. a new time zone).
    pub as_of_before: NaiveDate,
    pub as_of_after: NaiveDate,
    pub window_days: u32,
}

fn tiers_by_person(c: &Computed) -> BTreeMap<i64, Tier> {
    c.evaluation.results.iter().map(|r| (c.person_ids[r.person], r.tier)).collect()
}

/// Evaluates the data under `current` and under `proposed`.
pub async fn preview(db: &Db, current: &OrgSettings, proposed: &OrgSettings) -> Result<TierMoves> {
    let before = compute(db, current, None, None).await.context("evaluating under the current settings")?;
    let after = compute(db, proposed, None, None).await.context("evaluating under the proposed settings")?;
    let (tiers_before, tiers_after) = (tiers_by_person(&before), tiers_by_person(&after));
    let moves = tier::moves(&tiers_before, &tiers_after);
    Ok(TierMoves {
        moved: moves.iter().map(|m| m.2).sum(),
        moves,
        listed: tiers_before.len().max(tiers_after.len()),
        before: before.evaluation.summary(&before.profile),
        after: after.evaluation.summary(&after.profile),
        as_of_before: before.evaluation.window.as_of,
        as_of_after: after.evaluation.window.as_of,
        window_days: after.evaluation.window.days,
    })
}
