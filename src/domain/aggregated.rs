//! Metrics and tiers from aggregated sources (spec "Aggregated sources").
//! Totals per period carry less than events: no sessions, so no login
//! depth; no channels, so no reply speed. What can be derived is derived:
//! active days where given or counted from daily rows, interactive days from
//! daily rows, feature families from the counts (chat → text, calls →
//! voice, meetings → video, files → files, docs → docs).
//!
//! Facts are chosen per tool (Slack's dashboard and API are one tool; tools
//! add up). Daily rows whose day lies in the window are summed, one row per
//! day, and win over period rows. Otherwise one period row is taken, the
//! best-fitting among those ending inside the window (its period may start
//! before the window): the period whose length is closest to the window's
//! (a 28-day window takes a 30-day report over a 7- or 90-day one), then
//! the latest end, then the latest refresh date, then the report name (so
//! the choice never depends on the order facts were imported).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::calendar::Window;
use super::dataset::FactRow;
use super::facts::FactSource;

impl FactRow {
    fn is_daily(&self) -> bool {
        self.start == self.end
    }

    /// How well a period row fits a window of `days`; the larger fits
    /// better (see the module comment).
    fn fit(&self, days: u32) -> (Reverse<i64>, NaiveDate, NaiveDate, &str) {
        let length = (self.end - self.start).num_days() + 1;
        (Reverse((length - i64::from(days)).abs()), self.end, self.refreshed, self.report.as_str())
    }

    /// Which of two daily rows of one day is kept.
    fn latest(&self) -> (NaiveDate, &str) {
        (self.refreshed, self.report.as_str())
    }
}

/// The rows chosen for one tool: its daily rows in the window (one a day),
/// else its best-fitting period row.
struct Chosen<'a> {
    daily: BTreeMap<NaiveDate, &'a FactRow>,
    period: Option<&'a FactRow>,
}

impl<'a> Chosen<'a> {
    fn rows(&self) -> Vec<&'a FactRow> {
        if self.daily.is_empty() { self.period.into_iter().collect() } else { self.daily.values().copied().collect() }
    }
}

/// One person's metrics from aggregated sources over a window. `None`
/// means the sources do not say.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Aggregated {
    pub sources: Vec<FactSource>,
    pub active_days: Option<u32>,
    pub interactive_days: Option<u32>,
    pub messages: u32,
    /// Some of `messages` are "messages and reactions sent" (Google Chat
    /// does not split them): shown under that name, never as messages.
    pub messages_include_reactions: bool,
    pub families: u8,
    /// Families the chosen rows report at all (see `coverage::measures_of`).
    pub reported_families: u8,
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
    let mut by_tool: BTreeMap<&str, Chosen> = BTreeMap::new();
    for f in facts {
        let Some(source) = f.source else { continue };
        if f.end < first || f.end > last {
            continue;
        }
        let chosen = by_tool.entry(tool(source)).or_insert(Chosen { daily: BTreeMap::new(), period: None });
        if f.is_daily() {
            let day = chosen.daily.entry(f.end).or_insert(f);
            if f.latest() > day.latest() {
                *day = f;
            }
        } else if chosen.period.is_none_or(|p| f.fit(window.days) > p.fit(window.days)) {
            chosen.period = Some(f);
        }
    }
    if by_tool.is_empty() {
        return None;
    }
    let mut a = Aggregated::default();
    let (mut active, mut active_known, mut interactive, mut interactive_known) = (0, true, 0, true);
    for chosen in by_tool.values() {
        let rows = chosen.rows();
        if let Some(source) = rows.first().and_then(|r| r.source) {
            a.sources.push(source);
        }
        for r in &rows {
            a.messages = a.messages.saturating_add(r.counts.messages.unwrap_or(0));
            a.messages_include_reactions |= r.source == Some(FactSource::GoogleChat) && r.counts.messages.is_some();
            a.interactions = a.interactions.saturating_add(r.counts.interactions());
            a.families |= r.counts.families();
            a.reported_families |= r.counts.reported_families();
            // Reading is presence without interaction: a reader who sends
            // nothing is silent, not dormant.
            a.present |= r.counts.passive
                || r.counts.interactions() > 0
                || r.counts.active_days.unwrap_or(0) > 0
                || r.counts.reads.unwrap_or(0) > 0;
        }
        if rows.first().is_some_and(|r| r.is_daily()) {
            // Daily rows: count the days.
            active +=
                rows.iter().filter(|r| r.counts.active_days.unwrap_or(0) > 0 || r.counts.interactions() > 0).count()
                    as u32;
            interactive += rows.iter().filter(|r| r.counts.interactions() > 0).count() as u32;
        } else {
            match rows.first().and_then(|r| r.counts.active_days) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::coverage::classify;
    use crate::domain::facts::Counts;
    use crate::domain::tier::Tier;

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
            counts: Counts {
                active_days: Some(u32::from(active)),
                messages: Some(messages),
                calls: Some(calls),
                ..Counts::default()
            },
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
    fn of_equal_periods_the_latest_in_the_window_is_taken_and_tools_add_up() {
        let period = |source, end: &str, messages| FactRow {
            source: Some(source),
            start: date(end) - chrono::Days::new(29),
            end: date(end),
            counts: Counts { messages: Some(messages), ..Counts::default() },
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
        // Without any day count deep cannot be established: not shallow,
        // but not measurable from this source.
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Unmeasured);
    }

    /// A Teams report of `days` days refreshed on (and ending at) `end`.
    fn teams(days: u64, end: &str, messages: u32) -> FactRow {
        FactRow {
            source: Some(FactSource::Teams),
            report: FactSource::Teams.report().to_string(),
            start: date(end) - chrono::Days::new(days - 1),
            end: date(end),
            refreshed: date(end),
            counts: Counts { messages: Some(messages), ..Counts::default() },
            ..FactRow::default()
        }
    }

    fn messages(rows: &[&FactRow], window: &Window) -> u32 {
        aggregate(rows, window).unwrap().messages
    }

    #[test]
    fn the_period_closest_to_the_window_is_taken_whatever_the_import_order() {
        let (d7, d30, d90) = (teams(7, "2026-05-29", 7), teams(30, "2026-05-29", 30), teams(90, "2026-05-29", 90));
        assert_eq!(messages(&[&d7, &d30], &window()), 30, "a 28-day window takes D30 over D7");
        assert_eq!(messages(&[&d30, &d7], &window()), 30, "in either order");
        assert_eq!(messages(&[&d90, &d7, &d30], &window()), 30, "and over D90");
        assert_eq!(messages(&[&d30, &d90], &window()), 30);
        let week = Window::new(date("2026-05-29"), 7, chrono_tz::UTC);
        assert_eq!(messages(&[&d30, &d7, &d90], &week), 7, "a 7-day window takes D7");
        let quarter = Window::new(date("2026-05-29"), 90, chrono_tz::UTC);
        assert_eq!(messages(&[&d7, &d90, &d30], &quarter), 90);
        // Only periods ending inside the window compete: a D30 ending after
        // the as-of date does not count, the D7 inside it is taken.
        let later = teams(30, "2026-06-05", 999);
        assert_eq!(messages(&[&later, &d7], &window()), 7);
    }

    #[test]
    fn among_equally_long_periods_the_latest_end_then_the_latest_refresh_wins() {
        let early = teams(30, "2026-05-20", 20);
        let late = teams(30, "2026-05-27", 27);
        assert_eq!(messages(&[&late, &early], &window()), 27);
        assert_eq!(messages(&[&early, &late], &window()), 27);
        let refreshed_again = FactRow {
            refreshed: date("2026-05-29"),
            counts: Counts { messages: Some(28), ..late.clone().counts },
            ..late.clone()
        };
        assert_eq!(messages(&[&refreshed_again, &late], &window()), 28);
        assert_eq!(messages(&[&late, &refreshed_again], &window()), 28);
        // 30 and 26 days are equally far from 28: the later end decides.
        let short = FactRow {
            start: date("2026-05-04"),
            counts: Counts { messages: Some(26), ..teams(30, "2026-05-29", 0).counts },
            ..teams(30, "2026-05-29", 0)
        };
        assert_eq!(messages(&[&short, &early], &window()), 26);
        assert_eq!(messages(&[&early, &short], &window()), 26);
    }

    #[test]
    fn two_report_kinds_of_one_source_give_one_choice_whatever_the_order() {
        let activity = teams(30, "2026-05-29", 30);
        let other = FactRow {
            report: "teams_other_report".into(),
            counts: Counts { messages: Some(0), ..activity.clone().counts },
            ..activity.clone()
        };
        let a = aggregate(&[&activity, &other], &window()).unwrap();
        let b = aggregate(&[&other, &activity], &window()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.sources, vec![FactSource::Teams], "one tool, counted once");
    }

    #[test]
    fn a_day_reported_twice_counts_once() {
        let first = FactRow { report: "a".into(), ..daily(FactSource::SlackApi, "2026-05-20", 2, 0, true) };
        let second = FactRow {
            report: "b".into(),
            counts: Counts { messages: Some(5), ..first.clone().counts },
            ..first.clone()
        };
        let a = aggregate(&[&first, &second], &window()).unwrap();
        assert_eq!((a.active_days, a.messages), (Some(1), 5));
        assert_eq!(aggregate(&[&second, &first], &window()), Some(a));
    }

    #[test]
    fn slack_daily_rows_win_over_the_dashboard_period() {
        let rows = [
            FactRow {
                source: Some(FactSource::SlackDashboard),
                start: date("2026-04-30"),
                end: date("2026-05-29"),
                counts: Counts { active_days: Some(20), messages: Some(50), ..Counts::default() },
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
            counts: Counts { passive: true, messages: Some(0), ..Counts::default() },
            ..FactRow::default()
        };
        let a = aggregate(&[&passive], &window()).unwrap();
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Silent);
        let nothing = FactRow { counts: Counts { passive: false, ..passive.counts }, ..passive };
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
            counts: Counts { messages: Some(0), files: Some(0), reads: Some(40), ..Counts::default() },
            ..FactRow::default()
        };
        let a = aggregate(&[&reader], &window()).unwrap();
        assert!(a.present);
        assert_eq!(classify(&a, &AggregatedRule::default()), Tier::Silent);
        assert!(a.messages_include_reactions, "Google's figure is messages and reactions");
    }
}
