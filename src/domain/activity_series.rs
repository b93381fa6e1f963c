//! Series over time for the dashboard: daily active people, DAU/WAU/MAU,
//! feature-breadth distribution, tier mix week by week.

use chrono::Days;

use super::calendar::Window;
use super::dataset::Dataset;
use super::evaluation::{Evaluation, PersonResult, evaluate};
use super::profile::Profile;
use super::tier::Tier;

/// People with at least one event on each day of the window.
pub fn daily_active(data: &Dataset, window: &Window) -> Vec<u32> {
    let days = window.days as usize;
    let mut seen = vec![u32::MAX; data.people.len()];
    let mut counts = vec![0u32; days];
    // Events are unordered; mark (person, day) pairs with a per-day stamp.
    let mut per_day: Vec<Vec<u32>> = vec![Vec::new(); days];
    for e in &data.events {
        if let Some(d) = window.day_index(e.ts) {
            per_day[d].push(e.person);
        }
    }
    for (d, people) in per_day.iter().enumerate() {
        for &p in people {
            if let Some(s) = seen.get_mut(p as usize)
                && *s != d as u32
            {
                *s = d as u32;
                counts[d] += 1;
            }
        }
    }
    counts
}

/// Distinct people active in the last `days` days of the window.
pub fn active_in_last(data: &Dataset, window: &Window, days: u32) -> u32 {
    let first = window.days.saturating_sub(days) as usize;
    let mut active = vec![false; data.people.len()];
    for e in &data.events {
        if let Some(d) = window.day_index(e.ts)
            && d >= first
            && let Some(a) = active.get_mut(e.person as usize)
        {
            *a = true;
        }
    }
    active.iter().filter(|&&a| a).count() as u32
}

/// How many listed, not-new people use 0, 1, ... 5 feature families.
pub fn breadth_distribution<'a>(results: impl Iterator<Item = &'a PersonResult>) -> [u32; 6] {
    let mut out = [0u32; 6];
    for r in results.filter(|r| r.tier != Tier::New) {
        let breadth = r.aggregated.as_ref().map_or(r.counters.feature_breadth(), |a| a.feature_breadth());
        out[(breadth as usize).min(5)] += 1;
    }
    out
}

/// Evaluations as of the end of each of the last `weeks` weeks (oldest
/// first), from one dataset covering them all.
pub fn weekly_evaluations(data: &Dataset, latest: &Window, profile: &Profile, weeks: u32) -> Vec<Evaluation> {
    (0..weeks)
        .rev()
        .map(|k| {
            let as_of = latest.as_of - Days::new(u64::from(7 * k));
            evaluate(data, &Window::new(as_of, latest.days, latest.tz), profile)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dataset::{ChannelType, Event, Person};
    use crate::domain::kind::Kind;

    #[test]
    fn daily_and_rolling_active_people() {
        let window = Window::new("2026-05-29".parse().unwrap(), 7, chrono_tz::UTC);
        let day = |d: i64, p: u32| Event {
            person: p,
            ts: window.start() + d * 86_400 + 3600,
            kind: Kind::LOGIN,
            channel: 0,
            channel_type: ChannelType::Unknown,
        };
        let data = Dataset {
            people: vec![Person::default(), Person::default(), Person::default()],
            events: vec![day(0, 0), day(0, 0), day(0, 1), day(6, 1), day(6, 2), day(3, 2)],
            facts: vec![],
        };
        assert_eq!(daily_active(&data, &window), vec![2, 0, 0, 1, 0, 0, 2]);
        assert_eq!(active_in_last(&data, &window, 1), 2);
        assert_eq!(active_in_last(&data, &window, 4), 2);
        assert_eq!(active_in_last(&data, &window, 7), 3);
    }
}
