//! Retention of raw events (`retention.days`): deleting those older than
//! the horizon in short batches, auditing each run, and telling a page
//! whether its window can still be measured from raw events.

use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::domain::calendar::{Window, local_day};
use crate::domain::retention::{DELETED_BEFORE_KEY, cutoff, earliest_measurable, measurable};
use crate::domain::settings::OrgSettings;
use crate::storage::{Db, audit, retention as store, settings as settings_store};

/// Events deleted per transaction: short enough that other writers (an
/// import, a sign-in) wait at most a moment, even on SQLite's one writer.
pub const DEFAULT_BATCH: i64 = 50_000;

/// How often `serve` applies the setting.
pub const EVERY: Duration = Duration::from_secs(6 * 3600);

/// The days kept, when the setting is on.
pub async fn days(db: &Db) -> Result<Option<u32>> {
    let map = super::settings::stored(db).await?;
    Ok(map.get("retention.days").and_then(|v| v.parse().ok()))
}

/// The instant before which raw events were deleted, if a run ever
/// deleted (or started deleting) any.
pub async fn deleted_before(db: &Db) -> Result<Option<i64>> {
    Ok(settings_store::all(db).await?.get(DELETED_BEFORE_KEY).and_then(|v| v.parse().ok()))
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOutcome {
    /// The setting in force (None: off, nothing was done).
    pub days: Option<u32>,
    /// Events before this local day were deleted.
    pub horizon: Option<NaiveDate>,
    pub deleted: u64,
    pub batches: u32,
}

/// Applies the setting: deletes counted raw events older than the
/// horizon, `batch` at a time with `pause` between batches, and audits the
/// run (with `actor`, or as the system) when it deleted anything.
pub async fn run(
    db: &Db,
    actor: Option<(i64, &str)>,
    batch: i64,
    pause: Duration,
    today: Option<NaiveDate>,
) -> Result<RunOutcome> {
    let Some(kept) = days(db).await? else { return Ok(RunOutcome::default()) };
    let settings = super::settings::load(db).await?;
    let today = today.unwrap_or_else(|| chrono::Utc::now().with_timezone(&settings.timezone).date_naive());
    let before = cutoff(today, kept, settings.timezone);
    let mut outcome =
        RunOutcome { days: Some(kept), horizon: Some(local_day(settings.timezone, before)), ..RunOutcome::default() };
    if !store::any_before(db, before).await.context("retention::any_before")? {
        return Ok(outcome);
    }
    // The horizon is recorded before the first deletion, so a run stopped
    // midway still marks older windows as no longer measurable.
    if deleted_before(db).await?.is_none_or(|old| old < before) {
        settings_store::set(db, DELETED_BEFORE_KEY, &before.to_string()).await?;
    }
    loop {
        let n = store::delete_batch(db, before, batch.max(1)).await.context("retention::delete_batch")?;
        if n == 0 {
            break;
        }
        outcome.deleted += n;
        outcome.batches += 1;
        tokio::time::sleep(pause).await;
    }
    let detail = audit::detail(
        "retention.audit.detail",
        &[
            ("n", outcome.deleted.to_string()),
            ("batches", outcome.batches.to_string()),
            ("days", kept.to_string()),
            ("date", outcome.horizon.map(|d| d.to_string()).unwrap_or_default()),
        ],
    );
    audit::record(db, actor, "retention.run", None, Some(&detail)).await?;
    Ok(outcome)
}

/// Runs the retention every `every`, for `serve`: one instance a period
/// (the first to claim it), whichever instances have the worker.
pub async fn background(db: Db, every: Duration) {
    loop {
        let now = chrono::Utc::now().timestamp();
        let period = i64::try_from(every.as_secs()).unwrap_or(i64::MAX / 2);
        let result = match store::claim(&db, now, now - period + 60).await {
            Ok(true) => run(&db, None, DEFAULT_BATCH, Duration::from_millis(50), None).await,
            Ok(false) => Ok(RunOutcome::default()),
            Err(e) => Err(e),
        };
        match result {
            Ok(o) if o.deleted > 0 => tracing::info!(deleted = o.deleted, batches = o.batches, "retention applied"),
            Ok(_) => {}
            Err(e) => tracing::warn!("retention: {e:#}"),
        }
        tokio::time::sleep(every).await;
    }
}

/// The earliest as-of date a window of `window_days` can be measured at
/// (None: nothing was deleted): series drop the weeks before it.
pub async fn earliest(db: &Db, window_days: u32, tz: chrono_tz::Tz) -> Result<Option<NaiveDate>> {
    Ok(deleted_before(db).await?.map(|horizon| earliest_measurable(horizon, window_days, tz)))
}

/// A window that raw events can no longer measure: what to say instead of
/// its numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotMeasurable {
    /// The setting in force (None: turned off since the deletion).
    pub days: Option<u32>,
    /// The first local day whose events are kept.
    pub kept_from: NaiveDate,
    /// The earliest as-of date measurable with this window.
    pub earliest: NaiveDate,
}

impl NotMeasurable {
    /// In words, for the command line and the API (pages use the catalog).
    pub fn describe(&self) -> String {
        let days = self.days.map_or_else(String::new, |d| format!(" than {d} days"));
        format!(
            "not measurable from this source: raw events older{days} (before {}) were deleted by the retention \
             setting; the earliest as-of date measurable with this window is {}",
            self.kept_from, self.earliest
        )
    }
}

/// Whether the window of `window_days` (default: the profile's) ending at
/// `as_of` (default: the latest day with data) starts before the horizon.
/// One small query while nothing was ever deleted.
pub async fn check(db: &Db, as_of: Option<NaiveDate>, window_days: Option<u32>) -> Result<Option<NotMeasurable>> {
    let mut map = settings_store::all(db).await?;
    let Some(horizon) = map.get(DELETED_BEFORE_KEY).and_then(|v| v.parse::<i64>().ok()) else { return Ok(None) };
    let kept = map.get("retention.days").and_then(|v| v.parse().ok());
    map.retain(|k, _| !k.starts_with(super::settings::INTERNAL_PREFIX));
    let settings = OrgSettings::from_map(&map).map_err(|e| anyhow::anyhow!(e))?;
    let as_of = match as_of {
        Some(d) => d,
        None => super::evaluate::latest_data_day(db, &settings).await?,
    };
    let days = window_days.unwrap_or(settings.profile.window_days);
    let window = Window::new(as_of, days, settings.timezone);
    if measurable(&window, Some(horizon)) {
        return Ok(None);
    }
    Ok(Some(NotMeasurable {
        days: kept,
        kept_from: local_day(settings.timezone, horizon),
        earliest: earliest_measurable(horizon, days, settings.timezone),
    }))
}
