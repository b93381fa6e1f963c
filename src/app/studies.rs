//! Studies: their target and contact rules, drawing a round (frozen metrics
//! and reasons), adjusting it by hand, and sending its invitations through
//! the outbox with the contact rules checked again at send time.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::evaluate::{self, Computed};
use super::outreach::Links;
use super::{messages, settings};
use crate::domain::decimal::Ratio;
use crate::domain::evaluation::PersonResult;
use crate::domain::sampling::{
    self, Allocation, Candidate, ContactHistory, ContactRules, DrawSpec, Exclusion, Pick, ReasonFacts, Target,
};
use crate::domain::state::InvitationStatus;
use crate::domain::tier::Tier;
use crate::storage::directory::{self, Directory};
use crate::storage::holdouts;
use crate::storage::invitations::{self, NewInvitation};
use crate::storage::outbox;
use crate::storage::studies::{self, NewRound, Study};
use crate::storage::{CorruptJson, Db, Tx, read_json};

#[derive(Serialize, Deserialize, Default)]
struct TargetJson {
    tiers: Vec<String>,
    departments: Option<Vec<String>>,
    #[serde(default)]
    attributes: Vec<(String, String)>,
}

#[derive(Serialize, Deserialize)]
struct RulesJson {
    min_days_between_contacts: u32,
    max_invitations_per_week: u32,
    max_interviews_per_year: u32,
    exclude_after_no_show: bool,
}

pub fn target_json(t: &Target) -> String {
    let j = TargetJson {
        tiers: t.tiers.iter().map(|t| t.as_str().to_string()).collect(),
        departments: t.departments.as_ref().map(|d| d.iter().cloned().collect()),
        attributes: t.attributes.clone(),
    };
    serde_json::to_string(&j).unwrap_or_default()
}

pub fn target_of(study: &Study) -> Result<Target, CorruptJson> {
    let j: TargetJson = read_json(&study.target, || format!("the target of study {}", study.id))?;
    let tiers: BTreeSet<Tier> = j.tiers.iter().filter_map(|t| Tier::parse(t)).collect();
    Ok(Target {
        tiers: if tiers.is_empty() { Target::default().tiers } else { tiers },
        departments: j.departments.map(|d| d.into_iter().collect()),
        attributes: j.attributes,
    })
}

pub fn rules_json(r: &ContactRules) -> String {
    let j = RulesJson {
        min_days_between_contacts: r.min_days_between_contacts,
        max_invitations_per_week: r.max_invitations_per_week,
        max_interviews_per_year: r.max_interviews_per_year,
        exclude_after_no_show: r.exclude_after_no_show,
    };
    serde_json::to_string(&j).unwrap_or_default()
}

pub fn rules_of(study: &Study) -> Result<ContactRules, CorruptJson> {
    let j: RulesJson = read_json(&study.rules, || format!("the contact rules of study {}", study.id))?;
    Ok(ContactRules {
        min_days_between_contacts: j.min_days_between_contacts,
        max_invitations_per_week: j.max_invitations_per_week,
        max_interviews_per_year: j.max_interviews_per_year,
        exclude_after_no_show: j.exclude_after_no_show,
    })
}

pub fn allocation_of(study: &Study) -> Allocation {
    if study.allocation == "equal" { Allocation::Equal } else { Allocation::Proportional }
}

/// The metrics frozen into an invitation, as stored (JSON; a field not
/// stored is its default, so `{}` reads as no facts).
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[serde(default)]
pub struct FrozenFacts {
    pub active_days: Option<u32>,
    pub window_days: u32,
    pub messages_sent: Option<u32>,
    pub feature_breadth: u32,
    pub interactive_days: Option<u32>,
    /// "num/den" when known.
    pub login_depth: Option<String>,
}

impl FrozenFacts {
    pub fn of(f: &ReasonFacts) -> FrozenFacts {
        FrozenFacts {
            active_days: f.active_days,
            window_days: f.window_days,
            messages_sent: f.messages_sent,
            feature_breadth: f.feature_breadth,
            interactive_days: f.interactive_days,
            login_depth: f.login_depth.map(|r| format!("{}/{}", r.num, r.den)),
        }
    }

    /// The stored facts; JSON that does not read as facts is an error
    /// naming the invitation, not a row of empty facts.
    pub fn parse(json: &str, invitation_id: i64) -> Result<FrozenFacts, crate::storage::CorruptJson> {
        crate::storage::read_json(json, || format!("the frozen facts of invitation {invitation_id}"))
    }

    pub fn login_depth(&self) -> Option<Ratio> {
        let (n, d) = self.login_depth.as_deref()?.split_once('/')?;
        Ratio::new(n.parse().ok()?, d.parse().ok()?)
    }
}

/// The metrics a reason (and the interview workspace) is written from.
pub fn reason_facts(r: &PersonResult, window_days: u32) -> ReasonFacts {
    match &r.aggregated {
        Some(a) => ReasonFacts {
            active_days: a.active_days,
            window_days,
            messages_sent: Some(a.messages),
            feature_breadth: a.feature_breadth(),
            interactive_days: a.interactive_days,
            login_depth: None,
        },
        None => ReasonFacts {
            active_days: Some(r.counters.active_days),
            window_days,
            messages_sent: Some(r.counters.messages_sent),
            feature_breadth: r.counters.feature_breadth(),
            interactive_days: Some(r.counters.interactive_days),
            login_depth: r.counters.login_depth(),
        },
    }
}

/// Everyone evaluated, as draw candidates, with their database ids.
pub fn candidates(computed: &Computed, dir: &Directory) -> Vec<(Candidate, i64)> {
    let window_days = computed.profile.window_days;
    computed
        .evaluation
        .results
        .iter()
        .map(|r| {
            let person = &computed.data.people[r.person];
            let id = computed.person_ids[r.person];
            let mut attributes = BTreeMap::new();
            if let Some(e) = dir.get(id) {
                attributes.extend(e.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
                if let Some(t) = &e.title {
                    attributes.insert("title".into(), t.clone());
                }
                if let Some(l) = &e.location {
                    attributes.insert("location".into(), l.clone());
                }
            }
            let c = Candidate {
                person_key: person.user_id.clone(),
                department: person.department.clone(),
                attributes,
                tier: r.tier,
                facts: reason_facts(r, window_days),
            };
            (c, id)
        })
        .collect()
}

/// Contact histories keyed by `user_id`, as the draw wants them.
async fn histories_by_key(db: &Db, ids: &HashMap<i64, String>) -> Result<HashMap<String, ContactHistory>> {
    let by_id = invitations::histories(db).await.context("invitations::histories")?;
    Ok(by_id.into_iter().filter_map(|(id, h)| Some((ids.get(&id)?.clone(), h))).collect())
}

/// 64 random bits for a draw that does not reproduce another.
fn fresh_seed() -> u64 {
    u64::from_str_radix(&super::secrets::random_token()[..16], 16).unwrap_or(0)
}

/// What a draw did, for the page that shows it.
pub struct DrawOutcome {
    pub round_id: i64,
    pub number: i64,
    pub draw: sampling::Draw,
}

#[derive(Serialize, Deserialize)]
pub struct StratumJson {
    pub tier: String,
    pub department: Option<String>,
    pub eligible: u32,
    pub quota: u32,
    pub drawn: u32,
}

#[derive(Serialize, Deserialize)]
pub struct ExcludedJson {
    pub user_id: String,
    pub key: String,
    /// In English, as drawn.
    pub reason: String,
    /// The rule with its numbers, to say it in any language (absent in
    /// rounds drawn before it was kept).
    #[serde(default)]
    pub rule: Option<Exclusion>,
}

/// Draws a new round of a study as of a date (default: the latest data
/// day), with a given seed (to reproduce a draw) or a fresh one.
pub async fn draw_round(
    db: &Db,
    study: &Study,
    as_of: Option<NaiveDate>,
    seed: Option<u64>,
    drawn_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<DrawOutcome> {
    anyhow::ensure!(study.is_open(), "the study is closed");
    let size = u32::try_from(study.round_size).unwrap_or(0);
    let holdout = match holdouts::size_of(db, study.id).await.context("holdouts::size_of")? {
        None => size,
        Some(n) => u32::try_from(n).unwrap_or(0),
    };
    let (draw, key_to_id, as_of) = draw_people(db, study, as_of, size, holdout, seed, now).await?;
    let strata: Vec<StratumJson> = draw
        .strata
        .iter()
        .map(|s| StratumJson {
            tier: s.tier.as_str().into(),
            department: s.department.clone(),
            eligible: s.eligible,
            quota: s.quota,
            drawn: s.drawn,
        })
        .collect();
    let excluded: Vec<ExcludedJson> = draw
        .excluded
        .iter()
        .map(|(k, e)| ExcludedJson {
            user_id: k.clone(),
            key: e.key().into(),
            reason: e.describe(),
            rule: Some(e.clone()),
        })
        .collect();
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    let (round_id, number) = studies::insert_round(
        &mut tx,
        &NewRound {
            study_id: study.id,
            seed: draw.seed,
            size: study.round_size,
            allocation: &study.allocation,
            as_of: as_of.to_string(),
            drawn_by,
            strata: serde_json::to_string(&strata)?,
            excluded: serde_json::to_string(&excluded)?,
            shortfall: i64::from(draw.shortfall),
        },
        t,
    )
    .await?;
    for p in &draw.picked {
        let person_id = *key_to_id.get(p.person_key.as_str()).context("a drawn person has no id")?;
        insert_pick(&mut tx, study.id, round_id, person_id, p, false, t).await?;
    }
    for p in &draw.held_out {
        let person_id = *key_to_id.get(p.person_key.as_str()).context("a held-out person has no id")?;
        holdouts::insert(&mut tx, study.id, round_id, person_id, p.tier.as_str(), p.department.as_deref(), t)
            .await
            .context("holdouts::insert")?;
    }
    tx.commit().await?;
    Ok(DrawOutcome { round_id, number, draw })
}

/// A stratified draw of `size` of the study's target people under its
/// contact rules (and `holdout` more set aside), evaluated as of a date;
/// with the people's database ids and the as-of date used. People the study
/// holds out already are never drawn.
pub async fn draw_people(
    db: &Db,
    study: &Study,
    as_of: Option<NaiveDate>,
    size: u32,
    holdout: u32,
    seed: Option<u64>,
    now: DateTime<Utc>,
) -> Result<(sampling::Draw, HashMap<String, i64>, NaiveDate)> {
    let org = settings::load(db).await.context("settings::load")?;
    let computed = evaluate::compute(db, &org, as_of, None).await?;
    let dir = directory::load(db).await.context("directory::load")?;
    let held = holdouts::people_of(db, study.id).await.context("holdouts::people_of")?;
    let cands: Vec<(Candidate, i64)> =
        candidates(&computed, &dir).into_iter().filter(|(_, id)| !held.contains(id)).collect();
    let ids: HashMap<i64, String> = cands.iter().map(|(c, id)| (*id, c.person_key.clone())).collect();
    let key_to_id: HashMap<String, i64> = cands.iter().map(|(c, id)| (c.person_key.clone(), *id)).collect();
    let histories = histories_by_key(db, &ids).await?;
    let spec = DrawSpec {
        target: target_of(study)?,
        rules: rules_of(study)?,
        size,
        allocation: allocation_of(study),
        seed: seed.unwrap_or_else(fresh_seed),
        holdout,
        not_for_holdout: invitations::for_study(db, study.id)
            .await
            .context("invitations::for_study")?
            .into_iter()
            .map(|i| i.user_id)
            .collect(),
    };
    let people: Vec<Candidate> = cands.into_iter().map(|(c, _)| c).collect();
    let draw = sampling::draw(&spec, &people, &histories, now);
    Ok((draw, key_to_id, computed.evaluation.window.as_of))
}

pub(super) async fn insert_pick(
    tx: &mut Tx,
    study_id: i64,
    round_id: i64,
    person_id: i64,
    p: &Pick,
    by_hand: bool,
    now: i64,
) -> Result<bool> {
    invitations::insert(
        tx,
        &NewInvitation {
            round_id,
            study_id,
            person_id,
            tier: p.tier.as_str(),
            department: p.department.as_deref(),
            facts: serde_json::to_string(&FrozenFacts::of(&p.facts))?,
            reason: &p.reason,
            added_by_hand: by_hand,
        },
        now,
    )
    .await
}

/// Takes a drawn person out of an unsent round.
pub async fn drop_invitation(db: &Db, invitation_id: i64) -> Result<bool> {
    let mut tx = db.begin().await?;
    let changed = invitations::set_status(&mut tx, invitation_id, InvitationStatus::Dropped)
        .await
        .context("invitations::set_status")?;
    tx.commit().await?;
    Ok(changed)
}

/// What sending a round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SendOutcome {
    pub queued: u32,
    /// (user_id, why) for people the rules, as they are now, kept out.
    pub excluded: Vec<(String, Exclusion)>,
    pub already_sent: bool,
}

/// Sends a round's invitations: each person still `drawn` is checked
/// against the study's contact rules and history as they are now; those who
/// pass get a token and a queued invitation, committed together.
pub async fn send_round(
    db: &Db,
    study: &Study,
    round: &studies::Round,
    links: &Links,
    from: &str,
    now: DateTime<Utc>,
) -> Result<SendOutcome> {
    anyhow::ensure!(study.is_open(), "the study is closed");
    anyhow::ensure!(links.base.starts_with("http"), "no address is known for the links in e-mails (set public_url)");
    let rules = rules_of(study)?;
    let mut histories = invitations::histories(db).await.context("invitations::histories")?;
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    if !studies::mark_round_sent(&mut tx, round.id, t).await.context("studies::mark_round_sent")? {
        tx.rollback().await?;
        return Ok(SendOutcome { already_sent: true, ..SendOutcome::default() });
    }
    let mut outcome = SendOutcome::default();
    for inv in invitations::drawn_in_round(&mut tx, round.id).await.context("invitations::drawn_in_round")? {
        let history = histories.entry(inv.person_id).or_default();
        let held_out = holdouts::holds(&mut tx, study.id, inv.person_id).await.context("holdouts::holds")?;
        let verdict = match inv.email.as_deref().map(str::trim).filter(|e| e.contains('@')) {
            _ if held_out => Err(Exclusion::HeldOut),
            None => Err(Exclusion::NoAddress),
            Some(_) => sampling::recheck_at_send(&rules, history, now),
        };
        match verdict {
            Err(why) => {
                invitations::mark_excluded(&mut tx, inv.id, &serde_json::to_string(&why)?).await?;
                outcome.excluded.push((inv.user_id.clone(), why));
            }
            Ok(()) => {
                // Tokens derived from the links' secret; only their hashes
                // are stored, the message keeps placeholders.
                use super::secrets::{link_token, token_hash};
                let opt_out = token_hash(&link_token("o", inv.id));
                invitations::mark_invited(&mut tx, inv.id, &token_hash(&link_token("i", inv.id)), &opt_out, t)
                    .await
                    .context("invitations::mark_invited")?;
                let inv = invitations::Invitation { opt_out_hash: Some(opt_out), ..inv };
                let mut message = messages::invitation(study, &inv, links, from);
                message.not_before = t;
                outbox::enqueue(&mut tx, &message, t).await.context("outbox::enqueue")?;
                // The next person of this round sees this invitation too.
                history.invitations.push(now);
                history.last_contacted = Some(now);
                outcome.queued += 1;
            }
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Draws (and, for studies that say so, sends) every recurring round due.
/// Each due study is claimed by moving its clock on first, so several
/// instances never draw the same round twice.
pub async fn run_due_rounds(db: &Db, links: &Links, from: &str, now: DateTime<Utc>) -> Result<u32> {
    let mut drawn = 0;
    for (id, due_at) in studies::due_rounds(db, now.timestamp()).await.context("studies::due_rounds")? {
        let Some(study) = studies::get(db, id).await.context("studies::get")? else { continue };
        let Some(days) = study.recurrence_days.filter(|d| *d > 0) else { continue };
        let mut next = due_at + days * 86_400;
        while next <= now.timestamp() {
            next += days * 86_400;
        }
        if !studies::claim_due_round(db, id, due_at, next).await.context("studies::claim_due_round")? {
            continue;
        }
        let outcome = draw_round(db, &study, None, None, None, now).await?;
        drawn += 1;
        if study.auto_send != 0
            && let Some(round) = studies::round(db, id, outcome.number).await.context("studies::round")?
        {
            send_round(db, &study, &round, links, from, now).await?;
        }
    }
    Ok(drawn)
}
