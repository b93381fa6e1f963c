//! The activity engine: from a person's events to sessions, login depth and
//! the per-person metrics (spec sections 3 and 4). Pure: data in, data out.

use std::collections::HashMap;

use super::calendar::{DAY_SECONDS, Window};
use super::dataset::{ChannelType, Dataset, Event};
use super::decimal::Ratio;
use super::kind::{Class, Kind, KindMap};

/// Session timeout: a gap of more than this ends a session.
pub const SESSION_GAP_SECONDS: i64 = 30 * 60;

/// Everything counted for one person over a window. Tiers and profile
/// indicators are derived from these counters.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Counters {
    pub active_days: u32,
    pub interactive_days: u32,
    pub sessions: u32,
    pub engaged_sessions: u32,
    pub messages_sent: u32,
    /// Bit set of the feature families used (see `Family::bit`).
    pub families: u8,
    /// Reply latencies in seconds, sorted.
    pub reply_latencies: Vec<i64>,
    pub events: u32,
    pub interactive_events: u32,
    /// Sum of session lengths (last event minus first), seconds.
    pub session_seconds: i64,
    /// Events per known kind id (index = kind id, custom kinds not counted).
    pub kind_counts: Vec<u32>,
    /// `message_sent` by others in channels this person took part in.
    pub messages_received: u32,
    /// Interactive events in direct channels.
    pub direct_interactions: u32,
    pub conversations_started: u32,
    pub conversations_closed: u32,
    pub conversations_resolved: u32,
    /// First-response times, seconds, one per started conversation answered.
    pub first_responses: Vec<i64>,
}

impl Counters {
    pub fn feature_breadth(&self) -> u32 {
        self.families.count_ones()
    }

    pub fn login_depth(&self) -> Option<Ratio> {
        Ratio::new(u64::from(self.engaged_sessions), u64::from(self.sessions))
    }

    /// The median reply latency in minutes, exact (seconds over 60, or the
    /// mean of the two middle values for an even count).
    pub fn median_reply_minutes(&self) -> Option<Ratio> {
        let n = self.reply_latencies.len();
        if n == 0 {
            return None;
        }
        let twice = if n % 2 == 1 {
            2 * self.reply_latencies[n / 2]
        } else {
            self.reply_latencies[n / 2 - 1] + self.reply_latencies[n / 2]
        };
        Ratio::new(twice as u64, 120)
    }

    pub fn count(&self, kind: Kind) -> u32 {
        self.kind_counts.get(kind.0 as usize).copied().unwrap_or(0)
    }
}

pub(super) const COUNTED_KINDS: usize = 32;

/// Computes every person's counters over the window. The result is indexed
/// like `data.people`.
pub fn compute_counters(data: &Dataset, window: &Window, kinds: &KindMap) -> Vec<Counters> {
    let n = data.people.len();
    let mut out: Vec<Counters> =
        (0..n).map(|_| Counters { kind_counts: vec![0; COUNTED_KINDS], ..Counters::default() }).collect();

    // Bucket the in-window events by person (a counting sort keeps this linear).
    let mut starts = vec![0usize; n + 1];
    for e in &data.events {
        if window.contains(e.ts) && (e.person as usize) < n {
            starts[e.person as usize + 1] += 1;
        }
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut by_person: Vec<Event> =
        vec![Event { person: 0, ts: 0, kind: Kind(0), channel: 0, channel_type: ChannelType::Unknown }; starts[n]];
    for e in &data.events {
        if window.contains(e.ts) && (e.person as usize) < n {
            let slot = &mut fill[e.person as usize];
            by_person[*slot] = *e;
            *slot += 1;
        }
    }

    for (p, counters) in out.iter_mut().enumerate() {
        let events = &mut by_person[starts[p]..starts[p + 1]];
        person_counters(events, window, kinds, counters);
    }

    replies(data, window, &mut out);
    channel_indicators(&by_person, &mut out);
    out
}

/// One session (spec section 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub start: i64,
    pub end: i64,
    pub engaged: bool,
    pub events: u32,
}

/// Splits one person's events, fed in session order, into sessions: a
/// session ends after a `logout` or before a gap of more than 30 minutes.
#[derive(Default)]
struct SessionSplitter {
    open: Option<Session>,
}

impl SessionSplitter {
    /// Feeds an event; returns the sessions it closed (at most two: the one
    /// a gap ended, and a one-event session ended by this logout).
    fn push(&mut self, e: &Event, interactive: bool) -> impl Iterator<Item = Session> {
        let mut closed = [None, None];
        self.open = match self.open {
            Some(s) if e.ts - s.end <= SESSION_GAP_SECONDS => {
                Some(Session { end: e.ts, engaged: s.engaged || interactive, events: s.events + 1, ..s })
            }
            previous => {
                closed[0] = previous;
                Some(Session { start: e.ts, end: e.ts, engaged: interactive, events: 1 })
            }
        };
        if e.kind == Kind::LOGOUT {
            closed[1] = self.open.take();
        }
        closed.into_iter().flatten()
    }

    fn finish(&mut self) -> Option<Session> {
        self.open.take()
    }
}

/// A person's sessions in time order, from their events in any order.
pub fn sessions_of(events: &mut [Event], kinds: &KindMap) -> Vec<Session> {
    events.sort_unstable_by_key(session_order);
    let mut splitter = SessionSplitter::default();
    let mut out = Vec::new();
    for e in events.iter() {
        out.extend(splitter.push(e, kinds.class(e.kind).is_interactive()));
    }
    out.extend(splitter.finish());
    out
}

/// Order of a person's events: by time, and a `logout` after anything else at
/// the same second, so that the session it closes includes them.
fn session_order(e: &Event) -> (i64, bool, u16, u32) {
    (e.ts, e.kind == Kind::LOGOUT, e.kind.0, e.channel)
}

pub(super) fn person_counters(events: &mut [Event], window: &Window, kinds: &KindMap, c: &mut Counters) {
    events.sort_unstable_by_key(session_order);
    let mut active = vec![false; window.days as usize];
    let mut interactive = vec![false; window.days as usize];

    let mut sessions = SessionSplitter::default();
    let close = |session: Session, c: &mut Counters| {
        c.sessions += 1;
        c.engaged_sessions += u32::from(session.engaged);
        c.session_seconds += session.end - session.start;
    };

    for e in events.iter() {
        let class = kinds.class(e.kind);
        let is_interactive = class.is_interactive();
        c.events += 1;
        if let Some(day) = window.day_index(e.ts) {
            active[day] = true;
            interactive[day] |= is_interactive;
        }
        if let Some(count) = c.kind_counts.get_mut(e.kind.0 as usize) {
            *count += 1;
        }
        if e.kind == Kind::MESSAGE_SENT {
            c.messages_sent += 1;
        }
        if let Class::Interactive(family) = class {
            c.interactive_events += 1;
            if let Some(f) = family {
                c.families |= f.bit();
            }
            if e.channel_type == ChannelType::Direct {
                c.direct_interactions += 1;
            }
        }
        for closed in sessions.push(e, is_interactive) {
            close(closed, c);
        }
    }
    if let Some(s) = sessions.finish() {
        close(s, c);
    }
    c.active_days = active.iter().filter(|&&d| d).count() as u32;
    c.interactive_days = interactive.iter().filter(|&&d| d).count() as u32;
}

/// Reply latencies: each `message_sent` in the window with a channel is
/// compared with the previous `message_sent` in that channel by anyone.
fn replies(data: &Dataset, window: &Window, out: &mut [Counters]) {
    let (from, _) = Dataset::needed_span(window);
    let mut messages: Vec<(u32, i64, u32)> = data
        .events
        .iter()
        .filter(|e| e.kind == Kind::MESSAGE_SENT && e.channel != 0 && e.ts >= from && e.ts < window.end())
        .map(|e| (e.channel, e.ts, e.person))
        .collect();
    // Simultaneous messages are ordered by person (people are sorted by
    // user_id), so the result does not depend on the order of import.
    messages.sort_unstable();
    for pair in messages.windows(2) {
        let (prev_channel, prev_ts, prev_person) = pair[0];
        let (channel, ts, person) = pair[1];
        if channel == prev_channel
            && person != prev_person
            && window.contains(ts)
            && ts - prev_ts <= DAY_SECONDS
            && let Some(c) = out.get_mut(person as usize)
        {
            c.reply_latencies.push(ts - prev_ts);
        }
    }
    for c in out.iter_mut() {
        c.reply_latencies.sort_unstable();
    }
}

/// Indicators that look at a channel as a whole: messages received (for the
/// read rate) and customer-service conversations.
fn channel_indicators(in_window: &[Event], out: &mut [Counters]) {
    let mut channel_events: Vec<&Event> = in_window.iter().filter(|e| e.channel != 0).collect();
    channel_events.sort_unstable_by_key(|e| (e.channel, e.ts, e.kind != Kind::CONVERSATION_STARTED, e.person));

    let mut i = 0;
    while i < channel_events.len() {
        let channel = channel_events[i].channel;
        let mut j = i;
        while j < channel_events.len() && channel_events[j].channel == channel {
            j += 1;
        }
        let run = &channel_events[i..j];
        messages_received(run, out);
        conversations(run, out);
        i = j;
    }
}

fn messages_received(run: &[&Event], out: &mut [Counters]) {
    let total = run.iter().filter(|e| e.kind == Kind::MESSAGE_SENT).count() as u32;
    if total == 0 {
        return;
    }
    let mut own: HashMap<u32, u32> = HashMap::new();
    for e in run {
        let entry = own.entry(e.person).or_insert(0);
        if e.kind == Kind::MESSAGE_SENT {
            *entry += 1;
        }
    }
    for (person, sent) in own {
        if let Some(c) = out.get_mut(person as usize) {
            c.messages_received += total - sent;
        }
    }
}

/// A conversation (channel) started by an agent in the window: completed when
/// a `conversation_closed` follows, resolved when a `conversation_resolved`
/// follows, and its first response is the agent's first `message_sent` after
/// the start.
fn conversations(run: &[&Event], out: &mut [Counters]) {
    let Some(start) = run.iter().position(|e| e.kind == Kind::CONVERSATION_STARTED) else {
        return;
    };
    let agent = run[start].person;
    let started_at = run[start].ts;
    let rest = &run[start + 1..];
    let Some(c) = out.get_mut(agent as usize) else {
        return;
    };
    c.conversations_started += 1;
    c.conversations_closed += u32::from(rest.iter().any(|e| e.kind == Kind::CONVERSATION_CLOSED));
    c.conversations_resolved += u32::from(rest.iter().any(|e| e.kind == Kind::CONVERSATION_RESOLVED));
    if let Some(reply) = rest.iter().find(|e| e.kind == Kind::MESSAGE_SENT && e.person == agent) {
        c.first_responses.push(reply.ts - started_at);
    }
}
