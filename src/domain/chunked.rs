//! Evaluation by chunks of people, so that only one chunk's events are in
//! memory at a time, with exactly the results of `evaluation::evaluate`.
//!
//! Almost every counter depends on the person's own events only. Two rules
//! look at other people's events in the same channel:
//! - replies compare each `message_sent` with the previous one in its
//!   channel by anyone: [`Replies`] computes, once, every message's reply
//!   latency from the channel messages alone (a compact list);
//! - messages received and customer-service conversations need, per channel
//!   and window, the number of messages, the conversation's start (the
//!   earliest `conversation_started`, by time then person) and the last
//!   close and resolution: [`Channels`], folded over every chunk's events
//!   first and merged.

use std::collections::HashMap;
use std::ops::Range;

use super::calendar::{DAY_SECONDS, Window};
use super::dataset::{Dataset, Event, FactRow};
use super::evaluation::{PersonResult, person_result};
use super::kind::{Kind, KindMap};
use super::metrics::{COUNTED_KINDS, Counters, person_counters};
use super::profile::Profile;

/// What the channel rules need to know about one channel over one window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelSummary {
    /// `message_sent` events in the window.
    pub messages: u32,
    /// The conversation's start: the earliest `conversation_started` (time,
    /// then person index).
    pub start: Option<(i64, u32)>,
    pub last_closed: Option<i64>,
    pub last_resolved: Option<i64>,
}

/// Channel summaries for one window, folded over events in any order and
/// chunking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    by_channel: HashMap<u32, ChannelSummary>,
}

impl Channels {
    /// Counts one event (those outside the window or without a channel are
    /// ignored).
    pub fn add(&mut self, e: &Event, window: &Window) {
        if e.channel == 0 || !window.contains(e.ts) {
            return;
        }
        let s = self.by_channel.entry(e.channel).or_default();
        if e.kind == Kind::MESSAGE_SENT {
            s.messages += 1;
        } else if e.kind == Kind::CONVERSATION_STARTED {
            s.start = Some(s.start.map_or((e.ts, e.person), |x| x.min((e.ts, e.person))));
        } else if e.kind == Kind::CONVERSATION_CLOSED {
            s.last_closed = s.last_closed.max(Some(e.ts));
        } else if e.kind == Kind::CONVERSATION_RESOLVED {
            s.last_resolved = s.last_resolved.max(Some(e.ts));
        }
    }

    /// Adds the summaries of other events (another chunk's).
    pub fn merge(&mut self, other: Channels) {
        for (channel, o) in other.by_channel {
            let s = self.by_channel.entry(channel).or_default();
            s.messages += o.messages;
            s.start = match (s.start, o.start) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            s.last_closed = s.last_closed.max(o.last_closed);
            s.last_resolved = s.last_resolved.max(o.last_resolved);
        }
    }

    /// Conversations started by people in `people`: (agent, channel,
    /// start), by agent then channel.
    fn started_in(&self, people: &Range<usize>) -> Vec<(u32, u32, i64)> {
        let mut out: Vec<(u32, u32, i64)> = self
            .by_channel
            .iter()
            .filter_map(|(ch, s)| s.start.map(|(ts, p)| (p, *ch, ts)))
            .filter(|(p, ..)| people.contains(&(*p as usize)))
            .collect();
        out.sort_unstable();
        out
    }
}

/// Every message's reply latency, by the person who replied: (time of the
/// reply, latency), in time order.
#[derive(Clone, Debug, Default)]
pub struct Replies {
    by_person: HashMap<u32, Vec<(i64, i64)>>,
}

impl Replies {
    /// The channel messages `(channel, ts, person)`: every `message_sent`
    /// with a channel over the whole span being evaluated (from one day
    /// before the earliest window), in any order.
    pub fn from_messages(mut messages: Vec<(u32, i64, u32)>) -> Replies {
        // The order of `metrics::replies`: simultaneous messages by person.
        messages.sort_unstable();
        let mut by_person: HashMap<u32, Vec<(i64, i64)>> = HashMap::new();
        for pair in messages.windows(2) {
            let (prev_channel, prev_ts, prev_person) = pair[0];
            let (channel, ts, person) = pair[1];
            if channel == prev_channel && person != prev_person && ts - prev_ts <= DAY_SECONDS {
                by_person.entry(person).or_default().push((ts, ts - prev_ts));
            }
        }
        for list in by_person.values_mut() {
            list.sort_unstable();
        }
        Replies { by_person }
    }

    /// The message tuple `from_messages` needs, if the event is one.
    pub fn message(e: &Event) -> Option<(u32, i64, u32)> {
        (e.kind == Kind::MESSAGE_SENT && e.channel != 0).then_some((e.channel, e.ts, e.person))
    }

    /// A person's reply latencies within a window, sorted.
    fn within(&self, person: u32, window: &Window) -> Vec<i64> {
        let mut out: Vec<i64> = self
            .by_person
            .get(&person)
            .map(|l| l.iter().filter(|(ts, _)| window.contains(*ts)).map(|(_, d)| *d).collect())
            .unwrap_or_default();
        out.sort_unstable();
        out
    }
}

/// What a chunk needs about everyone for one window.
pub struct Shared<'a> {
    pub channels: &'a Channels,
    pub replies: &'a Replies,
}

/// The counters of the people in `people` (indexes into `data.people`), from
/// `data.events` holding at least their events.
pub fn chunk_counters(
    data: &Dataset,
    people: Range<usize>,
    window: &Window,
    kinds: &KindMap,
    shared: &Shared,
) -> Vec<Counters> {
    let mut by_person: Vec<Vec<Event>> = vec![Vec::new(); people.len()];
    for e in &data.events {
        let p = e.person as usize;
        if people.contains(&p) && window.contains(e.ts) {
            by_person[p - people.start].push(*e);
        }
    }
    let started = shared.channels.started_in(&people);
    by_person
        .iter_mut()
        .enumerate()
        .map(|(k, events)| {
            let p = (people.start + k) as u32;
            let mut c = Counters { kind_counts: vec![0; COUNTED_KINDS], ..Counters::default() };
            person_counters(events, window, kinds, &mut c);
            c.reply_latencies = shared.replies.within(p, window);
            messages_received(events, shared.channels, &mut c);
            let from = started.partition_point(|(a, ..)| *a < p);
            let to = started.partition_point(|(a, ..)| *a <= p);
            conversations(events, &started[from..to], shared.channels, &mut c);
            c
        })
        .collect()
}

/// Messages by others in the channels the person has events in.
fn messages_received(events: &[Event], channels: &Channels, c: &mut Counters) {
    let mut own: HashMap<u32, u32> = HashMap::new();
    for e in events.iter().filter(|e| e.channel != 0) {
        *own.entry(e.channel).or_insert(0) += u32::from(e.kind == Kind::MESSAGE_SENT);
    }
    for (channel, sent) in own {
        let total = channels.by_channel.get(&channel).map_or(0, |s| s.messages);
        if total > 0 {
            c.messages_received += total - sent;
        }
    }
}

/// The conversations this person started (by channel), as
/// `metrics::conversations` counts them.
fn conversations(events: &[Event], started: &[(u32, u32, i64)], channels: &Channels, c: &mut Counters) {
    for &(_, channel, start) in started {
        let Some(s) = channels.by_channel.get(&channel) else { continue };
        c.conversations_started += 1;
        c.conversations_closed += u32::from(s.last_closed.is_some_and(|t| t >= start));
        c.conversations_resolved += u32::from(s.last_resolved.is_some_and(|t| t >= start));
        let first = events
            .iter()
            .filter(|e| e.kind == Kind::MESSAGE_SENT && e.channel == channel && e.ts >= start)
            .map(|e| e.ts)
            .min();
        if let Some(ts) = first {
            c.first_responses.push(ts - start);
        }
    }
}

/// The results of the listed people in `people`, in people order: the
/// chunks' results concatenated in order are `evaluate`'s.
pub fn evaluate_chunk(
    data: &Dataset,
    people: Range<usize>,
    window: &Window,
    profile: &Profile,
    shared: &Shared,
) -> Vec<PersonResult> {
    let counters = chunk_counters(data, people.clone(), window, &profile.kinds, shared);
    let mut facts: Vec<Vec<&FactRow>> = vec![Vec::new(); people.len()];
    for f in &data.facts {
        let p = f.person as usize;
        if people.contains(&p) {
            facts[p - people.start].push(f);
        }
    }
    counters
        .into_iter()
        .enumerate()
        .filter_map(|(k, counters)| person_result(data, people.start + k, counters, &facts[k], window, profile))
        .collect()
}

#[cfg(test)]
mod tests;
