//! Metrics and tiers from aggregated sources (spec "Aggregated sources").
//! Totals per period carry less than events: no sessions, so no login
//! depth; no channels, so no reply speed. What can be derived is derived:
//! active days where given or counted from daily rows, interactive days from
//! daily rows, feature families from the counts (chat → text, calls →
//! voice, meetings → video, files → files, docs → docs).
//!
//! Facts are chosen per source: daily rows whose day lies in the window are
//! summed; of a source's period rows, the latest one ending inside the
//! window is taken (its period may start before the window). Different
//! tools add up; for Slack, daily API rows win over a dashboard period.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calendar::Window;
use super::facts::FactSource;
use super::kind::Family;
use super::tier::Tier;

/// A stored fact as the engine sees it; `person` indexes `Dataset::people`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactRow {
    pub person: u32,
    pub source: Option<FactSource>,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub active_days: Option<u32>,
    pub messages: Option<u32>,
    pub reactions: Option<u32>,
    pub calls: Option<u32>,
    pub meetings: Option<u32>,
    pub files: Option<u32>,
    pub docs: Option<u32>,
    /// Conversations or messages read (Google Chat): presence, not interaction.
    pub reads: Option<u32>,
    pub passive: bool,
}

impl FactRow {
    fn interactions(&self) -> u32 {
        [self.messages, self.reactions, self.calls, self.meetings, self.files, self.docs]
            .iter()
            .flatten()
            .fold(0u32, |acc, n| acc.saturating_add(*n))
    }

    fn families(&self) -> u8 {
        let mut f = 0;
        let some = |v: Option<u32>| v.unwrap_or(0) > 0;
        if some(self.messages) || some(self.reactions) {
            f |= Family::Text.bit();
        }
        if some(self.calls) {
            f |= Family::Voice.bit();
        }
        if some(self.meetings) {
            f |= Family::Video.bit();
        }
        if some(self.files) {
            f |= Family::Files.bit();
        }
        if some(self.docs) {
            f |= Family::Docs.bit();
        }
        f
    }

    fn is_daily(&self) -> bool {
        self.start == self.end
    }
}

/// One person's metrics from aggregated sources over a window. `None`
/// means the sources do not say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Aggregated {
    pub sources: Vec<FactSource>,
    pub active_days: Option<u32>,
    pub interactive_days: Option<u32>,
    pub messages: u32,
    /// Some of `messages` are "messages and reactions sent" (Google Chat
    /// does not split them): shown under that name, never as messages.
    pub messages_include_reactions: bool,
    pub families: u8,
    pub interactions: u32,
    /// Any sign of presence (activity, a passive flag, or any count).
    pub present: bool,
}

impl Aggregated {
    pub fn feature_breadth(&self) -> u32 {
        self.families.count_ones()
    }
}

/// Which tool a source belongs to: sources of one tool do not add up.
fn tool(s: FactSource) -> &'static str {
    match s {
        FactSource::SlackApi | FactSource::SlackDashboard => "slack",
        other => other.as_str(),
    }
}

/// Aggregates one person's facts over a window; `None` when no fact applies.
pub fn aggregate(facts: &[&FactRow], window: &Window) -> Option<Aggregated> {
    let (first, last) = (window.first_day(), window.as_of);
    // Per tool: the chosen rows and their source.
    let mut by_tool: BTreeMap<&str, (FactSource, Vec<&FactRow>)> = BTreeMap::new();
    for f in facts {
        let Some(source) = f.source else { continue };
        if f.end < first || f.end > last {
            continue;
        }
        let entry = by_tool.entry(tool(source)).or_insert((source, Vec::new()));
        // Daily rows win over periods within a tool.
        match (f.is_daily(), entry.1.first().map(|r| r.is_daily())) {
            (true, Some(false)) => *entry = (source, vec![*f]),
            (false, Some(true)) => {}
            (true, _) => entry.1.push(f),
            (false, _) => {
                if entry.1.first().is_none_or(|r| f.end > r.end) {
                    *entry = (source, vec![*f]);
                }
            }
        }
    }
    if by_tool.is_empty() {
        return None;
    }
    let mut a = Aggregated::default();
    let (mut active, mut active_known, mut interactive, mut interactive_known) = (0, true, 0, true);
    for (_, (source, rows)) in by_tool {
        a.sources.push(source);
        for r in &rows {
            a.messages = a.messages.saturating_add(r.messages.unwrap_or(0));
            a.messages_include_reactions |= source == FactSource::GoogleChat && r.messages.is_some();
            a.interactions = a.interactions.saturating_add(r.interactions());
            a.families |= r.families();
            // Reading is presence without interaction: a reader who sends
            // nothing is silent, not dormant.
            a.present |=
                r.passive || r.interactions() > 0 || r.active_days.unwrap_or(0) > 0 || r.reads.unwrap_or(0) > 0;
        }
        if rows.first().is_some_and(|r| r.is_daily()) {
            // Daily rows: count the days.
            active += rows.iter().filter(|r| r.active_days.unwrap_or(0) > 0 || r.interactions() > 0).count() as u32;
            interactive += rows.iter().filter(|r| r.interactions() > 0).count() as u32;
        } else {
            match rows.first().and_then(|r| r.active_days) {
                Some(d) => active = active.saturating_add(d),
                None => active_known = false,
            }
            interactive_known = false;
        }
    }
    let days = window.days;
    a.active_days = active_known.then_some(active.min(days));
    a.interactive_days = interactive_known.then_some(interactive.min(days));
    a.sources.sort();
    Some(a)
}

/// The tier rule for aggregated data (documented in docs/metrics.md): the
/// deep rule without login depth, on interactive days where the sources
/// count them, else on active days with interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AggregatedRule {
    pub min_active_days: u32,
    pub min_feature_breadth: u32,
}

impl Default for AggregatedRule {
    fn default() -> Self {
        AggregatedRule { min_active_days: 8, min_feature_breadth: 2 }
    }
}

/// The tier of a person known only from aggregated sources (grace period
/// already ruled out by the caller).
pub fn classify(a: &Aggregated, rule: &AggregatedRule) -> Tier {
    if !a.present {
        return Tier::Dormant;
    }
    if a.interactions == 0 {
        return Tier::Silent;
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

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn window() -> Window {
        Window::new(date("2026-05-29"), 28, chrono_tz::UTC)
    }

    fn daily(source: FactSource, day: &str, messages: u32, calls: u32, active: bool) -> FactRow {
        FactRow {
            source: Some(source),
            start: date(day),
            end: date(day),
            active_days: Some(u32::from(active)),
            messages: Some(messages),
            calls: Some(calls),
            ..FactRow::default()
        }
    }

    #[test]
    fn daily_rows_count_days_and_families() {
        let rows: Vec<FactRow> = (5..=14)
            .map(|d| daily(FactSource::SlackApi, &format!("2026-05-{d:02}"), 2, u32::from(d % 2 == 0), true))
            .chain([
                daily(FactSource::SlackApi, "2026-05-20", 0, 0, true),
                daily(FactSource::SlackApi, "2026-04-01", 9, 0, true),
            ])
            .collect();
        let refs: Vec<&FactRow> = rows.iter().collect();
        let a = aggregate(&refs, &window()).unwrap();
        assert_eq!(a.active_days, Some(11), "the April row is outside the window");
        assert_eq!(a.interactive_days, Some(10));
        assert_eq!(a.messages, 20);
        assert_eq!(a.feature_breadth(), 2);
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Deep);
    }

    #[test]
    fn the_latest_period_in_the_window_is_taken_and_tools_add_up() {
        let period = |source, end: &str, messages| FactRow {
            source: Some(source),
            start: date("2026-04-01"),
            end: date(end),
            messages: Some(messages),
            ..FactRow::default()
        };
        let rows = [
            period(FactSource::Teams, "2026-05-10", 5),
            period(FactSource::Teams, "2026-05-20", 7),
            period(FactSource::GoogleChat, "2026-05-21", 1),
            period(FactSource::Teams, "2026-06-20", 100),
        ];
        let refs: Vec<&FactRow> = rows.iter().collect();
        let a = aggregate(&refs, &window()).unwrap();
        assert_eq!(a.messages, 8);
        assert_eq!(a.active_days, None, "Teams gives no day count");
        assert_eq!(a.interactive_days, None);
        assert_eq!(a.sources, vec![FactSource::Teams, FactSource::GoogleChat]);
        // Without any day count deep cannot be established.
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Shallow);
    }

    #[test]
    fn slack_daily_rows_win_over_the_dashboard_period() {
        let rows = [
            FactRow {
                source: Some(FactSource::SlackDashboard),
                start: date("2026-04-30"),
                end: date("2026-05-29"),
                active_days: Some(20),
                messages: Some(50),
                ..FactRow::default()
            },
            daily(FactSource::SlackApi, "2026-05-28", 3, 0, true),
        ];
        let refs: Vec<&FactRow> = rows.iter().collect();
        let a = aggregate(&refs, &window()).unwrap();
        assert_eq!((a.messages, a.active_days), (3, Some(1)));
    }

    #[test]
    fn presence_without_interaction_is_silent_and_nothing_is_dormant() {
        let passive = FactRow {
            source: Some(FactSource::Teams),
            start: date("2026-05-01"),
            end: date("2026-05-29"),
            passive: true,
            messages: Some(0),
            ..FactRow::default()
        };
        let a = aggregate(&[&passive], &window()).unwrap();
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Silent);
        let nothing = FactRow { passive: false, ..passive };
        let a = aggregate(&[&nothing], &window()).unwrap();
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Dormant);
        assert_eq!(aggregate(&[], &window()), None);
    }

    #[test]
    fn a_reader_who_sends_nothing_is_silent_not_dormant() {
        let reader = FactRow {
            source: Some(FactSource::GoogleChat),
            start: date("2026-05-02"),
            end: date("2026-05-29"),
            messages: Some(0),
            files: Some(0),
            reads: Some(40),
            ..FactRow::default()
        };
        let a = aggregate(&[&reader], &window()).unwrap();
        assert!(a.present);
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Silent);
        assert!(a.messages_include_reactions, "Google's figure is messages and reactions");
    }
}
