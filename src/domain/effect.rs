//! The effect of outreach: contacted people against a holdout (people of
//! the same strata, set aside at random when the round was drawn and never
//! contacted by the study). Proportions get Wilson score intervals, their
//! difference Newcombe's hybrid score interval (Newcombe 1998, "Interval
//! estimation for the difference between independent proportions",
//! Statistics in Medicine 17:873-890, method 10).

use chrono::{Days, NaiveDate};

use super::report::depth;
use super::tier::Tier;

/// The normal quantile for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Groups smaller than this show no percentage, and the effect says "too
/// few people to tell".
pub const MIN_GROUP: u32 = 10;

/// An interval wider than this (in proportion points) tells nothing useful:
/// "too few people to tell".
pub const MAX_USEFUL_WIDTH: f64 = 0.5;

/// `x` of `n` with a 95% Wilson score interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Proportion {
    pub x: u32,
    pub n: u32,
    pub low: f64,
    pub high: f64,
}

impl Proportion {
    /// None for n = 0 (no proportion exists).
    pub fn wilson(x: u32, n: u32) -> Option<Proportion> {
        if n == 0 || x > n {
            return None;
        }
        let (xf, nf) = (f64::from(x), f64::from(n));
        let p = xf / nf;
        let z2 = Z95 * Z95;
        let denominator = 1.0 + z2 / nf;
        let centre = (p + z2 / (2.0 * nf)) / denominator;
        let half = Z95 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denominator;
        Some(Proportion { x, n, low: (centre - half).max(0.0), high: (centre + half).min(1.0) })
    }

    pub fn share(&self) -> f64 {
        f64::from(self.x) / f64::from(self.n)
    }
}

/// The difference of two proportions (`a` minus `b`) with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    pub a: Proportion,
    pub b: Proportion,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Difference {
    /// Newcombe's hybrid score interval from the two Wilson intervals.
    pub fn newcombe(a: Proportion, b: Proportion) -> Difference {
        let (pa, pb) = (a.share(), b.share());
        let estimate = pa - pb;
        let low = estimate - ((pa - a.low).powi(2) + (b.high - pb).powi(2)).sqrt();
        let high = estimate + ((a.high - pa).powi(2) + (pb - b.low).powi(2)).sqrt();
        Difference { a, b, estimate, low: low.max(-1.0), high: high.min(1.0) }
    }

    /// Whether the groups are too small, or the interval too wide, to say
    /// anything.
    pub fn too_few_to_tell(&self) -> bool {
        self.a.n < MIN_GROUP || self.b.n < MIN_GROUP || self.high - self.low > MAX_USEFUL_WIDTH
    }

    /// The interval excludes no difference.
    pub fn clear(&self) -> bool {
        !self.too_few_to_tell() && (self.low > 0.0 || self.high < 0.0)
    }
}

/// What a comparison can say, read the same way by the report's table and
/// its summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Contacted people moved deeper more often; the interval excludes zero.
    ClearMore,
    /// Contacted people moved deeper less often; the interval excludes zero.
    ClearLess,
    /// The interval includes zero.
    Unclear,
    /// A group is smaller than `min`, or the interval too wide.
    TooFew,
}

impl Verdict {
    /// The verdict on a difference whose groups must each have at least
    /// `min` people (the larger of [`MIN_GROUP`] and a reader's floor).
    pub fn of(deeper: Option<&Difference>, min: u32) -> Verdict {
        match deeper {
            Some(d) if !d.too_few_to_tell() && d.a.n >= min && d.b.n >= min => match (d.clear(), d.estimate > 0.0) {
                (true, true) => Verdict::ClearMore,
                (true, false) => Verdict::ClearLess,
                (false, _) => Verdict::Unclear,
            },
            _ => Verdict::TooFew,
        }
    }
}

/// One person compared: the tier when the round was drawn, and the tier
/// and interactive days in the window measured now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub before: Tier,
    pub now: Tier,
    pub interactive_days: u32,
}

/// What one group did: people with a place on the depth scale both times,
/// those who moved deeper, and their mean interactive days now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub people: u32,
    pub deeper: u32,
    pub mean_interactive_days: Option<f64>,
}

/// Where the comparison of contacted people with the holdout stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// No round of the study has a holdout (drawn without one).
    NoHoldout,
    /// Nobody has been contacted yet.
    NotContacted,
    /// The activity data do not yet cover a whole window after the first
    /// contact: the window must start after `first_contact`, so the data
    /// must reach `needs_until`; they end on `data_end`.
    NeedsData { first_contact: NaiveDate, needs_until: NaiveDate, data_end: NaiveDate },
    /// Measured over the window ending `data_end`.
    Measured { first_contact: NaiveDate, contacted: Outcome, holdout: Outcome, deeper: Option<Difference> },
}

fn outcome(members: &[Member]) -> Outcome {
    let placed: Vec<&Member> = members.iter().filter(|m| depth(m.before).is_some() && depth(m.now).is_some()).collect();
    let deeper = placed.iter().filter(|m| depth(m.now) > depth(m.before)).count() as u32;
    let days: u32 = members.iter().map(|m| m.interactive_days).sum();
    Outcome {
        people: placed.len() as u32,
        deeper,
        mean_interactive_days: (!members.is_empty()).then(|| f64::from(days) / members.len() as f64),
    }
}

/// Compares contacted people with the holdout, over the window of
/// `window_days` ending `data_end`, only when it lies wholly after the first
/// contact (activity before it cannot show an effect of it).
pub fn outreach_effect(
    first_contact: Option<NaiveDate>,
    has_holdout: bool,
    data_end: NaiveDate,
    window_days: u32,
    contacted: &[Member],
    holdout: &[Member],
) -> Effect {
    if !has_holdout {
        return Effect::NoHoldout;
    }
    let Some(first_contact) = first_contact else { return Effect::NotContacted };
    let window_start = data_end - Days::new(u64::from(window_days.max(1)) - 1);
    if window_start <= first_contact {
        let needs_until = first_contact + Days::new(u64::from(window_days.max(1)));
        return Effect::NeedsData { first_contact, needs_until, data_end };
    }
    let (contacted, holdout) = (outcome(contacted), outcome(holdout));
    let deeper = Proportion::wilson(contacted.deeper, contacted.people)
        .zip(Proportion::wilson(holdout.deeper, holdout.people))
        .map(|(a, b)| Difference::newcombe(a, b));
    Effect::Measured { first_contact, contacted, holdout, deeper }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round4(x: f64) -> f64 {
        (x * 10_000.0).round() / 10_000.0
    }

    fn interval(x1: u32, n1: u32, x2: u32, n2: u32) -> (f64, f64) {
        let d = Difference::newcombe(Proportion::wilson(x1, n1).unwrap(), Proportion::wilson(x2, n2).unwrap());
        (round4(d.low), round4(d.high))
    }

    #[test]
    fn the_verdict_needs_groups_of_the_minimum_and_a_narrow_interval() {
        let d = |x1, n1, x2, n2| {
            Difference::newcombe(Proportion::wilson(x1, n1).unwrap(), Proportion::wilson(x2, n2).unwrap())
        };
        assert_eq!(Verdict::of(Some(&d(60, 100, 20, 100)), MIN_GROUP), Verdict::ClearMore);
        assert_eq!(Verdict::of(Some(&d(20, 100, 60, 100)), MIN_GROUP), Verdict::ClearLess);
        assert_eq!(Verdict::of(Some(&d(30, 100, 28, 100)), MIN_GROUP), Verdict::Unclear);
        assert_eq!(Verdict::of(Some(&d(6, 9, 2, 9)), MIN_GROUP), Verdict::TooFew, "groups under ten");
        assert_eq!(Verdict::of(Some(&d(60, 100, 20, 100)), 150), Verdict::TooFew, "a reader's floor above the groups");
        assert_eq!(Verdict::of(None, MIN_GROUP), Verdict::TooFew);
    }

    #[test]
    fn newcombe_intervals_match_the_published_examples() {
        // Newcombe (1998), Table II, method 10 (score, no continuity
        // correction), examples (a), (b), (d), (e) and (g).
        assert_eq!(interval(56, 70, 48, 80), (0.0524, 0.3339));
        assert_eq!(interval(9, 10, 3, 10), (0.1705, 0.8090));
        assert_eq!(interval(5, 56, 0, 29), (-0.0381, 0.1926));
        assert_eq!(interval(0, 10, 0, 20), (-0.1611, 0.2775));
        assert_eq!(interval(10, 10, 0, 20), (0.6791, 1.0));
    }

    #[test]
    fn wilson_intervals_stay_inside_zero_and_one() {
        // Newcombe (1998, companion paper on single proportions): 0/10 gives
        // 0 to 0.2775; 10/10 gives 0.7225 to 1.
        let p = Proportion::wilson(0, 10).unwrap();
        assert_eq!((round4(p.low), round4(p.high)), (0.0, 0.2775));
        let p = Proportion::wilson(10, 10).unwrap();
        assert_eq!((round4(p.low), round4(p.high)), (0.7225, 1.0));
        assert!(Proportion::wilson(1, 0).is_none());
        assert!(Proportion::wilson(3, 2).is_none());
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn the_effect_waits_for_a_whole_window_after_the_first_contact() {
        let m = Member { before: Tier::Silent, now: Tier::Shallow, interactive_days: 3 };
        assert_eq!(outreach_effect(Some(date(1)), false, date(30), 7, &[m], &[m]), Effect::NoHoldout);
        assert_eq!(outreach_effect(None, true, date(30), 7, &[m], &[m]), Effect::NotContacted);
        // A 7-day window ending on the 7th starts on the 1st: the day of contact.
        assert_eq!(
            outreach_effect(Some(date(1)), true, date(7), 7, &[m], &[m]),
            Effect::NeedsData { first_contact: date(1), needs_until: date(8), data_end: date(7) }
        );
        let Effect::Measured { contacted, holdout, deeper, .. } =
            outreach_effect(Some(date(1)), true, date(8), 7, &[m, m], &[Member { now: Tier::Silent, ..m }])
        else {
            panic!("measured once the window starts after the contact")
        };
        assert_eq!((contacted.people, contacted.deeper, holdout.people, holdout.deeper), (2, 2, 1, 0));
        assert_eq!(contacted.mean_interactive_days, Some(3.0));
        assert!(deeper.unwrap().too_few_to_tell());
        // New people (in their grace period) have no place on the scale.
        let new = Member { before: Tier::New, ..m };
        let Effect::Measured { contacted, .. } = outreach_effect(Some(date(1)), true, date(30), 7, &[new], &[m]) else {
            panic!()
        };
        assert_eq!(contacted.people, 0);
    }

    #[test]
    fn small_groups_or_wide_intervals_tell_nothing() {
        let d = Difference::newcombe(Proportion::wilson(9, 10).unwrap(), Proportion::wilson(3, 10).unwrap());
        // n = 10 each: allowed, but the interval (0.17 to 0.81) is too wide.
        assert!(d.too_few_to_tell());
        let d = Difference::newcombe(Proportion::wilson(4, 9).unwrap(), Proportion::wilson(0, 400).unwrap());
        assert!(d.too_few_to_tell(), "a group of 9");
        let d = Difference::newcombe(Proportion::wilson(56, 70).unwrap(), Proportion::wilson(48, 80).unwrap());
        assert!(!d.too_few_to_tell());
        assert!(d.clear(), "0.05 to 0.33 excludes no difference");
        let d = Difference::newcombe(Proportion::wilson(40, 80).unwrap(), Proportion::wilson(38, 80).unwrap());
        assert!(!d.clear());
    }
}
