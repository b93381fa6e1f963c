//! Test support for outreach: people with e-mail addresses, an interviewer
//! with availability, a study and a round whose invitations are drawn or
//! already sent (with their link tokens), built through the storage layer so
//! that each test controls every date.

#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use undercurrent::app::outreach::{Links, Outreach};
use undercurrent::app::secrets::{link_token, token_hash};
use undercurrent::app::studies::{rules_json, target_json};
use undercurrent::domain::account::Role;
use undercurrent::domain::sampling::{ContactRules, Target};
use undercurrent::storage::availability::{self, Profile};
use undercurrent::storage::invitations::{self, Invitation, NewInvitation};
use undercurrent::storage::studies::{self, NewRound, Study, StudyFields};
use undercurrent::storage::{Db, accounts};

pub fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

/// Imports `n` people `p000`... with addresses `p000@corp.example`.
pub async fn people(db: &Db, n: usize) {
    use undercurrent::app::import::import_people;
    use undercurrent::ingest::source::open;
    let mut csv = String::from("user_id,name,email,department\n");
    for i in 0..n {
        csv.push_str(&format!(
            "p{i:03},Person {i},p{i:03}@corp.example,{}\n",
            if i % 2 == 0 { "Sales" } else { "Legal" }
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    std::fs::write(&path, csv).unwrap();
    import_people(db, open("people.csv", std::fs::File::open(&path).unwrap()).unwrap()).await.unwrap();
}

/// An interviewer account in `tz` with no buffer and no notice, free in
/// the one-off window [from, until).
pub async fn interviewer(db: &Db, email: &str, tz: &str, from: DateTime<Utc>, until: DateTime<Utc>) -> i64 {
    let id =
        undercurrent::app::accounts::create(db, email, "Ivy Interviewer", Role::Researcher, "Correct-Horse-42", None)
            .await
            .unwrap()
            .unwrap();
    free(db, id, tz, from, until).await;
    id
}

/// An account's availability: its zone, no buffer or notice, and one
/// free window.
pub async fn free(db: &Db, account: i64, tz: &str, from: DateTime<Utc>, until: DateTime<Utc>) {
    let profile = Profile { account_id: account, timezone: tz.into(), buffer_minutes: 0, min_notice_minutes: 0 };
    availability::save_profile(db, &profile).await.unwrap();
    availability::add_one_off(db, account, from.timestamp(), until.timestamp()).await.unwrap();
}

/// The title invited people see in the studies these helpers make.
pub const PARTICIPANT_TITLE: &str = "Your experience with the messaging tool";

pub fn fields(title: &str, rules: ContactRules) -> StudyFields {
    StudyFields {
        title: title.into(),
        goal: "Why people log in but stay silent".into(),
        participant_title: PARTICIPANT_TITLE.into(),
        participant_description: "We would like to hear how the tool works for you.".into(),
        meeting_kind: String::new(),
        meeting_detail: String::new(),
        scenario: "internal_collaboration".into(),
        interview_minutes: 30,
        language: "en".into(),
        invitation_subject: "Interview: {study}".into(),
        invitation_body: "Hello {name}, pick a time: {link}\nStop: {opt_out_link}\n".into(),
        consent: "We take notes.".into(),
        guide: "What do you use it for?".into(),
        target: target_json(&Target::default()),
        rules: rules_json(&rules),
        round_size: 5,
        allocation: "proportional".into(),
        recurrence_days: None,
        auto_send: false,
        max_reschedules: 2,
        change_notice_hours: 12,
    }
}

pub async fn study(db: &Db, interviewers: &[i64], rules: ContactRules) -> Study {
    let id = studies::insert(db, &fields("Silent colleagues", rules), None, Utc::now().timestamp()).await.unwrap();
    studies::set_interviewers(db, id, interviewers).await.unwrap();
    studies::get(db, id).await.unwrap().unwrap()
}

/// A round of the study with the given people (`user_id`s) drawn.
pub async fn round(db: &Db, study: &Study, user_ids: &[&str], now: DateTime<Utc>) -> studies::Round {
    let index = invitations::people_index(db).await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let new = NewRound {
        study_id: study.id,
        seed: 7,
        size: user_ids.len() as i64,
        allocation: "proportional",
        as_of: "2026-11-01".into(),
        drawn_by: None,
        strata: "[]".into(),
        excluded: "[]".into(),
        shortfall: 0,
    };
    let (round_id, number) = studies::insert_round(&mut tx, &new, now.timestamp()).await.unwrap();
    for u in user_ids {
        let (person_id, _) = index[*u];
        let inv = NewInvitation {
            round_id,
            study_id: study.id,
            person_id,
            tier: "silent",
            department: Some("Sales"),
            facts: "{}".into(),
            reason: "logged in on 19 of 28 days, 0 messages sent",
            added_by_hand: false,
        };
        invitations::insert(&mut tx, &inv, now.timestamp()).await.unwrap();
    }
    tx.commit().await.unwrap();
    studies::round(db, study.id, number).await.unwrap().unwrap()
}

/// Marks every drawn invitation of a round invited; returns them with their
/// link tokens, in `user_id` order.
pub async fn invite_all(db: &Db, round: &studies::Round, now: DateTime<Utc>) -> Vec<(Invitation, String)> {
    let mut out = Vec::new();
    let mut tx = db.begin().await.unwrap();
    for inv in invitations::drawn_in_round(&mut tx, round.id).await.unwrap() {
        // As sending does: tokens derived from the links' secret, hashed.
        let token = link_token("i", inv.id);
        let opt_out = token_hash(&link_token("o", inv.id));
        invitations::mark_invited(&mut tx, inv.id, &token_hash(&token), &opt_out, now.timestamp()).await.unwrap();
        out.push((inv, token));
    }
    tx.commit().await.unwrap();
    let mut fresh = Vec::new();
    for (inv, token) in out {
        fresh.push((invitations::get(db, inv.id).await.unwrap().unwrap(), token));
    }
    fresh.sort_by(|a, b| a.0.user_id.cmp(&b.0.user_id));
    fresh
}

pub fn outreach(base: &str) -> Outreach {
    Outreach {
        links: Links { base: base.into() },
        from: "Research <research@undercurrent.example>".into(),
        reminders: vec![chrono::TimeDelta::hours(24), chrono::TimeDelta::hours(1)],
    }
}

pub async fn account_email(db: &Db, id: i64) -> String {
    accounts::get(db, id).await.unwrap().unwrap().email
}

/// An interview booked by `user_id` (a known person) with
/// researcher@test.example, two days from now at 09:00 UTC: its booking id.
pub async fn booked_interview(db: &Db, base: &str, user_id: &str) -> i64 {
    let me = accounts::find_for_login(db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let start = (Utc::now() + chrono::TimeDelta::days(2)).date_naive().and_hms_opt(9, 0, 0).unwrap().and_utc();
    availability::save_profile(
        db,
        &Profile { account_id: me, timezone: "UTC".into(), buffer_minutes: 0, min_notice_minutes: 0 },
    )
    .await
    .unwrap();
    availability::add_one_off(db, me, start.timestamp(), (start + chrono::TimeDelta::hours(1)).timestamp())
        .await
        .unwrap();
    let s = study(db, &[me], ContactRules::default()).await;
    let now = Utc::now();
    let r = round(db, &s, &[user_id], now).await;
    let (inv, token) = invite_all(db, &r, now).await.remove(0);
    undercurrent::app::participant::book(db, &outreach(base), &token, &inv, &s, me, start, chrono_tz::UTC, now)
        .await
        .unwrap()
        .unwrap()
}
