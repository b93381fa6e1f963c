//! Self-booking: the participant's side (open the link, book, reschedule,
//! cancel, decline, opt out) and the interviewer's (cancel, record the
//! outcome). Each change commits with the messages it causes.
//!
//! Two people never hold one slot: a booking first takes the interviewer's
//! booking lock (a row write), then checks overlaps against committed
//! bookings, and the partial unique index on (interviewer, start) refuses
//! whatever might still slip through.

use anyhow::{Context, Result};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use futures_util::future::join_all;

use super::interviewer_calendar;
use super::messages::{self, BookingMail, Change};
use super::outreach::Outreach;
use super::secrets::{random_token, token_hash};
use crate::domain::meeting::{self, Place};
use crate::domain::scheduling::{self, Availability, ChangePolicy, ChangeRefusal, Interval, SlotRefusal, WeeklyHours};
use crate::domain::state::{BookingStatus, InvitationStatus};
use crate::storage::availability;
use crate::storage::bookings::{self, Booking, NewBooking};
use crate::storage::invitations::{self, Invitation};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::studies::{self, Study};
use crate::storage::{Db, Tx, accounts, places};

pub use super::outreach::{BOOKING_HORIZON_DAYS, deadline, horizon};

/// The invitation behind a participant link, with its study; `None` for an
/// unknown token or a closed study (links expire when the study closes).
pub async fn find(db: &Db, token: &str) -> Result<Option<(Invitation, Study)>> {
    if !super::secrets::looks_like_token(token) {
        return Ok(None);
    }
    let Some(inv) = invitations::by_token_hash(db, &token_hash(token)).await.context("invitations::by_token_hash")?
    else {
        return Ok(None);
    };
    let Some(study) = studies::get(db, inv.study_id).await.context("studies::get")? else { return Ok(None) };
    Ok(study.is_open().then_some((inv, study)))
}

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or_default()
}

/// An interviewer's availability as the scheduling rules read it; `None`
/// when they have not set it up.
pub async fn availability_of(db: &Db, account_id: i64) -> Result<Option<Availability>> {
    let Some(p) = availability::profile(db, account_id).await.context("availability::profile")? else {
        return Ok(None);
    };
    let weekly = availability::weekly(db, account_id)
        .await?
        .into_iter()
        .filter_map(|w| {
            let day = chrono::Weekday::try_from(u8::try_from(w.weekday).ok()?).ok()?;
            let time = |m: i64| chrono::NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(m * 60).ok()?, 0);
            let end =
                if w.end_minute >= 1440 { chrono::NaiveTime::from_hms_opt(23, 59, 59)? } else { time(w.end_minute)? };
            Some(WeeklyHours { weekday: day, start: time(w.start_minute)?, end })
        })
        .collect();
    let one_off = availability::one_off(db, account_id)
        .await?
        .into_iter()
        .filter_map(|o| Interval::new(at(o.starts_at), at(o.ends_at)))
        .collect();
    Ok(Some(Availability {
        timezone: p.timezone.parse::<Tz>().unwrap_or(chrono_tz::UTC),
        weekly,
        one_off,
        buffer: TimeDelta::minutes(p.buffer_minutes),
        min_notice: TimeDelta::minutes(p.min_notice_minutes),
    }))
}

/// A free slot: its start and the interviewer who offers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub interviewer_id: i64,
}

fn length(study: &Study) -> TimeDelta {
    TimeDelta::minutes(study.interview_minutes.clamp(5, 480))
}

/// Free slots of a study's interviewers until `until` (an invitation's
/// [`horizon`]); where two
/// interviewers are free at once, the one listed first offers the slot.
pub async fn free_slots(db: &Db, study: &Study, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<Slot>> {
    let mut slots: Vec<Slot> = Vec::new();
    let interviewers = studies::interviewers(db, study.id).await.context("studies::interviewers")?;
    // Their own calendars, read again at once where stale: the page waits
    // for the slowest read (at most `PAGE_WAIT`), not for their sum.
    let own = join_all(interviewers.iter().map(|&id| interviewer_calendar::busy(db, id, now))).await;
    for (id, own) in interviewers.into_iter().zip(own) {
        let Some(av) = availability_of(db, id).await? else { continue };
        let mut busy: Vec<Interval> = bookings::busy_now(db, id, now.timestamp() - 86_400, until.timestamp() + 86_400)
            .await?
            .into_iter()
            .filter_map(|(s, e)| Interval::new(at(s), at(e)))
            .collect();
        busy.extend(own?);
        for start in scheduling::free_slots(&av, length(study), &busy, now, now, until) {
            if !slots.iter().any(|s| s.start == start) {
                slots.push(Slot { start, interviewer_id: id });
            }
        }
    }
    slots.sort_by_key(|s| (s.start, s.interviewer_id));
    Ok(slots)
}

/// Why a participant's request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Slot(SlotRefusal),
    Change(ChangeRefusal),
    /// The invitation was answered in a way that ends it (opted out,
    /// completed, ...).
    Closed,
    AlreadyBooked,
    NotBooked,
    /// No address is known for the links in e-mails, so no change that
    /// sends one can be made.
    MailUnavailable,
}

impl Refusal {
    pub fn key(&self) -> &'static str {
        match self {
            Refusal::Slot(s) => s.key(),
            Refusal::Change(c) => c.key(),
            Refusal::Closed => "participant.closed",
            Refusal::AlreadyBooked => "participant.already_booked",
            Refusal::NotBooked => "participant.not_booked",
            Refusal::MailUnavailable => "participant.mail_unavailable",
        }
    }
}

async fn check_slot_in(
    tx: &mut Tx,
    av: &Availability,
    study: &Study,
    interviewer_id: i64,
    start: DateTime<Utc>,
    except: Option<i64>,
    // Now, and the invitation's horizon.
    (now, until): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Result<(), SlotRefusal>> {
    // Only what the page would offer: nothing beyond its horizon, however
    // far ahead the interviewer's availability goes.
    if start > until {
        return Ok(Err(SlotRefusal::OutsideAvailability));
    }
    let day = 86_400;
    let mut busy: Vec<Interval> =
        bookings::busy(tx, interviewer_id, start.timestamp() - day, start.timestamp() + day, except)
            .await?
            .into_iter()
            .filter_map(|(s, e)| Interval::new(at(s), at(e)))
            .collect();
    // The busy times of the interviewer's own calendar as last read (no
    // network inside the booking's transaction).
    busy.extend(interviewer_calendar::busy_in(tx, interviewer_id).await?);
    Ok(scheduling::check_slot(av, length(study), &busy, now, start))
}

/// Whether the account interviews for the study and its availability.
async fn interviewer_of(db: &Db, study: &Study, id: i64) -> Result<Option<(accounts::Account, Availability, Tz)>> {
    if !studies::interviewers(db, study.id).await.context("studies::interviewers")?.contains(&id) {
        return Ok(None);
    }
    let (Some(account), Some(av)) = (accounts::get(db, id).await?, availability_of(db, id).await?) else {
        return Ok(None);
    };
    let tz = av.timezone;
    Ok(Some((account, av, tz)))
}

fn policy(study: &Study) -> ChangePolicy {
    ChangePolicy {
        max_reschedules: u32::try_from(study.max_reschedules).unwrap_or(0),
        min_notice: TimeDelta::hours(study.change_notice_hours),
    }
}

pub fn policy_of(study: &Study) -> ChangePolicy {
    policy(study)
}

/// Where a study's interviews with an interviewer happen: the
/// interviewer's own place, else the study's.
pub async fn place_in(tx: &mut Tx, study: &Study, interviewer: i64) -> Result<Option<Place>> {
    Ok(meeting::choose(study.place(), places::of_in(tx, interviewer).await.context("places::of_in")?))
}

/// [`place_in`] outside a transaction.
pub async fn place_of(db: &Db, study: &Study, interviewer: i64) -> Result<Option<Place>> {
    Ok(meeting::choose(study.place(), places::of(db, interviewer).await.context("places::of")?))
}

struct Parties<'a> {
    /// Where the interviewer meets (not yet made the booking's own).
    place: Option<Place>,
    study: &'a Study,
    inv: &'a Invitation,
    host: &'a accounts::Account,
    host_tz: Tz,
    participant_tz: Tz,
    token: Option<&'a str>,
    out: &'a Outreach,
    now: DateTime<Utc>,
}

fn mail<'a>(p: &'a Parties<'a>, b: &'a Booking) -> BookingMail<'a> {
    BookingMail {
        study: p.study,
        invitation: p.inv,
        booking_id: b.id,
        uid: &b.uid,
        sequence: b.sequence,
        start: at(b.starts_at),
        end: at(b.ends_at),
        participant_tz: p.participant_tz,
        interviewer_name: if p.host.name.is_empty() { &p.host.email } else { &p.host.name },
        interviewer_email: &p.host.email,
        interviewer_tz: p.host_tz,
        token: p.token,
        links: &p.out.links,
        from: &p.out.from,
        now: p.now,
        interview_url: p.out.interview_url(b.id),
        place: p.place.as_ref().map(|place| place.for_booking(&b.uid)),
    }
}

async fn enqueue_all(tx: &mut Tx, messages: Vec<NewMessage>, now: i64) -> Result<()> {
    for m in messages.iter().filter(|m| m.to_addr.contains('@')) {
        outbox::enqueue(tx, m, now).await.context("outbox::enqueue")?;
    }
    Ok(())
}

const REMINDERS_MOVED: &str = crate::app::outbox::BOOKING_MOVED;

/// Books a slot for the invitation behind `token`.
#[allow(clippy::too_many_arguments)]
pub async fn book(
    db: &Db,
    out: &Outreach,
    token: &str,
    inv: &Invitation,
    study: &Study,
    interviewer_id: i64,
    start: DateTime<Utc>,
    participant_tz: Tz,
    now: DateTime<Utc>,
) -> Result<Result<i64, Refusal>> {
    let Some((host, av, host_tz)) = interviewer_of(db, study, interviewer_id).await? else {
        return Ok(Err(Refusal::Slot(SlotRefusal::OutsideAvailability)));
    };
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    // First statement: the lock (on SQLite this makes the transaction a
    // writer at once, so it never has to upgrade from a reader).
    bookings::lock_interviewer(&mut tx, interviewer_id).await.context("bookings::lock_interviewer")?;
    let Some(inv) = invitations::get_in(&mut tx, inv.id).await.context("invitations::get_in")? else {
        return Ok(Err(Refusal::Closed));
    };
    match inv.status {
        s if s.may_become(InvitationStatus::Booked) => {}
        InvitationStatus::Booked => {
            // The same form posted again (a double click, a resent form):
            // nothing to do, the booking stands.
            return Ok(
                match bookings::active_for_invitation(&mut tx, inv.id)
                    .await
                    .context("bookings::active_for_invitation")?
                {
                    Some(b) if b.interviewer_id == interviewer_id && b.starts_at == start.timestamp() => Ok(b.id),
                    _ => Err(Refusal::AlreadyBooked),
                },
            );
        }
        _ => return Ok(Err(Refusal::Closed)),
    }
    if let Err(r) = check_slot_in(&mut tx, &av, study, interviewer_id, start, None, (now, horizon(&inv, now))).await? {
        return Ok(Err(Refusal::Slot(r)));
    }
    let uid = format!("{}@undercurrent", &random_token()[..40]);
    let end = start + length(study);
    let new = NewBooking {
        invitation_id: inv.id,
        interviewer_id,
        starts_at: start.timestamp(),
        ends_at: end.timestamp(),
        uid: &uid,
        participant_timezone: participant_tz.name(),
    };
    let Some(id) = bookings::insert(&mut tx, &new, t).await.context("bookings::insert")? else {
        return Ok(Err(Refusal::Slot(SlotRefusal::Taken)));
    };
    invitations::set_status(&mut tx, inv.id, InvitationStatus::Booked).await.context("invitations::set_status")?;
    invitations::mark_responded(&mut tx, inv.id, None, t).await.context("invitations::mark_responded")?;
    let booking = bookings::get_in(&mut tx, id)
        .await
        .context("bookings::get_in")?
        .ok_or_else(|| anyhow::anyhow!("booking {id} vanished"))?;
    let place = place_in(&mut tx, study, host.id).await?;
    let parties =
        Parties { place, study, inv: &inv, host: &host, host_tz, participant_tz, token: Some(token), out, now };
    let m = mail(&parties, &booking);
    let mut queued = messages::booking_change(&m, Change::Booked);
    queued.extend(messages::reminders(&m, &out.reminders));
    enqueue_all(&mut tx, queued, t).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Moves the participant's active booking to another free slot.
#[allow(clippy::too_many_arguments)]
pub async fn reschedule(
    db: &Db,
    out: &Outreach,
    token: &str,
    inv: &Invitation,
    study: &Study,
    interviewer_id: i64,
    start: DateTime<Utc>,
    participant_tz: Tz,
    now: DateTime<Utc>,
) -> Result<Result<i64, Refusal>> {
    let Some((host, av, host_tz)) = interviewer_of(db, study, interviewer_id).await? else {
        return Ok(Err(Refusal::Slot(SlotRefusal::OutsideAvailability)));
    };
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    bookings::lock_interviewer(&mut tx, interviewer_id).await.context("bookings::lock_interviewer")?;
    let Some(current) =
        bookings::active_for_invitation(&mut tx, inv.id).await.context("bookings::active_for_invitation")?
    else {
        return Ok(Err(Refusal::NotBooked));
    };
    if current.interviewer_id == interviewer_id && current.starts_at == start.timestamp() {
        // Moving to where it already is: not a move (no message, no count).
        return Ok(Ok(current.id));
    }
    let Some(inv) = invitations::get_in(&mut tx, inv.id).await.context("invitations::get_in")? else {
        return Ok(Err(Refusal::Closed));
    };
    let reschedules = u32::try_from(inv.reschedules).unwrap_or(u32::MAX);
    if let Err(r) = scheduling::may_reschedule(&policy(study), true, reschedules, at(current.starts_at), now) {
        return Ok(Err(Refusal::Change(r)));
    }
    if let Err(r) =
        check_slot_in(&mut tx, &av, study, interviewer_id, start, Some(current.id), (now, horizon(&inv, now))).await?
    {
        return Ok(Err(Refusal::Slot(r)));
    }
    let end = start + length(study);
    let moved = bookings::reschedule(
        &mut tx,
        current.id,
        interviewer_id,
        start.timestamp(),
        end.timestamp(),
        participant_tz.name(),
        t,
    )
    .await?;
    if !moved {
        return Ok(Err(Refusal::Slot(SlotRefusal::Taken)));
    }
    invitations::count_reschedule(&mut tx, inv.id).await.context("invitations::count_reschedule")?;
    outbox::drop_for_booking(&mut tx, current.id, "reminder", REMINDERS_MOVED, t)
        .await
        .context("outbox::drop_for_booking")?;
    let booking = bookings::get_in(&mut tx, current.id)
        .await
        .context("bookings::get_in")?
        .ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    let place = place_in(&mut tx, study, host.id).await?;
    let parties =
        Parties { place, study, inv: &inv, host: &host, host_tz, participant_tz, token: Some(token), out, now };
    let m = mail(&parties, &booking);
    let mut queued = messages::booking_change(&m, Change::Rescheduled);
    if current.interviewer_id != interviewer_id {
        queued.extend(old_host_cancellation(db, &parties, &booking, &current).await?);
    }
    queued.extend(messages::reminders(&m, &out.reminders));
    enqueue_all(&mut tx, queued, t).await?;
    tx.commit().await?;
    Ok(Ok(current.id))
}

/// A booking moved to another interviewer: the cancellation the old
/// interviewer receives, so that their calendar drops the event.
async fn old_host_cancellation(
    db: &Db,
    parties: &Parties<'_>,
    booking: &Booking,
    current: &Booking,
) -> Result<Vec<NewMessage>> {
    let (Some(old), Some(old_av)) =
        (accounts::get(db, current.interviewer_id).await?, availability_of(db, current.interviewer_id).await?)
    else {
        return Ok(Vec::new());
    };
    let old_parties = Parties { place: None, host: &old, host_tz: old_av.timezone, ..*parties };
    let mut old_booking = booking.clone();
    old_booking.starts_at = current.starts_at;
    old_booking.ends_at = current.ends_at;
    let old_mail = mail(&old_parties, &old_booking);
    Ok(messages::booking_change(&old_mail, Change::Cancelled)
        .into_iter()
        .filter(|m| m.kind.ends_with("_host"))
        .collect())
}

/// Cancels the invitation's active booking, by the participant or the
/// interviewer; both receive a cancellation with the calendar's CANCEL.
pub async fn cancel(
    db: &Db,
    out: &Outreach,
    token: Option<&str>,
    booking_id: i64,
    by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>> {
    let Some(b) = bookings::get(db, booking_id).await.context("bookings::get")? else {
        return Ok(Err(Refusal::NotBooked));
    };
    if by == "participant"
        && let Err(r) = scheduling::may_cancel(b.is_active(), at(b.starts_at), now)
    {
        return Ok(Err(Refusal::Change(r)));
    }
    let (Some(inv), Some(host)) =
        (invitations::get(db, b.invitation_id).await?, accounts::get(db, b.interviewer_id).await?)
    else {
        return Ok(Err(Refusal::NotBooked));
    };
    let Some(study) = studies::get(db, inv.study_id).await.context("studies::get")? else {
        return Ok(Err(Refusal::Closed));
    };
    let host_tz = availability_of(db, host.id).await?.map(|a| a.timezone).unwrap_or(chrono_tz::UTC);
    let participant_tz = b.participant_timezone.parse::<Tz>().unwrap_or(chrono_tz::UTC);
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    if !bookings::cancel(&mut tx, b.id, by, reason, t).await.context("bookings::cancel")? {
        tx.rollback().await?;
        return Ok(Err(Refusal::NotBooked));
    }
    invitations::set_status(&mut tx, inv.id, InvitationStatus::Cancelled).await.context("invitations::set_status")?;
    outbox::drop_for_booking(&mut tx, b.id, "reminder", REMINDERS_MOVED, t)
        .await
        .context("outbox::drop_for_booking")?;
    let booking = bookings::get_in(&mut tx, b.id)
        .await
        .context("bookings::get_in")?
        .ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    let place = place_in(&mut tx, &study, host.id).await?;
    let parties = Parties { place, study: &study, inv: &inv, host: &host, host_tz, participant_tz, token, out, now };
    enqueue_all(&mut tx, messages::booking_change(&mail(&parties, &booking), Change::Cancelled), t).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The participant declines (with an optional reason); an active booking is
/// cancelled with it.
pub async fn decline(
    db: &Db,
    out: &Outreach,
    token: &str,
    inv: &Invitation,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>> {
    cancel_active(db, out, Some(token), inv, now).await?;
    let mut tx = db.begin().await?;
    let changed = invitations::set_status(&mut tx, inv.id, InvitationStatus::Declined)
        .await
        .context("invitations::set_status")?;
    if changed {
        invitations::mark_responded(&mut tx, inv.id, reason, now.timestamp())
            .await
            .context("invitations::mark_responded")?;
    }
    tx.commit().await?;
    Ok(if changed { Ok(()) } else { Err(Refusal::Closed) })
}

async fn cancel_active(
    db: &Db,
    out: &Outreach,
    token: Option<&str>,
    inv: &Invitation,
    now: DateTime<Utc>,
) -> Result<()> {
    if let Some(b) = bookings::for_invitation(db, inv.id)
        .await
        .context("bookings::for_invitation")?
        .into_iter()
        .find(Booking::is_active)
    {
        let _ = cancel(db, out, token, b.id, "participant", None, now).await?;
    }
    Ok(())
}

/// The participant opts out of all research contact: recorded once for the
/// person (every study's contact rules honour it), any active booking
/// cancelled, and their messages still queued are dropped by the worker.
/// `token` is their booking link's token when they came by it (the opt-out
/// link alone does not carry it).
pub async fn opt_out(
    db: &Db,
    out: &Outreach,
    token: Option<&str>,
    inv: &Invitation,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    cancel_active(db, out, token, inv, now).await?;
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    invitations::opt_out(&mut tx, inv.person_id, Some(inv.study_id), reason, t)
        .await
        .context("invitations::opt_out")?;
    invitations::set_status(&mut tx, inv.id, InvitationStatus::OptedOut).await.context("invitations::set_status")?;
    invitations::mark_responded(&mut tx, inv.id, reason, t).await.context("invitations::mark_responded")?;
    tx.commit().await
}

/// The interviewer records what happened. A cancelled booking has no
/// outcome (it is not a no-show).
pub async fn set_outcome(db: &Db, booking_id: i64, outcome: &str, by: &str, now: DateTime<Utc>) -> Result<bool> {
    let Some(outcome) = BookingStatus::outcome(outcome) else { return Ok(false) };
    let Some(b) = bookings::get(db, booking_id).await.context("bookings::get")? else { return Ok(false) };
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    let changed = bookings::set_outcome(&mut tx, b.id, outcome, by, t).await.context("bookings::set_outcome")?;
    if changed {
        invitations::set_status(&mut tx, b.invitation_id, outcome.invitation())
            .await
            .context("invitations::set_status")?;
        outbox::drop_for_booking(&mut tx, b.id, "reminder", crate::app::outbox::HAS_OUTCOME, t)
            .await
            .context("outbox::drop_for_booking")?;
    }
    tx.commit().await?;
    Ok(changed)
}
