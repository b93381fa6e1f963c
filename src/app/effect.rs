//! The effect of a study's outreach: the people it contacted against its
//! holdout (see `domain::effect`), over the window measured now.

use std::collections::{HashMap, HashSet};

use anyhow::{Context, Result};
use chrono::DateTime;
use chrono_tz::Tz;

use super::evaluate::Computed;
use crate::domain::effect::{Effect, Member, outreach_effect};
use crate::domain::tier::Tier;
use crate::storage::{Db, holdouts, invitations, studies};

/// Compares the people a study contacted (in rounds that have a holdout)
/// with those rounds' holdout, as `now` (the current evaluation) has them.
pub async fn of_study(db: &Db, study_id: i64, now: &Computed, tz: Tz) -> Result<Effect> {
    let held = holdouts::for_study(db, study_id).await.context("holdouts::for_study")?;
    let with_holdout: HashSet<i64> = held.iter().map(|h| h.round_id).collect();
    let sent: HashMap<i64, i64> = studies::rounds(db, study_id)
        .await?
        .into_iter()
        .filter(|r| with_holdout.contains(&r.id))
        .filter_map(|r| Some((r.id, r.sent_at?)))
        .collect();
    let first_contact =
        sent.values().min().and_then(|t| DateTime::from_timestamp(*t, 0)).map(|t| t.with_timezone(&tz).date_naive());
    let member = |user_id: &str, before: &str| -> Option<Member> {
        let (_, r) = now.result_of(user_id)?;
        Some(Member { before: Tier::parse(before)?, now: r.tier, interactive_days: r.counters.interactive_days })
    };
    let contacted: Vec<Member> = invitations::for_study(db, study_id)
        .await?
        .iter()
        .filter(|i| sent.contains_key(&i.round_id) && i.status.was_contacted())
        .filter_map(|i| member(&i.user_id, &i.tier))
        .collect();
    let holdout: Vec<Member> =
        held.iter().filter(|h| sent.contains_key(&h.round_id)).filter_map(|h| member(&h.user_id, &h.tier)).collect();
    let window = &now.evaluation.window;
    Ok(outreach_effect(first_contact, !with_holdout.is_empty(), window.as_of, window.days, &contacted, &holdout))
}
