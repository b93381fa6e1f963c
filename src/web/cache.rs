//! What pages share between requests, held by the application state (no
//! process-wide statics): evaluations, directory details, and the read
//! API's rows of the latest snapshot.
//!
//! Evaluations are costly (every event of a window) and change only when
//! data or settings do, so pages share them: keyed by as-of date, window
//! and a version made of the data version and the settings. An import or a
//! settings change makes a new version, so stale entries are never served.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};

use anyhow::Result;
use chrono::NaiveDate;

use crate::app::evaluate::{Computed, compute_with_history, latest_data_day};
use crate::app::settings::DATA_VERSION_KEY;
use crate::domain::activity_series::{active_in_last, daily_active, weekly_evaluations};
use crate::domain::calendar::{EARLIEST_AS_OF, LATEST_AS_OF, Window};
use crate::domain::evaluation::Summary;
use crate::domain::settings::OrgSettings;
use crate::storage::directory::{self, Directory};
use crate::storage::{Db, settings as store};

/// Weeks shown in week-by-week series.
pub const WEEKS: u32 = 12;

/// An evaluation with the weeks leading up to it.
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
}

/// Summaries as of the end of one week.
pub struct WeekPoint {
    pub as_of: NaiveDate,
    pub overall: Summary,
    /// By department (people without one under `None`).
    pub departments: BTreeMap<Option<String>, Summary>,
}

type Key = (NaiveDate, u32, u32, String);

#[derive(Default)]
pub struct EvaluationCache {
    /// Each entry with the tick of its last use.
    entries: Mutex<Entries<Arc<Snapshot>>>,
    /// Serialises computing, so that a burst of requests computes once.
    computing: tokio::sync::Mutex<()>,
}

struct Entries<T> {
    map: HashMap<Key, (T, u64)>,
    tick: u64,
}

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries { map: HashMap::new(), tick: 0 }
    }
}

/// Snapshots kept: each holds people and their results, not their events
/// (a few MB for 10,000 people); a few recent dates and windows, least
/// recently used out.
const CAPACITY: usize = 4;

impl EvaluationCache {
    /// The snapshot for a date (default: latest data day) and window
    /// (default: the profile's), computed once per data and settings version.
    pub async fn get(&self, db: &Db, as_of: Option<NaiveDate>, window: Option<u32>) -> Result<Arc<Snapshot>> {
        self.get_weeks(db, as_of, window, WEEKS).await
    }

    /// A snapshot with `weeks` weekly points (at least 1, at most 104).
    pub async fn get_weeks(
        &self,
        db: &Db,
        as_of: Option<NaiveDate>,
        window: Option<u32>,
        weeks: u32,
    ) -> Result<Arc<Snapshot>> {
        let weeks = weeks.clamp(1, 104);
        let stored = store::all(db).await?;
        let version = stored.iter().map(|(k, v)| format!("{k}={v};")).collect::<String>();
        let settings = OrgSettings::from_map(
            &stored
                .iter()
                .filter(|(k, _)| k.as_str() != DATA_VERSION_KEY && !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
        .map_err(anyhow::Error::msg)?;
        let as_of = match as_of {
            Some(d) => d,
            None => latest_data_day(db, &settings).await?,
        };
        let window = window.unwrap_or(settings.profile.window_days).clamp(1, 366);
        let as_of = as_of.clamp(EARLIEST_AS_OF, LATEST_AS_OF);
        let key = (as_of, window, weeks, version);
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let _guard = self.computing.lock().await;
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let mut computed = compute_with_history(db, &settings, Some(as_of), Some(window), 7 * (weeks - 1)).await?;
        let latest = Window::new(as_of, window, settings.timezone);
        let weekly = weekly_evaluations(&computed.data, &latest, &computed.profile, weeks)
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
        let snapshot = Arc::new(Snapshot { computed, settings, weekly, daily_active, weekly_active, monthly_active });
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).insert(key, snapshot.clone());
        Ok(snapshot)
    }

    fn lookup(&self, key: &Key) -> Option<Arc<Snapshot>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(key)
    }
}

impl<T: Clone> Entries<T> {
    fn get(&mut self, key: &Key) -> Option<T> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(key).map(|(snapshot, used)| {
            *used = tick;
            snapshot.clone()
        })
    }

    /// Adds a snapshot: entries of older versions go (they can never be
    /// served again), then the least recently used beyond the capacity.
    fn insert(&mut self, key: Key, snapshot: T) {
        self.map.retain(|k, _| k.3 == key.3);
        while self.map.len() >= CAPACITY {
            let Some(oldest) = self.map.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone()) else {
                break;
            };
            self.map.remove(&oldest);
        }
        self.tick += 1;
        self.map.insert(key, (snapshot, self.tick));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(day: u32, version: &str) -> Key {
        (NaiveDate::from_ymd_opt(2026, 5, day).unwrap(), 28, WEEKS, version.to_string())
    }

    #[test]
    fn the_least_recently_used_goes_first_and_old_versions_at_once() {
        let mut e = Entries::default();
        for day in 1..=4 {
            e.insert(key(day, "v1"), day);
        }
        assert_eq!(e.get(&key(1, "v1")), Some(1), "day 1 used again");
        e.insert(key(5, "v1"), 5);
        assert_eq!(e.map.len(), CAPACITY);
        assert_eq!(e.get(&key(2, "v1")), None, "day 2 was the least recently used");
        assert_eq!(e.get(&key(1, "v1")), Some(1));
        // New data: every entry of the old version goes with the first new one.
        e.insert(key(1, "v2"), 10);
        assert_eq!(e.map.len(), 1);
        assert_eq!(e.get(&key(1, "v2")), Some(10));
        assert_eq!(e.get(&key(1, "v1")), None);
    }
}

/// Everyone's directory details (name, e-mail, title, location, free-form
/// attributes), read in one query and kept until the data version changes
/// (every import changes it).
#[derive(Default)]
pub struct DirectoryCache {
    entry: Mutex<Option<(String, Arc<Directory>)>>,
}

impl DirectoryCache {
    pub async fn get(&self, db: &Db) -> Result<Arc<Directory>> {
        let version = store::all(db).await?.remove(DATA_VERSION_KEY).unwrap_or_default();
        if let Some((v, directory)) = &*self.entry.lock().unwrap_or_else(|e| e.into_inner())
            && *v == version
            && !version.is_empty()
        {
            return Ok(directory.clone());
        }
        let directory = Arc::new(directory::load(db).await?);
        if !version.is_empty() {
            *self.entry.lock().unwrap_or_else(|e| e.into_inner()) = Some((version, directory.clone()));
        }
        Ok(directory)
    }
}

/// A value derived from the latest snapshot asked about, so that reading
/// person after person derives it once. Keyed by the snapshot itself (a
/// weak reference keeps its address from being reused while it is held).
pub struct SnapshotMemo<T> {
    last: Mutex<Option<(Weak<Snapshot>, Arc<T>)>>,
}

impl<T> Default for SnapshotMemo<T> {
    fn default() -> Self {
        SnapshotMemo { last: Mutex::new(None) }
    }
}

impl<T> SnapshotMemo<T> {
    pub fn get(&self, snapshot: &Arc<Snapshot>, derive: impl FnOnce(&Snapshot) -> Result<T>) -> Result<Arc<T>> {
        let key = Arc::downgrade(snapshot);
        if let Some((k, value)) = &*self.last.lock().unwrap_or_else(|e| e.into_inner())
            && k.ptr_eq(&key)
        {
            return Ok(value.clone());
        }
        let value = Arc::new(derive(snapshot)?);
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((key, value.clone()));
        Ok(value)
    }
}
