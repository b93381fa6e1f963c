//! One evaluation of the activity model: every listed person's counters and
//! tier as of a date, and the headline figures over them (spec section 5).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::aggregated::{Aggregated, aggregate};
use super::calendar::{Window, local_day};
use super::coverage::classify as classify_aggregated;
use super::coverage::{DepthGap, depth_gap, presence_gap};
use super::dataset::Dataset;
use super::dataset::FactRow;
use super::decimal::Ratio;
use super::kind::Family;
use super::metrics::{Counters, compute_counters};
use super::profile::{OrgIndicator, Profile, is_share, org_indicators, person_indicators};
use super::tier::{Tier, classify, is_listed, onboarding_date};

/// One listed person's result.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PersonResult {
    /// Index into `Dataset::people`.
    pub person: usize,
    pub tier: Tier,
    pub onboarding: Option<NaiveDate>,
    pub counters: Counters,
    /// Set when the person has no event in the window but facts from
    /// aggregated sources: the metrics come from those.
    pub aggregated: Option<Aggregated>,
    /// Set when the person's data (aggregated sources) cannot establish the
    /// deep boundary, whatever their tier: such people are left out of the
    /// deep rate's base and counted apart.
    pub depth_gap: Option<DepthGap>,
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
        .filter_map(|(i, counters)| person_result(data, i, counters, &facts[i], window, profile))
        .collect();
    Evaluation { window: window.clone(), results }
}

/// One person's result from their counters and facts, `None` when they are
/// not listed as of the window's date.
pub(super) fn person_result(
    data: &Dataset,
    i: usize,
    counters: Counters,
    facts: &[&FactRow],
    window: &Window,
    profile: &Profile,
) -> Option<PersonResult> {
    let person = &data.people[i];
    let first_day = person.first_event.map(|ts| local_day(window.tz, ts));
    let onboarding = onboarding_date(person.start_date, first_day);
    if !is_listed(onboarding, window.as_of) {
        return None;
    }
    let aggregated = if counters.events == 0 { aggregate(facts, window) } else { None };
    let tier = match &aggregated {
        Some(a) => match classify(&counters, onboarding, window.as_of, profile.grace_days, &profile.deep) {
            Tier::New => Tier::New,
            _ => classify_aggregated(a, &profile.aggregated),
        },
        None => classify(&counters, onboarding, window.as_of, profile.grace_days, &profile.deep),
    };
    let mut tier = tier;
    let mut depth_gap = aggregated.as_ref().and_then(|a| depth_gap(a, &profile.aggregated));
    if aggregated.is_none()
        && matches!(tier, Tier::Deep | Tier::Shallow)
        && let Some(gap) = presence_gap(&person.presence, window.start(), window.end())
    {
        // Interacts, but login depth is not measurable: the
        // deep boundary cannot be established (as for aggregated
        // sources that cannot reach it).
        tier = Tier::Unmeasured;
        depth_gap = Some(gap);
    }
    Some(PersonResult { person: i, tier, onboarding, counters, aggregated, depth_gap })
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
    /// Who of `base` the deep rate can speak for.
    pub coverage: Coverage,
}

/// How much of a group's depth its data can establish.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Coverage {
    /// Of `base`, people whose data cannot establish depth, by gap.
    pub unmeasurable: BTreeMap<DepthGap, u32>,
    /// Of `base` without those, people with at least one active day.
    pub logged_in_measurable: u32,
}

impl Coverage {
    /// People of the base whose depth cannot be established.
    pub fn unmeasurable_total(&self) -> u32 {
        self.unmeasurable.values().sum()
    }

    pub fn absorb(&mut self, other: Coverage) {
        self.logged_in_measurable += other.logged_in_measurable;
        for (gap, n) in other.unmeasurable {
            *self.unmeasurable.entry(gap).or_default() += n;
        }
    }
}

impl Summary {
    pub fn of<'a>(results: impl Iterator<Item = &'a PersonResult> + Clone, profile: &Profile) -> Summary {
        let mut tier_counts: BTreeMap<Tier, u32> = Tier::ALL.iter().map(|t| (*t, 0)).collect();
        let (mut listed, mut base, mut logged_in, mut deep) = (0, 0, 0, 0);
        let mut coverage = Coverage::default();
        for r in results.clone() {
            listed += 1;
            *tier_counts.entry(r.tier).or_default() += 1;
            if r.tier != Tier::New {
                base += 1;
                logged_in += u32::from(r.is_active());
                deep += u32::from(r.tier == Tier::Deep);
                match r.depth_gap {
                    Some(gap) => *coverage.unmeasurable.entry(gap).or_default() += 1,
                    None => coverage.logged_in_measurable += u32::from(r.is_active()),
                }
            }
        }
        // Event-based indicators speak only for people measured by events:
        // people known from aggregated sources would count as zeros.
        let by_events = results.clone().filter(|r| r.tier != Tier::New && r.aggregated.is_none());
        let mut indicators = org_indicators(profile.id, by_events.map(|r| &r.counters));
        for i in &mut indicators {
            if i.key == "doc_collaboration" {
                i.value = doc_collaboration(results.clone().filter(|r| r.tier != Tier::New));
            }
        }
        Summary { listed, tier_counts, base, logged_in, deep, indicators, coverage }
    }

    pub fn login_rate(&self) -> Option<Ratio> {
        Ratio::new(u64::from(self.logged_in), u64::from(self.base))
    }

    /// People of the base whose depth the data can establish: the deep
    /// rate's base.
    pub fn measurable_base(&self) -> u32 {
        self.base - self.coverage.unmeasurable_total()
    }

    /// Deep people over the people whose depth is measurable.
    pub fn deep_rate(&self) -> Option<Ratio> {
        Ratio::new(u64::from(self.deep), u64::from(self.measurable_base()))
    }

    /// The login rate over the people whose depth is measurable (the same as
    /// `login_rate` when everyone's is).
    pub fn measurable_login_rate(&self) -> Option<Ratio> {
        Ratio::new(u64::from(self.coverage.logged_in_measurable), u64::from(self.measurable_base()))
    }

    /// Login rate minus deep rate, in percentage points, both over the
    /// people whose depth is measurable; `None` when nobody's is.
    pub fn gap_points(&self) -> Option<f64> {
        Some((self.measurable_login_rate()?.to_f64() - self.deep_rate()?.to_f64()) * 100.0)
    }

    /// Whether some people's depth cannot be established from their data.
    pub fn partial_coverage(&self) -> bool {
        self.coverage.unmeasurable_total() > 0
    }
}

/// Share of people with a document edit, over the people whose source can
/// see documents (events, or an aggregated source with a docs column);
/// empty when no one's can.
fn doc_collaboration<'a>(people: impl Iterator<Item = &'a PersonResult>) -> String {
    let (mut editors, mut n) = (0u64, 0u64);
    for r in people {
        match &r.aggregated {
            None => {
                n += 1;
                editors += u64::from(r.counters.count(super::kind::Kind::DOC_EDIT) > 0);
            }
            Some(a) if a.reported_families & Family::Docs.bit() != 0 => {
                n += 1;
                editors += u64::from(a.families & Family::Docs.bit() != 0);
            }
            Some(_) => {}
        }
    }
    debug_assert!(is_share("doc_collaboration"));
    Ratio::new(editors, n).map(|r| r.display(3)).unwrap_or_default()
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

    /// The export row's profile columns for one result: empty (not
    /// available from this source) for people known from aggregated sources,
    /// whose exports carry none of the events these indicators count.
    pub fn indicators(&self, r: &PersonResult, profile: &Profile) -> Vec<String> {
        match r.aggregated {
            Some(_) => profile.indicator_keys().iter().map(|_| String::new()).collect(),
            None => person_indicators(profile.id, &r.counters),
        }
    }
}
