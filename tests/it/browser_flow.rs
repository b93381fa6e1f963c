//! The researcher's whole day in one flow, in headless Chromium: from the
//! overview's silent bar to a person, add them to a new round of a study,
//! send it; the invited person books on a 390 px phone with the zone their
//! browser reports; the interviewer opens the interview from the link in
//! their e-mail.

use std::path::Path;
use std::sync::Arc;

use crate::common::browser::{Browser, available};
use crate::common::outreach::{fields, free, outreach};
use crate::common::smtp::{Received, parse_file};
use crate::common::web::{PASSWORD, TestApp, import_fixture};
use chrono::{TimeDelta, Utc};
use undercurrent::app::outbox::Worker;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::mail::transport::Mailer;
use undercurrent::storage::{accounts, studies};

/// Every message written to the outbox folder so far.
fn written(dir: &Path) -> Vec<Received> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files.iter().map(|p| parse_file(p)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_silent_bar_to_the_interview_in_one_flow() {
    if !available() {
        return;
    }
    let app = TestApp::with_accounts().await;
    let db = app.t.db.clone();
    import_fixture(&db).await;
    let me = accounts::find_for_login(&db, "researcher@test.example").await.unwrap().unwrap().0.id;
    let start = (Utc::now() + TimeDelta::days(3)).date_naive().and_hms_opt(2, 0, 0).unwrap().and_utc();
    free(&db, me, "Asia/Shanghai", start, start + TimeDelta::hours(2)).await;
    let f = fields("Why do silent colleagues stay quiet?", ContactRules::default());
    let sid = studies::insert(&db, &f, None, Utc::now().timestamp()).await.unwrap();
    studies::set_interviewers(&db, sid, &[me]).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let out = outreach(&app.base);
    let worker = Worker {
        db: db.clone(),
        mailer: Arc::new(Mailer::new(None, folder.path()).unwrap()),
        name: "flow".into(),
        from: out.from.clone(),
    };
    let base = &app.base;
    let b = Browser::start().await;

    // The overview's silent bar opens the silent people.
    b.sign_in(base, "researcher@test.example", PASSWORD).await;
    b.goto(&format!("{base}/")).await;
    b.wait_for("a[href^='/people?tier=silent']").await;
    b.click("a[href^='/people?tier=silent']").await;
    b.wait_for("tbody .tier-badge.tier-silent").await;
    assert!(b.url().await.contains("tier=silent"), "{}", b.url().await);
    b.click("tbody tr a").await;
    b.wait_for("#add-to-study").await;
    let person = b.text("h1").await;
    b.screenshot("flow-person").await;

    // Added to a new round of the study, with the contact rules' verdict
    // first; then sent.
    b.click("#add-to-study").await;
    b.wait_for("#to").await;
    b.click(&format!("#to option[value='{sid}:new']")).await;
    b.click("form.filters button").await;
    b.wait_for("#add").await;
    b.click("#add").await;
    b.wait_for_url(&format!("/studies/{sid}/rounds/")).await;
    b.wait_for("#send").await;
    assert!(
        b.text("#drawn").await.contains(person.split_whitespace().next().unwrap_or("?")),
        "the person is in the round"
    );
    b.click("#send").await;
    b.wait_for_url("sent=1").await;
    assert_eq!(worker.drain_once(Utc::now()).await.unwrap().sent, 1, "one invitation");
    let invitation = written(folder.path()).pop().expect("the invitation");
    let i = invitation.text.find("/i/").expect("a link to the booking page");
    let link = format!("{base}{}", &invitation.text[i..i + 3 + 64]);
    b.sign_out().await;

    // The invited person books on a phone; their browser says Berlin (the
    // organisation is in Shanghai).
    b.emulate_timezone("Europe/Berlin").await;
    b.set_width(390).await;
    b.goto(&link).await;
    b.wait_for_url("tz=Europe").await;
    b.wait_for("#slots input[name=slot]").await;
    assert_eq!(b.script("return document.querySelector('#tz').value").await, "Europe/Berlin", "the zone detected");
    let berlin = start.with_timezone(&chrono_tz::Europe::Berlin).format("%H:%M").to_string();
    assert!(b.text("#slots").await.contains(&berlin), "02:00 UTC shown as {berlin} in Berlin");
    let (over, what) = b.overflow_x().await;
    assert_eq!(over, 0, "the booking page fits a phone: {what}");
    b.click("#slots fieldset.slot-day:not([hidden]) input[name=slot]").await;
    b.click("#consent").await;
    b.screenshot("flow-booking-390").await;
    b.click("#book").await;
    b.wait_for("#cancel").await;

    // The interviewer's mail links to the interview, which opens.
    assert_eq!(worker.drain_once(Utc::now()).await.unwrap().sent, 2, "to the participant and to the interviewer");
    let to_host = written(folder.path())
        .into_iter()
        .find(|m| m.to.iter().any(|a| a.contains("researcher@test.example")))
        .expect("the interviewer's copy");
    let i = to_host.text.find("/interviews/").expect("a link to the interview");
    let path: String = to_host.text[i..].chars().take_while(|c| !c.is_whitespace() && *c != '>').collect();
    b.set_width(1280).await;
    b.sign_in(base, "researcher@test.example", PASSWORD).await;
    b.goto(&format!("{base}{path}")).await;
    b.wait_for("h1").await;
    assert!(b.url().await.contains("/interviews/"), "{}", b.url().await);
    assert!(
        b.text("main").await.contains(person.split_whitespace().next().unwrap_or("?")),
        "the interview with that person"
    );
    b.screenshot("flow-interview").await;
    b.quit().await;
    app.finish().await;
}
