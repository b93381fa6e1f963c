//! What each source can measure, and whether a person's data can establish
//! the deep boundary at all (issue 12, "numbers only where the source
//! supports them").
//!
//! Raw events measure everything. An aggregated source measures what its
//! columns carry: a period row without a day count cannot say on how many
//! days someone interacted, and a file without a family's columns cannot
//! show that family. When a person's data cannot reach deep (no day counts,
//! or fewer visible families than the deep rule's minimum breadth), a person
//! who interacts is [`Tier::Unmeasured`](super::tier::Tier::Unmeasured)
//! rather than shallow, and headline rates leave such people out of the deep
//! rate's base, saying how many and why.

use super::aggregated::{Aggregated, AggregatedRule};
use super::facts::FactSource;
use super::kind::Family;
use super::tier::Tier;

/// What a source can measure. `families` is a bit set of [`Family`] bits the
/// source can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measures {
    pub active_days: bool,
    pub interactive_days: bool,
    pub families: u8,
    pub sessions: bool,
    pub login_depth: bool,
    pub reply_speed: bool,
}

const ALL_FAMILIES: u8 = 0b11111;

fn bits(families: &[Family]) -> u8 {
    families.iter().fold(0, |acc, f| acc | f.bit())
}

impl Measures {
    /// Raw events: every metric of the activity model.
    pub const RAW_EVENTS: Measures = Measures {
        active_days: true,
        interactive_days: true,
        families: ALL_FAMILIES,
        sessions: true,
        login_depth: true,
        reply_speed: true,
    };

    /// How many feature families the source can see.
    pub fn visible_breadth(&self) -> u32 {
        self.families.count_ones()
    }

    /// Whether the source counts days (active or interactive).
    pub fn counts_days(&self) -> bool {
        self.active_days || self.interactive_days
    }

    /// Whether the aggregated deep rule can be met at all from this data.
    pub fn can_reach_deep(&self, rule: &AggregatedRule) -> bool {
        self.counts_days() && self.visible_breadth() >= rule.min_feature_breadth
    }
}

/// The most a source can measure, as its vendor documents it: `daily` for
/// files with one row per person per day (Slack API, Feishu, Teams daily
/// reports with Report Period 1), else a period file. Optional columns
/// (Slack's files and huddles) are counted as present here; what a stored
/// fact actually carries refines this (see [`measures_of`]).
pub fn source_measures(source: FactSource, daily: bool) -> Measures {
    let none = Measures {
        active_days: false,
        interactive_days: false,
        families: 0,
        sessions: false,
        login_depth: false,
        reply_speed: false,
    };
    let families = match source {
        // Chat messages, calls, meetings (audio/video/screen share).
        FactSource::Teams => bits(&[Family::Text, Family::Voice, Family::Video]),
        // Messages, reactions; files uploaded and huddles are optional columns.
        FactSource::SlackDashboard | FactSource::SlackApi => bits(&[Family::Text, Family::Files, Family::Voice]),
        // Messages, meetings, docs.
        FactSource::Feishu => bits(&[Family::Text, Family::Video, Family::Docs]),
        // Messages and reactions sent, attachments uploaded.
        FactSource::GoogleChat => bits(&[Family::Text, Family::Files]),
    };
    // The Slack dashboard has "Days active" over its period; Teams and
    // Google Chat periods have no day count.
    let active_days = daily || source == FactSource::SlackDashboard;
    Measures { active_days, interactive_days: daily, families, ..none }
}

/// What a person's aggregated data actually measures: day counts where the
/// chosen rows give them, the families whose columns the rows carry.
pub fn measures_of(a: &Aggregated) -> Measures {
    Measures {
        active_days: a.active_days.is_some(),
        interactive_days: a.interactive_days.is_some(),
        families: a.reported_families,
        sessions: false,
        login_depth: false,
        reply_speed: false,
    }
}

/// Why a person's depth cannot be established from their data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GapReason {
    /// No day counts (Teams or Google Chat period reports).
    NoDayCounts,
    /// Fewer visible feature families than the deep rule needs (a Slack
    /// dashboard export without the files and huddles columns).
    FewFamilies,
}

/// The gap in one person's data, with the source it comes from (the key
/// the pages group people by: "1,380 people from Teams period reports").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DepthGap {
    pub source: FactSource,
    pub reason: GapReason,
}

impl DepthGap {
    /// A stable key for catalogs and exports, e.g. `teams.no_day_counts`.
    pub fn key(&self) -> String {
        let reason = match self.reason {
            GapReason::NoDayCounts => "no_day_counts",
            GapReason::FewFamilies => "few_families",
        };
        format!("{}.{reason}", self.source.as_str())
    }
}

/// `Some` when the person's aggregated data cannot reach the deep boundary.
pub fn depth_gap(a: &Aggregated, rule: &AggregatedRule) -> Option<DepthGap> {
    let m = measures_of(a);
    if m.can_reach_deep(rule) {
        return None;
    }
    let first = *a.sources.first()?;
    if !m.counts_days() {
        // The tool that gives no day count for its period.
        let source = a.sources.iter().copied().find(|s| !source_measures(*s, false).counts_days()).unwrap_or(first);
        return Some(DepthGap { source, reason: GapReason::NoDayCounts });
    }
    let source = a.sources.iter().copied().find(|s| *s == FactSource::SlackDashboard).unwrap_or(first);
    Some(DepthGap { source, reason: GapReason::FewFamilies })
}

/// The tier of a person known only from aggregated sources (grace period
/// already ruled out by the caller). A person who interacts but whose data
/// cannot reach deep (no day counts, too few visible families) is
/// `Unmeasured`, not shallow: the gap is the source's, not theirs.
pub fn classify(a: &Aggregated, rule: &AggregatedRule) -> Tier {
    if !a.present {
        return Tier::Dormant;
    }
    if a.interactions == 0 {
        return Tier::Silent;
    }
    if depth_gap(a, rule).is_some() {
        return Tier::Unmeasured;
    }
    let days = a.interactive_days.or(a.active_days).unwrap_or(0);
    if days >= rule.min_active_days && a.feature_breadth() >= rule.min_feature_breadth {
        Tier::Deep
    } else {
        Tier::Shallow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(sources: &[FactSource], days: Option<u32>, reported: &[Family]) -> Aggregated {
        Aggregated {
            sources: sources.to_vec(),
            active_days: days,
            reported_families: bits(reported),
            families: bits(reported),
            interactions: 5,
            present: true,
            ..Aggregated::default()
        }
    }

    #[test]
    fn the_capability_table() {
        let rule = AggregatedRule::default();
        assert!(Measures::RAW_EVENTS.can_reach_deep(&rule));
        assert!(!source_measures(FactSource::Teams, false).can_reach_deep(&rule), "Teams periods have no day counts");
        assert!(source_measures(FactSource::Teams, true).can_reach_deep(&rule), "Teams daily reports count days");
        assert!(source_measures(FactSource::SlackDashboard, false).active_days);
        assert!(!source_measures(FactSource::SlackDashboard, false).interactive_days);
        assert!(!source_measures(FactSource::GoogleChat, false).counts_days());
        assert!(source_measures(FactSource::Feishu, true).can_reach_deep(&rule));
        for s in FactSource::ALL {
            let m = source_measures(s, true);
            assert!(!m.sessions && !m.login_depth && !m.reply_speed, "{s}: no sessions, no channels");
        }
    }

    #[test]
    fn gaps_name_the_source_and_the_reason() {
        let rule = AggregatedRule::default();
        let teams = agg(&[FactSource::Teams], None, &[Family::Text, Family::Voice, Family::Video]);
        assert_eq!(
            depth_gap(&teams, &rule),
            Some(DepthGap { source: FactSource::Teams, reason: GapReason::NoDayCounts })
        );
        assert_eq!(depth_gap(&teams, &rule).unwrap().key(), "teams.no_day_counts");
        let daily = agg(&[FactSource::Teams], Some(9), &[Family::Text, Family::Voice, Family::Video]);
        assert_eq!(depth_gap(&daily, &rule), None);
        let narrow = agg(&[FactSource::SlackDashboard], Some(20), &[Family::Text]);
        assert_eq!(
            depth_gap(&narrow, &rule),
            Some(DepthGap { source: FactSource::SlackDashboard, reason: GapReason::FewFamilies })
        );
        let wide = agg(&[FactSource::SlackDashboard], Some(20), &[Family::Text, Family::Files, Family::Voice]);
        assert_eq!(depth_gap(&wide, &rule), None);
        // A breadth minimum of 1 makes the narrow dashboard enough.
        assert_eq!(depth_gap(&narrow, &AggregatedRule { min_feature_breadth: 1, ..rule }), None);
        // Teams periods with Slack daily rows: the Teams part gives no days.
        let mixed = agg(&[FactSource::Teams, FactSource::SlackApi], None, &[Family::Text, Family::Voice]);
        assert_eq!(depth_gap(&mixed, &rule).map(|g| g.source), Some(FactSource::Teams));
    }

    #[test]
    fn rates_are_over_the_measurable_people_and_indicators_over_those_who_can_show_them() {
        use crate::domain::evaluation::{PersonResult, Summary};
        use crate::domain::metrics::Counters;
        use crate::domain::profile::{Profile, ProfileId};
        use crate::domain::tier::Tier;
        let profile = Profile::builtin(ProfileId::InternalCollaboration);
        let by_events = |tier: Tier, active_days: u32| PersonResult {
            person: 0,
            tier,
            onboarding: None,
            counters: Counters { events: active_days, active_days, kind_counts: vec![0; 32], ..Counters::default() },
            aggregated: None,
            depth_gap: None,
        };
        let teams = |tier: Tier, present: bool| {
            let a = Aggregated {
                present,
                ..agg(&[FactSource::Teams], None, &[Family::Text, Family::Voice, Family::Video])
            };
            PersonResult {
                person: 0,
                tier,
                onboarding: None,
                counters: Counters::default(),
                depth_gap: depth_gap(&a, &profile.aggregated),
                aggregated: Some(a),
            }
        };
        let people = [
            by_events(Tier::Deep, 10),
            by_events(Tier::Shallow, 2),
            by_events(Tier::Dormant, 0),
            teams(Tier::Unmeasured, true),
            teams(Tier::Unmeasured, true),
            teams(Tier::Dormant, false),
        ];
        let s = Summary::of(people.iter(), &profile);
        assert_eq!((s.base, s.measurable_base(), s.coverage.unmeasurable_total()), (6, 3, 3));
        assert_eq!(s.login_rate().map(|r| (r.num, r.den)), Some((4, 6)), "presence counts for everyone");
        assert_eq!(s.deep_rate().map(|r| r.display(3)), Some("0.333".into()));
        assert_eq!(s.measurable_login_rate().map(|r| r.display(3)), Some("0.667".into()));
        assert!((s.gap_points().unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.tier_counts[&Tier::Unmeasured], 2);
        let doc = s.indicators.iter().find(|i| i.key == "doc_collaboration").unwrap();
        assert_eq!(doc.value, "0", "over the three people measured by events");

        // Teams only: no deep rate, no gap, no document collaboration.
        let s = Summary::of(people[3..].iter(), &profile);
        assert_eq!((s.deep_rate(), s.gap_points()), (None, None));
        assert_eq!(s.login_rate().map(|r| r.display(3)), Some("0.667".into()));
        assert!(s.indicators.iter().all(|i| i.value.is_empty()), "{:?}", s.indicators);

        // Raw events only: exactly as before.
        let s = Summary::of(people[..3].iter(), &profile);
        assert!(!s.partial_coverage());
        assert_eq!(s.deep_rate().map(|r| (r.num, r.den)), Some((1, 3)));
    }
}
