//! The participant's side kept honest: links in e-mails never follow a
//! client's headers; only slots the page offers can be booked; a repeated
//! booking post is not a move; refused consent keeps no free text; a mail
//! scanner's GET is not an "opened"; directory addresses are bare; survey
//! answers are not linked to people; tokens are not kept in plain text.

use crate::common::outreach::*;
use crate::common::web::TestApp;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use undercurrent::app::participant::{self, Refusal};
use undercurrent::domain::codebook::Consent;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::domain::scheduling::SlotRefusal;
use undercurrent::storage::{Db, bookings, interviews, invitations, outbox};

/// One person (`p000`) invited to a study of one interviewer free for two
/// hours two days from now; returns (host, study, invitation, token, start).
async fn invited(
    db: &Db,
) -> (i64, undercurrent::storage::studies::Study, invitations::Invitation, String, DateTime<Utc>) {
    people(db, 1).await;
    let now = Utc::now();
    let from = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    let s = study(db, &[host], ContactRules::default()).await;
    let r = round(db, &s, &["p000"], now).await;
    let (inv, token) = invite_all(db, &r, now).await.remove(0);
    (host, s, inv, token, from)
}

fn slot(host: i64, start: DateTime<Utc>) -> String {
    format!("{host}:{}", start.timestamp())
}

/// A client that has read the participant page (for its CSRF token).
async fn participant_client(app: &TestApp, token: &str) -> crate::common::web::Client {
    let mut c = app.client();
    let (status, _) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert_eq!(status, StatusCode::OK);
    c
}

// Finding 2: links in e-mails follow client headers.

#[tokio::test]
async fn a_forwarded_host_never_reaches_the_links_in_e_mails() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let (host, _, _, token, from) = invited(&db).await;
    let c = participant_client(&app, &token).await;
    let url = format!("{}/i/{token}/book?csrf={}", app.base, c.csrf);
    let r = c
        .http
        .post(url)
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", "host=evil.example;proto=https")
        .form(&[("slot", slot(host, from).as_str()), ("tz", "UTC"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let queued = outbox::all(&db).await.unwrap();
    assert!(!queued.is_empty());
    for m in &queued {
        assert!(!m.body.contains("evil.example"), "{}: {}", m.kind, m.body);
    }
    let mine = queued.iter().find(|m| m.kind == "booked").unwrap();
    assert!(mine.body.contains(&format!("{}/i/", app.base)), "the configured address: {}", mine.body);
    let theirs = queued.iter().find(|m| m.kind == "booked_host").unwrap();
    // The interviewer's mail links to the interview itself.
    let booking = theirs.booking_id.unwrap();
    assert!(theirs.body.contains(&format!("{}/interviews/{booking}", app.base)), "{}", theirs.body);
    app.finish().await;
}

#[tokio::test]
async fn without_any_known_address_nothing_is_sent_and_the_study_page_says_why() {
    let t = crate::common::TestDb::new().await;
    let app = TestApp::serve(t, |s| s.base_url = None);
    app.add_accounts().await;
    let db = app.t.db.clone();
    let (host, s, _, token, from) = invited(&db).await;
    let before = outbox::all(&db).await.unwrap().len();

    // The participant's booking is refused, with a message, not mailed from
    // whatever the request said.
    let c = participant_client(&app, &token).await;
    let url = format!("{}/i/{token}/book?csrf={}", app.base, c.csrf);
    let r = c
        .http
        .post(url)
        .header("X-Forwarded-Host", "evil.example")
        .form(&[("slot", slot(host, from).as_str()), ("tz", "UTC"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("cannot be done here right now"));
    assert_eq!(outbox::all(&db).await.unwrap().len(), before, "nothing queued");

    // The researcher's send is refused and the study page says why.
    let mut researcher = app.signed_in(undercurrent::domain::account::Role::Researcher).await;
    let (_, page) = researcher.get(&format!("/studies/{}", s.id)).await;
    assert!(page.contains("id=\"no-link-base\""), "{page}");
    let now = Utc::now();
    let r2 = round(&db, &s, &[], now).await;
    let (status, body, _) = researcher.post(&format!("/studies/{}/rounds/{}/send", s.id, r2.number), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("public_url"), "{body}");
    assert_eq!(outbox::all(&db).await.unwrap().len(), before);

    // Once public_url is set, links use it, whatever the request says.
    undercurrent::app::settings::set(&db, "public_url", "https://research.corp.example").await.unwrap();
    let url = format!("{}/i/{token}/book?csrf={}", app.base, c.csrf);
    let r = c
        .http
        .post(url)
        .header("X-Forwarded-Host", "evil.example")
        .form(&[("slot", slot(host, from).as_str()), ("tz", "UTC"), ("consent", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mine = outbox::all(&db).await.unwrap().into_iter().find(|m| m.kind == "booked").unwrap();
    assert!(mine.body.contains("https://research.corp.example/i/"), "{}", mine.body);
    app.finish().await;
}

// Finding 15: booking beyond the horizon.

#[tokio::test]
async fn a_slot_beyond_the_pages_horizon_is_refused_however_far_availability_goes() {
    let t = crate::common::TestDb::new().await;
    let db = t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    let far = (now + TimeDelta::days(400)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let year_2100 = chrono::TimeZone::with_ymd_and_hms(&Utc, 2100, 1, 4, 10, 0, 0).unwrap();
    let host = interviewer(&db, "ivy@corp.example", "UTC", far, far + TimeDelta::hours(2)).await;
    undercurrent::storage::availability::add_one_off(
        &db,
        host,
        year_2100.timestamp(),
        (year_2100 + TimeDelta::hours(2)).timestamp(),
    )
    .await
    .unwrap();
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let (inv, token) = invite_all(&db, &r, now).await.remove(0);
    let out = outreach("http://127.0.0.1");
    for start in [far, year_2100] {
        let got = participant::book(&db, &out, &token, &inv, &s, host, start, chrono_tz::UTC, now).await.unwrap();
        assert_eq!(got, Err(Refusal::Slot(SlotRefusal::OutsideAvailability)), "{start}");
    }
    assert!(outbox::all(&db).await.unwrap().is_empty(), "nothing mailed");
    assert!(bookings::for_invitation(&db, inv.id).await.unwrap().is_empty());
    // Nor can a booking be moved there.
    let near = now + TimeDelta::days(3);
    let near = near.date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    undercurrent::storage::availability::add_one_off(
        &db,
        host,
        near.timestamp(),
        (near + TimeDelta::hours(1)).timestamp(),
    )
    .await
    .unwrap();
    participant::book(&db, &out, &token, &inv, &s, host, near, chrono_tz::UTC, now).await.unwrap().unwrap();
    let got = participant::reschedule(&db, &out, &token, &inv, &s, host, far, chrono_tz::UTC, now).await.unwrap();
    assert_eq!(got, Err(Refusal::Slot(SlotRefusal::OutsideAvailability)));
    t.finish().await;
}

// Finding 16: a repeated booking post is a move.

#[tokio::test]
async fn posting_the_same_booking_again_changes_nothing_and_shows_the_booking() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let (host, _, inv, token, from) = invited(&db).await;
    let mut c = participant_client(&app, &token).await;
    let form = [("slot", slot(host, from)), ("tz", "UTC".to_string()), ("consent", "yes".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, _, location) = c.post(&format!("/i/{token}/book"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.unwrap().contains("done=booked"));
    let queued = outbox::all(&db).await.unwrap().len();
    let booking = bookings::for_invitation(&db, inv.id).await.unwrap().remove(0);

    let (status, _, location) = c.post(&format!("/i/{token}/book"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = location.unwrap();
    assert!(!location.contains("rescheduled"), "{location}");
    let (_, page) = c.get(&location).await;
    assert!(page.contains("10:00–10:30 (UTC)"), "the booking is shown: {page}");
    let all = outbox::all(&db).await.unwrap();
    assert_eq!(all.len(), queued, "no message: {:?}", all.iter().map(|m| &m.subject).collect::<Vec<_>>());
    assert!(all.iter().all(|m| !m.subject.contains("moved")));
    let inv = invitations::get(&db, inv.id).await.unwrap().unwrap();
    assert_eq!(inv.reschedules, 0, "no move used up");
    let after = bookings::for_invitation(&db, inv.id).await.unwrap().remove(0);
    assert_eq!(after.sequence, booking.sequence, "the calendar entry is unchanged");

    // The service itself treats it the same way (two posts racing).
    let s = undercurrent::storage::studies::get(&db, inv.study_id).await.unwrap().unwrap();
    let out = outreach(&app.base);
    let now = Utc::now();
    let again = participant::book(&db, &out, &token, &inv, &s, host, from, chrono_tz::UTC, now).await.unwrap();
    assert_eq!(again, Ok(booking.id));
    let moved = participant::reschedule(&db, &out, &token, &inv, &s, host, from, chrono_tz::UTC, now).await.unwrap();
    assert_eq!(moved, Ok(booking.id));
    assert_eq!(outbox::all(&db).await.unwrap().len(), queued);
    assert_eq!(invitations::get(&db, inv.id).await.unwrap().unwrap().reschedules, 0);
    app.finish().await;
}

// Finding 10: consent refused keeps the follow-up text.

#[tokio::test]
async fn refused_or_withdrawn_consent_clears_every_free_text_field() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let (host, s, inv, token, from) = invited(&db).await;
    let b = participant::book(&db, &outreach(&app.base), &token, &inv, &s, host, from, chrono_tz::UTC, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let now = Utc::now().timestamp();
    let iv = interviews::for_booking(&db, b, now).await.unwrap();
    let full = interviews::Record {
        consent: Some(Consent::Yes),
        consent_on: Some("2026-12-01".into()),
        notes: "She reads only the pinned channel.".into(),
        root_cause: String::new(),
        follow_up: "Call her manager Li Wei about the rota.".into(),
        codes: vec![],
    };
    let interviews::Saved::Saved(v) = interviews::save(&db, iv.id, iv.version, &full, host, now).await.unwrap() else {
        panic!("saved")
    };
    for consent in [Consent::Withdrawn, Consent::No] {
        let record = interviews::Record { consent: Some(consent), ..full.clone() };
        let current = interviews::for_booking(&db, b, now).await.unwrap();
        let saved = interviews::save(&db, iv.id, current.version, &record, host, now).await.unwrap();
        assert!(matches!(saved, interviews::Saved::Saved(_)), "{saved:?}");
        let stored = interviews::for_booking(&db, b, now).await.unwrap();
        assert_eq!(stored.notes, "", "{consent:?}");
        assert_eq!(stored.follow_up, "", "{consent:?}: the follow-up is free text too");
        // The same save again (a double submit) is recognised, not a conflict.
        let again = interviews::save(&db, iv.id, current.version, &record, host, now).await.unwrap();
        assert!(matches!(again, interviews::Saved::Saved(_)), "{again:?}");
    }
    let _ = v;
    app.finish().await;
}

// Finding 17: a mail scanner's GET is not "opened"; bare addresses only.

#[tokio::test]
async fn fetching_the_link_is_not_opening_it_a_persons_action_is() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let (_, _, inv, token, _) = invited(&db).await;
    // A mail scanner follows the link in the e-mail (no query, no form).
    let mut scanner = app.client();
    assert_eq!(scanner.get(&format!("/i/{token}")).await.0, StatusCode::OK);
    assert_eq!(scanner.get(&format!("/i/{token}/opt-out")).await.0, StatusCode::OK);
    assert!(invitations::get(&db, inv.id).await.unwrap().unwrap().opened_at.is_none());
    // The person uses the page (here: shows the times in their zone).
    let mut person = app.client();
    person.get(&format!("/i/{token}?tz=Europe/Berlin")).await;
    assert!(invitations::get(&db, inv.id).await.unwrap().unwrap().opened_at.is_some());
    app.finish().await;
}

#[tokio::test]
async fn declining_straight_from_the_page_counts_as_opened() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let (_, _, inv, token, _) = invited(&db).await;
    let mut c = app.client();
    c.get(&format!("/i/{token}")).await;
    assert!(invitations::get(&db, inv.id).await.unwrap().unwrap().opened_at.is_none());
    let (status, _, _) = c.post(&format!("/i/{token}/decline"), &[("reason", "")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(invitations::get(&db, inv.id).await.unwrap().unwrap().opened_at.is_some());
    app.finish().await;
}

#[tokio::test]
async fn a_directory_address_with_a_display_name_is_refused_at_its_line_and_column() {
    use undercurrent::app::import::import_people;
    use undercurrent::ingest::source::open;
    let t = crate::common::TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    for (cell, ok) in [
        ("Eve <eve@evil.example>", false),
        ("\"Eve\" <eve@evil.example>", false),
        ("<eve@evil.example>", false),
        ("eve@evil.example, boss@corp.example", false),
        ("eve@evil.example;boss@corp.example", false),
        ("not-an-address", false),
        ("eve@evil.example", true),
        ("o'brien@corp.example", true),
    ] {
        let csv = format!("user_id,name,email\nu1,Ann,ann@corp.example\nu2,Eve,\"{}\"\n", cell.replace('"', "\"\""));
        let path = dir.path().join("people.csv");
        std::fs::write(&path, csv).unwrap();
        let got = import_people(&t.db, open("people.csv", std::fs::File::open(&path).unwrap()).unwrap()).await;
        match (got, ok) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                let text = e.to_string();
                assert!(text.contains("people.csv:3"), "{cell}: the line: {text}");
                assert!(text.contains("column `email`"), "{cell}: the column: {text}");
            }
            (got, _) => panic!("{cell}: {:?}", got.map(|_| ()).map_err(|e| e.to_string())),
        }
    }
    t.finish().await;
}

// Finding 9: survey anonymity.

/// Runs `sql` (one number back) on either database.
async fn scalar(db: &Db, sql: &str) -> i64 {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap(),
    }
}

/// A survey sent to a sample of the imported fixture; returns the app, the
/// survey's path, its id and the rendered personal tokens.
async fn sent_survey() -> (TestApp, String, i64, Vec<String>) {
    use undercurrent::domain::account::Role;
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    crate::common::web::import_fixture(&db).await;
    let me =
        undercurrent::storage::accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let s = study(&db, &[me], ContactRules::default()).await;
    let mut r = app.signed_in(Role::Researcher).await;
    let list = format!("/studies/{}/surveys", s.id);
    let (status, _, location) =
        r.post(&list, &[("title", "Pulse"), ("definition", "likert* How useful is it?\ntext Anything else?")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = location.unwrap();
    let (status, _, _) = r.post(&format!("{path}/send"), &[("size", "3")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let survey = undercurrent::storage::surveys::for_study(&db, s.id).await.unwrap().remove(0);
    let mut tokens = Vec::new();
    for m in outbox::all(&db).await.unwrap().into_iter().filter(|m| m.kind == "survey") {
        let body = undercurrent::app::outbox::rendered_body(&db, &m).await.unwrap();
        let i = body.find("/s/").unwrap() + 3;
        tokens.push(body[i..i + 64].to_string());
    }
    assert!(tokens.len() >= 2, "{tokens:?}");
    (app, path, survey.id, tokens)
}

#[tokio::test]
async fn a_survey_response_keeps_no_link_to_the_person_and_the_page_says_exactly_that() {
    let (app, _, survey, tokens) = sent_survey().await;
    let db = app.t.db.clone();
    let mut p = app.client();
    let (_, page) = p.get(&format!("/s/{}", tokens[0])).await;
    assert!(page.contains("id=\"promise\""), "{page}");
    assert!(page.contains("no link to you"), "{page}");
    assert!(!page.contains("Your name is not stored with your answers"), "the old, inexact promise");
    let (status, page, _) = p.post(&format!("/s/{}", tokens[0]), &[("q0", "4"), ("q1", "Mrs Lin's rota")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"thanks\""));
    // Answered twice: still one response.
    p.post(&format!("/s/{}", tokens[0]), &[("q0", "1")]).await;

    assert_eq!(scalar(&db, &format!("SELECT COUNT(*) FROM survey_responses WHERE survey_id = {survey}")).await, 1);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM survey_responses WHERE invitation_id IS NOT NULL").await, 0);
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM survey_responses WHERE created_at % 86400 <> 0").await,
        0,
        "the day only"
    );
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM survey_invitations WHERE survey_id = {survey} AND responded_at IS NOT NULL")
        )
        .await,
        1,
        "the invitation is marked answered on its own"
    );
    // ... with no time of its own: the day of a lone response would match it.
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM survey_invitations WHERE responded_at IS NOT NULL AND responded_at <> sent_at"
        )
        .await,
        0,
        "when the invitation was answered is not kept"
    );
    // The person's export holds the invitation, not the answers.
    let invs = undercurrent::storage::surveys::invitations(&db, survey).await.unwrap();
    let answered = invs.iter().find(|i| i.responded_at.is_some()).unwrap();
    let export = undercurrent::storage::rights::export(&db, answered.person_id).await.unwrap().to_string();
    assert!(!export.contains("Mrs Lin"), "{export}");
    assert!(!export.contains("survey_responses"), "{export}");
    app.finish().await;
}

#[tokio::test]
async fn an_anonymous_link_takes_one_answer_per_browser_and_a_limited_rate_per_address() {
    let (app, path, survey, _) = sent_survey().await;
    let db = app.t.db.clone();
    let mut r = app.signed_in(undercurrent::domain::account::Role::Researcher).await;
    let (_, page, _) = r.post(&format!("{path}/anonymous"), &[]).await;
    let i = page.find("/s/open/").expect("the link is shown once") + 8;
    let open = page[i..i + 64].to_string();
    let count_sql = format!("SELECT COUNT(*) FROM survey_responses WHERE survey_id = {survey}");
    let count = || scalar(&db, &count_sql);

    let mut a = app.client();
    let (_, page) = a.get(&format!("/s/open/{open}")).await;
    assert!(page.contains("id=\"promise\""), "{page}");
    let (status, page, _) = a.post(&format!("/s/open/{open}"), &[("q0", "2")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"thanks\""), "{page}");
    let (status, page, _) = a.post(&format!("/s/open/{open}"), &[("q0", "5")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"refused\""), "the same browser again: {page}");
    assert_eq!(count().await, 1);

    // Fresh browsers from one address: a limited number an hour.
    let limit = undercurrent::web::handlers::survey_response::OPEN_ANSWERS_PER_ADDRESS_PER_HOUR;
    for _ in 1..limit {
        let mut b = app.client();
        b.get(&format!("/s/open/{open}")).await;
        let (status, _, _) = b.post(&format!("/s/open/{open}"), &[("q0", "3")]).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(count().await, limit as i64);
    let mut late = app.client();
    late.get(&format!("/s/open/{open}")).await;
    let (status, page, _) = late.post(&format!("/s/open/{open}"), &[("q0", "3")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{page}");
    assert_eq!(count().await, limit as i64);
    app.finish().await;
}

// Finding 12: participant tokens in plain text.

#[tokio::test]
async fn tokens_are_kept_only_hashed_and_links_are_rendered_when_sending() {
    use undercurrent::app::outbox::{Worker, rendered_body};
    use undercurrent::app::secrets::{link_token, token_hash};
    let t = crate::common::TestDb::new().await;
    let db = t.db.clone();
    people(&db, 2).await;
    let now = Utc::now();
    let from = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    // A study text that tries to pull another invitation's link in.
    let mut f = fields("Silent colleagues", ContactRules::default());
    f.invitation_body =
        "Hello {name}: {link}\nStop: {opt_out_link}\nAlso {{link-token:i:1}} {{link-token:i:2}}\n".into();
    let id = undercurrent::storage::studies::insert(&db, &f, None, now.timestamp()).await.unwrap();
    undercurrent::storage::studies::set_interviewers(&db, id, &[host]).await.unwrap();
    let s = undercurrent::storage::studies::get(&db, id).await.unwrap().unwrap();
    let r = round(&db, &s, &["p000", "p001"], now).await;
    let out = outreach("http://uc.example");
    undercurrent::app::studies::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap();

    let queued = outbox::all(&db).await.unwrap();
    assert_eq!(queued.len(), 2);
    for m in &queued {
        let own = m.invitation_id.unwrap();
        let other = if own == 1 { 2 } else { 1 };
        assert!(!m.body.contains(&link_token("i", own)) && !m.body.contains(&link_token("o", own)), "{}", m.body);
        let body = rendered_body(&db, m).await.unwrap();
        assert!(body.contains(&format!("http://uc.example/i/{}", link_token("i", own))), "{body}");
        assert!(body.contains(&format!("http://uc.example/o/{}", link_token("o", own))), "{body}");
        assert!(!body.contains(&link_token("i", other)), "another person's link: {body}");
        // Stored: hashes only.
        let inv = invitations::get(&db, own).await.unwrap().unwrap();
        assert_eq!(inv.opt_out_hash.as_deref(), Some(token_hash(&link_token("o", own)).as_str()));
        assert_eq!(participant::find(&db, &link_token("i", own)).await.unwrap().unwrap().0.id, own);
    }
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM invitations WHERE opt_out_token IS NOT NULL").await, 0);

    // Sent as files: the link works in the message, the file is private.
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("outbox");
    let mailer = undercurrent::mail::transport::Mailer::new(None, &outbox_dir).unwrap();
    let worker =
        Worker { db: db.clone(), mailer: std::sync::Arc::new(mailer), name: "w".into(), from: out.from.clone() };
    assert_eq!(worker.drain_once(now).await.unwrap().sent, 2);
    let files: Vec<_> = std::fs::read_dir(&outbox_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 2);
    #[cfg(unix)]
    for file in &files {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        let text = crate::common::smtp::parse_file(file).text;
        assert!(text.contains(&link_token("i", 1)) || text.contains(&link_token("i", 2)), "a working link is sent");
    }
    // The outbox still holds no working link after sending.
    for m in outbox::all(&db).await.unwrap() {
        assert_eq!(m.state.as_str(), "sent");
        assert!(!m.body.contains(&link_token("i", m.invitation_id.unwrap())));
    }
    t.finish().await;
}

#[tokio::test]
async fn links_sent_before_tokens_were_derived_keep_working_and_lose_their_plain_copies() {
    use undercurrent::app::secrets::{link_token, random_token, token_hash};
    let t = crate::common::TestDb::new().await;
    let db = t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    let from = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let inv = invitations::for_round(&db, r.id).await.unwrap().remove(0);
    // As the previous release stored it: a random token's hash and the
    // opt-out token itself; and a sent message with both links in it.
    let (old, old_opt_out) = (random_token(), random_token());
    let sql = format!(
        "UPDATE invitations SET status = 'invited', invited_at = {}, token_hash = '{}', opt_out_token = '{old_opt_out}' WHERE id = {}",
        now.timestamp(),
        token_hash(&old),
        inv.id
    );
    let body = format!("Pick a time: http://uc.example/i/{old}\nStop: http://uc.example/o/{old_opt_out}\n");
    let insert = format!(
        "INSERT INTO outbox (kind, study_id, invitation_id, to_addr, subject, body, message_id, state, not_before, \
         next_attempt_at, created_at, attempts) VALUES ('invitation', {}, {}, 'p000@corp.example', 'Hi', '{body}', \
         '<x@y>', 'sent', 0, 0, 0, 1)",
        s.id, inv.id
    );
    match &db {
        Db::Sqlite(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(insert)).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(p).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(insert)).execute(p).await.unwrap();
        }
    }
    assert!(undercurrent::app::outbox::upgrade_link_tokens(&db).await.unwrap() >= 2);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM invitations WHERE opt_out_token IS NOT NULL").await, 0);
    // Old links and new ones open the same invitation.
    assert_eq!(participant::find(&db, &old).await.unwrap().unwrap().0.id, inv.id);
    assert_eq!(participant::find(&db, &link_token("i", inv.id)).await.unwrap().unwrap().0.id, inv.id);
    for tok in [old_opt_out.clone(), link_token("o", inv.id)] {
        assert_eq!(invitations::by_opt_out_hash(&db, &token_hash(&tok)).await.unwrap().unwrap().id, inv.id);
    }
    // The message already sent keeps no working token.
    let m = outbox::all(&db).await.unwrap().remove(0);
    assert!(!m.body.contains(&old) && !m.body.contains(&old_opt_out), "{}", m.body);
    assert!(m.body.contains("http://uc.example/i/"), "{}", m.body);
    // Running it again changes nothing.
    assert_eq!(undercurrent::app::outbox::upgrade_link_tokens(&db).await.unwrap(), 0);
    t.finish().await;
}

// Finding 11: interview drafts outlive the session.

#[test]
fn interview_drafts_are_keyed_by_account_and_cleared_at_sign_out() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/drafts.js");
    let out = match std::process::Command::new("node").arg(&script).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && std::env::var_os("CI").is_none() => {
            eprintln!("skipped: node is not installed");
            return;
        }
        Err(e) => panic!("running node: {e}"),
    };
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn the_interview_form_names_its_owner_and_sign_out_clears_the_browsers_storage() {
    use undercurrent::domain::account::Role;
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    let me = undercurrent::storage::accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0;
    let (host_b, s, inv, token, from) = {
        // The researcher interviews: their availability, a study, a booking.
        people(&db, 1).await;
        undercurrent::storage::availability::save_profile(
            &db,
            &undercurrent::storage::availability::Profile {
                account_id: me.id,
                timezone: "UTC".into(),
                buffer_minutes: 0,
                min_notice_minutes: 0,
            },
        )
        .await
        .unwrap();
        let from = (Utc::now() + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
        undercurrent::storage::availability::add_one_off(
            &db,
            me.id,
            from.timestamp(),
            (from + TimeDelta::hours(1)).timestamp(),
        )
        .await
        .unwrap();
        let s = study(&db, &[me.id], ContactRules::default()).await;
        let r = round(&db, &s, &["p000"], Utc::now()).await;
        let (inv, token) = invite_all(&db, &r, Utc::now()).await.remove(0);
        (me.id, s, inv, token, from)
    };
    let b = participant::book(&db, &outreach(&app.base), &token, &inv, &s, host_b, from, chrono_tz::UTC, Utc::now())
        .await
        .unwrap()
        .unwrap();
    let mut r = app.signed_in(Role::Researcher).await;
    let (status, page) = r.get(&format!("/interviews/{b}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("data-draft-owner=\"{}\"", me.id)), "{page}");
    assert!(page.contains("data-sign-out"), "{page}");
    let url = format!("{}/logout?csrf={}", app.base, r.csrf);
    let resp = r.http.post(url).header("Origin", app.base.as_str()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers().get("clear-site-data").and_then(|v| v.to_str().ok()), Some("\"storage\""));
    app.finish().await;
}

#[tokio::test]
async fn the_internal_title_and_goal_never_reach_a_participant() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    let from = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let (internal_title, internal_goal) = (s.title.clone(), s.goal.clone());
    let r = round(&db, &s, &["p000"], now).await;
    let out = outreach(&app.base);
    undercurrent::app::studies::send_round(&db, &s, &r, &out.links, &out.from, now).await.unwrap();
    let inv = invitations::for_round(&db, r.id).await.unwrap().remove(0);
    let token = undercurrent::app::secrets::link_token("i", inv.id);
    let opt_out_token = undercurrent::app::secrets::link_token("o", inv.id);

    // The participant's pages: the invitation, booking, the opt-out page.
    let mut c = participant_client(&app, &token).await;
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert!(page.contains(PARTICIPANT_TITLE), "{page}");
    let form = [("slot", slot(host, from)), ("tz", "UTC".to_string()), ("consent", "yes".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, _, location) = c.post(&format!("/i/{token}/book"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, booked) = c.get(&location.unwrap()).await;
    let (_, opt_out) = app.client().get(&format!("/o/{opt_out_token}")).await;
    let (_, opt_out_from_invitation) = c.get(&format!("/i/{token}/opt-out")).await;
    for (what, text) in
        [("page", &page), ("booked page", &booked), ("opt-out", &opt_out), ("opt-out", &opt_out_from_invitation)]
    {
        assert!(!text.contains(&internal_title) && !text.contains(&internal_goal), "{what}: {text}");
    }

    // Every message to the participant (invitation, booking, reminders),
    // with its calendar file; the interviewer's keep the team's title.
    let all = outbox::all(&db).await.unwrap();
    let to_participant: Vec<_> = all.iter().filter(|m| m.to_addr != "ivy@corp.example").collect();
    let kinds: Vec<&str> = to_participant.iter().map(|m| m.kind.as_str()).collect();
    assert!(kinds.contains(&"invitation") && kinds.contains(&"booked"), "{kinds:?}");
    for m in &to_participant {
        let ics = m.ics.clone().unwrap_or_default().replace("\r\n ", "");
        for text in [&m.subject, &m.body, &ics] {
            assert!(!text.contains(&internal_title) && !text.contains(&internal_goal), "{}: {text}", m.kind);
        }
    }
    let invitation = to_participant.iter().find(|m| m.kind == "invitation").unwrap();
    assert!(
        invitation.subject.contains(PARTICIPANT_TITLE),
        "{{study}} is the participant title: {}",
        invitation.subject
    );
    let booked_ics = to_participant.iter().find(|m| m.kind == "booked").unwrap().ics.clone().unwrap();
    assert!(booked_ics.replace("\r\n ", "").contains(&format!("SUMMARY:{PARTICIPANT_TITLE}")), "{booked_ics}");
    let host_mail = all.iter().find(|m| m.to_addr == "ivy@corp.example").expect("the interviewer is told");
    assert!(host_mail.subject.contains(&internal_title) || host_mail.body.contains(&internal_title));
    app.finish().await;
}

#[tokio::test]
async fn the_place_and_the_interviewer_reach_the_page_the_mails_and_the_calendar_entry() {
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    people(&db, 2).await;
    let now = Utc::now();
    let from = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    let mut f = fields("Silent colleagues", ContactRules::default());
    f.meeting_kind = "video".into();
    f.meeting_detail = "https://meet.jit.si/{room}".into();
    let id = undercurrent::storage::studies::insert(&db, &f, None, now.timestamp()).await.unwrap();
    undercurrent::storage::studies::set_interviewers(&db, id, &[host]).await.unwrap();
    let s = undercurrent::storage::studies::get(&db, id).await.unwrap().unwrap();
    let r = round(&db, &s, &["p000", "p001"], now).await;
    let out = outreach(&app.base);
    let invitation = undercurrent::app::messages::invitation(
        &s,
        &invitations::for_round(&db, r.id).await.unwrap()[0],
        &out.links,
        &out.from,
    );
    assert!(invitation.body.contains("video call; the link comes with your booking"), "{}", invitation.body);
    let mut invited = invite_all(&db, &r, now).await;
    let (second, second_token) = invited.remove(1);
    let (inv, token) = invited.remove(0);

    // Before booking the page says how the interview happens.
    let mut c = participant_client(&app, &token).await;
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert!(page.contains("id=\"study-where\"") && page.contains("Video call"), "{page}");
    let form = [("slot", slot(host, from)), ("tz", "UTC".to_string()), ("consent", "yes".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, _, location) = c.post(&format!("/i/{token}/book"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = c.get(&location.unwrap()).await;
    let booking = bookings::for_invitation(&db, inv.id).await.unwrap().remove(0);
    let room: String = booking.uid.chars().filter(char::is_ascii_alphanumeric).take(24).collect();
    let url = format!("https://meet.jit.si/undercurrent-{room}");
    assert!(page.contains("id=\"booking-where\"") && page.contains(&url), "{page}");
    assert!(page.contains("id=\"booking-with\""), "the participant is told who the interviewer is: {page}");

    // Both messages and both calendar entries carry the booking's own room.
    let all = outbox::all(&db).await.unwrap();
    let booked = all.iter().find(|m| m.kind == "booked").unwrap();
    let host_mail = all.iter().find(|m| m.kind == "booked_host").unwrap();
    assert!(booked.body.contains(&format!("Where: video call, {url}")), "{}", booked.body);
    assert!(booked.body.contains("You will talk with"), "{}", booked.body);
    assert!(host_mail.body.contains(&url), "{}", host_mail.body);
    for m in [booked, host_mail] {
        let ics = m.ics.clone().unwrap().replace("\r\n ", "");
        assert!(ics.contains(&format!("LOCATION:{url}")) && ics.contains(&format!("URL:{url}")), "{ics}");
    }

    // The interviewer's own place wins: they call the next participant.
    let mut researcher = app.signed_in(undercurrent::domain::account::Role::Researcher).await;
    let (_, page, _) = researcher.post("/availability/place", &[("kind", "video"), ("detail", "meet.example")]).await;
    assert!(page.contains("id=\"error\""), "{page}");
    let (status, _, _) = researcher.post("/availability/place", &[("kind", "we_call"), ("detail", "")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let me = undercurrent::storage::accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0;
    assert!(undercurrent::storage::places::of(&db, me.id).await.unwrap().is_some());
    undercurrent::storage::places::set(
        &db,
        host,
        undercurrent::domain::meeting::Place::parse("we_call", "").unwrap().as_ref(),
    )
    .await
    .unwrap();
    let mut c = participant_client(&app, &second_token).await;
    let later = from + TimeDelta::hours(1);
    let form = [("slot", slot(host, later)), ("tz", "UTC".to_string()), ("consent", "yes".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let (status, _, _) = c.post(&format!("/i/{second_token}/book"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mail = outbox::all(&db)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind == "booked" && m.invitation_id == Some(second.id))
        .unwrap();
    assert!(mail.body.contains("Where: by phone, we will call you"), "{}", mail.body);
    assert!(!mail.body.contains("meet.jit.si"), "{}", mail.body);
    app.finish().await;
}

#[tokio::test]
async fn consent_comes_before_booking_a_declined_invitation_offers_no_times_and_the_browser_language_counts() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    let (host, _, inv, token, from) = invited(&db).await;

    // A Chinese browser reads the (English) study's page in Chinese.
    let r = reqwest::Client::new()
        .get(format!("{}/i/{token}?tz=UTC", app.base))
        .header("Accept-Language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("lang=\"zh-CN\""), "{page}");

    // The consent is on the booking form, and booking without it is refused.
    let mut c = participant_client(&app, &token).await;
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert!(page.contains("id=\"consent\"") && page.contains("We take notes."), "{page}");
    let slot_value = slot(host, from);
    let (status, page, _) = c.post(&format!("/i/{token}/book"), &[("slot", slot_value.as_str()), ("tz", "UTC")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"error\""), "{page}");
    assert!(bookings::for_invitation(&db, inv.id).await.unwrap().is_empty(), "nothing booked without consent");

    // After declining, the page offers no times and says so.
    let (status, _, _) = c.post(&format!("/i/{token}/decline"), &[("reason", "busy")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    assert!(!page.contains("name=\"slot\""), "{page}");
    assert!(page.contains("id=\"state\""), "{page}");
    let form = [("slot", slot_value.as_str()), ("tz", "UTC"), ("consent", "yes")];
    let (status, _, _) = c.post(&format!("/i/{token}/book"), &form).await;
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(bookings::for_invitation(&db, inv.id).await.unwrap().is_empty(), "a declined invitation books nothing");
    app.finish().await;
}

#[tokio::test]
async fn the_page_offers_times_only_before_the_day_the_invitation_names() {
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    // Sent 20 days ago: the e-mail asked for a time before the 28th day.
    let sent = now - TimeDelta::days(20);
    let deadline = undercurrent::app::outreach::deadline(sent);
    let edge = deadline.and_hms_opt(0, 0, 0).unwrap().and_utc();
    // The interviewer is free from two days before that day to two after.
    let host = interviewer(&db, "ivy@corp.example", "UTC", edge - TimeDelta::days(2), edge + TimeDelta::days(2)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let (inv, token) = invite_all(&db, &r, sent).await.remove(0);
    assert_eq!(undercurrent::app::participant::horizon(&inv, now), edge);
    let slots = undercurrent::app::participant::free_slots(&db, &s, now, edge).await.unwrap();
    assert!(!slots.is_empty() && slots.iter().all(|x| x.start < edge), "only times before {deadline}");
    // The page shows none on or after that day, and booking one is refused.
    let mut c = participant_client(&app, &token).await;
    let (_, page) = c.get(&format!("/i/{token}?tz=UTC")).await;
    let late = format!("{host}:{}", (edge + TimeDelta::hours(1)).timestamp());
    let early = format!("{host}:{}", (edge - TimeDelta::hours(1)).timestamp());
    assert!(page.contains(&early) && !page.contains(&late), "{page}");
    let form = [("slot", late.as_str()), ("tz", "UTC"), ("consent", "yes")];
    let (status, _, _) = c.post(&format!("/i/{token}/book"), &form).await;
    assert_ne!(status, StatusCode::SEE_OTHER, "a time after the deadline is not booked");
    assert!(bookings::for_invitation(&db, inv.id).await.unwrap().is_empty());
    // A fresh invitation's e-mail names that day as well.
    let out = outreach(&app.base);
    let mut asks = s.clone();
    asks.invitation_body = "Pick a time before {deadline}: {link}".into();
    let mail = undercurrent::app::messages::invitation(&asks, &inv, &out.links, &out.from);
    let expected = undercurrent::app::outreach::deadline(Utc::now()).format("%-d %B %Y").to_string();
    assert!(mail.body.contains(&format!("before {expected}")), "{}", mail.body);
    app.finish().await;
}
