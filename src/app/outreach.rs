//! What outreach messages need from the configuration: where participants'
//! links point, the sender and the reminders; and what the process
//! environment says about them, read once. A leaf: the services that send
//! (studies, participant, messages, surveys, outbox, settings) all import it
//! and it imports none of them.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::storage::invitations::Invitation;

/// Where participant links point: the application's public address.
#[derive(Clone, Debug)]
pub struct Links {
    pub base: String,
}

impl Links {
    pub fn invitation(&self, token: &str) -> String {
        format!("{}/i/{token}", self.base.trim_end_matches('/'))
    }

    /// The opt-out link of an opt-out token.
    pub fn opt_out(&self, opt_out_token: &str) -> String {
        format!("{}/o/{opt_out_token}", self.base.trim_end_matches('/'))
    }
}

/// What outreach messages need from the configuration.
#[derive(Clone, Debug)]
pub struct Outreach {
    pub links: Links,
    pub from: String,
    pub reminders: Vec<TimeDelta>,
}

impl Outreach {
    /// A booking's interview page, where the interviewer records it.
    pub fn interview_url(&self, booking_id: i64) -> String {
        format!("{}/interviews/{booking_id}", self.links.base.trim_end_matches('/'))
    }
}

/// The outreach settings the process environment gives (empty values count
/// as unset). Read once, on first use: `serve` reads it at start.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    /// `UNDERCURRENT_PUBLIC_URL`: links' base when `public_url` is not set.
    pub public_url: Option<String>,
    /// `SMTP_URL`: wins over the `mail.smtp_url` setting.
    pub smtp_url: Option<String>,
}

static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();

impl Environment {
    pub fn get() -> &'static Environment {
        ENVIRONMENT.get_or_init(|| {
            let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
            Environment { public_url: var("UNDERCURRENT_PUBLIC_URL"), smtp_url: var("SMTP_URL") }
        })
    }
}

/// How far ahead participants see free slots.
pub const BOOKING_HORIZON_DAYS: i64 = 28;

/// The day an invitation sent at `sent` asks for a time before (its
/// e-mail's "pick a time before" date).
pub fn deadline(sent: DateTime<Utc>) -> NaiveDate {
    (sent + TimeDelta::days(BOOKING_HORIZON_DAYS)).date_naive()
}

/// The instant an invitation offers times up to: the start (UTC) of its
/// [`deadline`] day, and never further ahead than the horizon from now.
pub fn horizon(inv: &Invitation, now: DateTime<Utc>) -> DateTime<Utc> {
    let from_now = now + TimeDelta::days(BOOKING_HORIZON_DAYS);
    match inv.invited_at.and_then(|t| DateTime::from_timestamp(t, 0)) {
        Some(sent) => from_now.min(deadline(sent).and_time(NaiveTime::MIN).and_utc()),
        None => from_now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_join_the_base_without_doubling_the_slash() {
        let links = Links { base: "https://uc.example/".into() };
        assert_eq!(links.invitation("t0k"), "https://uc.example/i/t0k");
        assert_eq!(links.opt_out("o1"), "https://uc.example/o/o1");
        let out = Outreach { links, from: String::new(), reminders: Vec::new() };
        assert_eq!(out.interview_url(7), "https://uc.example/interviews/7");
    }
}
