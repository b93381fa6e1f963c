//! Edge cases of the session, day and reply rules (spec sections 3 and 4).

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::calendar::{Window, day_start};
use super::dataset::{ChannelType, Dataset, Event, Person};
use super::kind::{Kind, KindMap};
use super::metrics::{Counters, compute_counters};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn utc_window() -> Window {
    Window::new(date("2026-05-29"), 28, chrono_tz::UTC)
}

/// 2026-05-20 12:00 UTC, inside the window.
const NOON: i64 = 1_779_278_400;

fn ev(person: u32, ts: i64, kind: Kind, channel: u32) -> Event {
    Event { person, ts, kind, channel, channel_type: ChannelType::Group }
}

fn people(n: usize) -> Vec<Person> {
    (0..n).map(|i| Person { user_id: format!("p{i}"), ..Person::default() }).collect()
}

fn counters(events: Vec<Event>, n: usize, window: &Window) -> Vec<Counters> {
    compute_counters(&Dataset { people: people(n), events, facts: vec![] }, window, &KindMap::default())
}

#[test]
fn a_gap_of_exactly_30_minutes_keeps_the_session_and_one_second_more_ends_it() {
    let w = utc_window();
    let c = counters(vec![ev(0, NOON, Kind::LOGIN, 0), ev(0, NOON + 1800, Kind::MESSAGE_SENT, 0)], 1, &w);
    assert_eq!((c[0].sessions, c[0].engaged_sessions), (1, 1));
    let c = counters(vec![ev(0, NOON, Kind::LOGIN, 0), ev(0, NOON + 1801, Kind::MESSAGE_SENT, 0)], 1, &w);
    assert_eq!((c[0].sessions, c[0].engaged_sessions), (2, 1));
}

#[test]
fn a_logout_ends_the_session_and_a_login_inside_one_does_not_start_another() {
    let w = utc_window();
    let events = vec![
        ev(0, NOON, Kind::LOGIN, 0),
        ev(0, NOON + 60, Kind::LOGIN, 0),
        ev(0, NOON + 120, Kind::LOGOUT, 0),
        ev(0, NOON + 180, Kind::MESSAGE_SENT, 0),
    ];
    let c = counters(events, 1, &w);
    assert_eq!((c[0].sessions, c[0].engaged_sessions), (2, 1));
}

#[test]
fn a_logout_at_the_same_second_closes_the_session_after_the_other_events() {
    let w = utc_window();
    let events = vec![ev(0, NOON, Kind::LOGOUT, 0), ev(0, NOON, Kind::MESSAGE_SENT, 0)];
    let c = counters(events, 1, &w);
    assert_eq!((c[0].sessions, c[0].engaged_sessions), (1, 1));
}

#[test]
fn a_reply_at_exactly_24_hours_counts_and_one_second_later_does_not() {
    let w = utc_window();
    let events = vec![ev(0, NOON - 86_400, Kind::MESSAGE_SENT, 7), ev(1, NOON, Kind::MESSAGE_SENT, 7)];
    let c = counters(events, 2, &w);
    assert_eq!(c[1].reply_latencies, vec![86_400]);
    let events = vec![ev(0, NOON - 86_401, Kind::MESSAGE_SENT, 7), ev(1, NOON, Kind::MESSAGE_SENT, 7)];
    let c = counters(events, 2, &w);
    assert!(c[1].reply_latencies.is_empty());
}

#[test]
fn a_reply_may_answer_a_message_from_before_the_window() {
    let w = utc_window();
    let events = vec![ev(0, w.start() - 600, Kind::MESSAGE_SENT, 7), ev(1, w.start() + 600, Kind::MESSAGE_SENT, 7)];
    let c = counters(events, 2, &w);
    assert_eq!(c[1].reply_latencies, vec![1200]);
    // The earlier message is outside the window: it is nobody's reply and
    // counts for nothing else.
    assert_eq!(c[0].messages_sent, 0);
}

#[test]
fn only_the_previous_message_counts_and_own_messages_are_not_replies() {
    let w = utc_window();
    let events = vec![
        ev(0, NOON, Kind::MESSAGE_SENT, 7),
        ev(1, NOON + 60, Kind::MESSAGE_SENT, 7),
        ev(1, NOON + 120, Kind::MESSAGE_SENT, 7),
        ev(0, NOON + 300, Kind::MESSAGE_SENT, 7),
        ev(0, NOON + 400, Kind::MESSAGE_SENT, 8),
        ev(1, NOON + 400, Kind::MESSAGE_SENT, 0),
    ];
    let c = counters(events, 2, &w);
    assert_eq!(c[1].reply_latencies, vec![60]);
    assert_eq!(c[0].reply_latencies, vec![180]);
}

#[test]
fn median_reply_is_the_mean_of_the_middle_two_for_an_even_count() {
    let c = Counters { reply_latencies: vec![60, 120, 600, 6000], ..Counters::default() };
    // (120 + 600) / 2 = 360 s = 6 minutes.
    assert_eq!(c.median_reply_minutes().unwrap().display(1), "6");
    let c = Counters { reply_latencies: vec![10_695], ..Counters::default() };
    // 178.25 minutes shows as 178.3.
    assert_eq!(c.median_reply_minutes().unwrap().display(1), "178.3");
}

#[test]
fn days_are_counted_in_the_organisation_time_zone_across_daylight_saving() {
    // New York springs forward on 2026-03-08; 23:30 local that day is
    // 03:30 UTC on the 9th, and must count on the 8th.
    let tz: Tz = "America/New_York".parse().unwrap();
    let w = Window::new(date("2026-03-09"), 2, tz);
    let late_on_8th = day_start(tz, date("2026-03-09")) - 1800;
    let early_on_9th = day_start(tz, date("2026-03-09")) + 60;
    let c = counters(vec![ev(0, late_on_8th, Kind::MESSAGE_SENT, 0)], 1, &w);
    assert_eq!(c[0].active_days, 1);
    // The two events are 31 minutes apart on two local days: two sessions.
    let c = counters(vec![ev(0, late_on_8th, Kind::LOGIN, 0), ev(0, early_on_9th, Kind::REACTION, 0)], 1, &w);
    assert_eq!((c[0].active_days, c[0].interactive_days, c[0].sessions), (2, 1, 2));
    // The same pair read in UTC falls on one day.
    let w = Window::new(date("2026-03-09"), 2, chrono_tz::UTC);
    let c = counters(vec![ev(0, late_on_8th, Kind::LOGIN, 0), ev(0, early_on_9th, Kind::REACTION, 0)], 1, &w);
    assert_eq!(c[0].active_days, 1);
}

#[test]
fn events_outside_the_window_count_for_nothing() {
    let w = utc_window();
    let events = vec![ev(0, w.start() - 1, Kind::MESSAGE_SENT, 0), ev(0, w.end(), Kind::MESSAGE_SENT, 0)];
    let c = counters(events, 1, &w);
    assert_eq!(c[0].events, 0);
    assert_eq!(c[0].sessions, 0);
}

#[test]
fn breadth_counts_families_not_kinds() {
    let w = utc_window();
    let events = vec![
        ev(0, NOON, Kind::VIDEO_CALL, 0),
        ev(0, NOON + 1, Kind::MEETING, 0),
        ev(0, NOON + 2, Kind::SCREEN_SHARE, 0),
        ev(0, NOON + 3, Kind::REACTION, 0),
        ev(0, NOON + 4, Kind::NOTIFICATION_READ, 0),
    ];
    let c = counters(events, 1, &w);
    assert_eq!(c[0].feature_breadth(), 2);
}

#[test]
fn messages_received_and_conversations() {
    let w = utc_window();
    let events = vec![
        ev(0, NOON, Kind::CONVERSATION_STARTED, 5),
        ev(1, NOON + 10, Kind::MESSAGE_SENT, 5),
        ev(0, NOON + 70, Kind::MESSAGE_SENT, 5),
        ev(0, NOON + 80, Kind::MESSAGE_SENT, 5),
        ev(0, NOON + 500, Kind::CONVERSATION_RESOLVED, 5),
        ev(1, NOON + 900, Kind::MESSAGE_READ, 6),
    ];
    let c = counters(events, 2, &w);
    assert_eq!(c[0].messages_received, 1);
    assert_eq!(c[1].messages_received, 2);
    assert_eq!((c[0].conversations_started, c[0].conversations_closed, c[0].conversations_resolved), (1, 0, 1));
    assert_eq!(c[0].first_responses, vec![70]);
}

#[test]
fn sessions_are_listed_with_their_span_and_engagement() {
    let mut events = vec![
        ev(0, NOON + 4000, Kind::MESSAGE_SENT, 0),
        ev(0, NOON, Kind::LOGIN, 0),
        ev(0, NOON + 60, Kind::LOGOUT, 0),
        ev(0, NOON + 3000, Kind::NOTIFICATION_READ, 0),
    ];
    let s = super::metrics::sessions_of(&mut events, &KindMap::default());
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].start, s[0].end, s[0].engaged, s[0].events), (NOON, NOON + 60, false, 2));
    assert_eq!((s[1].start, s[1].end, s[1].engaged, s[1].events), (NOON + 3000, NOON + 4000, true, 2));
}
