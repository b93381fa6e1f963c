//! Pulse surveys: sending one to a sampled group (the study's target and
//! contact rules, through the outbox) and storing answers with the tier
//! and department at answer time.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

use super::outreach::Links;
use super::secrets::{link_placeholder, link_token, random_token, token_hash};
use super::studies::draw_people;
use crate::domain::study::{Language, fill};
use crate::storage::outbox::{self, NewMessage};
use crate::storage::studies::Study;
use crate::storage::surveys::{self, Survey};
use crate::storage::{Db, directory};

/// What sending did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub queued: u32,
    /// Drawn people without an e-mail address.
    pub without_address: u32,
    /// `size` minus the people drawn, when not enough were eligible.
    pub shortfall: u32,
}

fn message(study: &Study, survey: &Survey, name: &str, link: &str, opt_out: &str) -> (String, String) {
    let lang = Language::parse(&study.language).unwrap_or(Language::En);
    let (subject, body) = match lang {
        Language::En => (
            "A two-minute survey: {survey}",
            "Hello {name},\n\nWe would like to know how you use our messaging tool. The survey takes about two \
             minutes and only counts of activity were used to pick you: nobody has read your messages.\n\n{link}\n\n\
             --\nTo stop all research invitations: {opt_out}\n",
        ),
        Language::ZhCn => (
            "两分钟小调查：{survey}",
            "{name}，您好：\n\n我们想了解您如何使用协作工具。问卷约需两分钟；我们仅根据活动次数选中了您，没有人阅读过您的消息。\n\n\
             {link}\n\n--\n不再接收任何调研邀请：{opt_out}\n",
        ),
    };
    let values = [("survey", survey.title.as_str()), ("name", name), ("link", link), ("opt_out", opt_out)];
    (fill(subject, &values), fill(body, &values))
}

/// Draws up to `size` people (the study's target and contact rules, quotas
/// by tier x department) and queues the survey to each, in one transaction.
pub async fn send(
    db: &Db,
    study: &Study,
    survey: &Survey,
    size: u32,
    links: &Links,
    from: &str,
    now: DateTime<Utc>,
) -> Result<Sent> {
    anyhow::ensure!(study.is_open(), "the study is closed");
    let (draw, ids, _) = draw_people(db, study, None, size, 0, None, now).await?;
    let dir = directory::load(db).await.context("directory::load")?;
    let t = now.timestamp();
    let mut sent = Sent { shortfall: draw.shortfall, ..Sent::default() };
    let mut tx = db.begin().await?;
    for pick in &draw.picked {
        let Some(&person_id) = ids.get(&pick.person_key) else { continue };
        let entry = dir.get(person_id);
        let Some(email) = entry.and_then(|e| e.email.clone()).filter(|e| e.contains('@')) else {
            sent.without_address += 1;
            continue;
        };
        // A stand-in hash until the id (which the token is derived from) is known.
        let stand_in = token_hash(&random_token());
        let tier = pick.tier.as_str();
        let invited = surveys::invite(&mut tx, survey.id, person_id, tier, pick.department.as_deref(), &stand_in, t)
            .await
            .context("surveys::invite")?;
        let Some(invitation_id) = invited else { continue };
        surveys::set_token_hash(&mut tx, invitation_id, &token_hash(&link_token("s", invitation_id)))
            .await
            .context("surveys::set_token_hash")?;
        let name = entry.and_then(|e| e.name.clone()).unwrap_or_else(|| pick.person_key.clone());
        let base = links.base.trim_end_matches('/');
        // The outbox keeps a placeholder; the link is rendered when sent.
        let token = link_placeholder("s", invitation_id);
        let (subject, body) =
            message(study, survey, &name, &format!("{base}/s/{token}"), &format!("{base}/s/{token}/opt-out"));
        let m = NewMessage {
            kind: "survey".into(),
            study_id: Some(study.id),
            to_addr: email,
            subject,
            body,
            message_id: super::messages::message_id(from, "survey"),
            not_before: t,
            ..NewMessage::default()
        };
        outbox::enqueue(&mut tx, &m, t).await.context("outbox::enqueue")?;
        sent.queued += 1;
    }
    tx.commit().await?;
    Ok(sent)
}
