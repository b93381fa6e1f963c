//! Per-person facts from aggregated sources (platform admin exports: Teams,
//! Slack, Feishu, Google Chat). They carry totals for a period or a day,
//! not events: no sessions (so no login depth) and no channels (so no reply
//! speed). What they give is kept; what they do not give stays `None` and is
//! shown as "not available from this source", never as zero.

use std::fmt;

use chrono::NaiveDate;

use super::kind::Family;

/// Where a fact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum FactSource {
    /// Microsoft Teams user activity user detail (CSV, a 7/30/90/180-day period).
    Teams,
    /// Slack member analytics dashboard export (CSV, a period from the file name).
    SlackDashboard,
    /// Slack `admin.analytics.getFile` member data (NDJSON, one row per person per day).
    SlackApi,
    /// Feishu / Lark `admin_user_stats` (JSON rows, per person per day).
    Feishu,
    /// Google Workspace user usage report, chat parameters (rolling 28 days per date).
    GoogleChat,
}

impl FactSource {
    pub const ALL: [FactSource; 5] = [
        FactSource::Teams,
        FactSource::SlackDashboard,
        FactSource::SlackApi,
        FactSource::Feishu,
        FactSource::GoogleChat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FactSource::Teams => "teams",
            FactSource::SlackDashboard => "slack_dashboard",
            FactSource::SlackApi => "slack_api",
            FactSource::Feishu => "feishu",
            FactSource::GoogleChat => "google_chat",
        }
    }

    pub fn parse(s: &str) -> Option<FactSource> {
        FactSource::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The report kind the importer of this source reads, the `report` of
    /// its facts. Facts are keyed by source *and* report, so a second report
    /// kind of one source (another Graph report, say) is stored beside the
    /// first instead of overwriting it.
    pub fn report(self) -> &'static str {
        match self {
            FactSource::Teams => "teams_user_activity",
            FactSource::SlackDashboard | FactSource::SlackApi => "slack_member_analytics",
            FactSource::Feishu => "feishu_admin_user_stats",
            FactSource::GoogleChat => "google_user_usage",
        }
    }
}

impl fmt::Display for FactSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a source counted for one person over a period, the same for a
/// fact read from a file ([`PeriodFact`]) and one the engine reads back
/// (`dataset::FactRow`). Counts are `None` where the source does not
/// report them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Days with any activity in the period, where the source says.
    pub active_days: Option<u32>,
    /// Messages sent or posted (chat, channel posts, replies).
    pub messages: Option<u32>,
    pub reactions: Option<u32>,
    /// Voice calls (and huddles).
    pub calls: Option<u32>,
    /// Meetings, video calls, screen sharing.
    pub meetings: Option<u32>,
    pub files: Option<u32>,
    /// Documents created or edited.
    pub docs: Option<u32>,
    /// Conversations or messages read: presence, not interaction.
    pub reads: Option<u32>,
    /// Present without interaction (Teams "Has Other Action" with nothing
    /// else, Slack or Feishu "active" with zero counts).
    pub passive: bool,
}

impl Counts {
    /// Interactions of every kind, added up (reads are not interactions).
    pub fn interactions(&self) -> u32 {
        [self.messages, self.reactions, self.calls, self.meetings, self.files, self.docs]
            .iter()
            .flatten()
            .fold(0u32, |acc, n| acc.saturating_add(*n))
    }

    /// The feature families used: chat → text, calls → voice, meetings →
    /// video, files → files, docs → docs.
    pub fn families(&self) -> u8 {
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

    /// The families whose columns are reported (`Some`, even zero): what
    /// the source can see, as opposed to what the person used.
    pub fn reported_families(&self) -> u8 {
        let mut f = 0;
        if self.messages.is_some() || self.reactions.is_some() {
            f |= Family::Text.bit();
        }
        for (v, family) in [
            (self.calls, Family::Voice),
            (self.meetings, Family::Video),
            (self.files, Family::Files),
            (self.docs, Family::Docs),
        ] {
            if v.is_some() {
                f |= family.bit();
            }
        }
        f
    }
}

/// One person's totals over `start..=end` (one day for daily sources).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PeriodFact {
    /// Line (or record) in the file, for error messages.
    pub line: u64,
    /// Lower-cased UPN / e-mail / user id.
    pub user_id: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    #[serde(flatten)]
    pub counts: Counts,
    pub last_active: Option<NaiveDate>,
    /// The source hid the person's identity (e.g. Teams concealed names).
    pub anonymised: bool,
    pub deleted: bool,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub department: Option<String>,
}

impl PeriodFact {
    /// The date the vendor produced these figures, part of a fact's key: a
    /// later download of the same report for the same dates is the same
    /// fact (corrected values replace the old ones). Every report read so
    /// far ends its period on it: Teams' period ends on the Report Refresh
    /// Date, a daily row is its day, a Slack dashboard period ends on the
    /// date in the file name, a Google usage row is its date.
    pub fn refreshed(&self) -> NaiveDate {
        self.end
    }
}
