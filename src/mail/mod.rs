//! E-mail for interview invitations and bookings: what one message says
//! ([`Outgoing`]), its calendar part ([`ics`]) and how it leaves
//! ([`transport`]: an SMTP server, or an outbox folder of `.eml` files when
//! none is configured). Messages are queued in the database and delivered
//! by a worker, which may send one again after a lost answer.

pub mod ics;
pub mod transport;

pub use transport::{Mailer, SendError};

/// One message as queued in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Set as the Message-ID header, like `<outbox-42.abcd@undercurrent>`:
    /// stable per outbox row, so a resend is recognisable as the same
    /// message by the recipient's mail system.
    pub message_id: String,
    /// A mailbox: `address` or `Name <address>`.
    pub from: String,
    /// A mailbox: `address` or `Name <address>`.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub calendar: Option<ics::CalendarPart>,
}
