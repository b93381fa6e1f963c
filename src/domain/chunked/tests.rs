//! Chunked evaluation equals the whole evaluation, for any chunking.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;

use super::*;
use crate::domain::calendar::Window;
use crate::domain::dataset::{ChannelType, Person};
use crate::domain::evaluation::evaluate;
use crate::domain::profile::{Profile, ProfileId};

const KINDS: [Kind; 9] = [
    Kind::MESSAGE_SENT,
    Kind::MESSAGE_SENT,
    Kind::LOGIN,
    Kind::LOGOUT,
    Kind::MESSAGE_READ,
    Kind::DOC_EDIT,
    Kind::CONVERSATION_STARTED,
    Kind::CONVERSATION_CLOSED,
    Kind::CONVERSATION_RESOLVED,
];

fn as_of() -> NaiveDate {
    "2026-05-29".parse().unwrap()
}

/// Events over the two windows and the days before, clustered on a few
/// instants a day so that sessions, replies across people, simultaneous
/// messages and conversations closed at their start occur.
fn dataset() -> impl Strategy<Value = Dataset> {
    let start = Window::new(as_of() - Days::new(7), 14, chrono_tz::UTC).start() - 2 * DAY_SECONDS;
    let span = 24 * DAY_SECONDS;
    (1usize..9).prop_flat_map(move |n| {
        let time = (0i64..24, 0i64..4, prop_oneof![Just(0i64), 0i64..90, 0i64..DAY_SECONDS])
            .prop_map(move |(day, slot, jitter)| start + day * DAY_SECONDS + slot * 1800 + jitter);
        let event = (0..n as u32, time, prop::sample::select(&KINDS[..]), 0u32..4, any::<bool>()).prop_map(
            move |(person, ts, kind, channel, direct)| Event {
                person,
                ts,
                kind,
                channel,
                channel_type: if direct { ChannelType::Direct } else { ChannelType::Group },
            },
        );
        let first = prop::collection::vec(prop::option::weighted(0.9, 0i64..span), n);
        (prop::collection::vec(event, 0..200), first).prop_map(move |(events, first)| Dataset {
            people: first
                .into_iter()
                .enumerate()
                .map(|(i, f)| Person {
                    user_id: format!("p{i}"),
                    first_event: f.map(|f| start + f),
                    ..Person::default()
                })
                .collect(),
            events,
            facts: vec![],
        })
    })
}

/// The evaluation by chunks of `size` people, each chunk seeing only its
/// own people's events, with the channel summaries folded chunk by chunk.
fn chunked(data: &Dataset, window: &Window, profile: &Profile, size: usize) -> Vec<PersonResult> {
    let n = data.people.len();
    let chunks: Vec<Range<usize>> = (0..n).step_by(size).map(|a| a..(a + size).min(n)).collect();
    let chunk_data = |r: &Range<usize>| Dataset {
        people: data.people.clone(),
        events: data.events.iter().filter(|e| r.contains(&(e.person as usize))).copied().collect(),
        facts: vec![],
    };
    let mut channels = Channels::default();
    let mut messages = Vec::new();
    for r in &chunks {
        let mut part = Channels::default();
        for e in &chunk_data(r).events {
            part.add(e, window);
            messages.extend(Replies::message(e));
        }
        channels.merge(part);
    }
    let replies = Replies::from_messages(messages);
    let shared = Shared { channels: &channels, replies: &replies };
    chunks.iter().flat_map(|r| evaluate_chunk(&chunk_data(r), r.clone(), window, profile, &shared)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn chunked_evaluation_equals_the_whole(data in dataset()) {
        let profile = Profile::builtin(ProfileId::CustomerService);
        for as_of in [as_of(), as_of() - Days::new(7)] {
            let window = Window::new(as_of, 14, chrono_tz::UTC);
            let whole = format!("{:?}", evaluate(&data, &window, &profile).results);
            for size in [1, 2, 3, 5, 8] {
                prop_assert_eq!(&format!("{:?}", chunked(&data, &window, &profile, size)), &whole, "chunks of {}", size);
            }
        }
    }
}

#[test]
fn a_reply_across_chunks_counts_for_the_replier() {
    let window = Window::new(as_of(), 14, chrono_tz::UTC);
    let t = window.start() + DAY_SECONDS;
    let ev = |person, ts, kind| Event { person, ts, kind, channel: 1, channel_type: ChannelType::Group };
    let data = Dataset {
        people: (0..2)
            .map(|i| Person { user_id: format!("p{i}"), first_event: Some(0), ..Person::default() })
            .collect(),
        events: vec![
            ev(0, t, Kind::CONVERSATION_STARTED),
            ev(1, t + 60, Kind::MESSAGE_SENT),
            ev(0, t + 90, Kind::MESSAGE_SENT),
            ev(1, t + 120, Kind::CONVERSATION_CLOSED),
        ],
        facts: vec![],
    };
    let profile = Profile::builtin(ProfileId::CustomerService);
    let r = chunked(&data, &window, &profile, 1);
    assert_eq!(r[0].counters.reply_latencies, vec![30]);
    assert_eq!(r[1].counters.reply_latencies, Vec::<i64>::new());
    assert_eq!((r[0].counters.conversations_started, r[0].counters.conversations_closed), (1, 1));
    assert_eq!(r[0].counters.first_responses, vec![90]);
    assert_eq!((r[0].counters.messages_received, r[1].counters.messages_received), (1, 1));
    assert_eq!(format!("{:?}", r), format!("{:?}", evaluate(&data, &window, &profile).results));
}
