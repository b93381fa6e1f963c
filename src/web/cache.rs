//! What pages share between requests, held by the application state (no
//! process-wide statics): evaluations, directory details, and the read
//! API's rows of the latest snapshot.
//!
//! Evaluations are costly (every event of a window) and change only when
//! data or settings do: each is computed once per version of data and
//! settings, stored (`app::results`) and kept here for the pages. While the
//! default view of a new version is computed in the background, pages get
//! the previous stored one with a note, never an error or a mix.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, Weak};

use anyhow::Result;
use chrono::NaiveDate;
use tokio::sync::{Notify, OwnedRwLockWriteGuard, RwLock};

use crate::app::results::{self, Current, View};
pub use crate::app::results::{Snapshot, WEEKS, WeekPoint};
use crate::app::settings::DATA_VERSION_KEY;
use crate::storage::directory::{self, Directory};
use crate::storage::{Db, settings as store};

/// A snapshot as a page gets it: the current one, or while the current one
/// is computed in the background, the previous stored one with a note.
pub struct Served {
    pub snapshot: Arc<Snapshot>,
    pub updating: Option<Updating>,
}

impl Deref for Served {
    type Target = Snapshot;

    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

impl Served {
    /// The note shown above previous results: since when they are being
    /// updated, and when they were computed.
    pub fn note(&self, page: &crate::web::page::Page) -> Option<String> {
        let u = self.updating.as_ref()?;
        let tz = self.settings.timezone;
        Some(page.tf(
            "results.updating",
            &[("since", &page.instant(u.since, tz)), ("computed", &page.instant(u.computed_at, tz))],
        ))
    }
}

/// Previous results served while new ones are computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Updating {
    /// The version of data and settings they were computed under.
    pub version: String,
    /// When the data or settings changed (unix seconds), as far as known.
    pub since: i64,
    /// When the results served were computed.
    pub computed_at: i64,
}

type Key = (NaiveDate, u32, u32, String);

#[derive(Default)]
pub struct EvaluationCache {
    /// Each entry with the tick of its last use.
    entries: Mutex<Entries<Arc<Snapshot>>>,
    /// Serialises computing, so that a burst of requests computes once.
    computing: tokio::sync::Mutex<()>,
    /// The stored default view last served as previous results, by row id
    /// and the current version: it is read with today's settings (the
    /// privacy floor a page applies is always the current one).
    previous: Mutex<Option<(i64, String, Arc<Snapshot>)>>,
    /// Whether a background recomputation runs, and since when.
    refreshing: Mutex<Option<i64>>,
    /// Signalled when a background recomputation ends.
    settled: Notify,
    /// Held (written) to keep background recomputations from starting:
    /// tests look at pages while one is pending.
    gate: Arc<RwLock<()>>,
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
    pub async fn get(self: &Arc<Self>, db: &Db, as_of: Option<NaiveDate>, window: Option<u32>) -> Result<Served> {
        self.get_weeks(db, as_of, window, WEEKS).await
    }

    /// A snapshot with `weeks` weekly points (at least 1, at most 104):
    /// from memory, else stored results, else (the default view only) the
    /// previous stored default view while the current one is computed in
    /// the background, else computed now and stored.
    pub async fn get_weeks(
        self: &Arc<Self>,
        db: &Db,
        as_of: Option<NaiveDate>,
        window: Option<u32>,
        weeks: u32,
    ) -> Result<Served> {
        let is_default = as_of.is_none() && window.is_none() && weeks == WEEKS;
        let current = results::current(db).await?;
        let view = results::view(db, &current.settings, as_of, window, weeks).await?;
        if let Some(hit) = self.memory_or_stored(db, &current, view).await? {
            return Ok(Served { snapshot: hit, updating: None });
        }
        if is_default && let Some(served) = self.previous(db, &current).await? {
            self.refresh(db.clone());
            return Ok(served);
        }
        Ok(Served { snapshot: self.compute(db, &current, view, is_default).await?, updating: None })
    }

    /// `first` with at least `weeks` weekly points (same date and window):
    /// itself when it has them (earlier weeks are the same), else computed
    /// once and stored; while `first` is previous results, the previous
    /// results for those weeks if stored, else `first` itself.
    pub async fn longer(self: &Arc<Self>, db: &Db, first: Served, weeks: u32) -> Result<Served> {
        if weeks as usize <= first.weekly.len() {
            return Ok(first);
        }
        let window = &first.computed.evaluation.window;
        let view = View { as_of: window.as_of, window: window.days, weeks: weeks.clamp(1, 104) };
        let Some(updating) = &first.updating else {
            return self.get_weeks(db, Some(view.as_of), Some(view.window), view.weeks).await;
        };
        let previous =
            Current { version: updating.version.clone(), settings: first.settings.clone(), data_changed_at: None };
        // Read each time, not kept: with today's settings, and without
        // pushing the current version's entries out.
        Ok(match results::stored(db, &previous, view).await? {
            Some(snapshot) => Served { snapshot: Arc::new(snapshot), updating: first.updating.clone() },
            None => first,
        })
    }

    async fn memory_or_stored(&self, db: &Db, current: &Current, view: View) -> Result<Option<Arc<Snapshot>>> {
        let key = (view.as_of, view.window, view.weeks, current.version.clone());
        if let Some(hit) = self.lookup(&key) {
            return Ok(Some(hit));
        }
        let Some(stored) = results::stored(db, current, view).await? else { return Ok(None) };
        let stored = Arc::new(stored);
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).insert(key, stored.clone());
        Ok(Some(stored))
    }

    /// The latest stored default view when it is of another version.
    async fn previous(&self, db: &Db, current: &Current) -> Result<Option<Served>> {
        let Some((id, version)) = results::latest_default(db).await? else { return Ok(None) };
        if version == current.version {
            return Ok(None);
        }
        let held = self.previous.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let snapshot = match held {
            Some((held_id, held_version, s)) if held_id == id && held_version == current.version => s,
            _ => {
                let Some(s) = results::stored_by_id(db, &current.settings, id).await? else { return Ok(None) };
                let s = Arc::new(s);
                *self.previous.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((id, current.version.clone(), s.clone()));
                s
            }
        };
        if snapshot.daily_active.iter().all(|&n| n == 0) {
            // Previous results with no one active in them (the first
            // import after an empty start) say nothing: compute now.
            return Ok(None);
        }
        let started = *self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        let since = current
            .data_changed_at
            .filter(|t| *t > snapshot.computed_at)
            .or(started)
            .unwrap_or_else(crate::storage::now);
        let computed_at = snapshot.computed_at;
        Ok(Some(Served { snapshot, updating: Some(Updating { version, since, computed_at }) }))
    }

    /// Computes a view and stores it (a failure to store is logged: the
    /// page still gets its results).
    async fn compute(&self, db: &Db, current: &Current, view: View, is_default: bool) -> Result<Arc<Snapshot>> {
        let _guard = self.computing.lock().await;
        if let Some(hit) = self.memory_or_stored(db, current, view).await? {
            return Ok(hit);
        }
        let snapshot = Arc::new(results::compute(db, &current.settings, view).await?);
        if let Err(e) = results::store(db, current, view, is_default, &snapshot).await {
            tracing::warn!("storing results: {e:#}");
        }
        let key = (view.as_of, view.window, view.weeks, current.version.clone());
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).insert(key, snapshot.clone());
        Ok(snapshot)
    }

    /// Computes and stores the default view in the background unless it is
    /// stored already or a recomputation runs: called after an import, a
    /// push batch or a settings change, at start-up, and when a page finds
    /// the stored results out of date.
    pub fn refresh(self: &Arc<Self>, db: Db) {
        {
            let mut running = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
            if running.is_some() {
                return;
            }
            *running = Some(crate::storage::now());
        }
        let this = self.clone();
        tokio::spawn(async move {
            // Data or settings that change during a computation make
            // another one; a few rounds at most.
            for _ in 0..4 {
                match this.refresh_once(&db).await {
                    Ok(true) => continue,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::warn!("computing results in the background: {e:#}");
                        break;
                    }
                }
            }
            *this.refreshing.lock().unwrap_or_else(|e| e.into_inner()) = None;
            this.settled.notify_waiters();
        });
    }

    /// One background round; true when the version moved on meanwhile.
    async fn refresh_once(&self, db: &Db) -> Result<bool> {
        let _open = self.gate.read().await;
        let current = results::current(db).await?;
        let view = results::view(db, &current.settings, None, None, WEEKS).await?;
        let snapshot = match self.memory_or_stored(db, &current, view).await? {
            Some(s) => s,
            None => self.compute(db, &current, view, true).await?,
        };
        // The adoption page's longer series too, when it needs one.
        let (weeks, _) = results::adoption_weeks(db, &snapshot).await?;
        if weeks > WEEKS {
            let longer = View { weeks, ..view };
            if self.memory_or_stored(db, &current, longer).await?.is_none() {
                self.compute(db, &current, longer, false).await?;
            }
        }
        Ok(results::current(db).await?.version != current.version)
    }

    /// Keeps background recomputations from starting until the guard is
    /// dropped (tests).
    pub async fn hold(&self) -> OwnedRwLockWriteGuard<()> {
        self.gate.clone().write_owned().await
    }

    /// Waits until no background recomputation runs.
    pub async fn settled(&self) {
        loop {
            let notified = self.settled.notified();
            if self.refreshing.lock().unwrap_or_else(|e| e.into_inner()).is_none() {
                return;
            }
            notified.await;
        }
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
