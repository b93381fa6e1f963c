//! Results computed once and stored: a snapshot is every listed person's
//! result for one as-of date and window, with the weeks leading up to it,
//! under one version of the data and settings. It is computed when data or
//! settings change (the default view, in the background) or when a page
//! first asks for another date, and stored whole in `result_snapshots`, so a
//! restart reads it instead of evaluating again.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::evaluate::{Computed, compute_with_history, latest_data_day, profile_for};
use super::settings::DATA_VERSION_KEY;
use crate::domain::activity_series::{active_in_last, daily_active, weekly_evaluations};
use crate::domain::adoption::default_rollouts;
use crate::domain::calendar::{EARLIEST_AS_OF, LATEST_AS_OF, Window};
use crate::domain::coverage::DepthGap;
use crate::domain::dataset::{Dataset, Person};
use crate::domain::evaluation::{Coverage, Evaluation, PersonResult, Summary};
use crate::domain::profile::{OrgIndicator, org_indicator_key};
use crate::domain::settings::OrgSettings;
use crate::domain::tier::Tier;
use crate::storage::results::{self as store, ResultKey};
use crate::storage::{Db, now, rollouts, settings as settings_store};

/// Weeks shown in week-by-week series.
pub const WEEKS: u32 = 12;

/// An evaluation with the weeks leading up to it. Holds people and their
/// results, not their events (see `Computed::drop_events`).
pub struct Snapshot {
    pub computed: Computed,
    pub settings: OrgSettings,
    /// One entry per week, oldest first, the last as of the snapshot's date.
    pub weekly: Vec<WeekPoint>,
    /// People active on each day of the window.
    pub daily_active: Vec<u32>,
    /// People active in the last 7 days, and in the last 30 (or the window).
    pub weekly_active: u32,
    pub monthly_active: u32,
    /// When it was computed (unix seconds).
    pub computed_at: i64,
}

/// Summaries as of the end of one week.
pub struct WeekPoint {
    pub as_of: NaiveDate,
    pub overall: Summary,
    /// By department (people without one under `None`).
    pub departments: BTreeMap<Option<String>, Summary>,
}

/// What a snapshot is asked for: a date, a window and a number of weeks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct View {
    pub as_of: NaiveDate,
    pub window: u32,
    pub weeks: u32,
}

/// The data and settings as they are now.
pub struct Current {
    /// A SHA-256 of the data version and every setting (no setting is
    /// stored with results in clear).
    pub version: String,
    pub settings: OrgSettings,
    /// When the data last changed (unix seconds), from the data version.
    pub data_changed_at: Option<i64>,
}

pub async fn current(db: &Db) -> Result<Current> {
    let stored = settings_store::all(db).await.context("settings::all")?;
    let text = stored.iter().map(|(k, v)| format!("{k}={v};")).collect::<String>();
    let version = super::secrets::hex(&Sha256::digest(text.as_bytes()));
    let data_changed_at =
        stored.get(DATA_VERSION_KEY).and_then(|v| v.split('-').next()).and_then(|t| t.parse::<i64>().ok());
    let settings = OrgSettings::from_map(
        &stored
            .iter()
            .filter(|(k, _)| k.as_str() != DATA_VERSION_KEY && !k.starts_with('_'))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
    .map_err(anyhow::Error::msg)?;
    Ok(Current { version, settings, data_changed_at })
}

/// The view asked for: the latest data day and the profile's window unless
/// given, weeks within 1..=104.
pub async fn view(
    db: &Db,
    settings: &OrgSettings,
    as_of: Option<NaiveDate>,
    window: Option<u32>,
    weeks: u32,
) -> Result<View> {
    let as_of = match as_of {
        Some(d) => d,
        None => latest_data_day(db, settings).await?,
    };
    Ok(View {
        as_of: as_of.clamp(EARLIEST_AS_OF, LATEST_AS_OF),
        window: window.unwrap_or(settings.profile.window_days).clamp(1, 366),
        weeks: weeks.clamp(1, 104),
    })
}

/// Evaluates a view: every event of the window and its weeks is read, the
/// series derived, and the events dropped.
pub async fn compute(db: &Db, settings: &OrgSettings, view: View) -> Result<Snapshot> {
    let history = 7 * (view.weeks - 1);
    let mut computed = compute_with_history(db, settings, Some(view.as_of), Some(view.window), history).await?;
    let latest = Window::new(view.as_of, view.window, settings.timezone);
    let weekly = weekly_evaluations(&computed.data, &latest, &computed.profile, view.weeks)
        .into_iter()
        .map(|e| WeekPoint {
            as_of: e.window.as_of,
            overall: e.summary(&computed.profile),
            departments: e
                .by_department(&computed.data, &computed.profile)
                .into_iter()
                .map(|(d, s)| (d.map(str::to_string), s))
                .collect(),
        })
        .collect();
    let window = &computed.evaluation.window;
    let daily_active = daily_active(&computed.data, window);
    let weekly_active = active_in_last(&computed.data, window, 7);
    let monthly_active = active_in_last(&computed.data, window, 30.min(window.days));
    computed.drop_events();
    Ok(Snapshot {
        computed,
        settings: settings.clone(),
        weekly,
        daily_active,
        weekly_active,
        monthly_active,
        computed_at: now(),
    })
}

/// The longest adoption history, in weeks.
pub const MAX_ADOPTION_WEEKS: u32 = 52;

/// Each department's rollout date (set by hand, else from the data: the
/// flag says so) and the weeks the adoption page needs to reach back to the
/// earliest of them.
pub async fn adoption_weeks(db: &Db, snapshot: &Snapshot) -> Result<(u32, BTreeMap<String, (NaiveDate, bool)>)> {
    let tz = snapshot.settings.timezone;
    let mut dates: BTreeMap<String, (NaiveDate, bool)> =
        default_rollouts(&snapshot.computed.data.people, tz).into_iter().map(|(d, date)| (d, (date, true))).collect();
    for (dept, date) in rollouts::all(db).await.context("rollouts::all")? {
        dates.insert(dept, (date, false));
    }
    let as_of = snapshot.computed.evaluation.window.as_of;
    let earliest = dates.values().map(|(d, _)| *d).min().unwrap_or(as_of);
    let weeks = (((as_of - earliest).num_days().max(0) / 7) as u32 + 1).min(MAX_ADOPTION_WEEKS);
    Ok((weeks, dates))
}

fn key(version: &str, view: View) -> ResultKey {
    ResultKey {
        version: version.to_string(),
        as_of: view.as_of.to_string(),
        window_days: i64::from(view.window),
        weeks: i64::from(view.weeks),
    }
}

/// Stores a snapshot under the current version (`is_default`: the view
/// pages show by default, served while the next one is computed).
pub async fn store(db: &Db, current: &Current, view: View, is_default: bool, snapshot: &Snapshot) -> Result<()> {
    let payload = encode(snapshot)?;
    let key = key(&current.version, view);
    store::store(db, &key, is_default, snapshot.computed_at, current.data_changed_at, &payload)
        .await
        .context("results::store")
}

/// The snapshot stored for a view under the current version, if any.
pub async fn stored(db: &Db, current: &Current, view: View) -> Result<Option<Snapshot>> {
    let Some(row) = store::find(db, &key(&current.version, view)).await.context("results::find")? else {
        return Ok(None);
    };
    Ok(Some(decode(db, &current.settings, &row.payload, row.computed_at).await?))
}

/// The latest stored default view (of any version): its id and version.
pub async fn latest_default(db: &Db) -> Result<Option<(i64, String)>> {
    store::latest_default_id(db).await.context("results::latest_default_id")
}

/// A stored snapshot by id, read with today's settings.
pub async fn stored_by_id(db: &Db, settings: &OrgSettings, id: i64) -> Result<Option<Snapshot>> {
    let Some(row) = store::by_id(db, id).await.context("results::by_id")? else { return Ok(None) };
    Ok(Some(decode(db, settings, &row.payload, row.computed_at).await?))
}

/// What is stored of a snapshot: the people and results, and the series.
/// The profile, settings and window are not: they follow from the version.
#[derive(Serialize, Deserialize)]
struct Payload {
    as_of: NaiveDate,
    window_days: u32,
    span: (i64, i64),
    people: Vec<Person>,
    person_ids: Vec<i64>,
    results: Vec<PersonResult>,
    weekly: Vec<StoredWeek>,
    daily_active: Vec<u32>,
    weekly_active: u32,
    monthly_active: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredWeek {
    as_of: NaiveDate,
    overall: StoredSummary,
    departments: Vec<(Option<String>, StoredSummary)>,
}

/// A `Summary` with its maps as lists and its indicators by name.
#[derive(Serialize, Deserialize)]
struct StoredSummary {
    listed: u32,
    tier_counts: Vec<(Tier, u32)>,
    base: u32,
    logged_in: u32,
    deep: u32,
    indicators: Vec<(String, String)>,
    unmeasurable: Vec<(DepthGap, u32)>,
    logged_in_measurable: u32,
}

impl From<&Summary> for StoredSummary {
    fn from(s: &Summary) -> Self {
        StoredSummary {
            listed: s.listed,
            tier_counts: s.tier_counts.iter().map(|(t, n)| (*t, *n)).collect(),
            base: s.base,
            logged_in: s.logged_in,
            deep: s.deep,
            indicators: s.indicators.iter().map(|i| (i.key.to_string(), i.value.clone())).collect(),
            unmeasurable: s.coverage.unmeasurable.iter().map(|(g, n)| (*g, *n)).collect(),
            logged_in_measurable: s.coverage.logged_in_measurable,
        }
    }
}

impl StoredSummary {
    fn into_summary(self) -> Result<Summary> {
        let indicators = self
            .indicators
            .into_iter()
            .map(|(key, value)| {
                let key = org_indicator_key(&key).with_context(|| format!("unknown indicator {key}"))?;
                Ok(OrgIndicator { key, value })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Summary {
            listed: self.listed,
            tier_counts: self.tier_counts.into_iter().collect(),
            base: self.base,
            logged_in: self.logged_in,
            deep: self.deep,
            indicators,
            coverage: Coverage {
                unmeasurable: self.unmeasurable.into_iter().collect(),
                logged_in_measurable: self.logged_in_measurable,
            },
        })
    }
}

/// gzip (fastest level) of the JSON payload: a few MB for 10,000 people.
fn encode(s: &Snapshot) -> Result<Vec<u8>> {
    let c = &s.computed;
    let payload = Payload {
        as_of: c.evaluation.window.as_of,
        window_days: c.evaluation.window.days,
        span: c.span,
        people: c.data.people.clone(),
        person_ids: c.person_ids.clone(),
        results: c.evaluation.results.clone(),
        weekly: s
            .weekly
            .iter()
            .map(|w| StoredWeek {
                as_of: w.as_of,
                overall: (&w.overall).into(),
                departments: w.departments.iter().map(|(d, s)| (d.clone(), s.into())).collect(),
            })
            .collect(),
        daily_active: s.daily_active.clone(),
        weekly_active: s.weekly_active,
        monthly_active: s.monthly_active,
    };
    let mut out = GzEncoder::new(Vec::new(), Compression::fast());
    serde_json::to_writer(&mut out, &payload).context("encoding results")?;
    out.flush()?;
    Ok(out.finish()?)
}

async fn decode(db: &Db, settings: &OrgSettings, bytes: &[u8], computed_at: i64) -> Result<Snapshot> {
    let mut json = Vec::new();
    GzDecoder::new(bytes).read_to_end(&mut json).context("reading stored results")?;
    let p: Payload = serde_json::from_slice(&json).context("decoding stored results")?;
    drop(json);
    let profile = profile_for(db, settings, Some(p.window_days)).await?;
    let window = Window::new(p.as_of, p.window_days, settings.timezone);
    let weekly = p
        .weekly
        .into_iter()
        .map(|w| {
            Ok(WeekPoint {
                as_of: w.as_of,
                overall: w.overall.into_summary()?,
                departments: w
                    .departments
                    .into_iter()
                    .map(|(d, s)| Ok((d, s.into_summary()?)))
                    .collect::<Result<_>>()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let computed = Computed {
        data: Dataset { people: p.people, ..Dataset::default() },
        person_ids: p.person_ids,
        profile,
        evaluation: Evaluation { window, results: p.results },
        span: p.span,
    };
    Ok(Snapshot {
        computed,
        settings: settings.clone(),
        weekly,
        daily_active: p.daily_active,
        weekly_active: p.weekly_active,
        monthly_active: p.monthly_active,
        computed_at,
    })
}
