//! The states of research records (studies, rounds, invitations, bookings,
//! outbox messages) and the transitions allowed between them. Storage keeps
//! the states as the strings `as_str` gives and parses them back when it
//! reads a row, so an unknown string is a typed error there, not a silent
//! mismatch; a change of state is written only from the states the table
//! here allows, so two racing changes cannot both apply.

use std::fmt;

/// A stored state this version does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a known {what} state")]
pub struct UnknownState {
    pub what: &'static str,
    pub value: String,
}

/// A change of state the transition table does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what}: cannot go from `{from}` to `{to}`")]
pub struct Refused {
    pub what: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// What every state enum offers: its stored name, parsing it back, and
/// the transition table (`sources`: the states a record may enter this one
/// from; empty for a state a record only starts in).
pub trait State: Copy + Eq + Sized + 'static {
    /// What the states are of, for messages ("invitation").
    const WHAT: &'static str;
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;

    /// The states a record may move to `self` from.
    fn sources(self) -> &'static [Self];

    fn parse(s: &str) -> Result<Self, UnknownState> {
        Self::ALL
            .iter()
            .copied()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState { what: Self::WHAT, value: s.to_string() })
    }

    fn may_become(self, to: Self) -> bool {
        to.sources().contains(&self)
    }

    /// `to`, when the table allows the change; otherwise why not.
    fn become_(self, to: Self) -> Result<Self, Refused> {
        if self.may_become(to) {
            Ok(to)
        } else {
            Err(Refused { what: Self::WHAT, from: self.as_str(), to: to.as_str() })
        }
    }
}

/// Inherent `as_str`, `parse`, `may_become` and `become_`, Display, serde, `FromStr` and `TryFrom<String>` (what storage decodes a column
/// with) as the stored string, for each state enum.
macro_rules! stored_as_text {
    ($t:ty) => {
        // The trait's methods, callable without importing it.
        impl $t {
            pub fn as_str(self) -> &'static str {
                <$t as State>::as_str(self)
            }
            pub fn parse(s: &str) -> Result<Self, UnknownState> {
                <$t as State>::parse(s)
            }
            pub fn may_become(self, to: Self) -> bool {
                <$t as State>::may_become(self, to)
            }
            pub fn become_(self, to: Self) -> Result<Self, Refused> {
                <$t as State>::become_(self, to)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl TryFrom<String> for $t {
            type Error = UnknownState;
            fn try_from(s: String) -> Result<Self, UnknownState> {
                <$t as State>::parse(&s)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl std::str::FromStr for $t {
            type Err = UnknownState;
            fn from_str(s: &str) -> Result<Self, UnknownState> {
                <$t as State>::parse(s)
            }
        }
    };
}

/// A study: open (rounds can be drawn and sent) or closed, for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StudyStatus {
    Open,
    Closed,
}

impl State for StudyStatus {
    const WHAT: &'static str = "study";
    const ALL: &'static [Self] = &[StudyStatus::Open, StudyStatus::Closed];

    fn as_str(self) -> &'static str {
        match self {
            StudyStatus::Open => "open",
            StudyStatus::Closed => "closed",
        }
    }

    fn sources(self) -> &'static [Self] {
        match self {
            StudyStatus::Open => &[],
            StudyStatus::Closed => &[StudyStatus::Open],
        }
    }
}
stored_as_text!(StudyStatus);

/// A round: drawn (people may still be dropped or added), then sent, once.
/// Stored as whether `sent_at` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundState {
    Drawn,
    Sent,
}

impl RoundState {
    pub fn of(sent_at: Option<i64>) -> RoundState {
        if sent_at.is_some() { RoundState::Sent } else { RoundState::Drawn }
    }
}

impl State for RoundState {
    const WHAT: &'static str = "round";
    const ALL: &'static [Self] = &[RoundState::Drawn, RoundState::Sent];

    fn as_str(self) -> &'static str {
        match self {
            RoundState::Drawn => "drawn",
            RoundState::Sent => "sent",
        }
    }

    fn sources(self) -> &'static [Self] {
        match self {
            RoundState::Drawn => &[],
            RoundState::Sent => &[RoundState::Drawn],
        }
    }
}
stored_as_text!(RoundState);

/// One person in one round, from the draw to the interview's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InvitationStatus {
    /// In the draw, not yet sent.
    Drawn,
    /// Taken out of the draw by a researcher before sending.
    Dropped,
    /// Kept out when the round was sent (no address, opted out meanwhile...).
    Excluded,
    Invited,
    Booked,
    /// Their booking was cancelled; they may book again.
    Cancelled,
    Declined,
    OptedOut,
    Completed,
    NoShowParticipant,
    NoShowHost,
}

use InvitationStatus as I;

/// A booking's outcomes, and the states an outcome may be set (or
/// corrected) from.
const OUTCOME_SOURCES: &[InvitationStatus] = &[I::Booked, I::Completed, I::NoShowParticipant, I::NoShowHost];
/// The states from which a participant may book (or decline).
const OPEN_TO_BOOK: &[InvitationStatus] = &[I::Invited, I::Cancelled, I::Declined];

impl State for InvitationStatus {
    const WHAT: &'static str = "invitation";
    const ALL: &'static [Self] = &[
        I::Drawn,
        I::Dropped,
        I::Excluded,
        I::Invited,
        I::Booked,
        I::Cancelled,
        I::Declined,
        I::OptedOut,
        I::Completed,
        I::NoShowParticipant,
        I::NoShowHost,
    ];

    fn as_str(self) -> &'static str {
        match self {
            I::Drawn => "drawn",
            I::Dropped => "dropped",
            I::Excluded => "excluded",
            I::Invited => "invited",
            I::Booked => "booked",
            I::Cancelled => "cancelled",
            I::Declined => "declined",
            I::OptedOut => "opted_out",
            I::Completed => "completed",
            I::NoShowParticipant => "no_show_participant",
            I::NoShowHost => "no_show_host",
        }
    }

    fn sources(self) -> &'static [Self] {
        match self {
            I::Drawn => &[],
            I::Dropped | I::Excluded | I::Invited => &[I::Drawn],
            // A declined invitation offers no more times: the person
            // said no, and the page says so instead.
            I::Booked => &[I::Invited, I::Cancelled],
            // Declining again only records a new reason.
            I::Declined => OPEN_TO_BOOK,
            I::Cancelled => &[I::Booked],
            I::OptedOut => &[I::Drawn, I::Invited, I::Cancelled, I::Declined, I::Booked],
            I::Completed | I::NoShowParticipant | I::NoShowHost => OUTCOME_SOURCES,
        }
    }
}
stored_as_text!(InvitationStatus);

impl InvitationStatus {
    /// Whether the invitation ever reached the person (it was sent).
    pub fn was_contacted(self) -> bool {
        !matches!(self, I::Drawn | I::Dropped | I::Excluded)
    }

    /// Booked now or earlier with an outcome since.
    pub fn holds_or_held_a_booking(self) -> bool {
        matches!(self, I::Booked | I::Completed | I::NoShowParticipant | I::NoShowHost)
    }

    /// The interview took place or was missed: nothing more to book.
    pub fn is_finished(self) -> bool {
        matches!(self, I::Completed | I::NoShowParticipant | I::NoShowHost)
    }
}

/// A booking: active, cancelled, or with what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BookingStatus {
    Booked,
    Cancelled,
    Completed,
    NoShowParticipant,
    NoShowHost,
}

use BookingStatus as B;

impl State for BookingStatus {
    const WHAT: &'static str = "booking";
    const ALL: &'static [Self] = &[B::Booked, B::Cancelled, B::Completed, B::NoShowParticipant, B::NoShowHost];

    fn as_str(self) -> &'static str {
        match self {
            B::Booked => "booked",
            B::Cancelled => "cancelled",
            B::Completed => "completed",
            B::NoShowParticipant => "no_show_participant",
            B::NoShowHost => "no_show_host",
        }
    }

    fn sources(self) -> &'static [Self] {
        match self {
            // A move keeps a booking booked; it is not a change of state.
            B::Booked => &[],
            // A cancelled booking has no outcome (it is not a no-show).
            B::Cancelled => &[B::Booked],
            B::Completed | B::NoShowParticipant | B::NoShowHost => {
                &[B::Booked, B::Completed, B::NoShowParticipant, B::NoShowHost]
            }
        }
    }
}
stored_as_text!(BookingStatus);

impl BookingStatus {
    /// The outcomes an interviewer may record.
    pub const OUTCOMES: [BookingStatus; 3] = [B::Completed, B::NoShowParticipant, B::NoShowHost];

    /// A booking outcome from its stored name; `None` for anything else
    /// (including `booked` and `cancelled`, which are not outcomes).
    pub fn outcome(s: &str) -> Option<BookingStatus> {
        BookingStatus::OUTCOMES.into_iter().find(|o| o.as_str() == s)
    }

    pub fn is_active(self) -> bool {
        self == B::Booked
    }

    /// The invitation's state that goes with this booking's.
    pub fn invitation(self) -> InvitationStatus {
        match self {
            B::Booked => I::Booked,
            B::Cancelled => I::Cancelled,
            B::Completed => I::Completed,
            B::NoShowParticipant => I::NoShowParticipant,
            B::NoShowHost => I::NoShowHost,
        }
    }
}

/// A queued e-mail: pending, claimed by a worker (sending), then finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OutboxState {
    Pending,
    Sending,
    Sent,
    Failed,
    /// Not sent, on purpose (obsolete reminder, opted-out person...).
    Dropped,
}

use OutboxState as O;

impl State for OutboxState {
    const WHAT: &'static str = "outbox";
    const ALL: &'static [Self] = &[O::Pending, O::Sending, O::Sent, O::Failed, O::Dropped];

    fn as_str(self) -> &'static str {
        match self {
            O::Pending => "pending",
            O::Sending => "sending",
            O::Sent => "sent",
            O::Failed => "failed",
            O::Dropped => "dropped",
        }
    }

    fn sources(self) -> &'static [Self] {
        match self {
            // Put back for another attempt.
            O::Pending => &[O::Sending],
            // Claimed, or claimed again when a worker's lease ran out.
            O::Sending => &[O::Pending, O::Sending],
            O::Sent | O::Failed => &[O::Sending],
            // By the worker, or still queued when its booking moved.
            O::Dropped => &[O::Pending, O::Sending],
        }
    }
}
stored_as_text!(OutboxState);

impl OutboxState {
    /// Whether a worker finishing a message in this state counts an
    /// attempt (a dropped message was never tried).
    pub fn counts_an_attempt(self) -> bool {
        self != O::Dropped
    }

    /// Where a claimed message may end.
    pub fn is_final(self) -> bool {
        matches!(self, O::Sent | O::Failed | O::Dropped)
    }
}

/// An import: running (its rows not yet counted), done, or failed; a
/// failed batched import is `removing` its rows until they are gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportStatus {
    Running,
    Done,
    Removing,
    Failed,
}

impl State for ImportStatus {
    const WHAT: &'static str = "import";
    const ALL: &'static [Self] =
        &[ImportStatus::Running, ImportStatus::Done, ImportStatus::Removing, ImportStatus::Failed];

    fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Running => "running",
            ImportStatus::Done => "done",
            ImportStatus::Removing => "removing",
            ImportStatus::Failed => "failed",
        }
    }

    fn sources(self) -> &'static [Self] {
        match self {
            // A file that fails before any batch is recorded failed at once.
            ImportStatus::Running => &[],
            ImportStatus::Done => &[ImportStatus::Running],
            // Another process takes over a removal whose owner is gone.
            ImportStatus::Removing => &[ImportStatus::Running, ImportStatus::Removing],
            ImportStatus::Failed => &[ImportStatus::Removing],
        }
    }
}
stored_as_text!(ImportStatus);

impl ImportStatus {
    /// Failed, or failing: its rows never count.
    pub fn is_failed(self) -> bool {
        matches!(self, ImportStatus::Failed | ImportStatus::Removing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<S: State + fmt::Debug>() {
        for &s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Ok(s));
        }
        let err = S::parse("nonsense").unwrap_err();
        assert_eq!(err.what, S::WHAT);
        assert!(err.to_string().contains("`nonsense`"), "{err}");
    }

    #[test]
    fn every_state_is_stored_as_its_name_and_read_back() {
        round_trips::<StudyStatus>();
        round_trips::<RoundState>();
        round_trips::<InvitationStatus>();
        round_trips::<BookingStatus>();
        round_trips::<OutboxState>();
        round_trips::<ImportStatus>();
        // The stored strings are the database's, unchanged.
        assert_eq!(I::OptedOut.as_str(), "opted_out");
        assert_eq!(B::NoShowParticipant.as_str(), "no_show_participant");
        assert_eq!("opted_out".parse::<InvitationStatus>(), Ok(I::OptedOut));
        assert!(" booked".parse::<InvitationStatus>().is_err());
    }

    /// Every (from, to) pair the table allows, as names.
    fn allowed<S: State>() -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        for &to in S::ALL {
            for &from in S::ALL {
                if from.may_become(to) {
                    out.push((from.as_str(), to.as_str()));
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn invitations_move_only_along_the_table() {
        let outcomes = ["completed", "no_show_host", "no_show_participant"];
        let mut want = vec![
            ("drawn", "dropped"),
            ("drawn", "excluded"),
            ("drawn", "invited"),
            ("drawn", "opted_out"),
            ("invited", "booked"),
            ("cancelled", "booked"),
            ("invited", "declined"),
            ("cancelled", "declined"),
            ("declined", "declined"),
            ("booked", "cancelled"),
            ("invited", "opted_out"),
            ("cancelled", "opted_out"),
            ("declined", "opted_out"),
            ("booked", "opted_out"),
        ];
        for from in ["booked", "completed", "no_show_participant", "no_show_host"] {
            for to in outcomes {
                want.push((from, to));
            }
        }
        want.sort_unstable();
        assert_eq!(allowed::<InvitationStatus>(), want);
    }

    #[test]
    fn a_refused_invitation_change_says_what_and_why() {
        assert_eq!(I::Invited.become_(I::Booked), Ok(I::Booked));
        assert!(!I::Declined.may_become(I::Booked), "a declined invitation offers no times");
        assert_eq!(
            I::OptedOut.become_(I::Booked),
            Err(Refused { what: "invitation", from: "opted_out", to: "booked" })
        );
        assert_eq!(
            I::Completed.become_(I::Cancelled).unwrap_err().to_string(),
            "invitation: cannot go from `completed` to `cancelled`"
        );
        // Nothing re-enters the draw, and an opt-out is for good.
        for &s in InvitationStatus::ALL {
            assert!(!s.may_become(I::Drawn), "{s}");
            assert!(!I::OptedOut.may_become(s), "{s}");
            assert!(!I::Dropped.may_become(s), "{s}");
        }
        // Once the interview has an outcome the participant cannot book, cancel, decline or opt out here.
        for to in [I::Booked, I::Cancelled, I::Declined, I::OptedOut] {
            assert!(!I::Completed.may_become(to), "{to}");
            assert!(!I::NoShowHost.may_become(to), "{to}");
        }
    }

    #[test]
    fn bookings_are_cancelled_only_while_active_and_outcomes_can_be_corrected() {
        assert_eq!(
            allowed::<BookingStatus>(),
            vec![
                ("booked", "cancelled"),
                ("booked", "completed"),
                ("booked", "no_show_host"),
                ("booked", "no_show_participant"),
                ("completed", "completed"),
                ("completed", "no_show_host"),
                ("completed", "no_show_participant"),
                ("no_show_host", "completed"),
                ("no_show_host", "no_show_host"),
                ("no_show_host", "no_show_participant"),
                ("no_show_participant", "completed"),
                ("no_show_participant", "no_show_host"),
                ("no_show_participant", "no_show_participant"),
            ]
        );
        assert!(B::Cancelled.become_(B::Completed).is_err());
        assert!(B::Completed.become_(B::Cancelled).is_err());
        assert_eq!(BookingStatus::outcome("completed"), Some(B::Completed));
        assert_eq!(BookingStatus::outcome("cancelled"), None);
        assert_eq!(BookingStatus::outcome("booked"), None);
        // An outcome's invitation state is allowed from a booked invitation.
        for o in BookingStatus::OUTCOMES {
            assert!(I::Booked.may_become(o.invitation()));
        }
        assert!(I::Booked.may_become(B::Cancelled.invitation()));
    }

    #[test]
    fn studies_rounds_and_messages_move_one_way() {
        assert_eq!(allowed::<StudyStatus>(), vec![("open", "closed")]);
        assert!(StudyStatus::Closed.become_(StudyStatus::Open).is_err());
        assert_eq!(allowed::<RoundState>(), vec![("drawn", "sent")]);
        assert_eq!(RoundState::of(None), RoundState::Drawn);
        assert_eq!(RoundState::of(Some(1)), RoundState::Sent);
        assert_eq!(
            allowed::<OutboxState>(),
            vec![
                ("pending", "dropped"),
                ("pending", "sending"),
                ("sending", "dropped"),
                ("sending", "failed"),
                ("sending", "pending"),
                ("sending", "sending"),
                ("sending", "sent"),
            ]
        );
        // A finished message is never sent again.
        for from in [O::Sent, O::Failed, O::Dropped] {
            for &to in OutboxState::ALL {
                assert!(from.become_(to).is_err(), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn imports_finish_once_and_a_failed_one_is_removed_first() {
        assert_eq!(
            allowed::<ImportStatus>(),
            vec![("removing", "failed"), ("removing", "removing"), ("running", "done"), ("running", "removing")]
        );
        assert!(ImportStatus::Done.become_(ImportStatus::Failed).is_err());
        assert!(ImportStatus::Failed.become_(ImportStatus::Running).is_err());
        assert!(ImportStatus::Removing.is_failed() && ImportStatus::Failed.is_failed());
        assert!(!ImportStatus::Running.is_failed() && !ImportStatus::Done.is_failed());
    }

    #[test]
    fn contact_and_booking_questions_follow_the_states() {
        let contacted: Vec<_> =
            InvitationStatus::ALL.iter().filter(|s| s.was_contacted()).map(|s| s.as_str()).collect();
        assert!(!contacted.contains(&"drawn") && !contacted.contains(&"dropped") && !contacted.contains(&"excluded"));
        assert_eq!(contacted.len(), InvitationStatus::ALL.len() - 3);
        assert!(I::NoShowHost.holds_or_held_a_booking() && !I::Cancelled.holds_or_held_a_booking());
        assert!(I::Completed.is_finished() && !I::Booked.is_finished());
    }
}
