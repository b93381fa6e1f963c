//! Scenario profiles (spec section 6): what "active" means in each scenario,
//! their thresholds, how their extra event kinds count, and their key
//! indicators per person and for the organisation.

use std::fmt;

use super::aggregated::AggregatedRule;
use super::decimal::{Ratio, display_f64};
use super::kind::{Class, Family, Kind, KindMap};
use super::metrics::Counters;
use super::tier::DeepRule;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileId {
    InternalCollaboration,
    CustomerService,
    Social,
    OnlineEducation,
}

impl ProfileId {
    pub const ALL: [ProfileId; 4] =
        [ProfileId::InternalCollaboration, ProfileId::CustomerService, ProfileId::Social, ProfileId::OnlineEducation];

    pub fn as_str(self) -> &'static str {
        match self {
            ProfileId::InternalCollaboration => "internal_collaboration",
            ProfileId::CustomerService => "customer_service",
            ProfileId::Social => "social",
            ProfileId::OnlineEducation => "online_education",
        }
    }

    pub fn parse(s: &str) -> Option<ProfileId> {
        ProfileId::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile with its thresholds, as configured.
#[derive(Clone, Debug)]
pub struct Profile {
    pub id: ProfileId,
    pub window_days: u32,
    pub grace_days: u32,
    pub deep: DeepRule,
    /// The tier rule for people known only from aggregated sources.
    pub aggregated: AggregatedRule,
    pub kinds: KindMap,
}

impl Profile {
    /// The built-in profile, before any administrator adjustment.
    pub fn builtin(id: ProfileId) -> Profile {
        let mut kinds = KindMap::default();
        match id {
            ProfileId::InternalCollaboration | ProfileId::CustomerService => {}
            ProfileId::Social => kinds.set(Kind::POST_CREATED, Class::Interactive(Some(Family::Text))),
            ProfileId::OnlineEducation => {
                kinds.set(Kind::CLASS_ATTENDED, Class::Interactive(Some(Family::Video)));
                kinds.set(Kind::ASSIGNMENT_SUBMITTED, Class::Interactive(Some(Family::Docs)));
            }
        }
        Profile {
            id,
            window_days: 28,
            grace_days: 14,
            deep: DeepRule::default(),
            aggregated: AggregatedRule::default(),
            kinds,
        }
    }

    /// The key indicators' column names, in export order.
    pub fn indicator_keys(&self) -> &'static [&'static str] {
        indicator_keys(self.id)
    }
}

pub fn indicator_keys(id: ProfileId) -> &'static [&'static str] {
    match id {
        ProfileId::InternalCollaboration => &["read_rate", "messages_received", "doc_edits"],
        ProfileId::CustomerService => {
            &["conversations_started", "completion_rate", "resolution_rate", "avg_first_response_minutes"]
        }
        ProfileId::Social => &["online_minutes", "interaction_frequency", "content_produced"],
        ProfileId::OnlineEducation => {
            &["class_participation", "teacher_student_interactions", "assignment_submission_rate"]
        }
    }
}

/// Whether an indicator is a share (0 to 1), better shown as a percentage.
pub fn is_share(key: &str) -> bool {
    key.ends_with("_rate") || matches!(key, "doc_collaboration" | "class_participation")
}

fn ratio(num: u32, den: u32) -> String {
    Ratio::new(u64::from(num), u64::from(den)).map(|r| r.display(3)).unwrap_or_default()
}

fn mean_minutes(seconds: &[i64]) -> String {
    if seconds.is_empty() {
        return String::new();
    }
    display_f64(seconds.iter().sum::<i64>() as f64 / seconds.len() as f64 / 60.0, 1)
}

/// One person's key indicators, shown, in the order of `indicator_keys`.
/// Empty where the indicator has no denominator.
pub fn person_indicators(id: ProfileId, c: &Counters) -> Vec<String> {
    match id {
        ProfileId::InternalCollaboration => vec![
            ratio(c.count(Kind::MESSAGE_READ), c.messages_received),
            c.messages_received.to_string(),
            c.count(Kind::DOC_EDIT).to_string(),
        ],
        ProfileId::CustomerService => vec![
            c.conversations_started.to_string(),
            ratio(c.conversations_closed, c.conversations_started),
            ratio(c.conversations_resolved, c.conversations_started),
            mean_minutes(&c.first_responses),
        ],
        ProfileId::Social => vec![
            display_f64(c.session_seconds as f64 / 60.0, 1),
            if c.active_days == 0 {
                String::new()
            } else {
                display_f64(f64::from(c.interactive_events) / f64::from(c.active_days), 1)
            },
            content_produced(c).to_string(),
        ],
        ProfileId::OnlineEducation => vec![
            ratio(c.count(Kind::CLASS_ATTENDED), c.count(Kind::CLASS_SCHEDULED)),
            c.direct_interactions.to_string(),
            ratio(c.count(Kind::ASSIGNMENT_SUBMITTED), c.count(Kind::ASSIGNMENT_ASSIGNED)),
        ],
    }
}

fn content_produced(c: &Counters) -> u32 {
    c.messages_sent + c.count(Kind::FILE_SHARED) + c.count(Kind::POST_CREATED)
}

/// An organisation-level key indicator: a name and a shown value (empty when
/// there is nothing to compute it from).
#[derive(Clone, Debug, PartialEq)]
pub struct OrgIndicator {
    pub key: &'static str,
    pub value: String,
}

/// The `OrgIndicator::key` of that name, of any profile (stored results
/// name their indicators by text).
pub fn org_indicator_key(name: &str) -> Option<&'static str> {
    ProfileId::ALL
        .into_iter()
        .flat_map(|id| org_indicators(id, std::iter::empty::<&Counters>()))
        .map(|i| i.key)
        .find(|k| *k == name)
}

/// The profile's key indicators over a group of people (the listed people who
/// are not new).
pub fn org_indicators<'a>(id: ProfileId, people: impl Iterator<Item = &'a Counters> + Clone) -> Vec<OrgIndicator> {
    let sum = |f: fn(&Counters) -> u32| people.clone().map(f).sum::<u32>();
    let n = people.clone().count() as u32;
    let ind = |key, value| OrgIndicator { key, value };
    match id {
        ProfileId::InternalCollaboration => {
            let mut medians: Vec<Ratio> = people.clone().filter_map(Counters::median_reply_minutes).collect();
            medians.sort();
            let median = match medians.len() {
                0 => String::new(),
                m if m % 2 == 1 => medians[m / 2].display(1),
                m => display_f64((medians[m / 2 - 1].to_f64() + medians[m / 2].to_f64()) / 2.0, 1),
            };
            vec![
                ind("median_reply_minutes", median),
                ind("read_rate", ratio(sum(|c| c.count(Kind::MESSAGE_READ)), sum(|c| c.messages_received))),
                ind("doc_collaboration", ratio(sum(|c| u32::from(c.count(Kind::DOC_EDIT) > 0)), n)),
            ]
        }
        ProfileId::CustomerService => {
            let responses: Vec<i64> = people.clone().flat_map(|c| c.first_responses.iter().copied()).collect();
            vec![
                ind("completion_rate", ratio(sum(|c| c.conversations_closed), sum(|c| c.conversations_started))),
                ind("resolution_rate", ratio(sum(|c| c.conversations_resolved), sum(|c| c.conversations_started))),
                ind("avg_first_response_minutes", mean_minutes(&responses)),
            ]
        }
        ProfileId::Social => {
            let seconds: i64 = people.clone().map(|c| c.session_seconds).sum();
            let active_days = sum(|c| c.active_days);
            vec![
                ind(
                    "online_minutes",
                    if n == 0 { String::new() } else { display_f64(seconds as f64 / 60.0 / f64::from(n), 1) },
                ),
                ind(
                    "interaction_frequency",
                    if active_days == 0 {
                        String::new()
                    } else {
                        display_f64(f64::from(sum(|c| c.interactive_events)) / f64::from(active_days), 1)
                    },
                ),
                ind("content_produced", sum(content_produced).to_string()),
            ]
        }
        ProfileId::OnlineEducation => vec![
            ind(
                "class_participation",
                ratio(sum(|c| c.count(Kind::CLASS_ATTENDED)), sum(|c| c.count(Kind::CLASS_SCHEDULED))),
            ),
            ind("teacher_student_interactions", sum(|c| c.direct_interactions).to_string()),
            ind(
                "assignment_submission_rate",
                ratio(sum(|c| c.count(Kind::ASSIGNMENT_SUBMITTED)), sum(|c| c.count(Kind::ASSIGNMENT_ASSIGNED))),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(kinds: &[(Kind, u32)]) -> Counters {
        let mut c = Counters { kind_counts: vec![0; 32], ..Counters::default() };
        for (k, n) in kinds {
            c.kind_counts[k.0 as usize] = *n;
        }
        c
    }

    #[test]
    fn each_profile_shows_its_key_indicators() {
        let mut c = counters(&[(Kind::MESSAGE_READ, 3), (Kind::DOC_EDIT, 2)]);
        c.messages_received = 8;
        assert_eq!(person_indicators(ProfileId::InternalCollaboration, &c), ["0.375", "8", "2"]);

        let mut c = counters(&[]);
        c.conversations_started = 4;
        c.conversations_closed = 3;
        c.conversations_resolved = 1;
        c.first_responses = vec![60, 150];
        assert_eq!(person_indicators(ProfileId::CustomerService, &c), ["4", "0.75", "0.25", "1.8"]);

        let mut c = counters(&[(Kind::FILE_SHARED, 1), (Kind::POST_CREATED, 2)]);
        c.session_seconds = 5430;
        c.interactive_events = 9;
        c.active_days = 4;
        c.messages_sent = 5;
        assert_eq!(person_indicators(ProfileId::Social, &c), ["90.5", "2.3", "8"]);

        let mut c = counters(&[
            (Kind::CLASS_SCHEDULED, 10),
            (Kind::CLASS_ATTENDED, 7),
            (Kind::ASSIGNMENT_ASSIGNED, 4),
            (Kind::ASSIGNMENT_SUBMITTED, 4),
        ]);
        c.direct_interactions = 12;
        assert_eq!(person_indicators(ProfileId::OnlineEducation, &c), ["0.7", "12", "1"]);
    }

    #[test]
    fn indicators_without_a_denominator_are_empty_not_zero() {
        let c = counters(&[]);
        assert_eq!(person_indicators(ProfileId::InternalCollaboration, &c)[0], "");
        assert_eq!(person_indicators(ProfileId::CustomerService, &c)[1..], ["", "", ""]);
        assert_eq!(person_indicators(ProfileId::Social, &c)[1], "");
        let org = org_indicators(ProfileId::InternalCollaboration, std::iter::empty());
        assert!(org.iter().all(|i| i.value.is_empty()), "{org:?}");
    }

    #[test]
    fn profiles_map_their_extra_kinds() {
        assert!(Profile::builtin(ProfileId::Social).kinds.class(Kind::POST_CREATED).is_interactive());
        assert!(!Profile::builtin(ProfileId::InternalCollaboration).kinds.class(Kind::POST_CREATED).is_interactive());
        assert!(Profile::builtin(ProfileId::OnlineEducation).kinds.class(Kind::CLASS_ATTENDED).is_interactive());
        assert!(!Profile::builtin(ProfileId::OnlineEducation).kinds.class(Kind::CLASS_SCHEDULED).is_interactive());
    }
}
