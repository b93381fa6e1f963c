//! The outbox worker: claims due messages, checks they still make sense,
//! sends them and records every attempt. A temporary failure (server down,
//! 4xx) is retried with a growing delay; a permanent one (5xx, a bad
//! address) fails at once; both are shown in the study.
//!
//! Exactly once: a message is claimed under a lease, sent, then marked sent
//! by the claiming worker only. A worker killed between the server's "OK"
//! and that mark leaves the claim to expire and the message to go again:
//! the one window in which a duplicate is possible, as with any SMTP client.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeDelta, Utc};

use super::outreach::Outreach;
use crate::domain::state::{InvitationStatus, OutboxState};
use crate::mail::Outgoing;
use crate::mail::ics::{CalendarPart, Method};
use crate::mail::transport::{Mailer, SendError};
use crate::storage::outbox::{self, Message};
use crate::storage::{Db, bookings, invitations, studies};

/// How long a claim holds before another worker may take the message.
pub const LEASE_SECONDS: i64 = 300;
/// Attempts before a temporary failure becomes final (about a day of
/// retries with the delays below).
pub const MAX_ATTEMPTS: i64 = 30;

/// The delay before attempt `n + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> TimeDelta {
    let secs = 30_i64.saturating_mul(1_i64 << attempts.clamp(0, 20));
    TimeDelta::seconds(secs.min(3600))
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    pub sent: u32,
    pub retried: u32,
    pub failed: u32,
    pub dropped: u32,
}

/// A queued message's body as it is sent: its link placeholders filled in
/// with tokens derived from the links' secret, for its own recipient only
/// (an interview invitation's links for that invitation; a survey link for
/// an invitation of the person the message goes to).
pub async fn rendered_body(db: &Db, m: &Message) -> Result<String> {
    let mut surveys_allowed = Vec::new();
    for (i, _) in m.body.match_indices("{{link-token:s:") {
        let tail = &m.body[i + "{{link-token:s:".len()..];
        let Some(id) = tail.split("}}").next().and_then(|n| n.parse::<i64>().ok()) else { continue };
        if !surveys_allowed.contains(&id)
            && crate::storage::surveys::invitation_email(db, id)
                .await
                .context("surveys::invitation_email")?
                .is_some_and(|e| e.trim() == m.to_addr.trim())
        {
            surveys_allowed.push(id);
        }
    }
    // An account invitation's link goes only to the address invited.
    let mut accounts_allowed = Vec::new();
    if m.kind == "account_invitation" {
        for (i, _) in m.body.match_indices("{{link-token:a:") {
            let tail = &m.body[i + "{{link-token:a:".len()..];
            let Some(id) = tail.split("}}").next().and_then(|n| n.parse::<i64>().ok()) else { continue };
            if crate::storage::account_invitations::get(db, id)
                .await
                .context("account_invitations::get")?
                .is_some_and(|a| a.email == m.to_addr.trim())
            {
                accounts_allowed.push(id);
            }
        }
    }
    let allowed = |kind: &str, id: i64| match kind {
        "i" | "o" => m.invitation_id == Some(id),
        "a" => accounts_allowed.contains(&id),
        _ => surveys_allowed.contains(&id),
    };
    Ok(super::messages::render_links(&m.body, &allowed))
}

/// At start: invitations sent before link tokens were derived get derived
/// tokens' hashes (their old ones kept, so the links already sent still
/// work) and lose the opt-out token held in plain text; messages already
/// sent lose the working tokens in their bodies. Returns how many rows
/// changed. Runs with the links' secret loaded.
pub async fn upgrade_link_tokens(db: &Db) -> Result<u64> {
    use super::secrets::{link_token, token_hash};
    let mut changed = 0;
    for (id, old_hash, plain_opt_out) in
        invitations::sent_before_derived_tokens(db).await.context("invitations::sent_before_derived_tokens")?
    {
        let legacy_opt_out = plain_opt_out.as_deref().map(token_hash);
        invitations::upgrade_tokens(
            db,
            id,
            &token_hash(&link_token("i", id)),
            &token_hash(&link_token("o", id)),
            &old_hash,
            legacy_opt_out.as_deref(),
        )
        .await?;
        changed += 1;
    }
    for (id, body) in outbox::finished_with_links(db).await.context("outbox::finished_with_links")? {
        let scrubbed = scrub_tokens(&body);
        if scrubbed != body {
            outbox::set_body(db, id, &scrubbed).await.context("outbox::set_body")?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Replaces the token after `/i/`, `/o/` and `/s/` (64 hex digits) with `…`.
pub fn scrub_tokens(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    loop {
        let next = ["/i/", "/o/", "/s/"].iter().filter_map(|p| rest.find(p).map(|i| (i, p.len()))).min();
        let Some((i, n)) = next else { break };
        out.push_str(&rest[..i + n]);
        let after = &rest[i + n..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            out.push('…');
            rest = &after[64..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

pub struct Worker {
    pub db: Db,
    pub mailer: Arc<Mailer>,
    /// Unique per process: claims are by name.
    pub name: String,
    pub from: String,
}

/// Why a message was dropped, as stored in its `last_error`, and the code a
/// page says it with in the reader's language (`outbox.dropped.<code>`).
pub const DROP_REASONS: [(&str, &str); 5] = [
    (EXPIRED, "expired"),
    (BOOKING_MOVED, "booking_moved"),
    (STUDY_CLOSED, "study_closed"),
    (OPTED_OUT, "opted_out"),
    (HAS_OUTCOME, "has_outcome"),
];
pub const EXPIRED: &str = "expired: its time had passed before it could be sent";
pub const BOOKING_MOVED: &str = "the booking moved or was cancelled";
pub const STUDY_CLOSED: &str = "the study was closed";
pub const OPTED_OUT: &str = "the person opted out";
pub const HAS_OUTCOME: &str = "the interview already has an outcome";

impl Worker {
    /// Why a message should not go out any more, if it should not.
    async fn obsolete(&self, m: &Message, now: DateTime<Utc>) -> Result<Option<&'static str>> {
        if m.expires_at.is_some_and(|e| e <= now.timestamp()) {
            return Ok(Some(EXPIRED));
        }
        if m.kind == "reminder"
            && let Some(id) = m.booking_id
        {
            match bookings::get(&self.db, id).await.context("bookings::get")? {
                Some(b) if b.is_active() && Some(b.sequence) == m.booking_sequence => {}
                _ => return Ok(Some(BOOKING_MOVED)),
            }
        }
        if m.kind == "invitation" {
            if let Some(sid) = m.study_id
                && !studies::get(&self.db, sid).await.context("studies::get")?.is_some_and(|s| s.is_open())
            {
                return Ok(Some(STUDY_CLOSED));
            }
            if let Some(iid) = m.invitation_id
                && invitations::get(&self.db, iid)
                    .await
                    .context("invitations::get")?
                    .is_some_and(|i| i.status == InvitationStatus::OptedOut)
            {
                return Ok(Some(OPTED_OUT));
            }
        }
        Ok(None)
    }

    fn outgoing(&self, m: &Message, text: String) -> Outgoing {
        let calendar = m.ics.as_ref().map(|text| CalendarPart {
            method: if m.ics_method.as_deref() == Some("CANCEL") { Method::Cancel } else { Method::Request },
            text: text.clone(),
        });
        Outgoing {
            message_id: m.message_id.clone(),
            from: self.from.clone(),
            to: m.to_addr.clone(),
            subject: m.subject.clone(),
            text,
            calendar,
        }
    }

    /// Sends everything due at `now`, batch after batch.
    pub async fn drain_once(&self, now: DateTime<Utc>) -> Result<Drained> {
        let mut done = Drained::default();
        loop {
            let t = now.timestamp();
            let batch = outbox::claim(&self.db, &self.name, t, t + LEASE_SECONDS, 20).await.context("outbox::claim")?;
            if batch.is_empty() {
                return Ok(done);
            }
            for m in batch {
                self.deliver(&m, now, &mut done).await?;
            }
        }
    }

    async fn deliver(&self, m: &Message, now: DateTime<Utc>, done: &mut Drained) -> Result<()> {
        let t = now.timestamp();
        if let Some(why) = self.obsolete(m, now).await? {
            outbox::finish(&self.db, m.id, &self.name, OutboxState::Dropped, Some(why), t)
                .await
                .context("outbox::finish")?;
            done.dropped += 1;
            return Ok(());
        }
        let text = rendered_body(&self.db, m).await?;
        match self.mailer.send(&self.outgoing(m, text)).await {
            Ok(()) => {
                let delivery = if self.mailer.is_folder() { "folder" } else { "smtp" };
                outbox::finish_sent(&self.db, m.id, &self.name, delivery, Utc::now().timestamp())
                    .await
                    .context("outbox::finish_sent")?;
                outbox::record_attempt(&self.db, m.id, &self.name, true, None, t)
                    .await
                    .context("outbox::record_attempt")?;
                done.sent += 1;
            }
            Err(e) => {
                let text = e.to_string();
                outbox::record_attempt(&self.db, m.id, &self.name, false, Some(&text), t)
                    .await
                    .context("outbox::record_attempt")?;
                let permanent = matches!(e, SendError::Build(_) | SendError::Transport { permanent: true, .. });
                if permanent || m.attempts + 1 >= MAX_ATTEMPTS {
                    let shown = super::secrets::mask_emails(&text);
                    tracing::warn!(message = m.id, kind = %m.kind, "outbox message failed for good: {shown}");
                    outbox::finish(&self.db, m.id, &self.name, OutboxState::Failed, Some(&text), t)
                        .await
                        .context("outbox::finish")?;
                    done.failed += 1;
                } else {
                    let next = now + backoff(m.attempts);
                    outbox::retry_later(&self.db, m.id, &self.name, next.timestamp(), &text)
                        .await
                        .context("outbox::retry_later")?;
                    done.retried += 1;
                }
            }
        }
        Ok(())
    }

    /// Runs until the process ends: drains the outbox and draws recurring
    /// rounds every `every`, logging (not stopping on) database errors so
    /// the worker resumes by itself when the database returns.
    /// `wake` cuts the wait short when this process queued something.
    pub async fn run(self, outreach: Outreach, every: Duration, wake: Arc<tokio::sync::Notify>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = wake.notified() => {}
            }
            let now = Utc::now();
            if let Err(e) = super::studies::run_due_rounds(&self.db, &outreach.links, &outreach.from, now).await {
                tracing::warn!("recurring rounds: {e:#}");
            }
            match self.drain_once(now).await {
                Ok(d) if d != Drained::default() => {
                    tracing::info!(sent = d.sent, retried = d.retried, failed = d.failed, dropped = d.dropped, "outbox")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("outbox: {e:#}"),
            }
        }
    }
}
