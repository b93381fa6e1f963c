//! Outreach without a mail server: one slot, fifty bookers; the contact
//! rules at send time; reproducible draws over real evaluations; the same
//! instant on the page, in the e-mail and in the calendar file across a
//! daylight-saving change; the participant's pages over HTTP.

use std::sync::Arc;

use crate::common::TestDb;
use crate::common::outreach::*;
use crate::common::web::{TestApp, csrf_of};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::app::outbox::{Worker, rendered_body};
use undercurrent::app::participant::{self, Refusal};
use undercurrent::app::studies as outreach_app;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::domain::scheduling::SlotRefusal;
use undercurrent::mail::transport::Mailer;
use undercurrent::storage::{bookings, invitations, outbox, studies};

#[tokio::test]
async fn fifty_people_booking_one_slot_at_once_get_it_exactly_once() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 50).await;
    let now = utc(2026, 12, 1, 0, 0);
    let host =
        interviewer(&db, "ivy@corp.example", "Asia/Shanghai", utc(2026, 12, 2, 2, 0), utc(2026, 12, 2, 3, 0)).await;
    let study = study(&db, &[host], ContactRules::default()).await;
    let ids: Vec<String> = (0..50).map(|i| format!("p{i:03}")).collect();
    let round = round(&db, &study, &ids.iter().map(String::as_str).collect::<Vec<_>>(), now).await;
    let invited = invite_all(&db, &round, now).await;
    assert_eq!(invited.len(), 50);
    let out = outreach("http://127.0.0.1");
    let slot = utc(2026, 12, 2, 2, 30);
    let study = Arc::new(study);
    let mut tasks = Vec::new();
    for (inv, token) in invited {
        let (db, out, study) = (db.clone(), out.clone(), study.clone());
        tasks.push(tokio::spawn(async move {
            participant::book(&db, &out, &token, &inv, &study, host, slot, chrono_tz::Asia::Shanghai, now)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    let mut taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(Refusal::Slot(SlotRefusal::Taken)) => taken += 1,
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!((won, taken), (1, 49));
    let held = bookings::calendar(&db, Some(host), 0).await.unwrap();
    assert_eq!(held.len(), 1, "one booking in the database");
    assert_eq!(held[0].starts_at, slot.timestamp());
    // The winner's confirmation, the interviewer's copy and two reminders,
    // nothing for the 49 who lost.
    let queued = outbox::all(&db).await.unwrap();
    assert_eq!(queued.iter().filter(|m| m.kind == "booked").count(), 1);
    assert_eq!(queued.iter().filter(|m| m.kind == "booked_host").count(), 1);
    t.finish().await;
}

#[tokio::test]
async fn an_overlapping_start_is_refused_too() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 2).await;
    let now = utc(2026, 12, 1, 0, 0);
    let host = interviewer(&db, "ivy@corp.example", "UTC", utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 12, 0)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000", "p001"], now).await;
    let inv = invite_all(&db, &r, now).await;
    let out = outreach("http://127.0.0.1");
    let tz = chrono_tz::UTC;
    participant::book(&db, &out, &inv[0].1, &inv[0].0, &s, host, utc(2026, 12, 2, 9, 0), tz, now)
        .await
        .unwrap()
        .unwrap();
    // 09:15 is not a slot (slots start every 30 minutes) and overlaps 09:00-09:30.
    let refused =
        participant::book(&db, &out, &inv[1].1, &inv[1].0, &s, host, utc(2026, 12, 2, 9, 15), tz, now).await.unwrap();
    assert!(matches!(refused, Err(Refusal::Slot(_))), "{refused:?}");
    t.finish().await;
}

#[tokio::test]
async fn contact_rules_are_checked_again_when_sending() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 4).await;
    let now = utc(2026, 12, 1, 9, 0);
    let host = interviewer(&db, "ivy@corp.example", "UTC", now, now + TimeDelta::days(7)).await;
    let out = outreach("http://127.0.0.1");

    // p001 was invited by another study 30 days ago.
    let earlier = study(&db, &[host], ContactRules::default()).await;
    let old_round = round(&db, &earlier, &["p001"], now - TimeDelta::days(30)).await;
    invite_all(&db, &old_round, now - TimeDelta::days(30)).await;

    // Drawn under a 14-day rule, p001 passes.
    let lenient = ContactRules { min_days_between_contacts: 14, ..ContactRules::default() };
    let s = study(&db, &[host], lenient).await;
    let r = round(&db, &s, &["p000", "p001", "p002", "p003"], now).await;
    // Before sending: the researcher tightens the rule to 60 days, p002 opts
    // out through another study's link, and p003 has no address any more.
    let mut f = fields("Silent colleagues", ContactRules { min_days_between_contacts: 60, ..ContactRules::default() });
    f.rules = outreach_app::rules_json(&ContactRules { min_days_between_contacts: 60, ..ContactRules::default() });
    studies::update(&db, s.id, &f, now.timestamp()).await.unwrap();
    let other = round(&db, &earlier, &["p002"], now).await;
    let p002 = invite_all(&db, &other, now - TimeDelta::days(200)).await.remove(0);
    participant::opt_out(&db, &out, Some(&p002.1), &p002.0, Some("too busy"), now).await.unwrap();
    undercurrent::storage::directory::get(&db, p002.0.person_id).await.unwrap().unwrap();
    set_email(&db, "p003", None).await;

    let s = studies::get(&db, s.id).await.unwrap().unwrap();
    let sent = outreach_app::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap();
    assert_eq!(sent.queued, 1, "{sent:?}");
    let why: std::collections::HashMap<_, _> = sent.excluded.into_iter().map(|(u, e)| (u, e.describe())).collect();
    assert!(why["p001"].contains("contacted 30 days ago"), "{why:?}");
    assert!(why["p001"].contains("at least 60 days"), "{why:?}");
    assert!(why["p002"].contains("opted out"), "{why:?}");
    assert!(why["p003"].contains("no e-mail"), "{why:?}");
    let statuses: Vec<(String, String)> = invitations::for_round(&db, r.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.user_id, i.status.to_string()))
        .collect();
    assert!(statuses.contains(&("p000".into(), "invited".into())));
    assert!(statuses.contains(&("p001".into(), "excluded".into())));
    // One invitation queued for p000, committed with the status change.
    let queued: Vec<_> = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.kind == "invitation").collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].to_addr, "p000@corp.example");
    assert!(queued[0].body.contains("http://127.0.0.1/i/"));
    assert!(queued[0].body.contains("http://127.0.0.1/o/"), "the opt-out link");
    // Sending twice sends nothing twice.
    let again = outreach_app::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap();
    assert!(again.already_sent);
    assert_eq!(outbox::all(&db).await.unwrap().iter().filter(|m| m.kind == "invitation").count(), 1);

    // Under the weekly limit, p000 cannot be drawn into a second study's round this week.
    let third = study(&db, &[host], ContactRules { min_days_between_contacts: 0, ..ContactRules::default() }).await;
    let r3 = round(&db, &third, &["p000"], now).await;
    let sent =
        outreach_app::send_round(&db, &third, &r3, &out.links, &out.from, now + TimeDelta::days(2)).await.unwrap();
    assert_eq!(sent.queued, 0);
    assert!(sent.excluded[0].1.describe().contains("in the last 7 days"), "{:?}", sent.excluded);
    t.finish().await;
}

/// A study whose stored contact rules do not read stops the send with an
/// error naming the study, instead of sending under the default rules.
#[tokio::test]
async fn unreadable_stored_rules_stop_a_send_instead_of_defaulting() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 2).await;
    let now = utc(2026, 12, 1, 9, 0);
    let host = interviewer(&db, "ivy@corp.example", "UTC", now, now + TimeDelta::days(7)).await;
    let out = outreach("http://127.0.0.1");
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000", "p001"], now).await;
    let mut f = fields("Silent colleagues", ContactRules::default());
    f.rules = "{}".into();
    studies::update(&db, s.id, &f, now.timestamp()).await.unwrap();
    let s = studies::get(&db, s.id).await.unwrap().unwrap();
    let err = outreach_app::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap_err();
    assert!(format!("{err:#}").contains(&format!("the contact rules of study {}", s.id)), "{err:#}");
    assert!(outbox::all(&db).await.unwrap().is_empty(), "nothing queued");
    let statuses: Vec<_> = invitations::for_round(&db, r.id).await.unwrap().into_iter().map(|i| i.status).collect();
    assert!(statuses.iter().all(|s| s.as_str() == "drawn"), "{statuses:?}");
    t.finish().await;
}

async fn set_email(db: &undercurrent::storage::Db, user_id: &str, email: Option<&str>) {
    use undercurrent::storage::Db;
    match db {
        Db::Sqlite(p) => {
            sqlx::query("UPDATE people SET email = $1 WHERE user_id = $2")
                .bind(email)
                .bind(user_id)
                .execute(p)
                .await
                .unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query("UPDATE people SET email = $1 WHERE user_id = $2")
                .bind(email)
                .bind(user_id)
                .execute(p)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_draw_over_real_evaluations_is_reproducible_from_its_seed() {
    // The same data, study and seed in two databases draw the same people
    // and set aside the same holdout. (A second round of one study is not a
    // repeat: it leaves out the first round's holdout.)
    let now = Utc::now();
    let mut draws = Vec::new();
    let mut dbs = Vec::new();
    for _ in 0..2 {
        let t = TestDb::new().await;
        let db = t.db.clone();
        crate::common::web::import_fixture(&db).await;
        let host = interviewer(&db, "ivy@corp.example", "UTC", now, now + TimeDelta::days(3)).await;
        let s = study(&db, &[host], ContactRules::default()).await;
        draws.push(outreach_app::draw_round(&db, &s, None, Some(42), None, now).await.unwrap());
        dbs.push(t);
    }
    let (first, again) = (&draws[0], &draws[1]);
    let keys = |d: &outreach_app::DrawOutcome| d.draw.picked.iter().map(|p| p.person_key.clone()).collect::<Vec<_>>();
    let held = |d: &outreach_app::DrawOutcome| d.draw.held_out.iter().map(|p| p.person_key.clone()).collect::<Vec<_>>();
    assert!(!first.draw.picked.is_empty(), "the fixture has silent or shallow people");
    assert_eq!(keys(first), keys(again));
    assert_eq!(held(first), held(again));
    let t = dbs.remove(0);
    let db = t.db.clone();
    // Frozen metrics and the reason are stored with each invitation.
    let stored = invitations::for_round(&db, first.round_id).await.unwrap();
    assert_eq!(stored.len(), first.draw.picked.len());
    for (inv, pick) in stored.iter().zip({
        let mut p = first.draw.picked.clone();
        p.sort_by(|a, b| {
            (a.tier.as_str(), &a.department, &a.person_key).cmp(&(b.tier.as_str(), &b.department, &b.person_key))
        });
        p
    }) {
        assert_eq!(inv.user_id, pick.person_key);
        assert_eq!(inv.reason, pick.reason);
        assert!(inv.reason.contains("days"), "{}", inv.reason);
        assert_eq!(
            outreach_app::FrozenFacts::parse(&inv.facts, inv.id).unwrap(),
            outreach_app::FrozenFacts::of(&pick.facts)
        );
    }
    t.finish().await;
    for t in dbs {
        t.finish().await;
    }
}

fn ics_start(ics: &str) -> (String, String) {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "");
    let line = unfolded
        .lines()
        .skip_while(|l| !l.starts_with("BEGIN:VEVENT"))
        .find(|l| l.starts_with("DTSTART"))
        .expect("a DTSTART in the event")
        .to_string();
    let (params, value) = line.split_once(':').unwrap();
    let tzid = params.split(';').find_map(|p| p.strip_prefix("TZID=")).unwrap_or("").to_string();
    (tzid, value.to_string())
}

fn instant(tzid: &str, local: &str) -> DateTime<Utc> {
    let tz: chrono_tz::Tz = tzid.parse().unwrap();
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y%m%dT%H%M%S").unwrap();
    naive.and_local_timezone(tz).single().unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn new_york_and_shanghai_see_the_same_instant_across_a_dst_change() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    // Booked in winter (New York on EST) for a slot after the spring change
    // (EDT): 2027-03-15 13:00Z = 09:00 in New York = 21:00 in Shanghai.
    let now = Utc::now();
    let start = utc(2027, 3, 15, 13, 0);
    let host =
        interviewer(&db, "ivy@corp.example", "Asia/Shanghai", utc(2027, 3, 15, 12, 0), utc(2027, 3, 15, 14, 0)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    // Invited and booked ten days ahead (within the invitation's four
    // weeks), still on EST.
    let booked_at = start - TimeDelta::days(10);
    let (inv, token) = invite_all(&db, &r, booked_at).await.remove(0);
    let out = outreach(&app.base);
    let ny = chrono_tz::America::New_York;
    participant::book(&db, &out, &token, &inv, &s, host, start, ny, booked_at).await.unwrap().unwrap();

    // The page, in the participant's zone (remembered from the booking).
    let mut c = app.client();
    let (status, page) = c.get(&format!("/i/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Monday 15 March 2027, 09:00–09:30 (America/New_York)"), "{page}");
    // ... and the same booking seen from Shanghai.
    let (_, page) = c.get(&format!("/i/{token}?tz=Asia/Shanghai")).await;
    assert!(page.contains("Monday 15 March 2027, 21:00–21:30 (Asia/Shanghai)"), "{page}");

    // The e-mails and their calendar files, through the outbox folder.
    let dir = tempfile::tempdir().unwrap();
    let worker = Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(None, dir.path()).unwrap()),
        name: "w".into(),
        from: out.from.clone(),
    };
    let drained = worker.drain_once(booked_at).await.unwrap();
    assert_eq!(drained.sent, 2, "confirmation and interviewer copy (reminders are not due): {drained:?}");
    let mails: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| crate::common::smtp::parse_file(&e.path()))
        .collect();
    let to_participant = mails.iter().find(|m| m.to.iter().any(|t| t.contains("p000@"))).expect("participant mail");
    let to_host = mails.iter().find(|m| m.to.iter().any(|t| t.contains("ivy@"))).expect("interviewer mail");
    assert!(
        to_participant.text.contains("Monday 15 March 2027, 09:00–09:30 (America/New_York)"),
        "{}",
        to_participant.text
    );
    assert!(to_host.text.contains("Monday 15 March 2027, 21:00–21:30 (Asia/Shanghai)"), "{}", to_host.text);
    let (tz_p, local_p) = ics_start(to_participant.calendar.as_deref().unwrap());
    let (tz_h, local_h) = ics_start(to_host.calendar.as_deref().unwrap());
    assert_eq!((tz_p.as_str(), local_p.as_str()), ("America/New_York", "20270315T090000"));
    assert_eq!((tz_h.as_str(), local_h.as_str()), ("Asia/Shanghai", "20270315T210000"));
    assert_eq!(instant(&tz_p, &local_p), start);
    assert_eq!(instant(&tz_h, &local_h), start);
    app.finish().await;
}

#[tokio::test]
async fn the_participant_books_reschedules_cancels_and_opts_out_over_http() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    // Free tomorrow (well past the 12-hour change notice), 10:00-12:00 UTC.
    let day = (now + TimeDelta::days(2)).date_naive();
    let from = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let (_, token) = invite_all(&db, &r, now).await.remove(0);
    let mut c = app.client();

    assert_eq!(c.get("/i/0123456789abcdef").await.0, StatusCode::NOT_FOUND);
    assert_eq!(c.get(&format!("/i/{}", "ab".repeat(32))).await.0, StatusCode::NOT_FOUND);
    let (status, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert_eq!(status, StatusCode::OK);
    let slot = |start: DateTime<Utc>| format!("{host}:{}", start.timestamp());
    for k in 0..4 {
        assert!(page.contains(&slot(from + TimeDelta::minutes(30 * k))), "slot {k} offered: {page}");
    }
    // Opening the page is tracked.
    let inv = invitations::for_round(&db, r.id).await.unwrap().remove(0);
    assert!(inv.opened_at.is_some());

    // No CSRF token: refused.
    let (status, _, _) =
        c.post_raw(&format!("/i/{token}/book"), &[("slot", &slot(from)), ("tz", "UTC"), ("consent", "yes")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, location) =
        c.post(&format!("/i/{token}/book"), &[("slot", &slot(from)), ("tz", "UTC"), ("consent", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().contains("done=booked"));
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC&done=booked")).await;
    assert!(page.contains("10:00–10:30 (UTC)"), "{page}");
    assert!(page.contains("Booked."), "{page}");

    // A slot outside availability is refused with a clear message.
    let (status, page, _) = c
        .post(
            &format!("/i/{token}/book"),
            &[("slot", &slot(from + TimeDelta::hours(5))), ("tz", "UTC"), ("consent", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("That time is not offered"), "{page}");

    let (status, _, _) = c
        .post(
            &format!("/i/{token}/book"),
            &[("slot", &slot(from + TimeDelta::hours(1))), ("tz", "UTC"), ("consent", "yes")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert!(page.contains("11:00–11:30 (UTC)"), "{page}");
    let b = bookings::calendar(&db, Some(host), 0).await.unwrap();
    assert_eq!(b.len(), 1, "moved, not duplicated");

    let (status, _, _) = c.post(&format!("/i/{token}/cancel"), &[("tz", "UTC"), ("consent", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(bookings::calendar(&db, Some(host), 0).await.unwrap().is_empty());
    let kinds: Vec<String> =
        outbox::all(&db).await.unwrap().into_iter().map(|m| format!("{}:{}", m.kind, m.state)).collect();
    assert!(kinds.contains(&"cancelled:pending".to_string()), "{kinds:?}");
    assert!(kinds.iter().filter(|k| k.starts_with("reminder:")).all(|k| k.ends_with(":dropped")), "{kinds:?}");

    let (status, _) = c.get(&format!("/i/{token}/opt-out")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, page, _) = c.post(&format!("/i/{token}/opt-out"), &[("reason", "no time")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("You will not be invited"), "{page}");
    let inv = invitations::for_round(&db, r.id).await.unwrap().remove(0);
    assert_eq!(inv.status.as_str(), "opted_out");
    let histories = invitations::histories(&db).await.unwrap();
    assert!(histories[&inv.person_id].opted_out);

    // Closing the study ends the link.
    studies::close(&db, s.id, now.timestamp()).await.unwrap();
    assert_eq!(c.get(&format!("/i/{token}")).await.0, StatusCode::NOT_FOUND);
    let _ = csrf_of;
    app.finish().await;
}

#[tokio::test]
async fn a_recurring_study_draws_a_fresh_round_once_per_period() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    crate::common::web::import_fixture(&db).await;
    let host = interviewer(&db, "ivy@corp.example", "UTC", Utc::now(), Utc::now() + TimeDelta::days(3)).await;
    let mut f = fields("Monthly check-in", ContactRules::default());
    f.recurrence_days = Some(30);
    f.auto_send = true;
    f.round_size = 2;
    let created = Utc::now();
    let id = studies::insert(&db, &f, None, created.timestamp()).await.unwrap();
    studies::set_interviewers(&db, id, &[host]).await.unwrap();
    let out = outreach("http://127.0.0.1");
    assert_eq!(
        outreach_app::run_due_rounds(&db, &out.links, &out.from, created + TimeDelta::days(29)).await.unwrap(),
        0
    );
    let due = created + TimeDelta::days(31);
    // Two instances ticking at once draw one round.
    let (a, b) = tokio::join!(
        outreach_app::run_due_rounds(&db, &out.links, &out.from, due),
        outreach_app::run_due_rounds(&db, &out.links, &out.from, due)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let rounds = studies::rounds(&db, id).await.unwrap();
    assert_eq!(rounds.len(), 1);
    assert!(rounds[0].sent_at.is_some(), "auto-send");
    let s = studies::get(&db, id).await.unwrap().unwrap();
    assert_eq!(s.next_round_at, Some(created.timestamp() + 60 * 86_400));
    // A month later: a fresh round, and the contact rules keep last month's people out.
    let first: Vec<String> =
        invitations::for_round(&db, rounds[0].id).await.unwrap().into_iter().map(|i| i.user_id).collect();
    outreach_app::run_due_rounds(&db, &out.links, &out.from, created + TimeDelta::days(61)).await.unwrap();
    let rounds = studies::rounds(&db, id).await.unwrap();
    assert_eq!(rounds.len(), 2);
    let second: Vec<String> =
        invitations::for_round(&db, rounds[0].id).await.unwrap().into_iter().map(|i| i.user_id).collect();
    assert!(second.iter().all(|u| !first.contains(u)), "{first:?} {second:?}");
    t.finish().await;
}

#[tokio::test]
async fn a_participant_no_show_excludes_but_a_host_no_show_does_not() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 2).await;
    let now = utc(2026, 12, 1, 0, 0);
    let host = interviewer(&db, "ivy@corp.example", "UTC", utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 10, 0)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000", "p001"], now).await;
    let inv = invite_all(&db, &r, now).await;
    let out = outreach("http://127.0.0.1");
    let tz = chrono_tz::UTC;
    let b0 = participant::book(&db, &out, &inv[0].1, &inv[0].0, &s, host, utc(2026, 12, 2, 9, 0), tz, now)
        .await
        .unwrap()
        .unwrap();
    let b1 = participant::book(&db, &out, &inv[1].1, &inv[1].0, &s, host, utc(2026, 12, 2, 9, 30), tz, now)
        .await
        .unwrap()
        .unwrap();
    let after = utc(2026, 12, 2, 11, 0);
    assert!(participant::set_outcome(&db, b0, "no_show_participant", "interviewer", after).await.unwrap());
    assert!(participant::set_outcome(&db, b1, "no_show_host", "interviewer", after).await.unwrap());
    // Only the three outcomes exist.
    assert!(!participant::set_outcome(&db, b1, "bogus", "interviewer", after).await.unwrap());
    let rules = ContactRules { min_days_between_contacts: 0, max_invitations_per_week: 9, ..ContactRules::default() };
    let h = invitations::histories(&db).await.unwrap();
    let later = after + TimeDelta::days(10);
    assert!(matches!(
        rules.check(&h[&inv[0].0.person_id], later),
        Err(undercurrent::domain::sampling::Exclusion::NoShow { .. })
    ));
    assert_eq!(rules.check(&h[&inv[1].0.person_id], later), Ok(()));
    let lenient = ContactRules { exclude_after_no_show: false, ..rules };
    assert_eq!(lenient.check(&h[&inv[0].0.person_id], later), Ok(()));
    t.finish().await;
}

#[tokio::test]
async fn a_reminder_that_could_not_go_out_in_time_is_dropped_and_says_so() {
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 1).await;
    let now = utc(2026, 12, 1, 0, 0);
    let start = utc(2026, 12, 3, 9, 0);
    let host = interviewer(&db, "ivy@corp.example", "UTC", start, start + TimeDelta::hours(1)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let (inv, token) = invite_all(&db, &r, now).await.remove(0);
    let out = outreach("http://127.0.0.1");
    participant::book(&db, &out, &token, &inv, &s, host, start, chrono_tz::UTC, now).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let worker = Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(None, dir.path()).unwrap()),
        name: "w".into(),
        from: out.from.clone(),
    };
    assert_eq!(worker.drain_once(now).await.unwrap().sent, 2);
    // The worker was down (or the mail server was) until after the interview began.
    let late = worker.drain_once(start + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!((late.sent, late.dropped), (0, 2), "{late:?}");
    let reminders: Vec<_> = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.kind == "reminder").collect();
    assert!(
        reminders
            .iter()
            .all(|m| m.state.as_str() == "dropped" && m.last_error.as_deref().unwrap_or("").contains("expired"))
    );
    t.finish().await;
}

#[tokio::test]
async fn a_cancellation_by_the_interviewer_still_carries_a_working_opt_out_link() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    let start = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", start, start + TimeDelta::hours(1)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let out = outreach(&app.base);
    // Sent the real way, so that the invitation has its opt-out token.
    outreach_app::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap();
    let invitation = outbox::all(&db).await.unwrap().remove(0);
    // The outbox keeps placeholders; the links are rendered when sending.
    assert!(!invitation.body.contains(&participant_link_token(&invitation)), "no working link at rest");
    let body = rendered_body(&db, &invitation).await.unwrap();
    let i = body.find("/i/").unwrap() + 3;
    let token = body[i..i + 64].to_string();
    let (inv, st) = participant::find(&db, &token).await.unwrap().unwrap();
    let b = participant::book(&db, &out, &token, &inv, &st, host, start, chrono_tz::UTC, now).await.unwrap().unwrap();
    // The interviewer cancels: the participant's link token is not known then.
    participant::cancel(&db, &out, None, b, "interviewer", None, now).await.unwrap().unwrap();
    let cancel = outbox::all(&db).await.unwrap().into_iter().find(|m| m.kind == "cancelled").unwrap();
    assert!(!cancel.body.contains("/i/"), "no participant link without its token");
    let cancel_body = rendered_body(&db, &cancel).await.unwrap();
    let i = cancel_body.find("/o/").expect("an opt-out link") + 3;
    let opt_out = cancel_body[i..i + 64].to_string();
    // Booked again, then opted out by the link alone: the booking goes too.
    participant::book(&db, &out, &token, &inv, &st, host, start, chrono_tz::UTC, now).await.unwrap().unwrap();
    let mut c = app.client();
    let (status, page) = c.get(&format!("/o/{opt_out}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"confirm-opt-out\""));
    let (status, page, _) = c.post(&format!("/o/{opt_out}"), &[("reason", "")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"opted-out\""));
    assert!(invitations::histories(&db).await.unwrap()[&inv.person_id].opted_out);
    assert!(bookings::calendar(&db, Some(host), 0).await.unwrap().is_empty(), "the booking was cancelled");
    assert_eq!(c.get(&format!("/o/{}", "0".repeat(64))).await.0, StatusCode::NOT_FOUND);
    app.finish().await;
}

/// The token an invitation message's link opens (derived, never stored).
fn participant_link_token(m: &outbox::Message) -> String {
    undercurrent::app::secrets::link_token("i", m.invitation_id.unwrap())
}
