//! Evaluating the activity model over stored data for an as-of date.

use anyhow::{Context, Result};
use chrono::NaiveDate;

use crate::domain::calendar::{Window, local_day};
use crate::domain::dataset::{Dataset, Event};
use crate::domain::evaluation::{Evaluation, PersonResult, evaluate};
use crate::domain::profile::Profile;
use crate::domain::settings::OrgSettings;
use crate::storage::{Db, dataset};

/// An evaluation with the data it was computed from.
pub struct Computed {
    pub data: Dataset,
    /// Database ids of `data.people`, index for index.
    pub person_ids: Vec<i64>,
    pub profile: Profile,
    pub evaluation: Evaluation,
    /// The span of event time `data` was loaded for, `[from, to)`.
    pub span: (i64, i64),
}

impl Computed {
    /// A person's index in `data.people` and their result, by `user_id`
    /// (people are sorted by it; results are in people order).
    pub fn result_of(&self, user_id: &str) -> Option<(usize, &PersonResult)> {
        let index = self.data.people.binary_search_by(|p| p.user_id.as_str().cmp(user_id)).ok()?;
        let i = self.evaluation.results.binary_search_by_key(&index, |r| r.person).ok()?;
        Some((index, &self.evaluation.results[i]))
    }

    /// Drops the events once everything derived from them is computed:
    /// they are most of the memory (about 1 GB at 50,000 people), and only
    /// the person page needs some of them again ([`person_events`]).
    pub fn drop_events(&mut self) {
        self.data.events = Vec::new();
    }
}

/// The events of the person at `index` over the span the evaluation was
/// computed from, in time order.
pub async fn person_events(db: &Db, computed: &Computed, index: usize) -> Result<Vec<Event>> {
    let id = *computed.person_ids.get(index).context("no such person")?;
    let (from, to) = computed.span;
    dataset::person_events(db, id, index as u32, from, to).await.context("dataset::person_events")
}

/// The latest day with data, in the organisation's zone; today without data.
pub async fn latest_data_day(db: &Db, settings: &OrgSettings) -> Result<NaiveDate> {
    Ok(match dataset::last_event_ts(db).await.context("dataset::last_event_ts")? {
        Some(ts) => local_day(settings.timezone, ts),
        None => chrono::Utc::now().with_timezone(&settings.timezone).date_naive(),
    })
}

/// The settings' profile over `window_days` (default: its own window), with
/// custom event kinds resolved to their stored ids.
pub async fn profile_for(db: &Db, settings: &OrgSettings, window_days: Option<u32>) -> Result<Profile> {
    let mut profile = settings.profile.clone();
    if let Some(days) = window_days {
        anyhow::ensure!((1..=366).contains(&days), "the window must be 1 to 366 days, not {days}");
        profile.window_days = days;
    }
    if !profile.kinds.custom_mappings().is_empty() {
        let names = dataset::kind_names(db).await.context("dataset::kind_names")?;
        profile.kinds.resolve(|name| names.get(name).map(|id| crate::storage::events::kind_of(*id)));
    }
    Ok(profile)
}

/// Evaluates every person as of a date (default: the latest data day), over
/// `window_days` (default: the profile's window).
pub async fn compute(
    db: &Db,
    settings: &OrgSettings,
    as_of: Option<NaiveDate>,
    window_days: Option<u32>,
) -> Result<Computed> {
    compute_with_history(db, settings, as_of, window_days, 0).await
}

/// Like `compute`, with the dataset reaching `history_days` further back, for
/// evaluations as of earlier dates (week-by-week series).
pub async fn compute_with_history(
    db: &Db,
    settings: &OrgSettings,
    as_of: Option<NaiveDate>,
    window_days: Option<u32>,
    history_days: u32,
) -> Result<Computed> {
    let as_of = match as_of {
        Some(d) => d,
        None => latest_data_day(db, settings).await?,
    };
    let profile = profile_for(db, settings, window_days).await?;
    let window = Window::new(as_of, profile.window_days, settings.timezone);
    let (from, to) = Dataset::needed_span(&window);
    let from = from - i64::from(history_days) * 86_400 - 3 * 3600;
    let (data, person_ids) = dataset::load(db, from, to).await.context("dataset::load")?;
    let evaluation = evaluate(&data, &window, &profile);
    Ok(Computed { data, person_ids, profile, evaluation, span: (from, to) })
}
