//! The engine's input: people, their events and the facts of aggregated
//! sources, as read for one window. Metrics, tiers and aggregated sources
//! all work on it, so it sits below them.

use chrono::NaiveDate;

use super::calendar::{DAY_SECONDS, Window};
use super::facts::{Counts, FactSource};
use super::kind::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub enum ChannelType {
    #[default]
    Unknown,
    Direct,
    Group,
    Broadcast,
}

impl ChannelType {
    pub fn parse(s: &str) -> Option<ChannelType> {
        match s {
            "direct" => Some(ChannelType::Direct),
            "group" => Some(ChannelType::Group),
            "broadcast" => Some(ChannelType::Broadcast),
            _ => None,
        }
    }

    pub fn code(self) -> i16 {
        self as i16
    }

    pub fn from_code(code: i64) -> ChannelType {
        match code {
            1 => ChannelType::Direct,
            2 => ChannelType::Group,
            3 => ChannelType::Broadcast,
            _ => ChannelType::Unknown,
        }
    }
}

/// One stored event as the engine sees it. `person` indexes `Dataset::people`;
/// `channel` 0 means "no channel".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub person: u32,
    pub ts: i64,
    pub kind: Kind,
    pub channel: u32,
    pub channel_type: ChannelType,
}

/// A person as the engine sees it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Person {
    pub user_id: String,
    pub department: Option<String>,
    /// Directory `start_date`.
    pub start_date: Option<NaiveDate>,
    /// The earliest imported event, from all data.
    pub first_event: Option<i64>,
    /// What the person's presence can be measured from (combined sources).
    /// Only the evaluation reads it: stored results leave it out.
    #[serde(skip)]
    pub presence: Presence,
}

/// A person's coverage by presence sources, for the loaded span: see
/// `coverage::presence_gap`. Empty (the default) when none of their
/// events comes from a messages-only source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presence {
    /// A messages-only source of theirs (by its imports' name) with the
    /// first and last instant of their events from such sources.
    pub messages_only: Option<(&'static str, i64, i64)>,
    /// Periods (first, last instant) of presence-source imports holding
    /// events of theirs.
    pub covered: Vec<(i64, i64)>,
}

/// What the engine needs: people sorted by `user_id` (their index order is the
/// tie-break for simultaneous messages), and every event from one day before
/// the window's start to its end (replies may answer a message from before
/// the window).
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub people: Vec<Person>,
    pub events: Vec<Event>,
    /// Facts from aggregated sources ending inside the window.
    pub facts: Vec<FactRow>,
}

impl Dataset {
    /// The span of event time the engine needs for a window.
    pub fn needed_span(window: &Window) -> (i64, i64) {
        (window.start() - DAY_SECONDS, window.end())
    }
}

/// A stored fact as the engine sees it; `person` indexes `Dataset::people`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactRow {
    pub person: u32,
    pub source: Option<FactSource>,
    /// The report kind within the source (`FactSource::report`).
    pub report: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The date the vendor produced the figures.
    pub refreshed: NaiveDate,
    pub counts: Counts,
}
