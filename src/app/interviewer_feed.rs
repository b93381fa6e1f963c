//! Each interviewer's private calendar feed: a secret URL (random token,
//! stored only as its SHA-256) serving their interviews as iCalendar, for a
//! calendar app to subscribe to. Issuing a new URL revokes the old one.

use anyhow::{Context, Result};
use chrono::{DateTime, TimeDelta, Utc};

use super::secrets::{looks_like_token, random_token, token_hash};
use crate::mail::ics::{self, FeedEntry};
use crate::storage::{Db, audit, bookings, interviewer_feeds};

/// How far back the feed reaches: recent interviews stay visible.
const PAST_DAYS: i64 = 30;

/// The feed's address for a token.
pub fn url(base: &str, token: &str) -> String {
    format!("{}/feeds/{token}.ics", base.trim_end_matches('/'))
}

/// Issues a new secret token for the account's feed (the old URL stops
/// working) and returns it: it is shown once, never stored in clear.
pub async fn issue(db: &Db, account: (i64, &str), now: DateTime<Utc>) -> Result<String> {
    let token = random_token();
    interviewer_feeds::replace(db, account.0, &token_hash(&token), now.timestamp())
        .await
        .context("interviewer_feeds::replace")?;
    audit::record(db, Some(account), "calendar_feed.issue", None, None).await.context("audit::record")?;
    Ok(token)
}

pub async fn revoke(db: &Db, account: (i64, &str)) -> Result<()> {
    if interviewer_feeds::revoke(db, account.0).await.context("interviewer_feeds::revoke")? {
        audit::record(db, Some(account), "calendar_feed.revoke", None, None).await.context("audit::record")?;
    }
    Ok(())
}

/// Words of the feed, in the reader's language.
pub struct FeedText<'a> {
    pub name: &'a str,
    /// Makes an event's summary from the study's title.
    pub summary: &'a dyn Fn(&str) -> String,
    pub description: &'a str,
}

/// The feed behind a token, or `None` for an unknown or revoked one. Each
/// interview shows the study and a link to its page (behind sign-in), not
/// the participant: the feed lives in a calendar app outside Undercurrent.
pub async fn render(
    db: &Db,
    token: &str,
    base: &str,
    text: &FeedText<'_>,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    let Some(account_id) =
        interviewer_feeds::account_of(db, &token_hash(token)).await.context("interviewer_feeds::account_of")?
    else {
        return Ok(None);
    };
    let from = (now - TimeDelta::days(PAST_DAYS)).timestamp();
    let at = |ts: i64| DateTime::from_timestamp(ts, 0).unwrap_or_default();
    let entries: Vec<FeedEntry> = bookings::calendar(db, Some(account_id), from)
        .await?
        .into_iter()
        .map(|b| FeedEntry {
            uid: format!("feed-booking-{}@undercurrent", b.id),
            start: at(b.starts_at),
            end: at(b.ends_at),
            summary: (text.summary)(&b.study_title),
            description: text.description.to_string(),
            url: format!("{}/interviews/{}", base.trim_end_matches('/'), b.id),
        })
        .collect();
    Ok(Some(ics::feed(text.name, &entries, now)))
}
