//! Tiers (spec section 5): who is new, dormant, silent, deep or shallow.

use std::fmt;

use chrono::NaiveDate;

use super::decimal::Ratio;
use super::metrics::Counters;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Tier {
    Deep,
    Shallow,
    /// Interacts, but the person's data cannot establish the deep boundary
    /// (aggregated sources without day counts or with too few visible
    /// feature families; see `coverage`). Never given from raw events.
    Unmeasured,
    Silent,
    Dormant,
    New,
}

impl Tier {
    pub const ALL: [Tier; 6] = [Tier::Deep, Tier::Shallow, Tier::Unmeasured, Tier::Silent, Tier::Dormant, Tier::New];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Deep => "deep",
            Tier::Shallow => "shallow",
            Tier::Unmeasured => "unmeasured",
            Tier::Silent => "silent",
            Tier::Dormant => "dormant",
            Tier::New => "new",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The thresholds of the `deep` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeepRule {
    pub min_interactive_days: u32,
    pub min_feature_breadth: u32,
    pub min_login_depth: Ratio,
}

impl Default for DeepRule {
    fn default() -> Self {
        DeepRule { min_interactive_days: 8, min_feature_breadth: 2, min_login_depth: Ratio { num: 1, den: 2 } }
    }
}

impl DeepRule {
    pub fn matches(&self, c: &Counters) -> bool {
        c.interactive_days >= self.min_interactive_days
            && c.feature_breadth() >= self.min_feature_breadth
            && c.login_depth().is_some_and(|depth| depth >= self.min_login_depth)
    }
}

/// The onboarding date: the directory `start_date`, else the day of the
/// earliest imported event.
pub fn onboarding_date(start_date: Option<NaiveDate>, first_event_day: Option<NaiveDate>) -> Option<NaiveDate> {
    start_date.or(first_event_day)
}

/// Whether a person appears at all as of `as_of`: not when onboarded later.
pub fn is_listed(onboarding: Option<NaiveDate>, as_of: NaiveDate) -> bool {
    onboarding.is_none_or(|d| d <= as_of)
}

/// The first matching rule gives the tier.
pub fn classify(
    c: &Counters,
    onboarding: Option<NaiveDate>,
    as_of: NaiveDate,
    grace_days: u32,
    deep: &DeepRule,
) -> Tier {
    if let Some(onboarded) = onboarding
        && (as_of - onboarded).num_days() < i64::from(grace_days)
    {
        return Tier::New;
    }
    if c.events == 0 {
        return Tier::Dormant;
    }
    if c.interactive_events == 0 {
        return Tier::Silent;
    }
    if deep.matches(c) {
        return Tier::Deep;
    }
    Tier::Shallow
}

/// People moving between tiers from one evaluation to another, each person
/// keyed by an id: `(from, to, people)` for every pair that changed, `None`
/// meaning not listed in that evaluation; most people first, then by tier
/// order.
pub fn moves<K: Ord>(
    before: &std::collections::BTreeMap<K, Tier>,
    after: &std::collections::BTreeMap<K, Tier>,
) -> Vec<(Option<Tier>, Option<Tier>, u32)> {
    let mut counted: std::collections::BTreeMap<(Option<Tier>, Option<Tier>), u32> = Default::default();
    for id in before.keys().chain(after.keys().filter(|id| !before.contains_key(*id))) {
        let (a, b) = (before.get(id).copied(), after.get(id).copied());
        if a != b {
            *counted.entry((a, b)).or_default() += 1;
        }
    }
    let mut out: Vec<_> = counted.into_iter().map(|((a, b), n)| (a, b, n)).collect();
    out.sort_by(|x, y| y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn deep_enough() -> Counters {
        Counters {
            events: 40,
            interactive_events: 20,
            interactive_days: 8,
            families: 0b11,
            sessions: 10,
            engaged_sessions: 5,
            ..Counters::default()
        }
    }

    #[test]
    fn grace_period_day_13_is_new_and_day_14_is_not() {
        let as_of = date("2026-05-29");
        let c = deep_enough();
        let rule = DeepRule::default();
        assert_eq!(classify(&c, Some(date("2026-05-16")), as_of, 14, &rule), Tier::New);
        assert_eq!(classify(&c, Some(date("2026-05-15")), as_of, 14, &rule), Tier::Deep);
    }

    #[test]
    fn deep_rule_compares_the_exact_ratio_at_its_edges() {
        let as_of = date("2026-05-29");
        let rule = DeepRule::default();
        let mut c = deep_enough();
        assert_eq!(classify(&c, None, as_of, 14, &rule), Tier::Deep);
        c.engaged_sessions = 4; // 4/10 < 1/2
        assert_eq!(classify(&c, None, as_of, 14, &rule), Tier::Shallow);
        let mut c = deep_enough();
        c.interactive_days = 7;
        assert_eq!(classify(&c, None, as_of, 14, &rule), Tier::Shallow);
        let mut c = deep_enough();
        c.families = 0b1;
        assert_eq!(classify(&c, None, as_of, 14, &rule), Tier::Shallow);
        // 333/1000 sessions engaged is below one third, 1/3 is not.
        let third = DeepRule { min_login_depth: Ratio { num: 1, den: 3 }, ..rule };
        let mut c = deep_enough();
        c.sessions = 3;
        c.engaged_sessions = 1;
        assert_eq!(classify(&c, None, as_of, 14, &third), Tier::Deep);
        let strict = DeepRule { min_login_depth: Ratio { num: 334, den: 1000 }, ..rule };
        assert_eq!(classify(&c, None, as_of, 14, &strict), Tier::Shallow);
    }

    #[test]
    fn dormant_silent_and_listing() {
        let as_of = date("2026-05-29");
        let rule = DeepRule::default();
        assert_eq!(classify(&Counters::default(), None, as_of, 14, &rule), Tier::Dormant);
        let passive = Counters { events: 3, ..Counters::default() };
        assert_eq!(classify(&passive, Some(date("2026-01-01")), as_of, 14, &rule), Tier::Silent);
        assert!(is_listed(None, as_of));
        assert!(is_listed(Some(as_of), as_of));
        assert!(!is_listed(Some(date("2026-05-30")), as_of));
    }

    #[test]
    fn moves_count_each_changed_person_once_most_first() {
        use std::collections::BTreeMap;
        let before: BTreeMap<i64, Tier> =
            [(1, Tier::Silent), (2, Tier::Silent), (3, Tier::Deep), (4, Tier::Shallow), (5, Tier::Dormant)].into();
        let after: BTreeMap<i64, Tier> =
            [(1, Tier::Shallow), (2, Tier::Shallow), (3, Tier::Deep), (4, Tier::Silent), (6, Tier::New)].into();
        assert_eq!(
            moves(&before, &after),
            vec![
                (Some(Tier::Silent), Some(Tier::Shallow), 2),
                (None, Some(Tier::New), 1),
                (Some(Tier::Shallow), Some(Tier::Silent), 1),
                (Some(Tier::Dormant), None, 1),
            ]
        );
        assert!(moves(&before, &before).is_empty());
    }
}
