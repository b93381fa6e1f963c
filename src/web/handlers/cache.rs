//! Evaluations are costly (every event of a window) and change only when
//! data or settings do, so pages share them: keyed by as-of date, window
//! and a version made of the data version and the settings. An import or a
//! settings change makes a new version, so stale entries are never served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use chrono::NaiveDate;

use crate::app::evaluate::{Computed, compute_with_history, latest_data_day};
use crate::app::settings::DATA_VERSION_KEY;
use crate::domain::activity_series::weekly_evaluations;
use crate::domain::calendar::Window;
use crate::domain::evaluation::Summary;
use crate::domain::settings::OrgSettings;
use crate::storage::{Db, settings as store};

/// Weeks shown in week-by-week series.
pub const WEEKS: u32 = 12;

/// An evaluation with the week-by-week tier mix leading up to it.
pub struct Snapshot {
    pub computed: Computed,
    pub settings: OrgSettings,
    /// (as-of date, summary) for each of the last `WEEKS` weeks, oldest first.
    pub weekly: Vec<(NaiveDate, Summary)>,
}

type Key = (NaiveDate, u32, String);

#[derive(Default)]
pub struct EvaluationCache {
    entries: Mutex<HashMap<Key, Arc<Snapshot>>>,
    /// Serialises computing, so that a burst of requests computes once.
    computing: tokio::sync::Mutex<()>,
}

const CAPACITY: usize = 16;

impl EvaluationCache {
    /// The snapshot for a date (default: latest data day) and window
    /// (default: the profile's), computed once per data and settings version.
    pub async fn get(&self, db: &Db, as_of: Option<NaiveDate>, window: Option<u32>) -> Result<Arc<Snapshot>> {
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
        let key = (as_of, window, version);
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let _guard = self.computing.lock().await;
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let computed = compute_with_history(db, &settings, Some(as_of), Some(window), 7 * (WEEKS - 1)).await?;
        let latest = Window::new(as_of, window, settings.timezone);
        let weekly = weekly_evaluations(&computed.data, &latest, &computed.profile, WEEKS)
            .into_iter()
            .map(|e| (e.window.as_of, e.summary(&computed.profile)))
            .collect();
        let snapshot = Arc::new(Snapshot { computed, settings, weekly });
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, snapshot.clone());
        Ok(snapshot)
    }

    fn lookup(&self, key: &Key) -> Option<Arc<Snapshot>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }
}
