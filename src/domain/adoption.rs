//! Adoption since rollout: per department, login rate and deep rate by
//! weeks since that department got the tool (day 0 aligned).

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calendar::local_day;
use super::dataset::Person;
use super::evaluation::Summary;

/// A department's default rollout date: the earliest directory start date
/// of its people, else the day of their earliest event.
pub fn default_rollouts(people: &[Person], tz: chrono_tz::Tz) -> BTreeMap<String, NaiveDate> {
    let mut by_start: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut by_event: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for p in people {
        let Some(dept) = &p.department else { continue };
        if let Some(d) = p.start_date {
            let e = by_start.entry(dept.clone()).or_insert(d);
            *e = (*e).min(d);
        }
        if let Some(ts) = p.first_event {
            let d = local_day(tz, ts);
            let e = by_event.entry(dept.clone()).or_insert(d);
            *e = (*e).min(d);
        }
    }
    let mut out = by_event;
    out.extend(by_start);
    out
}

/// One point of a department's curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePoint {
    /// Whole weeks from the rollout date to the as-of date.
    pub week: i64,
    pub as_of: NaiveDate,
    pub summary: Summary,
}

/// Places weekly summaries of one department on its own time line: only
/// dates on or after its rollout, week = floor(days since rollout / 7).
pub fn curve(rollout: NaiveDate, weekly: &[(NaiveDate, Summary)]) -> Vec<CurvePoint> {
    weekly
        .iter()
        .filter(|(d, _)| *d >= rollout)
        .map(|(d, s)| CurvePoint { week: (*d - rollout).num_days() / 7, as_of: *d, summary: s.clone() })
        .collect()
}

/// Weeks of the grace period, for shading: ceil(grace days / 7).
pub fn grace_weeks(grace_days: u32) -> usize {
    grace_days.div_ceil(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn rollout_defaults_to_earliest_start_date_else_first_event() {
        let person = |dept: &str, start: Option<&str>, first: Option<i64>| Person {
            user_id: String::new(),
            department: Some(dept.into()),
            start_date: start.map(date),
            first_event: first,
            ..Person::default()
        };
        let people = vec![
            person("Sales", Some("2026-03-10"), Some(0)),
            person("Sales", Some("2026-03-02"), None),
            person("Legal", None, Some(1_777_000_000)),
            person("Legal", None, Some(1_776_000_000)),
        ];
        let r = default_rollouts(&people, chrono_tz::UTC);
        assert_eq!(r["Sales"], date("2026-03-02"));
        assert_eq!(r["Legal"], local_day(chrono_tz::UTC, 1_776_000_000));
    }

    #[test]
    fn curves_start_at_the_rollout() {
        let s = Summary {
            listed: 1,
            tier_counts: Default::default(),
            base: 1,
            logged_in: 1,
            deep: 0,
            indicators: vec![],
            coverage: Default::default(),
        };
        let weekly = vec![(date("2026-03-01"), s.clone()), (date("2026-03-08"), s.clone()), (date("2026-03-15"), s)];
        let c = curve(date("2026-03-02"), &weekly);
        assert_eq!(c.iter().map(|p| p.week).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(grace_weeks(14), 2);
        assert_eq!(grace_weeks(10), 2);
    }
}
