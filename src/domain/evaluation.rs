//! One evaluation of the activity model: every listed person's counters and
//! tier as of a date, and the headline figures over them (spec section 5).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::aggregated::{Aggregated, FactRow, aggregate, classify as classify_aggregated};
use super::calendar::{Window, local_day};
use super::decimal::Ratio;
use super::metrics::{Counters, Dataset, compute_counters};
use super::profile::{OrgIndicator, Profile, org_indicators, person_indicators};
use super::tier::{Tier, classify, is_listed, onboarding_date};

/// One listed person's result.
#[derive(Clone, Debug)]
pub struct PersonResult {
    /// Index into `Dataset::people`.
    pub person: usize,
    pub tier: Tier,
    pub onboarding: Option<NaiveDate>,
    pub counters: Counters,
    /// Set when the person has no event in the window but facts from
    /// aggregated sources: the metrics come from those.
    pub aggregated: Option<Aggregated>,
}

impl PersonResult {
    /// Seen at all in the window: what a login rate counts.
    pub fn is_active(&self) -> bool {
        match &self.aggregated {
            Some(a) => a.present,
            None => self.counters.active_days >= 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Evaluation {
    pub window: Window,
    /// Listed people, in `user_id` order.
    pub results: Vec<PersonResult>,
}

/// Evaluates everyone in `data` as of the window's date under a profile.
pub fn evaluate(data: &Dataset, window: &Window, profile: &Profile) -> Evaluation {
    let counters = compute_counters(data, window, &profile.kinds);
    let mut facts: Vec<Vec<&FactRow>> = vec![Vec::new(); data.people.len()];
    for f in &data.facts {
        if let Some(list) = facts.get_mut(f.person as usize) {
            list.push(f);
        }
    }
    let results = counters
        .into_iter()
        .enumerate()
        .filter_map(|(i, counters)| {
            let person = &data.people[i];
            let first_day = person.first_event.map(|ts| local_day(window.tz, ts));
            let onboarding = onboarding_date(person.start_date, first_day);
            if !is_listed(onboarding, window.as_of) {
                return None;
            }
            let aggregated = if counters.events == 0 { aggregate(&facts[i], window) } else { None };
            let tier = match &aggregated {
                Some(a) => match classify(&counters, onboarding, window.as_of, profile.grace_days, &profile.deep) {
                    Tier::New => Tier::New,
                    _ => classify_aggregated(a, &profile.aggregated),
                },
                None => classify(&counters, onboarding, window.as_of, profile.grace_days, &profile.deep),
            };
            Some(PersonResult { person: i, tier, onboarding, counters, aggregated })
        })
        .collect();
    Evaluation { window: window.clone(), results }
}

/// The headline figures and tier counts of a group of listed people.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub listed: u32,
    pub tier_counts: BTreeMap<Tier, u32>,
    /// Listed people who are not new: the base of the rates.
    pub base: u32,
    /// Of `base`, those with at least one active day.
    pub logged_in: u32,
    /// Of `base`, those in tier deep.
    pub deep: u32,
    pub indicators: Vec<OrgIndicator>,
}

impl Summary {
    pub fn of<'a>(results: impl Iterator<Item = &'a PersonResult> + Clone, profile: &Profile) -> Summary {
        let mut tier_counts: BTreeMap<Tier, u32> = Tier::ALL.iter().map(|t| (*t, 0)).collect();
        let (mut listed, mut base, mut logged_in, mut deep) = (0, 0, 0, 0);
        for r in results.clone() {
            listed += 1;
            *tier_counts.entry(r.tier).or_default() += 1;
            if r.tier != Tier::New {
                base += 1;
                logged_in += u32::from(r.is_active());
                deep += u32::from(r.tier == Tier::Deep);
            }
        }
        let not_new = results.filter(|r| r.tier != Tier::New).map(|r| &r.counters);
        let indicators = org_indicators(profile.id, not_new);
        Summary { listed, tier_counts, base, logged_in, deep, indicators }
    }

    pub fn login_rate(&self) -> Option<Ratio> {
        Ratio::new(u64::from(self.logged_in), u64::from(self.base))
    }

    pub fn deep_rate(&self) -> Option<Ratio> {
        Ratio::new(u64::from(self.deep), u64::from(self.base))
    }

    /// Login rate minus deep rate, in percentage points.
    pub fn gap_points(&self) -> Option<f64> {
        Some((self.login_rate()?.to_f64() - self.deep_rate()?.to_f64()) * 100.0)
    }
}

impl Evaluation {
    pub fn summary(&self, profile: &Profile) -> Summary {
        Summary::of(self.results.iter(), profile)
    }

    /// Summaries per department (people without one under `None`).
    pub fn by_department<'a>(&'a self, data: &'a Dataset, profile: &Profile) -> BTreeMap<Option<&'a str>, Summary> {
        let mut groups: BTreeMap<Option<&str>, Vec<&PersonResult>> = BTreeMap::new();
        for r in &self.results {
            groups.entry(data.people[r.person].department.as_deref()).or_default().push(r);
        }
        groups.into_iter().map(|(dept, rs)| (dept, Summary::of(rs.into_iter(), profile))).collect()
    }

    /// The export row's profile columns for one result.
    pub fn indicators(&self, r: &PersonResult, profile: &Profile) -> Vec<String> {
        person_indicators(profile.id, &r.counters)
    }
}
