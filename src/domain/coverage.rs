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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum GapReason {
    /// No day counts (Teams or Google Chat period reports).
    NoDayCounts,
    /// Fewer visible feature families than the deep rule needs (a Slack
    /// dashboard export without the files and huddles columns).
    FewFamilies,
    /// Events from a source that records no presence (messages only), and
    /// no presence source covering the window ([`presence_gap`]).
    NoPresence,
}

/// Where a gap comes from: an aggregated source, or a source of raw events
/// by the name its imports carry (`slack_export`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(into = "StoredGapSource")]
pub enum GapSource {
    Facts(FactSource),
    Events(&'static str),
}

/// A `GapSource` as stored results write it: an events source by name,
/// read back only if it is one of `MESSAGES_ONLY`.
#[derive(serde::Serialize, serde::Deserialize)]
enum StoredGapSource {
    Facts(FactSource),
    Events(String),
}

impl From<GapSource> for StoredGapSource {
    fn from(s: GapSource) -> Self {
        match s {
            GapSource::Facts(f) => StoredGapSource::Facts(f),
            GapSource::Events(name) => StoredGapSource::Events(name.to_string()),
        }
    }
}

// By hand: a derived impl would ask the input to live forever (`&'static str`).
impl<'de> serde::Deserialize<'de> for GapSource {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = <StoredGapSource as serde::Deserialize>::deserialize(d)?;
        GapSource::try_from(stored).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<StoredGapSource> for GapSource {
    type Error = String;

    fn try_from(s: StoredGapSource) -> Result<Self, String> {
        match s {
            StoredGapSource::Facts(f) => Ok(GapSource::Facts(f)),
            StoredGapSource::Events(name) => {
                messages_only_source(&name).map(GapSource::Events).ok_or_else(|| format!("unknown source {name}"))
            }
        }
    }
}

impl GapSource {
    pub fn as_str(self) -> &'static str {
        match self {
            GapSource::Facts(s) => s.as_str(),
            GapSource::Events(s) => s,
        }
    }
}

/// The gap in one person's data, with the source it comes from (the key
/// the pages group people by: "1,380 people from Teams period reports").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct DepthGap {
    pub source: GapSource,
    pub reason: GapReason,
}

impl DepthGap {
    /// A stable key for catalogs and exports, e.g. `teams.no_day_counts`.
    pub fn key(&self) -> String {
        let reason = match self.reason {
            GapReason::NoDayCounts => "no_day_counts",
            GapReason::FewFamilies => "few_families",
            GapReason::NoPresence => "no_presence",
        };
        format!("{}.{reason}", self.source.as_str())
    }
}

/// Sources of raw events that record no presence: no login, logout or
/// other passive event, only acts (a Slack workspace export holds messages
/// and files). Their sessions are engaged by construction, so login depth
/// from them alone says nothing. Keyed by the name their imports carry;
/// every source not listed (event files, column mappings, the push API,
/// audit logs) records presence. A new messages-only source (a chat
/// export without logins) adds its imports' name here.
const MESSAGES_ONLY: &[&str] = &["slack_export", "mattermost"];

/// Whether a source of raw events (by its imports' name) records presence.
pub fn records_presence(source: &str) -> bool {
    !MESSAGES_ONLY.contains(&source)
}

/// The messages-only source name as a `'static` key, for gaps.
pub fn messages_only_source(source: &str) -> Option<&'static str> {
    MESSAGES_ONLY.iter().copied().find(|s| *s == source)
}

/// The coverage rule for combined sources: a person whose events in the
/// window come (in part) from a messages-only source has a measurable
/// login depth only when some presence source covers the window for them:
/// an import of a presence source holding events of theirs whose period
/// (its first to its last event) overlaps the window. `[start, end)` is the
/// window; `None` when depth is measurable.
pub fn presence_gap(p: &super::dataset::Presence, start: i64, end: i64) -> Option<DepthGap> {
    let (source, first, last) = p.messages_only?;
    let overlaps = |a: i64, b: i64| a < end && b >= start;
    if !overlaps(first, last) || p.covered.iter().any(|&(a, b)| overlaps(a, b)) {
        return None;
    }
    Some(DepthGap { source: GapSource::Events(source), reason: GapReason::NoPresence })
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
        return Some(DepthGap { source: GapSource::Facts(source), reason: GapReason::NoDayCounts });
    }
    let source = a.sources.iter().copied().find(|s| *s == FactSource::SlackDashboard).unwrap_or(first);
    Some(DepthGap { source: GapSource::Facts(source), reason: GapReason::FewFamilies })
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
    fn messages_only_sources_need_a_presence_source_over_the_window() {
        use crate::domain::dataset::Presence;
        assert!(records_presence("events") && records_presence("api") && records_presence("slack_audit"));
        assert!(!records_presence("slack_export"));
        let (start, end) = (1_000, 2_000);
        let alone = Presence { messages_only: Some(("slack_export", 1_500, 1_600)), covered: vec![] };
        let gap = presence_gap(&alone, start, end).unwrap();
        assert_eq!(gap.key(), "slack_export.no_presence");
        let covered = Presence { covered: vec![(500, 1_000)], ..alone.clone() };
        assert_eq!(presence_gap(&covered, start, end), None, "an audit log ending on the window's first second");
        let before = Presence { covered: vec![(100, 999)], ..alone.clone() };
        assert!(presence_gap(&before, start, end).is_some(), "an audit log ending before the window");
        let outside = Presence { messages_only: Some(("slack_export", 2_000, 2_100)), covered: vec![] };
        assert_eq!(presence_gap(&outside, start, end), None, "no messages-only events in the window");
        assert_eq!(presence_gap(&Presence::default(), start, end), None);
    }

    #[test]
    fn gaps_name_the_source_and_the_reason() {
        let rule = AggregatedRule::default();
        let teams = agg(&[FactSource::Teams], None, &[Family::Text, Family::Voice, Family::Video]);
        assert_eq!(
            depth_gap(&teams, &rule),
            Some(DepthGap { source: GapSource::Facts(FactSource::Teams), reason: GapReason::NoDayCounts })
        );
        assert_eq!(depth_gap(&teams, &rule).unwrap().key(), "teams.no_day_counts");
        let daily = agg(&[FactSource::Teams], Some(9), &[Family::Text, Family::Voice, Family::Video]);
        assert_eq!(depth_gap(&daily, &rule), None);
        let narrow = agg(&[FactSource::SlackDashboard], Some(20), &[Family::Text]);
        assert_eq!(
            depth_gap(&narrow, &rule),
            Some(DepthGap { source: GapSource::Facts(FactSource::SlackDashboard), reason: GapReason::FewFamilies })
        );
        let wide = agg(&[FactSource::SlackDashboard], Some(20), &[Family::Text, Family::Files, Family::Voice]);
        assert_eq!(depth_gap(&wide, &rule), None);
        // A breadth minimum of 1 makes the narrow dashboard enough.
        assert_eq!(depth_gap(&narrow, &AggregatedRule { min_feature_breadth: 1, ..rule }), None);
        // Teams periods with Slack daily rows: the Teams part gives no days.
        let mixed = agg(&[FactSource::Teams, FactSource::SlackApi], None, &[Family::Text, Family::Voice]);
        assert_eq!(depth_gap(&mixed, &rule).map(|g| g.source), Some(GapSource::Facts(FactSource::Teams)));
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
