//! The interview participant's path in headless Chromium, as a person who
//! got an invitation would walk it: open the link with their time zone, see
//! the free times in it, book one, move it to another, cancel it, and stop
//! all research invitations. Screenshots go to target/screenshots.

use std::time::Duration;

use crate::common::browser::{Browser, available};
use crate::common::outreach::{PARTICIPANT_TITLE, interviewer, invite_all, people, round, study};
use crate::common::web::TestApp;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::America::New_York;
use undercurrent::domain::sampling::ContactRules;
use undercurrent::storage::{bookings, invitations};

/// Waits until the page's address contains `part` (a redirect after a form
/// whose result page has the same elements as the page before).
async fn wait_for_url(b: &Browser, part: &str) {
    for _ in 0..100 {
        if b.url().await.contains(part) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for an address with {part}: {}", b.url().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_books_moves_cancels_and_opts_out_in_the_browser() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    // Free in two days (well past the 12-hour change notice), 10:00-12:00 UTC.
    let day = (now + TimeDelta::days(2)).date_naive();
    let from = day.and_hms_opt(10, 0, 0).unwrap().and_utc();
    let later = from + TimeDelta::hours(1);
    let host = interviewer(&db, "ivy@corp.example", "UTC", from, from + TimeDelta::hours(2)).await;
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let (_, token) = invite_all(&db, &r, now).await.remove(0);

    let slot = |start: DateTime<Utc>| format!("{host}:{}", start.timestamp());
    let radio = |start: DateTime<Utc>| format!("#slots input[name=slot][value='{}']", slot(start));
    let local = |start: DateTime<Utc>| start.with_timezone(&New_York).format("%H:%M").to_string();
    // 10:00 UTC is 05:00 or 06:00 in New York: never the same wall time.
    assert_ne!(local(from), "10:00");

    let b = Browser::start().await;
    let base = &app.base;

    // The slot list, in the zone the link asks for.
    b.goto(&format!("{base}/i/{token}?tz=America/New_York")).await;
    b.wait_for("#slots").await;
    assert_eq!(b.script("return document.querySelector('#tz').value").await, "America/New_York");
    assert!(b.text("#slots-title + .hint").await.contains("America/New_York"));
    assert_eq!(b.count("#slots input[name=slot]").await, 4, "10:00-12:00 in 30-minute slots");
    assert_eq!(b.script("return document.querySelector('#slots input[name=slot]').value").await, slot(from));
    assert_eq!(b.text("#slots label.slot").await, local(from), "the first slot in New York time");
    assert_eq!(
        b.script(&format!("return document.querySelector(\"{}\").parentElement.textContent.trim()", radio(later)))
            .await,
        local(later)
    );
    let day_label = from.with_timezone(&New_York).format("%A %-d %B %Y").to_string();
    assert_eq!(b.text("#slots legend").await, day_label);
    assert_eq!(b.text("#book").await, "Book this time");
    assert_eq!(b.count("#booking-when").await, 0, "nothing booked yet");
    let inv = invitations::for_round(&db, r.id).await.unwrap().remove(0);
    assert!(inv.opened_at.is_some(), "opening the page is tracked");
    b.screenshot("participant-slots").await;

    // Book the first slot, accepting the study's consent first.
    b.click(&radio(from)).await;
    b.click("#consent").await;
    b.click("#book").await;
    b.wait_for("#done").await;
    assert!(b.url().await.contains("done=booked"), "{}", b.url().await);
    assert!(b.text("#done").await.starts_with("Booked."), "{}", b.text("#done").await);
    let when = b.text("#booking-when").await;
    assert!(when.contains(&local(from)), "the booked time in New York time: {when}");
    assert!(when.contains("(America/New_York)"), "{when}");
    assert!(when.contains(&format!("{}–{}", local(from), local(from + TimeDelta::minutes(30)))), "{when}");
    assert_eq!(b.text("#book").await, "Move to this time");
    assert_eq!(b.count(&radio(from)).await, 0, "the booked time is no longer offered");
    assert_eq!(b.count("#error").await, 0);
    b.screenshot("participant-booked").await;

    // Move it to 11:00 UTC.
    b.click(&radio(later)).await;
    b.click("#book").await;
    wait_for_url(&b, "done=rescheduled").await;
    b.wait_for("#booking-when").await;
    assert!(b.text("#done").await.starts_with("Moved."), "{}", b.text("#done").await);
    let when = b.text("#booking-when").await;
    assert!(when.contains(&local(later)), "the new time: {when}");
    assert!(!when.contains(&local(from)), "not the old time: {when}");
    assert!(when.contains("(America/New_York)"), "{when}");
    let calendar = bookings::calendar(&db, Some(host), 0).await.unwrap();
    assert_eq!(calendar.len(), 1, "moved, not duplicated");
    assert_eq!(calendar[0].starts_at, later.timestamp());
    assert_eq!(calendar[0].status.as_str(), "booked");
    b.screenshot("participant-rescheduled").await;

    // Cancel it.
    b.click("#cancel").await;
    wait_for_url(&b, "done=cancelled").await;
    b.wait_for("#done").await;
    assert!(b.text("#done").await.starts_with("Cancelled."), "{}", b.text("#done").await);
    assert_eq!(b.count("#booking-when").await, 0, "no booking shown");
    assert!(b.url().await.contains("tz=America/New_York"), "the zone is kept: {}", b.url().await);
    assert!(bookings::calendar(&db, Some(host), 0).await.unwrap().is_empty(), "no active booking left");
    assert_eq!(b.text("#book").await, "Book this time");
    assert_eq!(b.count(&radio(from)).await, 1, "the times are free again");
    assert_eq!(b.count(&radio(later)).await, 1, "the times are free again");

    // Stop all research invitations.
    b.click("#opt-out").await;
    b.wait_for("#confirm-opt-out").await;
    let source = b.source().await;
    assert!(source.contains(PARTICIPANT_TITLE), "the page names the study as participants know it");
    assert!(!source.contains("Silent colleagues"), "never by its internal title");
    b.type_into("textarea[name=reason]", "no time").await;
    b.click("#confirm-opt-out").await;
    b.wait_for("#opted-out").await;
    assert!(b.text("#opted-out").await.contains("You will not be invited"));
    b.screenshot("participant-opted-out").await;
    let inv = invitations::for_round(&db, r.id).await.unwrap().remove(0);
    assert_eq!(inv.status.as_str(), "opted_out");

    // Back on the invitation: no times, no opt-out link.
    b.goto(&format!("{base}/i/{token}?tz=America/New_York")).await;
    b.wait_for("#state").await;
    assert_eq!(b.count("#slots").await, 0);
    assert_eq!(b.count("#opt-out").await, 0);

    b.quit().await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_days_are_a_strip_and_only_the_chosen_days_times_show() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    let db = app.t.db.clone();
    people(&db, 1).await;
    let now = Utc::now();
    let first = (now + TimeDelta::days(2)).date_naive().and_hms_opt(10, 0, 0).unwrap().and_utc();
    let host = interviewer(&db, "ivy@corp.example", "UTC", first, first + TimeDelta::hours(2)).await;
    // A second and a third day of free times.
    for d in [1, 2] {
        let start = first + TimeDelta::days(d);
        undercurrent::storage::availability::add_one_off(
            &db,
            host,
            start.timestamp(),
            (start + TimeDelta::hours(2)).timestamp(),
        )
        .await
        .unwrap();
    }
    let s = study(&db, &[host], ContactRules::default()).await;
    let r = round(&db, &s, &["p000"], now).await;
    let (_, token) = invite_all(&db, &r, now).await.remove(0);

    let b = Browser::start().await;
    b.set_width(390).await;
    b.goto(&format!("{}/i/{token}?tz=UTC", app.base)).await;
    b.wait_for(".day-strip").await;
    assert_eq!(b.count(".day-strip .day-tab").await, 3, "one tab per day");
    let visible = "return [...document.querySelectorAll('#slots fieldset.slot-day')].filter(f => !f.hidden).length";
    assert_eq!(b.script(visible).await, 1, "one day's times at a time");
    assert_eq!(b.script("return document.querySelectorAll('.day-tab')[0].getAttribute('aria-selected')").await, "true");
    b.click(".day-strip .day-tab:nth-child(3)").await;
    let shown = "return [...document.querySelectorAll('#slots fieldset.slot-day')].findIndex(f => !f.hidden)";
    assert_eq!(b.script(shown).await, 2, "the third day's times");
    let (width, _) = b.overflow_x().await;
    assert!(width <= 390, "the page fits a 390 px phone: {width}");
    let height = b.script("return document.body.scrollHeight").await.as_i64().unwrap();
    assert!(height < 2500, "the times of one day, not every day's: {height}");
    b.screenshot("participant-day-strip").await;
    b.quit().await;
    app.finish().await;
}
