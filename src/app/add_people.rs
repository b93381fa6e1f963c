//! Adding chosen people to a study by hand (from the people list, or one
//! user id on a round's page): each person gets a verdict under the same
//! contact rules a drawn round applies, and those who pass join an unsent
//! round, or a new round made for them (nobody twice in one study), frozen as they are evaluated as of
//! its date.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};

use super::evaluate;
use super::settings;
use super::studies::{candidates, insert_pick, rules_of};
use crate::domain::sampling::Exclusion;
use crate::domain::sampling::{Candidate, Pick};
use crate::domain::state::InvitationStatus;
use crate::storage::Db;
use crate::storage::directory;
use crate::storage::holdouts;
use crate::storage::invitations;
use crate::storage::studies::{self, NewRound, Round, Study};

/// Where the chosen people go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// An existing round of the study, by number (it must not be sent).
    Round(i64),
    /// A new round made for these people.
    NewRound,
}

/// One chosen person and whether they may be added.
#[derive(Debug)]
pub struct Verdict {
    /// The user id as the evaluation knows it (or as given, if unknown).
    pub user_id: String,
    pub outcome: Result<(), AddRefusal>,
}

/// What adding did.
#[derive(Debug)]
pub struct Added {
    /// The round the people joined.
    pub round_number: i64,
    pub added: Vec<String>,
    /// Everyone else, with why.
    pub refused: Vec<Verdict>,
}

/// The evaluated people among `user_ids`, with database ids, as of a date.
struct Evaluated {
    found: Vec<(Candidate, i64)>,
    as_of: NaiveDate,
}

async fn evaluate_people(db: &Db, as_of: Option<NaiveDate>) -> Result<Evaluated> {
    let org = settings::load(db).await.context("settings::load")?;
    let computed = evaluate::compute(db, &org, as_of, None).await.context("evaluating people to add")?;
    let dir = directory::load(db).await.context("directory::load")?;
    Ok(Evaluated { found: candidates(&computed, &dir), as_of: computed.evaluation.window.as_of })
}

/// The verdict for each of `user_ids` (duplicates once, in the order
/// given): unknown, set aside as the study's holdout, already in the round,
/// or kept out by a contact rule. `round` is the destination if it exists.
async fn judge(
    db: &Db,
    study: &Study,
    round: Option<&Round>,
    people: &Evaluated,
    user_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<(Verdict, Option<(Pick, i64)>)>> {
    let held = holdouts::people_of(db, study.id).await.context("holdouts::people_of")?;
    let mut histories = invitations::histories(db).await.context("invitations::histories")?;
    // Everyone the study already has (dropped people aside), by round.
    let numbers: BTreeMap<i64, i64> =
        studies::rounds(db, study.id).await.context("studies::rounds")?.iter().map(|r| (r.id, r.number)).collect();
    let in_study: BTreeMap<String, i64> = invitations::for_study(db, study.id)
        .await?
        .into_iter()
        .filter(|i| i.status != InvitationStatus::Dropped)
        .map(|i| (i.user_id, numbers.get(&i.round_id).copied().unwrap_or(0)))
        .collect();
    let rules = rules_of(study)?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for given in user_ids {
        let key = given.trim().to_lowercase();
        if key.is_empty() || !seen.insert(key.clone()) {
            continue;
        }
        let found = people.found.iter().find(|(c, _)| c.person_key == key);
        let Some((cand, id)) = found else {
            out.push((Verdict { user_id: given.trim().to_string(), outcome: Err(AddRefusal::UnknownPerson) }, None));
            continue;
        };
        let outcome = if held.contains(id) {
            Err(AddRefusal::HeldOut)
        } else if let Some(&n) = in_study.get(&cand.person_key) {
            Err(if round.is_some_and(|r| r.number == n) { AddRefusal::AlreadyInRound } else { AddRefusal::InStudy(n) })
        } else {
            let history = histories.remove(id).unwrap_or_default();
            rules.check(&history, now).map_err(AddRefusal::Rule)
        };
        let pick = outcome.is_ok().then(|| (Pick::of(cand), *id));
        out.push((Verdict { user_id: cand.person_key.clone(), outcome }, pick));
    }
    Ok(out)
}

/// The round a destination names, refused when it is sent or missing.
async fn destination_round(db: &Db, study: &Study, to: Destination) -> Result<Result<Option<Round>, AddRefusal>> {
    match to {
        Destination::NewRound => Ok(Ok(None)),
        Destination::Round(number) => match studies::round(db, study.id, number).await.context("studies::round")? {
            Some(r) if r.sent_at.is_some() => Ok(Err(AddRefusal::AlreadySent)),
            Some(r) => Ok(Ok(Some(r))),
            None => Ok(Err(AddRefusal::NoSuchRound)),
        },
    }
}

/// Each person's verdict for a destination, without changing anything.
pub async fn verdicts(
    db: &Db,
    study: &Study,
    to: Destination,
    user_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Result<Vec<Verdict>, AddRefusal>> {
    Ok(prepare(db, study, to, user_ids, now).await?.map(|p| p.judged.into_iter().map(|(v, _)| v).collect()))
}

/// A destination with each person judged for it.
struct Prepared {
    round: Option<Round>,
    as_of: NaiveDate,
    judged: Vec<(Verdict, Option<(Pick, i64)>)>,
}

async fn prepare(
    db: &Db,
    study: &Study,
    to: Destination,
    user_ids: &[String],
    now: DateTime<Utc>,
) -> Result<Result<Prepared, AddRefusal>> {
    let round = match destination_round(db, study, to).await? {
        Ok(r) => r,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let as_of = round.as_ref().and_then(|r| NaiveDate::parse_from_str(&r.as_of, "%Y-%m-%d").ok());
    let people = evaluate_people(db, as_of).await?;
    let judged = judge(db, study, round.as_ref(), &people, user_ids, now).await?;
    Ok(Ok(Prepared { round, as_of: people.as_of, judged }))
}

/// Adds those of `user_ids` who pass to the destination, in one
/// transaction; a new round is made only if someone passes.
pub async fn add(
    db: &Db,
    study: &Study,
    to: Destination,
    user_ids: &[String],
    added_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Result<Added, AddRefusal>> {
    if !study.is_open() {
        return Ok(Err(AddRefusal::StudyClosed));
    }
    let Prepared { round, as_of, judged } = match prepare(db, study, to, user_ids, now).await? {
        Ok(p) => p,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let (passing, refused): (Vec<_>, Vec<_>) = judged.into_iter().partition(|(v, _)| v.outcome.is_ok());
    let mut refused: Vec<Verdict> = refused.into_iter().map(|(v, _)| v).collect();
    let t = now.timestamp();
    let mut tx = db.begin().await?;
    let (round_id, round_number) = match &round {
        Some(r) => (r.id, r.number),
        None if passing.is_empty() => return Ok(Ok(Added { round_number: 0, added: Vec::new(), refused })),
        None => {
            studies::insert_round(
                &mut tx,
                &NewRound {
                    study_id: study.id,
                    seed: 0,
                    size: passing.len() as i64,
                    allocation: "by_hand",
                    as_of: as_of.to_string(),
                    drawn_by: added_by,
                    strata: "[]".into(),
                    excluded: "[]".into(),
                    shortfall: 0,
                },
                t,
            )
            .await?
        }
    };
    let mut added = Vec::new();
    for (verdict, pick) in passing {
        let (pick, person_id) = pick.context("a passing person has a pick")?;
        if insert_pick(&mut tx, study.id, round_id, person_id, &pick, true, t).await? {
            added.push(verdict.user_id);
        } else {
            refused.push(Verdict { user_id: verdict.user_id, outcome: Err(AddRefusal::AlreadyInRound) });
        }
    }
    tx.commit().await?;
    Ok(Ok(Added { round_number, added, refused }))
}

/// Why a person could not be added by hand.
#[derive(Debug, PartialEq, Eq)]
pub enum AddRefusal {
    UnknownPerson,
    AlreadySent,
    AlreadyInRound,
    /// The study set this person aside to compare with: never contacted.
    HeldOut,
    Rule(Exclusion),
    /// The person is in another round of this study already.
    InStudy(i64),
    /// The round named does not exist.
    NoSuchRound,
    /// The study is closed: nobody joins it.
    StudyClosed,
}

/// Adds a person to an unsent round by hand, frozen as they are evaluated
/// as of the round's date, after the contact rules (`add_people`).
pub async fn add_person(
    db: &Db,
    study: &Study,
    round: &studies::Round,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Result<(), AddRefusal>> {
    let to = Destination::Round(round.number);
    Ok(match add(db, study, to, &[user_id.to_string()], None, now).await? {
        Err(refusal) => Err(refusal),
        Ok(added) if !added.added.is_empty() => Ok(()),
        Ok(added) => Err(added.refused.into_iter().find_map(|v| v.outcome.err()).unwrap_or(AddRefusal::UnknownPerson)),
    })
}
