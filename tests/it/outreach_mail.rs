//! Outreach e-mail against a real SMTP server (aiosmtpd): invitation,
//! booking with a calendar file, reschedule (same UID, higher SEQUENCE),
//! cancellation (METHOD:CANCEL), reminders; and the server going away and
//! coming back mid-run, losing and duplicating nothing.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::common::TestDb;
use crate::common::outreach::*;
use crate::common::smtp::{Received, SmtpServer};
use chrono::{DateTime, TimeDelta, Utc};
use undercurrent::app::outbox::Worker;
use undercurrent::app::participant::{self, find};
use undercurrent::app::studies as outreach_app;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::mail::transport::Mailer;
use undercurrent::storage::{bookings, outbox};

fn prop(ics: &str, name: &str) -> String {
    let unfolded = ics.replace("\r\n ", "").replace("\r\n\t", "");
    unfolded
        .lines()
        .find(|l| l.split([':', ';']).next() == Some(name))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn token_in(text: &str) -> String {
    let i = text.find("/i/").expect("a participant link");
    text[i + 3..i + 3 + 64].to_string()
}

/// Everything received, at least `n` messages, checking that no
/// Message-ID arrived twice. Called once every send has returned: the
/// server stores a message before it accepts it, so nothing more is on
/// its way.
fn arrived_once(smtp: &SmtpServer, n: usize) -> Vec<Received> {
    let mails = smtp.wait_for(n, Duration::from_secs(10));
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for m in &mails {
        *seen.entry(m.message_id.as_str()).or_default() += 1;
    }
    assert!(seen.values().all(|n| *n == 1), "a message arrived twice: {seen:?}");
    mails
}

fn by_subject<'a>(mails: &'a [Received], needle: &str) -> Vec<&'a Received> {
    mails.iter().filter(|m| m.subject.contains(needle)).collect()
}

#[tokio::test]
async fn invitations_bookings_reschedules_cancellations_and_reminders_arrive_once() {
    let Some(mut smtp) = SmtpServer::start() else { return };
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 3).await;
    let now = utc(2026, 12, 1, 8, 0);
    let host =
        interviewer(&db, "ivy@corp.example", "Asia/Shanghai", utc(2026, 12, 3, 1, 0), utc(2026, 12, 3, 4, 0)).await;
    let study = study(&db, &[host], ContactRules::default()).await;
    let round = round(&db, &study, &["p000", "p001", "p002"], now).await;
    let out = outreach("http://uc.example");
    let outbox_dir = tempfile::tempdir().unwrap();
    let worker = Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(Some(&smtp.url()), outbox_dir.path()).unwrap()),
        name: "worker-a".into(),
        from: out.from.clone(),
    };

    // Invitations: queued with the round's status change, then sent.
    let sent = outreach_app::send_round(&db, &study, &round, &out.links, &out.from, now).await.unwrap();
    assert_eq!(sent.queued, 3);
    assert_eq!(worker.drain_once(now).await.unwrap().sent, 3);
    let mails = smtp.wait_for(3, Duration::from_secs(10));
    let invites = by_subject(&mails, "Interview: Your experience");
    assert_eq!(invites.len(), 3);
    assert!(
        mails.iter().all(|m| !m.subject.contains("Silent colleagues")),
        "participants never read the internal title"
    );
    let p0 = invites.iter().find(|m| m.to.iter().any(|a| a.contains("p000@"))).unwrap();
    assert!(p0.text.contains("Hello Person 0"), "{}", p0.text);
    assert!(p0.text.contains("http://uc.example/o/"), "every message carries the opt-out link");
    let token = token_in(&p0.text);
    let (inv, st) = find(&db, &token).await.unwrap().expect("the link in the e-mail opens the invitation");
    assert_eq!(inv.user_id, "p000");

    // Booking: a REQUEST to the participant and to the interviewer.
    let first = utc(2026, 12, 3, 1, 0);
    let tz = chrono_tz::America::New_York;
    participant::book(&db, &out, &token, &inv, &st, host, first, tz, now).await.unwrap().unwrap();
    assert_eq!(worker.drain_once(now).await.unwrap().sent, 2);
    let mails = smtp.wait_for(5, Duration::from_secs(10));
    let booked = by_subject(&mails, "Interview booked");
    assert_eq!(booked.len(), 1);
    let ics = booked[0].calendar.clone().expect("a calendar part");
    assert_eq!(booked[0].calendar_method.as_deref().map(str::to_ascii_uppercase).as_deref(), Some("REQUEST"));
    assert_eq!(prop(&ics, "METHOD"), "REQUEST");
    assert_eq!(prop(&ics, "SEQUENCE"), "0");
    assert!(
        booked[0].attachments.iter().any(|(name, body)| name.ends_with(".ics") && body.contains("BEGIN:VCALENDAR"))
    );
    let uid = prop(&ics, "UID");
    assert!(!uid.is_empty());
    let host_copy = by_subject(&mails, "New interview");
    assert_eq!(host_copy.len(), 1);
    assert_eq!(prop(host_copy[0].calendar.as_deref().unwrap(), "UID"), uid);

    // Reschedule: same UID, SEQUENCE 1; the old reminders are dropped.
    let second = utc(2026, 12, 3, 2, 0);
    let (inv, st) = find(&db, &token).await.unwrap().unwrap();
    participant::reschedule(&db, &out, &token, &inv, &st, host, second, tz, now).await.unwrap().unwrap();
    assert_eq!(worker.drain_once(now).await.unwrap().sent, 2);
    let mails = smtp.wait_for(7, Duration::from_secs(10));
    let moved = by_subject(&mails, "Interview moved: Your experience");
    assert_eq!(moved.len(), 1);
    let ics = moved[0].calendar.clone().unwrap();
    assert_eq!(
        (prop(&ics, "UID"), prop(&ics, "SEQUENCE"), prop(&ics, "METHOD")),
        (uid.clone(), "1".into(), "REQUEST".into())
    );

    // Reminders: the 24-hour one for the new time, none for the old.
    let day_before = second - TimeDelta::hours(24) + TimeDelta::minutes(1);
    let drained = worker.drain_once(day_before).await.unwrap();
    assert_eq!(drained.sent, 1, "{drained:?}");
    let mails = smtp.wait_for(8, Duration::from_secs(10));
    let reminders = by_subject(&mails, "Reminder");
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0].text.contains("21:00–21:30 (America/New_York)"), "{}", reminders[0].text);

    // Cancel: METHOD:CANCEL, SEQUENCE 2, and the 1-hour reminder never goes.
    let booking = bookings::for_invitation(&db, inv.id).await.unwrap().remove(0);
    participant::cancel(&db, &out, Some(&token), booking.id, "participant", None, day_before).await.unwrap().unwrap();
    assert_eq!(worker.drain_once(day_before).await.unwrap().sent, 2);
    let mails = smtp.wait_for(10, Duration::from_secs(10));
    let cancelled = by_subject(&mails, "Interview cancelled: Your experience");
    assert_eq!(cancelled.len(), 1);
    let ics = cancelled[0].calendar.clone().unwrap();
    assert_eq!((prop(&ics, "UID"), prop(&ics, "SEQUENCE"), prop(&ics, "METHOD")), (uid, "2".into(), "CANCEL".into()));
    assert_eq!(cancelled[0].calendar_method.as_deref().map(str::to_ascii_uppercase).as_deref(), Some("CANCEL"));
    let hour_before = second - TimeDelta::minutes(59);
    assert_eq!(worker.drain_once(hour_before).await.unwrap().sent, 0);

    // The server goes away while two people book; nothing is lost.
    smtp.stop();
    let (i1, t1) = {
        let m = by_subject(&mails, "Interview: Your experience")
            .into_iter()
            .find(|m| m.to.iter().any(|a| a.contains("p001@")))
            .unwrap();
        let tok = token_in(&m.text);
        (find(&db, &tok).await.unwrap().unwrap().0, tok)
    };
    let (i2, t2) = {
        let m = by_subject(&mails, "Interview: Your experience")
            .into_iter()
            .find(|m| m.to.iter().any(|a| a.contains("p002@")))
            .unwrap();
        let tok = token_in(&m.text);
        (find(&db, &tok).await.unwrap().unwrap().0, tok)
    };
    participant::book(&db, &out, &t1, &i1, &st, host, utc(2026, 12, 3, 1, 0), tz, now).await.unwrap().unwrap();
    participant::book(&db, &out, &t2, &i2, &st, host, utc(2026, 12, 3, 3, 0), tz, now).await.unwrap().unwrap();
    let down = worker.drain_once(now).await.unwrap();
    assert_eq!((down.sent, down.retried), (0, 4), "{down:?}");
    let waiting = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.state.as_str() == "pending").count();
    assert!(waiting >= 4);
    // Still down a minute later: retried again, attempts recorded.
    let later = now + TimeDelta::minutes(1);
    assert_eq!(worker.drain_once(later).await.unwrap().retried, 4);
    smtp.start_again();
    // Before the backoff has passed nothing is due; after, everything goes once.
    assert_eq!(worker.drain_once(later).await.unwrap().sent, 0);
    let back = worker.drain_once(now + TimeDelta::minutes(5)).await.unwrap();
    assert_eq!(back.sent, 4, "{back:?}");
    assert_eq!(worker.drain_once(now + TimeDelta::minutes(30)).await.unwrap().sent, 0);
    let mails = arrived_once(&smtp, 14);
    assert_eq!(mails.len(), 14);
    let sent_rows = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.state.as_str() == "sent").count();
    assert_eq!(sent_rows, 14, "each sent row arrived exactly once");
    let retried = outbox::all(&db).await.unwrap().into_iter().find(|m| m.kind == "booked" && m.attempts > 1).unwrap();
    let attempts = outbox::attempts(&db, retried.id).await.unwrap();
    assert_eq!(attempts.len(), 3, "two failures and a success: {attempts:?}");
    assert!(attempts[0].3.is_some() && attempts[2].2 == 1);
    t.finish().await;
}

/// Two workers (as two instances would run) drain one outbox: each message
/// is sent by exactly one of them.
#[tokio::test]
async fn two_workers_send_each_message_once() {
    let Some(smtp) = SmtpServer::start() else { return };
    let t = TestDb::new().await;
    let db = t.db.clone();
    people(&db, 40).await;
    let now = utc(2026, 12, 1, 8, 0);
    let host = interviewer(&db, "ivy@corp.example", "UTC", now, now + TimeDelta::days(1)).await;
    let study = study(&db, &[host], ContactRules::default()).await;
    let ids: Vec<String> = (0..40).map(|i| format!("p{i:03}")).collect();
    let round = round(&db, &study, &ids.iter().map(String::as_str).collect::<Vec<_>>(), now).await;
    let out = outreach("http://uc.example");
    outreach_app::send_round(&db, &study, &round, &out.links, &out.from, now).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let make = |name: &str| Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(Some(&smtp.url()), dir.path()).unwrap()),
        name: name.into(),
        from: out.from.clone(),
    };
    let (a, b) = (make("a"), make("b"));
    let (ra, rb) = tokio::join!(a.drain_once(now), b.drain_once(now));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.sent + rb.sent, 40, "{ra:?} {rb:?}");
    // Both drains have returned: every message sent is stored.
    let mails = smtp.wait_for(40, Duration::from_secs(20));
    assert_eq!(smtp.messages().len(), 40);
    let mut ids: Vec<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 40);
    let _: Option<DateTime<Utc>> = None;
    t.finish().await;
}

/// The mail server away for over an hour while invitations and reminders
/// fall due: after it returns, each goes out once; the reminder for an
/// interview that began meanwhile is dropped, and the study page says so.
#[tokio::test]
async fn an_hour_without_the_mail_server_loses_nothing_and_drops_only_what_expired() {
    let Some(mut smtp) = SmtpServer::start() else { return };
    let app = crate::common::web::TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 5).await;
    let t0 = utc(2026, 12, 10, 9, 0);
    let minutes = |m: i64| t0 + TimeDelta::minutes(m);
    let host = interviewer(&db, "ivy@corp.example", "UTC", minutes(30), minutes(120)).await;
    let study = study(&db, &[host], ContactRules::default()).await;
    let out = outreach("http://uc.example");
    let outbox_dir = tempfile::tempdir().unwrap();
    let worker = Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(Some(&smtp.url()), outbox_dir.path()).unwrap()),
        name: "worker-a".into(),
        from: out.from.clone(),
    };

    // Two days before: two people book, at t0+30 min and t0+90 min.
    let booked_at = t0 - TimeDelta::days(2);
    let first = round(&db, &study, &["p000", "p001"], booked_at).await;
    let invited = invite_all(&db, &first, booked_at).await;
    for ((inv, token), start) in invited.iter().zip([minutes(30), minutes(90)]) {
        participant::book(&db, &out, token, inv, &study, host, start, chrono_tz::UTC, booked_at)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(worker.drain_once(booked_at).await.unwrap().sent, 4, "confirmations to both sides");
    assert_eq!(worker.drain_once(t0 - TimeDelta::hours(20)).await.unwrap().sent, 2, "the 24-hour reminders");
    smtp.wait_for(6, Duration::from_secs(10));

    // The server goes away at t0-35 min and returns at t0+35 min. Meanwhile
    // a round of three is sent, and both 1-hour reminders fall due.
    smtp.stop();
    let second = round(&db, &study, &["p002", "p003", "p004"], t0).await;
    let mut queued_round = false;
    let mut at = minutes(-35);
    while at < minutes(35) {
        if at >= t0 && !queued_round {
            let sent = outreach_app::send_round(&db, &study, &second, &out.links, &out.from, at).await.unwrap();
            assert_eq!(sent.queued, 3);
            queued_round = true;
        }
        assert_eq!(worker.drain_once(at).await.unwrap().sent, 0);
        at += TimeDelta::minutes(5);
    }
    let retried = outbox::all(&db).await.unwrap().into_iter().filter(|m| m.attempts > 1).count();
    assert!(retried >= 4, "the invitations and the first reminder were retried: {retried}");
    smtp.start_again();
    while at < minutes(180) {
        worker.drain_once(at).await.unwrap();
        at += TimeDelta::minutes(5);
    }

    let mails = arrived_once(&smtp, 10);
    assert_eq!(by_subject(&mails, "Interview: Your experience").len(), 3, "each invitation of the round, once");
    let hour_reminders = by_subject(&mails, "Reminder: interview in 1 h");
    assert_eq!(hour_reminders.len(), 1, "only the reminder still useful went out");
    assert!(hour_reminders[0].to.iter().any(|a| a.contains("p001@")), "{:?}", hour_reminders[0].to);
    assert_eq!(mails.len(), 10);

    let rows = outbox::all(&db).await.unwrap();
    assert_eq!(rows.iter().filter(|m| m.state.as_str() == "sent").count(), 10);
    let dropped: Vec<_> = rows.iter().filter(|m| m.state.as_str() == "dropped").collect();
    assert_eq!(dropped.len(), 1, "{dropped:?}");
    assert_eq!(dropped[0].kind, "reminder");
    assert!(dropped[0].last_error.as_deref().is_some_and(|e| e.contains("expired")), "{dropped:?}");
    assert!(rows.iter().all(|m| m.state.as_str() == "sent" || m.state.as_str() == "dropped"), "nothing left waiting");

    // The study page shows the dropped reminder as such.
    let mut ivy = app.client();
    ivy.sign_in("ivy@corp.example", crate::common::web::PASSWORD).await;
    let (_, page) = ivy.get(&format!("/studies/{}", study.id)).await;
    let row = page.split("<tr class=\"outbox-dropped\">").nth(1).expect("a dropped row on the study page");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains(">Reminder<")
            && row.contains("Not sent")
            && row.contains("its time had passed before it could go out"),
        "{row}"
    );
    app.finish().await;
}
